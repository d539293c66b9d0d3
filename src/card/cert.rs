//! A certificate made from a card's own public keys, so a custodian can be enrolled straight from
//! their token: the signing key is the primary key (certification and signing), the decryption
//! key a subkey (encryption), and every binding signature is made BY THE CARD (user PIN, touch if
//! the card asks for it). No secret key ever leaves the card, and no keyring is needed.

use super::{CardError, keys};
use crate::prompt::Prompt;
use openpgp_card::ocard::KeyType;
use openpgp_card::ocard::crypto::{HashAlgo, SigningAlgo};
use openpgp_card::state::Transaction;
use sequoia_openpgp::crypto::{Signer, mpi};
use sequoia_openpgp::packet::key::{PrimaryRole, PublicParts, SubordinateRole, UnspecifiedRole};
use sequoia_openpgp::packet::signature::SignatureBuilder;
use sequoia_openpgp::packet::{Key, UserID};
use sequoia_openpgp::types::{
    Features, HashAlgorithm, KeyFlags, PublicKeyAlgorithm, SignatureType, SymmetricAlgorithm,
};
use sequoia_openpgp::{Cert, Packet};
use zeroize::Zeroizing;

/// Which card to use when several are inserted: its ident (`MMMM:SSSSSSSS`) or `None` for the
/// only one.
pub fn make_cert(ident: Option<&str>, name: Option<&str>, prompt: &mut dyn Prompt) -> Result<Cert, CardError> {
    let (mut open, card_info) = super::pick(ident)?;
    let card = card_info.describe();
    let failed = |what: &'static str| {
        let card = card.clone();
        move |why: String| CardError::Card { card: card.clone(), what, why }
    };
    let user_id = match name {
        Some(n) => n.to_string(),
        None if !card_info.cardholder.is_empty() => cardholder_to_user_id(&card_info.cardholder),
        None => return Err(CardError::NoCardholderName { card }),
    };
    // The keys are read in one transaction, which ends before the PIN is asked: no card is held
    // while a person types.
    let limits = {
        let mut tx = open.card.transaction().map_err(|e| failed("opening a transaction")(e.to_string()))?;
        keys::public_key(&mut tx, KeyType::Signing).map_err(failed("reading the signing key"))?;
        keys::public_key(&mut tx, KeyType::Decryption).map_err(failed("reading the decryption key"))?;
        super::pin::Limits::read(&mut tx)
    };
    // Refused before anything is asked: the last try is never spent here.
    match card_info.pin_retries.user {
        0 => return Err(CardError::PinBlocked { card, tried: false }),
        1 => return Err(CardError::LastTryNeverSpent { card }),
        _ => {}
    }
    let request = crate::prompt::SecretRequest::UserPin {
        card: card.clone(),
        tries_left: card_info.pin_retries.user,
        purpose: Some("to sign the certificate"),
    };
    let pin = super::pin::ask(prompt, &request, limits, &card)?;
    open.forget.now();
    sign_on(&mut open, &card, &user_id, pin, prompt)
}

/// The certificate of the keys on `open`, signed by the card with the user PIN `pin` (its
/// last try is never spent).
pub(crate) fn sign_on(
    open: &mut super::OpenCard,
    card: &str,
    user_id: &str,
    pin: Zeroizing<String>,
    prompt: &mut dyn Prompt,
) -> Result<Cert, CardError> {
    let failed = |what: &'static str| move |why: String| CardError::Card { card: card.to_string(), what, why };
    let mut tx = open.card.transaction().map_err(|e| failed("opening a transaction")(e.to_string()))?;
    let _ = tx.invalidate_cache();
    // Another program may have spent tries while the PIN was typed.
    match tx.pw_status_bytes().map(|pw| pw.err_count_pw1()) {
        Ok(0) => return Err(CardError::PinBlocked { card: card.to_string(), tried: false }),
        Ok(1) => return Err(CardError::LastTryNeverSpent { card: card.to_string() }),
        Ok(_) => {}
        Err(e) => return Err(failed("reading the PIN retry counter")(e.to_string())),
    }
    let primary = keys::public_key(&mut tx, KeyType::Signing).map_err(failed("reading the signing key"))?;
    let subkey = keys::public_key(&mut tx, KeyType::Decryption).map_err(failed("reading the decryption key"))?;
    let touch =
        tx.user_interaction_flag(KeyType::Signing).ok().flatten().is_some_and(|u| u.touch_policy().touch_required());
    let primary: Key<PublicParts, PrimaryRole> = primary.role_into_primary();
    let subkey: Key<PublicParts, SubordinateRole> = subkey.role_into_subordinate();
    let hash = match primary.mpis() {
        mpi::PublicKey::ECDSA { curve: sequoia_openpgp::types::Curve::NistP384, .. } => HashAlgorithm::SHA384,
        mpi::PublicKey::ECDSA { curve: sequoia_openpgp::types::Curve::NistP521, .. } => HashAlgorithm::SHA512,
        _ => HashAlgorithm::SHA256,
    };
    let public = primary.clone().role_into_unspecified();
    let mut signer = CardSigner { tx: &mut tx, public, pin, touch, prompt, failure: None, hash };
    let built = build(&primary, &subkey, user_id, &mut signer);
    if let Some(e) = signer.failure.take() {
        return Err(e);
    }
    built.map_err(|e| failed("signing the certificate")(e.to_string()))
}

/// ISO 7501-1 cardholder names ("Surname<<Given<Names") as a user ID ("Given Names Surname").
fn cardholder_to_user_id(name: &str) -> String {
    match name.split_once("<<") {
        Some((surname, given)) => {
            format!("{} {}", given.replace('<', " "), surname.replace('<', " ")).trim().to_string()
        }
        None => name.replace('<', " "),
    }
}

fn build(
    primary: &Key<PublicParts, PrimaryRole>,
    subkey: &Key<PublicParts, SubordinateRole>,
    user_id: &str,
    signer: &mut CardSigner<'_, '_, '_>,
) -> sequoia_openpgp::Result<Cert> {
    // Signatures date from now, but never before the keys (the card's clock may lag).
    let now = (std::time::UNIX_EPOCH + std::time::Duration::from_secs(crate::time::now()))
        .max(primary.creation_time())
        .max(subkey.creation_time());
    let hash = signer.hash;
    let cert = Cert::try_from(vec![Packet::from(primary.clone())])?;
    let uid = UserID::from(user_id);
    let uid_sig = uid.bind(
        signer,
        &cert,
        SignatureBuilder::new(SignatureType::PositiveCertification)
            .set_signature_creation_time(now)?
            .set_key_flags(KeyFlags::empty().set_certification().set_signing())?
            // SEIPDv1 only: what GnuPG 2.2/2.4 and Vault's Go OpenPGP read.
            .set_features(Features::empty().set_seipdv1())?
            // Without preferences, other implementations fall back to 3DES (RFC 4880's default),
            // which policies (ours included) reject.
            .set_preferred_symmetric_algorithms(vec![
                SymmetricAlgorithm::AES256,
                SymmetricAlgorithm::AES192,
                SymmetricAlgorithm::AES128,
            ])?
            .set_preferred_hash_algorithms(vec![HashAlgorithm::SHA512, HashAlgorithm::SHA384, HashAlgorithm::SHA256])?
            .set_hash_algo(hash),
    )?;
    let sub_sig = subkey.bind(
        signer,
        &cert,
        SignatureBuilder::new(SignatureType::SubkeyBinding)
            .set_signature_creation_time(now)?
            .set_key_flags(KeyFlags::empty().set_transport_encryption().set_storage_encryption())?
            .set_hash_algo(hash),
    )?;
    Ok(cert.insert_packets(vec![Packet::from(uid), uid_sig.into(), Packet::from(subkey.clone()), sub_sig.into()])?.0)
}

/// Sequoia's view of the card's signing key: every signature is one PSO:COMPUTE DIGITAL
/// SIGNATURE, preceded by a VERIFY (cards often accept the PIN for one signature only).
struct CardSigner<'t, 'a, 'p> {
    tx: &'t mut openpgp_card::Card<Transaction<'a>>,
    public: Key<PublicParts, UnspecifiedRole>,
    pin: Zeroizing<String>,
    touch: bool,
    prompt: &'p mut dyn Prompt,
    failure: Option<CardError>,
    /// The digest the card signs: as long as an ECDSA key's curve (cards refuse others).
    hash: HashAlgorithm,
}

impl Signer for CardSigner<'_, '_, '_> {
    fn public(&self) -> &Key<PublicParts, UnspecifiedRole> {
        &self.public
    }

    fn acceptable_hashes(&self) -> &[HashAlgorithm] {
        std::slice::from_ref(&self.hash)
    }

    fn sign(&mut self, hash_algo: HashAlgorithm, digest: &[u8]) -> sequoia_openpgp::Result<mpi::Signature> {
        let name = self.tx.application_identifier().map(|a| format!("card {}", a.ident())).unwrap_or_default();
        if let Err(e) = self.tx.verify_user_signing_pin(secrecy::SecretString::from(self.pin.as_str())) {
            let why = e.to_string();
            self.failure = Some(match e {
                openpgp_card::Error::CardStatus(openpgp_card::ocard::StatusBytes::PasswordNotChecked(left)) => {
                    CardError::WrongPin { card: name, left }
                }
                _ => CardError::Card { card: name, what: "verifying the PIN", why: why.clone() },
            });
            return Err(anyhow::anyhow!(why));
        }
        if self.touch {
            self.prompt.notice(&format!("Touch your token now: {name} waits for a touch to sign."));
        }
        let algo = match self.public.pk_algo() {
            PublicKeyAlgorithm::RSAEncryptSign => SigningAlgo::RSA(match hash_algo {
                HashAlgorithm::SHA256 => HashAlgo::SHA256,
                HashAlgorithm::SHA384 => HashAlgo::SHA384,
                HashAlgorithm::SHA512 => HashAlgo::SHA512,
                other => return Err(anyhow::anyhow!("hash {other} is not supported for card signatures")),
            }),
            _ => SigningAlgo::ECC,
        };
        let sig = match self.tx.card().signature_for_hash(algo, digest) {
            Ok(sig) => sig,
            Err(e) => {
                let why = e.to_string();
                self.failure = Some(CardError::Card { card: name, what: "signing", why: why.clone() });
                return Err(anyhow::anyhow!(why));
            }
        };
        match self.public.pk_algo() {
            PublicKeyAlgorithm::RSAEncryptSign => Ok(mpi::Signature::RSA { s: mpi::MPI::new(&sig) }),
            PublicKeyAlgorithm::EdDSA => {
                let (r, s) = sig.split_at(sig.len() / 2);
                Ok(mpi::Signature::EdDSA { r: mpi::MPI::new(r), s: mpi::MPI::new(s) })
            }
            PublicKeyAlgorithm::ECDSA => {
                let (r, s) = sig.split_at(sig.len() / 2);
                Ok(mpi::Signature::ECDSA { r: mpi::MPI::new(r), s: mpi::MPI::new(s) })
            }
            other => Err(anyhow::anyhow!("cannot make {other} signatures with a card")),
        }
    }
}

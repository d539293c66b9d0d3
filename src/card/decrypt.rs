//! Decrypting on a card: a [`KeySource`] that finds the inserted card holding a message's key
//! BEFORE asking for a PIN, shows the PIN retries left, refuses to spend the last one unless told,
//! says when the card waits for a touch, and sends the session key packet's ciphertext to the card
//! (PSO:DECIPHER) through a Sequoia [`Decryptor`] of our own.

use super::{CardError, OpenCard, begin, context, info_telling, keys, open_all_telling, pin};
use crate::openpgp::decrypt::{DecryptError, KeySource, Miss, SessionKeyCheck};
use crate::prompt::Prompt;
use openpgp_card::ocard::KeyType;
use openpgp_card::ocard::crypto::Cryptogram;
use openpgp_card::state::Transaction;
use sequoia_openpgp::KeyHandle;
use sequoia_openpgp::crypto::mem::Protected;
use sequoia_openpgp::crypto::{Decryptor, SessionKey, ecdh, mpi};
use sequoia_openpgp::packet::PKESK;
use sequoia_openpgp::packet::key::{PublicParts, UnspecifiedRole};
use sequoia_openpgp::types::{Curve, SymmetricAlgorithm};
use zeroize::Zeroizing;

/// How to use the cards.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Spend the last PIN try if it comes to that (`--allow-last-pin-try`).
    pub allow_last_pin_try: bool,
    /// Who holds the key a message is for, e.g. "share 2, custodian alice (from the manifest)",
    /// looked up by the caller from recipient key handles; used in "insert the card of ...".
    pub holders: Vec<(KeyHandle, String)>,
    /// Wait for a card that is not inserted (when no other share can stand in, or when the
    /// person chooses to), instead of failing at once (`--no-wait` turns it off). Commands that
    /// need several cards wait; one that needs one card does not.
    pub wait: bool,
}

impl Options {
    /// Options naming, for every share of `manifest`, its custodian as the holder of its keys.
    pub fn new(allow_last_pin_try: bool, manifest: Option<&crate::manifest::Manifest>) -> Options {
        let mut holders = Vec::new();
        for entry in manifest.map(|m| m.shares.as_slice()).unwrap_or_default() {
            let custodian = entry.custodian.as_deref().map_or("unnamed".into(), crate::sanitize);
            let name = format!("share {}, custodian {custodian}", entry.index);
            holders.extend(entry.key_handles().into_iter().map(|h| (h, name.clone())));
        }
        Options { allow_last_pin_try, holders, wait: false }
    }
}

/// A card error as a key source's error, marked when nothing was tried and another share may
/// stand in: the card is absent, blocked, or at its last try (which is not to be spent while a
/// spare share can do without it).
fn source_error(e: CardError) -> DecryptError {
    let miss = if let Some(busy) = e.absent() {
        Some(if busy { Miss::Busy } else { Miss::Absent })
    } else if matches!(e, CardError::NoService { .. } | CardError::DaemonGone { .. }) {
        Some(Miss::NoDaemon)
    } else if let CardError::LastTry { tried, .. } | CardError::PinBlocked { tried, .. } = e {
        Some(Miss::Unusable { tried })
    } else {
        None
    };
    DecryptError::Source { error: Box::new(e), miss }
}

/// The inserted OpenPGP cards, as a source of decryption keys. One `Cards` is one card session:
/// a PIN the card accepted is kept (in memory, wiped on drop) and sent again for the next share
/// encrypted to the same card, so that a card holding several shares (the operator's, at a
/// staged completion) is asked for its PIN once.
#[derive(Default)]
pub struct Cards {
    options: Options,
    miss: Option<CardError>,
    /// PINs the cards accepted in this session, by card ident and decryption key fingerprint,
    /// with the public key material the card showed when it accepted the PIN.
    accepted: Vec<(CardKey, Kept)>,
}

impl Cards {
    pub fn new(options: Options) -> Self {
        Cards { options, miss: None, accepted: Vec::new() }
    }

    fn holder(&self, wanted: &[KeyHandle]) -> String {
        let names: Vec<&str> = self
            .options
            .holders
            .iter()
            .filter(|(h, _)| wanted.iter().any(|w| w.aliases(h)))
            .map(|(_, name)| name.as_str())
            .collect();
        if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) }
    }
}

impl KeySource for Cards {
    fn describe(&self) -> String {
        match &self.miss {
            Some(miss) => format!("smartcards ({miss})"),
            None => "the inserted smartcards".into(),
        }
    }

    fn miss(&mut self) -> Option<DecryptError> {
        self.miss.take().map(source_error)
    }

    fn open(
        &mut self,
        pkesks: &[PKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        prompt: &mut dyn Prompt,
        check: &mut SessionKeyCheck<'_>,
    ) -> Result<bool, DecryptError> {
        let err = source_error;
        let wanted: Vec<KeyHandle> = pkesks.iter().filter_map(PKESK::recipient).collect();
        let wanted_text = if wanted.is_empty() {
            "(the message hides its recipients)".to_string()
        } else {
            wanted.iter().map(|h| sequoia_openpgp::KeyID::from(h).to_hex()).collect::<Vec<_>>().join(" or ")
        };
        let holder = self.holder(&wanted);
        let ctx = match context() {
            Ok(ctx) => ctx,
            Err(e) => {
                self.miss = Some(e);
                return Ok(false);
            }
        };
        let super::Found { readers, cards, others } =
            open_all_telling(&ctx, &mut |reader| prompt.notice(&busy(reader))).map_err(err)?;
        if readers.is_empty() {
            self.miss = Some(CardError::NoReaders);
            return Ok(false);
        }
        if cards.is_empty() {
            self.miss = Some(super::no_cards(
                &readers,
                &others,
                format!(" that holds the decryption key {wanted_text}{holder}"),
            ));
            return Ok(false);
        }
        // Find the card and the packet it can open: nothing is asked before this.
        let mut seen = Vec::new();
        let mut found = None;
        for mut open in cards {
            let Ok(card_info) = info_telling(&mut open, false, &mut |reader| prompt.notice(&busy(reader))) else {
                continue;
            };
            let dec = card_info.decryption.fingerprint.clone();
            let fpr = dec.as_deref().and_then(|d| d.parse::<sequoia_openpgp::Fingerprint>().ok());
            // Named by key ID, as the message names the key it wants.
            let key_id = fpr.as_ref().map_or("none".to_string(), |f| sequoia_openpgp::KeyID::from(f).to_hex());
            seen.push(format!(
                "{} in reader \"{}\" (decryption key {key_id})",
                card_info.ident,
                crate::sanitize(&card_info.reader)
            ));
            let Some(fpr) = fpr else { continue };
            let handle = KeyHandle::from(fpr);
            if let Some(pkesk) = pkesks.iter().find(|p| p.recipient().is_some_and(|r| r.aliases(&handle))) {
                found = Some((open, card_info, pkesk));
                break;
            }
        }
        let Some((mut open, card_info, pkesk)) = found else {
            seen.sort();
            let busy = super::any_busy(&others);
            let others = super::describe_others(&others);
            self.miss =
                Some(CardError::NoMatchingCard { wanted: wanted_text, holder, seen: seen.join("; "), others, busy });
            return Ok(false);
        };
        // The PIN this card accepted before is taken out while it is used: a refused one is gone,
        // and the one that works is kept.
        let key = CardKey { ident: card_info.ident.clone(), fingerprint: card_info.decryption.fingerprint.clone() };
        let accepted = self.accepted.iter().position(|(k, _)| *k == key).map(|i| self.accepted.swap_remove(i).1);
        let kept = decrypt_on(&mut open, &card_info, (pkesk, sym_algo), &self.options, accepted, prompt, check)
            .map_err(err)?;
        self.accepted.push((key, kept));
        Ok(true)
    }
}

/// The kept PIN, if it may be sent to a card that shows `public` and has `left` tries: only the
/// card whose public key accepted it, and never at its last try.
fn reusable(
    kept: Option<Kept>,
    public: &sequoia_openpgp::crypto::mpi::PublicKey,
    left: u8,
) -> Option<Zeroizing<String>> {
    kept.filter(|k| k.public == *public && left > 1).map(|k| k.pin)
}

/// A PIN a card accepted, and the public key material that card showed for its decryption key.
/// Ident and fingerprint are only what a card says (a programmable card says anything): the PIN
/// goes again only to a card that shows the same public key, and never at its last try.
pub(crate) struct Kept {
    public: sequoia_openpgp::crypto::mpi::PublicKey,
    pin: Zeroizing<String>,
}

/// Which card a kept PIN is for: its ident and decryption key (two cards may share an ident).
#[derive(PartialEq, Eq)]
struct CardKey {
    ident: String,
    fingerprint: Option<String>,
}

impl Cards {
    /// Forgets the PINs of every card whose decryption key is not among `still_needed`: a PIN is
    /// kept only while a share still to be opened is encrypted to its card.
    pub fn keep_pins_for(&mut self, still_needed: &[KeyHandle]) {
        self.accepted.retain(|(key, _)| {
            key.fingerprint
                .as_deref()
                .and_then(|f| f.parse::<sequoia_openpgp::Fingerprint>().ok())
                .is_some_and(|f| still_needed.iter().any(|h| h.aliases(KeyHandle::from(&f))))
        });
    }
}

/// The PIN, then VERIFY and PSO:DECIPHER on one card. The card's key, touch policy and PIN
/// limits are read in one transaction, which ends before the PIN is asked: no card is held while
/// a person types. VERIFY and DECIPHER then run in one transaction of their own, after the
/// retry counter is read afresh (another program may have spent tries meanwhile).
fn decrypt_on(
    open: &mut OpenCard,
    card_info: &super::CardInfo,
    (pkesk, sym_algo): (&PKESK, Option<SymmetricAlgorithm>),
    options: &Options,
    accepted: Option<Kept>,
    prompt: &mut dyn Prompt,
    check: &mut SessionKeyCheck<'_>,
) -> Result<Kept, CardError> {
    let name = card_info.describe();
    let removed_or = |what: &'static str, e: openpgp_card::Error| classify(&name, what, e);
    let (public, touch, limits) = {
        let mut tx = begin(open, &mut |reader| prompt.notice(&busy(reader)))
            .map_err(|e| removed_or("opening a transaction", e))?;
        let public = keys::public_key(&mut tx, KeyType::Decryption).map_err(|why| CardError::Card {
            card: name.clone(),
            what: "reading the decryption key",
            why,
        })?;
        let touch = tx
            .user_interaction_flag(KeyType::Decryption)
            .ok()
            .flatten()
            .is_some_and(|u| u.touch_policy().touch_required());
        (public, touch, pin::Limits::read(&mut tx))
    };
    let mut left = card_info.pin_retries.user;
    // The kept PIN only for the public key it was accepted with, and never at the last try.
    let mut accepted = reusable(accepted, public.mpis(), left);
    // Whether a PIN was sent and refused in this call: the guards then say so.
    let mut tried = false;
    // A card that cannot be used is refused before anything is said of typing its PIN.
    guard(left, options, &name, tried)?;
    if accepted.is_some() {
        prompt.notice(&format!("Decrypting on {name}, with the PIN it accepted before in this run."));
    } else {
        prompt.notice(&format!("Decrypting on {name}: user PIN, {}.", crate::wording::tries_left(left)));
    }
    loop {
        guard(left, options, &name, tried)?;
        let request = crate::prompt::SecretRequest::UserPin { card: name.clone(), tries_left: left, purpose: None };
        let (pin, kept) = match accepted.take() {
            Some(pin) => (pin, true),
            None => (pin::ask(prompt, &request, limits, &name)?, false),
        };
        // The transaction reads the card afresh (the transport's copy is dropped first).
        open.forget.now();
        let mut tx = begin(open, &mut |reader| prompt.notice(&busy(reader)))
            .map_err(|e| removed_or("opening a transaction", e))?;
        let now = tx.pw_status_bytes().map_err(|e| removed_or("reading the PIN retry counter", e))?.err_count_pw1();
        if now != left {
            // Another program spent tries (or reset the counter) while the PIN was typed.
            prompt.notice(&format!("{name} now has {}.", crate::wording::tries_left(now)));
            left = now;
            guard(left, options, &name, tried)?;
            if kept && left <= 1 {
                // A kept PIN is never sent at the last try: the person types it, knowingly.
                drop(tx);
                accepted = None;
                continue;
            }
        }
        // The card says whether the PIN was right; nothing else is asked of it (an empty VERIFY,
        // the status query, costs a try on some cards).
        let wrong = match tx.verify_user_pin(secrecy::SecretString::from(pin.as_str())) {
            Ok(()) => None,
            Err(openpgp_card::Error::CardStatus(openpgp_card::ocard::StatusBytes::PasswordNotChecked(n))) => Some(n),
            Err(openpgp_card::Error::CardStatus(openpgp_card::ocard::StatusBytes::AuthenticationMethodBlocked)) => {
                return Err(CardError::PinBlocked { card: name, tried });
            }
            Err(openpgp_card::Error::CardStatus(_)) => {
                // Cards that do not report the count in the status word: read it again (the
                // VERIFY dropped the transport's copy).
                let _ = tx.invalidate_cache();
                Some(tx.pw_status_bytes().map_err(|e| removed_or("reading the PIN retry counter", e))?.err_count_pw1())
            }
            Err(e) => return Err(removed_or("verifying the PIN", e)),
        };
        if let Some(n) = wrong {
            left = n;
            tried = true;
            if left == 0 {
                return Err(CardError::PinBlocked { card: name, tried });
            }
            if kept {
                prompt.notice(&format!(
                    "{name} refused the PIN it accepted before in this run: {}. Type its PIN.",
                    crate::wording::tries_left(left)
                ));
            } else {
                prompt.notice(&format!("Wrong PIN for {name}: {}.", crate::wording::tries_left(left)));
            }
            continue;
        }
        if touch {
            prompt.notice(&format!("Touch your token now: {name} waits for a touch to decrypt."));
        }
        let mut decryptor = CardDecryptor { tx: &mut tx, public: public.clone(), failure: None };
        let opened = pkesk.decrypt(&mut decryptor, sym_algo);
        if let Some(failure) = decryptor.failure.take() {
            return Err(failure);
        }
        return match opened {
            Some((algo, sk)) if check(algo, &sk) => Ok(Kept { public: public.mpis().clone(), pin }),
            _ => Err(CardError::Card {
                card: name,
                what: "decrypting",
                why: "the card's answer does not open the message: its key is not the one the share was encrypted to"
                    .into(),
            }),
        };
    }
}

/// Said when the card in `reader` takes more than a second to answer: most often another
/// program holds it in a transaction of its own.
fn busy(reader: &str) -> String {
    format!(
        "Still waiting for the card in reader \"{}\": another program may be using it (symbolon goes on when it answers).",
        crate::sanitize(reader)
    )
}

/// Refuses a blocked PIN, and the last try unless it may be spent: nothing more is asked or
/// sent. `tried`: wrong PINs were sent in this call.
fn guard(left: u8, options: &Options, card: &str, tried: bool) -> Result<(), CardError> {
    match left {
        0 => Err(CardError::PinBlocked { card: card.to_string(), tried }),
        1 if !options.allow_last_pin_try => Err(CardError::LastTry { card: card.to_string(), tried }),
        _ => Ok(()),
    }
}

/// A card error as the person needs it: a lost card is "removed", the rest says what failed.
fn classify(card: &str, what: &'static str, e: openpgp_card::Error) -> CardError {
    use card_backend::SmartcardError as S;
    match &e {
        // pcscd went away (stopped, restarted, crashed): the card is not to blame, nor the PIN.
        openpgp_card::Error::Smartcard(S::Error(m) | S::SmartCardConnectionError(m) | S::ContextError(m))
            if ["NoService", "ServiceStopped"].iter().any(|w| m.contains(w))
                || (m.contains("CommError") && super::context().is_err()) =>
        {
            CardError::DaemonGone { card: card.to_string(), what }
        }
        // A USB token is its own reader: pulled out, the reader is gone too.
        openpgp_card::Error::Smartcard(S::Error(m) | S::SmartCardConnectionError(m) | S::ReaderError(m))
            if ["UnknownReader", "ReaderUnavailable"].iter().any(|w| m.contains(w)) =>
        {
            CardError::Removed { card: card.to_string() }
        }
        // pcsc's RemovedCard, ResetCard, NoSmartcard (as card-backend-pcsc words them).
        openpgp_card::Error::Smartcard(S::Error(m) | S::SmartCardConnectionError(m))
            if ["Removed", "removed", "Reset", "reset", "NoSmartcard", "not present"].iter().any(|w| m.contains(w)) =>
        {
            CardError::Removed { card: card.to_string() }
        }
        openpgp_card::Error::Smartcard(S::CardNotFound(_)) => CardError::Removed { card: card.to_string() },
        // No status word at all: the reader lost the card (a card always answers with one).
        openpgp_card::Error::ResponseLength(0) => CardError::Removed { card: card.to_string() },
        _ => CardError::Card { card: card.to_string(), what, why: e.to_string() },
    }
}

/// Sequoia's view of the card's decryption key: `decrypt` sends the session key packet's
/// ciphertext to the card. RSA: the card returns the session key. ECDH: the card returns the
/// shared secret, and the session key is unwrapped here (RFC 6637).
struct CardDecryptor<'t, 'a> {
    tx: &'t mut openpgp_card::Card<Transaction<'a>>,
    public: sequoia_openpgp::packet::Key<PublicParts, UnspecifiedRole>,
    /// Why the card failed, kept to give the person the card's reason rather than Sequoia's.
    failure: Option<CardError>,
}

impl CardDecryptor<'_, '_> {
    fn card_name(&mut self) -> String {
        self.tx.application_identifier().map(|a| format!("card {}", a.ident())).unwrap_or_else(|_| "the card".into())
    }
}

impl Decryptor for CardDecryptor<'_, '_> {
    fn public(&self) -> &sequoia_openpgp::packet::Key<PublicParts, UnspecifiedRole> {
        &self.public
    }

    fn decrypt(
        &mut self,
        ciphertext: &mpi::Ciphertext,
        plaintext_len: Option<usize>,
    ) -> sequoia_openpgp::Result<SessionKey> {
        let answer = match (ciphertext, self.public.mpis()) {
            (mpi::Ciphertext::RSA { c }, _) => self.tx.card().decipher(Cryptogram::RSA(c.value())),
            (mpi::Ciphertext::ECDH { e, .. }, mpi::PublicKey::ECDH { curve, .. }) => {
                // Curve25519 points travel with a 0x40 prefix in OpenPGP; the card wants them bare.
                let point = match (curve, e.value()) {
                    (Curve::Cv25519, [0x40, rest @ ..]) if rest.len() == 32 => rest,
                    (_, value) => value,
                };
                self.tx.card().decipher(Cryptogram::ECDH(point))
            }
            _ => {
                return Err(anyhow::anyhow!("the card's key and the message's ciphertext do not match in algorithm"));
            }
        };
        let answer = match answer {
            Ok(a) => Protected::from(a),
            Err(e) => {
                let name = self.card_name();
                let why = e.to_string();
                self.failure = Some(classify(&name, "decrypting", e));
                return Err(anyhow::anyhow!(why));
            }
        };
        match ciphertext {
            mpi::Ciphertext::RSA { .. } => Ok(SessionKey::from(answer.as_ref())),
            _ => {
                // Some cards return the whole point (04 || x || y) for NIST curves: the secret is x.
                let shared: Protected = if answer.len() % 2 == 1 && answer.first() == Some(&0x04) {
                    Protected::from(&answer[1..=answer.len() / 2])
                } else {
                    answer
                };
                ecdh::decrypt_unwrap(&self.public, &shared, ciphertext, plaintext_len)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sequoia_openpgp::cert::prelude::*;

    fn public_of(name: &str) -> sequoia_openpgp::crypto::mpi::PublicKey {
        let (cert, _) =
            CertBuilder::general_purpose(Some(name)).set_cipher_suite(CipherSuite::Cv25519).generate().unwrap();
        let policy = sequoia_openpgp::policy::StandardPolicy::new();
        cert.keys().with_policy(&policy, None).for_transport_encryption().next().unwrap().key().mpis().clone()
    }

    /// A card that claims the ident and fingerprint of the card that accepted a PIN (both can be
    /// set on a programmable card) but shows another public key gets nothing; neither does the
    /// right card at its last try.
    #[test]
    fn a_kept_pin_goes_only_to_the_same_public_key_and_never_at_the_last_try() {
        let (alice, other) = (public_of("alice"), public_of("mallory"));
        let kept = || Some(Kept { public: alice.clone(), pin: Zeroizing::new("123456".into()) });
        assert_eq!(reusable(kept(), &alice, 3).as_deref().map(String::as_str), Some("123456"));
        assert_eq!(reusable(kept(), &alice, 2).as_deref().map(String::as_str), Some("123456"));
        assert!(reusable(kept(), &other, 3).is_none());
        assert!(reusable(kept(), &alice, 1).is_none());
        assert!(reusable(None, &alice, 3).is_none());
    }
}

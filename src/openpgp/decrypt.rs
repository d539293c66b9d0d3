//! Decrypting a share: which keys a message is for (told before any passphrase or PIN is asked),
//! and the decryption itself with whatever holds the secret keys: software keys
//! ([`SecretKeys`]) or smartcards (`card::decrypt::Cards`), both [`KeySource`]s.

use super::policy;
use crate::prompt::{Prompt, PromptError};
use sequoia_openpgp::cert::prelude::*;
use sequoia_openpgp::crypto::{Password, SessionKey};
use sequoia_openpgp::packet::{PKESK, SKESK};
use sequoia_openpgp::parse::stream::{DecryptionHelper, DecryptorBuilder, MessageStructure, VerificationHelper};
use sequoia_openpgp::parse::{PacketParser, PacketParserResult, Parse};
use sequoia_openpgp::types::SymmetricAlgorithm;
use sequoia_openpgp::{Cert, KeyHandle, Packet};
use std::io::Read;
use zeroize::Zeroizing;

/// How many times a passphrase is asked before giving up (software keys have no retry counter).
const PASSPHRASE_TRIES: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum DecryptError {
    #[error("{origin}: not an OpenPGP secret key (export it with `gpg --export-secret-keys --armor KEY`)")]
    NotASecretKey { origin: String },
    #[error("the message is not a readable OpenPGP message ({why}): the share file is damaged or not a share")]
    Malformed { why: String },
    #[error(
        "none of the given keys can decrypt this share: it is encrypted to {recipients}; the keys given are {available}. Use the key of the custodian it was made for"
    )]
    NoMatchingKey { recipients: String, available: String },
    #[error("wrong passphrase for {key}, {tries} times: nothing was decrypted")]
    WrongPassphrase { key: String, tries: usize },
    #[error("the passphrase for {key} was not given: {source}")]
    Prompt { key: String, source: PromptError },
    #[error("decryption failed: {why}")]
    Failed { why: String },
    #[error(
        "the decrypted share would be larger than {limit} bytes, though its message is {len} bytes (a compressed message that inflates without end?): nothing more was read. This is not a share symbolon made: ask its custodian for the original file"
    )]
    TooLarge { len: usize, limit: u64 },
    #[error(
        "the encrypted share is truncated or corrupt ({what}): use another copy of it (its QR codes or its paper sheet), or ask its custodian"
    )]
    Damaged { what: &'static str },
    /// An error of a key source (e.g. a smartcard's), with its own message. `miss`: the key
    /// cannot be used here and another share may stand in (see [`Miss`]).
    #[error("{error}")]
    Source {
        #[source]
        error: Box<dyn std::error::Error + Send + Sync + 'static>,
        miss: Option<Miss>,
    },
}

/// Why a key source could not use a key, where that is no fault of the share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// The card that holds the key is not inserted (or not among the readers): nothing was
    /// tried. Inserting it helps.
    Absent,
    /// As `Absent`, and a reader holds a card another program uses exclusively: it may be the
    /// one. Releasing it helps.
    Busy,
    /// The card is there, but its PIN is blocked, or using it would spend the last try.
    /// `tried`: wrong PINs typed in this run made it so.
    Unusable { tried: bool },
    /// pcscd is not running (or went away): no card can be reached until it is back. Another
    /// share cannot stand in (its card is out of reach too), but waiting for pcscd helps.
    NoDaemon,
}

impl DecryptError {
    /// Whether the share could not be decrypted only because its key cannot be used here (no
    /// given key file holds it, its custodian's card is not inserted, or is at its last PIN try
    /// or blocked): another share can stand in for it.
    pub fn can_stand_in(&self) -> bool {
        matches!(
            self,
            DecryptError::NoMatchingKey { .. }
                | DecryptError::Source { miss: Some(Miss::Absent | Miss::Busy | Miss::Unusable { .. }), .. }
        )
    }

    /// Whether nothing was tried: the key is not here, or its card was unusable before anything
    /// was typed (a share not looked at, rather than one that failed).
    pub fn untried(&self) -> bool {
        matches!(
            self,
            DecryptError::NoMatchingKey { .. }
                | DecryptError::Source { miss: Some(Miss::Absent | Miss::Busy | Miss::Unusable { tried: false }), .. }
        )
    }

    /// Whether the card that holds the key is simply not inserted, or pcscd is not running:
    /// waiting for the card (or the daemon) helps.
    pub fn card_absent(&self) -> bool {
        matches!(self, DecryptError::Source { miss: Some(Miss::Absent | Miss::Busy | Miss::NoDaemon), .. })
    }

    /// Why the key's card cannot be reached now, if waiting may help.
    pub fn miss(&self) -> Option<Miss> {
        match self {
            DecryptError::Source { miss, .. } => *miss,
            _ => None,
        }
    }

    /// Whether it is pcscd that is missing.
    pub fn daemon_absent(&self) -> bool {
        matches!(self, DecryptError::Source { miss: Some(Miss::NoDaemon), .. })
    }
}

/// What to do with a session key candidate: `true` when it decrypts the message.
pub type SessionKeyCheck<'a> = dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool + 'a;

/// Something holding secret keys that can open a message's session key packets.
pub trait KeySource {
    /// Tries to open one of `pkesks` and hands the session key to `check`. `Ok(true)`: done.
    /// `Ok(false)`: this source holds none of the keys (nothing was asked or spent).
    fn open(
        &mut self,
        pkesks: &[PKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        prompt: &mut dyn Prompt,
        check: &mut SessionKeyCheck<'_>,
    ) -> Result<bool, DecryptError>;

    /// What this source holds, for "the keys given are ...".
    fn describe(&self) -> String;

    /// Whether this source holds the secret part of one of `recipients` (so that a failure to
    /// open the message is the message's fault, not a missing key).
    fn holds(&self, _recipients: &[KeyHandle]) -> bool {
        false
    }

    /// Why this source held none of the keys, when it can say better than a list (e.g. "no
    /// inserted card holds key X: insert the card of alice").
    fn miss(&mut self) -> Option<DecryptError> {
        None
    }
}

/// Secret keys a user supplied (`--key-file`), with where each came from.
#[derive(Default)]
pub struct SecretKeys {
    keys: Vec<(String, Cert)>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys.iter().map(|(o, c)| format!("{o}: {}", c.fingerprint()))).finish()
    }
}

impl SecretKeys {
    /// Adds the secret keys in `bytes` (armored or binary), read from `origin`.
    pub fn add(&mut self, origin: &str, bytes: &[u8]) -> Result<(), DecryptError> {
        let not_key = || DecryptError::NotASecretKey { origin: origin.to_string() };
        let certs: Vec<Cert> =
            CertParser::from_bytes(bytes).map_err(|_| not_key())?.collect::<Result<_, _>>().map_err(|_| not_key())?;
        if certs.is_empty() || !certs.iter().all(Cert::is_tsk) {
            return Err(not_key());
        }
        self.keys.extend(certs.into_iter().map(|c| (origin.to_string(), c)));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether one of these keys holds the secret part of one of `wanted`.
    pub fn holds_any(&self, wanted: &[sequoia_openpgp::Fingerprint]) -> bool {
        self.keys.iter().any(|(_, cert)| cert.keys().secret().any(|k| wanted.contains(&k.key().fingerprint())))
    }

    fn describe(&self) -> String {
        if self.keys.is_empty() {
            return "none".into();
        }
        self.keys.iter().map(|(_, c)| super::certs::describe(c)).collect::<Vec<_>>().join(", ")
    }
}

/// The key handles a message is encrypted to, read from its session key packets.
pub fn recipients(message: &[u8]) -> Result<Vec<KeyHandle>, DecryptError> {
    let (keys, _) = all_recipients(message)?;
    if keys.is_empty() {
        return Err(DecryptError::Malformed { why: "it is not encrypted to any public key".into() });
    }
    Ok(keys)
}

/// Every recipient of `message`: the public keys it is encrypted to (a hidden recipient as the
/// wildcard key ID) and how many passwords can open it too.
pub fn all_recipients(message: &[u8]) -> Result<(Vec<KeyHandle>, usize), DecryptError> {
    let malformed = |e: anyhow::Error| DecryptError::Malformed { why: e.to_string() };
    let (mut keys, mut passwords) = (Vec::new(), 0);
    let mut ppr = PacketParser::from_bytes(message).map_err(malformed)?;
    while let PacketParserResult::Some(pp) = ppr {
        match &pp.packet {
            Packet::PKESK(pkesk) => {
                keys.push(pkesk.recipient().unwrap_or_else(|| KeyHandle::KeyID(sequoia_openpgp::KeyID::wildcard())))
            }
            Packet::SKESK(_) => passwords += 1,
            Packet::Marker(_) => {}
            _ => break,
        }
        ppr = pp.next().map_err(malformed)?.1;
    }
    Ok((keys, passwords))
}

/// Describes recipients for people: their fingerprints or key IDs.
pub fn describe_recipients(recipients: &[KeyHandle]) -> String {
    recipients.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// Decrypts `message` with the first of `sources` that holds one of its keys, asking `prompt` for
/// passphrases or PINs. Returns the plaintext.
pub fn decrypt(
    message: &[u8],
    sources: &mut [&mut dyn KeySource],
    prompt: &mut dyn Prompt,
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let recipients = recipients(message)?;
    let available = sources.iter().map(|s| s.describe()).collect::<Vec<_>>().join("; ");
    let p = policy();
    let helper = Helper { sources, prompt };
    // Sequoia reports a failed integrity check (MDC or AEAD) as manipulation; for a share file
    // that is a truncated or damaged copy far more often than an attack.
    let failed = |e: anyhow::Error| {
        if e.to_string().contains("manipulated") {
            DecryptError::Damaged { what: "its integrity check failed, nothing of it was used" }
        } else {
            DecryptError::Failed { why: e.to_string() }
        }
    };
    // Sequoia buffers up to 25 MiB of plaintext before handing it out: never more than the bound.
    let limit = plaintext_limit(message.len());
    let buffer = usize::try_from(limit).unwrap_or(usize::MAX).min(25 << 20);
    let built =
        DecryptorBuilder::from_bytes(message).map_err(failed)?.buffer_size(buffer).with_policy(&p, None, helper);
    let mut decryptor = match built {
        Ok(d) => d,
        Err(e) => {
            // The helper's own error says best what went wrong.
            return Err(match e.downcast::<HelperError>() {
                Ok(HelperError(inner)) => inner,
                Err(e) if e.to_string().contains("no key to decrypt") => DecryptError::NoMatchingKey {
                    recipients: describe_recipients(&recipients),
                    available: if available.is_empty() { "none".into() } else { available },
                },
                Err(e) => failed(e),
            });
        }
    };
    // Bounded: never more than the message could hold uncompressed, and a ratio for compression
    // (a deflated share of text is a few times smaller; a bomb is a thousand times).
    let mut plaintext = Zeroizing::new(Vec::new());
    (&mut decryptor).take(limit + 1).read_to_end(&mut plaintext).map_err(|e| failed(e.into()))?;
    if plaintext.len() as u64 > limit {
        return Err(DecryptError::TooLarge { len: message.len(), limit });
    }
    Ok(plaintext)
}

/// How large the plaintext of a message of `len` bytes may be: 16 times the message, and 1 MiB
/// at least (symbolon's own shares are never compressed: their plaintext is smaller than the
/// message).
pub fn plaintext_limit(len: usize) -> u64 {
    (len as u64).saturating_mul(16).max(1 << 20)
}

/// Carries a [`DecryptError`] through Sequoia's `anyhow` errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct HelperError(DecryptError);

struct Helper<'a, 'b> {
    sources: &'a mut [&'b mut dyn KeySource],
    prompt: &'a mut dyn Prompt,
}

impl VerificationHelper for Helper<'_, '_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> sequoia_openpgp::Result<Vec<Cert>> {
        Ok(Vec::new())
    }

    fn check(&mut self, _structure: MessageStructure) -> sequoia_openpgp::Result<()> {
        // Shares are not signed (Vault's are not either); integrity comes from the encryption's MDC
        // and from the share's own checks and commitments.
        Ok(())
    }
}

impl DecryptionHelper for Helper<'_, '_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> sequoia_openpgp::Result<Option<Cert>> {
        for source in self.sources.iter_mut() {
            if source.open(pkesks, sym_algo, self.prompt, decrypt).map_err(HelperError)? {
                return Ok(None);
            }
        }
        // No source held a key. One source that can say why speaks for itself.
        if let [only] = &mut self.sources[..]
            && let Some(miss) = only.miss()
        {
            return Err(HelperError(miss).into());
        }
        let recipients: Vec<KeyHandle> = pkesks.iter().filter_map(|p| p.recipient()).collect();
        // The key it names was given, yet nothing opened: the message is damaged.
        if self.sources.iter().any(|s| s.holds(&recipients)) {
            return Err(HelperError(DecryptError::Damaged {
                what: "its encrypted session key does not decrypt with the key given, which is the one it names",
            })
            .into());
        }
        let available = self.sources.iter().map(|s| s.describe()).collect::<Vec<_>>();
        Err(HelperError(DecryptError::NoMatchingKey {
            recipients: describe_recipients(&recipients),
            available: if available.is_empty() { "none".into() } else { available.join("; ") },
        })
        .into())
    }
}

impl KeySource for SecretKeys {
    fn describe(&self) -> String {
        SecretKeys::describe(self)
    }

    fn holds(&self, recipients: &[KeyHandle]) -> bool {
        self.keys.iter().any(|(_, cert)| {
            cert.keys().secret().any(|k| recipients.iter().any(|r| KeyHandle::from(k.key().fingerprint()).aliases(r)))
        })
    }

    fn open(
        &mut self,
        pkesks: &[PKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        prompt: &mut dyn Prompt,
        check: &mut SessionKeyCheck<'_>,
    ) -> Result<bool, DecryptError> {
        let failed = |e: anyhow::Error| DecryptError::Failed { why: e.to_string() };
        // Secret keys matching a session key packet, unencrypted ones first (no prompt needed).
        let mut candidates = Vec::new();
        for pkesk in pkesks {
            for (_, cert) in &self.keys {
                for key in cert.keys().secret() {
                    let matches = match pkesk.recipient() {
                        Some(r) => key.key().key_handle().aliases(&r),
                        None => true,
                    };
                    if matches {
                        candidates.push((pkesk, cert, key.key().clone()));
                    }
                }
            }
        }
        candidates.sort_by_key(|(_, _, key)| key.secret().is_encrypted());
        for (pkesk, cert, key) in candidates {
            let key = if key.secret().is_encrypted() {
                let name = format!("the secret key {} of {}", key.fingerprint(), super::certs::describe(cert));
                let mut unlocked = None;
                for _ in 0..PASSPHRASE_TRIES {
                    let request = crate::prompt::SecretRequest::Passphrase { key: name.clone() };
                    let answer =
                        prompt.secret(&request).map_err(|source| DecryptError::Prompt { key: name.clone(), source })?;
                    let password = Password::from(answer.as_str());
                    if let Ok(k) = key.clone().decrypt_secret(&password) {
                        unlocked = Some(k);
                        break;
                    }
                    prompt.notice("wrong passphrase");
                }
                unlocked.ok_or(DecryptError::WrongPassphrase { key: name, tries: PASSPHRASE_TRIES })?
            } else {
                key
            };
            let mut keypair = key.into_keypair().map_err(failed)?;
            if pkesk.decrypt(&mut keypair, sym_algo).is_some_and(|(algo, sk)| check(algo, &sk)) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

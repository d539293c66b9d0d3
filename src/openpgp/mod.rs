//! OpenPGP, through Sequoia: recipient certificates ([`certs`]), encrypting a share to its
//! custodian ([`encrypt`]), and decrypting one ([`decrypt`]). Every acceptance decision goes through
//! Sequoia's `StandardPolicy`.

pub mod certs;
pub mod decrypt;
pub mod encrypt;

pub use certs::{CertError, Custodian};

/// The policy every certificate, key and message is judged by.
pub fn policy() -> sequoia_openpgp::policy::StandardPolicy<'static> {
    sequoia_openpgp::policy::StandardPolicy::new()
}

/// Whether `bytes` start like an OpenPGP message: a public-key or symmetric-key encrypted session
/// key packet, in the new or the old packet format.
pub fn looks_like_message(bytes: &[u8]) -> bool {
    let Some(&first) = bytes.first() else { return false };
    if first & 0x80 == 0 {
        return false;
    }
    let tag = if first & 0x40 != 0 { first & 0x3f } else { (first >> 2) & 0x0f };
    matches!(tag, 1 | 3)
}

/// Whether `text` is an ASCII-armored OpenPGP message.
pub fn is_armored_message(text: &str) -> bool {
    text.contains("-----BEGIN PGP MESSAGE-----")
}

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

/// The binary form of a message that may be ASCII-armored.
pub fn dearmor(message: &[u8]) -> Result<Vec<u8>, decrypt::DecryptError> {
    use std::io::Read;
    if !message.starts_with(b"-----BEGIN PGP") && !std::str::from_utf8(message).is_ok_and(is_armored_message) {
        return Ok(message.to_vec());
    }
    let mut reader = sequoia_openpgp::armor::Reader::from_bytes(
        message,
        sequoia_openpgp::armor::ReaderMode::Tolerant(Some(sequoia_openpgp::armor::Kind::Message)),
    );
    let mut out = Vec::with_capacity(message.len());
    reader.read_to_end(&mut out).map_err(|e| decrypt::DecryptError::Malformed { why: e.to_string() })?;
    Ok(out)
}

/// Whether `text` is an ASCII-armored OpenPGP message.
pub fn is_armored_message(text: &str) -> bool {
    text.contains("-----BEGIN PGP MESSAGE-----")
}

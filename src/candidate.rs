//! The input model: one share as the user gave it (a file, a line of Vault's output, an image, a
//! decrypted message), before it is checked and combined. Reading (`input`) makes these;
//! decrypting turns an `Encrypted` piece into one of the others; `combine` consumes them.

use crate::secret::SecretBytes;
use crate::share::{Share, Target};

/// One share as given by the user, with where it came from ("a.txt", "init.json, unseal key 2").
#[derive(Debug, Clone)]
pub struct Candidate {
    pub origin: String,
    pub piece: Piece,
}

#[derive(Debug, Clone)]
pub enum Piece {
    /// A share in format v1.
    Share(Share),
    /// A bare Vault key (`y || x`, or the secret itself in a 1-of-1 set).
    VaultKey { bytes: SecretBytes, target: Option<Target> },
    /// An OpenPGP message holding a share; [`crate::input::open_encrypted`] turns it into one of
    /// the above before combining.
    Encrypted { message: Vec<u8>, target: Option<Target> },
}

impl Piece {
    /// The share as text, the form a decrypted share is read in: a symbolon share's text form,
    /// or a Vault key's hex line. `None` for a piece still encrypted.
    pub fn text_form(&self) -> Option<zeroize::Zeroizing<String>> {
        match self {
            Piece::Share(share) => Some(share.to_text()),
            Piece::VaultKey { bytes, .. } => Some(crate::vault_keys::hex_line(bytes.expose())),
            Piece::Encrypted { .. } => None,
        }
    }

    /// The bytes its QR codes carry, as `split` writes them: the binary OpenPGP message, a
    /// symbolon share's binary form, or a Vault key's hex line.
    pub fn qr_form(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, crate::openpgp::decrypt::DecryptError> {
        Ok(zeroize::Zeroizing::new(match self {
            Piece::Encrypted { message, .. } => crate::openpgp::dearmor(message)?,
            Piece::Share(s) => s.to_bytes().expose().to_vec(),
            Piece::VaultKey { bytes, .. } => crate::vault_keys::hex_line(bytes.expose()).as_bytes().to_vec(),
        }))
    }
}

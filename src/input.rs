//! Recognising what the user gave as a share: a symbolon share (one or several armored shares
//! in one text), or Vault's keys in any of the forms Vault prints. Each share found gets an
//! origin that names it in messages ("alice.txt", "init.json, unseal key 2").

use crate::combine::{Candidate, Piece};
use crate::share::{ARMOR_BEGIN, FormatError, Share, Target};
use crate::vault_keys::{self, VaultKeysError};

/// The shares found in one input, and what the input says about its set.
#[derive(Debug, Default)]
pub struct Parsed {
    pub candidates: Vec<Candidate>,
    /// A threshold stated by the input itself (Vault's output states it).
    pub threshold: Option<usize>,
    pub target: Option<Target>,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{origin}: {source}")]
    Share { origin: String, source: FormatError },
    #[error("{origin}: {source}")]
    Vault { origin: String, source: VaultKeysError },
    #[error("{origin} is empty")]
    Empty { origin: String },
}

/// Reads the shares in `text`, which came from `origin`.
pub fn parse(origin: &str, text: &str) -> Result<Parsed, InputError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InputError::Empty { origin: origin.to_string() });
    }
    if trimmed.contains(ARMOR_BEGIN) {
        let shares =
            Share::all_from_text(text).map_err(|source| InputError::Share { origin: origin.to_string(), source })?;
        let many = shares.len() > 1;
        let candidates = shares
            .into_iter()
            .enumerate()
            .map(|(i, share)| Candidate {
                origin: if many { format!("{origin} (share {} in the file)", i + 1) } else { origin.to_string() },
                piece: Piece::Share(share),
            })
            .collect();
        return Ok(Parsed { candidates, ..Parsed::default() });
    }
    let vault_err = |source| InputError::Vault { origin: origin.to_string(), source };
    let keys = if trimmed.starts_with('{') {
        vault_keys::parse_json(trimmed).map_err(vault_err)?
    } else if vault_keys::looks_like_vault_text(trimmed) {
        vault_keys::parse_text(trimmed).map_err(vault_err)?
    } else {
        vault_keys::parse_lines(trimmed).map_err(vault_err)?
    };
    if keys.keys.is_empty() {
        return Err(InputError::Empty { origin: origin.to_string() });
    }
    let single = keys.keys.len() == 1;
    let candidates = keys
        .keys
        .into_iter()
        .map(|key| Candidate {
            origin: if single && key.place.starts_with("line") {
                origin.to_string()
            } else {
                format!("{origin} ({})", key.place)
            },
            piece: Piece::VaultKey { bytes: key.bytes, target: keys.target },
        })
        .collect();
    Ok(Parsed { candidates, threshold: keys.threshold, target: keys.target })
}

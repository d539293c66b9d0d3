//! What a share is, without the secret: the typed description `symbolon inspect` prints, as JSON
//! (versioned) and as text, both from this one structure.

use crate::candidate::{Candidate, Piece};
use crate::shamir::Scheme;
use serde::Serialize;

/// The version of `inspect --json`.
pub const SCHEMA_VERSION: u32 = 1;

/// One input, described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind")]
pub enum Description {
    /// A share in format v1.
    #[serde(rename = "symbolon-share-v1")]
    Share {
        origin: String,
        set_id: String,
        set_id_short: String,
        scheme: &'static str,
        index: u8,
        x: Option<u8>,
        threshold: u8,
        share_count: u8,
        target: &'static str,
        label: String,
        created: String,
        secret_length: u32,
        set_commitment: String,
        share_commitment: String,
    },
    /// An OpenPGP message (an encrypted share): only its recipients can be told.
    #[serde(rename = "openpgp-encrypted")]
    Encrypted { origin: String, recipients: Vec<String>, target: Option<&'static str> },
    /// A bare Vault key: no set id, threshold or label.
    #[serde(rename = "vault-key")]
    VaultKey { origin: String, length: usize, x_if_share: Option<u8>, target: Option<&'static str> },
}

/// `inspect --json`'s document.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub schema_version: u32,
    pub shares: Vec<Description>,
}

/// Describes one input.
pub fn describe(candidate: Candidate) -> Description {
    let origin = candidate.origin;
    match candidate.piece {
        Piece::Share(s) => {
            let set = &s.set;
            Description::Share {
                origin,
                set_id: set.id.to_string(),
                set_id_short: set.id.short(),
                scheme: set.scheme.name(),
                index: s.index,
                x: s.point().map(|p| p.x).ok(),
                threshold: set.threshold,
                share_count: set.count,
                target: set.target.name(),
                label: set.label.as_str().to_string(),
                created: crate::time::utc_timestamp(set.created),
                secret_length: set.secret_len,
                set_commitment: hex::encode(set.commitment),
                share_commitment: hex::encode(s.commitment()),
            }
        }
        Piece::Encrypted { message, target } => Description::Encrypted {
            origin,
            recipients: crate::openpgp::decrypt::recipients(&message)
                .map(|r| r.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            target: target.map(|t| t.name()),
        },
        Piece::VaultKey { bytes, target } => Description::VaultKey {
            origin,
            length: bytes.len(),
            x_if_share: Scheme::Vault.parse_share_bytes(bytes.expose(), false).map(|p| p.x).ok(),
            target: target.map(|t| t.name()),
        },
    }
}

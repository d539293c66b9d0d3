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
    Encrypted {
        origin: String,
        recipients: Vec<String>,
        target: Option<&'static str>,
        /// Which share of the manifest given it is, by the keys it is encrypted to.
        #[serde(skip_serializing_if = "Option::is_none")]
        manifest: Option<InManifest>,
    },
    /// A bare Vault key: no set id, threshold or label.
    #[serde(rename = "vault-key")]
    VaultKey { origin: String, length: usize, x_if_share: Option<u8>, target: Option<&'static str> },
}

/// An encrypted share as the manifest lists it (by the keys it is encrypted to; not checked
/// against its commitment, which needs it decrypted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InManifest {
    pub set_id_short: String,
    pub index: u8,
    pub custodian: Option<String>,
    pub threshold: u8,
    pub share_count: u8,
}

/// `inspect --json`'s document.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub schema_version: u32,
    pub shares: Vec<Description>,
}

/// Describes one input; an encrypted one is looked up in `manifest` by its recipients.
pub fn describe(candidate: Candidate, manifest: Option<&crate::manifest::Manifest>) -> Description {
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
        Piece::Encrypted { message, target } => {
            let handles = crate::openpgp::decrypt::recipients(&message).unwrap_or_default();
            let entry = manifest.and_then(|m| m.entry_for_recipients(&handles).map(|e| (m, e)));
            Description::Encrypted {
                origin,
                recipients: handles.iter().map(ToString::to_string).collect(),
                target: target.map(|t| t.name()),
                manifest: entry.map(|(m, e)| InManifest {
                    set_id_short: m.set.id.short(),
                    index: e.index,
                    custodian: e.custodian.clone(),
                    threshold: m.set.threshold,
                    share_count: m.set.count,
                }),
            }
        }
        Piece::VaultKey { bytes, target } => Description::VaultKey {
            origin,
            length: bytes.len(),
            x_if_share: Scheme::Vault.parse_share_bytes(bytes.expose(), false).map(|p| p.x).ok(),
            target: target.map(|t| t.name()),
        },
    }
}

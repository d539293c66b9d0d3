//! The public manifest written next to a share set: what the set is and how each share can be
//! checked, with nothing secret in it. Schema in `docs/FORMAT.md` ("Manifest").

use crate::commitment::{self, Commitment};
use crate::shamir::Scheme;
use crate::share::{Label, SET_ID_LEN, SetId, SetInfo, Share, Target};
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "symbolon-manifest";
pub const SCHEMA_VERSION: u32 = 1;
pub const FILE_NAME: &str = "manifest.json";

/// How the share files of a set are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShareFormat {
    /// Share format v1 in its text form (`docs/FORMAT.md`).
    SymbolonV1,
    /// Vault's bare key, lower-case hex (as `unseal_keys_hex`).
    VaultHex,
    /// Vault's bare key, standard base64 (as `unseal_keys_b64`).
    VaultBase64,
    /// Vault's `-pgp-keys` form: standard base64 of a binary OpenPGP message whose plaintext is
    /// the hex key.
    VaultPgpBase64,
}

impl ShareFormat {
    /// Whether shares travel as Vault's bare keys (with no room for a blinding piece).
    pub fn is_bare(self) -> bool {
        self != ShareFormat::SymbolonV1
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    pub schema_version: u32,
    pub set_id: String,
    pub set_id_short: String,
    pub label: String,
    pub target: String,
    pub scheme: String,
    pub threshold: u8,
    pub share_count: u8,
    pub secret_length: u32,
    pub created: String,
    pub created_unix: u64,
    pub set_commitment: String,
    pub share_format: ShareFormat,
    /// `openpgp` (each share encrypted to its custodian) or `none` (plaintext shares).
    #[serde(default = "no_encryption")]
    pub encryption: String,
    /// Why bare commitments are absent, when the share format is a bare one and they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bare_commitments_omitted: Option<String>,
    /// The set this one re-splits (`rekey`): same secret, new shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_set_id: Option<String>,
    pub shares: Vec<ManifestShare>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestShare {
    pub index: u8,
    /// Who holds the share, for encrypted sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custodian: Option<String>,
    /// Primary fingerprints of the certificates the share is encrypted to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
    /// Fingerprints of the (sub)keys the message is encrypted to (what a card must hold).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encryption_keys: Vec<String>,
    pub file: String,
    /// SHA-256 of the file, when publishing it reveals nothing (see `docs/FORMAT.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The share commitment (payload and blinding piece).
    pub commitment: String,
    /// The bare share commitment (payload only), for shares written in a bare Vault form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bare_commitment: Option<String>,
}

/// A share file as written: its name, the SHA-256 of its contents and, when it is encrypted, who
/// it is for.
#[derive(Clone, Debug, Default)]
pub struct ShareFile {
    pub name: String,
    pub sha256: [u8; 32],
    pub custodian: Option<String>,
    pub recipients: Vec<String>,
    pub encryption_keys: Vec<String>,
}

fn no_encryption() -> String {
    "none".into()
}

/// Why a manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is not valid JSON of a symbolon manifest: {0}")]
    Json(#[from] serde_json::Error),
    #[error("this is not a symbolon manifest (schema '{0}')")]
    Schema(String),
    #[error("the manifest has schema version {0}, which this symbolon does not know: use a newer symbolon")]
    Version(u32),
    #[error("the manifest's field '{field}' is invalid: {why}")]
    Field { field: &'static str, why: String },
}

/// Whether the manifest can publish bare commitments for this set, and if not, why not.
fn bare_omission_reason(info: &SetInfo) -> Option<String> {
    if commitment::bare_commitment_is_safe(info.threshold.into(), info.secret_len as usize) {
        None
    } else if info.threshold < 2 {
        Some(
            "threshold 1: each share is the secret itself, and a hash of it could be used to guess a weak secret"
                .into(),
        )
    } else {
        Some("secret shorter than 16 bytes: a hash of a share this short could be reversed by guessing".into())
    }
}

impl Manifest {
    /// The manifest of a freshly written set. `files[i]` is the file written for `shares[i]`.
    pub fn new(info: &SetInfo, format: ShareFormat, shares: &[Share], files: &[ShareFile]) -> Manifest {
        let bare = format.is_bare();
        let omitted = if bare { bare_omission_reason(info) } else { None };
        let encrypted = files.iter().any(|f| f.custodian.is_some());
        // A file's hash is public-safe when the file is ciphertext, when its contents hold a
        // blinding piece (v1 text), or when its payload is safe to commit to bare.
        let publish_hash = encrypted || !bare || omitted.is_none();
        Manifest {
            schema: SCHEMA.into(),
            schema_version: SCHEMA_VERSION,
            set_id: info.id.to_string(),
            set_id_short: info.id.short(),
            label: info.label.to_string(),
            target: info.target.name().into(),
            scheme: info.scheme.name().into(),
            threshold: info.threshold,
            share_count: info.count,
            secret_length: info.secret_len,
            created: crate::time::utc_timestamp(info.created),
            created_unix: info.created,
            set_commitment: hex::encode(info.commitment),
            share_format: format,
            encryption: if encrypted { "openpgp".into() } else { no_encryption() },
            shares: shares
                .iter()
                .zip(files)
                .map(|(share, file)| ManifestShare {
                    index: share.index,
                    custodian: file.custodian.clone(),
                    recipients: file.recipients.clone(),
                    encryption_keys: file.encryption_keys.clone(),
                    file: file.name.clone(),
                    sha256: publish_hash.then(|| hex::encode(file.sha256)),
                    commitment: hex::encode(share.commitment()),
                    bare_commitment: (bare && omitted.is_none())
                        .then(|| hex::encode(commitment::bare_share_commitment(&info.id.0, share.payload.expose()))),
                })
                .collect(),
            bare_commitments_omitted: omitted,
            previous_set_id: None,
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn from_json(text: &str) -> Result<Manifest, ManifestError> {
        let m: Manifest = serde_json::from_str(text)?;
        if m.schema != SCHEMA {
            return Err(ManifestError::Schema(m.schema));
        }
        if m.schema_version != SCHEMA_VERSION {
            return Err(ManifestError::Version(m.schema_version));
        }
        m.set_info()?;
        m.check_fields()?;
        Ok(m)
    }

    /// Every other field, checked once at parse time: a malformed one is named, none is skipped.
    fn check_fields(&self) -> Result<(), ManifestError> {
        let bad = |field: &'static str, why: String| ManifestError::Field { field, why };
        if !matches!(self.encryption.as_str(), "openpgp" | "none") {
            return Err(bad("encryption", format!("'{}' is neither openpgp nor none", self.encryption)));
        }
        if !self.set_id.starts_with(&self.set_id_short) || self.set_id_short.is_empty() {
            return Err(bad("set_id_short", "is not the beginning of set_id".into()));
        }
        if self.shares.len() != usize::from(self.share_count) {
            return Err(bad(
                "shares",
                format!("lists {} shares, share_count says {}", self.shares.len(), self.share_count),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for entry in &self.shares {
            if entry.index == 0 || !seen.insert(entry.index) {
                return Err(bad("shares[].index", format!("index {} is zero or listed twice", entry.index)));
            }
            if decode_hex::<32>(&entry.commitment).is_none() {
                return Err(bad("shares[].commitment", format!("share {}: expected 64 hex digits", entry.index)));
            }
            for (field, value) in
                [("shares[].bare_commitment", &entry.bare_commitment), ("shares[].sha256", &entry.sha256)]
            {
                if value.as_deref().is_some_and(|v| decode_hex::<32>(v).is_none()) {
                    return Err(bad(field, format!("share {}: expected 64 hex digits", entry.index)));
                }
            }
            if entry.file.is_empty() || entry.file.contains('/') || entry.file.starts_with('.') {
                return Err(bad(
                    "shares[].file",
                    format!("share {}: '{}' is not a plain file name", entry.index, entry.file),
                ));
            }
        }
        Ok(())
    }

    /// What the secret unlocks (checked at parse time).
    pub fn target(&self) -> Target {
        self.target.parse().unwrap_or(Target::Generic)
    }

    /// Whether the shares are encrypted to custodians (checked at parse time).
    pub fn is_encrypted(&self) -> bool {
        self.encryption == "openpgp"
    }

    /// The set information the manifest describes, as its shares carry it.
    pub fn set_info(&self) -> Result<SetInfo, ManifestError> {
        let bad = |field: &'static str, why: &str| ManifestError::Field { field, why: why.to_string() };
        let id: [u8; SET_ID_LEN] = decode_hex(&self.set_id).ok_or_else(|| bad("set_id", "expected 32 hex digits"))?;
        let scheme: Scheme =
            self.scheme.parse().map_err(|e: crate::names::UnknownName| bad("scheme", &e.to_string()))?;
        let target: Target =
            self.target.parse().map_err(|e: crate::names::UnknownName| bad("target", &e.to_string()))?;
        let label = Label::new(&self.label).map_err(|e| bad("label", &e.to_string()))?;
        let commitment: Commitment =
            decode_hex(&self.set_commitment).ok_or_else(|| bad("set_commitment", "expected 64 hex digits"))?;
        scheme
            .check_parameters(self.threshold.into(), self.share_count.into())
            .map_err(|e| bad("threshold", &e.to_string()))?;
        Ok(SetInfo {
            id: SetId(id),
            scheme,
            threshold: self.threshold,
            count: self.share_count,
            target,
            created: self.created_unix,
            label,
            secret_len: self.secret_length,
            commitment,
        })
    }

    /// The manifest entry of share `index`.
    pub fn entry(&self, index: u8) -> Option<&ManifestShare> {
        self.shares.iter().find(|s| s.index == index)
    }

    /// Checks a share against its entry: `Some(true)` matches, `Some(false)` does not, `None` when
    /// the manifest has no entry for it.
    pub fn check_share(&self, share: &Share) -> Option<bool> {
        let entry = self.entry(share.index)?;
        Some(crate::secret::ct_eq(entry.commitment.as_bytes(), hex::encode(share.commitment()).as_bytes()))
    }

    /// The index of the share whose bare commitment matches this bare Vault key, if any.
    pub fn find_bare(&self, set_id: &SetId, payload: &[u8]) -> Option<u8> {
        let got = hex::encode(commitment::bare_share_commitment(&set_id.0, payload));
        self.shares.iter().find_map(|entry| {
            let want = entry.bare_commitment.as_ref()?;
            crate::secret::ct_eq(want.as_bytes(), got.as_bytes()).then_some(entry.index)
        })
    }

    /// The entry of the share whose recipients include one of `recipients` (the key handles an
    /// encrypted share names).
    pub fn entry_for_recipients(&self, recipients: &[sequoia_openpgp::KeyHandle]) -> Option<&ManifestShare> {
        self.shares.iter().find(|entry| {
            entry.encryption_keys.iter().chain(&entry.recipients).any(|fpr| {
                fpr.parse::<sequoia_openpgp::Fingerprint>()
                    .is_ok_and(|f| recipients.iter().any(|r| sequoia_openpgp::KeyHandle::from(&f).aliases(r)))
            })
        })
    }

    /// Whether the manifest carries bare commitments.
    pub fn has_bare_commitments(&self) -> bool {
        self.shares.iter().any(|s| s.bare_commitment.is_some())
    }
}

fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}

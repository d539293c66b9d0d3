//! The public manifest written next to a share set: what the set is and how each share can be
//! checked, with nothing secret in it. Schema in `docs/FORMAT.md` ("Manifest").

use crate::commitment::{self, Commitment};
use crate::names::UnknownName;
use crate::openpgp::certs::hex_all;
use crate::shamir::Scheme;
use crate::share::{Label, SET_ID_LEN, SetId, SetInfo, Share, Target};
use sequoia_openpgp::{Fingerprint, KeyHandle};
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

/// Whether the shares of a set are encrypted to custodians.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    /// Each share is encrypted to its custodian's OpenPGP certificate(s).
    Openpgp,
    /// Plaintext shares.
    None,
}

/// A manifest, parsed once and typed: every field checked when it was read
/// ([`Manifest::from_json`]), so no caller parses a field again or compares ids as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The set's id, scheme, threshold, count, target, creation time, label, secret length and
    /// set commitment, as its shares carry them.
    pub set: SetInfo,
    /// The creation time as written (UTC, for people).
    pub created: String,
    pub share_format: ShareFormat,
    pub encryption: Encryption,
    /// Why bare commitments are absent, when the share format is a bare one and they are.
    pub bare_commitments_omitted: Option<String>,
    /// The set this one re-splits (`rekey`): same secret, new shares.
    pub previous_set_id: Option<SetId>,
    pub shares: Vec<ManifestShare>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestShare {
    pub index: u8,
    /// Who holds the share, for encrypted sets.
    pub custodian: Option<String>,
    /// Primary fingerprints of the certificates the share is encrypted to.
    pub recipients: Vec<Fingerprint>,
    /// Fingerprints of the (sub)keys the message is encrypted to (what a card must hold).
    pub encryption_keys: Vec<Fingerprint>,
    /// A plain file name in the set's directory.
    pub file: String,
    /// SHA-256 of the file, when publishing it reveals nothing (see `docs/FORMAT.md`).
    pub sha256: Option<[u8; 32]>,
    /// The share commitment (payload and blinding piece).
    pub commitment: Commitment,
    /// The bare share commitment (payload only), for shares written in a bare Vault form.
    pub bare_commitment: Option<Commitment>,
}

/// The manifest as JSON holds it (`docs/FORMAT.md`): text and numbers, converted to and from
/// [`Manifest`] field by field, so a malformed field is named.
#[derive(Serialize, Deserialize)]
struct Raw {
    schema: String,
    schema_version: u32,
    set_id: String,
    set_id_short: String,
    label: String,
    target: String,
    scheme: String,
    threshold: u8,
    share_count: u8,
    secret_length: u32,
    created: String,
    created_unix: u64,
    set_commitment: String,
    share_format: ShareFormat,
    #[serde(default = "no_encryption")]
    encryption: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bare_commitments_omitted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_set_id: Option<String>,
    shares: Vec<RawShare>,
}

#[derive(Serialize, Deserialize)]
struct RawShare {
    index: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    custodian: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    recipients: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    encryption_keys: Vec<String>,
    file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    commitment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bare_commitment: Option<String>,
}

/// A share file as written: its name, the SHA-256 of its contents and, when it is encrypted, who
/// it is for.
#[derive(Clone, Debug, Default)]
pub struct ShareFile {
    pub name: String,
    pub sha256: [u8; 32],
    pub custodian: Option<String>,
    pub recipients: Vec<Fingerprint>,
    pub encryption_keys: Vec<Fingerprint>,
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
            set: info.clone(),
            created: crate::time::utc_timestamp(info.created),
            share_format: format,
            encryption: if encrypted { Encryption::Openpgp } else { Encryption::None },
            shares: shares
                .iter()
                .zip(files)
                .map(|(share, file)| ManifestShare {
                    index: share.index,
                    custodian: file.custodian.clone(),
                    recipients: file.recipients.clone(),
                    encryption_keys: file.encryption_keys.clone(),
                    file: file.name.clone(),
                    sha256: publish_hash.then_some(file.sha256),
                    commitment: share.commitment(),
                    bare_commitment: (bare && omitted.is_none())
                        .then(|| commitment::bare_share_commitment(&info.id.0, share.payload.expose())),
                })
                .collect(),
            bare_commitments_omitted: omitted,
            previous_set_id: None,
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        let mut text = serde_json::to_string_pretty(&self.raw()).unwrap_or_default();
        text.push('\n');
        text
    }

    fn raw(&self) -> Raw {
        let set = &self.set;
        Raw {
            schema: SCHEMA.into(),
            schema_version: SCHEMA_VERSION,
            set_id: set.id.to_string(),
            set_id_short: set.id.short(),
            label: set.label.to_string(),
            target: set.target.name().into(),
            scheme: set.scheme.name().into(),
            threshold: set.threshold,
            share_count: set.count,
            secret_length: set.secret_len,
            created: self.created.clone(),
            created_unix: set.created,
            set_commitment: hex::encode(set.commitment),
            share_format: self.share_format,
            encryption: match self.encryption {
                Encryption::Openpgp => "openpgp".into(),
                Encryption::None => no_encryption(),
            },
            bare_commitments_omitted: self.bare_commitments_omitted.clone(),
            previous_set_id: self.previous_set_id.map(|id| id.to_string()),
            shares: self
                .shares
                .iter()
                .map(|e| RawShare {
                    index: e.index,
                    custodian: e.custodian.clone(),
                    recipients: hex_all(&e.recipients),
                    encryption_keys: hex_all(&e.encryption_keys),
                    file: e.file.clone(),
                    sha256: e.sha256.map(hex::encode),
                    commitment: hex::encode(e.commitment),
                    bare_commitment: e.bare_commitment.map(hex::encode),
                })
                .collect(),
        }
    }

    /// Parses and checks every field: a malformed one is named, none is skipped.
    pub fn from_json(text: &str) -> Result<Manifest, ManifestError> {
        let raw: Raw = serde_json::from_str(text)?;
        if raw.schema != SCHEMA {
            return Err(ManifestError::Schema(raw.schema));
        }
        if raw.schema_version != SCHEMA_VERSION {
            return Err(ManifestError::Version(raw.schema_version));
        }
        let set = set_info(&raw)?;
        if raw.set_id_short.is_empty() || !raw.set_id.starts_with(&raw.set_id_short) {
            return Err(bad("set_id_short", "is not the beginning of set_id".into()));
        }
        let encryption = match raw.encryption.as_str() {
            "openpgp" => Encryption::Openpgp,
            "none" => Encryption::None,
            other => return Err(bad("encryption", format!("'{other}' is neither openpgp nor none"))),
        };
        let previous_set_id = raw
            .previous_set_id
            .as_deref()
            .map(|id| decode_hex(id).map(SetId).ok_or_else(|| bad("previous_set_id", "expected 32 hex digits".into())))
            .transpose()?;
        if raw.shares.len() != usize::from(raw.share_count) {
            return Err(bad(
                "shares",
                format!("lists {} shares, share_count says {}", raw.shares.len(), raw.share_count),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut shares = Vec::with_capacity(raw.shares.len());
        for entry in raw.shares {
            if entry.index == 0 || !seen.insert(entry.index) {
                return Err(bad("shares[].index", format!("index {} is zero or listed twice", entry.index)));
            }
            shares.push(share_entry(entry)?);
        }
        Ok(Manifest {
            set,
            created: raw.created,
            share_format: raw.share_format,
            encryption,
            bare_commitments_omitted: raw.bare_commitments_omitted,
            previous_set_id,
            shares,
        })
    }

    /// What the secret unlocks.
    pub fn target(&self) -> Target {
        self.set.target
    }

    /// The set's threshold.
    pub fn threshold(&self) -> usize {
        usize::from(self.set.threshold)
    }

    /// Whether the shares are encrypted to custodians.
    pub fn is_encrypted(&self) -> bool {
        self.encryption == Encryption::Openpgp
    }

    /// The entry of share `index`.
    pub fn entry(&self, index: u8) -> Option<&ManifestShare> {
        self.shares.iter().find(|s| s.index == index)
    }

    /// Checks a share against its entry: `Some(true)` matches, `Some(false)` does not, `None` when
    /// the manifest has no entry for it.
    pub fn check_share(&self, share: &Share) -> Option<bool> {
        let entry = self.entry(share.index)?;
        Some(crate::secret::ct_eq(&entry.commitment, &share.commitment()))
    }

    /// The index of the share whose bare commitment matches this bare Vault key, if any.
    pub fn find_bare(&self, payload: &[u8]) -> Option<u8> {
        let got = commitment::bare_share_commitment(&self.set.id.0, payload);
        self.shares.iter().find_map(|entry| {
            let want = entry.bare_commitment.as_ref()?;
            crate::secret::ct_eq(want, &got).then_some(entry.index)
        })
    }

    /// The entry of the share whose recipients include one of `recipients` (the key handles an
    /// encrypted share names).
    pub fn entry_for_recipients(&self, recipients: &[KeyHandle]) -> Option<&ManifestShare> {
        self.shares.iter().find(|entry| entry.encrypted_to_any(recipients))
    }

    /// Every entry whose recipients include one of `recipients`.
    pub fn entries_for_recipients(&self, recipients: &[KeyHandle]) -> Vec<&ManifestShare> {
        self.shares.iter().filter(|entry| entry.encrypted_to_any(recipients)).collect()
    }

    /// Whether the manifest carries bare commitments.
    pub fn has_bare_commitments(&self) -> bool {
        self.shares.iter().any(|s| s.bare_commitment.is_some())
    }
}

fn bad(field: &'static str, why: String) -> ManifestError {
    ManifestError::Field { field, why }
}

/// The set information the manifest describes, as its shares carry it.
fn set_info(raw: &Raw) -> Result<SetInfo, ManifestError> {
    let id: [u8; SET_ID_LEN] = decode_hex(&raw.set_id).ok_or_else(|| bad("set_id", "expected 32 hex digits".into()))?;
    let scheme: Scheme = raw.scheme.parse().map_err(|e: UnknownName| bad("scheme", e.to_string()))?;
    let target: Target = raw.target.parse().map_err(|e: UnknownName| bad("target", e.to_string()))?;
    let label = Label::new(&raw.label).map_err(|e| bad("label", e.to_string()))?;
    let commitment: Commitment =
        decode_hex(&raw.set_commitment).ok_or_else(|| bad("set_commitment", "expected 64 hex digits".into()))?;
    scheme
        .check_parameters(raw.threshold.into(), raw.share_count.into())
        .map_err(|e| bad("threshold", e.to_string()))?;
    Ok(SetInfo {
        id: SetId(id),
        scheme,
        threshold: raw.threshold,
        count: raw.share_count,
        target,
        created: raw.created_unix,
        label,
        secret_len: raw.secret_length,
        commitment,
    })
}

/// One share's entry, every field checked.
impl ManifestShare {
    /// The keys this share is encrypted to: its encryption subkeys and its recipients.
    pub fn key_handles(&self) -> Vec<KeyHandle> {
        self.encryption_keys.iter().chain(&self.recipients).map(KeyHandle::from).collect()
    }

    /// Whether this share is encrypted to one of `recipients` (key handles a message names).
    pub fn encrypted_to_any(&self, recipients: &[KeyHandle]) -> bool {
        self.key_handles().iter().any(|k| recipients.iter().any(|r| k.aliases(r)))
    }
}

fn share_entry(raw: RawShare) -> Result<ManifestShare, ManifestError> {
    let index = raw.index;
    let digest = |field: &'static str, value: &str| {
        decode_hex::<32>(value).ok_or_else(|| bad(field, format!("share {index}: expected 64 hex digits")))
    };
    let fingerprints = |field: &'static str, list: &[String]| {
        list.iter()
            .map(|f| {
                f.parse::<Fingerprint>().ok().filter(|fpr| !matches!(fpr, Fingerprint::Unknown { .. })).ok_or_else(
                    || bad(field, format!("share {index}: '{}' is not a key fingerprint", crate::sanitize(f))),
                )
            })
            .collect::<Result<Vec<_>, _>>()
    };
    if raw.file.is_empty() || raw.file.contains('/') || raw.file.starts_with('.') {
        return Err(bad(
            "shares[].file",
            format!("share {index}: '{}' is not a plain file name", crate::sanitize(&raw.file)),
        ));
    }
    Ok(ManifestShare {
        index,
        commitment: digest("shares[].commitment", &raw.commitment)?,
        bare_commitment: raw.bare_commitment.as_deref().map(|v| digest("shares[].bare_commitment", v)).transpose()?,
        sha256: raw.sha256.as_deref().map(|v| digest("shares[].sha256", v)).transpose()?,
        recipients: fingerprints("shares[].recipients", &raw.recipients)?,
        encryption_keys: fingerprints("shares[].encryption_keys", &raw.encryption_keys)?,
        custodian: raw.custodian,
        file: raw.file,
    })
}

fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretBytes;
    use crate::split::{SplitPlan, split_secret};

    fn manifest(format: ShareFormat, scheme: Scheme) -> Manifest {
        let plan = SplitPlan {
            scheme,
            threshold: 2,
            shares: 3,
            target: Target::Unseal,
            label: Label::new("prod").unwrap(),
            created: Some(1_700_000_000),
        };
        let set = split_secret(&SecretBytes::new(vec![7; 32]), &plan, &mut crate::rng::os_rng().unwrap()).unwrap();
        let fpr: Fingerprint = "0123456789ABCDEF0123456789ABCDEF01234567".parse().unwrap();
        let files: Vec<ShareFile> = (1..=3)
            .map(|i| ShareFile {
                name: format!("0{i}-c{i}.asc"),
                sha256: [i; 32],
                custodian: Some(format!("c{i}")),
                recipients: vec![fpr.clone()],
                encryption_keys: vec![fpr.clone()],
            })
            .collect();
        Manifest::new(&set.info, format, &set.shares, &files)
    }

    /// Parsed and written again, a manifest is the same value and the same bytes.
    #[test]
    fn the_json_round_trips_to_the_same_bytes() {
        for (format, scheme) in
            [(ShareFormat::SymbolonV1, Scheme::Native), (ShareFormat::VaultPgpBase64, Scheme::Vault)]
        {
            let mut m = manifest(format, scheme);
            m.previous_set_id = Some(SetId([9; SET_ID_LEN]));
            let text = m.to_json();
            let parsed = Manifest::from_json(&text).unwrap();
            assert_eq!(parsed, m);
            assert_eq!(parsed.to_json(), text);
        }
    }

    /// Every malformed field is refused with its name; none is skipped.
    #[test]
    fn a_malformed_field_is_named() {
        let text = manifest(ShareFormat::VaultPgpBase64, Scheme::Vault).to_json();
        let cases: &[(&str, serde_json::Value, &str)] = &[
            ("/set_id", "00".into(), "set_id"),
            ("/set_id_short", "ffff".into(), "set_id_short"),
            ("/scheme", "shamir".into(), "scheme"),
            ("/target", "root".into(), "target"),
            ("/set_commitment", "xyz".into(), "set_commitment"),
            ("/threshold", 9.into(), "threshold"),
            ("/encryption", "aes".into(), "encryption"),
            ("/previous_set_id", "00".into(), "previous_set_id"),
            ("/share_count", 4.into(), "shares"),
            ("/shares/1/index", 1.into(), "shares[].index"),
            ("/shares/1/commitment", "00".into(), "shares[].commitment"),
            ("/shares/1/bare_commitment", "00".into(), "shares[].bare_commitment"),
            ("/shares/1/sha256", "00".into(), "shares[].sha256"),
            ("/shares/1/file", "../x".into(), "shares[].file"),
            ("/shares/1/recipients/0", "not-a-key".into(), "shares[].recipients"),
            ("/shares/1/encryption_keys/0", "12".into(), "shares[].encryption_keys"),
        ];
        for (pointer, value, field) in cases {
            let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
            match v.pointer_mut(pointer) {
                Some(slot) => *slot = value.clone(),
                None => {
                    let (parent, key) = pointer.rsplit_once('/').unwrap();
                    v.pointer_mut(parent).unwrap()[key] = value.clone();
                }
            }
            match Manifest::from_json(&v.to_string()) {
                Err(ManifestError::Field { field: named, .. }) => assert_eq!(named, *field, "{pointer}"),
                other => panic!("{pointer}: {other:?}"),
            }
        }
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["schema_version"] = 2.into();
        assert!(matches!(Manifest::from_json(&v.to_string()), Err(ManifestError::Version(2))));
    }
}

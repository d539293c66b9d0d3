//! Who the shares of a new set are for, as the operator names them: custodian specs
//! `NAME=FILE[#FINGERPRINT][,FILE...]` (plain `FILE` takes the name from the certificate's primary
//! user ID), and Vault's habits: a list of certificate files (share i to key i) and a file of
//! base64 certificates (one per line). Every certificate is read and validated, in share order,
//! and two custodians may share neither a name nor a certificate.

use crate::openpgp::certs::{self, CertError, Custodian};
use std::path::{Path, PathBuf};

/// The custodians as named by the operator.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// `NAME=CERT[,CERT...]` or `CERT`, one per share in share order.
    pub specs: Vec<String>,
    /// Vault's `-pgp-keys`: one certificate file per share.
    pub vault_keys: Vec<String>,
    /// Vault's file of base64 certificates, one per line.
    pub vault_keys_file: Option<PathBuf>,
}

/// Why the custodians cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RecipientError {
    #[error("custodian '{spec}': no certificate file given")]
    NoFile { spec: String },
    #[error("an empty certificate name in a custodian's list of certificates")]
    EmptyName,
    #[error("cannot read {what} {}: {source}", path.display())]
    Unreadable {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("two custodians are named '{name}' (shares {first} and {second}): give each a distinct name")]
    SameName { name: String, stem: String, first: usize, second: usize },
    #[error(
        "certificate {fingerprint} is given for both {first_name} (share {first}) and {second_name} (share {second}): one person would hold two shares"
    )]
    SameCert { fingerprint: String, first_name: String, first: usize, second_name: String, second: usize },
    #[error(
        "the encryption key {key} is in the certificates of both {first_name} (share {first}) and {second_name} (share {second}): whoever holds that key would hold two shares. Ask each custodian for the certificate of their own token"
    )]
    SameKey { key: String, first_name: String, first: usize, second_name: String, second: usize },
    #[error(
        "certificate {fingerprint} is given twice for one custodian ({first} and {second}): list each of their tokens' certificates once"
    )]
    CertTwice { fingerprint: String, first: String, second: String },
    #[error(
        "{origin} holds {count} certificates ({list}): the operator's certificate is exactly one, whose key alone opens the recorded shares: pick it with {origin}#FINGERPRINT"
    )]
    OperatorKeyring { origin: String, count: usize, list: String },
    #[error(transparent)]
    Cert(#[from] CertError),
}

/// One certificate as named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertRef {
    File { path: PathBuf, fingerprint: Option<String> },
    Inline { origin: String, base64: String },
}

/// One custodian spec as parsed: `NAME=FILE[#FINGERPRINT][,FILE...]` or `FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub name: Option<String>,
    pub certs: Vec<CertRef>,
}

/// Parses one custodian spec, without reading any file (a spec that names an existing file is
/// that file, even when it contains '=' or '#').
pub fn parse_spec(spec: &str) -> Result<Spec, RecipientError> {
    certs::refuse_keybase(spec)?;
    let (name, list) = match spec.split_once('=') {
        Some((name, list)) if !Path::new(spec).exists() && !name.contains('/') => (Some(name.to_string()), list),
        _ => (None, spec),
    };
    let certs = list.split(',').map(file_ref).collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(RecipientError::NoFile { spec: spec.to_string() });
    }
    Ok(Spec { name, certs })
}

impl Request {
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty() && self.vault_keys.is_empty() && self.vault_keys_file.is_none()
    }

    fn parse(&self) -> Result<Vec<Spec>, RecipientError> {
        let mut specs = Vec::new();
        for spec in &self.specs {
            specs.push(parse_spec(spec)?);
        }
        for key in &self.vault_keys {
            certs::refuse_keybase(key)?;
            specs.push(Spec { name: None, certs: vec![file_ref(key)?] });
        }
        if let Some(path) = &self.vault_keys_file {
            let text = std::fs::read_to_string(path).map_err(|source| RecipientError::Unreadable {
                what: "the file",
                path: path.clone(),
                source,
            })?;
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                certs::refuse_keybase(line.trim())?;
                let origin = format!("{} line {}", path.display(), i + 1);
                specs.push(Spec {
                    name: None,
                    certs: vec![CertRef::Inline { origin, base64: line.trim().to_string() }],
                });
            }
        }
        Ok(specs)
    }

    /// How many custodians are named, without reading any certificate.
    pub fn count(&self) -> Result<usize, RecipientError> {
        Ok(self.parse()?.len())
    }

    /// Reads and validates every custodian's certificates (on all cores), in share order.
    pub fn load(&self) -> Result<Vec<Custodian>, RecipientError> {
        let specs = self.parse()?;
        let loaded = crate::parallel::map(&specs, |i, spec| self.load_one(i, spec));
        let mut custodians: Vec<Custodian> = Vec::with_capacity(loaded.len());
        for (i, custodian) in loaded.into_iter().enumerate() {
            let custodian = custodian?;
            if let Some(first) = custodians.iter().position(|c| c.file_stem() == custodian.file_stem()) {
                return Err(RecipientError::SameName {
                    name: custodians[first].name.clone(),
                    stem: custodian.file_stem(),
                    first: first + 1,
                    second: i + 1,
                });
            }
            for (j, other) in custodians.iter().enumerate() {
                if let Some(fpr) = other.fingerprints().into_iter().find(|f| custodian.fingerprints().contains(f)) {
                    return Err(RecipientError::SameCert {
                        fingerprint: fpr.to_hex(),
                        first_name: other.name.clone(),
                        first: j + 1,
                        second_name: custodian.name.clone(),
                        second: i + 1,
                    });
                }
                // Two certificates may bind one encryption key (a certificate can bind anyone's
                // subkey, with any creation time): the key material decides who can read a share,
                // so it is compared too.
                let theirs = custodian.encryption_material();
                if let Some((key, _)) =
                    other.encryption_material().into_iter().find(|(_, m)| theirs.iter().any(|(_, t)| t == m))
                {
                    return Err(RecipientError::SameKey {
                        key: key.to_hex(),
                        first_name: other.name.clone(),
                        first: j + 1,
                        second_name: custodian.name.clone(),
                        second: i + 1,
                    });
                }
            }
            custodians.push(custodian);
        }
        Ok(custodians)
    }

    /// Reads and validates the certificates of custodian `i`.
    fn load_one(&self, i: usize, spec: &Spec) -> Result<Custodian, RecipientError> {
        let mut certs: Vec<(String, sequoia_openpgp::Cert)> = Vec::new();
        let mut refs: Vec<(String, sequoia_openpgp::Cert)> = Vec::new();
        for cert_ref in &spec.certs {
            match cert_ref {
                CertRef::File { path, fingerprint } => {
                    let origin = path.display().to_string();
                    let bytes = std::fs::read(path).map_err(|source| RecipientError::Unreadable {
                        what: "certificate",
                        path: path.clone(),
                        source,
                    })?;
                    let found = certs::read_certs(&origin, &bytes)?;
                    // FILE#all: every certificate in it, one custodian's several tokens.
                    if fingerprint.as_deref().is_some_and(|f| f.eq_ignore_ascii_case("all")) {
                        refs.extend(found.into_iter().map(|c| (origin.clone(), c)));
                    } else {
                        refs.push((origin.clone(), certs::select(&origin, found, fingerprint.as_deref())?));
                    }
                }
                CertRef::Inline { origin, base64 } => {
                    let found = certs::read_certs(origin, base64.as_bytes())?;
                    refs.push((origin.clone(), certs::select(origin, found, None)?));
                }
            }
        }
        for (origin, cert) in refs {
            // Validate before anything else is derived from the certificate (e.g. its name).
            certs::validate(&origin, &cert)?;
            if let Some((first, _)) = certs.iter().find(|(_, c)| c.fingerprint() == cert.fingerprint()) {
                return Err(RecipientError::CertTwice {
                    fingerprint: cert.fingerprint().to_hex(),
                    first: first.clone(),
                    second: origin,
                });
            }
            certs.push((origin, cert));
        }
        let name = match &spec.name {
            Some(name) => name.clone(),
            // Vault's forms name no one: a key without a user ID is "key-N".
            None => match certs::primary_name(&certs[0].1) {
                Some(name) => name,
                None if self.specs.is_empty() => format!("key-{}", i + 1),
                None => return Err(CertError::NoUserId { origin: certs[0].0.clone() }.into()),
            },
        };
        Ok(Custodian::new(&name, certs)?)
    }
}

fn file_ref(text: &str) -> Result<CertRef, RecipientError> {
    let (path, fingerprint) = file_and_fingerprint(text)?;
    Ok(CertRef::File { path, fingerprint })
}

/// `FILE` or `FILE#FINGERPRINT` (a file that exists under the whole name is that file).
fn file_and_fingerprint(text: &str) -> Result<(PathBuf, Option<String>), RecipientError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(RecipientError::EmptyName);
    }
    Ok(match text.rsplit_once('#') {
        Some((path, fpr)) if !Path::new(text).exists() => (PathBuf::from(path), Some(fpr.to_string())),
        _ => (PathBuf::from(text), None),
    })
}

/// A staged ceremony's operator: exactly ONE certificate, `FILE` or `FILE#FINGERPRINT` to pick
/// one from a keyring (a keyring is never taken whole: every key in it would open the recorded
/// shares).
pub fn operator(spec: &str) -> Result<Custodian, RecipientError> {
    certs::refuse_keybase(spec)?;
    let (path, fingerprint) = file_and_fingerprint(spec)?;
    let bytes = std::fs::read(&path).map_err(|source| RecipientError::Unreadable {
        what: "the operator's certificate",
        path: path.clone(),
        source,
    })?;
    let origin = path.display().to_string();
    let found = certs::read_certs(&origin, &bytes)?;
    if fingerprint.is_none() && found.len() > 1 {
        let list = found.iter().map(|c| c.fingerprint().to_hex()).collect::<Vec<_>>().join(", ");
        return Err(RecipientError::OperatorKeyring { origin, count: found.len(), list });
    }
    let cert = certs::select(&origin, found, fingerprint.as_deref())?;
    Ok(Custodian::new("operator", vec![(origin, cert)])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sequoia_openpgp::Packet;
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::packet::signature::SignatureBuilder;
    use sequoia_openpgp::serialize::SerializeInto;
    use sequoia_openpgp::types::{KeyFlags, SignatureType};

    /// A certificate of mallory's own that binds alice's encryption subkey: two custodians by
    /// their primary keys, one person by the key that opens the shares.
    #[test]
    fn a_certificate_that_binds_another_custodians_encryption_key_is_refused() {
        let dir = std::env::temp_dir().join(format!("symbolon-recipients-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (alice, _) = CertBuilder::general_purpose(Some("alice <alice@example.org>"))
            .set_cipher_suite(CipherSuite::Cv25519)
            .generate()
            .unwrap();
        let (mallory, _) = CertBuilder::new()
            .add_userid("mallory <mallory@example.org>")
            .set_cipher_suite(CipherSuite::Cv25519)
            .generate()
            .unwrap();
        let policy = sequoia_openpgp::policy::StandardPolicy::new();
        let subkey = alice
            .keys()
            .with_policy(&policy, None)
            .for_transport_encryption()
            .next()
            .unwrap()
            .key()
            .clone()
            .role_into_subordinate();
        // Bound with another creation time: another fingerprint, the same key material.
        let mut subkey = subkey;
        let earlier = subkey.creation_time() - std::time::Duration::from_secs(3600);
        subkey.set_creation_time(earlier).unwrap();
        assert_ne!(
            subkey.fingerprint(),
            alice.keys().with_policy(&policy, None).for_transport_encryption().next().unwrap().key().fingerprint()
        );
        let mut signer = mallory.primary_key().key().clone().parts_into_secret().unwrap().into_keypair().unwrap();
        let binding = SignatureBuilder::new(SignatureType::SubkeyBinding)
            .set_key_flags(KeyFlags::empty().set_transport_encryption().set_storage_encryption())
            .unwrap();
        let sig = subkey.bind(&mut signer, &mallory, binding).unwrap();
        let subkey: Packet = subkey.into();
        let (mallory, _) = mallory.insert_packets(vec![subkey, sig.into()]).unwrap();
        std::fs::write(dir.join("alice.asc"), alice.armored().to_vec().unwrap()).unwrap();
        std::fs::write(dir.join("mallory.asc"), mallory.armored().to_vec().unwrap()).unwrap();
        let request = Request {
            specs: vec![
                format!("alice={}", dir.join("alice.asc").display()),
                format!("mallory={}", dir.join("mallory.asc").display()),
            ],
            ..Request::default()
        };
        let err = request.load().unwrap_err();
        assert!(matches!(err, RecipientError::SameKey { first: 1, second: 2, .. }), "{err}");
        assert!(err.to_string().contains("whoever holds that key would hold two shares"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

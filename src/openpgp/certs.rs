//! Recipient certificates: read in every encoding people have, and validated before any secret is
//! read or any card is touched.
//!
//! Accepted: ASCII-armored, binary, and base64 of binary (`gpg --export KEY | base64`, what Vault's
//! `-pgp-keys` takes); keyrings holding several certificates (pick one with `FILE#FINGERPRINT`).

use super::policy;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sequoia_openpgp::cert::prelude::*;
use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::types::RevocationStatus;
use sequoia_openpgp::{Cert, Fingerprint};
use std::time::SystemTime;

/// A custodian: a name and the certificates their share is encrypted to (e.g. a main token and a
/// backup token). Built only through [`Custodian::new`], which validates every certificate.
#[derive(Clone, Debug)]
pub struct Custodian {
    pub name: String,
    certs: Vec<Cert>,
}

impl Custodian {
    /// Validates `certs` (each with the place it came from) for encryption now.
    pub fn new(name: &str, certs: Vec<(String, Cert)>) -> Result<Custodian, CertError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || name.contains('/') || crate::sanitize::needs_escaping(name) {
            return Err(CertError::BadName { name: name.to_string() });
        }
        if certs.is_empty() {
            return Err(CertError::NoCerts { name: name.to_string() });
        }
        for (origin, cert) in &certs {
            validate(origin, cert)?;
        }
        Ok(Custodian { name: name.to_string(), certs: certs.into_iter().map(|(_, c)| c).collect() })
    }

    pub fn certs(&self) -> &[Cert] {
        &self.certs
    }

    /// Primary fingerprints of the custodian's certificates.
    pub fn fingerprints(&self) -> Vec<Fingerprint> {
        self.certs.iter().map(Cert::fingerprint).collect()
    }

    /// Fingerprints of the (sub)keys a message to this custodian is encrypted to.
    pub fn encryption_keys(&self) -> Vec<Fingerprint> {
        self.certs.iter().flat_map(encryption_keys).collect()
    }

    /// The public key material of those (sub)keys, with the fingerprint of each: one key bound
    /// with another creation time has another fingerprint, but the same material.
    pub fn encryption_material(&self) -> Vec<(Fingerprint, sequoia_openpgp::crypto::mpi::PublicKey)> {
        let p = policy();
        let mut out = Vec::new();
        for cert in &self.certs {
            let Ok(vc) = cert.with_policy(&p, None) else { continue };
            for k in vc.keys().supported().alive().revoked(false).for_transport_encryption() {
                out.push((k.key().fingerprint(), k.key().mpis().clone()));
            }
            for k in vc.keys().supported().alive().revoked(false).for_storage_encryption() {
                out.push((k.key().fingerprint(), k.key().mpis().clone()));
            }
        }
        out
    }

    /// A name for files: letters, digits, '-', '_' and '.', others replaced by '_'.
    pub fn file_stem(&self) -> String {
        self.name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
    }
}

/// Why a certificate cannot be used as a recipient.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error(
        "{origin}: no OpenPGP certificate found (expected an armored, binary or base64-encoded public key, e.g. from `gpg --export --armor KEY`)"
    )]
    Unreadable { origin: String },
    #[error(
        "{origin} holds SECRET key material: give the public certificate only (`gpg --export`, not `--export-secret-keys`)"
    )]
    SecretKey { origin: String },
    #[error(
        "{origin} holds {count} certificates ({list}): pick one with {origin}#FINGERPRINT, or, if they are all one custodian's tokens, take every one with {origin}#all"
    )]
    Ambiguous { origin: String, count: usize, list: String },
    #[error("{origin} holds no certificate with fingerprint {fingerprint}")]
    NotFound { origin: String, fingerprint: String },
    #[error(
        "'{spec}' cannot be fetched: symbolon runs offline. Export the key where it is and bring the file: `keybase pgp export -q {name} > {name}.asc` or `gpg --export {name} | base64 -w0 > {name}.b64`"
    )]
    Keybase { spec: String, name: String },
    #[error(
        "{origin}: certificate {fingerprint} is not valid under the standard policy ({why}): generate or export a current key"
    )]
    Invalid { origin: String, fingerprint: String, why: String },
    #[error(
        "{origin}: certificate {fingerprint} has expired{when}: extend its expiry (`gpg --quick-set-expire`) and export it again"
    )]
    Expired { origin: String, fingerprint: String, when: String },
    #[error("{origin}: certificate {fingerprint} is revoked: ask the custodian for their current key")]
    Revoked { origin: String, fingerprint: String },
    #[error(
        "{origin}: certificate {fingerprint} has no usable encryption key ({why}): add an encryption subkey (`gpg --quick-add-key FPR cv25519 encr`) and export it again"
    )]
    NoEncryptionKey { origin: String, fingerprint: String, why: String },
    #[error(
        "'{}' is not a usable custodian name: use up to 64 characters, no '/', control characters or invisible format characters (bidirectional overrides, zero-width characters); name the custodian yourself when their certificate's user ID has them",
        crate::sanitize(name)
    )]
    BadName { name: String },
    #[error("custodian '{name}' has no certificate")]
    NoCerts { name: String },
    #[error("{origin}: the certificate has no user ID to name its custodian by: name it, as NAME={origin}")]
    NoUserId { origin: String },
}

/// Reads every certificate in `bytes`: armored, binary or base64 of binary, one or several.
pub fn read_certs(origin: &str, bytes: &[u8]) -> Result<Vec<Cert>, CertError> {
    let unreadable = || CertError::Unreadable { origin: origin.to_string() };
    let parse = |data: &[u8]| -> Option<Vec<Cert>> {
        let certs: Vec<Cert> = CertParser::from_bytes(data).ok()?.collect::<Result<_, _>>().ok()?;
        (!certs.is_empty()).then_some(certs)
    };
    let certs = match parse(bytes) {
        Some(certs) => certs,
        None => {
            let text: String = std::str::from_utf8(bytes).map_err(|_| unreadable())?.split_whitespace().collect();
            let decoded = STANDARD.decode(text.as_bytes()).map_err(|_| unreadable())?;
            parse(&decoded).ok_or_else(unreadable)?
        }
    };
    if certs.iter().any(Cert::is_tsk) {
        return Err(CertError::SecretKey { origin: origin.to_string() });
    }
    Ok(certs)
}

/// Picks the one certificate of `certs`, or the one whose primary fingerprint (or the fingerprint
/// of one of its subkeys) is `fingerprint`.
pub fn select(origin: &str, certs: Vec<Cert>, fingerprint: Option<&str>) -> Result<Cert, CertError> {
    match fingerprint {
        Some(wanted) => {
            let wanted: String = wanted.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
            certs
                .into_iter()
                .find(|c| c.keys().any(|k| k.key().fingerprint().to_hex() == wanted))
                .ok_or_else(|| CertError::NotFound { origin: origin.to_string(), fingerprint: wanted })
        }
        None if certs.len() == 1 => Ok(certs.into_iter().next().expect("one certificate")), // invariant: len == 1
        None => Err(CertError::Ambiguous {
            origin: origin.to_string(),
            count: certs.len(),
            list: certs.iter().map(|c| c.fingerprint().to_hex()).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// Rejects the `keybase:NAME` form Vault accepts, which needs the network.
pub fn refuse_keybase(spec: &str) -> Result<(), CertError> {
    match spec.strip_prefix("keybase:") {
        Some(name) => Err(CertError::Keybase { spec: spec.to_string(), name: name.to_string() }),
        None => Ok(()),
    }
}

/// The name part of the certificate's primary user ID ("Alice" of "Alice <alice@example.org>"),
/// or its e-mail address.
pub fn primary_name(cert: &Cert) -> Option<String> {
    let p = policy();
    let vc = cert.with_policy(&p, None).ok()?;
    let uid = vc.primary_userid().ok()?;
    let uid = uid.userid();
    uid.name().ok().flatten().or_else(|| uid.email().ok().flatten()).map(|s| s.to_string())
}

/// A short description of a certificate for people: "FINGERPRINT (User ID)".
pub fn describe(cert: &Cert) -> String {
    let uid = cert.userids().next().map(|u| String::from_utf8_lossy(u.userid().value()).into_owned());
    match uid {
        Some(uid) => format!("{} ({})", cert.fingerprint(), crate::sanitize(&uid)),
        None => cert.fingerprint().to_string(),
    }
}

/// The (sub)keys of `cert` that can encrypt now under the standard policy (none if the
/// certificate itself is not valid).
pub fn encryption_keys(cert: &Cert) -> Vec<Fingerprint> {
    let p = policy();
    let Ok(vc) = cert.with_policy(&p, None) else { return Vec::new() };
    vc.keys()
        .supported()
        .alive()
        .revoked(false)
        .for_transport_encryption()
        .chain(vc.keys().supported().alive().revoked(false).for_storage_encryption())
        .map(|k| k.key().fingerprint())
        .fold(Vec::new(), |mut acc, f| {
            if !acc.contains(&f) {
                acc.push(f);
            }
            acc
        })
}

/// Checks that `cert` can be encrypted to now, naming the reason when it cannot.
pub fn validate(origin: &str, cert: &Cert) -> Result<(), CertError> {
    let p = policy();
    let fingerprint = cert.fingerprint().to_hex();
    let origin = origin.to_string();
    if let RevocationStatus::Revoked(_) = cert.revocation_status(&p, None) {
        return Err(CertError::Revoked { origin, fingerprint });
    }
    let vc = cert.with_policy(&p, None).map_err(|e| CertError::Invalid {
        origin: origin.clone(),
        fingerprint: fingerprint.clone(),
        why: root_cause(&e),
    })?;
    if vc.alive().is_err() {
        let when = vc.primary_key().key_expiration_time().map_or(String::new(), |t| format!(" on {}", date(t)));
        return Err(CertError::Expired { origin, fingerprint, when });
    }
    if !encryption_keys(cert).is_empty() {
        return Ok(());
    }
    // Say why there is none: expired, revoked or weak encryption subkeys, or none at all.
    let capable: Vec<_> = cert
        .keys()
        .filter(|k| {
            k.self_signatures()
                .any(|s| s.key_flags().is_some_and(|f| f.for_transport_encryption() || f.for_storage_encryption()))
        })
        .collect();
    let why = if capable.is_empty() {
        "it has only signing or authentication keys".to_string()
    } else {
        let valid: Vec<_> = vc.keys().for_transport_encryption().collect();
        let valid_storage: Vec<_> = vc.keys().for_storage_encryption().collect();
        if valid.is_empty() && valid_storage.is_empty() {
            "its encryption key uses an algorithm or signature the standard policy rejects".to_string()
        } else if vc.keys().for_transport_encryption().revoked(false).next().is_none()
            && vc.keys().for_storage_encryption().revoked(false).next().is_none()
        {
            "its encryption subkey is revoked".to_string()
        } else if vc.keys().for_transport_encryption().alive().next().is_none()
            && vc.keys().for_storage_encryption().alive().next().is_none()
        {
            let when = valid
                .iter()
                .chain(&valid_storage)
                .filter_map(|k| k.key_expiration_time())
                .max()
                .map_or(String::new(), |t| format!(" on {}", date(t)));
            format!("its encryption subkey expired{when}")
        } else {
            "its encryption key is of an algorithm this build does not support".to_string()
        }
    };
    Err(CertError::NoEncryptionKey { origin, fingerprint, why })
}

fn root_cause(e: &anyhow::Error) -> String {
    e.chain().last().map_or_else(|| e.to_string(), |c| c.to_string())
}

fn date(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    crate::time::utc_date(secs)
}

/// Upper-case hex of each fingerprint, as manifests, plans and messages show them.
pub fn hex_all(fingerprints: impl IntoIterator<Item = impl std::borrow::Borrow<Fingerprint>>) -> Vec<String> {
    fingerprints.into_iter().map(|f| f.borrow().to_hex()).collect()
}

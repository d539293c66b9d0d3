//! Who the shares are for: `--recipient NAME=FILE[#FINGERPRINT][,FILE...]` (repeatable; plain
//! `FILE` takes the name from the certificate's primary user ID), and Vault's habits:
//! `--pgp-keys a.b64,b.b64,...` (share i to key i) and `--pgp-keys-file` (one base64 key per line).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use symbolon::openpgp::certs::{self, Custodian};

#[derive(clap::Args, Default)]
pub struct RecipientArgs {
    /// A custodian: NAME=CERT[,CERT...] (several tokens of one person), or CERT alone (named by
    /// its user ID). CERT is a file (armored, binary or base64), optionally FILE#FINGERPRINT to pick
    /// one certificate from a keyring. Repeat once per share, in share order.
    #[arg(long = "recipient", value_name = "SPEC")]
    pub recipients: Vec<String>,
    /// Vault's form: comma-separated certificate files, share i encrypted to key i.
    #[arg(long, value_name = "FILES", value_delimiter = ',')]
    pub pgp_keys: Vec<String>,
    /// A file with one base64-encoded certificate per line, share i to line i.
    #[arg(long, value_name = "FILE")]
    pub pgp_keys_file: Option<PathBuf>,
}

/// One certificate as named on the command line.
enum CertRef {
    File { path: PathBuf, fingerprint: Option<String> },
    Inline { origin: String, base64: String },
}

struct Spec {
    name: Option<String>,
    certs: Vec<CertRef>,
}

impl RecipientArgs {
    pub fn is_empty(&self) -> bool {
        self.recipients.is_empty() && self.pgp_keys.is_empty() && self.pgp_keys_file.is_none()
    }

    fn specs(&self) -> Result<Vec<Spec>> {
        let mut specs = Vec::new();
        for spec in &self.recipients {
            certs::refuse_keybase(spec)?;
            let (name, list) = match spec.split_once('=') {
                Some((name, list)) if !Path::new(spec).exists() && !name.contains('/') => {
                    (Some(name.to_string()), list)
                }
                _ => (None, spec.as_str()),
            };
            let certs = list.split(',').map(file_ref).collect::<Result<Vec<_>>>()?;
            if certs.is_empty() {
                bail!("--recipient {spec}: no certificate file given");
            }
            specs.push(Spec { name, certs });
        }
        for key in &self.pgp_keys {
            certs::refuse_keybase(key)?;
            specs.push(Spec { name: None, certs: vec![file_ref(key)?] });
        }
        if let Some(path) = &self.pgp_keys_file {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
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

    /// How many custodians the arguments name, without reading any certificate.
    pub fn count(&self) -> Result<usize> {
        Ok(self.specs()?.len())
    }

    /// Reads and validates every custodian's certificates (on all cores), in share order.
    pub fn load(&self) -> Result<Vec<Custodian>> {
        let specs = self.specs()?;
        let loaded = symbolon::parallel::map(&specs, |i, spec| self.load_one(i, spec));
        let mut custodians: Vec<Custodian> = Vec::with_capacity(loaded.len());
        for (i, custodian) in loaded.into_iter().enumerate() {
            let custodian = custodian?;
            if let Some(other) = custodians.iter().find(|c| c.file_stem() == custodian.file_stem()) {
                bail!(
                    "two custodians are named '{}' (shares {} and {}): give each a distinct name, e.g. --recipient {}2=FILE",
                    other.name,
                    custodians.iter().position(|c| c.file_stem() == other.file_stem()).unwrap_or(0) + 1,
                    i + 1,
                    custodian.file_stem()
                );
            }
            for (j, other) in custodians.iter().enumerate() {
                if let Some(fpr) = other.fingerprints().into_iter().find(|f| custodian.fingerprints().contains(f)) {
                    bail!(
                        "certificate {fpr} is given for both {} (share {}) and {} (share {}): one person would hold two shares",
                        other.name,
                        j + 1,
                        custodian.name,
                        i + 1
                    );
                }
            }
            custodians.push(custodian);
        }
        Ok(custodians)
    }

    /// Reads and validates the certificates of custodian `i`.
    fn load_one(&self, i: usize, spec: &Spec) -> Result<Custodian> {
        let mut certs = Vec::new();
        for cert_ref in &spec.certs {
            let (origin, cert) = match cert_ref {
                CertRef::File { path, fingerprint } => {
                    let origin = path.display().to_string();
                    let bytes = std::fs::read(path).with_context(|| format!("cannot read certificate {origin}"))?;
                    let found = certs::read_certs(&origin, &bytes)?;
                    (origin.clone(), certs::select(&origin, found, fingerprint.as_deref())?)
                }
                CertRef::Inline { origin, base64 } => {
                    let found = certs::read_certs(origin, base64.as_bytes())?;
                    (origin.clone(), certs::select(origin, found, None)?)
                }
            };
            // Validate before anything else is derived from the certificate (e.g. its name).
            certs::validate(&origin, &cert)?;
            certs.push((origin, cert));
        }
        let name = match &spec.name {
            Some(name) => name.clone(),
            None => certs::primary_name(&certs[0].1)
                .ok_or_else(|| certs::CertError::NoUserId { origin: certs[0].0.clone() })
                .or_else(|e| if self.recipients.is_empty() { Ok(format!("key-{}", i + 1)) } else { Err(e) })?,
        };
        Ok(Custodian::new(&name, certs)?)
    }
}

fn file_ref(text: &str) -> Result<CertRef> {
    let text = text.trim();
    if text.is_empty() {
        bail!("an empty certificate name in a recipient list");
    }
    let (path, fingerprint) = match text.rsplit_once('#') {
        Some((path, fpr)) if !Path::new(text).exists() => (path, Some(fpr.to_string())),
        _ => (text, None),
    };
    Ok(CertRef::File { path: PathBuf::from(path), fingerprint })
}

//! Recipient input: a custodian spec (`NAME=FILE[#FINGERPRINT][,FILE...]`, first line) and a
//! certificate file's contents (the rest: binary or armored, one certificate or a keyring, Vault's
//! base64). A spec written back parses to the same; a certificate chosen by fingerprint is the
//! one asked for.
#![no_main]
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use symbolon::openpgp::certs;
use symbolon::recipients::{self, CertRef};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (spec, file) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let mut fingerprint = None;
    if let Ok(spec) = std::str::from_utf8(spec)
        && let Ok(parsed) = recipients::parse_spec(spec)
    {
        // Written back as a spec, it parses to the same custodian and certificates.
        let files: Vec<String> = parsed
            .certs
            .iter()
            .map(|c| match c {
                CertRef::File { path, fingerprint: None } => path.display().to_string(),
                CertRef::File { path, fingerprint: Some(f) } => format!("{}#{f}", path.display()),
                CertRef::Inline { .. } => unreachable!("a spec names files"),
            })
            .collect();
        let written = match &parsed.name {
            Some(name) => format!("{name}={}", files.join(",")),
            None => files.join(","),
        };
        assert_eq!(recipients::parse_spec(&written).ok(), Some(parsed.clone()), "{spec:?} written as {written:?}");
        if let Some(CertRef::File { fingerprint: f, .. }) = parsed.certs.first() {
            fingerprint = f.clone();
        }
    }
    let mut inputs = vec![file.to_vec()];
    if let Ok(text) = std::str::from_utf8(file)
        && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.trim())
    {
        inputs.push(bytes);
    }
    for bytes in inputs {
        let Ok(read) = certs::read_certs("fuzz", &bytes) else { continue };
        assert!(!read.is_empty(), "a file that reads holds a certificate");
        for cert in &read {
            let _ = certs::describe(cert);
            let _ = certs::validate("fuzz", cert);
        }
        if let Ok(cert) = certs::select("fuzz", read.clone(), fingerprint.as_deref()) {
            if let Some(f) = &fingerprint {
                // Fingerprints are read without their whitespace (as pasted in groups).
                let want: String = f.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
                assert!(
                    cert.keys().any(|k| k.key().fingerprint().to_hex().ends_with(&want)),
                    "the certificate chosen holds the fingerprint asked for"
                );
            }
        }
    }
});

//! Shared by the benchmarks: a work directory with 255 custodians' cv25519 certificates.

use sequoia_openpgp::cert::prelude::*;
use sequoia_openpgp::serialize::SerializeInto;
use std::path::PathBuf;

/// Creates `$TMP/symbolon-bench-<tag>-<pid>/` holding `certs/NNN.asc` for 255 fresh cv25519
/// certificates and a 32-byte `secret.bin`. Returns the directory and the `--recipient` specs.
pub fn custodians_255(tag: &str) -> (PathBuf, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("symbolon-bench-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("certs")).expect("temp dir");
    let recipients = (1..=255)
        .map(|i| {
            let (cert, _) = CertBuilder::general_purpose(Some(format!("custodian {i} <c{i}@example.org>")))
                .set_cipher_suite(CipherSuite::Cv25519)
                .generate()
                .expect("cert");
            let path = dir.join(format!("certs/{i:03}.asc"));
            std::fs::write(&path, cert.armored().to_vec().expect("armor")).expect("write cert");
            format!("c{i:03}={}", path.display())
        })
        .collect();
    std::fs::write(dir.join("secret.bin"), [0x5au8; 32]).expect("secret");
    (dir, recipients)
}

/// `split` arguments for 255 shares (k = 128) of `secret.bin` into `out`, one per recipient.
pub fn split_args(out: &str, recipients: &[String], extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> =
        ["split", "--secret-file", "secret.bin", "-n", "255", "-t", "128", "-o", out].map(String::from).to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    for r in recipients {
        args.push("--recipient".into());
        args.push(r.clone());
    }
    args
}

//! Split a 32-byte secret into 255 shares (k = 128), each encrypted to its own cv25519
//! certificate: symbolon's wall time and peak memory, side by side with a shell loop of
//! `gfsplit` + `gpg --encrypt` per share. Prints figures; asserts only that both jobs succeeded.
//! Run: `cargo bench --bench pgp255` (needs gnupg and libgfshare-bin: scripts/test installs them).

use sequoia_openpgp::cert::prelude::*;
use sequoia_openpgp::serialize::SerializeInto;
use std::process::Command;
use std::time::Instant;

fn main() {
    let dir = std::env::temp_dir().join(format!("symbolon-bench-pgp255-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("certs")).expect("temp dir");
    let t = Instant::now();
    let mut recipients = Vec::new();
    for i in 1..=255 {
        let (cert, _) = CertBuilder::general_purpose(Some(format!("custodian {i} <c{i}@example.org>")))
            .set_cipher_suite(CipherSuite::Cv25519)
            .generate()
            .expect("cert");
        let path = dir.join(format!("certs/{i:03}.asc"));
        std::fs::write(&path, cert.armored().to_vec().expect("armor")).expect("write cert");
        recipients.push(format!("c{i:03}={}", path.display()));
    }
    println!("(generated 255 cv25519 certificates in {:.2} s)", t.elapsed().as_secs_f64());
    std::fs::write(dir.join("secret.bin"), [0x5au8; 32]).expect("secret");

    // symbolon, timed by GNU time for the peak resident set.
    let mut args: Vec<String> =
        ["split", "--secret-file", "secret.bin", "-n", "255", "-t", "128", "-o", "out"].map(String::from).to_vec();
    for r in &recipients {
        args.push("--recipient".into());
        args.push(r.clone());
    }
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(env!("CARGO_BIN_EXE_symbolon"))
        .args(&args)
        .current_dir(&dir)
        .output()
        .expect("run symbolon");
    let ours = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let peak_kib: u64 =
        String::from_utf8_lossy(&out.stderr).lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0);

    // The shell loop: gfsplit, then gpg --encrypt of each share to its certificate.
    let script = r#"
        set -e
        export GNUPGHOME="$PWD/gnupg"; mkdir -m 700 -p "$GNUPGHOME"
        mkdir -p loop && cd loop
        gfsplit -m 255 -n 128 ../secret.bin share
        i=0
        for f in share.*; do
          i=$((i + 1))
          gpg --batch --quiet --trust-model always --recipient-file "../certs/$(printf %03d $i).asc" \
              --output "$f.gpg" --encrypt "$f"
        done
        gpgconf --kill all
    "#;
    let t = Instant::now();
    let status = Command::new("bash").arg("-c").arg(script).current_dir(&dir).status().expect("run the loop");
    let theirs = t.elapsed().as_secs_f64();
    assert!(status.success());

    println!("255 shares (k=128) of a 32-byte secret, each encrypted to its own cv25519 certificate:");
    println!("  symbolon split                         {ours:7.3} s   peak RSS {:.1} MiB", peak_kib as f64 / 1024.0);
    println!("  gfsplit + gpg --encrypt per share      {theirs:7.3} s");
    println!("  ratio                                  {:7.1}x faster", theirs / ours);
    let _ = std::fs::remove_dir_all(&dir);
}

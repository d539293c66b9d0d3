//! Split a 32-byte secret into 255 shares (k = 128), each encrypted to its own cv25519
//! certificate: symbolon's wall time and peak memory, side by side with a shell loop of
//! `gfsplit` + `gpg --encrypt` per share. Prints figures; asserts only that both jobs succeeded.
//! Run: `cargo bench --bench pgp255` (needs gnupg and libgfshare-bin: scripts/test installs them).

mod common;

use std::process::Command;
use std::time::Instant;

fn main() {
    let t = Instant::now();
    let (dir, recipients) = common::custodians_255("pgp255");
    println!("(generated 255 cv25519 certificates in {:.2} s)", t.elapsed().as_secs_f64());

    // symbolon, timed by GNU time for the peak resident set.
    // Encryption only: QR codes and sheets are measured by the paper benchmark.
    let args = common::split_args("out", &recipients, &["--qr", "none"]);
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M %U %S")
        .arg(env!("CARGO_BIN_EXE_symbolon"))
        .args(&args)
        .current_dir(&dir)
        .output()
        .expect("run symbolon");
    let ours = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // GNU time's last line: peak RSS (KiB), user and system CPU seconds.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let figures: Vec<&str> = stderr.lines().last().unwrap_or("").split_whitespace().collect();
    let peak_kib: u64 = figures.first().and_then(|v| v.parse().ok()).unwrap_or(0);
    let cpu =
        figures.get(1).zip(figures.get(2)).map_or(String::new(), |(u, s)| format!("   CPU {u} s user + {s} s sys"));

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
    println!(
        "  symbolon split                         {ours:7.3} s   peak RSS {:.1} MiB{cpu}",
        peak_kib as f64 / 1024.0
    );
    println!("  gfsplit + gpg --encrypt per share      {theirs:7.3} s");
    println!("  ratio                                  {:7.1}x faster", theirs / ours);
    let _ = std::fs::remove_dir_all(&dir);
}

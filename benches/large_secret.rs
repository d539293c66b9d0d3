//! A large secret end to end: `split` of a 50 MB secret into 5 shares encrypted to 5 custodians
//! with the default options (QR codes are skipped for shares this large, and said so), then
//! `combine` of 3 of them with the custodians' key files. Prints the time and the peak resident
//! memory of each (VmHWM from /proc, sampled every 10 ms while it runs); asserts only success and
//! the recovered secret. Target on the development machine (2 cores): under 30 s and 1 GB each.
//! Run: `cargo bench --bench large_secret` (SYMBOLON_BENCH_MB changes the size).

use sequoia_openpgp::cert::prelude::*;
use sequoia_openpgp::serialize::SerializeInto;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs symbolon in `dir`; returns (seconds, peak resident KiB, stderr).
fn measure(dir: &Path, args: &[String]) -> (f64, u64, String) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_symbolon"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("symbolon");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().expect("wait").is_none() {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    (start.elapsed().as_secs_f64(), peak, stderr)
}

fn main() {
    let mb: usize = std::env::var("SYMBOLON_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let dir = std::env::temp_dir().join(format!("symbolon-bench-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut secret = vec![0u8; mb * 1_000_000];
    symbolon::rng::fill_from_os(&mut secret).expect("random");
    std::fs::write(dir.join("secret.bin"), &secret).expect("secret");
    let mut split: Vec<String> =
        ["split", "--secret-file", "secret.bin", "-n", "5", "-t", "3", "-o", "set"].map(String::from).to_vec();
    let mut combine: Vec<String> = vec!["combine".into()];
    for i in 1..=5 {
        let (cert, _) = CertBuilder::general_purpose(Some(format!("c{i} <c{i}@example.org>")))
            .set_cipher_suite(CipherSuite::Cv25519)
            .generate()
            .expect("cert");
        std::fs::write(dir.join(format!("c{i}.asc")), cert.armored().to_vec().expect("armor")).expect("cert");
        std::fs::write(dir.join(format!("c{i}.key")), cert.as_tsk().armored().to_vec().expect("armor")).expect("key");
        split.extend(["--recipient".into(), format!("c{i}=c{i}.asc")]);
        if i <= 3 {
            combine.push(format!("set/0{i}-c{i}.asc"));
            combine.extend(["--key-file".into(), format!("c{i}.key")]);
        }
    }
    combine.extend(["--manifest", "set/manifest.json", "--out", "recovered.bin"].map(String::from));
    let (t, peak, stderr) = measure(&dir, &split);
    let share_bytes = std::fs::metadata(dir.join("set/01-c1.asc")).map(|m| m.len()).unwrap_or(0);
    println!("split of a {mb} MB secret, 5 shares encrypted (default options):");
    println!("  {t:.1} s, peak resident {} MB, share files of {} MB each", peak / 1024, share_bytes / 1_000_000);
    if let Some(note) = stderr.lines().find(|l| l.starts_with("note: no QR codes")) {
        println!("  {note}");
    }
    let (t, peak, _) = measure(&dir, &combine);
    assert_eq!(std::fs::read(dir.join("recovered.bin")).expect("recovered"), secret, "the secret came back");
    println!("combine of 3 of them with key files:");
    println!("  {t:.1} s, peak resident {} MB", peak / 1024);
    let _ = std::fs::remove_dir_all(&dir);
}

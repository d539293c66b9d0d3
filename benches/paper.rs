//! QR codes and paper sheets at scale: the time `split` spends writing QR PNG + SVG + PDF sheets
//! for 255 encrypted shares (split with them minus split without), and the time to decode one
//! rendered sheet image (300 dpi A4 page, as a scanner makes). Prints figures; asserts only success.
//! Run: `cargo bench --bench paper` (pdftoppm from poppler-utils renders the page).

mod common;

use std::process::Command;
use std::time::Instant;

fn split(dir: &std::path::Path, recipients: &[String], extra: &[&str], out: &str) -> f64 {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_symbolon"))
        .args(common::split_args(out, recipients, extra))
        .current_dir(dir)
        .output()
        .expect("symbolon");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    t.elapsed().as_secs_f64()
}

fn main() {
    let (dir, recipients) = common::custodians_255("paper");
    let mut plain = f64::INFINITY;
    let mut full = f64::INFINITY;
    for run in 0..3 {
        plain = plain.min(split(&dir, &recipients, &["--qr", "none"], &format!("plain{run}")));
        full = full.min(split(&dir, &recipients, &["--qr", "png,svg", "--paper"], &format!("full{run}")));
    }
    println!("255 encrypted shares (k=128), best of 3:");
    println!("  split, no QR, no paper                 {plain:7.3} s");
    println!("  split with QR PNG + SVG + PDF sheets   {full:7.3} s");
    println!("  => writing QR PNG+SVG+PDF for 255 shares: {:.3} s", full - plain);

    let rendered = Command::new("pdftoppm")
        .args(["-r", "300", "-f", "1", "-l", "1", "-png", "full0/001-c001.pdf", "page"])
        .current_dir(&dir)
        .status();
    if rendered.is_ok_and(|s| s.success()) {
        let image = std::fs::read(dir.join("page-1.png")).expect("rendered page");
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = Instant::now();
            let found = symbolon::qr::read_image("page", &image).expect("decode");
            best = best.min(t.elapsed().as_secs_f64());
            assert!(!found.is_empty());
        }
        println!("  decode one rendered sheet (300 dpi A4, {} bytes PNG): {:.0} ms", image.len(), best * 1000.0);
    } else {
        println!("  (pdftoppm not found: the decode figure needs poppler-utils)");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

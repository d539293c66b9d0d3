//! Paper sheets: a sheet's PDF, rendered by an independent renderer (poppler's pdftoppm) at 150
//! and 300 dpi, decodes with an independent QR decoder (zbar) and with `--from-image`, also after
//! the damage real scans do (rotation, downscaling, JPEG artefacts, noise; made with ImageMagick).
//! Its text block, typed back with one wrong character, is refused naming that line; fixed, it
//! decrypts.

mod common;
#[path = "common/gpg.rs"]
mod gpg;

use common::{assert_fails, assert_ok, run_in, zbar_qr};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tool(program: &str, args: &[&str], dir: &Path) {
    let out = Command::new(program).args(args).current_dir(dir).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

struct Sheet {
    fx: gpg::Fixture,
    expected: Vec<String>,
    plain: Vec<u8>,
}

fn make_sheet() -> Sheet {
    let fx = gpg::split_set("paper", 2, 2, &["--label", "paper test", "--paper"]);
    let dir = &fx.dir;
    let asc = std::fs::read(dir.join("set/01-alice.asc")).unwrap();
    let mut expected = symbolon::qr::payloads(&symbolon::openpgp::dearmor(&asc).unwrap());
    expected.sort();
    let plain = run_in(dir.path(), &["decrypt", "set/01-alice.asc", "--key-file", "alice.key"], None);
    assert_ok(&plain);
    let plain = plain.stdout;
    Sheet { fx, expected, plain }
}

fn decrypt_images(sheet: &Sheet, images: &[&str]) -> common::Run {
    let mut args = vec!["decrypt", "--key-file", "alice.key"];
    for image in images {
        args.extend(["--from-image", image]);
    }
    run_in(sheet.fx.dir.path(), &args, None)
}

#[test]
fn rendered_sheets_decode_with_zbar_and_symbolon_also_degraded() {
    let sheet = make_sheet();
    let dir = sheet.fx.dir.path();
    assert!(dir.join("set/cover.pdf").exists() && dir.join("set/02-bob.pdf").exists());
    for dpi in ["150", "300"] {
        tool("pdftoppm", &["-r", dpi, "-f", "1", "-l", "1", "-png", "set/01-alice.pdf", &format!("page{dpi}")], dir);
        let page: PathBuf = dir.join(format!("page{dpi}-1.png"));
        assert_eq!(zbar_qr(&page), sheet.expected, "zbar at {dpi} dpi");
        let run = decrypt_images(&sheet, &[&format!("page{dpi}-1.png")]);
        assert_ok(&run);
        assert_eq!(run.stdout, sheet.plain, "--from-image at {dpi} dpi");
    }
    // What scans and phone photos do to a page.
    let degradations: &[(&str, &[&str])] = &[
        ("rotated", &["-background", "white", "-rotate", "3"]),
        ("downscaled", &["-resize", "60%"]),
        ("jpeg", &["-quality", "40"]),
        ("noisy", &["-seed", "7", "-attenuate", "0.4", "+noise", "Gaussian"]),
    ];
    for (name, args) in degradations {
        let out = if *name == "jpeg" { format!("{name}.jpg") } else { format!("{name}.png") };
        let mut all = vec!["page300-1.png"];
        all.extend_from_slice(args);
        all.push(&out);
        tool("convert", &all, dir);
        let run = decrypt_images(&sheet, &[&out]);
        assert_ok(&run);
        assert_eq!(run.stdout, sheet.plain, "--from-image of the {name} page");
        assert_eq!(zbar_qr(&dir.join(&out)), sheet.expected, "zbar of the {name} page");
    }
}

#[test]
fn typed_back_text_block_finds_the_wrong_line() {
    let sheet = make_sheet();
    let dir = sheet.fx.dir.path();
    // The lines printed on the sheet are the checked lines of the share's binary form.
    let asc = std::fs::read(dir.join("set/01-alice.asc")).unwrap();
    let lines = symbolon::checked_lines::encode(&symbolon::openpgp::dearmor(&asc).unwrap());
    let out = Command::new("pdftotext").args(["-layout", "set/01-alice.pdf", "-"]).current_dir(dir).output().unwrap();
    // (pdftotext reflows spaces: compare with white space normalised.)
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let printed = norm(&String::from_utf8_lossy(&out.stdout));
    for line in lines.lines() {
        assert!(printed.contains(&norm(line)), "the sheet shows the line {line:?}");
    }
    // One wrong character on line 7: that line is named.
    let mut typed: Vec<String> = lines.lines().map(str::to_string).collect();
    let original = typed[6].clone();
    let pos = original.find("  ").unwrap() + 2;
    let wrong = if &original[pos..pos + 1] == "Q" { "R" } else { "Q" };
    typed[6].replace_range(pos..pos + 1, wrong);
    std::fs::write(dir.join("typed.txt"), typed.join("\n")).unwrap();
    let run = run_in(dir, &["decrypt", "--from-text", "typed.txt", "--key-file", "alice.key"], None);
    assert_fails(&run, 1, &["line 7 fails its check", "fix that line"]);
    // Fixed (and typed in lower case, as people do), it decrypts.
    typed[6] = original;
    std::fs::write(dir.join("typed.txt"), typed.join("\n").to_lowercase()).unwrap();
    let run = run_in(dir, &["decrypt", "--from-text", "typed.txt", "--key-file", "alice.key"], None);
    assert_ok(&run);
    assert_eq!(run.stdout, sheet.plain);
    // Without the flag, typed lines are recognised too.
    let run = run_in(dir, &["decrypt", "typed.txt", "--key-file", "alice.key"], None);
    assert_ok(&run);

    // Pasted on a terminal (a pseudo-terminal from `script`): line 7 wrong, asked for again.
    let mut pasted: Vec<String> = lines.lines().map(str::to_string).collect();
    let right = pasted[6].clone();
    pasted[6].replace_range(pos..pos + 1, wrong);
    pasted.push(String::new());
    pasted.push(right);
    std::fs::write(dir.join("keystrokes.txt"), pasted.join("\n") + "\n").unwrap();
    let bin = common::bin();
    let command = format!("{} decrypt --paste --key-file alice.key --out pasted-share.txt", bin.display());
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .stdin(std::fs::File::open(dir.join("keystrokes.txt")).unwrap())
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("line 7 fails its check") && screen.contains("line 7>"), "{screen}");
    assert_eq!(std::fs::read(dir.join("pasted-share.txt")).unwrap(), sheet.plain);
}

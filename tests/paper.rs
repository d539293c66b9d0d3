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

/// The numbered lines of a sheet's text block, as pdftotext lays them out (two columns; a line is
/// `NN GROUPS... CC`), one per line in order: what a person types back.
fn typed_lines(layout: &str) -> String {
    let num = |s: &str| (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let mut rows = std::collections::BTreeMap::new();
    for line in layout.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        let mut i = 0;
        while i < t.len() {
            if num(t[i]) && t.get(i + 1).is_some_and(|g| g.len() == 5) {
                let mut k = i + 2;
                while k < t.len() {
                    let end = k + 1 == t.len() || (num(t[k + 1]) && t.get(k + 2).is_some_and(|g| g.len() == 5));
                    if t[k].len() == 2 && end {
                        break;
                    }
                    k += 1;
                }
                rows.insert(t[i].parse::<usize>().unwrap(), t[i..=k.min(t.len() - 1)].join(" "));
                i = k + 1;
            } else {
                i += 1;
            }
        }
    }
    rows.into_values().map(|r| r + "\n").collect()
}

/// Runs `command` (as printed on a sheet) with sh in `dir`, with `gnupg` as GnuPG's home.
fn sh(dir: &Path, command: &str, gnupg: &Path) -> Vec<u8> {
    let out = Command::new("sh").arg("-c").arg(command).current_dir(dir).env("GNUPGHOME", gnupg).output().unwrap();
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Every kind of sheet (encrypted symbolon and Vault shares, plaintext symbolon and Vault hex
/// keys) carries instructions that work for it: its text is extracted (pdftotext), the numbered
/// lines typed back into a file, and every command it prints run in a clean directory with only
/// the sheet's data and the custodian's key — symbolon's, and the one for python3 and gpg alone.
#[test]
fn every_kind_of_sheet_restores_with_the_commands_it_prints() {
    let fx = gpg::split_set("sheet-kinds", 2, 2, &["--paper", "--qr", "none"]);
    let d = fx.dir.path();
    let gnupg = fx.gpg.home.clone();
    let kinds: [(&str, &[&str]); 3] = [
        ("vset", &["--scheme", "vault", "--format", "vault", "--recipient", "alice.asc", "--recipient", "bob.asc"]),
        ("pset", &["--plaintext"]),
        ("hset", &["--scheme", "vault", "--format", "vault-hex", "--plaintext"]),
    ];
    for (out, extra) in kinds {
        let mut args = vec!["split", "--generate", "32", "-n", "2", "-t", "2", "--paper", "--qr", "none", "-o", out];
        args.extend_from_slice(extra);
        assert_ok(&run_in(d, &args, None));
    }
    let bin = common::bin().display().to_string();
    for (set, file) in
        [("set", "01-alice.asc"), ("vset", "01-alice.b64"), ("pset", "01-share.txt"), ("hset", "01-share.hex")]
    {
        let stem = file.rsplit_once('.').unwrap().0;
        let pdf = d.join(set).join(format!("{stem}.pdf"));
        let out = Command::new("pdftotext").args(["-layout"]).arg(&pdf).arg("-").output().expect("pdftotext");
        let layout = String::from_utf8(out.stdout).unwrap();
        // A clean directory: the typed lines, the share file, the custodian's key.
        let run = d.join(format!("restore-{set}"));
        std::fs::create_dir(&run).unwrap();
        std::fs::write(run.join("typed.txt"), typed_lines(&layout)).unwrap();
        std::fs::copy(d.join(set).join(file), run.join(file)).unwrap();
        std::fs::copy(d.join("alice.key"), run.join("alice.key")).unwrap();
        let lines: Vec<&str> = layout.lines().map(str::trim).collect();
        let at = |needle: &str| {
            lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{set}: no {needle:?}:\n{layout}"))
        };
        // The python3 command, exactly as printed over its two lines.
        let p = at("python3 -c");
        let python = format!("{}\n{}", lines[p].trim_start_matches("binary form: "), lines[p + 1]);
        let python = &python[python.find("python3").unwrap()..];
        let encrypted = set == "set" || set == "vset";
        let share = run_in(d, &["inspect", &format!("{set}/{file}")], None);
        assert_ok(&share);
        if encrypted {
            // symbolon, as step 2 prints it (the key from a file instead of a card).
            let step2 = lines[at("2. symbolon decrypt")];
            let typed = &step2[step2.find("symbolon decrypt --from-text").unwrap()..];
            let by_symbolon =
                sh(&run, &format!("{} --key-file alice.key", typed.replacen("symbolon", &bin, 1)), &gnupg);
            // python3 and gpg alone, and the share file with gpg.
            let by_python = sh(&run, python, &gnupg);
            let holds = lines[at(&format!("The file {file} holds"))];
            let by_file = sh(&run, &holds[holds.find(": ").unwrap() + 2..], &gnupg);
            assert_eq!(by_python, by_file, "{set}");
            assert_eq!(
                String::from_utf8_lossy(&by_python).trim(),
                String::from_utf8_lossy(&by_symbolon).trim(),
                "{set}"
            );
        } else {
            let step2 = lines[at("2. Check it: symbolon inspect")];
            let typed = &step2[step2.find("symbolon inspect --from-text").unwrap()..];
            sh(&run, &typed.replacen("symbolon", &bin, 1), &gnupg);
            sh(&run, python, &gnupg);
            // share.bin is the share's binary form, as its QR codes carry it.
            let bytes = std::fs::read(run.join(file)).unwrap();
            let parsed = symbolon::input::parse_bytes(file, &bytes).unwrap();
            let form = parsed.candidates[0].piece.qr_form().unwrap();
            assert_eq!(std::fs::read(run.join("share.bin")).unwrap(), *form, "{set}");
        }
    }
}

//! QR codes of shares: what split writes decodes with an independent decoder (zbar) to exactly
//! our payloads, and shares come back from images, in any order, through decrypt and combine.

mod common;
#[path = "common/gpg.rs"]
mod gpg;

use common::{TempDir, assert_fails, assert_ok, run_in};

fn zbar(path: &std::path::Path) -> String {
    let codes = common::zbar_qr(path);
    assert_eq!(codes.len(), 1, "zbarimg reads exactly one QR code in {}", path.display());
    codes.into_iter().next().unwrap_or_default()
}

#[test]
fn qr_codes_decode_with_zbar_and_restore_shares() {
    let fx = gpg::split_set("qr", 3, 2, &["--qr", "png,svg"]);
    let dir = &fx.dir;

    for stem in ["01-alice", "02-bob", "03-carol"] {
        // What the codes must carry: the share's OpenPGP message, in parts.
        let asc = std::fs::read(dir.join(&format!("set/{stem}.asc"))).unwrap();
        let expected = symbolon::qr::payloads(&symbolon::openpgp::dearmor(&asc).unwrap());
        let pngs: Vec<std::path::PathBuf> = if expected.len() == 1 {
            vec![dir.join(&format!("set/{stem}.qr.png"))]
        } else {
            (1..=expected.len()).map(|i| dir.join(&format!("set/{stem}.qr{i}.png"))).collect()
        };
        let decoded: Vec<String> = pngs.iter().map(|p| zbar(p)).collect();
        assert_eq!(decoded, expected, "{stem}: zbar reads exactly our payloads");
        for png in &pngs {
            let svg = std::fs::read_to_string(png.with_extension("svg")).unwrap();
            assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{stem}: SVG written");
        }
    }

    // decrypt from the images (parts given in reverse order) gives what decrypt of the file gives.
    let from_file = run_in(dir.path(), &["decrypt", "set/02-bob.asc", "--key-file", "bob.key"], None);
    assert_ok(&from_file);
    let mut images: Vec<String> = std::fs::read_dir(dir.join("set"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("02-bob.qr") && n.ends_with(".png"))
        .map(|n| format!("set/{n}"))
        .collect();
    images.sort();
    images.reverse();
    let mut args = vec!["decrypt", "--key-file", "bob.key"];
    for image in &images {
        args.extend(["--from-image", image.as_str()]);
    }
    let from_images = run_in(dir.path(), &args, None);
    assert_ok(&from_images);
    assert_eq!(from_images.stdout, from_file.stdout);

    // combine from the images of two shares, all mixed together.
    let mut args =
        vec!["combine", "--key-file", "alice.key", "--key-file", "carol.key", "--stdout", "--encoding", "hex"];
    let names: Vec<String> = std::fs::read_dir(dir.join("set"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| (n.starts_with("01-") || n.starts_with("03-")) && n.ends_with(".png"))
        .map(|n| format!("set/{n}"))
        .collect();
    for name in &names {
        args.extend(["--from-image", name.as_str()]);
    }
    let run = run_in(dir.path(), &args, None);
    assert_ok(&run);
    assert!(run.stderr.contains("Verified"), "{}", run.stderr);

    // A missing part is named.
    let first: Vec<&String> = images.iter().filter(|n| n.contains(".qr1.")).collect();
    if let Some(first) = first.first() {
        let run = run_in(dir.path(), &["decrypt", "--key-file", "bob.key", "--from-image", first], None);
        assert_fails(&run, 1, &["is missing: scan every QR code of the share"]);
    }
    // The payloads pasted as text work too (e.g. from a phone's scanner app).
    let pasted: String = images.iter().map(|p| zbar(&dir.join(p)) + "\n").collect();
    std::fs::write(dir.join("pasted.txt"), pasted).unwrap();
    let run = run_in(dir.path(), &["decrypt", "pasted.txt", "--key-file", "bob.key"], None);
    assert_ok(&run);
    assert_eq!(run.stdout, from_file.stdout);
}

#[test]
fn plaintext_share_qr_and_terminal_rendering() {
    let dir = TempDir::new("qr-plain");
    assert_ok(&run_in(
        dir.path(),
        &["split", "--generate", "16", "-n", "2", "-t", "2", "--plaintext", "--qr", "png", "-o", "set"],
        None,
    ));
    let run = run_in(dir.path(), &["inspect", "--from-image", "set/01-share.qr.png"], None);
    assert_ok(&run);
    assert!(run.stdout_text().contains("share 1 of 2"), "{}", run.stdout_text());
    let run = run_in(dir.path(), &["qr", "show", "set/02-share.txt"], None);
    assert_ok(&run);
    let screen = run.stdout_text();
    assert!(screen.contains('▄') || screen.contains('▀'), "half blocks");
    assert!(run.stderr.contains("NOT encrypted"));
    // No QR files with --qr none; a bad list is a usage error.
    assert_ok(&run_in(
        dir.path(),
        &["split", "--generate", "16", "-n", "2", "-t", "2", "--plaintext", "--qr", "none", "-o", "none"],
        None,
    ));
    assert!(
        !std::fs::read_dir(dir.join("none")).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains(".qr"))
    );
    let run = run_in(
        dir.path(),
        &["split", "--generate", "16", "-n", "2", "-t", "2", "--plaintext", "--qr", "gif", "-o", "x"],
        None,
    );
    assert_fails(&run, 2, &["unknown QR output 'gif'"]);
    // An image without a code.
    let blank = image_without_code(&dir);
    let run = run_in(dir.path(), &["inspect", "--from-image", &blank], None);
    assert_fails(&run, 1, &["no QR code was found"]);
}

fn image_without_code(dir: &TempDir) -> String {
    let img = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
    let path = dir.join("white.png");
    img.save(&path).unwrap();
    "white.png".to_string()
}

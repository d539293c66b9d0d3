//! Whole outputs, pinned: every command's complete exit code, stdout and stderr, on success and
//! on each refusal path, in `tests/snapshots/messages-*.txt` (a reviewer reads those files; a
//! change of wording shows as a diff). Only what differs between runs is normalised: set ids,
//! fingerprints and key ids, dates, nonces and plan hashes, the temporary directory, and the
//! machine's network warning. `SYMBOLON_BLESS=1` rewrites the snapshots.

mod common;

use common::{Run, TempDir, assert_snapshot, person, pinentry, redact_fingerprints, run_with_env};
use std::path::Path;

struct Fixture {
    dir: TempDir,
    env: Vec<(String, String)>,
    /// Text that differs between runs, and what it becomes.
    replace: Vec<(String, String)>,
}

impl Fixture {
    fn run(&self, args: &[&str]) -> Run {
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_with_env(self.dir.path(), args, None, &env)
    }

    /// The whole outcome as a reviewer reads it.
    fn outcome(&self, args: &[&str], run: &Run) -> String {
        let mut text = format!(
            "$ symbolon {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
            symbolon::sanitize(&args.join(" ")),
            run.code,
            run.stdout_text(),
            run.stderr
                .lines()
                .filter(|l| !l.starts_with("warning: network interfaces are up"))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        );
        for (from, to) in &self.replace {
            text = text.replace(from, to);
        }
        normalise(&redact_fingerprints(&text))
    }

    fn check(&self, name: &str, args: &[&str]) -> Result<(), String> {
        let run = self.run(args);
        let text = self.outcome(args, &run);
        std::panic::catch_unwind(|| assert_snapshot(&format!("messages-{name}"), &text))
            .map_err(|e| e.downcast_ref::<String>().cloned().unwrap_or_else(|| format!("messages-{name} differs")))
    }

    fn set_id(&mut self, manifest: &str, tag: &str) {
        let m: serde_json::Value = serde_json::from_slice(&std::fs::read(self.dir.join(manifest)).unwrap()).unwrap();
        let id = m["set_id"].as_str().unwrap().to_string();
        self.replace.push((id.clone(), format!("<SET-{tag}>")));
        self.replace.push((id[..8].to_string(), format!("<SET-{tag}>")));
    }
}

/// Dates and times (UTC) and 32-hex nonces.
fn normalise(text: &str) -> String {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // 2026-12-01, then T131842Z or " 13:18:42 UTC" if they follow.
        if digits(i..i + 4)
            && b.get(i + 4) == Some(&b'-')
            && digits(i + 5..i + 7)
            && b.get(i + 7) == Some(&b'-')
            && digits(i + 8..i + 10)
        {
            let mut end = i + 10;
            if b.get(end) == Some(&b'T') && digits(end + 1..end + 7) && b.get(end + 7) == Some(&b'Z') {
                end += 8;
            } else if b.get(end) == Some(&b'T') && b.get(end + 3) == Some(&b':') && b.get(end + 9) == Some(&b'Z') {
                end += 10;
            } else if b.get(end..end + 13).is_some_and(|t| t[0] == b' ' && t[3] == b':' && t.ends_with(b" UTC")) {
                end += 13;
            }
            out.extend_from_slice(b"<DATE>");
            i = end;
            continue;
        }
        // A run of 32 lower-case hex digits: a nonce.
        let run = b[i..].iter().take_while(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)).count();
        let before_ok = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        // 32: a nonce; 64: a commitment or digest; 8: a new set's short id.
        let name: Option<&[u8]> = match run {
            32 => Some(b"<NONCE>"),
            64 => Some(b"<HASH>"),
            8 => Some(b"<ID>"),
            _ => None,
        };
        let after_ok = b.get(i + run).is_none_or(|c| !c.is_ascii_alphanumeric());
        if let (Some(name), true, true) = (name, before_ok, after_ok) {
            out.extend_from_slice(name);
            i += run;
            continue;
        }
        let step = run.max(1);
        out.extend_from_slice(&b[i..i + step]);
        i += step;
    }
    // A Vault key's x coordinate is random: Vault's scheme permutes them.
    let mut text = String::from_utf8(out).unwrap();
    // A record written in the same second as another gets a counter.
    for n in 2..10 {
        text = text.replace(&format!("<DATE>-{n}.json"), "<DATE>.json");
    }
    match text.split_once("larger set: x = ") {
        Some((head, tail)) => {
            let rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{head}larger set: x = <X>{rest}")
        }
        None => text,
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn setup() -> Fixture {
    let dir = TempDir::new("messages");
    let d = dir.path().to_path_buf();
    for name in ["alice", "bob", "carol", "olga"] {
        person(&d, name);
    }
    let entry = pinentry(&d);
    let mut f = Fixture {
        env: vec![("SYMBOLON_PINENTRY".into(), entry)],
        replace: vec![(d.display().to_string(), "<DIR>".into())],
        dir,
    };
    let secret: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
    write(&d, "secret.bin", &secret);
    // The recovered secret shows as what it is (and is then no "<HASH>").
    f.replace.push((hex::encode(&secret), "<THE-SECRET-IN-HEX>".into()));
    write(&d, "empty.bin", b"");
    write(&d, "large.bin", &[0x42; 8000]);
    let ok = |f: &Fixture, args: &[&str]| {
        let run = f.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    };
    ok(
        &f,
        &[
            "split",
            "--secret-file",
            "secret.bin",
            "-n",
            "5",
            "-t",
            "3",
            "--plaintext",
            "--label",
            "ca root",
            "-o",
            "set",
        ],
    );
    ok(&f, &["split", "--secret-file", "secret.bin", "-n", "3", "-t", "2", "--plaintext", "-o", "other"]);
    ok(
        &f,
        &[
            "split",
            "--secret-file",
            "secret.bin",
            "-n",
            "5",
            "-t",
            "3",
            "--plaintext",
            "--scheme",
            "vault",
            "--format",
            "vault-hex",
            "-o",
            "vset",
        ],
    );
    ok(
        &f,
        &[
            "split",
            "--secret-file",
            "secret.bin",
            "-n",
            "3",
            "-t",
            "2",
            "--recipient",
            "alice=alice.asc",
            "--recipient",
            "bob=bob.asc",
            "--recipient",
            "carol=carol.asc",
            "--qr",
            "png,svg",
            "-o",
            "enc",
        ],
    );
    f.set_id("set/manifest.json", "A");
    f.set_id("other/manifest.json", "B");
    f.set_id("vset/manifest.json", "V");
    f.set_id("enc/manifest.json", "E");
    // An altered share, altered manifests, Vault's output, a truncated encrypted share.
    let text = std::fs::read_to_string(d.join("set/02-share.txt")).unwrap();
    let mut share = symbolon::share::Share::all_from_text(&text).unwrap().remove(0);
    share.payload.expose_mut()[3] ^= 0x10;
    write(&d, "bad-02.txt", share.to_text().as_bytes());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("set/manifest.json")).unwrap()).unwrap();
    let mut edited = manifest.clone();
    edited["threshold"] = 2.into();
    write(&d, "set/threshold.json", serde_json::to_string_pretty(&edited).unwrap().as_bytes());
    let mut edited = manifest.clone();
    edited["shares"][1]["commitment"] = "00".repeat(32).into();
    write(&d, "set/commitment.json", serde_json::to_string_pretty(&edited).unwrap().as_bytes());
    let mut edited = manifest;
    edited["schema_version"] = 9.into();
    write(&d, "set/newer.json", serde_json::to_string_pretty(&edited).unwrap().as_bytes());
    let keys: Vec<String> =
        (1..=5).map(|i| std::fs::read_to_string(d.join(format!("vset/0{i}-share.hex"))).unwrap()).collect();
    let init: String = keys.iter().enumerate().map(|(i, k)| format!("Unseal Key {}: {}\n", i + 1, k.trim())).collect();
    write(
        &d,
        "init.txt",
        format!("{init}\nVault initialized with 5 key shares and a key threshold of 3.\n").as_bytes(),
    );
    write(&d, "two-keys.txt", format!("{}{}", keys[0], keys[1]).as_bytes());
    write(&d, "one-key.txt", keys[0].as_bytes());
    let armored = std::fs::read(d.join("enc/01-alice.asc")).unwrap();
    write(&d, "truncated.asc", &armored[..armored.len() / 2]);
    write(&d, "junk.asc", b"not a certificate\n");
    f
}

#[test]
fn every_command_on_and_off_the_happy_path() {
    let f = setup();
    let s = |n: &str| format!("set/0{n}-share.txt");
    let (s1, s2, s3, s4) = (s("1"), s("2"), s("3"), s("4"));
    let split = ["split", "--secret-file", "secret.bin"];
    // The base, the extra arguments, and `-o out` unless they name the output.
    let with = |base: &[&'static str], extra: &[&'static str]| -> Vec<&'static str> {
        let out: &[&'static str] = if extra.contains(&"-o") { &[] } else { &["-o", "out"] };
        base.iter().chain(extra).chain(out).copied().collect()
    };
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // split
        ("split-plaintext", with(&split, &["-n", "2", "-t", "2", "--plaintext", "-o", "ok"])),
        ("split-one-share", with(&split, &["-n", "1", "-t", "1", "--plaintext", "-o", "out1"])),
        ("split-threshold-above-count", with(&split, &["-n", "3", "-t", "4", "--plaintext", "-o", "out"])),
        ("split-too-many-shares", with(&split, &["-n", "256", "-t", "2", "--plaintext", "-o", "out"])),
        ("split-threshold-zero", with(&split, &["-n", "3", "-t", "0", "--plaintext", "-o", "out"])),
        (
            "split-vault-threshold-one",
            with(&split, &["-n", "3", "-t", "1", "--plaintext", "--scheme", "vault", "-o", "out"]),
        ),
        (
            "split-vault-hex-native",
            with(&split, &["-n", "3", "-t", "2", "--plaintext", "--format", "vault-hex", "-o", "out"]),
        ),
        (
            "split-vault-hex-encrypted",
            with(
                &split,
                &["-n", "1", "-t", "1", "--scheme", "vault", "--format", "vault-hex", "--recipient", "alice.asc"],
            ),
        ),
        (
            "split-binary-vault",
            with(
                &split,
                &[
                    "-n",
                    "1",
                    "-t",
                    "1",
                    "--scheme",
                    "vault",
                    "--format",
                    "vault",
                    "--binary",
                    "--recipient",
                    "alice.asc",
                ],
            ),
        ),
        (
            "split-label-bidi",
            with(&split, &["-n", "2", "-t", "2", "--plaintext", "--label", "ab\u{202E}cd", "-o", "out"]),
        ),
        (
            "split-label-long",
            with(&split, &["-n", "2", "-t", "2", "--plaintext", "--label", &*"x".repeat(65).leak(), "-o", "out"]),
        ),
        ("split-no-custodians", with(&split, &["-n", "2", "-t", "2", "-o", "out"])),
        (
            "split-custodian-count",
            with(&split, &["-n", "3", "-t", "2", "--recipient", "alice.asc", "--recipient", "bob.asc"]),
        ),
        (
            "split-same-name",
            with(&split, &["-n", "2", "-t", "2", "--recipient", "alice.asc", "--recipient", "alice=bob.asc"]),
        ),
        (
            "split-same-cert-two-custodians",
            with(&split, &["-n", "2", "-t", "2", "--recipient", "a=alice.asc", "--recipient", "b=alice.asc"]),
        ),
        (
            "split-same-cert-one-custodian",
            with(&split, &["-n", "1", "-t", "1", "--recipient", "a=alice.asc,alice.asc"]),
        ),
        ("split-keybase", with(&split, &["-n", "1", "-t", "1", "--recipient", "keybase:jefferai", "-o", "out"])),
        ("split-missing-cert", with(&split, &["-n", "1", "-t", "1", "--recipient", "nobody.asc", "-o", "out"])),
        ("split-junk-cert", with(&split, &["-n", "1", "-t", "1", "--recipient", "junk.asc", "-o", "out"])),
        (
            "split-existing-dir",
            vec!["split", "--secret-file", "secret.bin", "-n", "2", "-t", "2", "--plaintext", "-o", "set"],
        ),
        (
            "split-empty-secret",
            vec!["split", "--secret-file", "empty.bin", "-n", "2", "-t", "2", "--plaintext", "-o", "out"],
        ),
        (
            "split-missing-secret",
            vec!["split", "--secret-file", "nothere.bin", "-n", "2", "-t", "2", "--plaintext", "-o", "out"],
        ),
        (
            "split-encrypted",
            with(
                &split,
                &[
                    "-n",
                    "2",
                    "-t",
                    "2",
                    "--recipient",
                    "alice.asc",
                    "--recipient",
                    "bob=bob.asc",
                    "--qr",
                    "none",
                    "-o",
                    "out2",
                ],
            ),
        ),
        // A share too large for QR codes: skipped by default and said so; refused when asked for.
        (
            "split-large-default-qr",
            vec![
                "split",
                "--secret-file",
                "large.bin",
                "-n",
                "1",
                "-t",
                "1",
                "--recipient",
                "alice.asc",
                "-o",
                "large1",
            ],
        ),
        (
            "split-large-qr-asked",
            vec![
                "split",
                "--secret-file",
                "large.bin",
                "-n",
                "1",
                "-t",
                "1",
                "--recipient",
                "alice.asc",
                "--qr",
                "png",
                "-o",
                "large2",
            ],
        ),
        (
            "split-large-paper",
            vec![
                "split",
                "--secret-file",
                "large.bin",
                "-n",
                "1",
                "-t",
                "1",
                "--recipient",
                "alice.asc",
                "--qr",
                "none",
                "--paper",
                "-o",
                "large3",
            ],
        ),
        // combine
        ("combine-ok", vec!["combine", &s1, &s3, &s4, "--stdout", "--encoding", "hex"]),
        ("combine-names-a-bad-share", vec!["combine", &s1, "bad-02.txt", &s3, &s4, "--stdout", "--encoding", "hex"]),
        ("combine-exactly-k-one-bad", vec!["combine", &s1, "bad-02.txt", &s3, "--stdout", "--encoding", "hex"]),
        (
            "combine-exactly-k-one-bad-manifest",
            vec!["combine", &s1, "bad-02.txt", &s3, "--manifest", "set/manifest.json", "--stdout", "--encoding", "hex"],
        ),
        ("combine-too-few", vec!["combine", &s1, &s3, "--stdout"]),
        ("combine-mixed-sets", vec!["combine", &s1, "other/01-share.txt", &s3, "--stdout"]),
        ("combine-manifest-other-set", vec!["combine", &s1, &s2, &s3, "--manifest", "other/manifest.json", "--stdout"]),
        (
            "combine-manifest-threshold-edited",
            vec!["combine", &s1, &s2, &s3, "--manifest", "set/threshold.json", "--stdout"],
        ),
        (
            "combine-manifest-commitment-edited",
            vec!["combine", &s1, &s2, &s3, "--manifest", "set/commitment.json", "--stdout", "--encoding", "hex"],
        ),
        ("combine-manifest-newer", vec!["combine", &s1, &s2, &s3, "--manifest", "set/newer.json", "--stdout"]),
        ("combine-manifest-as-share", vec!["combine", "set/manifest.json", "--stdout"]),
        ("combine-image-as-share", vec!["combine", "enc/01-alice.qr1.png", "--stdout"]),
        ("combine-no-such-file", vec!["combine", "nothere", "--stdout"]),
        ("combine-no-shares", vec!["combine", "--stdout"]),
        ("combine-out-exists", vec!["combine", &s1, &s2, &s3, "--out", "secret.bin"]),
        ("combine-vault-init", vec!["combine", "init.txt", "--stdout", "--encoding", "hex"]),
        ("combine-vault-keys-no-threshold", vec!["combine", "two-keys.txt", "--stdout"]),
        ("combine-vault-one-key", vec!["combine", "one-key.txt", "--stdout"]),
        (
            "combine-encrypted-key-files",
            vec![
                "combine",
                "enc/01-alice.asc",
                "enc/03-carol.asc",
                "--key-file",
                "alice.key",
                "--key-file",
                "carol.key",
                "--manifest",
                "enc/manifest.json",
                "--stdout",
                "--encoding",
                "hex",
            ],
        ),
        (
            "combine-encrypted-other-manifest",
            vec![
                "combine",
                "enc/01-alice.asc",
                "enc/03-carol.asc",
                "--key-file",
                "alice.key",
                "--manifest",
                "set/manifest.json",
                "--stdout",
            ],
        ),
        // decrypt
        ("decrypt-plaintext", vec!["decrypt", &s1]),
        (
            "decrypt-check",
            vec!["decrypt", "enc/02-bob.asc", "--key-file", "bob.key", "--manifest", "enc/manifest.json", "--check"],
        ),
        ("decrypt-wrong-key", vec!["decrypt", "enc/02-bob.asc", "--key-file", "olga.key"]),
        ("decrypt-truncated", vec!["decrypt", "truncated.asc", "--key-file", "alice.key"]),
        (
            "decrypt-manifest-other-set",
            vec!["decrypt", "enc/02-bob.asc", "--key-file", "bob.key", "--manifest", "set/manifest.json", "--check"],
        ),
        ("decrypt-svg", vec!["decrypt", "--from-image", "enc/01-alice.qr1.svg", "--key-file", "alice.key", "--check"]),
        // inspect
        ("inspect-plaintext", vec!["inspect", &s2]),
        ("inspect-encrypted", vec!["inspect", "enc/01-alice.asc"]),
        ("inspect-encrypted-manifest", vec!["inspect", "enc/01-alice.asc", "--manifest", "enc/manifest.json"]),
        ("inspect-vault-key", vec!["inspect", "one-key.txt"]),
        ("inspect-no-such-file", vec!["inspect", "nothere"]),
        // A word that could be a mistyped key is not echoed back.
        ("inspect-key-like-word", vec!["inspect", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYW"]),
        ("inspect-image", vec!["inspect", "enc/01-alice.qr1.png"]),
        // verify
        ("verify-plaintext-set", vec!["verify", "--manifest", "set/manifest.json"]),
        ("verify-subset", vec!["verify", "--manifest", "set/manifest.json", "--share", "2"]),
        ("verify-tampered-manifest", vec!["verify", "--manifest", "set/threshold.json"]),
        ("verify-no-such-share", vec!["verify", "--manifest", "set/manifest.json", "--share", "9"]),
        // rekey
        (
            "rekey-too-few",
            vec![
                "rekey",
                &s1,
                &s2,
                "--old-manifest",
                "set/manifest.json",
                "-n",
                "2",
                "-t",
                "2",
                "--plaintext",
                "-o",
                "new",
                "--yes",
            ],
        ),
        (
            "rekey-other-manifest",
            vec![
                "rekey",
                "enc/01-alice.asc",
                "enc/02-bob.asc",
                "--key-file",
                "alice.key",
                "--key-file",
                "bob.key",
                "--old-manifest",
                "set/manifest.json",
                "-n",
                "2",
                "-t",
                "2",
                "--plaintext",
                "-o",
                "new",
                "--yes",
            ],
        ),
        (
            "rekey-target-change",
            vec![
                "rekey",
                &s1,
                &s2,
                &s3,
                "--old-manifest",
                "set/manifest.json",
                "-n",
                "2",
                "-t",
                "2",
                "--plaintext",
                "--target",
                "unseal",
                "-o",
                "new",
                "--yes",
            ],
        ),
        (
            "rekey-one-shot",
            vec![
                "rekey",
                &s1,
                &s2,
                &s3,
                "--old-manifest",
                "set/manifest.json",
                "-n",
                "2",
                "-t",
                "2",
                "--recipient",
                "alice.asc",
                "--recipient",
                "bob.asc",
                "--qr",
                "none",
                "-o",
                "new",
                "--yes",
            ],
        ),
        ("rekey-status-none", vec!["rekey", "status", "--state-dir", "state"]),
        (
            "rekey-submit-unknown",
            vec!["rekey", "submit", "--state-dir", "state", "--nonce", "00112233445566778899aabbccddeeff", &s1],
        ),
        (
            "rekey-cancel-unknown",
            vec!["rekey", "cancel", "--state-dir", "state", "--nonce", "00112233445566778899aabbccddeeff"],
        ),
    ];
    let failures: Vec<String> = cases.iter().filter_map(|(name, args)| f.check(name, args).err()).collect();
    // Refused large splits wrote nothing; the default one wrote the share without QR images.
    assert!(!f.dir.join("large2").exists() && !f.dir.join("large3").exists());
    let mut written: Vec<String> = std::fs::read_dir(f.dir.join("large1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    assert_eq!(written, ["01-alice.asc", "manifest.json"]);
    assert!(cases.len() >= 60, "{} cases", cases.len());
    assert!(failures.is_empty(), "{} of {} snapshots differ:\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

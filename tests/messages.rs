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
        self.check_with(name, args, &[])
    }

    /// As `check`, with `extra` set in the environment (and replacing what the fixture sets).
    fn check_with(&self, name: &str, args: &[&str], extra: &[(&str, &str)]) -> Result<(), String> {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .chain(extra.iter().copied())
            .collect();
        let run = run_with_env(self.dir.path(), args, None, &env);
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

/// A plan hash as shown: eight groups of four lower-case hex digits.
fn plan_hashes(text: &str) -> String {
    let b = text.as_bytes();
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    let is_hash = |i: usize| {
        b.get(i..i + 39)
            .is_some_and(|w| w.iter().enumerate().all(|(j, c)| if j % 5 == 4 { *c == b' ' } else { hex(c) }))
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b.get(i + 39).is_none_or(|c| !c.is_ascii_alphanumeric())
    };
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if is_hash(i) {
            out.extend_from_slice(b"<PLAN-HASH>");
            i += 39;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Dates and times (UTC), plan hashes and 32-hex nonces.
fn normalise(text: &str) -> String {
    let text = plan_hashes(text);
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
    // A Vault-format set of a secret generated here: its manifest commits to each bare key.
    ok(
        &f,
        &[
            "split",
            "--generate",
            "32",
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
            "vgen",
        ],
    );
    let generated: Vec<String> =
        (1..=3).map(|i| std::fs::read_to_string(d.join(format!("vgen/0{i}-share.hex"))).unwrap()).collect();
    write(&d, "vgen-three-keys.txt", generated.concat().as_bytes());
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
    // A 10-of-20 set: one share altered in one byte, five more altered wholly.
    ok(&f, &["split", "--secret-file", "secret.bin", "-n", "20", "-t", "10", "--plaintext", "-o", "big"]);
    for i in 1..=6 {
        let text = std::fs::read_to_string(d.join(format!("big/{i:02}-share.txt"))).unwrap();
        let mut share = symbolon::share::Share::all_from_text(&text).unwrap().remove(0);
        let y = share.payload.expose_mut();
        if i == 1 {
            y[5] ^= 0x01;
        } else {
            y[1..].iter_mut().for_each(|b| *b = !*b);
        }
        write(&d, &format!("big-bad-{i:02}.txt"), share.to_text().as_bytes());
    }
    f.set_id("big/manifest.json", "G");
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
    // The 20 shares of the big set, the bad copies first in place of the good ones.
    let big_files: Vec<String> = (1..=20).map(|i| format!("big/{i:02}-share.txt")).collect();
    let big = |bad: &[&'static str]| -> Vec<&str> {
        let mut args = vec!["combine"];
        args.extend_from_slice(bad);
        args.extend(big_files[bad.len()..].iter().map(String::as_str));
        args.extend(["--stdout", "--encoding", "hex"]);
        args
    };
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
        ("combine-decodes-a-bad-share-listed-first", big(&["big-bad-01.txt"])),
        (
            "combine-past-the-bound",
            big(&[
                "big-bad-01.txt",
                "big-bad-02.txt",
                "big-bad-03.txt",
                "big-bad-04.txt",
                "big-bad-05.txt",
                "big-bad-06.txt",
            ]),
        ),
        (
            "combine-encrypted-damaged-spare",
            vec![
                "combine",
                "truncated.asc",
                "enc/02-bob.asc",
                "enc/03-carol.asc",
                "--key-file",
                "alice.key",
                "--key-file",
                "bob.key",
                "--key-file",
                "carol.key",
                "--stdout",
                "--encoding",
                "hex",
            ],
        ),
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
        (
            "rekey-unverified",
            vec![
                "rekey",
                "vgen-three-keys.txt",
                "--old-threshold",
                "3",
                "-n",
                "2",
                "-t",
                "2",
                "--scheme",
                "vault",
                "--plaintext",
                "--yes",
                "-o",
                "unverified-refused",
            ],
        ),
        (
            "rekey-unverified-accepted",
            vec![
                "rekey",
                "vgen-three-keys.txt",
                "--old-threshold",
                "3",
                "-n",
                "2",
                "-t",
                "2",
                "--plaintext",
                "--yes",
                "--accept-unverified-secret",
                "-o",
                "unverified",
            ],
        ),
        (
            "rekey-init",
            vec![
                "rekey",
                "init",
                "--state-dir",
                "st-init",
                "--operator-cert",
                "olga.asc",
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
                "staged-init",
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
    let mut failures: Vec<String> = cases.iter().filter_map(|(name, args)| f.check(name, args).err()).collect();
    // A staged ceremony: a hash that is not the plan's, and a state others may write.
    let init = f.run(&[
        "rekey",
        "init",
        "--state-dir",
        "st-hash",
        "--operator-cert",
        "olga.asc",
        "--old-manifest",
        "set/manifest.json",
        "-n",
        "2",
        "-t",
        "2",
        "--plaintext",
        "-o",
        "staged-hash",
        "--yes",
    ]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let nonce =
        init.stdout_text().lines().find_map(|l| l.strip_prefix("Ceremony started. Nonce: ")).unwrap().to_string();
    let zeros = "0000 0000 0000 0000 0000 0000 0000 0000";
    let submit = ["rekey", "submit", "--state-dir", "st-hash", "--nonce", &nonce, "--plan-hash", zeros, &s1];
    failures.extend(f.check("rekey-submit-wrong-hash", &submit).err());
    let no_hash = ["rekey", "submit", "--state-dir", "st-hash", "--nonce", &nonce, &s1];
    failures.extend(f.check("rekey-submit-no-terminal", &no_hash).err());
    use std::os::unix::fs::PermissionsExt;
    let state = f.dir.join("st-hash");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    failures.extend(f.check("rekey-submit-unsafe-state", &submit).err());
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    // A pinentry named that cannot be started is named, with why.
    failures.extend(
        f.check_with(
            "decrypt-pinentry-missing",
            &["decrypt", "enc/02-bob.asc", "--key-file", "bob.key"],
            &[("SYMBOLON_PINENTRY", "/nonexistent/pinentry")],
        )
        .err(),
    );
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

/// Flags that take a value, and the short names the cases use for some of them.
const VALUE_FLAGS: &[&str] = &[
    "--manifest",
    "--old-manifest",
    "--threshold",
    "--old-threshold",
    "--from-image",
    "--format",
    "--scheme",
    "--recipient",
    "--shares",
    "--key-file",
    "--secret-file",
    "--state-dir",
    "--pgp-keys",
    "--operator-key-file",
];
const SHORT: &[(&str, &str)] = &[("--shares", "-n"), ("--threshold", "-t")];

/// The commands a hint line suggests, applied to the refused command `args`: a whole
/// `symbolon ...` command is run as printed; otherwise each alternative ("A, or B") names a flag,
/// which replaces the last use of that flag ("use", "e.g.", "change"), is removed ("drop") or
/// is added (any other wording). Upper-case placeholders (FILE, K, IMAGE) and missing values
/// come from `values`, which is the only thing a case supplies.
fn follow(args: &[String], hint: &str, values: &[(&str, &str)]) -> Vec<Vec<String>> {
    let values_of = |key: &str| -> Vec<String> {
        let found: Vec<String> = values.iter().filter(|(k, _)| *k == key).map(|(_, v)| v.to_string()).collect();
        assert!(!found.is_empty(), "the case gives no value for {key} in {hint:?}");
        found
    };
    // A placeholder (FILE, K, IMAGE) becomes each of the case's values for it.
    let placeholders = |word: &str| -> Vec<String> {
        let key = values
            .iter()
            .map(|(k, _)| *k)
            .find(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase()) && word.contains(k));
        match key {
            Some(key) => values.iter().filter(|(k, _)| *k == key).map(|(_, v)| word.replace(key, v)).collect(),
            None => vec![word.to_string()],
        }
    };
    if let Some((_, command)) = hint.split_once("symbolon ") {
        // The command ends at a closing backtick or at the end of its sentence.
        let command = command.split(['`']).next().unwrap_or_default();
        let command = command.split(". ").next().unwrap_or_default().trim_end_matches('.');
        let words: Vec<String> = command.split_whitespace().flat_map(placeholders).collect();
        let extra: Vec<&str> = values.iter().filter(|(k, _)| *k == "+").map(|(_, v)| *v).collect();
        if extra.is_empty() {
            return vec![words];
        }
        return extra
            .iter()
            .map(|e| words.iter().cloned().chain(e.split_whitespace().map(String::from)).collect())
            .collect();
    }
    let mut alternatives = Vec::new();
    for alternative in hint.split(", or ").flat_map(|a| a.split(" (or ")) {
        let words: Vec<&str> = alternative.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| w.starts_with("--")) else { continue };
        let flag = words[at].trim_end_matches([',', ')']);
        let verb = if at == 0 { "" } else { words[at - 1] };
        let takes_value = VALUE_FLAGS.contains(&flag);
        let given: Vec<String> = match words.get(at + 1).map(|w| w.trim_end_matches([',', '.', ')'])) {
            _ if !takes_value => Vec::new(),
            Some(w) if !["per", "to", "or", ""].contains(&w) => placeholders(w),
            _ => values_of(flag),
        };
        let names: Vec<&str> =
            std::iter::once(flag).chain(SHORT.iter().filter(|(long, _)| *long == flag).map(|(_, s)| *s)).collect();
        let mut out: Vec<String> = args.to_vec();
        // "... instead of --other": the other goes.
        if let Some((_, instead)) = alternative.split_once("instead of ") {
            let other = instead.split([' ', ',']).next().unwrap_or_default();
            let i = out.iter().position(|a| a == other).unwrap_or_else(|| panic!("{hint:?}: {args:?} has no {other}"));
            out.remove(i);
        }
        let last = out.iter().rposition(|a| names.contains(&a.as_str()));
        match (verb, last) {
            ("drop", Some(i)) => {
                out.drain(i..i + if takes_value { 2 } else { 1 });
            }
            ("drop", None) => panic!("{hint:?} drops {flag}, which {args:?} does not have"),
            ("use" | "e.g." | "change", Some(i)) if takes_value => out[i + 1] = given[0].clone(),
            _ => {
                for value in &given {
                    // "give X with --flag": X moves from where it was given to the flag.
                    if let Some(p) = out.iter().position(|a| a == value) {
                        out.remove(p);
                    }
                }
                if given.is_empty() {
                    out.push(flag.to_string());
                }
                for value in given {
                    out.push(flag.to_string());
                    out.push(value);
                }
            }
        }
        alternatives.push(out);
    }
    assert!(!alternatives.is_empty(), "no command could be read from the hint {hint:?}");
    alternatives
}

/// The advice on a line of output: a "hint: ..." line, a "Next: ..." line, or a command in
/// backticks.
fn advice_in(output: &str) -> Vec<String> {
    let mut found = Vec::new();
    // The network warning's `symbolon doctor` is the one the pcscd error names (followed below);
    // the snapshots leave the warning out, as it depends on the machine.
    for line in output.lines().filter(|l| !l.starts_with("warning: network interfaces are up")) {
        if let Some(hint) = line.strip_prefix("hint: ") {
            found.push(hint.to_string());
        } else if let Some((_, next)) = line.split_once("Next: ") {
            found.push(next.to_string());
        } else {
            found.extend(line.split('`').skip(1).step_by(2).filter(|c| !c.is_empty()).map(|c| format!("`{c}`")));
        }
    }
    found
}

/// Advice that a test here cannot follow, and why. Everything else any snapshot shows is followed
/// by `every_printed_advice_is_followed`.
const NOT_FOLLOWED_HERE: &[(&str, &str)] = &[
    (
        "nobody is at a terminal here, so symbolon did not wait for the card (or pcscd): to wait all the same, run again with --wait",
        "followed it waits until a card comes: tests/card.rs runs combine --wait without a terminal while cards are inserted and pulled (one_reader_combine_waits_for_each_card_in_turn, a_pcscd_restart_between_shares_loses_nothing)",
    ),
    (
        "every new custodian verifies their share: symbolon verify --manifest unverified/manifest.json. Destroy the old shares only after that.",
        "rekey's Next line, as in rekey-one-shot: followed by the rekey-next case (another directory)",
    ),
    ("`systemctl start pcscd`", "starts the system's pcscd: scripts/test starts its own, by PID"),
    ("`pcscd`", "as above"),
    (
        "`gpgconf --kill scdaemon`",
        "needs a card held by gpg's scdaemon: followed in tests/card.rs (a_card_held_by_gpg_is_released_with_the_fix_it_names)",
    ),
    (
        "`symbolon card list`",
        "doctor names it where /sys or USB is missing: tests/portability.rs runs card list in exactly that root",
    ),
    (
        "`keybase pgp export -q jefferai > jefferai.asc`",
        "keybase is a network service; the gpg form beside it is followed",
    ),
    (
        "to reset the counter, enter the right PIN where the last try may be spent: symbolon decrypt SHARE --check --allow-last-pin-try",
        "needs a card at its last try: followed in tests/card.rs (wrong_pins_count_down_and_the_last_try_is_guarded)",
    ),
    (
        "to spend the last try, sure of the PIN: run again with --allow-last-pin-try",
        "needs a card: followed in tests/card.rs",
    ),
    (
        "enroll the custodian with `symbolon split ... --recipient NAME=cv25519.asc`.",
        "needs a card: followed in tests/card.rs (card_setup_generates_keys_on_the_card_for_each_algorithm splits to the file written)",
    ),
    (
        "to erase its keys and set it up anew, type its ident back (as `symbolon card list` shows it): --reset IDENT",
        "needs a card: followed in tests/card.rs (a_card_with_keys_is_refused_and_a_reset_needs_its_ident)",
    ),
];

struct Advised {
    name: &'static str,
    args: Vec<&'static str>,
    env: Vec<(&'static str, &'static str)>,
    /// Values for placeholders, for flags the advice names without one, and ("+") arguments a
    /// printed command leaves to the reader (the share, the custodian's key file).
    values: Vec<(&'static str, &'static str)>,
    /// The exit code of the advised command (0: the advice fixed it).
    then: i32,
    /// Run the refused command on a terminal (`script`).
    tty: bool,
}

fn advised(name: &'static str, args: &[&'static str], values: &[(&'static str, &'static str)]) -> Advised {
    Advised { name, args: args.to_vec(), env: Vec::new(), values: values.to_vec(), then: 0, tty: false }
}

/// `symbolon ARGS` with a terminal as its stdin, stdout and stderr (util-linux `script`); what it
/// printed comes back as stdout.
fn on_a_terminal(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let quoted: Vec<String> = std::iter::once(common::bin().display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let out = std::process::Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    Run { code: out.status.code().unwrap_or(-1), stdout: out.stdout.replace_crlf(), stderr: String::new() }
}

trait Crlf {
    fn replace_crlf(self) -> Vec<u8>;
}

impl Crlf for Vec<u8> {
    fn replace_crlf(self) -> Vec<u8> {
        String::from_utf8_lossy(&self).replace("\r\n", "\n").into_bytes()
    }
}

/// Every piece of advice the tool prints (hints on refusals, "Next:" lines, commands in
/// messages) is read from the output and carried out as printed, with only its placeholders
/// filled in; the advised command must then do what the advice promised. Advice in any snapshot
/// that no case here follows fails the test, unless listed in NOT_FOLLOWED_HERE with its reason.
#[test]
fn every_printed_advice_is_followed() {
    let f = setup();
    let d = f.dir.path();
    let keys: Vec<String> =
        (1..=3).map(|i| std::fs::read_to_string(d.join(format!("vset/0{i}-share.hex"))).unwrap()).collect();
    write(d, "three-keys.txt", keys.concat().as_bytes());
    let fourth = std::fs::read_to_string(d.join("vset/04-share.hex")).unwrap();
    write(d, "four-keys.txt", format!("{}{fourth}", keys.concat()).as_bytes());

    let no_pcscd = ("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm");
    let (s1, s2, s3) = ("set/01-share.txt", "set/02-share.txt", "set/03-share.txt");
    // A staged ceremony one share short of its threshold, its operator's key in a file.
    let init = f.run(&[
        "rekey",
        "init",
        "--state-dir",
        "st",
        "--operator-cert",
        "olga.asc",
        "--old-manifest",
        "set/manifest.json",
        "-n",
        "2",
        "-t",
        "2",
        "--plaintext",
        "-o",
        "staged-new",
        "--yes",
    ]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let nonce: &'static str = init
        .stdout_text()
        .lines()
        .find_map(|l| l.strip_prefix("Ceremony started. Nonce: "))
        .map(|n| &*n.to_string().leak())
        .unwrap();
    let hash: &'static str =
        init.stdout_text().lines().find_map(|l| l.strip_prefix("Plan hash: ")).map(|n| &*n.to_string().leak()).unwrap();
    for share in [s1, s2] {
        let submitted = f.run(&["rekey", "submit", "--state-dir", "st", "--nonce", nonce, "--plan-hash", hash, share]);
        assert_eq!(submitted.code, 0, "{}", submitted.stderr);
    }
    let mut cases = vec![
        Advised {
            env: vec![no_pcscd],
            ..advised(
                "operator-key-in-a-file",
                &["rekey", "submit", "--state-dir", "st", "--nonce", nonce, "--plan-hash", hash, s3],
                &[("FILE", "olga.key")],
            )
        },
        Advised {
            then: 1,
            ..advised(
                "manifest-names-the-bad-share",
                &["combine", s1, "bad-02.txt", s3, "--stdout"],
                &[("FILE", "set/manifest.json")],
            )
        },
        advised(
            "manifest-given-as-share",
            &["combine", "set/manifest.json", s1, s2, s3, "--stdout"],
            &[("FILE", "set/manifest.json")],
        ),
        advised(
            "image-given-as-share",
            &["inspect", "enc/01-alice.qr1.png"],
            &[("IMAGE", "enc/01-alice.qr1.png"), ("IMAGE", "enc/01-alice.qr2.png")],
        ),
        advised(
            "bare-keys-threshold",
            &["combine", "three-keys.txt", "--stdout"],
            &[("K", "3"), ("FILE", "vset/manifest.json")],
        ),
        advised("one-bare-key", &["combine", "one-key.txt", "--stdout"], &[]),
        // One key more than the threshold: the secret is verified by it, with or without the
        // manifest (whose set's secret was given, so it commits to no bare key).
        advised(
            "rekey-bare-keys-threshold",
            &["rekey", "four-keys.txt", "-n", "2", "-t", "2", "--scheme", "vault", "--plaintext", "--yes", "-o", "rk"],
            &[("K", "3"), ("FILE", "vset/manifest.json")],
        ),
        advised(
            "rekey-unverified",
            &[
                "rekey",
                "vgen-three-keys.txt",
                "--old-threshold",
                "3",
                "-n",
                "2",
                "-t",
                "2",
                "--scheme",
                "vault",
                "--plaintext",
                "--yes",
                "-o",
                "ru",
            ],
            &[("FILE", "vgen/manifest.json")],
        ),
        advised(
            "unknown-nonce",
            &["rekey", "cancel", "--state-dir", "state", "--nonce", "00112233445566778899aabbccddeeff"],
            &[],
        ),
        advised(
            "binary-vault",
            &[
                "split",
                "--secret-file",
                "secret.bin",
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
                "-o",
                "bv",
            ],
            &[],
        ),
        advised(
            "custodian-count",
            &[
                "split",
                "--secret-file",
                "secret.bin",
                "-n",
                "3",
                "-t",
                "2",
                "--recipient",
                "alice.asc",
                "--recipient",
                "bob.asc",
                "-o",
                "cc",
            ],
            &[("--recipient", "carol.asc"), ("--shares", "2")],
        ),
        advised(
            "no-custodians",
            &["split", "--secret-file", "secret.bin", "-n", "2", "-t", "2", "-o", "nc"],
            &[("--recipient", "alice.asc"), ("--recipient", "bob.asc"), ("--pgp-keys", "alice.b64,bob.b64")],
        ),
        advised(
            "same-name",
            &[
                "split",
                "--secret-file",
                "secret.bin",
                "-n",
                "2",
                "-t",
                "2",
                "--recipient",
                "alice.asc",
                "--recipient",
                "alice=bob.asc",
                "-o",
                "sn",
            ],
            &[("FILE", "bob.asc")],
        ),
        advised(
            "vault-hex-encrypted",
            &[
                "split",
                "--secret-file",
                "secret.bin",
                "-n",
                "1",
                "-t",
                "1",
                "--scheme",
                "vault",
                "--format",
                "vault-hex",
                "--recipient",
                "alice.asc",
                "-o",
                "vh",
            ],
            &[],
        ),
        advised(
            "vault-hex-native",
            &[
                "split",
                "--secret-file",
                "secret.bin",
                "-n",
                "3",
                "-t",
                "2",
                "--plaintext",
                "--format",
                "vault-hex",
                "-o",
                "vn",
            ],
            &[],
        ),
        Advised {
            tty: true,
            ..advised(
                "secret-from-a-terminal",
                &["split", "--stdin", "-n", "2", "-t", "2", "--plaintext", "-o", "ns"],
                &[("FILE", "secret.bin")],
            )
        },
        advised(
            "rekey-without-terminal",
            &[
                "rekey",
                s1,
                s2,
                s3,
                "--old-manifest",
                "set/manifest.json",
                "-n",
                "2",
                "-t",
                "2",
                "--plaintext",
                "-o",
                "nt",
            ],
            &[],
        ),
        Advised {
            env: vec![no_pcscd],
            ..advised(
                "share-on-a-card-or-a-file",
                &["decrypt", "enc/01-alice.asc", "--check"],
                &[("FILE", "alice.key")],
            )
        },
        // Success paths: the next step they name.
        advised(
            "split-encrypted-next",
            &[
                "split",
                "--secret-file",
                "secret.bin",
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
                "se",
            ],
            &[("+", "se/01-alice.asc --key-file alice.key"), ("+", "se/02-bob.asc --key-file bob.key")],
        ),
        advised(
            "rekey-next",
            &[
                "rekey",
                s1,
                s2,
                s3,
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
            &[("+", "--key-file alice.key --key-file bob.key")],
        ),
        // Commands named in messages.
        advised("plaintext-share-given-to-decrypt", &["decrypt", s1], &[("+", "set/01-share.txt")]),
        advised(
            "encrypted-share-given-to-inspect",
            &["inspect", "enc/01-alice.asc"],
            &[("+", "enc/01-alice.asc --key-file alice.key")],
        ),
        Advised { env: vec![no_pcscd], ..advised("without-pcscd", &["card", "list"], &[]) },
    ];
    for name in ["alice", "bob"] {
        let cert = sequoia_openpgp::Cert::from_bytes(&std::fs::read(d.join(format!("{name}.asc"))).unwrap()).unwrap();
        use base64::Engine;
        use sequoia_openpgp::parse::Parse;
        use sequoia_openpgp::serialize::SerializeInto;
        write(
            d,
            &format!("{name}.b64"),
            base64::engine::general_purpose::STANDARD.encode(cert.to_vec().unwrap()).as_bytes(),
        );
    }
    let mut followed = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for case in cases.drain(..) {
        let env: Vec<(String, String)> =
            f.env.iter().cloned().chain(case.env.iter().map(|(k, v)| (k.to_string(), v.to_string()))).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let run = if case.tty { on_a_terminal(d, &case.args, &env) } else { run_with_env(d, &case.args, None, &env) };
        let output = format!("{}{}", run.stdout_text(), run.stderr);
        let advice = advice_in(&output);
        if advice.is_empty() {
            failures.push(format!("{}: no advice printed (exit {}):\n{output}", case.name, run.code));
            continue;
        }
        let args: Vec<String> = case.args.iter().map(|a| a.to_string()).collect();
        for text in advice {
            // Commands of other tools are followed by their own cases below.
            let command = text.trim_matches('`');
            if text.starts_with('`') && !command.starts_with("symbolon ") {
                continue;
            }
            for (n, mut then) in follow(&args, command, &case.values).into_iter().enumerate() {
                // A follow-up writes where the refused command would have, in a fresh directory.
                if let Some(i) = then.iter().position(|a| a == "-o") {
                    then[i + 1] = format!("{}-{n}", then[i + 1]);
                }
                let words: Vec<&str> = then.iter().map(String::as_str).collect();
                let after = run_with_env(d, &words, None, &env);
                let again = advice_in(&after.stderr).contains(&text.to_string());
                // doctor exits 1 when it finds a problem: what counts is that it made its checks.
                let wanted = if words == ["doctor"] && after.stdout_text().contains("core dumps:") {
                    after.code.min(1)
                } else {
                    case.then
                };
                if after.code != wanted || again {
                    failures.push(format!(
                        "{}: advice {text:?} followed as `symbolon {}`: exit {} (wanted {}){}\n{}",
                        case.name,
                        words.join(" "),
                        after.code,
                        wanted,
                        if again { ", and the same advice again" } else { "" },
                        after.stderr
                    ));
                }
                if case.name == "manifest-names-the-bad-share" && !after.stderr.contains("1 (bad-02.txt) do not match")
                {
                    failures.push(format!("the manifest did not name the bad share:\n{}", after.stderr));
                }
            }
            followed.insert(text);
        }
    }
    // Other tools' commands, run as printed (gpg in its own home).
    let gpg_home = d.join("gnupg");
    std::fs::create_dir_all(&gpg_home).unwrap();
    let sh = |script: &str| -> std::process::Output {
        std::process::Command::new("sh")
            .args(["-c", script])
            .current_dir(d)
            .env("GNUPGHOME", &gpg_home)
            .output()
            .unwrap()
    };
    let imported = sh(
        "chmod 700 gnupg && gpg --batch --quiet --import alice.asc && gpg --batch --quiet --quick-gen-key --passphrase '' jefferai default default never",
    );
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    for (case_args, printed, placeholder, then) in [
        (
            vec!["split", "--secret-file", "secret.bin", "-n", "1", "-t", "1", "--recipient", "junk.asc", "-o", "g1"],
            "`gpg --export --armor KEY`",
            ("KEY", "alice@example.org > from-gpg.asc"),
            vec![
                "split",
                "--secret-file",
                "secret.bin",
                "-n",
                "1",
                "-t",
                "1",
                "--recipient",
                "from-gpg.asc",
                "-o",
                "g1",
            ],
        ),
        (
            vec![
                "split",
                "--secret-file",
                "secret.bin",
                "-n",
                "1",
                "-t",
                "1",
                "--recipient",
                "keybase:jefferai",
                "-o",
                "g2",
            ],
            "`gpg --export jefferai | base64 -w0 > jefferai.b64`",
            ("", ""),
            vec![
                "split",
                "--secret-file",
                "secret.bin",
                "-n",
                "1",
                "-t",
                "1",
                "--pgp-keys",
                "jefferai.b64",
                "-o",
                "g2",
            ],
        ),
    ] {
        let run = f.run(&case_args);
        let advice = advice_in(&run.stderr);
        assert!(
            run.code != 0 && advice.iter().any(|a| a == printed),
            "{case_args:?} did not print {printed}:\n{}",
            run.stderr
        );
        let script = printed.trim_matches('`');
        let script =
            if placeholder.0.is_empty() { script.to_string() } else { script.replace(placeholder.0, placeholder.1) };
        let out = sh(&script);
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        let after = f.run(&then);
        if after.code != 0 {
            failures.push(format!("after `{script}`, {then:?}: exit {}\n{}", after.code, after.stderr));
        }
        followed.insert(printed.to_string());
    }
    let _ = std::process::Command::new("gpgconf").args(["--kill", "all"]).env("GNUPGHOME", &gpg_home).output();
    // Every piece of advice any snapshot shows was followed here, or is listed with its reason.
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut unfollowed = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&snapshots).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for advice in advice_in(&text) {
            let known = followed.contains(&advice)
                || NOT_FOLLOWED_HERE.iter().any(|(a, _)| *a == advice)
                // A share or command line quoted back in backticks is not advice.
                || !advice.contains(' ') && !advice.starts_with("`symbolon")
                || advice.starts_with("`$ ");
            if !known {
                unfollowed.insert(advice);
            }
        }
    }
    assert!(unfollowed.is_empty(), "advice in tests/snapshots that no test follows:\n{unfollowed:#?}");
    assert!(failures.is_empty(), "{} pieces of advice did not work:\n{}", failures.len(), failures.join("\n\n"));
}

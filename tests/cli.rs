//! The command line: every error with its message and exit code, and nothing written on failure.

mod common;

use base64::Engine;
use common::{TempDir, assert_fails, assert_ok, run_in};
use std::os::unix::fs::PermissionsExt;
use symbolon::share::Share;

/// Splits a 32-byte secret 3-of-5 (native) into `dir/set`; returns the secret.
fn split_set(dir: &TempDir, extra: &[&str]) -> Vec<u8> {
    let secret: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
    std::fs::write(dir.join("secret.bin"), &secret).unwrap();
    let mut args = vec!["split", "--secret-file", "secret.bin", "-n", "5", "-t", "3", "--plaintext", "-o", "set"];
    args.extend_from_slice(extra);
    assert_ok(&run_in(dir.path(), &args, None));
    secret
}

/// Asserts that a failed command left `dir` exactly as `before` (no output, no temp files).
fn assert_untouched(dir: &TempDir, before: &[String]) {
    assert_eq!(dir.entries(), before, "the failed command wrote something");
}

#[test]
fn split_writes_a_new_private_directory_and_combine_recovers() {
    let dir = TempDir::new("split");
    let secret = split_set(&dir, &["--label", "vault-prod unseal", "--target", "unseal"]);
    let set = dir.join("set");
    let mut names: Vec<String> =
        std::fs::read_dir(&set).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        ["01-share.txt", "02-share.txt", "03-share.txt", "04-share.txt", "05-share.txt", "manifest.json"]
    );
    assert_eq!(std::fs::metadata(&set).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(std::fs::metadata(set.join("02-share.txt")).unwrap().permissions().mode() & 0o777, 0o600);
    let manifest = std::fs::read_to_string(set.join("manifest.json")).unwrap();
    assert!(!manifest.contains(&hex::encode(&secret)));
    assert!(manifest.contains("\"schema_version\": 1"));

    let run = run_in(
        dir.path(),
        &["combine", "set/05-share.txt", "set/02-share.txt", "set/03-share.txt", "--out", "recovered.bin"],
        None,
    );
    assert_ok(&run);
    assert!(run.stderr.contains("Verified: the secret matches the set's commitment"), "{}", run.stderr);
    assert_eq!(std::fs::read(dir.join("recovered.bin")).unwrap(), secret);
    assert_eq!(std::fs::metadata(dir.join("recovered.bin")).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn split_refuses_bad_parameters_and_writes_nothing() {
    let dir = TempDir::new("split-errors");
    std::fs::write(dir.join("secret.bin"), b"s3cret").unwrap();
    std::fs::write(dir.join("empty.bin"), b"").unwrap();
    let before = dir.entries();
    let base = ["split", "--secret-file", "secret.bin", "--plaintext", "-o", "out"];
    let cases: &[(&[&str], &str)] = &[
        (&["-n", "3", "-t", "4"], "the threshold (4) is larger than the number of shares (3)"),
        (&["-n", "256", "-t", "2"], "256 shares asked for, but at most 255 are possible"),
        (&["-n", "3", "-t", "0"], "the threshold is 0"),
        (&["-n", "0", "-t", "0"], "the share count is 0"),
        (&["-n", "3", "-t", "1", "--scheme", "vault"], "the vault scheme needs a threshold of at least 2"),
        (
            &["-n", "3", "-t", "2", "--format", "vault-hex"],
            "symbolon's own share format\nhint: add --scheme vault, or use --format symbolon",
        ),
        (&["-n", "3", "-t", "2", "--label", &"x".repeat(65)], "labels hold at most 64 bytes"),
        (&["-n", "3", "-t", "2", "--label", "two\nlines"], "holds control or invisible format characters"),
    ];
    for (extra, message) in cases {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        assert_fails(&run_in(dir.path(), &args, None), 1, &[message]);
        assert_untouched(&dir, &before);
    }
    // Whole command lines: (arguments, exit code, message). Usage errors exit 2.
    let k = ["-n", "3", "-t", "2", "-o", "out"];
    let whole: &[(&[&str], i32, &str)] = &[
        (&["split", "--secret-file", "empty.bin", "--plaintext"], 1, "the secret is empty"),
        (&["split", "--secret-file", "secret.bin"], 1, "pass --plaintext"),
        (&["split", "--secret-file", "missing.bin", "--plaintext"], 1, "cannot open missing.bin"),
        (&["split", "--secret-file", "secret.bin", "--generate", "32", "--plaintext"], 2, "cannot be used with"),
        (&["split", "--plaintext"], 2, "required"),
    ];
    for (args, code, message) in whole {
        let mut args = args.to_vec();
        args.extend_from_slice(&k);
        assert_fails(&run_in(dir.path(), &args, None), *code, &[message]);
        assert_untouched(&dir, &before);
    }
}

#[test]
fn split_never_writes_into_an_existing_directory() {
    let dir = TempDir::new("split-exists");
    std::fs::create_dir(dir.join("out")).unwrap();
    std::fs::write(dir.join("out/keep.txt"), b"keep").unwrap();
    let before = dir.entries();
    let run =
        run_in(dir.path(), &["split", "--generate", "32", "--plaintext", "-n", "3", "-t", "2", "-o", "out"], None);
    assert_fails(&run, 1, &["out already exists", "never writes into or over"]);
    assert_untouched(&dir, &before);
    assert_eq!(std::fs::read_dir(dir.join("out")).unwrap().count(), 1);
}

#[test]
fn split_from_stdin_and_vault_spellings() {
    let dir = TempDir::new("split-stdin");
    let run = run_in(
        dir.path(),
        &[
            "split",
            "--stdin",
            "--key-shares",
            "4",
            "--key-threshold",
            "2",
            "--scheme",
            "vault",
            "--plaintext",
            "-o",
            "set",
        ],
        Some(b"piped secret"),
    );
    assert_ok(&run);
    let run = run_in(dir.path(), &["combine", "set/04-share.txt", "set/01-share.txt", "--stdout"], None);
    assert_ok(&run);
    assert_eq!(run.stdout, b"piped secret");
}

#[test]
fn threshold_one_warns_that_every_share_is_the_secret() {
    let dir = TempDir::new("k1");
    let run =
        run_in(dir.path(), &["split", "--generate", "16", "--plaintext", "-n", "3", "-t", "1", "-o", "set"], None);
    assert_ok(&run);
    assert!(run.stderr.contains("every share alone IS the secret"), "{}", run.stderr);
}

#[test]
fn combine_errors_name_the_problem() {
    let dir = TempDir::new("combine-errors");
    split_set(&dir, &[]);
    let other = TempDir::new("combine-other");
    split_set(&other, &[]);
    std::fs::copy(other.join("set/01-share.txt"), dir.join("other-01.txt")).unwrap();
    let before = dir.entries();

    let run = run_in(dir.path(), &["combine", "set/01-share.txt", "set/02-share.txt", "--out", "s.bin"], None);
    assert_fails(&run, 1, &["too few shares: 2 distinct shares", "3 needed; add 1 more"]);
    assert_untouched(&dir, &before);

    let run = run_in(
        dir.path(),
        &["combine", "set/01-share.txt", "set/02-share.txt", "other-01.txt", "--out", "s.bin"],
        None,
    );
    assert_fails(&run, 1, &["come from 2 different sets", "other-01.txt", "combine shares of one set only"]);
    assert_untouched(&dir, &before);

    // A mistyped character: the file, the line and the character are named.
    let text = std::fs::read_to_string(dir.join("set/03-share.txt")).unwrap();
    let line = text.lines().find(|l| l.starts_with("04 ")).unwrap();
    let chars: Vec<char> = line.chars().collect();
    let replacement = if chars[4] == 'A' { 'B' } else { 'A' };
    let typo = text.replacen(line, &format!("{}{}{}", &line[..4], replacement, &line[5..]), 1);
    std::fs::write(dir.join("typo.txt"), typo).unwrap();
    let before = dir.entries();
    let run =
        run_in(dir.path(), &["combine", "set/01-share.txt", "set/02-share.txt", "typo.txt", "--out", "s.bin"], None);
    assert_fails(
        &run,
        1,
        &["typo.txt: line 4 fails its check", "character 1", &format!("should probably be '{}'", chars[4])],
    );
    assert_untouched(&dir, &before);

    // No destination is a usage error; an existing --out file is never overwritten.
    let run = run_in(dir.path(), &["combine", "set/01-share.txt", "set/02-share.txt", "set/03-share.txt"], None);
    assert_fails(&run, 2, &["required"]);
    std::fs::write(dir.join("exists.bin"), b"old").unwrap();
    let run = run_in(
        dir.path(),
        &["combine", "set/01-share.txt", "set/02-share.txt", "set/03-share.txt", "--out", "exists.bin"],
        None,
    );
    assert_fails(&run, 1, &["exists.bin already exists"]);
    assert_eq!(std::fs::read(dir.join("exists.bin")).unwrap(), b"old");

    let run = run_in(dir.path(), &["combine", "nowhere/x.txt", "--stdout"], None);
    assert_fails(&run, 1, &["nowhere/x.txt: no such file"]);
    let run = run_in(dir.path(), &["combine", "not-a-key!", "--stdout"], None);
    assert_fails(&run, 1, &["neither hex nor base64"]);
}

/// Re-encodes a share file with one payload byte changed: the checksum is valid, only the
/// commitments can tell.
fn alter(path: &std::path::Path, to: &std::path::Path) {
    let mut share = Share::from_text(&std::fs::read_to_string(path).unwrap()).unwrap();
    share.payload.expose_mut()[3] ^= 0x10;
    std::fs::write(to, share.to_text().as_bytes()).unwrap();
}

#[test]
fn combine_finds_and_names_a_wrong_share() {
    let dir = TempDir::new("combine-bad");
    let secret = split_set(&dir, &[]);
    alter(&dir.join("set/02-share.txt"), &dir.join("bad-02.txt"));

    // More than k shares, one wrong: recovered, and the wrong one named.
    let run = run_in(
        dir.path(),
        &[
            "combine",
            "set/01-share.txt",
            "bad-02.txt",
            "set/03-share.txt",
            "set/04-share.txt",
            "--stdout",
            "--encoding",
            "hex",
        ],
        None,
    );
    assert_ok(&run);
    assert_eq!(run.stdout_text().trim(), hex::encode(&secret));
    assert!(run.stderr.contains("BAD SHARE: bad-02.txt"), "{}", run.stderr);

    // Exactly k, one wrong: refused; with the manifest, the wrong one is named.
    let before = dir.entries();
    let args = ["combine", "set/01-share.txt", "bad-02.txt", "set/03-share.txt", "--out", "s.bin"];
    assert_fails(
        &run_in(dir.path(), &args, None),
        1,
        &["do not reconstruct the secret the set committed to", "--manifest"],
    );
    assert_untouched(&dir, &before);
    let mut with_manifest = args.to_vec();
    with_manifest.extend_from_slice(&["--manifest", "set/manifest.json"]);
    assert_fails(&run_in(dir.path(), &with_manifest, None), 1, &["bad-02.txt", "do not match the manifest"]);
    assert_untouched(&dir, &before);

    // The same share twice is noticed and ignored.
    let run = run_in(
        dir.path(),
        &[
            "combine",
            "set/01-share.txt",
            "set/01-share.txt",
            "set/03-share.txt",
            "set/04-share.txt",
            "--stdout",
            "--encoding",
            "base64",
        ],
        None,
    );
    assert_ok(&run);
    assert!(run.stderr.contains("repeats another input"), "{}", run.stderr);
}

fn vault_vector(i: usize) -> (Vec<u8>, usize, Vec<Vec<u8>>) {
    let v = &common::vault_vectors()["vectors"][i];
    let secret = hex::decode(v["secret_hex"].as_str().unwrap()).unwrap();
    let k = v["threshold"].as_u64().unwrap() as usize;
    let shares =
        v["shares_hex"].as_array().unwrap().iter().map(|s| hex::decode(s.as_str().unwrap()).unwrap()).collect();
    (secret, k, shares)
}

#[test]
fn combine_reads_vault_init_output_in_text_and_json() {
    let dir = TempDir::new("vault-forms");
    let (secret, k, shares) = vault_vector(0);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut text = String::new();
    for (i, s) in shares.iter().enumerate().take(k) {
        text.push_str(&format!("Unseal Key {}: {}\n", i + 1, b64(s)));
    }
    text.push_str(&format!(
        "\nInitial Root Token: hvs.notreal\n\nVault initialized with {} key shares and a key threshold of {k}. Please securely\n",
        shares.len()
    ));
    std::fs::write(dir.join("init.txt"), &text).unwrap();
    let run = run_in(dir.path(), &["combine", "init.txt", "--stdout", "--encoding", "hex"], None);
    assert_ok(&run);
    assert_eq!(run.stdout_text().trim(), hex::encode(&secret));

    let json = serde_json::json!({
        "unseal_keys_b64": shares.iter().map(|s| b64(s)).collect::<Vec<_>>(),
        "unseal_keys_hex": shares.iter().map(hex::encode).collect::<Vec<_>>(),
        "unseal_shares": shares.len(),
        "unseal_threshold": k,
        "recovery_keys_b64": [], "recovery_keys_hex": [], "recovery_keys_shares": 0, "recovery_keys_threshold": 0,
        "root_token": "hvs.notreal"
    });
    std::fs::write(dir.join("init.json"), json.to_string()).unwrap();
    let run = run_in(dir.path(), &["combine", "init.json", "--stdout", "--encoding", "hex"], None);
    assert_ok(&run);
    assert_eq!(run.stdout_text().trim(), hex::encode(&secret));
    // All 5 keys with a stated threshold of 3: checked for consistency.
    assert!(run.stderr.contains("5 keys lie on one polynomial"), "{}", run.stderr);
    assert!(!run.stderr.contains("hvs.notreal") && !run.stdout_text().contains("hvs.notreal"));
}

#[test]
fn combine_bare_vault_keys_names_the_bad_one() {
    let dir = TempDir::new("vault-bare");
    let (secret, _, mut shares) = vault_vector(0);
    shares[1][4] ^= 0x01;
    let lines: String = shares.iter().map(|s| format!("{}\n", hex::encode(s))).collect();
    std::fs::write(dir.join("keys.txt"), lines).unwrap();
    let run = run_in(dir.path(), &["combine", "keys.txt", "--threshold", "3", "--stdout", "--encoding", "hex"], None);
    assert_ok(&run);
    assert_eq!(run.stdout_text().trim(), hex::encode(&secret));
    assert!(run.stderr.contains("BAD SHARE: keys.txt (line 2)"), "{}", run.stderr);

    // Without a threshold or with too few keys, the tool says what it cannot know.
    std::fs::write(dir.join("one.txt"), hex::encode(&shares[0])).unwrap();
    assert_fails(
        &run_in(dir.path(), &["combine", "one.txt", "--stdout"], None),
        1,
        &["only one key was given", "--threshold 1"],
    );
    let run = run_in(dir.path(), &["combine", "one.txt", "--threshold", "1", "--stdout", "--encoding", "hex"], None);
    assert_ok(&run);
    assert_eq!(run.stdout_text().trim(), hex::encode(&shares[0]));
    let two: String = shares[2..4].iter().map(|s| format!("{}\n", hex::encode(s))).collect();
    std::fs::write(dir.join("two.txt"), two).unwrap();
    assert_fails(
        &run_in(dir.path(), &["combine", "two.txt", "--threshold", "3", "--stdout"], None),
        1,
        &["too few keys: 2 given, the threshold is 3"],
    );
    // Without the threshold, two keys of a 3-of-5 set would combine to a wrong value: refused.
    assert_fails(
        &run_in(dir.path(), &["combine", "two.txt", "--stdout"], None),
        1,
        &[
            "the threshold of these 2 Vault keys is not known",
            "Nothing was recovered",
            "hint: give it with --threshold K, or the manifest with --manifest FILE",
        ],
    );
}

#[test]
fn vault_share_format_roundtrip_with_manifest_check() {
    let dir = TempDir::new("vault-split");
    let run = run_in(
        dir.path(),
        &[
            "split",
            "--generate",
            "32",
            "--scheme",
            "vault",
            "--format",
            "vault",
            "--target",
            "recovery",
            "-n",
            "5",
            "-t",
            "3",
            "--plaintext",
            "-o",
            "set",
        ],
        None,
    );
    assert_ok(&run);
    let key = std::fs::read_to_string(dir.join("set/02-share.b64")).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.decode(key.trim()).unwrap();
    assert_eq!(bytes.len(), 33, "a Vault share of a 32-byte key is 33 bytes");
    let manifest = std::fs::read_to_string(dir.join("set/manifest.json")).unwrap();
    assert!(manifest.contains("bare_commitment"));

    let run = run_in(
        dir.path(),
        &[
            "combine",
            "set/01-share.b64",
            "set/02-share.b64",
            "set/05-share.b64",
            "--manifest",
            "set/manifest.json",
            "--stdout",
            "--encoding",
            "hex",
        ],
        None,
    );
    assert_ok(&run);
    assert!(run.stderr.contains("matches its commitment in the manifest"), "{}", run.stderr);
    let secret = run.stdout_text();

    // A key from another set is caught by the manifest.
    std::fs::write(dir.join("wrong.hex"), hex::encode(&vault_vector(0).2[0])).unwrap();
    let run = run_in(
        dir.path(),
        &[
            "combine",
            "set/01-share.b64",
            "wrong.hex",
            "set/03-share.b64",
            "set/04-share.b64",
            "--manifest",
            "set/manifest.json",
            "--stdout",
            "--encoding",
            "hex",
        ],
        None,
    );
    assert_ok(&run);
    assert_eq!(run.stdout_text(), secret);
    assert!(run.stderr.contains("BAD SHARE: wrong.hex"), "{}", run.stderr);
}

#[test]
fn inspect_shows_the_set_but_not_the_secret() {
    let dir = TempDir::new("inspect");
    let secret = split_set(&dir, &["--label", "ca root", "--target", "generic"]);
    let run = run_in(dir.path(), &["inspect", "set/04-share.txt"], None);
    assert_ok(&run);
    let out = run.stdout_text();
    assert!(out.contains("share 4 of 5, any 3 recover the secret"), "{out}");
    assert!(out.contains("label \"ca root\""), "{out}");
    // Nothing of the share's secret part: not its payload (hex or base64), not one of its data
    // lines, not the secret.
    let text = std::fs::read_to_string(dir.join("set/04-share.txt")).unwrap();
    let share = Share::all_from_text(&text).unwrap().remove(0);
    let payload = share.payload.expose();
    let data_lines: Vec<&str> = text.lines().filter(|l| l.len() > 10 && l.as_bytes()[0].is_ascii_digit()).collect();
    assert!(data_lines.len() >= 5, "{text}");
    let secret_forms =
        [hex::encode(&secret), hex::encode(payload), base64::engine::general_purpose::STANDARD.encode(payload)];
    for needle in data_lines.iter().map(|l| l[4..].to_string()).chain(secret_forms) {
        assert!(!out.contains(&needle), "inspect shows {needle:?}:\n{out}");
    }
    let run = run_in(dir.path(), &["inspect", "--json", "set/04-share.txt"], None);
    assert_ok(&run);
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["shares"][0]["index"], 4);
    assert_eq!(doc["shares"][0]["threshold"], 3);
    // Both forms whole, what differs between runs replaced by the JSON's own values.
    let share = &doc["shares"][0];
    let normalize = |text: String| {
        ["set_id", "set_id_short", "set_commitment", "share_commitment", "created"]
            .iter()
            .fold(text, |t, k| t.replace(share[*k].as_str().unwrap(), &format!("<{k}>")))
    };
    common::assert_snapshot("inspect-share-text", &normalize(out));
    common::assert_snapshot("inspect-share-json", &normalize(run.stdout_text()));
}

#[test]
fn rekey_reads_vaults_own_init_output_and_keeps_its_key() {
    // Vault's `operator init` output (shares made by Vault's own code) re-split offline into
    // Vault's scheme, 4 keys any 3 (Vault's threshold kept); the new keys give back Vault's key.
    let dir = TempDir::new("rekey-vault");
    let (secret, k, shares) = vault_vector(0);
    let mut text = String::new();
    for (i, s) in shares.iter().enumerate() {
        text.push_str(&format!("Unseal Key {}: {}\n", i + 1, hex::encode(s)));
    }
    text.push_str(&format!("\nVault initialized with {} key shares and a key threshold of {k}.\n", shares.len()));
    std::fs::write(dir.join("init.txt"), &text).unwrap();
    // Vault's keys re-split into Vault's scheme, as plain hex keys, `n`-of-4, into `out`.
    let rekey = |threshold: usize, out: &str, extra: &[&str]| {
        let t = threshold.to_string();
        let mut args = vec!["rekey", "init.txt", "--yes", "--scheme", "vault", "--format", "vault-hex", "--plaintext"];
        args.extend(["-n", "4", "-t", &t, "-o", out]);
        args.extend_from_slice(extra);
        run_in(dir.path(), &args, None)
    };
    let run = rekey(k, "new", &["--target", "unseal"]);
    assert_ok(&run);
    assert!(run.stdout_text().contains("Plan hash:"), "{}", run.stdout_text());
    assert!(!run.stderr.contains("threshold changes"), "Vault's threshold is kept: {}", run.stderr);
    let mut keys: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir.join("new")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".hex") || name.contains("share") {
            keys.push(format!("new/{name}"));
        }
    }
    keys.sort();
    assert_eq!(keys.len(), 4, "{keys:?}");
    let mut args = vec!["combine", "--stdout", "--encoding", "hex", "--manifest", "new/manifest.json"];
    args.extend(keys[1..=k].iter().map(String::as_str));
    let run = run_in(dir.path(), &args, None);
    assert_ok(&run);
    assert_eq!(run.stdout_text().trim(), hex::encode(&secret));
    // A new threshold unlike Vault's is warned about.
    let run = rekey(k + 1, "new4", &[]);
    assert_ok(&run);
    assert!(run.stderr.contains("the threshold changes"), "{}", run.stderr);
}

/// `verify`'s whole output, with the set id and the record's file name (a time) replaced.
fn verify_output(dir: &TempDir, set: &str, args: &[&str]) -> (i32, String) {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(set).join("manifest.json")).unwrap()).unwrap();
    let mut all = vec!["verify", "--no-wait"];
    all.extend_from_slice(args);
    let run = run_in(dir.path(), &all, None);
    let mut text = format!("--- stdout\n{}--- stderr\n{}", run.stdout_text(), run.stderr);
    text = text.replace(manifest["set_id_short"].as_str().unwrap(), "<SET>");
    while let Some(at) = text.find("verification-2") {
        let end = text[at..].find(".json").map_or(text.len(), |e| at + e);
        text.replace_range(at..end, "verification-<TIME>");
    }
    // Warnings about this machine's network come first; they are not verify's.
    let text =
        text.lines().filter(|l| !l.starts_with("warning: network interfaces are up")).collect::<Vec<_>>().join("\n");
    (run.code, text + "\n")
}

#[test]
fn verify_claims_the_set_only_when_every_share_verified() {
    let dir = TempDir::new("verify-claims");
    assert_ok(&run_in(
        dir.path(),
        &["split", "--generate", "16", "-n", "3", "-t", "2", "--plaintext", "-o", "set"],
        None,
    ));
    // One share asked for: verified, and the set is NOT verified yet (exit 0: a subset was asked).
    let (code, out) = verify_output(&dir, "set", &["--manifest", "set/manifest.json", "--share", "2"]);
    assert_eq!(code, 0, "{out}");
    common::assert_snapshot("verify-one-share-of-three", &out);
    // Every share: the set is verified.
    let (code, out) = verify_output(&dir, "set", &["--manifest", "set/manifest.json"]);
    assert_eq!(code, 0, "{out}");
    common::assert_snapshot("verify-every-share", &out);
    // A share missing: the set is not verified (exit 1); a quorum is, and says exactly that.
    std::fs::remove_file(dir.join("set/03-share.txt")).unwrap();
    let (code, out) = verify_output(&dir, "set", &["--manifest", "set/manifest.json"]);
    assert_eq!(code, 1, "{out}");
    common::assert_snapshot("verify-share-missing", &out);
    let (code, out) = verify_output(&dir, "set", &["--manifest", "set/manifest.json", "--quorum"]);
    assert_eq!(code, 0, "{out}");
    common::assert_snapshot("verify-share-missing-quorum", &out);
}

#[test]
fn verify_of_vault_keys_does_not_claim_a_set_commitment() {
    let dir = TempDir::new("verify-vault");
    let split =
        ["split", "--generate", "32", "-n", "3", "-t", "2", "--plaintext", "--scheme", "vault", "--format", "vault"];
    assert_ok(&run_in(dir.path(), &[&split[..], &["-o", "set"]].concat(), None));
    let (code, out) = verify_output(&dir, "set", &["--manifest", "set/manifest.json"]);
    assert_eq!(code, 0, "{out}");
    common::assert_snapshot("verify-vault-keys", &out);
    let record = std::fs::read_dir(dir.join("set"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("verification-"))
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
    assert_eq!(json["set_commitment_checked"], false);
    assert_eq!(json["set_check"], "each-key");
}

#[test]
fn a_malformed_manifest_field_is_named() {
    let dir = TempDir::new("manifest-fields");
    split_set(&dir, &[]);
    let text = std::fs::read_to_string(dir.join("set/manifest.json")).unwrap();
    let cases: [(&str, serde_json::Value, &str); 6] = [
        (
            "/encryption",
            "rot13".into(),
            "the manifest's field 'encryption' is invalid: 'rot13' is neither openpgp nor none",
        ),
        (
            "/shares/1/commitment",
            "12".into(),
            "the manifest's field 'shares[].commitment' is invalid: share 2: expected 64 hex digits",
        ),
        (
            "/shares/0/file",
            "../../etc/passwd".into(),
            "the manifest's field 'shares[].file' is invalid: share 1: '../../etc/passwd' is not a plain file name",
        ),
        (
            "/shares/2/index",
            1.into(),
            "the manifest's field 'shares[].index' is invalid: index 1 is zero or listed twice",
        ),
        ("/target", "everything".into(), "the manifest's field 'target' is invalid"),
        ("/share_count", 9.into(), "the manifest's field 'shares' is invalid: lists 5 shares, share_count says 9"),
    ];
    for (pointer, value, want) in cases {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        *v.pointer_mut(pointer).unwrap() = value;
        std::fs::write(dir.join("bad.json"), serde_json::to_string(&v).unwrap()).unwrap();
        let run = run_in(
            dir.path(),
            &[
                "combine",
                "set/01-share.txt",
                "set/02-share.txt",
                "set/03-share.txt",
                "--manifest",
                "bad.json",
                "--stdout",
                "--encoding",
                "hex",
            ],
            None,
        );
        assert_fails(&run, 1, &[want]);
    }
}

/// A manifest altered after the split is blamed, not the shares: an edited threshold is named as
/// the manifest's, and a share whose commitment entry was altered is called good (the set's
/// commitment supports it) with the manifest's entry named as wrong; verify says the same and
/// never "OK".
#[test]
fn an_altered_manifest_is_blamed_not_the_shares() {
    let dir = TempDir::new("manifest-altered");
    let secret = split_set(&dir, &[]);
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("set/manifest.json")).unwrap()).unwrap();
    let write = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut m = original.clone();
        edit(&mut m);
        std::fs::write(dir.join(name), serde_json::to_string_pretty(&m).unwrap()).unwrap();
    };
    write("set/threshold.json", &|m| m["threshold"] = 2.into());
    write("set/commitment.json", &|m| {
        let c = m["shares"][1]["commitment"].as_str().unwrap().to_string();
        let flipped = if c.starts_with('0') { "1" } else { "0" };
        m["shares"][1]["commitment"] = format!("{flipped}{}", &c[1..]).into();
    });
    let shares = ["set/01-share.txt", "set/02-share.txt", "set/03-share.txt"];
    let combine = |manifest: &str| {
        let mut args = vec!["combine"];
        args.extend(shares);
        args.extend(["--manifest", manifest, "--stdout", "--encoding", "hex"]);
        run_in(dir.path(), &args, None)
    };
    let run = combine("set/threshold.json");
    assert_fails(
        &run,
        1,
        &[
            "the manifest and every share given disagree about set",
            "the manifest says threshold (2, not 3)",
            "the manifest was likely altered or damaged",
        ],
    );
    assert!(!run.stderr.contains("BAD SHARE"), "{}", run.stderr);
    let run = combine("set/commitment.json");
    assert_ok(&run);
    assert_eq!(run.stdout_text().trim(), hex::encode(&secret));
    assert!(
        run.stderr.contains("warning: set/02-share.txt and the manifest disagree: its commitment in the manifest does not match it, but the set's commitment supports the share"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("BAD SHARE"), "{}", run.stderr);
    // verify: every share named, the manifest blamed, nothing called OK, exit 1.
    std::fs::copy(dir.join("set/threshold.json"), dir.join("set/manifest.json")).unwrap();
    let run = run_in(dir.path(), &["verify", "--manifest", "set/manifest.json"], None);
    assert_fails(&run, 1, &["NOT verified"]);
    assert!(!run.stderr.contains("OK"), "{}", run.stderr);
    let blamed = "NOT verified: it is a well-formed share, but the share and the manifest disagree about set";
    assert_eq!(run.stdout_text().matches(blamed).count(), 5, "{}", run.stdout_text());
    assert!(!run.stdout_text().contains("decrypts"), "{}", run.stdout_text());
}

/// Every command with its stdout already closed (as `| head -1` closes it): no panic, exit 141
/// (a process ended by SIGPIPE) when it had something to print, nothing unfinished left behind,
/// and outputs committed before the pipe broke are whole.
#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = TempDir::new("closed-stdout");
    let d = dir.path();
    assert_ok(&run_in(d, &["split", "--generate", "32", "-n", "3", "-t", "2", "--plaintext", "-o", "set"], None));
    // The exit code wanted: 141 where stdout is written; clap's help ignores a closed stdout;
    // combine --out prints on stderr only; card list exits as pcscd and the cards make it. And
    // what stderr says of it: nothing, unless a secret or a share did not get through.
    let lost = |what: &str| {
        format!(
            "error: {what} could not be written to stdout (Broken pipe (os error 32)): it did not reach its reader whole"
        )
    };
    let (secret, qr) = (lost("the secret"), lost("the share's QR code"));
    let commands: &[(&[&str], Option<i32>, Option<&str>)] = &[
        (&["--help"], Some(0), None),
        (&["--version"], Some(0), None),
        (&["split", "--help"], Some(0), None),
        (&["split", "--generate", "32", "-n", "3", "-t", "2", "--plaintext", "-o", "new"], Some(141), None),
        (
            &["combine", "set/01-share.txt", "set/02-share.txt", "--stdout", "--encoding", "hex"],
            Some(141),
            Some(&secret),
        ),
        (&["combine", "set/01-share.txt", "set/02-share.txt", "--out", "secret.bin"], Some(0), None),
        (&["inspect", "set/01-share.txt"], Some(141), None),
        (&["inspect", "set/01-share.txt", "--json"], Some(141), None),
        (&["qr", "show", "set/01-share.txt"], Some(141), Some(&qr)),
        (&["verify", "--manifest", "set/manifest.json"], Some(141), None),
        (&["rekey", "status", "--state-dir", "state"], Some(141), None),
        (&["card", "list"], None, None),
        (&["card", "list", "--json"], Some(141), None),
        (&["doctor"], Some(141), None),
    ];
    let mut failures = Vec::new();
    for (args, wanted, said) in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(common::bin())
            .args(*args)
            .current_dir(d)
            .stdin(std::process::Stdio::null())
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        // The errors on stderr, leaving out the network warning and the recovery report.
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        let errors_wanted: Vec<&str> = said.iter().copied().collect();
        let errors_ok = wanted != &Some(141) || errors == errors_wanted;
        if stderr.contains("panicked") || code == Some(101) || wanted.is_some_and(|w| code != Some(w)) || !errors_ok {
            failures.push(format!("{args:?}: exit {code:?}\n{stderr}"));
        }
    }
    // No unfinished output anywhere in the tree.
    fn temporaries(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().contains("symbolon-tmp") {
                found.push(path.display().to_string());
            } else if path.is_dir() {
                temporaries(&path, found);
            }
        }
    }
    let mut left = Vec::new();
    temporaries(d, &mut left);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(left.is_empty(), "temporaries left behind: {left:?}");
    // What was committed before the pipe broke is whole.
    assert_ok(&run_in(d, &["combine", "new/01-share.txt", "new/03-share.txt", "--stdout", "--encoding", "hex"], None));
    assert_eq!(std::fs::read(d.join("secret.bin")).unwrap().len(), 32);
}

/// Re-encodes a share file (format v1) with its y bytes changed: all of them (`whole`), or one.
/// The checksum is valid: only the other shares or the commitments can tell.
fn corrupt_share(path: &std::path::Path, whole: bool, seed: u8) {
    let mut share = Share::from_text(&std::fs::read_to_string(path).unwrap()).unwrap();
    let y = share.payload.expose_mut();
    // Native payload: x || y.
    if whole {
        for (i, b) in y[1..].iter_mut().enumerate() {
            *b ^= (i as u8).wrapping_mul(31).wrapping_add(seed) | 1;
        }
    } else {
        y[1 + usize::from(seed) % (y.len() - 1)] ^= 0x04;
    }
    std::fs::write(path, share.to_text().as_bytes()).unwrap();
}

/// Splits a generated secret into `dir/set`, plaintext; returns the secret (from --stdout of a
/// combine of the first k shares, which the commitment verifies).
fn plain_set(dir: &TempDir, n: usize, k: usize, extra: &[&str]) -> String {
    let (n, k) = (n.to_string(), k.to_string());
    let mut args = vec!["split", "--generate", "32", "-n", &n, "-t", &k, "--plaintext", "-o", "set"];
    args.extend_from_slice(extra);
    assert_ok(&run_in(dir.path(), &args, None));
    let files = share_files(dir);
    let mut combine = vec!["combine".to_string()];
    combine.extend(files[..k.parse::<usize>().unwrap()].iter().cloned());
    combine.extend(["--stdout", "--encoding", "hex"].map(String::from));
    if extra.contains(&"vault-hex") {
        combine.extend(["--threshold".to_string(), k.clone()]);
    }
    let run = run_in(dir.path(), &combine.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_ok(&run);
    run.stdout_text().trim().to_string()
}

fn share_files(dir: &TempDir) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir.join("set"))
        .unwrap()
        .map(|e| format!("set/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|f| f.contains("-share."))
        .collect();
    files.sort();
    files
}

fn combine_files(dir: &TempDir, files: &[String], extra: &[&str]) -> common::Run {
    let mut args: Vec<&str> = vec!["combine"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--stdout", "--encoding", "hex"]);
    args.extend_from_slice(extra);
    run_in(dir.path(), &args, None)
}

/// The cases of the subset search that failed: a 10-of-20 set with one wrong share listed first
/// (wrong in every byte, or in one) is recovered and the share named.
#[test]
fn a_wrong_share_listed_first_among_twenty_is_named() {
    for whole in [true, false] {
        let dir = TempDir::new("decode-first-of-20");
        let secret = plain_set(&dir, 20, 10, &[]);
        let files = share_files(&dir);
        corrupt_share(&dir.join(&files[0]), whole, 7);
        let run = combine_files(&dir, &files, &[]);
        assert_ok(&run);
        assert_eq!(run.stdout_text().trim(), secret);
        let bad: Vec<&str> = run.stderr.lines().filter(|l| l.contains("BAD SHARE")).collect();
        assert_eq!(bad.len(), 1, "{}", run.stderr);
        assert!(bad[0].contains("set/01-share.txt"), "{}", run.stderr);
        assert!(
            run.stderr.contains(
                "Cross-checked: 19 of the 20 shares lie on the recovered polynomials (10 needed); the other is wrong (named below). Up to 9 more wrong shares would have been detected, and up to 4 more named."
            ),
            "{}",
            run.stderr
        );
    }
}

/// 128-of-255 with 63 wrong shares (the most 255 shares can locate), native shares and Vault's
/// bare keys: all 63 named. One more wrong share is past the bound, and the error says the bound.
#[test]
fn sixty_three_wrong_among_255_are_all_named_in_both_schemes() {
    for vault in [false, true] {
        let dir = TempDir::new("decode-255");
        let extra: &[&str] = if vault { &["--scheme", "vault", "--format", "vault-hex"] } else { &[] };
        let secret = plain_set(&dir, 255, 128, extra);
        let files = share_files(&dir);
        // Every fourth share, from the first: 64 of them; the first 63 are wrong.
        let wrong: Vec<usize> = (0..255).step_by(4).collect();
        for (n, &i) in wrong.iter().enumerate() {
            let path = dir.join(&files[i]);
            if n == 63 {
                std::fs::copy(&path, dir.join("spare-good")).unwrap();
            }
            if vault {
                let mut key = hex::decode(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
                key[n % 32] ^= 0x21; // one byte of y (the x byte is last)
                std::fs::write(&path, hex::encode(key)).unwrap();
            } else {
                corrupt_share(&path, n % 2 == 0, n as u8);
            }
        }
        let threshold: &[&str] = if vault { &["--threshold", "128"] } else { &[] };
        let good_again = std::fs::read(dir.join("spare-good")).unwrap();
        std::fs::write(dir.join(&files[wrong[63]]), &good_again).unwrap();
        let run = combine_files(&dir, &files, threshold);
        assert_ok(&run);
        assert_eq!(run.stdout_text().trim(), secret, "vault: {vault}");
        let named: Vec<String> = run
            .stderr
            .lines()
            .filter_map(|l| l.strip_prefix("warning: BAD SHARE: "))
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect();
        let expected: Vec<String> = wrong[..63].iter().map(|&i| files[i].clone()).collect();
        assert_eq!(named, expected, "{}", run.stderr);
        assert!(
            run.stderr.contains(
                "192 of the 255 shares lie on the recovered polynomials (128 needed); the other 63 are wrong"
            ),
            "{}",
            run.stderr
        );

        // A 64th wrong share: more than 255 shares of threshold 128 can locate.
        let path = dir.join(&files[wrong[63]]);
        if vault {
            let mut key = hex::decode(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
            key[0] ^= 1;
            std::fs::write(&path, hex::encode(key)).unwrap();
        } else {
            corrupt_share(&path, false, 3);
        }
        let before = dir.entries();
        let mut args = vec!["combine"];
        args.extend(files.iter().map(String::as_str));
        args.extend(["--out", "secret.out"]);
        args.extend_from_slice(threshold);
        let expected: &[&str] = if vault {
            &[
                "the 255 keys do not all lie on one polynomial of degree 127: more than 63 of them are wrong, and 255 keys with threshold 128 can locate at most 63",
                "Nothing was recovered",
            ]
        } else {
            &[
                "more than 63 of them are wrong, and 255 shares of a set with threshold 128 can locate at most 63",
                "Nothing was recovered",
            ]
        };
        assert_fails(&run_in(dir.path(), &args, None), 1, expected);
        assert_untouched(&dir, &before);
    }
}

/// Past the bound where the commitment cannot help either (too many subsets to try): refused,
/// with the bound and what would help; never "gave up after N combinations".
#[test]
fn past_the_bound_the_error_names_the_bound() {
    let dir = TempDir::new("decode-past-bound");
    plain_set(&dir, 20, 10, &[]);
    let files = share_files(&dir);
    for (n, f) in files[..6].iter().enumerate() {
        corrupt_share(&dir.join(f), true, n as u8);
    }
    let run = combine_files(&dir, &files, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(
        run.stderr.lines().find(|l| l.starts_with("error:")),
        Some(
            format!(
                "error: the 20 shares of set {} do not reconstruct the committed secret: more than 5 of them are wrong, and 20 shares of a set with threshold 10 can locate at most 5 (half of the 10 beyond the threshold). Nothing was recovered: add more shares of the set (every two more let symbolon locate one more wrong share), or give the set's manifest, which checks each share on its own",
                Share::from_text(&std::fs::read_to_string(dir.join(&files[9])).unwrap()).unwrap().set.id.short()
            )
            .as_str()
        ),
        "{}",
        run.stderr
    );
    // The manifest checks each share on its own: the 14 good ones recover it, the 6 are named.
    let run = combine_files(&dir, &files, &["--manifest", "set/manifest.json"]);
    assert_ok(&run);
    assert_eq!(run.stderr.lines().filter(|l| l.contains("BAD SHARE")).count(), 6, "{}", run.stderr);
}

/// Encrypted shares: one whose message is damaged, and one whose key is not given, are named
/// with the reason, counted as missing, and spares stand in.
#[test]
fn an_encrypted_share_that_cannot_be_opened_is_counted_as_missing() {
    let dir = TempDir::new("decode-encrypted");
    let d = dir.path();
    let names = ["alice", "bob", "carol", "dave", "erin"];
    let mut args = vec!["split", "--generate", "32", "-n", "5", "-t", "3", "--binary", "-o", "set"];
    let recipients: Vec<String> = names.iter().map(|n| format!("--recipient={n}.asc")).collect();
    for n in names {
        common::person(d, n);
    }
    args.extend(recipients.iter().map(String::as_str));
    assert_ok(&run_in(d, &args, None));
    let entry = common::pinentry(d);
    let env = [("SYMBOLON_PINENTRY", entry.as_str())];
    let keys: Vec<String> = names.iter().map(|n| format!("--key-file={n}.key")).collect();
    let key_args: Vec<&str> = keys.iter().map(String::as_str).collect();
    let mut all =
        vec!["combine", "set/01-alice.pgp", "set/02-bob.pgp", "set/03-carol.pgp", "--stdout", "--encoding", "hex"];
    all.extend(&key_args);
    let good = common::run_with_env(d, &all, None, &env);
    assert_ok(&good);
    // Share 3's message damaged in its encrypted data.
    let mut message = std::fs::read(d.join("set/03-carol.pgp")).unwrap();
    let at = message.len() - 40;
    message[at] ^= 0x01;
    std::fs::write(d.join("bad03.pgp"), &message).unwrap();
    let mut args = vec![
        "combine",
        "set/01-alice.pgp",
        "bad03.pgp",
        "set/05-erin.pgp",
        "set/04-dave.pgp",
        "--stdout",
        "--encoding",
        "hex",
    ];
    args.extend(&key_args);
    let run = common::run_with_env(d, &args, None, &env);
    assert_ok(&run);
    assert_eq!(run.stdout_text(), good.stdout_text());
    assert!(run.stderr.contains("Skipped bad03.pgp: the encrypted share is truncated or corrupt"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "note: bad03.pgp was not counted, as it could not be opened: the encrypted share is truncated or corrupt"
        ),
        "{}",
        run.stderr
    );

    // Four shares, keys for three of them (no threshold given: it is learnt from the shares).
    let mut args = vec![
        "combine",
        "set/01-alice.pgp",
        "set/02-bob.pgp",
        "set/03-carol.pgp",
        "set/04-dave.pgp",
        "--stdout",
        "--encoding",
        "hex",
    ];
    args.extend(["--key-file=alice.key", "--key-file=bob.key", "--key-file=dave.key"]);
    let run = common::run_with_env(d, &args, None, &env);
    assert_ok(&run);
    assert_eq!(run.stdout_text(), good.stdout_text());
    assert!(
        run.stderr.contains("Skipped set/03-carol.pgp: none of the given keys can decrypt this share"),
        "{}",
        run.stderr
    );

    // Too few left: once the threshold is known (from share 1), the damaged share is the error;
    // before it is known, the damaged share is counted as missing and the error says so.
    let mut args = vec!["combine", "set/01-alice.pgp", "bad03.pgp", "set/04-dave.pgp", "--stdout"];
    args.extend(&key_args);
    let run = common::run_with_env(d, &args, None, &env);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("error: bad03.pgp: the encrypted share is truncated or corrupt"), "{}", run.stderr);
    let mut args = vec!["combine", "bad03.pgp", "set/01-alice.pgp", "set/04-dave.pgp", "--stdout"];
    args.extend(&key_args);
    let run = common::run_with_env(d, &args, None, &env);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("add 1 more. Not counted, as they could not be opened: bad03.pgp (the encrypted share is truncated or corrupt"),
        "{}",
        run.stderr
    );
}

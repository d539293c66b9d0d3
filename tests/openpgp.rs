//! OpenPGP interop with real GnuPG: shares encrypted by symbolon decrypt with gpg, messages
//! encrypted by gpg decrypt with symbolon, Vault's PGP share format both ways, and every bad
//! recipient refused before the secret is read, with nothing written.

mod common;
#[path = "common/gpg.rs"]
mod gpg;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{TempDir, assert_fails, assert_ok, run_in};

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> String {
    std::fs::write(dir.join(name), bytes).unwrap();
    name.to_string()
}

#[test]
fn shares_to_gpg_keys_in_every_encoding_decrypt_with_gpg() {
    let dir = TempDir::new("pgp-split");
    let gpg = gpg::fixture(dir.path());
    write(&dir, "alice.asc", &gpg.export("alice@example.org", "armored"));
    write(&dir, "bob.pgp", &gpg.export("bob@example.org", "binary"));
    write(&dir, "carol.b64", &gpg.export("carol@example.org", "base64"));
    let secret: Vec<u8> = (0..32).map(|i| i * 7 + 1).collect();
    write(&dir, "secret.bin", &secret);
    let run = run_in(
        dir.path(),
        &[
            "split",
            "--secret-file",
            "secret.bin",
            "-n",
            "3",
            "-t",
            "3",
            "--recipient",
            "alice=alice.asc",
            "--recipient",
            "bob.pgp",
            "--recipient",
            "carol=carol.b64",
            "--label",
            "interop",
            "-o",
            "set",
        ],
        None,
    );
    assert_ok(&run);
    let table = run.stdout_text();
    assert!(table.contains(&gpg.fingerprint("bob@example.org")), "{table}");
    assert!(
        table.contains("01-alice.asc") && table.contains("02-bob.asc") && table.contains("03-carol.asc"),
        "{table}"
    );

    // gpg decrypts every share; the plaintext shares combine to the secret.
    for (i, name) in ["01-alice.asc", "02-bob.asc", "03-carol.asc"].iter().enumerate() {
        let plain = gpg.ok(&["--decrypt", &format!("{}/set/{name}", dir.path().display())], None);
        assert!(String::from_utf8_lossy(&plain).contains("-----BEGIN SYMBOLON SHARE-----"));
        write(&dir, &format!("plain-{i}.txt"), &plain);
    }
    let run = run_in(dir.path(), &["combine", "plain-0.txt", "plain-1.txt", "plain-2.txt", "--stdout"], None);
    assert_ok(&run);
    assert_eq!(run.stdout, secret);

    // The manifest names custodians and fingerprints, and holds no secret.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("set/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["encryption"], "openpgp");
    assert_eq!(manifest["shares"][1]["custodian"], "bob");
    assert_eq!(manifest["shares"][2]["recipients"][0], gpg.fingerprint("carol@example.org"));
    assert!(manifest["shares"][0]["sha256"].is_string());
}

#[test]
fn symbolon_decrypts_and_combines_with_gpg_exported_keys() {
    let fx = gpg::split_set("pgp-decrypt", 3, 2, &[]);
    let dir = &fx.dir;
    // decrypt --check names the custodian before decrypting, and checks against the manifest.
    let run = run_in(
        dir.path(),
        &["decrypt", "set/03-carol.asc", "--key-file", "carol.key", "--manifest", "set/manifest.json", "--check"],
        None,
    );
    assert_ok(&run);
    assert!(run.stderr.contains("custodian carol, per the manifest"), "{}", run.stderr);
    assert!(run.stderr.contains("OK: share 3 of set"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "--check prints nothing secret");
    // Decrypted shares come out as share text, never the raw secret.
    let run = run_in(dir.path(), &["decrypt", "set/02-bob.asc", "--key-file", "bob.key"], None);
    assert_ok(&run);
    assert!(run.stdout_text().starts_with("-----BEGIN SYMBOLON SHARE-----"));
    // combine decrypts each share with the matching key.
    let run = run_in(
        dir.path(),
        &[
            "combine",
            "set/01-alice.asc",
            "set/03-carol.asc",
            "--key-file",
            "alice.key",
            "--key-file",
            "carol.key",
            "--stdout",
            "--encoding",
            "hex",
        ],
        None,
    );
    assert_ok(&run);
    assert!(run.stderr.contains("Verified"), "{}", run.stderr);
    // The wrong key: the message says whose share it is and whose key was given.
    let run = run_in(dir.path(), &["decrypt", "set/01-alice.asc", "--key-file", "bob.key"], None);
    assert_fails(&run, 1, &["none of the given keys can decrypt this share", "bob@example.org"]);
    // No key at all.
    let run = run_in(dir.path(), &["decrypt", "set/01-alice.asc"], None);
    assert_fails(&run, 1, &["--key-file"]);
}

#[test]
fn messages_gpg_encrypts_decrypt_with_symbolon() {
    let dir = TempDir::new("pgp-gpg-encrypts");
    let gpg = gpg::fixture(dir.path());
    assert_ok(&run_in(
        dir.path(),
        &["split", "--generate", "24", "-n", "3", "-t", "2", "--plaintext", "-o", "plain"],
        None,
    ));
    let share = std::fs::read(dir.join("plain/02-share.txt")).unwrap();
    for (name, _) in gpg::KEYS {
        let uid = format!("{name}@example.org");
        write(&dir, &format!("{name}.key"), &gpg.export_secret(&uid));
        for (form, extra) in [("pgp", &[][..]), ("asc", &["--armor"][..])] {
            let out = format!("{}/{name}.{form}", dir.path().display());
            let mut args = vec!["--trust-model", "always", "--encrypt", "--recipient", &uid, "--output", &out];
            args.extend_from_slice(extra);
            gpg.ok(&args, Some(&share));
            let run =
                run_in(dir.path(), &["decrypt", &format!("{name}.{form}"), "--key-file", &format!("{name}.key")], None);
            assert_ok(&run);
            assert_eq!(run.stdout, share, "{name} {form}");
        }
    }
}

#[test]
fn vault_pgp_format_both_ways() {
    let dir = TempDir::new("pgp-vault");
    let gpg = gpg::fixture(dir.path());
    gpg.write_keys(dir.path(), "base64", "b64");
    let secret: Vec<u8> = (0..32).map(|i| 255 - i).collect();
    write(&dir, "root.key", &secret);
    // Vault's habit: --pgp-keys in order.
    let run = run_in(
        dir.path(),
        &[
            "split",
            "--secret-file",
            "root.key",
            "--scheme",
            "vault",
            "--format",
            "vault",
            "--target",
            "unseal",
            "--key-shares",
            "3",
            "--key-threshold",
            "2",
            "--pgp-keys",
            "alice.b64,bob.b64,carol.b64",
            "-o",
            "set",
        ],
        None,
    );
    assert_ok(&run);
    // What a custodian does with Vault's output: base64 -d | gpg -dq gives the hex key.
    let mut hex_keys = Vec::new();
    for name in ["01-alice.b64", "02-bob.b64", "03-carol.b64"] {
        let b64 = std::fs::read_to_string(dir.join(&format!("set/{name}"))).unwrap();
        let message = STANDARD.decode(b64.trim()).unwrap();
        assert_ne!(message[0] & 0x80, 0, "a binary OpenPGP message");
        let hex_key = String::from_utf8(gpg.ok(&["--decrypt"], Some(&message))).unwrap();
        assert_eq!(hex_key.len(), 66, "the hex of a 33-byte Vault key share, nothing else: {hex_key:?}");
        assert!(hex_key.bytes().all(|b| b.is_ascii_hexdigit()));
        hex_keys.push(hex_key);
    }
    write(&dir, "keys.txt", format!("{}\n{}\n", hex_keys[0], hex_keys[2]).as_bytes());
    let run = run_in(dir.path(), &["combine", "keys.txt", "--manifest", "set/manifest.json", "--stdout"], None);
    assert_ok(&run);
    assert_eq!(run.stdout, secret);

    // The reverse: Vault's -pgp-keys JSON output (keys_base64 of messages gpg made the way Vault
    // does: to one key, plaintext the hex key) combines with the custodians' keys.
    let mut messages = Vec::new();
    for (i, name) in ["alice", "bob"].iter().enumerate() {
        let uid = format!("{name}@example.org");
        messages.push(STANDARD.encode(
            gpg.ok(&["--trust-model", "always", "--encrypt", "--recipient", &uid], Some(hex_keys[i].as_bytes())),
        ));
    }
    let json =
        serde_json::json!({ "unseal_keys_b64": messages, "unseal_threshold": 2, "unseal_shares": 3, "root_token": "" });
    write(&dir, "init.json", json.to_string().as_bytes());
    let run = run_in(
        dir.path(),
        &["combine", "init.json", "--key-file", "alice.key", "--key-file", "bob.key", "--stdout", "--encoding", "hex"],
        None,
    );
    assert_ok(&run);
    assert_eq!(run.stdout_text().trim(), hex::encode(&secret));
    // decrypt --check of a Vault-form share against the manifest: a secret given to symbolon may
    // be guessable, so its manifest commits to no bare key, and the key cannot be checked alone;
    // the operator who knows it is Vault's random key says so at split, and then it can.
    let check = |set: &str| {
        let share = format!("{set}/02-bob.b64");
        let manifest = format!("{set}/manifest.json");
        run_in(dir.path(), &["decrypt", &share, "--key-file", "bob.key", "--manifest", &manifest, "--check"], None)
    };
    let run = check("set");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("the manifest has no commitments for bare keys"), "{}", run.stderr);
    let run = run_in(
        dir.path(),
        &[
            "split",
            "--secret-file",
            "root.key",
            "--secret-is-random",
            "--scheme",
            "vault",
            "--format",
            "vault",
            "--target",
            "unseal",
            "--key-shares",
            "3",
            "--key-threshold",
            "2",
            "--pgp-keys",
            "alice.b64,bob.b64,carol.b64",
            "-o",
            "vouched",
        ],
        None,
    );
    assert_ok(&run);
    let run = check("vouched");
    assert_ok(&run);
    assert!(run.stderr.contains("OK: Vault key 2 of set"), "{}", run.stderr);
}

#[test]
fn bad_recipients_are_refused_before_the_secret_is_read() {
    let dir = TempDir::new("pgp-bad");
    let gpg = gpg::fixture(dir.path());
    write(&dir, "alice.asc", &gpg.export("alice@example.org", "armored"));
    write(&dir, "bob.asc", &gpg.export("bob@example.org", "armored"));
    write(&dir, "alice.key", &gpg.export_secret("alice@example.org"));
    // An expired key, made in the past with a one-day expiry.
    gpg.ok(
        &[
            "--faked-system-time",
            "20200101T000000",
            "--quick-gen-key",
            "old <old@example.org>",
            "future-default",
            "default",
            "1d",
        ],
        None,
    );
    write(&dir, "old.asc", &gpg.export("old@example.org", "armored"));
    // A revoked key: gpg's own revocation certificate, imported.
    gpg.generate("gone <gone@example.org>", "cv25519");
    let fpr = gpg.fingerprint("gone@example.org");
    let rev = std::fs::read_to_string(gpg.home.join(format!("openpgp-revocs.d/{fpr}.rev"))).unwrap();
    gpg.ok(&["--import"], Some(rev.replace(":-----BEGIN", "-----BEGIN").as_bytes()));
    write(&dir, "gone.asc", &gpg.export("gone@example.org", "armored"));
    // A signing-only key, and a weak RSA-1024 key.
    gpg.ok(&["--quick-gen-key", "signer <signer@example.org>", "ed25519", "sign", "never"], None);
    write(&dir, "signer.asc", &gpg.export("signer@example.org", "armored"));
    gpg.ok(&["--quick-gen-key", "weak <weak@example.org>", "rsa1024", "default", "never"], None);
    write(&dir, "weak.asc", &gpg.export("weak@example.org", "armored"));
    // A keyring with two certificates.
    let mut ring = gpg.export("alice@example.org", "binary");
    ring.extend(gpg.export("bob@example.org", "binary"));
    write(&dir, "ring.pgp", &ring);
    write(&dir, "junk.asc", b"this is not a key\n");
    let bob_fpr = gpg.fingerprint("bob@example.org");
    let before = dir.entries();

    // The secret file does not exist: each case must fail on the recipients first.
    let cases: &[(&[&str], &str)] = &[
        (&["--recipient", "alice.asc", "--recipient", "bob.asc"], "2 custodian(s) named for 3 shares"),
        (
            &["--recipient", "old.asc", "--recipient", "alice.asc", "--recipient", "bob.asc"],
            "has expired on 2020-01-02",
        ),
        (&["--recipient", "gone.asc", "--recipient", "alice.asc", "--recipient", "bob.asc"], "is revoked"),
        (
            &["--recipient", "signer.asc", "--recipient", "alice.asc", "--recipient", "bob.asc"],
            "only signing or authentication keys",
        ),
        (
            &["--recipient", "weak.asc", "--recipient", "alice.asc", "--recipient", "bob.asc"],
            "not valid under the standard policy",
        ),
        (
            &["--recipient", "alice.key", "--recipient", "alice.asc", "--recipient", "bob.asc"],
            "holds SECRET key material",
        ),
        (&["--recipient", "x=ring.pgp", "--recipient", "alice.asc", "--recipient", "bob.asc"], "holds 2 certificates"),
        (
            &["--recipient", "x=ring.pgp#0000", "--recipient", "alice.asc", "--recipient", "bob.asc"],
            "no certificate with fingerprint 0000",
        ),
        (&["--recipient", "keybase:jefferai", "--recipient", "alice.asc", "--recipient", "bob.asc"], "runs offline"),
        (
            &["--recipient", "junk.asc", "--recipient", "alice.asc", "--recipient", "bob.asc"],
            "no OpenPGP certificate found",
        ),
        (
            &["--recipient", "a=alice.asc", "--recipient", "b=alice.asc", "--recipient", "bob.asc"],
            "one person would hold two shares",
        ),
        (
            &["--recipient", "alice.asc", "--recipient", "alice=bob.asc", "--recipient", "bob.asc"],
            "two custodians are named",
        ),
    ];
    for (recipients, message) in cases {
        let mut args = vec!["split", "--secret-file", "missing-secret.bin", "-n", "3", "-t", "2", "-o", "set"];
        args.extend_from_slice(recipients);
        let run = run_in(dir.path(), &args, None);
        assert_fails(&run, 1, &[message]);
        assert!(!run.stderr.contains("missing-secret"), "the secret was looked at first: {}", run.stderr);
        assert_eq!(dir.entries(), before, "something was written");
    }
    // Picking from the keyring by fingerprint works.
    let ring_bob = format!("bob=ring.pgp#{bob_fpr}");
    let run = run_in(
        dir.path(),
        &[
            "split",
            "--generate",
            "16",
            "-n",
            "2",
            "-t",
            "2",
            "--recipient",
            &ring_bob,
            "--recipient",
            "alice.asc",
            "-o",
            "set",
        ],
        None,
    );
    assert_ok(&run);
}

#[test]
fn sequoia_made_key_with_passphrase_through_a_terminal() {
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::serialize::SerializeInto;
    let dir = TempDir::new("pgp-sequoia");
    let (cert, _) = CertBuilder::general_purpose(Some("Dave <dave@example.org>"))
        .set_password(Some("correct horse".into()))
        .generate()
        .unwrap();
    write(&dir, "dave.asc", &cert.armored().to_vec().unwrap());
    write(&dir, "dave.key", &cert.as_tsk().armored().to_vec().unwrap());
    assert_ok(&run_in(
        dir.path(),
        &["split", "--generate", "32", "-n", "1", "-t", "1", "--recipient", "dave.asc", "-o", "set"],
        None,
    ));
    // The passphrase is typed on a terminal (a pseudo-terminal from `script`), never read from stdin.
    let bin = common::bin();
    let bin = bin.to_str().unwrap();
    let command = format!("{bin} decrypt set/01-Dave.asc --key-file dave.key --out share.txt");
    let mut typed = std::process::Command::new("sh")
        .arg("-c")
        .arg("sleep 1; printf 'wrong\\n'; sleep 1; printf 'correct horse\\n'; sleep 1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .stdin(typed.stdout.take().unwrap())
        .output()
        .unwrap();
    typed.wait().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("Passphrase for the secret key"), "{screen}");
    assert!(screen.contains("wrong passphrase"), "{screen}");
    assert!(!screen.contains("correct horse"), "the passphrase was echoed: {screen}");
    let share = std::fs::read_to_string(dir.join("share.txt")).unwrap();
    assert!(share.starts_with("-----BEGIN SYMBOLON SHARE-----"));
    // Without a terminal (a new session, and no usable pinentry), the tool refuses instead of
    // reading the passphrase from stdin.
    let out = std::process::Command::new("setsid")
        .args(["-w", bin, "decrypt", "set/01-Dave.asc", "--key-file", "dave.key"])
        .env("SYMBOLON_PINENTRY", "/nonexistent/pinentry")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("never read from stdin"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// A manifest of another set, or a share of another set among the old ones, is refused before any
/// passphrase is asked (the encrypted shares' recipients against the keys the manifest lists);
/// too few old shares are refused before the plan is shown.
#[test]
fn shares_of_another_set_are_refused_before_any_passphrase() {
    let dir = TempDir::new("pgp-other-set");
    let d = dir.path();
    for name in ["alice", "bob", "carol", "dave"] {
        common::person(d, name);
    }
    let split = |a: &str, b: &str, out: &str| {
        let args = ["split", "--generate", "32", "-n", "2", "-t", "2", "--recipient", a, "--recipient", b, "-o", out];
        assert_ok(&run_in(d, &args, None));
    };
    split("alice.asc", "bob.asc", "a");
    split("carol.asc", "dave.asc", "b");
    let entry = common::pinentry(d);
    let log = d.join("asked.log");
    let log_text = log.display().to_string();
    let env = [("SYMBOLON_PINENTRY", entry.as_str()), ("ASKED_LOG", log_text.as_str())];
    let keys =
        ["--key-file", "alice.key", "--key-file", "bob.key", "--key-file", "carol.key", "--key-file", "dave.key"];
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "rekey",
                "a/01-alice.asc",
                "a/02-bob.asc",
                "--old-manifest",
                "b/manifest.json",
                "-n",
                "2",
                "-t",
                "2",
                "--plaintext",
                "-o",
                "new",
                "--yes",
            ],
            "none of the shares given is of set",
        ),
        (
            &[
                "combine",
                "a/01-alice.asc",
                "b/02-dave.asc",
                "--manifest",
                "b/manifest.json",
                "--stdout",
                "--encoding",
                "hex",
            ],
            "a/01-alice.asc: not of set",
        ),
        (
            &[
                "rekey",
                "a/01-alice.asc",
                "--old-manifest",
                "a/manifest.json",
                "-n",
                "2",
                "-t",
                "2",
                "--plaintext",
                "-o",
                "new",
                "--yes",
            ],
            "too few shares: 1 given, 2 needed",
        ),
    ];
    for (args, message) in cases {
        let mut args = args.to_vec();
        args.extend_from_slice(&keys);
        let run = common::run_with_env(d, &args, None, &env);
        assert_fails(&run, 1, &[message, "no PIN was asked"]);
        assert!(!log.exists(), "a passphrase was asked: {args:?}");
        assert!(!run.stdout_text().contains("Rekey plan"), "the plan was shown first: {}", run.stdout_text());
        assert!(!d.join("new").exists());
    }
    // The same, with the right manifest: two passphrases, and done.
    let args =
        ["combine", "a/01-alice.asc", "a/02-bob.asc", "--manifest", "a/manifest.json", "--stdout", "--encoding", "hex"];
    let mut args = args.to_vec();
    args.extend_from_slice(&keys);
    assert_ok(&common::run_with_env(d, &args, None, &env));
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
}

/// A user ID with a right-to-left override (or a zero-width space) never reaches the terminal
/// raw: it is escaped wherever it is shown, a custodian name derived from it is refused with the
/// advice to name the custodian, and labels and names given on the command line refuse such
/// characters.
#[test]
fn invisible_characters_from_outside_are_escaped_or_refused() {
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::serialize::SerializeInto;
    let dir = TempDir::new("pgp-bidi");
    let d = dir.path();
    let (cert, _) = CertBuilder::general_purpose(Some("Mal\u{202E}yrot\u{200B} <m@example.org>"))
        .set_password(Some("pass".into()))
        .generate()
        .unwrap();
    write(&dir, "mal.asc", &cert.armored().to_vec().unwrap());
    write(&dir, "mal.key", &cert.as_tsk().armored().to_vec().unwrap());
    let raw = |run: &common::Run| {
        let all = format!("{}{}", run.stdout_text(), run.stderr);
        all.contains('\u{202E}') || all.contains('\u{200B}')
    };
    let run =
        run_in(d, &["split", "--generate", "32", "-n", "1", "-t", "1", "--recipient", "mal.asc", "-o", "s"], None);
    assert_fails(
        &run,
        1,
        &["'Mal\\u{202e}yrot\\u{200b}' is not a usable custodian name", "name the custodian yourself"],
    );
    assert!(!raw(&run), "{}", run.stderr);
    for (flag, value, message) in [
        ("--recipient", "ev\u{202E}il=mal.asc", "is not a usable custodian name"),
        ("--label", "abc\u{202E}def", "the label 'abc\\u{202e}def' holds control or invisible format characters"),
    ] {
        let mut args = vec!["split", "--generate", "32", "-n", "1", "-t", "1", "-o", "s", flag, value];
        if flag == "--label" {
            args.extend(["--recipient", "mal=mal.asc"]);
        }
        let run = run_in(d, &args, None);
        assert_fails(&run, 1, &[message]);
        assert!(!raw(&run), "{}", run.stderr);
        assert!(!d.join("s").exists());
    }
    let run =
        run_in(d, &["split", "--generate", "32", "-n", "1", "-t", "1", "--recipient", "mal=mal.asc", "-o", "s"], None);
    assert_ok(&run);
    assert!(!raw(&run), "{}", run.stdout_text());
    let entry = common::pinentry(d);
    let env = [("SYMBOLON_PINENTRY", entry.as_str())];
    common::person(d, "olga");
    for args in [
        &["decrypt", "s/01-mal.asc", "--key-file", "mal.key", "--check", "--manifest", "s/manifest.json"][..],
        &["decrypt", "s/01-mal.asc", "--key-file", "olga.key"][..],
        &["inspect", "s/01-mal.asc"][..],
    ] {
        let run = common::run_with_env(d, args, None, &env);
        assert!(!raw(&run), "{args:?}: {}{}", run.stdout_text(), run.stderr);
    }
}

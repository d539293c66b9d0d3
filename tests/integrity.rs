//! What a ceremony leaves behind is trusted only as far as something vouches for it: the staged
//! plan is anchored by the hash its custodians were given (an attacker who rewrites the state and
//! recomputes every digest is refused before any PIN), a rekey never re-splits a secret it could
//! not verify, and the manifest publishes nothing that lets k-1 custodians test guesses of a
//! weak secret. Through the binary under test (`SYMBOLON_BIN`: the static build in the suite).

mod common;

use common::{Run, TempDir, assert_fails, assert_ok, person, pinentry, run_with_env};
use std::path::Path;
use symbolon::ceremony::{self, PlanRecord};
use symbolon::commitment::bare_share_commitment;
use symbolon::manifest::Manifest;
use symbolon::shamir::{self, Point, Scheme};

fn run(dir: &Path, args: &[&str], asked_log: &Path) -> Run {
    let entry = pinentry(dir);
    let log = asked_log.display().to_string();
    run_with_env(dir, args, None, &[("SYMBOLON_PINENTRY", entry.as_str()), ("ASKED_LOG", log.as_str())])
}

/// The whole outcome of `symbolon ARGS` in `dir` pinned as `tests/snapshots/integrity-NAME.txt`:
/// the directory, fingerprints, key IDs, nonces and the machine's network warning normalised.
fn pin(name: &str, dir: &Path, args: &[&str], code: Option<i32>, stdout: &[u8], stderr: &str) {
    let mut text = format!(
        "$ symbolon {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        code.map_or("signal".into(), |c| c.to_string()),
        String::from_utf8_lossy(stdout),
        stderr
            .lines()
            .filter(|l| !l.starts_with("warning: network interfaces are up"))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    text = text.replace(&dir.display().to_string(), "<DIR>");
    let text = common::redact_fingerprints(&text);
    // 32 lower-case hex digits: a nonce.
    let words: Vec<String> = text
        .split_inclusive(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| {
            let core = w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
            if core.len() == 32 && core.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                w.replacen(core, "<NONCE>", 1)
            } else {
                w.to_string()
            }
        })
        .collect();
    common::assert_snapshot(&format!("integrity-{name}"), &words.concat());
}

fn pin_run(name: &str, dir: &Path, args: &[&str], run: &Run) {
    pin(name, dir, args, Some(run.code), &run.stdout, &run.stderr);
}

/// The "Plan hash: …" line `rekey init` printed.
fn hash_of(init: &Run) -> String {
    let out = init.stdout_text();
    out.lines().find_map(|l| l.strip_prefix("Plan hash: ")).unwrap_or_else(|| panic!("{out}")).to_string()
}

fn nonce_of(init: &Run) -> String {
    let out = init.stdout_text();
    out.lines().find_map(|l| l.strip_prefix("Ceremony started. Nonce: ")).unwrap_or_else(|| panic!("{out}")).to_string()
}

/// Rewrites ceremony `nonce`'s plan.json with `edit` applied, every digest and the stored hash
/// recomputed: what an attacker who can write the state directory can do.
fn rewrite_plan(state: &Path, nonce: &str, target_nonce: &str, edit: impl FnOnce(&mut symbolon::rekey_plan::Plan)) {
    let text = std::fs::read_to_string(state.join(nonce).join("plan.json")).unwrap();
    let mut record = ceremony::parse_plan(nonce, &text).unwrap();
    edit(&mut record.plan);
    record.plan.nonce = Some(target_nonce.to_string());
    let rewritten = PlanRecord::new(record.plan);
    assert!(rewritten.plan.check(&rewritten.digests, &rewritten.plan_hash).is_ok(), "self-consistent");
    let dir = state.join(target_nonce);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plan.json"), serde_json::to_string_pretty(&rewritten).unwrap()).unwrap();
}

#[test]
fn a_rewritten_staged_plan_is_refused_before_any_share_is_read() {
    let dir = TempDir::new("integrity-plan");
    let d = dir.path();
    let asked = d.join("asked.log");
    for name in ["alice", "bob", "carol", "olga", "mallory"] {
        person(d, name);
    }
    let r = |args: &[&str]| run(d, args, &asked);
    assert_ok(&r(&[
        "split",
        "--generate",
        "32",
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
        "none",
        "-o",
        "old",
    ]));
    let init = |out: &str| {
        r(&[
            "rekey",
            "init",
            "--state-dir",
            "state",
            "--operator-cert",
            "olga.asc",
            "--old-manifest",
            "old/manifest.json",
            "--yes",
            "-n",
            "2",
            "-t",
            "2",
            "--recipient",
            "alice=alice.asc",
            "--recipient",
            "bob=bob.asc",
            "--qr",
            "none",
            "-o",
            out,
        ])
    };
    let first = init("new");
    assert_ok(&first);
    let (nonce, hash) = (nonce_of(&first), hash_of(&first));
    // 128 bits, in groups of four to read aloud.
    assert_eq!((hash.len(), hash.split(' ').count()), (39, 8), "{hash}");
    let submit = |nonce: &str, hash: &str| {
        r(&[
            "rekey",
            "submit",
            "--state-dir",
            "state",
            "--nonce",
            nonce,
            "--plan-hash",
            hash,
            "--key-file",
            "alice.key",
            "old/01-alice.asc",
        ])
    };
    let state = d.join("state");
    let original = std::fs::read(state.join(&nonce).join("plan.json")).unwrap();
    let mallory = std::fs::read(d.join("mallory.asc")).unwrap();
    let refused = |run: &Run, what: &str| {
        assert_fails(
            run,
            1,
            &["the plan hash typed is not the hash of ceremony", "Nothing was read, no PIN was asked"],
        );
        assert!(!asked.exists(), "{what}: a passphrase was asked");
        let recorded = std::fs::read_dir(state.join(&nonce)).unwrap().count();
        assert_eq!(recorded, 1, "{what}: only plan.json");
    };
    // The operator swapped for mallory: every later submit would encrypt to mallory.
    rewrite_plan(&state, &nonce, &nonce, |plan| {
        let cert = symbolon::openpgp::certs::read_certs("m", &mallory).unwrap().remove(0);
        let custodian = symbolon::openpgp::Custodian::new("operator", vec![("m".into(), cert)]).unwrap();
        plan.operator = Some(symbolon::rekey_plan::CustodianRecord::of(&custodian).unwrap());
    });
    refused(&submit(&nonce, &hash), "operator swapped");
    // The custodians emptied (and the set said to be plaintext): shares written in the clear.
    rewrite_plan(&state, &nonce, &nonce, |plan| {
        plan.custodians.clear();
        plan.new_set.encrypted = false;
    });
    refused(&submit(&nonce, &hash), "custodians emptied");
    // An older ceremony's plan under a new nonce: its hash is not the one given for it.
    std::fs::write(state.join(&nonce).join("plan.json"), &original).unwrap();
    let copied = "00112233445566778899aabbccddeeff";
    rewrite_plan(&state, &nonce, copied, |_| {});
    assert_fails(&submit(copied, &hash), 1, &["the plan hash typed is not the hash of ceremony 00112233"]);
    assert!(!asked.exists());
    // Without a terminal and without --plan-hash, nothing is read either.
    let bare = r(&[
        "rekey",
        "submit",
        "--state-dir",
        "state",
        "--nonce",
        &nonce,
        "--key-file",
        "alice.key",
        "old/01-alice.asc",
    ]);
    assert_fails(
        &bare,
        1,
        &["the plan hash is needed, and there is no terminal to type it on: give it with --plan-hash"],
    );
    assert!(!asked.exists());
    // A state directory others may write is refused, with the fix.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let open = submit(&nonce, &hash);
    assert_fails(&open, 1, &["can be written by its group and every other user (mode 777)", "chmod go-w"]);
    assert!(!asked.exists());
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(state.join(&nonce).join("plan.json"), std::fs::Permissions::from_mode(0o622)).unwrap();
    assert_fails(&submit(&nonce, &hash), 1, &["plan.json can be written by its group and every other user"]);
    std::fs::set_permissions(state.join(&nonce).join("plan.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    // The plan as confirmed, with its hash as given (typed with other spacing and case): taken.
    let taken = submit(&nonce, &hash.replace(' ', "").to_uppercase());
    assert_ok(&taken);
    assert!(taken.stdout_text().contains("the plan hash matches"), "{}", taken.stdout_text());
    assert!(asked.exists(), "alice's passphrase was asked once the plan was anchored");
}

#[test]
fn the_operator_certificate_is_exactly_one() {
    let dir = TempDir::new("integrity-operator");
    let d = dir.path();
    let asked = d.join("asked.log");
    for name in ["alice", "olga", "mallory"] {
        person(d, name);
    }
    let mut ring = std::fs::read(d.join("olga.asc")).unwrap();
    ring.extend(std::fs::read(d.join("mallory.asc")).unwrap());
    std::fs::write(d.join("ring.asc"), ring).unwrap();
    assert_ok(&run(
        d,
        &["split", "--generate", "16", "-n", "1", "-t", "1", "--recipient", "alice=alice.asc", "-o", "old"],
        &asked,
    ));
    let init = |op: &str| {
        run(
            d,
            &[
                "rekey",
                "init",
                "--state-dir",
                "state",
                "--operator-cert",
                op,
                "--old-manifest",
                "old/manifest.json",
                "--yes",
                "-n",
                "1",
                "-t",
                "1",
                "--recipient",
                "alice=alice.asc",
                "--qr",
                "none",
                "-o",
                "new",
            ],
            &asked,
        )
    };
    let ring = init("ring.asc");
    assert_fails(
        &ring,
        1,
        &[
            "ring.asc holds 2 certificates",
            "the operator's certificate is exactly one, whose key alone opens the recorded shares: pick it with ring.asc#FINGERPRINT",
        ],
    );
    pin_run("operator-keyring", d, &["rekey", "init", "…", "--operator-cert", "ring.asc", "…"], &ring);
    let olga = String::from_utf8(std::fs::read(d.join("olga.asc")).unwrap()).unwrap();
    let cert = symbolon::openpgp::certs::read_certs("olga", olga.as_bytes()).unwrap().remove(0);
    let run = init(&format!("ring.asc#{}", cert.fingerprint().to_hex()));
    assert_ok(&run);
    let out = run.stdout_text();
    // Named by the encryption (sub)key that opens the recorded shares, not the primary key.
    let policy = sequoia_openpgp::policy::StandardPolicy::new();
    let subkey = cert.keys().with_policy(&policy, None).for_transport_encryption().next().unwrap().key().fingerprint();
    assert!(
        out.contains(&format!(
            "whoever holds the operator's encryption key {} alone can open every old share",
            subkey.to_hex()
        )),
        "{out}"
    );
}

/// Vault's field is of characteristic 2: f(x_t) is the value at 0 of the line through
/// (x_t, s) and (x1 ^ x_t, y1), the same line moved by x_t. One share and a guess of the
/// secret fix every other share of a 2-of-n set.
fn shares_for_guess(guess: &[u8], x1: u8, y1: &[u8]) -> Vec<Vec<u8>> {
    (1..=255u8)
        .filter(|&x| x != x1)
        .map(|x| {
            let points = [
                Point { x, y: symbolon::secret::SecretBytes::copy_from(guess) },
                Point { x: x1 ^ x, y: symbolon::secret::SecretBytes::copy_from(y1) },
            ];
            let mut key = shamir::combine(Scheme::Vault, &points).unwrap().expose().to_vec();
            key.push(x);
            key
        })
        .collect()
}

/// The attack: one custodian's bare key, the manifest, a dictionary. Returns the guess confirmed
/// (if any) and the guesses tried per second.
fn dictionary_attack(manifest: &Manifest, key_hex: &str, words: &[&str]) -> (Option<String>, f64) {
    let key = hex::decode(key_hex.trim()).unwrap();
    let (y1, x1) = (&key[..key.len() - 1], key[key.len() - 1]);
    let commitments: Vec<[u8; 32]> = manifest.shares.iter().filter_map(|s| s.bare_commitment).collect();
    let file_hashes: Vec<[u8; 32]> = manifest.shares.iter().filter_map(|s| s.sha256).collect();
    let started = std::time::Instant::now();
    let mut found = None;
    for word in words {
        if word.len() != y1.len() {
            continue;
        }
        for other in shares_for_guess(word.as_bytes(), x1, y1) {
            let bare = bare_share_commitment(&manifest.set.id.0, &other);
            let file = <[u8; 32]>::from(<sha2::Sha256 as sha2::Digest>::digest(format!("{}\n", hex::encode(&other))));
            if commitments.contains(&bare) || file_hashes.contains(&file) {
                found = Some(word.to_string());
            }
        }
    }
    (found, words.len() as f64 / started.elapsed().as_secs_f64())
}

#[test]
fn a_weak_secret_cannot_be_tested_against_the_manifest() {
    let dir = TempDir::new("integrity-dictionary");
    let d = dir.path();
    let asked = d.join("asked.log");
    let secret = "hunter2-summer!!";
    std::fs::write(d.join("weak.txt"), secret).unwrap();
    let mut words: Vec<String> = (0..200).map(|i| format!("password{i:08}")).collect();
    words.push(secret.to_string());
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let split = |out: &str, source: &[&str]| {
        let mut args = vec!["split"];
        args.extend_from_slice(source);
        args.extend_from_slice(&[
            "-n",
            "3",
            "-t",
            "2",
            "--scheme",
            "vault",
            "--format",
            "vault-hex",
            "--plaintext",
            "-o",
            out,
        ]);
        assert_ok(&run(d, &args, &asked));
        let manifest =
            Manifest::from_json(&std::fs::read_to_string(d.join(out).join("manifest.json")).unwrap()).unwrap();
        let key = std::fs::read_to_string(d.join(out).join("01-share.hex")).unwrap();
        (manifest, key)
    };
    // What the manifest published before: a bare commitment and a file hash per share. The same
    // set's manifest made as then (the secret taken for random) confirms the guess.
    let (manifest, key) = split("weak", &["--secret-file", "weak.txt"]);
    let files: Vec<symbolon::manifest::ShareFile> = manifest
        .shares
        .iter()
        .map(|s| {
            let bytes = std::fs::read(d.join("weak").join(&s.file)).unwrap();
            symbolon::manifest::ShareFile {
                name: s.file.clone(),
                sha256: <sha2::Sha256 as sha2::Digest>::digest(&bytes).into(),
                ..Default::default()
            }
        })
        .collect();
    let shares: Vec<symbolon::share::Share> = manifest
        .shares
        .iter()
        .map(|s| {
            let text = std::fs::read_to_string(d.join("weak").join(&s.file)).unwrap();
            let bytes = hex::decode(text.trim()).unwrap();
            symbolon::share::Share {
                set: manifest.set.clone(),
                index: s.index,
                payload: symbolon::secret::SecretBytes::copy_from(&bytes),
                blind: symbolon::secret::SecretBytes::zeroed(0),
            }
        })
        .collect();
    let as_before = Manifest::new(&manifest.set, manifest.share_format, &shares, &files, true);
    let (found, rate) = dictionary_attack(&as_before, &key, &words);
    eprintln!("dictionary attack on the manifest as published before: {rate:.0} guesses/s, confirmed {found:?}");
    assert_eq!(found.as_deref(), Some(secret), "the attack works on bare commitments of a weak secret");
    // Now: nothing per share to test a guess against, and the manifest says why.
    let (found, rate) = dictionary_attack(&manifest, &key, &words);
    eprintln!("dictionary attack on the manifest symbolon writes now: {rate:.0} guesses/s, confirmed {found:?}");
    assert_eq!(found, None);
    assert!(manifest.shares.iter().all(|s| s.bare_commitment.is_none() && s.sha256.is_none()));
    assert!(manifest.bare_commitments_omitted.as_deref().unwrap().starts_with("the secret was given to symbolon"));
    assert!(!manifest.secret_random);
    // A secret generated here is random: its bare keys are committed to.
    let (generated, _) = split("generated", &["--generate", "32"]);
    assert!(generated.secret_random && generated.shares.iter().all(|s| s.bare_commitment.is_some()));
    // The word "random" written into the weak set's manifest is not taken: a rekey of it (all
    // three keys, so that the secret is verified) still commits to no bare key.
    let path = d.join("weak/manifest.json");
    let mut edited: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edited["secret_random"] = true.into();
    std::fs::write(&path, edited.to_string()).unwrap();
    let keys: String =
        (1..=3).map(|i| std::fs::read_to_string(d.join(format!("weak/0{i}-share.hex"))).unwrap()).collect();
    std::fs::write(d.join("weak-keys.txt"), keys).unwrap();
    assert_ok(&run(
        d,
        &[
            "rekey",
            "weak-keys.txt",
            "--old-manifest",
            "weak/manifest.json",
            "-n",
            "3",
            "-t",
            "2",
            "--scheme",
            "vault",
            "--format",
            "vault-hex",
            "--plaintext",
            "--yes",
            "-o",
            "rekeyed",
        ],
        &asked,
    ));
    let rekeyed = Manifest::from_json(&std::fs::read_to_string(d.join("rekeyed/manifest.json")).unwrap()).unwrap();
    assert!(!rekeyed.secret_random && rekeyed.shares.iter().all(|s| s.bare_commitment.is_none()));
    // A staged rekey of the weak set could never verify its secret: refused at init.
    person(d, "olga");
    let init = run(
        d,
        &[
            "rekey",
            "init",
            "--state-dir",
            "state",
            "--operator-cert",
            "olga.asc",
            "--old-manifest",
            "weak/manifest.json",
            "--yes",
            "-n",
            "2",
            "-t",
            "2",
            "--plaintext",
            "-o",
            "staged",
        ],
        &asked,
    );
    assert_fails(&init, 1, &["the old set's manifest commits to none of its bare keys", "No ceremony was started"]);
    pin_run("staged-never-verifiable", d, &["rekey", "init", "…", "--old-manifest", "weak/manifest.json", "…"], &init);
}

#[test]
fn rekey_refuses_a_secret_it_could_not_verify() {
    let dir = TempDir::new("integrity-unverified");
    let d = dir.path();
    let asked = d.join("asked.log");
    assert_ok(&run(
        d,
        &[
            "split",
            "--generate",
            "32",
            "-n",
            "3",
            "-t",
            "2",
            "--scheme",
            "vault",
            "--format",
            "vault-hex",
            "--plaintext",
            "-o",
            "old",
        ],
        &asked,
    ));
    let key = |i: usize| std::fs::read_to_string(d.join(format!("old/0{i}-share.hex"))).unwrap();
    // Two of the keys, no manifest: the secret cannot be checked. One of them altered.
    let mut altered = key(2).into_bytes();
    altered[0] = if altered[0] == b'0' { b'1' } else { b'0' };
    std::fs::write(d.join("keys.txt"), format!("{}{}", key(1), String::from_utf8(altered).unwrap())).unwrap();
    let rekey = |extra: &[&str], out: &str| {
        let mut args = vec![
            "rekey",
            "keys.txt",
            "--old-threshold",
            "2",
            "-n",
            "2",
            "-t",
            "2",
            "--scheme",
            "vault",
            "--plaintext",
            "--yes",
            "-o",
            out,
        ];
        args.extend_from_slice(extra);
        run(d, &args, &asked)
    };
    let refused = rekey(&[], "new");
    assert_fails(
        &refused,
        1,
        &["the old secret was recovered but cannot be verified", "Nothing was written", "--accept-unverified-secret"],
    );
    assert!(!d.join("new").exists());
    // With the old manifest the altered key is found; with a third key, too.
    let with_manifest = run(
        d,
        &[
            "rekey",
            "keys.txt",
            "--old-manifest",
            "old/manifest.json",
            "-n",
            "2",
            "-t",
            "2",
            "--scheme",
            "vault",
            "--plaintext",
            "--yes",
            "-o",
            "new",
        ],
        &asked,
    );
    assert_eq!(with_manifest.code, 1, "{}", with_manifest.stderr);
    assert!(!d.join("new").exists());
    // The operator goes on knowingly: the new manifest says so, and the output says to test it.
    let accepted = rekey(&["--accept-unverified-secret"], "new");
    assert_ok(&accepted);
    assert!(accepted.stderr.contains("WARNING: the old secret was NOT verified"), "{}", accepted.stderr);
    let manifest = Manifest::from_json(&std::fs::read_to_string(d.join("new/manifest.json")).unwrap()).unwrap();
    assert!(manifest.previous_secret_unverified);
}

#[test]
fn an_unattended_combine_without_pcscd_exits_at_once() {
    let dir = TempDir::new("integrity-unattended");
    let d = dir.path();
    let asked = d.join("asked.log");
    for name in ["alice", "bob"] {
        person(d, name);
    }
    assert_ok(&run(
        d,
        &[
            "split",
            "--generate",
            "32",
            "-n",
            "2",
            "-t",
            "2",
            "--scheme",
            "vault",
            "--format",
            "vault",
            "--recipient",
            "alice=alice.asc",
            "--recipient",
            "bob=bob.asc",
            "--qr",
            "none",
            "-o",
            "set",
        ],
        &asked,
    ));
    // No terminal (a new session: no controlling terminal either), stdin at its end, no pcscd,
    // no key file: nobody could insert a card, so nothing waits for one.
    let started = std::time::Instant::now();
    let mut child = std::process::Command::new("setsid")
        .arg("-w")
        .arg(common::bin())
        .args(["combine", "set/01-alice.b64", "set/02-bob.b64", "--stdout"])
        .env("PCSCLITE_CSOCK_NAME", "/nonexistent/pcscd.comm")
        .current_dir(d)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("combine waited with nobody to insert a card");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    pin(
        "unattended",
        d,
        &["combine", "set/01-alice.b64", "set/02-bob.b64", "--stdout"],
        status.code(),
        &out.stdout,
        &stderr,
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pcscd"), "{stderr}");
    assert!(stderr.contains("to wait all the same, run again with --wait"), "{stderr}");
    assert!(out.stdout.is_empty());
    eprintln!("exited after {:?}: {stderr}", started.elapsed());
}

/// An OpenPGP message to `cert` whose compressed packet inflates to a literal packet of `gib`
/// GiB of zeros. The deflate stream is one byte-aligned block of the literal packet's header,
/// then the same block of 1 MiB of zeros repeated: a few hundred KiB in all.
fn compression_bomb(cert: &sequoia_openpgp::Cert, gib: u32) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    use sequoia_openpgp::serialize::stream::{Encryptor, Message};
    use std::io::Write;
    let block = |data: &[u8], flush: FlushCompress| {
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(data.len() / 100 + 64);
        c.compress_vec(data, &mut out, flush).unwrap();
        out
    };
    let len: u32 = 6 + gib * (1 << 30);
    // A literal data packet (tag 11, new format, 5-byte length): binary, no name, no date.
    let mut header = vec![0xcb, 0xff];
    header.extend_from_slice(&len.to_be_bytes());
    header.extend_from_slice(&[b'b', 0, 0, 0, 0, 0]);
    let mut deflated = block(&header, FlushCompress::Sync);
    let zeros = block(&vec![0u8; 1 << 20], FlushCompress::Sync);
    for _ in 0..(gib * 1024) {
        deflated.extend_from_slice(&zeros);
    }
    deflated.extend_from_slice(&block(&[], FlushCompress::Finish));
    // A compressed data packet (tag 8, old format, indeterminate length), algorithm 1: ZIP.
    let mut packets = vec![0xa3, 1];
    packets.extend_from_slice(&deflated);
    let policy = sequoia_openpgp::policy::StandardPolicy::new();
    let recipients: Vec<_> = cert.keys().with_policy(&policy, None).supported().for_transport_encryption().collect();
    let mut sink = Vec::new();
    {
        let message = Message::new(&mut sink);
        let mut message = Encryptor::for_recipients(message, recipients).build().unwrap();
        message.write_all(&packets).unwrap();
        message.finalize().unwrap();
    }
    sink
}

#[test]
fn a_compressed_message_that_inflates_to_a_gibibyte_is_refused_without_reading_it() {
    let dir = TempDir::new("integrity-bomb");
    let d = dir.path();
    person(d, "alice");
    let cert =
        symbolon::openpgp::certs::read_certs("alice", &std::fs::read(d.join("alice.asc")).unwrap()).unwrap().remove(0);
    let bomb = compression_bomb(&cert, 1);
    assert!(bomb.len() < 4 << 20, "{} bytes", bomb.len());
    std::fs::write(d.join("bomb.pgp"), &bomb).unwrap();
    // Under a 512 MiB address-space limit: reading the whole plaintext would fail to allocate.
    let entry = pinentry(d);
    let out = std::process::Command::new("prlimit")
        .arg("--as=536870912")
        .arg("--")
        .arg(common::bin())
        .args(["decrypt", "bomb.pgp", "--key-file", "alice.key", "--check"])
        .env("SYMBOLON_PINENTRY", &entry)
        .current_dir(d)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let args = ["decrypt", "bomb.pgp", "--key-file", "alice.key", "--check"];
    pin("compression-bomb", d, &args, out.status.code(), &out.stdout, &stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the decrypted share would be larger than"), "{stderr}");
    assert!(stderr.contains("nothing more was read"), "{stderr}");
}

//! Every parser of outside input, fed random and mutated inputs, never panics, and what it
//! accepts is a real value: a share or manifest that parses writes back to a form that parses to
//! the same value, and random bytes are refused (a stable-toolchain stand-in for fuzzing; the seed
//! is printed on failure and can be set with SYMBOLON_FUZZ_SEED).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use symbolon::secret::SecretBytes;
use symbolon::share::{Label, Share, Target};
use symbolon::split::{SplitPlan, split_secret};
use symbolon::{checked_lines, input, manifest::Manifest, shamir::Scheme, vault_keys};

fn seed() -> u64 {
    std::env::var("SYMBOLON_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed)
}

/// Applies a few random byte-level mutations: flip, insert, delete, duplicate a slice.
fn mutate(rng: &mut StdRng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        if v.is_empty() {
            v.push(rng.random());
            continue;
        }
        let i = rng.random_range(0..v.len());
        match rng.random_range(0..5) {
            0 => v[i] ^= 1 << rng.random_range(0..8),
            1 => v.insert(i, rng.random()),
            2 => {
                v.remove(i);
            }
            3 => {
                let j = rng.random_range(i..v.len());
                let piece = v[i..j].to_vec();
                v.splice(j..j, piece);
            }
            _ => v.truncate(i),
        }
    }
    v
}

/// Runs every parser on `bytes`; returns those that accepted them. Whatever is accepted is checked:
/// a share or manifest re-encodes to a form that parses to the same value.
fn every_parser(bytes: &[u8]) -> Vec<&'static str> {
    let mut accepted = Vec::new();
    if input::parse_bytes("fuzz", bytes).is_ok() {
        accepted.push("input::parse_bytes");
    }
    if let Ok(share) = Share::from_bytes(bytes) {
        accepted.push("Share::from_bytes");
        let again = Share::from_bytes(share.to_bytes().expose()).expect("a share re-encodes to a share");
        assert_same(&share, &again);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(shares) = Share::all_from_text(text) {
            accepted.push("Share::all_from_text");
            for share in &shares {
                let again = Share::all_from_text(&share.to_text()).expect("a share's text parses");
                assert_eq!(again.len(), 1);
                assert_same(share, &again[0]);
            }
        }
        if checked_lines::decode(text.lines()).is_ok() {
            accepted.push("checked_lines::decode");
        }
        if vault_keys::parse_json(text).is_ok() {
            accepted.push("vault_keys::parse_json");
        }
        if vault_keys::parse_text(text).is_ok_and(|v| !v.keys.is_empty()) {
            accepted.push("vault_keys::parse_text");
        }
        if vault_keys::parse_lines(text).is_ok_and(|v| !v.keys.is_empty()) {
            accepted.push("vault_keys::parse_lines");
        }
        if let Ok(m) = Manifest::from_json(text) {
            accepted.push("Manifest::from_json");
            assert_eq!(Manifest::from_json(&m.to_json()).expect("a manifest re-encodes"), m);
        }
        if input::parse("fuzz", text).is_ok() {
            accepted.push("input::parse");
        }
    }
    if symbolon::openpgp::decrypt::recipients(bytes).is_ok() {
        accepted.push("openpgp::decrypt::recipients");
    }
    if symbolon::openpgp::certs::read_certs("fuzz", bytes).is_ok() {
        accepted.push("openpgp::certs::read_certs");
    }
    accepted
}

fn assert_same(a: &Share, b: &Share) {
    assert_eq!((a.index, &a.set), (b.index, &b.set));
    assert_eq!(a.payload.expose(), b.payload.expose());
    assert_eq!(a.commitment(), b.commitment());
}

#[test]
fn parsers_never_panic_on_mutated_real_inputs() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let plan = SplitPlan {
        scheme: Scheme::Vault,
        threshold: 2,
        shares: 3,
        target: Target::Unseal,
        label: Label::new("fuzz").unwrap(),
        created: Some(1),
    };
    let set = split_secret(&SecretBytes::copy_from(&[7; 32]), &plan, &mut rng).unwrap();
    let files: Vec<_> =
        set.shares.iter().map(|_| symbolon::manifest::ShareFile { name: "x".into(), ..Default::default() }).collect();
    let manifest = Manifest::new(&set.info, symbolon::manifest::ShareFormat::SymbolonV1, &set.shares, &files, true);
    let seeds: Vec<Vec<u8>> = vec![
        set.shares[0].to_text().as_bytes().to_vec(),
        set.shares[1].to_bytes().expose().to_vec(),
        vault_keys::hex_line(set.shares[2].payload.expose()).as_bytes().to_vec(),
        format!(
            "Unseal Key 1: {}\nVault initialized with 3 key shares and a key threshold of 2.\n",
            vault_keys::base64_line(set.shares[0].payload.expose()).trim()
        )
        .into_bytes(),
        format!(r#"{{"unseal_keys_hex":["{}"],"unseal_threshold":2}}"#, hex::encode(set.shares[0].payload.expose()))
            .into_bytes(),
        manifest.to_json().into_bytes(),
    ];
    // Unmutated, every seed is accepted by some parser: the harness sees real inputs.
    for (i, base) in seeds.iter().enumerate() {
        assert!(!every_parser(base).is_empty(), "seed input {i} is accepted by no parser");
    }
    for round in 0..20_000 {
        let base = &seeds[round % seeds.len()];
        let input = mutate(&mut rng, base);
        let outcome = std::panic::catch_unwind(|| every_parser(&input));
        assert!(
            outcome.is_ok(),
            "seed {seed}, round {round}: a parser panicked on {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn parsers_never_panic_on_random_bytes() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed ^ 1);
    for round in 0..10_000 {
        let len = rng.random_range(0..300);
        let mut input: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        // Half the time make it look like an OpenPGP packet or a share's version byte.
        if round % 2 == 0 && !input.is_empty() {
            input[0] = [0xc1, 0x84, 0x85, 0x01, b'{', b'-'][round % 6];
        }
        let outcome = std::panic::catch_unwind(|| every_parser(&input));
        let accepted = outcome.unwrap_or_else(|_| panic!("seed {seed}, round {round}: a parser panicked on {input:?}"));
        // Random bytes are no share, key or manifest (the odds of one are nil). Only the
        // classification of OpenPGP messages may take bytes that begin like a session-key packet
        // for a message (its decryption then fails).
        let classified = accepted.iter().all(|p| matches!(*p, "openpgp::decrypt::recipients" | "input::parse_bytes"))
            && (!accepted.contains(&"input::parse_bytes") || accepted.contains(&"openpgp::decrypt::recipients"));
        assert!(classified, "seed {seed}, round {round}: {accepted:?} accepted {input:?}");
    }
}

/// Every input a parser's fuzz target once failed on (fuzz/regressions/<target>/) goes through
/// every parser again: none panics, and what is accepted is checked as above. (scripts/fuzz
/// replays each through its own target's assertions too; combine's inputs are not parser input.)
#[test]
fn the_fuzzers_findings_stay_fixed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for target in std::fs::read_dir(&root).expect("fuzz/regressions exists") {
        let target = target.expect("a target directory").path();
        if target.ends_with("combine") {
            continue;
        }
        for file in std::fs::read_dir(&target).expect("readable") {
            let path = file.expect("a file").path();
            let bytes = std::fs::read(&path).expect("a kept input is readable");
            let outcome = std::panic::catch_unwind(|| every_parser(&bytes));
            assert!(outcome.is_ok(), "{} panics a parser again", path.display());
            n += 1;
        }
    }
    assert!(n >= 2, "the kept inputs were not found ({n} under {})", root.display());
}

/// The fuzzer's finding in Vault's JSON: an empty key string is refused, not read as a key of no
/// bytes (fuzz/regressions/vault_keys/).
#[test]
fn an_empty_vault_key_in_json_is_refused() {
    let json = r#"{"unseal_keys_b64": ["LiE=", ""], "unseal_shares": 3, "unseal_threshold": 2}"#;
    let err = vault_keys::parse_json(json).expect_err("an empty key is no key");
    assert_eq!(err.to_string(), "unseal key 2 is empty: it is not a Vault key (the output was cut short or edited)");
}

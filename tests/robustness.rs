//! Every parser of outside input, fed random and mutated inputs, returns an error and never panics
//! (a stable-toolchain stand-in for fuzzing; the seed is printed on failure and can be set with
//! SYMBOLON_FUZZ_SEED).

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

fn every_parser(bytes: &[u8]) {
    let _ = input::parse_bytes("fuzz", bytes);
    let _ = Share::from_bytes(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = Share::all_from_text(text);
        let _ = checked_lines::decode(text.lines());
        let _ = vault_keys::parse_json(text);
        let _ = vault_keys::parse_text(text);
        let _ = vault_keys::parse_lines(text);
        let _ = Manifest::from_json(text);
        let _ = input::parse("fuzz", text);
    }
    let _ = symbolon::openpgp::decrypt::recipients(bytes);
    let _ = symbolon::openpgp::certs::read_certs("fuzz", bytes);
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
    let manifest = Manifest::new(&set.info, symbolon::manifest::ShareFormat::SymbolonV1, &set.shares, &files);
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
        assert!(outcome.is_ok(), "seed {seed}, round {round}: a parser panicked on {input:?}");
    }
}

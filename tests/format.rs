//! Share format v1: the committed test vectors, and the checks a share and a set must pass.

mod common;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use symbolon::candidate::{Candidate, Piece};
use symbolon::combine::{self, CombineError, Context, Verification};
use symbolon::manifest::{Manifest, ShareFile, ShareFormat};
use symbolon::secret::SecretBytes;
use symbolon::shamir::Scheme;
use symbolon::share::{FormatError, Label, Share, Target};
use symbolon::split::{ShareSet, SplitPlan, split_secret};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/share-v1.json");

fn make_set(scheme: Scheme, k: usize, n: usize, secret: &[u8], seed: u8) -> ShareSet {
    let plan = SplitPlan {
        scheme,
        threshold: k,
        shares: n,
        target: Target::Unseal,
        label: Label::new("vault-prod unseal").unwrap(),
        created: Some(1_795_635_853),
    };
    split_secret(&SecretBytes::copy_from(secret), &plan, &mut StdRng::from_seed([seed; 32])).unwrap()
}

fn candidates(shares: &[Share]) -> Vec<Candidate> {
    shares.iter().map(|s| Candidate { origin: format!("share #{}", s.index), piece: Piece::Share(s.clone()) }).collect()
}

/// Writes tests/vectors/share-v1.json. Run with `cargo test --test format -- --ignored` after a
/// deliberate format change (and bump the format version).
#[test]
#[ignore]
fn write_vectors() {
    let cases = [
        (
            "native 2-of-3",
            Scheme::Native,
            2,
            3,
            hex::decode("9743645e9809912d084bb2aac59c0c26aa2b73d9520dc90ef8c12e18871329e2").unwrap(),
        ),
        (
            "vault 3-of-5",
            Scheme::Vault,
            3,
            5,
            hex::decode("447cb1ae7ac3d3cd453c07b53f2ab7692bb2de075094e3c441139c1511f7f739").unwrap(),
        ),
        ("vault 1-of-1", Scheme::Vault, 1, 1, b"a weak secret".to_vec()),
    ];
    let vectors: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, (name, scheme, k, n, secret))| {
            let set = make_set(*scheme, *k, *n, secret, i as u8 + 1);
            json!({
                "name": name,
                "secret_hex": hex::encode(secret),
                "set_id": set.info.id.to_string(),
                "scheme": scheme.name(),
                "threshold": k,
                "share_count": n,
                "target": "unseal",
                "label": "vault-prod unseal",
                "created_unix": 1_795_635_853u64,
                "set_commitment": hex::encode(set.info.commitment),
                "shares": set.shares.iter().map(|s| json!({
                    "index": s.index,
                    "payload_hex": hex::encode(s.payload.expose()),
                    "blind_hex": hex::encode(s.blind.expose()),
                    "commitment": hex::encode(s.commitment()),
                    "binary_hex": hex::encode(s.to_bytes().expose()),
                    "text": s.to_text().as_str(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "description": "symbolon share format v1 (docs/FORMAT.md). For each set: any `threshold` shares combine to secret_hex; \
                        each share's text decodes to binary_hex; commitments are as listed.",
        "vectors": vectors,
    });
    std::fs::write(VECTORS, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
}

#[test]
fn committed_vectors_decode_verify_and_reencode_identically() {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 3);
    for v in vectors {
        let secret = hex::decode(v["secret_hex"].as_str().unwrap()).unwrap();
        let k = v["threshold"].as_u64().unwrap() as usize;
        let mut shares = Vec::new();
        for s in v["shares"].as_array().unwrap() {
            let text = s["text"].as_str().unwrap();
            let share = Share::from_text(text).unwrap();
            let binary = hex::decode(s["binary_hex"].as_str().unwrap()).unwrap();
            assert_eq!(share.to_bytes().expose(), &binary[..]);
            assert_eq!(share.to_text().as_str(), text, "text encoding is deterministic");
            assert_eq!(hex::encode(share.payload.expose()), s["payload_hex"].as_str().unwrap());
            assert_eq!(hex::encode(share.commitment()), s["commitment"].as_str().unwrap());
            assert_eq!(share.set.id.to_string(), v["set_id"].as_str().unwrap());
            assert_eq!(hex::encode(share.set.commitment), v["set_commitment"].as_str().unwrap());
            assert_eq!(share.set.scheme.name(), v["scheme"].as_str().unwrap());
            assert_eq!(share.set.label.as_str(), v["label"].as_str().unwrap());
            shares.push(share);
        }
        for subset in common::subsets(shares.len(), k) {
            let chosen: Vec<Share> = subset.iter().map(|&i| shares[i].clone()).collect();
            let r = combine::combine(candidates(&chosen), &Context::default()).unwrap();
            assert_eq!(r.secret.expose(), &secret[..]);
            assert_eq!(r.verification, Verification::SetCommitment);
        }
    }
}

#[test]
fn vault_scheme_payload_is_a_vault_key() {
    // The payload of a vault-scheme share is exactly what Vault's Combine takes: y || x.
    let set = make_set(Scheme::Vault, 2, 3, &[0xbb; 32], 9);
    let payloads: Vec<&[u8]> = set.shares.iter().map(|s| s.payload.expose()).collect();
    let points: Vec<_> = payloads[..2].iter().map(|p| Scheme::Vault.parse_share_bytes(p, false).unwrap()).collect();
    assert_eq!(symbolon::shamir::combine(Scheme::Vault, &points).unwrap().expose(), &[0xbb; 32]);
    assert!(payloads.iter().all(|p| p.len() == 33));
}

#[test]
fn more_than_k_with_bad_shares_finds_a_consistent_subset_and_names_the_bad() {
    let set = make_set(Scheme::Native, 3, 6, b"the secret of the set", 7);
    let mut shares = set.shares.clone();
    // Shares 1 and 4 altered with valid checksums (re-encoded): only the commitment can tell.
    for i in [0, 3] {
        shares[i].payload.expose_mut()[5] ^= 0x40;
        shares[i] = Share::from_text(&shares[i].to_text()).unwrap();
    }
    let r = combine::combine(candidates(&shares), &Context::default()).unwrap();
    assert_eq!(r.secret.expose(), b"the secret of the set");
    let mut bad = r.bad.clone();
    bad.sort();
    assert_eq!(bad, vec!["share #1", "share #4"]);
    assert_eq!(r.used.len() + r.agreeing.len(), 4);
}

#[test]
fn exactly_k_with_a_bad_share_is_refused_and_the_manifest_names_it() {
    let set = make_set(Scheme::Vault, 3, 5, &[0x11; 32], 8);
    let mut shares: Vec<Share> = set.shares[..3].to_vec();
    shares[1].blind.expose_mut()[0] ^= 1;
    let err = combine::combine(candidates(&shares), &Context::default()).unwrap_err();
    assert!(matches!(err, CombineError::CommitmentMismatch { given: 3, .. }), "{err}");
    // The library names no flag (the CLI adds "hint: ... --manifest FILE").
    assert!(err.to_string().contains("With the set's manifest or one more share") && !err.to_string().contains("--"));

    let files: Vec<ShareFile> =
        set.shares.iter().map(|s| ShareFile { name: format!("{}", s.index), ..ShareFile::default() }).collect();
    let manifest = Manifest::new(&set.info, ShareFormat::SymbolonV1, &set.shares, &files, true);
    let ctx = Context { manifest: Some(&manifest), ..Context::default() };
    let err = combine::combine(candidates(&shares), &ctx).unwrap_err();
    assert!(matches!(err, CombineError::TooFewGood { bad: 1, have: 2, need: 3, .. }), "{err}");
    assert!(err.to_string().contains("share #2"), "{err}");
    // With a fourth good share, the manifest case recovers and names the bad one.
    shares.push(set.shares[4].clone());
    let r = combine::combine(candidates(&shares), &ctx).unwrap();
    assert_eq!(r.secret.expose(), &[0x11; 32]);
    assert_eq!(r.bad, vec!["share #2"]);
}

#[test]
fn mixed_sets_too_few_and_repeats() {
    let a = make_set(Scheme::Native, 2, 3, b"secret a", 10);
    let b = make_set(Scheme::Native, 2, 3, b"secret b", 11);
    let err =
        combine::combine(candidates(&[a.shares[0].clone(), b.shares[1].clone()]), &Context::default()).unwrap_err();
    assert!(matches!(err, CombineError::MixedSets(ref sets) if sets.len() == 2), "{err}");
    assert!(err.to_string().contains(&a.info.id.short()) && err.to_string().contains(&b.info.id.short()));

    let err =
        combine::combine(candidates(&[a.shares[0].clone(), a.shares[0].clone()]), &Context::default()).unwrap_err();
    assert!(matches!(err, CombineError::TooFewShares { have: 1, need: 2, .. }), "{err}");
    assert!(err.to_string().contains("add 1 more"));

    let r = combine::combine(
        candidates(&[a.shares[0].clone(), a.shares[0].clone(), a.shares[2].clone()]),
        &Context::default(),
    )
    .unwrap();
    assert_eq!(r.secret.expose(), b"secret a");
    assert_eq!(r.repeated, vec!["share #1"]);
}

#[test]
fn altered_header_is_outvoted() {
    let set = make_set(Scheme::Native, 2, 4, b"header test", 12);
    let mut shares = set.shares.clone();
    shares[2].set.label = Label::new("something else").unwrap();
    let r = combine::combine(candidates(&shares), &Context::default()).unwrap();
    assert_eq!(r.secret.expose(), b"header test");
    assert_eq!(r.bad, vec!["share #3"]);
    let err = combine::combine(candidates(&shares[1..3]), &Context::default()).unwrap_err();
    assert!(matches!(err, CombineError::HeaderTie { .. }), "{err}");
}

#[test]
fn binary_format_rejects_every_kind_of_damage() {
    let set = make_set(Scheme::Native, 2, 3, b"damage", 13);
    let good = set.shares[0].to_bytes().expose().to_vec();
    assert!(Share::from_bytes(&good).is_ok());
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        assert!(Share::from_bytes(&bad).is_err(), "flipped byte {i} accepted");
    }
    assert_eq!(Share::from_bytes(&good[..good.len() - 1]).unwrap_err(), FormatError::Checksum);
    let mut v2 = good.clone();
    v2[0] = 2;
    assert_eq!(Share::from_bytes(&v2).unwrap_err(), FormatError::UnknownVersion { version: 2 });
}

#[test]
fn text_form_headers_are_checked_and_optional() {
    let set = make_set(Scheme::Native, 2, 3, b"headers", 14);
    let text = set.shares[1].to_text();
    let edited = text.replace("Share: 2 of 3", "Share: 1 of 3");
    let err = Share::from_text(&edited).unwrap_err();
    assert!(matches!(err, FormatError::HeaderMismatch { ref key, .. } if key == "Share"), "{err}");
    // Headers may be left out entirely (typed back from paper).
    let bare: String = text.lines().filter(|l| !l.contains(": ")).map(|l| format!("{l}\n")).collect();
    assert_eq!(Share::from_text(&bare).unwrap().to_bytes(), set.shares[1].to_bytes());
    let cut: String = text.lines().take(5).map(|l| format!("{l}\n")).collect();
    assert_eq!(Share::from_text(&cut).unwrap_err(), FormatError::NoArmorEnd);
}

#[test]
fn bare_keys_in_two_equal_camps_are_refused() {
    use symbolon::shamir::{self, Point};
    let mut rng = StdRng::from_seed([15; 32]);
    let a = shamir::split_at(Scheme::Vault, &[1; 32], 2, &[1, 2, 3], &mut rng).unwrap();
    let b = shamir::split_at(Scheme::Vault, &[2; 32], 2, &[4, 5, 6], &mut rng).unwrap();
    let key = |p: &Point, i: usize| Candidate {
        origin: format!("key {i}"),
        piece: Piece::VaultKey { bytes: Scheme::Vault.share_bytes(p, false), target: None },
    };
    let keys: Vec<Candidate> = a.iter().chain(&b).enumerate().map(|(i, p)| key(p, i + 1)).collect();
    let err = combine::combine(keys, &Context { threshold: Some(2), manifest: None }).unwrap_err();
    assert!(matches!(err, CombineError::KeysDisagree { given: 6, correctable: 2, .. }), "{err}");
    // Three against two is past what 5 keys of threshold 2 can locate (1): refused too.
    let keys: Vec<Candidate> = a.iter().chain(&b[..2]).enumerate().map(|(i, p)| key(p, i + 1)).collect();
    let err = combine::combine(keys, &Context { threshold: Some(2), manifest: None }).unwrap_err();
    assert!(matches!(err, CombineError::KeysDisagree { given: 5, correctable: 1, .. }), "{err}");
    // Within it, the wrong key is named and the redundancy left is said.
    let keys: Vec<Candidate> = a.iter().chain(&b[..1]).enumerate().map(|(i, p)| key(p, i + 1)).collect();
    let r = combine::combine(keys, &Context { threshold: Some(2), manifest: None }).unwrap();
    assert_eq!(r.secret.expose(), &[1; 32]);
    assert_eq!(r.bad, vec!["key 4"]);
    assert_eq!(
        r.cross_check,
        Some(combine::CrossCheck { shares: 4, needed: 2, wrong: 1, detect_more: 0, locate_more: 0 })
    );
}

/// A foreign key that shares an x coordinate with a good key: the manifest names it; without a
/// manifest, with a known threshold and enough keys, the others outvote it.
#[test]
fn foreign_bare_key_with_the_same_x_is_named_not_fatal() {
    let set = make_set(Scheme::Vault, 3, 5, &[0x42; 32], 16);
    let files: Vec<ShareFile> =
        set.shares.iter().map(|s| ShareFile { name: format!("{}", s.index), ..ShareFile::default() }).collect();
    let manifest = Manifest::new(&set.info, ShareFormat::VaultHex, &set.shares, &files, true);
    let mut foreign = set.shares[0].payload.clone();
    foreign.expose_mut()[0] ^= 0x80; // same x (last byte), different y
    let key = |bytes: &SecretBytes, name: &str| Candidate {
        origin: name.to_string(),
        piece: Piece::VaultKey { bytes: bytes.clone(), target: None },
    };
    let mut keys = vec![key(&foreign, "foreign")];
    keys.extend(set.shares[..4].iter().map(|s| key(&s.payload, &format!("key {}", s.index))));

    let ctx = Context { manifest: Some(&manifest), threshold: None };
    let r = combine::combine(keys, &ctx).unwrap();
    assert_eq!(r.secret.expose(), &[0x42; 32]);
    assert_eq!(r.bad, vec!["foreign"]);
    assert_eq!(r.verification, Verification::Manifest);

    let mut keys = vec![key(&foreign, "foreign")];
    keys.extend(set.shares[..4].iter().map(|s| key(&s.payload, &format!("key {}", s.index))));
    let r = combine::combine(keys, &Context { manifest: None, threshold: Some(3) }).unwrap();
    assert_eq!(r.secret.expose(), &[0x42; 32]);
    assert_eq!(r.bad, vec!["foreign"]);
    assert_eq!(r.verification, Verification::Consistency { agreeing: 4 });

    // Exactly k keys with a clash and nothing to decide by: refused, both named.
    let keys =
        vec![key(&foreign, "foreign"), key(&set.shares[0].payload, "key 1"), key(&set.shares[1].payload, "key 2")];
    let err = combine::combine(keys, &Context { manifest: None, threshold: Some(3) }).unwrap_err();
    assert!(matches!(err, CombineError::SameXDifferent { .. }), "{err}");
}

/// Nothing secret reaches `Debug`: not a share's payload or blinding piece, not a recovered
/// secret, not a scripted passphrase.
#[test]
fn debug_output_holds_no_secret() {
    let secret = b"0123456789abcdef-very-secret";
    let set = make_set(Scheme::Vault, 2, 3, secret, 17);
    let r = combine::combine(candidates(&set.shares[..2]), &Context::default()).unwrap();
    let shown = format!("{:?} {:?} {:?}", set.shares, r, set);
    let bytes_list = |b: &[u8]| format!("{b:?}")[1..12].to_string();
    for s in &set.shares {
        assert!(!shown.contains(&hex::encode(s.payload.expose())));
        assert!(!shown.contains(&bytes_list(s.payload.expose())));
        assert!(!shown.contains(&bytes_list(s.blind.expose())));
    }
    assert!(!shown.contains("very-secret") && !shown.contains(&bytes_list(secret)));
    assert!(shown.contains("REDACTED"));
    let prompt = symbolon::prompt::Scripted::new(["correct horse"]);
    assert!(!format!("{prompt:?}").contains("horse"));
}

/// A share pasted on a terminal: a wrong line is named and asked for again; a missing line is
/// asked for and filled in.
#[test]
fn pasted_share_asks_again_for_just_the_wrong_line() {
    use symbolon::prompt::Scripted;
    let set = make_set(Scheme::Native, 2, 3, b"paste me", 18);
    let lines: Vec<String> =
        symbolon::checked_lines::encode(set.shares[1].to_bytes().expose()).lines().map(str::to_string).collect();
    let mut typo = lines[2].clone();
    let pos = typo.find("  ").unwrap() + 3;
    let replacement = if &typo[pos..pos + 1] == "Q" { "R" } else { "Q" };
    typo.replace_range(pos..pos + 1, replacement);

    // Line 3 typed wrong, then typed again right.
    let mut answers: Vec<String> = lines.clone();
    answers[2] = typo;
    answers.push(String::new());
    answers.push(lines[2].clone());
    let mut prompt = Scripted::new(answers);
    let parsed = symbolon::input::read_pasted(&mut prompt).unwrap();
    let Piece::Share(share) = &parsed.candidates[0].piece else { panic!("not a share") };
    assert_eq!(share.to_bytes(), set.shares[1].to_bytes());
    assert!(prompt.notices.iter().any(|n| n.contains("line 3 fails its check")), "{:?}", prompt.notices);
    assert_eq!(prompt.asked.last().unwrap(), "line 3> ");

    // Line 2 left out, then supplied.
    let mut answers: Vec<String> = lines.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, l)| l.clone()).collect();
    answers.push(String::new());
    answers.push(lines[1].clone());
    let mut prompt = Scripted::new(answers);
    let parsed = symbolon::input::read_pasted(&mut prompt).unwrap();
    let Piece::Share(share) = &parsed.candidates[0].piece else { panic!("not a share") };
    assert_eq!(share.to_bytes(), set.shares[1].to_bytes());
    assert_eq!(prompt.asked.last().unwrap(), "line 2> ");
}

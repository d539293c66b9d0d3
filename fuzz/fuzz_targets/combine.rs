//! Recovery from shares of which some are wrong (docs/FORMAT.md §3a): a set is split, some
//! shares' y bytes are changed as the input says, and combine runs on them all. Whatever it
//! recovers is the secret; up to the bound (half the shares
//! beyond the threshold) it always recovers it and names exactly the shares that were changed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use symbolon::candidate::{Candidate, Piece};
use symbolon::combine::{Context, combine};
use symbolon::secret::SecretBytes;
use symbolon::shamir::Scheme;
use symbolon::share::{Label, Target};
use symbolon::split::{SplitPlan, split_secret};

fuzz_target!(|data: &[u8]| {
    let [mode, n, k, len, rest @ ..] = data else { return };
    let scheme = if mode & 1 == 0 { Scheme::Native } else { Scheme::Vault };
    // At most 8 shares of at most 16 bytes: the subset search beyond the bound stays small
    // (at most C(8, 4) subsets), so that the fuzzer runs thousands of inputs a second.
    let n = 2 + usize::from(*n) % 7;
    let k = 2 + usize::from(*k) % (n - 1);
    let len = 1 + usize::from(*len) % 16;
    if rest.len() < len {
        return;
    }
    let (secret, edits) = rest.split_at(len);
    let plan = SplitPlan {
        scheme,
        threshold: k,
        shares: n,
        target: Target::Unseal,
        label: Label::new("fuzz").expect("a plain label"),
        created: Some(1),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(u64::from(*mode));
    let set = split_secret(&SecretBytes::copy_from(secret), &plan, &mut rng).expect("a valid plan splits");
    let original = set.shares.clone();
    let mut shares = set.shares;
    // Each edit: share, y byte, XOR value (the blinding value's byte is changed with it).
    for edit in edits.chunks_exact(3) {
        let (i, at, xor) = (usize::from(edit[0]) % n, usize::from(edit[1]) % len, edit[2]);
        if xor == 0 {
            continue;
        }
        // Native payloads are x || y, Vault's y || x.
        let at = if scheme == Scheme::Native { 1 + at } else { at };
        shares[i].payload.expose_mut()[at] ^= xor;
        // A wrong share is wrong in its blinding value too (it came from elsewhere).
        let blind = shares[i].blind.expose_mut();
        let b = usize::from(edit[1]) % blind.len();
        blind[b] ^= xor.rotate_left(3);
    }
    // An edit may cancel an earlier one: a share is wrong when its bytes differ from the original.
    let changed: Vec<bool> = shares
        .iter()
        .zip(&original)
        .map(|(s, o)| s.payload.expose() != o.payload.expose() || s.blind.expose() != o.blind.expose())
        .collect();
    let wrong: Vec<String> = (0..n).filter(|&i| changed[i]).map(|i| format!("share {}", i + 1)).collect();
    let candidates = shares
        .into_iter()
        .enumerate()
        .map(|(i, share)| Candidate { origin: format!("share {}", i + 1), piece: Piece::Share(share) })
        .collect();
    let bound = (n - k) / 2;
    match combine(candidates, &Context::default()) {
        Ok(recovered) => {
            assert_eq!(recovered.secret.expose(), secret, "only the secret is ever recovered");
            let mut bad = recovered.bad.clone();
            bad.sort_by_key(|o| o.trim_start_matches("share ").parse::<usize>().unwrap_or(0));
            if wrong.len() <= bound {
                assert_eq!(bad, wrong, "within the bound, exactly the changed shares are named");
            }
            // Beyond it (the subset search of small sets) only the secret is guaranteed, by the
            // set commitment: with a short secret and the blinding values left alone, a subset
            // holding changed shares can reconstruct the right secret too, and naming is then a
            // best effort.
        }
        Err(e) => assert!(
            wrong.len() > bound,
            "{} wrong of {n} (threshold {k}) is within the bound {bound}: {e}",
            wrong.len()
        ),
    }
});

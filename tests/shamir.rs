//! The Shamir schemes against independent implementations, and their properties.

mod common;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use symbolon::secret::SecretBytes;
use symbolon::shamir::{self, Point, Scheme};

/// Every vector made by Vault's own `shamir.Split` combines back, from every k-subset.
#[test]
fn vault_vectors_combine_from_every_threshold_subset() {
    let vectors = common::vault_vectors();
    let list = vectors["vectors"].as_array().unwrap();
    assert!(list.len() >= 4);
    for v in list {
        let secret = hex::decode(v["secret_hex"].as_str().unwrap()).unwrap();
        let k = v["threshold"].as_u64().unwrap() as usize;
        let shares: Vec<Vec<u8>> =
            v["shares_hex"].as_array().unwrap().iter().map(|s| hex::decode(s.as_str().unwrap()).unwrap()).collect();
        assert_eq!(shares.len(), v["parts"].as_u64().unwrap() as usize);
        for subset in common::subsets(shares.len(), k) {
            let points: Vec<Point> =
                subset.iter().map(|&i| Scheme::Vault.parse_share_bytes(&shares[i], false).unwrap()).collect();
            let got = shamir::combine(Scheme::Vault, &points).unwrap();
            assert_eq!(got.expose(), &secret[..], "subset {subset:?}");
        }
        // Fewer than k never gives the secret.
        if k > 1 {
            for subset in common::subsets(shares.len(), k - 1) {
                let points: Vec<Point> =
                    subset.iter().map(|&i| Scheme::Vault.parse_share_bytes(&shares[i], false).unwrap()).collect();
                assert_ne!(shamir::combine(Scheme::Vault, &points).unwrap().expose(), &secret[..]);
            }
        }
    }
}

/// sharks 0.5 (the format's origin) recovers our native shares.
#[test]
fn sharks_recovers_native_shares() {
    let mut rng = StdRng::from_seed([3; 32]);
    for (k, n, len) in [(1usize, 1usize, 1usize), (2, 3, 32), (3, 5, 64), (5, 9, 1000), (255, 255, 16), (1, 4, 8)] {
        let secret: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let points = shamir::split(Scheme::Native, &secret, k, n, &mut rng).unwrap();
        let bytes: Vec<Vec<u8>> =
            points.iter().map(|p| Scheme::Native.share_bytes(p, false).expose().to_vec()).collect();
        let shares: Vec<sharks::Share> =
            bytes[n - k..].iter().map(|b| sharks::Share::try_from(b.as_slice()).unwrap()).collect();
        let got = sharks::Sharks(k as u8).recover(&shares).unwrap();
        assert_eq!(got, secret, "{k}-of-{n}");
    }
}

/// blahaj 0.7 recovers our native shares, and we recover shares blahaj deals.
#[test]
fn blahaj_and_native_interoperate_both_ways() {
    let mut rng = StdRng::from_seed([4; 32]);
    for (k, n) in [(2usize, 2usize), (3, 5), (10, 20), (255, 255)] {
        let secret: Vec<u8> = (0..48).map(|_| rng.random()).collect();
        let points = shamir::split(Scheme::Native, &secret, k, n, &mut rng).unwrap();
        let ours: Vec<blahaj::Share> = points[..k]
            .iter()
            .map(|p| blahaj::Share::try_from(Scheme::Native.share_bytes(p, false).expose()).unwrap())
            .collect();
        assert_eq!(blahaj::Sharks(k as u8).recover(&ours).unwrap(), secret);

        let theirs: Vec<Vec<u8>> =
            blahaj::Sharks(k as u8).dealer_rng(&secret, &mut rng).take(n).map(|s| Vec::from(&s)).collect();
        let points: Vec<Point> =
            theirs[n - k..].iter().map(|b| Scheme::Native.parse_share_bytes(b, false).unwrap()).collect();
        assert_eq!(shamir::combine(Scheme::Native, &points).unwrap().expose(), &secret[..]);
    }
}

/// Property: for random k, n (including the 1 and 255 edges) and random secrets, any k shares
/// reconstruct and k-1 shares do not (for both schemes).
#[test]
fn property_any_k_reconstruct_and_k_minus_1_do_not() {
    let seed: u64 = std::env::var("SYMBOLON_PROPTEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261125);
    let mut rng = StdRng::seed_from_u64(seed);
    for case in 0..300 {
        let scheme = if rng.random() { Scheme::Native } else { Scheme::Vault };
        let n = match case % 5 {
            0 => 255,
            1 => 1,
            _ => rng.random_range(1..=255usize),
        };
        let k = match case % 3 {
            0 => n,
            1 => 1.max(n.min(2)),
            _ => rng.random_range(1..=n),
        };
        if scheme.check_parameters(k, n).is_err() {
            continue;
        }
        let len = rng.random_range(1..=40usize);
        let secret: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let points = shamir::split(scheme, &secret, k, n, &mut rng).unwrap();
        let bare = scheme.is_bare_single(k, n);
        // Through the byte layout and back, as a share file would carry them.
        let mut pts: Vec<Point> = points
            .iter()
            .map(|p| scheme.parse_share_bytes(scheme.share_bytes(p, bare).expose(), bare).unwrap())
            .collect();
        // A random k-subset.
        for i in (1..pts.len()).rev() {
            let j = rng.random_range(0..=i);
            pts.swap(i, j);
        }
        let got = shamir::combine(scheme, &pts[..k]).unwrap();
        assert_eq!(got.expose(), &secret[..], "seed {seed} case {case}: {scheme} {k}-of-{n}");
        if k >= 2 && len >= 8 {
            let less = shamir::combine(scheme, &pts[..k - 1]).unwrap();
            assert_ne!(less.expose(), &secret[..], "seed {seed} case {case}: k-1 gave the secret");
        }
    }
}

/// A 16 MiB secret (several threads) survives split and combine in both schemes.
#[test]
fn large_secret_roundtrip() {
    let mut rng = StdRng::from_seed([5; 32]);
    let mut secret = SecretBytes::zeroed(16 << 20);
    rng.fill(secret.expose_mut());
    for scheme in [Scheme::Native, Scheme::Vault] {
        let points = shamir::split(scheme, secret.expose(), 5, 9, &mut rng).unwrap();
        let got = shamir::combine(scheme, &points[2..7]).unwrap();
        assert!(got == secret, "{scheme}");
    }
}

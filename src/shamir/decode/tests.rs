use super::*;
use crate::shamir::{Point, combine, lies_on, split};
use rand::{Rng, RngExt, SeedableRng, rngs::StdRng};

fn decode_points(scheme: Scheme, points: &[Point], k: usize) -> Result<(Vec<u8>, Vec<usize>), TooManyWrong> {
    let xs: Vec<u8> = points.iter().map(|p| p.x).collect();
    let decoder = Decoder::new(scheme, &xs, k).unwrap();
    let ys: Vec<&[u8]> = points.iter().map(|p| p.y.expose()).collect();
    let secret = decoder.decode(&ys)?;
    Ok((secret.expose().to_vec(), decoder.wrong()))
}

/// The brute-force answer: the k-subset whose polynomials at most ⌊(n - k)/2⌋ points are off
/// (there is at most one such polynomial), with the points off it.
fn oracle(scheme: Scheme, points: &[Point], k: usize) -> Option<(Vec<u8>, Vec<usize>)> {
    let n = points.len();
    let t = (n - k) / 2;
    let mut subset: Vec<usize> = (0..k).collect();
    loop {
        let basis: Vec<Point> = subset.iter().map(|&i| points[i].clone()).collect();
        let off: Vec<usize> = (0..n).filter(|&i| !lies_on(scheme, &basis, &points[i])).collect();
        if off.len() <= t {
            return Some((combine(scheme, &basis).unwrap().expose().to_vec(), off));
        }
        let pos = (0..k).rev().find(|&p| subset[p] < n - k + p)?;
        subset[pos] += 1;
        for p in pos + 1..k {
            subset[p] = subset[p - 1] + 1;
        }
    }
}

/// Damages `count` random points: wholly (random bytes) or in one byte.
fn damage(points: &mut [Point], count: usize, rng: &mut StdRng) {
    let mut order: Vec<usize> = (0..points.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    for &i in &order[..count] {
        let y = points[i].y.expose_mut();
        if rng.random_bool(0.5) {
            rng.fill_bytes(y);
        } else {
            let at = rng.random_range(0..y.len());
            y[at] ^= rng.random_range(1..=255u8);
        }
    }
}

/// Small sets against the brute-force oracle: random secrets, thresholds and damage, up to and
/// one past the bound, both fields: the same secret and the same wrong points, or no answer from
/// either.
#[test]
fn agrees_with_the_brute_force_oracle_on_small_sets() {
    let mut rng = StdRng::from_seed([11; 32]);
    let mut decoded_with_errors = 0;
    let mut refused = 0;
    for round in 0..2000 {
        let scheme = if round % 2 == 0 { Scheme::Native } else { Scheme::Vault };
        let n = rng.random_range(1..=10usize);
        let k = rng.random_range(1..=n);
        let len = rng.random_range(1..=20usize);
        let mut secret = vec![0u8; len];
        rng.fill_bytes(&mut secret);
        let mut points = if k == 1 {
            // Degree 0: every point is the secret.
            (1..=n as u8).map(|x| Point { x, y: SecretBytes::copy_from(&secret) }).collect()
        } else {
            split(scheme, &secret, k, n, &mut rng).unwrap()
        };
        let t = (n - k) / 2;
        let bad = rng.random_range(0..=(t + 1).min(n));
        damage(&mut points, bad, &mut rng);
        let expected = oracle(scheme, &points, k);
        let got = decode_points(scheme, &points, k);
        match (&expected, &got) {
            (Some(e), Ok(g)) => {
                assert_eq!(e, g, "round {round}: {k}-of-{n}, {bad} damaged");
                if !g.1.is_empty() {
                    decoded_with_errors += 1;
                }
            }
            (None, Err(e)) => {
                assert_eq!(*e, TooManyWrong { given: n, threshold: k, correctable: t });
                refused += 1;
            }
            _ => panic!("round {round}: {k}-of-{n}, {bad} damaged: oracle {expected:?}, decoder {got:?}"),
        }
        if bad <= t {
            assert_eq!(expected.map(|e| e.0), Some(secret), "round {round}");
        }
    }
    // Both outcomes were exercised, many times.
    assert!(decoded_with_errors > 300 && refused > 200, "{decoded_with_errors} decoded, {refused} refused");
}

/// 128-of-255 with 63 wrong points at random places (the bound), in both fields: every one named.
#[test]
fn locates_63_wrong_among_255() {
    for scheme in [Scheme::Native, Scheme::Vault] {
        let mut rng = StdRng::from_seed([5; 32]);
        let secret = [0x5au8; 32];
        let mut points = split(scheme, &secret, 128, 255, &mut rng).unwrap();
        let good = points.clone();
        damage(&mut points, 63, &mut rng);
        let (got, wrong) = decode_points(scheme, &points, 128).unwrap();
        assert_eq!(got, secret);
        let expected: Vec<usize> = (0..255).filter(|&i| points[i].y.expose() != good[i].y.expose()).collect();
        assert_eq!((wrong.len(), &wrong), (63, &expected));
        // One more is past the bound.
        let mut more = points.clone();
        let next = (0..255).find(|i| !expected.contains(i)).unwrap();
        more[next].y.expose_mut()[0] ^= 1;
        assert_eq!(
            decode_points(scheme, &more, 128),
            Err(TooManyWrong { given: 255, threshold: 128, correctable: 63 })
        );
    }
}

/// A large secret is checked on several threads: one point wrong in all its bytes and one wrong in
/// a single byte near the end are both found, and the secret is right everywhere.
#[test]
fn large_secrets_find_a_wholly_wrong_and_a_one_byte_wrong_point() {
    let mut rng = StdRng::from_seed([9; 32]);
    let mut secret = vec![0u8; (3 << 20) + 5];
    rng.fill_bytes(&mut secret);
    let mut points = split(Scheme::Vault, &secret, 5, 9, &mut rng).unwrap();
    rng.fill_bytes(points[0].y.expose_mut());
    let last = secret.len() - 2;
    points[7].y.expose_mut()[last] ^= 0x80;
    let (got, wrong) = decode_points(Scheme::Vault, &points, 5).unwrap();
    assert!(got == secret);
    assert_eq!(wrong, [0, 7]);
}

/// A point found wrong in one family (the blinding value) is left out of the next, and a single
/// wrong byte in the last family is still found.
#[test]
fn families_share_the_wrong_points() {
    let mut rng = StdRng::from_seed([3; 32]);
    let a = split(Scheme::Native, b"the secret bytes", 3, 7, &mut rng).unwrap();
    let mut b = split(Scheme::Native, b"blind", 3, 7, &mut rng).unwrap();
    b[2].y.expose_mut()[4] ^= 1;
    let mut a_bad = a.clone();
    a_bad[5].y.expose_mut()[0] ^= 7;
    let xs: Vec<u8> = a.iter().map(|p| p.x).collect();
    let decoder = Decoder::new(Scheme::Native, &xs, 3).unwrap();
    let ys = |ps: &[Point]| ps.iter().map(|p| p.y.expose().to_vec()).collect::<Vec<_>>();
    let (yb, ya) = (ys(&b), ys(&a_bad));
    let blind = decoder.decode(&yb.iter().map(Vec::as_slice).collect::<Vec<_>>()).unwrap();
    assert_eq!((blind.expose(), decoder.wrong()), (&b"blind"[..], vec![2]));
    let secret = decoder.decode(&ya.iter().map(Vec::as_slice).collect::<Vec<_>>()).unwrap();
    assert_eq!((secret.expose(), decoder.wrong()), (&b"the secret bytes"[..], vec![2, 5]));
}

#[test]
fn exactly_k_points_interpolate_without_checks() {
    let mut rng = StdRng::from_seed([1; 32]);
    let points = split(Scheme::Native, b"abc", 3, 3, &mut rng).unwrap();
    assert_eq!(decode_points(Scheme::Native, &points, 3).unwrap(), (b"abc".to_vec(), vec![]));
    assert!(Decoder::new(Scheme::Native, &[1, 2], 3).is_err());
    assert!(Decoder::new(Scheme::Native, &[1, 1, 2], 2).is_err());
}

/// Wrong points met in different parts of a large secret (by different workers) are past the
/// bound together: a clean refusal, and the wrong set never grows past what can be located.
#[test]
fn wrong_points_in_different_parts_of_a_large_secret_are_refused_together() {
    let mut rng = StdRng::from_seed([4; 32]);
    let mut secret = vec![0u8; 3 << 20];
    rng.fill_bytes(&mut secret);
    let mut points = split(Scheme::Native, &secret, 3, 5, &mut rng).unwrap();
    for (third, p) in points.iter_mut().take(3).enumerate() {
        p.y.expose_mut()[third << 20 | 12345] ^= 0x10;
    }
    let xs: Vec<u8> = points.iter().map(|p| p.x).collect();
    let decoder = Decoder::new(Scheme::Native, &xs, 3).unwrap();
    let ys: Vec<&[u8]> = points.iter().map(|p| p.y.expose()).collect();
    assert_eq!(decoder.decode(&ys), Err(TooManyWrong { given: 5, threshold: 3, correctable: 1 }));
    assert!(decoder.wrong().len() <= 1);
}

use super::*;
use rand::SeedableRng;

fn rng(seed: u8) -> StdRng {
    StdRng::from_seed([seed; 32])
}

fn roundtrip(scheme: Scheme, secret: &[u8], k: usize, n: usize) {
    let points = split(scheme, secret, k, n, &mut rng(k as u8)).unwrap();
    assert_eq!(points.len(), n);
    let got = combine(scheme, &points[n - k..]).unwrap();
    assert_eq!(got.expose(), secret, "{scheme} {k}-of-{n}");
}

#[test]
fn roundtrips_at_the_edges() {
    for scheme in [Scheme::Native, Scheme::Vault] {
        for (k, n) in [(2, 2), (2, 3), (3, 5), (255, 255), (2, 255), (128, 255)] {
            roundtrip(scheme, b"correct horse battery staple", k, n);
        }
        roundtrip(scheme, &[0x42], 2, 3);
    }
    roundtrip(Scheme::Native, b"x", 1, 1);
    roundtrip(Scheme::Native, b"xyz", 1, 5);
    roundtrip(Scheme::Vault, b"xyz", 1, 1);
}

#[test]
fn large_secret_uses_threads_and_still_roundtrips() {
    let secret: Vec<u8> = (0..(PARALLEL_MIN_LEN * 2 + 13)).map(|i| (i * 7) as u8).collect();
    roundtrip(Scheme::Vault, &secret, 3, 4);
    roundtrip(Scheme::Native, &secret, 3, 4);
}

#[test]
fn native_x_are_one_to_n_and_vault_x_are_a_permutation() {
    let p = split(Scheme::Native, b"abc", 2, 5, &mut rng(1)).unwrap();
    assert_eq!(p.iter().map(|p| p.x).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    let v = split(Scheme::Vault, b"abc", 2, 255, &mut rng(2)).unwrap();
    let mut xs: Vec<u8> = v.iter().map(|p| p.x).collect();
    assert_ne!(xs[..10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    xs.sort();
    assert_eq!(xs, (1..=255).collect::<Vec<u8>>());
}

#[test]
fn fewer_than_k_points_do_not_give_the_secret() {
    for scheme in [Scheme::Native, Scheme::Vault] {
        let secret = [7u8; 32];
        let points = split(scheme, &secret, 3, 5, &mut rng(9)).unwrap();
        let got = combine(scheme, &points[..2]).unwrap();
        assert_ne!(got.expose(), secret);
    }
}

#[test]
fn byte_layouts() {
    let p = Point { x: 7, y: SecretBytes::copy_from(&[1, 2, 3]) };
    assert_eq!(Scheme::Native.share_bytes(&p, false).expose(), &[7, 1, 2, 3]);
    assert_eq!(Scheme::Vault.share_bytes(&p, false).expose(), &[1, 2, 3, 7]);
    assert_eq!(Scheme::Vault.share_bytes(&p, true).expose(), &[1, 2, 3]);
    let back = Scheme::Vault.parse_share_bytes(&[1, 2, 3, 7], false).unwrap();
    assert_eq!((back.x, back.y.expose()), (7, &[1u8, 2, 3][..]));
    let back = Scheme::Native.parse_share_bytes(&[7, 1, 2, 3], false).unwrap();
    assert_eq!((back.x, back.y.expose()), (7, &[1u8, 2, 3][..]));
    assert_eq!(Scheme::Native.parse_share_bytes(&[0, 1], false).unwrap_err(), ShamirError::ZeroX);
    assert_eq!(Scheme::Vault.parse_share_bytes(&[1], false).unwrap_err(), ShamirError::ShareTooShort { len: 1 });
}

#[test]
fn parameter_limits() {
    use ShamirError::*;
    let n = Scheme::Native;
    let v = Scheme::Vault;
    assert_eq!(n.check_parameters(1, 0), Err(NoShares));
    assert_eq!(n.check_parameters(2, 256), Err(TooManyShares { shares: 256 }));
    assert_eq!(n.check_parameters(0, 3), Err(ZeroThreshold));
    assert_eq!(n.check_parameters(4, 3), Err(ThresholdAboveShares { threshold: 4, shares: 3 }));
    assert_eq!(n.check_parameters(1, 3), Ok(Some(Warning::EveryShareIsTheSecret)));
    assert_eq!(n.check_parameters(1, 1), Ok(None));
    assert_eq!(v.check_parameters(1, 3), Err(VaultThresholdOne { shares: 3 }));
    assert_eq!(v.check_parameters(1, 1), Ok(None));
    assert_eq!(v.check_parameters(255, 255), Ok(None));
    assert_eq!(split(n, b"", 2, 3, &mut rng(0)).unwrap_err(), EmptySecret);
}

#[test]
fn combine_rejects_malformed_points() {
    use ShamirError::*;
    let pt = |x: u8, y: &[u8]| Point { x, y: SecretBytes::copy_from(y) };
    assert_eq!(combine(Scheme::Native, &[]).unwrap_err(), NothingToCombine);
    assert_eq!(
        combine(Scheme::Native, &[pt(1, &[1, 2]), pt(2, &[1])]).unwrap_err(),
        LengthMismatch { first: 1, first_len: 2, other: 2, len: 1 }
    );
    assert_eq!(
        combine(Scheme::Vault, &[pt(1, &[1]), pt(2, &[1]), pt(1, &[3])]).unwrap_err(),
        DuplicateX { first: 1, second: 3, x: 1 }
    );
    assert_eq!(combine(Scheme::Vault, &[pt(0, &[1])]).unwrap_err(), ZeroX);
}

//! Shamir's secret sharing over GF(2^8), in two byte-compatible flavours.
//!
//! - [`Scheme::Native`]: the format of the `sharks` and `blahaj` crates: field polynomial 0x11d,
//!   share bytes `x ‖ y`, x = 1, 2, 3, ... in share order.
//! - [`Scheme::Vault`]: HashiCorp Vault's `shamir` package: field polynomial 0x11b, share bytes
//!   `y ‖ x` (x is the LAST byte), x drawn as a random permutation of 1..=255. A 1-of-1 Vault
//!   "share" is the secret itself with no x byte, as `vault operator init -key-shares=1` prints it.
//!
//! Every non-constant coefficient is drawn uniformly from 0..=255 by a cryptographic RNG (a
//! coefficient that can never be 0 would leak information about the secret), and the secret is
//! split byte by byte: each byte is the constant term of its own polynomial of degree k-1.

pub mod decode;
mod field;

pub use field::Field;

use crate::secret::SecretBytes;
use rand::{CryptoRng, Rng, RngExt, SeedableRng, rngs::StdRng};
use std::fmt;
use zeroize::Zeroizing;

/// The largest number of shares: x coordinates are the 255 non-zero bytes.
pub const MAX_SHARES: usize = 255;

/// Secrets at least this large are split and combined on several threads.
const PARALLEL_MIN_LEN: usize = 1 << 20;
/// Bytes per block of coefficients kept in memory at once.
const BLOCK: usize = 16 * 1024;

/// Which Shamir implementation a share set follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Native,
    Vault,
}

impl Scheme {
    pub fn field(self) -> Field {
        match self {
            Scheme::Native => Field::SHARKS,
            Scheme::Vault => Field::AES,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Native => "native",
            Scheme::Vault => "vault",
        }
    }

    /// Checks a threshold and share count against this scheme's limits.
    ///
    /// Returns a warning for a native 1-of-n set, where every share alone is the secret.
    pub fn check_parameters(self, threshold: usize, shares: usize) -> Result<Option<Warning>, ShamirError> {
        if shares == 0 {
            return Err(ShamirError::NoShares);
        }
        if shares > MAX_SHARES {
            return Err(ShamirError::TooManyShares { shares });
        }
        if threshold == 0 {
            return Err(ShamirError::ZeroThreshold);
        }
        if threshold > shares {
            return Err(ShamirError::ThresholdAboveShares { threshold, shares });
        }
        match self {
            Scheme::Vault if threshold == 1 && shares > 1 => Err(ShamirError::VaultThresholdOne { shares }),
            Scheme::Native if threshold == 1 && shares > 1 => Ok(Some(Warning::EveryShareIsTheSecret)),
            _ => Ok(None),
        }
    }

    /// Whether a set with these parameters stores the secret itself as its only share, with no x
    /// coordinate (Vault's 1-of-1 case).
    pub fn is_bare_single(self, threshold: usize, shares: usize) -> bool {
        self == Scheme::Vault && threshold == 1 && shares == 1
    }

    /// The bytes of a share in this scheme's own layout.
    pub fn share_bytes(self, point: &Point, bare_single: bool) -> SecretBytes {
        let y = point.y.expose();
        let mut out = SecretBytes::zeroed(y.len() + usize::from(!bare_single));
        let buf = out.expose_mut();
        match (self, bare_single) {
            (Scheme::Vault, true) => buf.copy_from_slice(y),
            (Scheme::Vault, false) => {
                buf[..y.len()].copy_from_slice(y);
                buf[y.len()] = point.x;
            }
            (Scheme::Native, _) => {
                buf[0] = point.x;
                buf[1..].copy_from_slice(y);
            }
        }
        out
    }

    /// Reads a share from this scheme's byte layout. `bare_single` reads a Vault 1-of-1 key, which
    /// is the secret itself; it is given x = 1 so that it interpolates to itself.
    pub fn parse_share_bytes(self, bytes: &[u8], bare_single: bool) -> Result<Point, ShamirError> {
        if bare_single {
            if bytes.is_empty() {
                return Err(ShamirError::ShareTooShort { len: 0 });
            }
            return Ok(Point { x: 1, y: SecretBytes::copy_from(bytes) });
        }
        if bytes.len() < 2 {
            return Err(ShamirError::ShareTooShort { len: bytes.len() });
        }
        let (x, y) = match self {
            Scheme::Native => (bytes[0], &bytes[1..]),
            Scheme::Vault => (bytes[bytes.len() - 1], &bytes[..bytes.len() - 1]),
        };
        if x == 0 {
            return Err(ShamirError::ZeroX);
        }
        Ok(Point { x, y: SecretBytes::copy_from(y) })
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Scheme {
    type Err = crate::names::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "native" => Ok(Scheme::Native),
            "vault" => Ok(Scheme::Vault),
            other => {
                Err(crate::names::UnknownName { what: "scheme", given: other.into(), choices: "'native' or 'vault'" })
            }
        }
    }
}

/// Something the caller should tell the user, though the operation may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warning {
    EveryShareIsTheSecret,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::EveryShareIsTheSecret => {
                f.write_str("threshold 1: every share alone IS the secret; anyone holding one share holds the secret")
            }
        }
    }
}

/// One point of the sharing polynomials: the x coordinate and one y byte per secret byte.
#[derive(Clone, Debug)]
pub struct Point {
    pub x: u8,
    pub y: SecretBytes,
}

/// What can go wrong in the arithmetic of splitting and combining.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ShamirError {
    #[error("the secret is empty: there is nothing to split")]
    EmptySecret,
    #[error("the share count is 0: a set needs at least one share")]
    NoShares,
    #[error("{shares} shares asked for, but at most 255 are possible (x coordinates are the non-zero bytes)")]
    TooManyShares { shares: usize },
    #[error("the threshold is 0: at least one share must be needed to recover the secret")]
    ZeroThreshold,
    #[error(
        "the threshold ({threshold}) is larger than the number of shares ({shares}): the secret could never be recovered"
    )]
    ThresholdAboveShares { threshold: usize, shares: usize },
    #[error(
        "the vault scheme needs a threshold of at least 2 when there is more than one share ({shares} asked for), as Vault itself does"
    )]
    VaultThresholdOne { shares: usize },
    #[error("no shares were given")]
    NothingToCombine,
    #[error("a share of {len} bytes is too short: a share holds at least one x byte and one y byte")]
    ShareTooShort { len: usize },
    #[error("a share has x coordinate 0, which would be the secret itself: the share is corrupt")]
    ZeroX,
    #[error(
        "shares {first} and {second} have the same x coordinate {x}: the same share was given twice, or a share was copied"
    )]
    DuplicateX { first: usize, second: usize, x: u8 },
    #[error(
        "shares differ in length ({first_len} bytes in share {first}, {len} bytes in share {other}): they cannot come from one secret"
    )]
    LengthMismatch { first: usize, first_len: usize, other: usize, len: usize },
}

/// Splits `secret` into `count` shares, any `threshold` of which recover it.
pub fn split<R: CryptoRng + ?Sized>(
    scheme: Scheme,
    secret: &[u8],
    threshold: usize,
    count: usize,
    rng: &mut R,
) -> Result<Vec<Point>, ShamirError> {
    scheme.check_parameters(threshold, count)?;
    let xs = choose_x(scheme, count, rng);
    split_at(scheme, secret, threshold, &xs, rng)
}

/// Splits `secret` with polynomials of degree `threshold - 1` evaluated at the given `xs`
/// (distinct and non-zero). Two secrets split at the same `xs` give shares that pair up.
pub fn split_at<R: CryptoRng + ?Sized>(
    scheme: Scheme,
    secret: &[u8],
    threshold: usize,
    xs: &[u8],
    rng: &mut R,
) -> Result<Vec<Point>, ShamirError> {
    scheme.check_parameters(threshold, xs.len())?;
    if secret.is_empty() {
        return Err(ShamirError::EmptySecret);
    }
    check_xs(xs)?;
    let field = scheme.field();
    let mut ys: Vec<SecretBytes> = xs.iter().map(|_| SecretBytes::zeroed(secret.len())).collect();

    let mut rngs = worker_rngs(secret.len(), rng);
    let ranges = byte_ranges(secret.len(), rngs.len());
    let mut parts = split_outputs(&mut ys, &ranges);
    std::thread::scope(|scope| {
        for ((range, outs), worker_rng) in ranges.iter().zip(parts.iter_mut()).zip(rngs.iter_mut()) {
            let secret = &secret[range.clone()];
            scope.spawn(move || evaluate_range(field, secret, threshold, xs, outs, worker_rng));
        }
    });

    Ok(xs.iter().zip(ys).map(|(&x, y)| Point { x, y }).collect())
}

fn check_xs(xs: &[u8]) -> Result<(), ShamirError> {
    for (i, &x) in xs.iter().enumerate() {
        if x == 0 {
            return Err(ShamirError::ZeroX);
        }
        if let Some(j) = xs[..i].iter().position(|&other| other == x) {
            return Err(ShamirError::DuplicateX { first: j + 1, second: i + 1, x });
        }
    }
    Ok(())
}

/// Recovers the secret from points of one set by interpolating at x = 0. The caller decides
/// how many points are enough; this checks only that the points are mutually well-formed.
pub fn combine(scheme: Scheme, points: &[Point]) -> Result<SecretBytes, ShamirError> {
    let first = points.first().ok_or(ShamirError::NothingToCombine)?;
    let len = first.y.len();
    if len == 0 {
        return Err(ShamirError::ShareTooShort { len: 1 });
    }
    for (i, p) in points.iter().enumerate() {
        if p.y.len() != len {
            return Err(ShamirError::LengthMismatch { first: 1, first_len: len, other: i + 1, len: p.y.len() });
        }
    }
    let xs: Vec<u8> = points.iter().map(|p| p.x).collect();
    check_xs(&xs)?;
    interpolate(scheme, points, 0)
}

/// Whether `point` lies on the polynomials through `basis_points` (at least one point; they are
/// assumed checked by [`combine`]). Compares in constant time.
pub fn lies_on(scheme: Scheme, basis_points: &[Point], point: &Point) -> bool {
    if point.y.len() != basis_points.first().map_or(0, |p| p.y.len()) {
        return false;
    }
    if basis_points.iter().any(|p| p.x == point.x) {
        return basis_points
            .iter()
            .filter(|p| p.x == point.x)
            .all(|p| crate::secret::ct_eq(p.y.expose(), point.y.expose()));
    }
    match interpolate(scheme, basis_points, point.x) {
        Ok(value) => crate::secret::ct_eq(value.expose(), point.y.expose()),
        Err(_) => false,
    }
}

/// The value at `at` of the polynomials through `points` (checked: equal lengths, distinct x).
fn interpolate(scheme: Scheme, points: &[Point], at: u8) -> Result<SecretBytes, ShamirError> {
    let len = points.first().ok_or(ShamirError::NothingToCombine)?.y.len();
    let field = scheme.field();
    let xs: Vec<u8> = points.iter().map(|p| p.x).collect();
    let basis = field.lagrange_at(at, &xs);

    let mut secret = SecretBytes::zeroed(len);
    let threads = worker_count(len);
    let ranges = byte_ranges(len, threads);
    let mut outs = split_slice(secret.expose_mut(), &ranges);
    std::thread::scope(|scope| {
        for (range, out) in ranges.iter().zip(outs.iter_mut()) {
            let basis = &basis;
            scope.spawn(move || {
                for (p, &l) in points.iter().zip(basis) {
                    field.add_mul_assign(out, &p.y.expose()[range.clone()], l);
                }
            });
        }
    });
    Ok(secret)
}

/// The x coordinates: 1..=n for the native scheme (as `sharks` deals them), the first n of a
/// uniformly random permutation of 1..=255 for the Vault scheme (as Vault's `Split` does).
pub fn choose_x<R: CryptoRng + ?Sized>(scheme: Scheme, count: usize, rng: &mut R) -> Vec<u8> {
    let mut all: Vec<u8> = (1..=255u8).collect();
    if scheme == Scheme::Vault {
        // Fisher-Yates with unbiased index draws.
        for i in (1..all.len()).rev() {
            let j = rng.random_range(0..=i);
            all.swap(i, j);
        }
    }
    all.truncate(count);
    all
}

/// Evaluates the polynomials of the bytes in `secret` at every x, writing `outs[i]` for `xs[i]`.
fn evaluate_range<R: Rng>(
    field: Field,
    secret: &[u8],
    threshold: usize,
    xs: &[u8],
    outs: &mut [&mut [u8]],
    rng: &mut R,
) {
    let degree = threshold - 1;
    let mut coefficients = Zeroizing::new(vec![0u8; degree * BLOCK.min(secret.len())]);
    for (block_index, block) in secret.chunks(BLOCK).enumerate() {
        let offset = block_index * BLOCK;
        let coefficients = &mut coefficients[..degree * block.len()];
        rng.fill_bytes(coefficients);
        for (out, &x) in outs.iter_mut().zip(xs) {
            let y = &mut out[offset..offset + block.len()];
            // Horner's rule from the highest coefficient down to the secret byte.
            y.fill(0);
            for c in coefficients.chunks_exact(block.len()).rev() {
                field.mul_add_assign(y, x, c);
            }
            field.mul_add_assign(y, x, block);
        }
    }
}

fn worker_count(len: usize) -> usize {
    if len < PARALLEL_MIN_LEN {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// One RNG per worker thread: the caller's RNG for a single worker, otherwise ChaCha12 generators
/// seeded from it.
fn worker_rngs<R: CryptoRng + ?Sized>(len: usize, rng: &mut R) -> Vec<StdRng> {
    let mut seed = Zeroizing::new([0u8; 32]);
    (0..worker_count(len))
        .map(|_| {
            rng.fill_bytes(seed.as_mut());
            StdRng::from_seed(*seed)
        })
        .collect()
}

/// Cuts 0..len into `parts` contiguous ranges, multiples of 8 bytes except the last.
fn byte_ranges(len: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let step = len.div_ceil(parts).next_multiple_of(8).max(8);
    (0..len).step_by(step).map(|start| start..(start + step).min(len)).collect()
}

fn split_slice<'a>(mut slice: &'a mut [u8], ranges: &[std::ops::Range<usize>]) -> Vec<&'a mut [u8]> {
    let mut out = Vec::with_capacity(ranges.len());
    for r in ranges {
        let (head, rest) = slice.split_at_mut(r.len());
        out.push(head);
        slice = rest;
    }
    out
}

/// For each range, the matching piece of every output buffer.
fn split_outputs<'a>(ys: &'a mut [SecretBytes], ranges: &[std::ops::Range<usize>]) -> Vec<Vec<&'a mut [u8]>> {
    let mut parts: Vec<Vec<&mut [u8]>> = ranges.iter().map(|_| Vec::with_capacity(ys.len())).collect();
    for y in ys.iter_mut() {
        for (part, piece) in parts.iter_mut().zip(split_slice(y.expose_mut(), ranges)) {
            part.push(piece);
        }
    }
    parts
}

#[cfg(test)]
mod tests;

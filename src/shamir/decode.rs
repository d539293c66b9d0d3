//! Error-correcting decoding of the points of one set.
//!
//! At each byte position, the y bytes of a set's shares are a Reed–Solomon codeword: the values
//! at the shares' x of one polynomial of degree k - 1. Among n points with distinct x, up to
//! ⌊(n - k)/2⌋ wrong ones can therefore be located and left out (unique decoding), whether a
//! point is wrong in all its bytes or in one.
//!
//! Two stages, so that the normal case stays cheap and constant time:
//! 1. **The check pass** (every position): the value at 0 is interpolated from k of the points
//!    believed good, and every other good point is checked against the same interpolation, eight
//!    bytes per machine word. Secret bytes are only multiplied by public Lagrange coefficients
//!    (x coordinates only), with no secret-indexed table and no secret-dependent branch; the
//!    only data-dependent branch is whether any check failed.
//! 2. **Location** (only where a check failed): if the check points that disagree there, with
//!    the points already known wrong, are at most ⌊(n - k)/2⌋, they are the wrong ones (everything
//!    else agrees with the basis). Otherwise Gao's decoder — the partial extended Euclidean
//!    algorithm on the product of (X - x_i) and the polynomial interpolating that position's n
//!    values — names the points that are wrong there. They join the set of wrong points, and the
//!    pass goes on from that position without them. Gao's multiplications are constant time, but
//!    its control flow (degrees, lengths) depends on the data: it runs only off the normal path,
//!    when a share is already known to be wrong (docs/DESIGN.md).
//!
//! A point found wrong at one position is left out at every later one. A position checked before
//! that was checked with more points, all agreeing: with at most ⌊(n - k)/2⌋ wrong points in all,
//! at least n - ⌊(n - k)/2⌋ ≥ k + ⌊(n - k)/2⌋ agreeing points fix the true polynomial there.

use super::{Field, Scheme, ShamirError, byte_ranges, check_xs, split_slice, worker_count};
use crate::secret::SecretBytes;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use zeroize::{Zeroize, Zeroizing};

/// Positions checked between two looks at the shared set of wrong points.
const BLOCK: usize = 16 * 1024;
/// Disagreements located before a block is checked again without the points found wrong.
const BATCH: usize = 16;

/// More points are wrong than these points can locate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {correctable} of the {given} points are wrong: {given} points of degree-{} polynomials can locate at most {correctable}", .threshold - 1)]
pub struct TooManyWrong {
    pub given: usize,
    pub threshold: usize,
    pub correctable: usize,
}

/// Decodes families of polynomials evaluated at the same x coordinates (a set's secret and its
/// blinding value), sharing what is found: a point wrong in one family is left out of all.
pub struct Decoder {
    field: Field,
    xs: Vec<u8>,
    k: usize,
    /// The points found wrong so far (indexes into `xs`), sorted.
    wrong: Mutex<Vec<usize>>,
    /// What location needs, computed the first time it is needed (public: x coordinates only).
    locator: std::sync::OnceLock<Locator>,
}

/// The public polynomials of Gao's decoder for these x coordinates.
struct Locator {
    /// prod (X - x_i), lowest coefficient first.
    g0: Vec<u8>,
    /// The Lagrange basis polynomials: `basis[i]` is 1 at x_i and 0 at every other x.
    basis: Vec<Vec<u8>>,
}

/// The coefficients of one check pass: interpolation from `basis` at 0 and at every `checks`.
struct Pass {
    /// How many points were known wrong when these were computed.
    wrong_known: Vec<usize>,
    basis: Vec<usize>,
    checks: Vec<usize>,
    at_zero: Vec<u8>,
    /// `at_checks[b * checks.len() + c]`: the weight of basis point b in the value at checks[c].
    at_checks: Vec<u8>,
}

impl Decoder {
    /// A decoder for polynomials of degree `k - 1` at the distinct, non-zero `xs` (at least k).
    pub fn new(scheme: Scheme, xs: &[u8], k: usize) -> Result<Decoder, ShamirError> {
        check_xs(xs)?;
        if k == 0 {
            return Err(ShamirError::ZeroThreshold);
        }
        if xs.len() < k {
            return Err(ShamirError::ThresholdAboveShares { threshold: k, shares: xs.len() });
        }
        Ok(Decoder {
            field: scheme.field(),
            xs: xs.to_vec(),
            k,
            wrong: Mutex::new(Vec::new()),
            locator: std::sync::OnceLock::new(),
        })
    }

    /// How many wrong points these points can locate: ⌊(n - k)/2⌋.
    pub fn correctable(&self) -> usize {
        (self.xs.len() - self.k) / 2
    }

    /// The points found wrong so far, in order.
    pub fn wrong(&self) -> Vec<usize> {
        self.wrong.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn too_many(&self) -> TooManyWrong {
        TooManyWrong { given: self.xs.len(), threshold: self.k, correctable: self.correctable() }
    }

    /// The values at 0 of the polynomials through `ys` (`ys[i]` the y bytes at `xs[i]`, all of one
    /// length), leaving out every point found wrong (see [`Decoder::wrong`]).
    pub fn decode(&self, ys: &[&[u8]]) -> Result<SecretBytes, TooManyWrong> {
        let len = ys.first().map_or(0, |y| y.len());
        assert!(ys.len() == self.xs.len() && ys.iter().all(|y| y.len() == len), "invariant: one y per x, one length");
        let mut out = SecretBytes::zeroed(len);
        let ranges = byte_ranges(len, worker_count(len));
        let stop = AtomicBool::new(false);
        if ranges.len() <= 1 {
            // One worker (a small secret): on this thread, no thread started.
            self.run(ys, out.expose_mut(), 0..len, &stop)?;
            return Ok(out);
        }
        let mut outs = split_slice(out.expose_mut(), &ranges);
        let failed: Mutex<Option<TooManyWrong>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for (range, out) in ranges.iter().zip(outs.iter_mut()) {
                let (stop, failed) = (&stop, &failed);
                scope.spawn(move || {
                    if let Err(e) = self.run(ys, out, range.clone(), stop) {
                        stop.store(true, Ordering::Relaxed);
                        failed.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
                    }
                });
            }
        });
        match failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Checks and interpolates the positions `range` of `ys` into `out` (which covers `range`).
    fn run(
        &self,
        ys: &[&[u8]],
        out: &mut [u8],
        range: std::ops::Range<usize>,
        stop: &AtomicBool,
    ) -> Result<(), TooManyWrong> {
        let mut pass = self.pass();
        let mut at = range.start;
        while at < range.end {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            if *self.wrong.lock().unwrap_or_else(|e| e.into_inner()) != pass.wrong_known {
                pass = self.pass_after(pass);
            }
            let end = (at + BLOCK).min(range.end);
            let found = pass.run(self.field, ys, &mut out[at - range.start..end - range.start], at);
            match found.first() {
                None => at = end,
                Some(first) => {
                    let first = first.position;
                    for disagree in &found {
                        self.locate(ys, disagree, &pass.wrong_known)?;
                    }
                    if stop.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    pass = self.pass_after(pass);
                    // Again from the word of the first disagreement, without the points found wrong.
                    at += (first - at) / 8 * 8;
                }
            }
        }
        Ok(())
    }

    /// [`Decoder::pass`], from the previous pass: when no basis point was found wrong, its
    /// coefficients stay and only the check points found wrong are dropped.
    fn pass_after(&self, previous: Pass) -> Pass {
        let wrong_known = self.wrong();
        if previous.basis.iter().any(|b| wrong_known.binary_search(b).is_ok()) {
            return self.pass();
        }
        let keep: Vec<bool> = previous.checks.iter().map(|c| wrong_known.binary_search(c).is_err()).collect();
        let checks: Vec<usize> = previous.checks.iter().zip(&keep).filter(|&(_, &k)| k).map(|(&c, _)| c).collect();
        let width = previous.checks.len();
        let at_checks = (0..previous.basis.len())
            .flat_map(|b| {
                let row = &previous.at_checks[b * width..(b + 1) * width];
                row.iter().zip(&keep).filter(|&(_, &k)| k).map(|(&l, _)| l).collect::<Vec<u8>>()
            })
            .collect();
        Pass { wrong_known, basis: previous.basis, checks, at_zero: previous.at_zero, at_checks }
    }

    /// The check pass's coefficients for the points not known wrong now.
    fn pass(&self) -> Pass {
        let wrong_known = self.wrong();
        let good: Vec<usize> = (0..self.xs.len()).filter(|i| wrong_known.binary_search(i).is_err()).collect();
        let (basis, checks) = (good[..self.k].to_vec(), good[self.k..].to_vec());
        let f = self.field;
        // Inverses of the (public) differences of x coordinates, by table.
        let mut inverse = [0u8; 256];
        for (a, slot) in inverse.iter_mut().enumerate() {
            *slot = f.inv(a as u8);
        }
        let inv = |a: u8| inverse[usize::from(a)];
        let bx: Vec<u8> = basis.iter().map(|&i| self.xs[i]).collect();
        // Barycentric weights: w_b = 1 / prod_{m != b} (x_b - x_m).
        let weights: Vec<u8> = bx
            .iter()
            .enumerate()
            .map(|(b, &xb)| {
                let prod =
                    bx.iter().enumerate().filter(|&(m, _)| m != b).fold(1u8, |acc, (_, &xm)| f.mul(acc, xb ^ xm));
                inv(prod)
            })
            .collect();
        // l_b(a) = prod_m (a - x_m) * w_b / (a - x_b), for an `a` that is none of the basis x.
        let at = |a: u8| -> Vec<u8> {
            let whole = bx.iter().fold(1u8, |acc, &xm| f.mul(acc, a ^ xm));
            bx.iter().zip(&weights).map(|(&xb, &w)| f.mul(f.mul(whole, w), inv(a ^ xb))).collect()
        };
        let at_zero = at(0);
        let mut at_checks = vec![0u8; basis.len() * checks.len()];
        for (c, &i) in checks.iter().enumerate() {
            for (b, l) in at(self.xs[i]).into_iter().enumerate() {
                at_checks[b * checks.len() + c] = l;
            }
        }
        Pass { wrong_known, basis, checks, at_zero, at_checks }
    }

    /// Locates the wrong points at a position where a check pass disagreed and adds them to the
    /// wrong ones. `known`: the points that pass already left out; at least one point found wrong
    /// must be new, or the errors are beyond what can be located.
    ///
    /// When the check points that disagree, with the ones known wrong, are few enough to be
    /// located (⌊(n - k)/2⌋), they are the wrong ones there: all the other points agree with the
    /// basis, at least n - ⌊(n - k)/2⌋ of them, which fixes the polynomial. Otherwise (a basis
    /// point is wrong there) Gao's decoder decides from all n values.
    fn locate(&self, ys: &[&[u8]], disagree: &Disagreement, known: &[usize]) -> Result<(), TooManyWrong> {
        let by_checks = known.len() + disagree.checks.len() <= self.correctable();
        let found = if by_checks {
            disagree.checks.clone()
        } else {
            let values: Zeroizing<Vec<u8>> = Zeroizing::new(ys.iter().map(|y| y[disagree.position]).collect());
            self.gao(&values).ok_or_else(|| self.too_many())?
        };
        if found.iter().all(|i| known.binary_search(i).is_ok()) {
            return Err(self.too_many());
        }
        // The wrong set never grows past what can be located: there are always k points left.
        let mut wrong = self.wrong.lock().unwrap_or_else(|e| e.into_inner());
        let mut union = wrong.clone();
        for i in found {
            if let Err(at) = union.binary_search(&i) {
                union.insert(at, i);
            }
        }
        if union.len() > self.correctable() {
            return Err(self.too_many());
        }
        *wrong = union;
        Ok(())
    }

    fn locator(&self) -> &Locator {
        self.locator.get_or_init(|| {
            let f = self.field;
            let mut g0 = vec![1u8];
            for &x in &self.xs {
                // g0 * (X + x)
                let mut next = vec![0u8; g0.len() + 1];
                for (j, &c) in g0.iter().enumerate() {
                    next[j + 1] ^= c;
                    next[j] ^= f.mul(c, x);
                }
                g0 = next;
            }
            let basis = self
                .xs
                .iter()
                .map(|&x| {
                    // g0 / (X + x), by synthetic division (exact: x is a root).
                    let n = g0.len() - 1;
                    let mut q = vec![0u8; n];
                    q[n - 1] = g0[n];
                    for j in (1..n).rev() {
                        q[j - 1] = g0[j] ^ f.mul(x, q[j]);
                    }
                    let scale = f.inv(eval(f, &q, x));
                    q.iter().map(|&c| f.mul(c, scale)).collect()
                })
                .collect();
            Locator { g0, basis }
        })
    }

    /// Gao's decoder on one position's values: the indexes of the values that are not on the
    /// polynomial of degree < k within ⌊(n - k)/2⌋ of them, or `None` if there is none.
    fn gao(&self, values: &[u8]) -> Option<Vec<usize>> {
        let f = self.field;
        let (n, k) = (self.xs.len(), self.k);
        let locator = self.locator();
        // g1: the polynomial through all n values (a public basis times secret values).
        let mut g1 = poly(vec![0u8; n]);
        let mut powers = [0u8; 8];
        for (basis, &v) in locator.basis.iter().zip(values) {
            // v, 2v, 4v, ...: each product is then the XOR chosen by the public coefficient.
            powers[0] = v;
            for p in 1..8 {
                powers[p] = f.mul(powers[p - 1], 2);
            }
            for (c, &b) in g1.iter_mut().zip(basis) {
                let mut bits = b;
                while bits != 0 {
                    *c ^= powers[bits.trailing_zeros() as usize];
                    bits &= bits - 1;
                }
            }
        }
        powers.zeroize();
        trim(&mut g1);
        // Partial extended Euclid on (g0, g1), tracking only g1's cofactor v.
        let mut r0 = poly(locator.g0.clone());
        let mut r1 = g1;
        let mut v0 = poly(Vec::new());
        let mut v1 = poly(vec![1]);
        while !r1.is_empty() && 2 * (r1.len() - 1) >= n + k {
            let (q, rem) = divide(f, &r0, &r1);
            let mut v2 = multiply(f, &q, &v1);
            for (c, &a) in v2.iter_mut().zip(v0.iter()) {
                *c ^= a;
            }
            if v0.len() > v2.len() {
                let have = v2.len();
                v2.extend_from_slice(&v0[have..]);
            }
            trim(&mut v2);
            (r0, r1, v0, v1) = (r1, rem, v1, v2);
        }
        let (message, rem) = divide(f, &r1, &v1);
        if !rem.is_empty() || message.len() > k {
            return None;
        }
        let wrong: Vec<usize> = (0..n).filter(|&i| eval(f, &message, self.xs[i]) != values[i]).collect();
        (wrong.len() <= self.correctable()).then_some(wrong)
    }
}

impl Pass {
    /// Interpolates positions `start..start + out.len()` into `out`, checking every check point.
    /// Returns the positions where a check point disagrees (the first [`BATCH`] of them), with
    /// the check points that do there. `out` is right only before the first of them.
    fn run(&self, f: Field, ys: &[&[u8]], out: &mut [u8], start: usize) -> Vec<Disagreement> {
        let mut acc = Zeroizing::new(vec![0u64; self.checks.len()]);
        let mut powers = [0u64; 8];
        let mut result = Vec::new();
        for (word, chunk) in out.chunks_mut(8).enumerate() {
            let at = start + word * 8;
            let len = chunk.len();
            for (a, &c) in acc.iter_mut().zip(&self.checks) {
                *a = load(&ys[c][at..at + len]);
            }
            let mut value = 0u64;
            for (b, &i) in self.basis.iter().enumerate() {
                powers[0] = load(&ys[i][at..at + len]);
                for p in 1..8 {
                    powers[p] = f.xtime_lanes(powers[p - 1]);
                }
                value ^= times(&powers, self.at_zero[b]);
                let row = &self.at_checks[b * self.checks.len()..(b + 1) * self.checks.len()];
                for (a, &l) in acc.iter_mut().zip(row) {
                    *a ^= times(&powers, l);
                }
            }
            let mut bytes = value.to_le_bytes();
            chunk.copy_from_slice(&bytes[..len]);
            bytes.zeroize();
            value.zeroize();
            let mut disagree = acc.iter().fold(0u64, |all, &a| all | a);
            while disagree != 0 && result.len() < BATCH {
                let lane = disagree.trailing_zeros() / 8 * 8;
                let checks = self.checks.iter().zip(acc.iter()).filter(|&(_, a)| (a >> lane) & 0xff != 0);
                result.push(Disagreement {
                    position: at + (lane / 8) as usize,
                    checks: checks.map(|(&c, _)| c).collect(),
                });
                disagree &= !(0xffu64 << lane);
            }
            if result.len() == BATCH {
                break;
            }
        }
        powers.zeroize();
        result
    }
}

/// Where a check pass found points off the interpolation.
struct Disagreement {
    position: usize,
    /// The check points off it there (the basis points may be off too).
    checks: Vec<usize>,
}

/// `c * v` in each lane, from the powers v, 2v, 4v, ... of v: XORs chosen by the public `c`.
#[inline(always)]
fn times(powers: &[u64; 8], c: u8) -> u64 {
    let mut acc = 0u64;
    let mut bits = c;
    while bits != 0 {
        acc ^= powers[bits.trailing_zeros() as usize];
        bits &= bits - 1;
    }
    acc
}

/// Up to eight bytes as the lanes of a word (little-endian, missing lanes 0).
#[inline(always)]
fn load(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf[..bytes.len()].copy_from_slice(bytes);
    let v = u64::from_le_bytes(buf);
    buf.zeroize();
    v
}

type Poly = Zeroizing<Vec<u8>>;

fn poly(coefficients: Vec<u8>) -> Poly {
    Zeroizing::new(coefficients)
}

/// Drops leading zero coefficients (the zero polynomial is empty).
fn trim(p: &mut Vec<u8>) {
    while p.last() == Some(&0) {
        p.pop();
    }
}

/// Quotient and remainder of `a / b` (`b` not zero), trimmed.
fn divide(f: Field, a: &[u8], b: &[u8]) -> (Poly, Poly) {
    let mut rem = poly(a.to_vec());
    let db = b.len() - 1;
    if a.len() < b.len() {
        return (poly(Vec::new()), rem);
    }
    let lead = f.inv_ct(b[db]);
    let mut q = poly(vec![0u8; a.len() - db]);
    for i in (0..q.len()).rev() {
        let c = f.mul_ct(rem[i + db], lead);
        q[i] = c;
        for (j, &bj) in b.iter().enumerate() {
            rem[i + j] ^= f.mul_ct(c, bj);
        }
    }
    trim(&mut q);
    trim(&mut rem);
    (q, rem)
}

fn multiply(f: Field, a: &[u8], b: &[u8]) -> Poly {
    if a.is_empty() || b.is_empty() {
        return poly(Vec::new());
    }
    let mut out = poly(vec![0u8; a.len() + b.len() - 1]);
    for (i, &ai) in a.iter().enumerate() {
        for (j, &bj) in b.iter().enumerate() {
            out[i + j] ^= f.mul_ct(ai, bj);
        }
    }
    trim(&mut out);
    out
}

/// The value at the public `x` of a polynomial (Horner; the branches are on `x`'s bits only).
fn eval(f: Field, p: &[u8], x: u8) -> u8 {
    p.iter().rev().fold(0u8, |acc, &c| f.mul(acc, x) ^ c)
}

#[cfg(test)]
mod tests;

//! Arithmetic in GF(2^8), the field both Shamir schemes work in.
//!
//! The two schemes differ only in the reduction polynomial:
//! - native (`sharks`/`blahaj` compatible): x^8 + x^4 + x^3 + x^2 + 1 (0x11d)
//! - vault (HashiCorp Vault's `shamir` package): x^8 + x^4 + x^3 + x + 1 (0x11b, the AES field)
//!
//! Secret bytes are only ever multiplied by *public* constants (x coordinates and Lagrange
//! coefficients, both derived from the x coordinates printed in every share). The bulk routines
//! therefore use no secret-indexed table and no secret-dependent branch: eight bytes at a time are
//! packed into a `u64` and multiplied by shift-and-add, branching only on the public constant's
//! bits. This is constant time with respect to the secret and, packed eight lanes wide, faster than
//! log/exp tables on large secrets.

/// A binary field GF(2^8) given by its reduction polynomial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The low byte of the reduction polynomial (0x1b for 0x11b, 0x1d for 0x11d).
    reduce: u8,
}

const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
const LOW_SEVEN: u64 = 0x7f7f_7f7f_7f7f_7f7f;

impl Field {
    /// The AES field, polynomial 0x11b, used by HashiCorp Vault.
    pub const AES: Field = Field { reduce: 0x1b };
    /// The field of `sharks` and `blahaj`, polynomial 0x11d.
    pub const SHARKS: Field = Field { reduce: 0x1d };

    /// Multiplies two field elements. Used for public values (coordinates, coefficients, tests).
    pub fn mul(self, a: u8, b: u8) -> u8 {
        (self.mul_lanes(u64::from(a), b) & 0xff) as u8
    }

    /// The multiplicative inverse of a non-zero element (a^254). `inv(0)` is 0.
    pub fn inv(self, a: u8) -> u8 {
        // Square-and-multiply over the public exponent 254.
        let mut result = 1u8;
        let mut base = a;
        let mut exp = 254u8;
        while exp > 0 {
            if exp & 1 == 1 {
                result = self.mul(result, base);
            }
            base = self.mul(base, base);
            exp >>= 1;
        }
        result
    }

    /// Divides `a` by the non-zero `b`.
    pub fn div(self, a: u8, b: u8) -> u8 {
        self.mul(a, self.inv(b))
    }

    /// Multiplies two field elements that may both be secret: no branch and no table depends on
    /// either (eight fixed rounds, masks instead of branches). Used by the error-correcting
    /// decoder.
    pub fn mul_ct(self, a: u8, b: u8) -> u8 {
        let mut acc = 0u8;
        let mut power = a;
        for bit in 0..8 {
            acc ^= power & 0u8.wrapping_sub((b >> bit) & 1);
            power = (power << 1) ^ (0u8.wrapping_sub(power >> 7) & self.reduce);
        }
        acc
    }

    /// The inverse of a possibly secret element, by a fixed square-and-multiply chain (a^254).
    /// `inv_ct(0)` is 0.
    pub fn inv_ct(self, a: u8) -> u8 {
        // 254 = 0b1111_1110: a^2 * a^4 * ... * a^128.
        let mut result = 1u8;
        let mut square = a;
        for _ in 0..7 {
            square = self.mul_ct(square, square);
            result = self.mul_ct(result, square);
        }
        result
    }

    /// Multiplies each of the eight byte lanes of `v` by 2 (the polynomial x).
    #[inline(always)]
    pub(super) fn xtime_lanes(self, v: u64) -> u64 {
        let carries = (v & HIGH_BITS) >> 7;
        ((v & LOW_SEVEN) << 1) ^ (carries * u64::from(self.reduce))
    }

    /// Multiplies each of the eight byte lanes of `v` by the public constant `c`.
    #[inline(always)]
    fn mul_lanes(self, v: u64, c: u8) -> u64 {
        let mut acc = 0u64;
        let mut power = v;
        let mut bits = c;
        while bits != 0 {
            if bits & 1 == 1 {
                acc ^= power;
            }
            power = self.xtime_lanes(power);
            bits >>= 1;
        }
        acc
    }

    /// `dst[i] = dst[i] * c + src[i]` for every i: one Horner step of polynomial evaluation.
    /// `dst` and `src` have the same length.
    pub fn mul_add_assign(self, dst: &mut [u8], c: u8, src: &[u8]) {
        debug_assert_eq!(dst.len(), src.len());
        let mut d = dst.chunks_exact_mut(8);
        let mut s = src.chunks_exact(8);
        for (dc, sc) in (&mut d).zip(&mut s) {
            let v = lanes(dc);
            let w = self.mul_lanes(v, c) ^ lanes(sc);
            dc.copy_from_slice(&w.to_le_bytes());
        }
        tail(d.into_remainder(), s.remainder(), |v, w| self.mul_lanes(v, c) ^ w);
    }

    /// `dst[i] = dst[i] + src[i] * c` for every i: one term of a Lagrange sum.
    pub fn add_mul_assign(self, dst: &mut [u8], src: &[u8], c: u8) {
        debug_assert_eq!(dst.len(), src.len());
        let mut d = dst.chunks_exact_mut(8);
        let mut s = src.chunks_exact(8);
        for (dc, sc) in (&mut d).zip(&mut s) {
            let w = lanes(dc) ^ self.mul_lanes(lanes(sc), c);
            dc.copy_from_slice(&w.to_le_bytes());
        }
        tail(d.into_remainder(), s.remainder(), |v, w| v ^ self.mul_lanes(w, c));
    }

    /// The Lagrange basis coefficients for evaluating at `at` the polynomial through points at
    /// the distinct `xs`: `l_i = prod_{j != i} (at + x_j) / (x_i + x_j)` (+ is XOR here).
    pub fn lagrange_at(self, at: u8, xs: &[u8]) -> Vec<u8> {
        xs.iter()
            .enumerate()
            .map(|(i, &xi)| {
                xs.iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .fold(1u8, |acc, (_, &xj)| self.mul(acc, self.div(at ^ xj, xi ^ xj)))
            })
            .collect()
    }
}

/// Reads eight bytes as a little-endian `u64`.
#[inline(always)]
fn lanes(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(bytes);
    u64::from_le_bytes(buf)
}

/// Applies `f` to the last (shorter than eight bytes) pieces of `dst` and `src`, padded with
/// zeros. The padding buffers are wiped afterwards.
fn tail(dst: &mut [u8], src: &[u8], f: impl Fn(u64, u64) -> u64) {
    if dst.is_empty() {
        return;
    }
    let mut d = [0u8; 8];
    let mut s = [0u8; 8];
    d[..dst.len()].copy_from_slice(dst);
    s[..src.len()].copy_from_slice(src);
    let mut w = f(u64::from_le_bytes(d), u64::from_le_bytes(s)).to_le_bytes();
    dst.copy_from_slice(&w[..dst.len()]);
    zeroize::Zeroize::zeroize(&mut d);
    zeroize::Zeroize::zeroize(&mut s);
    zeroize::Zeroize::zeroize(&mut w);
}

#[cfg(test)]
mod tests {
    use super::Field;

    /// Schoolbook multiplication, bit by bit, as the reference.
    fn slow_mul(poly: u16, a: u8, b: u8) -> u8 {
        let mut acc = 0u16;
        for bit in 0..8 {
            if b >> bit & 1 == 1 {
                acc ^= u16::from(a) << bit;
            }
        }
        for bit in (8..16).rev() {
            if acc >> bit & 1 == 1 {
                acc ^= poly << (bit - 8);
            }
        }
        acc as u8
    }

    #[test]
    fn fips_197_example() {
        // FIPS-197 section 4.2: {57} * {83} = {c1}.
        assert_eq!(Field::AES.mul(0x57, 0x83), 0xc1);
        assert_eq!(Field::AES.mul(0x57, 0x13), 0xfe);
    }

    #[test]
    fn matches_schoolbook_for_all_pairs() {
        for (field, poly) in [(Field::AES, 0x11b), (Field::SHARKS, 0x11d)] {
            for a in 0..=255u8 {
                for b in 0..=255u8 {
                    assert_eq!(field.mul(a, b), slow_mul(poly, a, b), "{a} * {b} mod {poly:x}");
                }
            }
        }
    }

    #[test]
    fn inverses() {
        for field in [Field::AES, Field::SHARKS] {
            for a in 1..=255u8 {
                assert_eq!(field.mul(a, field.inv(a)), 1, "{a}");
                assert_eq!(field.inv_ct(a), field.inv(a), "{a}");
            }
            assert_eq!(field.inv_ct(0), 0);
        }
    }

    #[test]
    fn constant_time_multiplication_matches() {
        for field in [Field::AES, Field::SHARKS] {
            for a in 0..=255u8 {
                for b in 0..=255u8 {
                    assert_eq!(field.mul_ct(a, b), field.mul(a, b), "{a} * {b}");
                }
            }
        }
    }

    #[test]
    fn bulk_matches_scalar_including_tails() {
        let src: Vec<u8> = (0..37u32).map(|i| (i * 73 + 11) as u8).collect();
        for field in [Field::AES, Field::SHARKS] {
            for c in [0u8, 1, 2, 0x53, 0xff] {
                let mut dst: Vec<u8> = (0..37u32).map(|i| (i * 29 + 5) as u8).collect();
                let expect: Vec<u8> = dst.iter().zip(&src).map(|(&d, &s)| field.mul(d, c) ^ s).collect();
                field.mul_add_assign(&mut dst, c, &src);
                assert_eq!(dst, expect);

                let mut dst2: Vec<u8> = (0..37u32).map(|i| (i * 31 + 7) as u8).collect();
                let expect2: Vec<u8> = dst2.iter().zip(&src).map(|(&d, &s)| d ^ field.mul(s, c)).collect();
                field.add_mul_assign(&mut dst2, &src, c);
                assert_eq!(dst2, expect2);
            }
        }
    }
}

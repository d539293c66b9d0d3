//! Secret bytes: wiped when dropped, never shown by `Debug`, compared in constant time.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes that must not leak: a secret, a share's payload, a blinding value.
///
/// The buffer is zeroized on drop. `Debug` prints only the length. There is deliberately no
/// `Display`, no `Deref` and no `serde` implementation: reading the bytes takes an explicit
/// [`SecretBytes::expose`].
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

/// Equality in time independent of the contents (lengths are public).
impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl Eq for SecretBytes {}

impl SecretBytes {
    /// Takes ownership of `bytes`. The caller's buffer moves in, no copy is left behind.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }

    /// A zero-filled secret buffer of `len` bytes, allocated once at its final size.
    pub fn zeroed(len: usize) -> Self {
        SecretBytes(vec![0u8; len])
    }

    /// Copies `bytes` into a new secret buffer.
    pub fn copy_from(bytes: &[u8]) -> Self {
        SecretBytes(bytes.to_vec())
    }

    /// The secret bytes. Every call site is a place where the secret is used on purpose.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret bytes, writable.
    pub fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {} bytes])", self.0.len())
    }
}

/// Compares two byte strings in time independent of their contents (lengths are public).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_show_the_bytes() {
        let s = SecretBytes::new(b"hunter2".to_vec());
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("104")); // 'h' as a number
        assert_eq!(shown, "SecretBytes([REDACTED; 7 bytes])");
    }

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}

//! The randomness every secret value comes from: the operating system's CSPRNG.

use rand::rngs::{StdRng, SysRng};
use rand::{SeedableRng, TryRng};

/// Why the operating system's random generator could not be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "the operating system's random number generator failed ({0}): nothing was generated; check that /dev/urandom and getrandom(2) work"
)]
pub struct RngError(pub String);

/// A ChaCha12 generator freshly seeded from the OS, for one operation.
pub fn os_rng() -> Result<StdRng, RngError> {
    StdRng::try_from_rng(&mut SysRng).map_err(|e| RngError(e.to_string()))
}

/// Fills `buf` straight from the OS generator.
pub fn fill_from_os(buf: &mut [u8]) -> Result<(), RngError> {
    SysRng.try_fill_bytes(buf).map_err(|e| RngError(e.to_string()))
}

#[cfg(test)]
mod tests {
    /// The generator of every split is ChaCha12 (`StdRng`), whose key, counter and buffered
    /// output are wiped when it is dropped: chacha20's `zeroize` feature (Cargo.toml) gives its
    /// core a `Drop` that does so. Without the feature this does not compile.
    #[test]
    fn the_generator_wipes_its_state_on_drop() {
        fn wipes<T: zeroize::ZeroizeOnDrop>() {}
        wipes::<chacha20::ChaCha12Rng>();
        // StdRng is that generator.
        let rng = super::os_rng().unwrap();
        assert_eq!(std::mem::size_of_val(&rng), std::mem::size_of::<chacha20::ChaCha12Rng>());
    }
}

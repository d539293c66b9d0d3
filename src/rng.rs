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

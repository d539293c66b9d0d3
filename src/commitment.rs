//! Commitments that let a reconstruction, or a single share, be checked without revealing the
//! secret, even a low-entropy one. The reasoning is in `docs/FORMAT.md` ("Commitments").
//!
//! - The set commitment hashes the set's header, the secret and a 32-byte random blinding value
//!   `rho`. `rho` is split with the same threshold and x coordinates as the secret, so it can be
//!   recovered only together with the secret: the commitment is public, yet guessing the secret
//!   is useless without also guessing 256 random bits.
//! - A share commitment hashes one share's payload together with its piece of `rho`, so each
//!   custodian's share can be checked alone against the public manifest.
//! - A bare share commitment (for shares that travel in Vault's bare hex/base64 form, which has
//!   no room for a piece of `rho`) hashes the payload alone. It is published only when the
//!   payload is itself at least 128 bits of uniform randomness (see [`bare_commitment_is_safe`]).

use sha2::{Digest, Sha256};

pub const COMMITMENT_LEN: usize = 32;
/// Length of the blinding value rho and of each share's piece of it.
pub const BLIND_LEN: usize = 32;

pub type Commitment = [u8; COMMITMENT_LEN];

const SET_DOMAIN: &[u8] = b"symbolon v1 set commitment\0";
const SHARE_DOMAIN: &[u8] = b"symbolon v1 share commitment\0";
const BARE_DOMAIN: &[u8] = b"symbolon v1 bare share commitment\0";

/// SHA-256 over `parts` in order, its state wiped when done: the hasher holds the last block of
/// what it hashed (secret bytes, share payloads) and a state derived from it, which would
/// otherwise stay on the stack. Best effort, as any wipe: the compiler may have copied it.
pub fn sha256_wiped(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    let out: [u8; 32] = hasher.finalize_reset().into();
    // A fresh state over the old one (its block buffer all zeros), kept from being optimised away.
    hasher = Sha256::new();
    std::hint::black_box(&mut hasher);
    out
}

/// SHA-256(domain || len(header) || header || len(secret) || secret || rho), lengths as u32 BE.
pub fn set_commitment(header: &[u8], secret: &[u8], rho: &[u8]) -> Commitment {
    sha256_wiped(&[SET_DOMAIN, &len32(header), header, &len32(secret), secret, rho])
}

/// SHA-256(domain || set id || index || len(payload) || payload || blind).
pub fn share_commitment(set_id: &[u8], index: u8, payload: &[u8], blind: &[u8]) -> Commitment {
    sha256_wiped(&[SHARE_DOMAIN, set_id, &[index], &len32(payload), payload, blind])
}

/// SHA-256(domain || set id || len(payload) || payload). No index: a bare key does not say which
/// share it is, so it is hashed once and looked up among the manifest's entries.
pub fn bare_share_commitment(set_id: &[u8], payload: &[u8]) -> Commitment {
    sha256_wiped(&[BARE_DOMAIN, set_id, &len32(payload), payload])
}

/// A bare share's payload is uniformly random, independent of the secret, when the threshold is
/// at least 2; at 16 bytes or more it cannot be guessed from its hash.
pub fn bare_commitment_is_safe(threshold: usize, secret_len: usize) -> bool {
    threshold >= 2 && secret_len >= 16
}

fn len32(bytes: &[u8]) -> [u8; 4] {
    // Lengths are bounded by the share format (u32 secret length).
    u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes()
}

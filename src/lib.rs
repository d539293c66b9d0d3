//! symbolon: offline Shamir secret sharing for key ceremonies.
//!
//! A share's way through the library is a straight line, one module per step:
//! [`sources`] (read) → [`input`] (recognise what was given) → [`openpgp`] (decrypt, on a
//! [`card`] or with a key file) → [`share`] / [`vault_keys`] (read and check a share) →
//! [`combine`] or [`split`] (over the [`shamir`] schemes, checked by [`commitment`]) →
//! [`share`] (encode) → [`openpgp`] (encrypt) → [`manifest`], [`output`] (write whole or not at
//! all). The ceremony sessions over that line: [`recovery`], [`new_set`], [`rekey`],
//! [`rekey_staged`], [`verification`] (see docs/DESIGN.md, "Shape of the code").
//!
//! The library does no terminal I/O: it never prompts and never prints. Secrets live in
//! [`secret::SecretBytes`] (zeroized on drop, redacted in `Debug`); the binary's allocator,
//! [`wipe::WipeOnFree`], wipes every block that Rust code frees.

// Unsafe code is denied everywhere but in `wipe`, the global allocator that wipes freed memory.
#![deny(unsafe_code)]

pub mod candidate;
pub mod card;
pub mod ceremony;
pub mod checked_lines;
pub mod combine;
pub mod commitment;
pub mod doctor;
pub mod hygiene;
pub mod input;
pub mod inspection;
pub mod interrupt;
pub mod manifest;
pub mod names;
pub mod new_set;
pub mod openpgp;
pub mod output;
pub mod paper;
pub mod parallel;
pub mod prompt;
pub mod qr;
pub mod recipients;
pub mod recovery;
pub mod rekey;
pub mod rekey_plan;
pub mod rekey_staged;
pub mod rng;
pub mod sanitize;
pub mod secret;
pub mod shamir;
pub mod share;
pub mod sources;
pub mod split;
pub mod time;
pub mod vault_keys;
pub mod verification;
pub mod wipe;
pub mod wording;

pub use sanitize::sanitize;

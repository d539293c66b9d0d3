//! Reading what the user points at, through the library's [`symbolon::sources`], with the
//! warnings the terminal should show.

use anyhow::Result;
use std::path::{Path, PathBuf};
use symbolon::input::Parsed;
use symbolon::manifest::Manifest;
use symbolon::openpgp::decrypt::SecretKeys;
use symbolon::secret::SecretBytes;
use symbolon::sources;

pub use sources::{images as read_images, typed as read_typed};

pub fn read_secret_file(path: &Path) -> Result<SecretBytes> {
    Ok(sources::secret_file(path)?)
}

pub fn read_secret_stdin() -> Result<SecretBytes> {
    Ok(sources::secret_stdin()?)
}

/// Every share argument (a file, or the share text) and stdin; warns of shares given as text.
pub fn read_shares(args: &[String], stdin: bool) -> Result<Vec<Parsed>> {
    // Said first: the text is in the shell's history whatever happens next.
    if args.iter().any(|a| sources::arg_kind(a) == sources::ArgKind::Text) {
        tell!(
            "warning: a share given on the command line can stay in shell history and be seen in the process list; prefer files or --stdin"
        );
    }
    Ok(sources::shares(args, stdin)?)
}

pub fn read_key_files(paths: &[PathBuf]) -> Result<SecretKeys> {
    Ok(sources::key_files(paths)?)
}

pub fn read_manifest(path: &Path) -> Result<Manifest> {
    Ok(sources::manifest(path)?.1)
}

pub fn read_manifest_bytes(path: &Path) -> Result<(Vec<u8>, Manifest)> {
    Ok(sources::manifest(path)?)
}

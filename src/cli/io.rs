//! Reading what the user points at: share files or text, secret files, stdin.

use anyhow::{Context, Result, bail};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use symbolon::input::{self, Parsed};
use symbolon::secret::SecretBytes;
use zeroize::Zeroizing;

/// Reads a whole file into a secret buffer allocated once at the file's size.
pub fn read_secret_file(path: &Path) -> Result<SecretBytes> {
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let mut buf = SecretBytes::zeroed(len);
    file.read_exact(buf.expose_mut()).with_context(|| format!("cannot read {}", path.display()))?;
    let mut probe = [0u8; 1];
    if file.read(&mut probe)? != 0 {
        bail!("{} changed while it was read: try again", path.display());
    }
    Ok(buf)
}

/// Reads all of stdin as secret bytes; refuses a terminal (the bytes would be echoed).
pub fn read_secret_stdin() -> Result<SecretBytes> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        bail!(
            "stdin is a terminal, where a typed secret would be echoed: pipe the secret in, or use --secret-file FILE"
        );
    }
    let mut buf = Zeroizing::new(Vec::new());
    stdin.read_to_end(&mut buf).context("cannot read stdin")?;
    Ok(SecretBytes::copy_from(&buf))
}

/// Reads every share argument: a file path, or the share text itself.
pub fn read_shares(args: &[String], stdin: bool) -> Result<Vec<Parsed>> {
    let mut out = Vec::new();
    let mut warned = false;
    for arg in args {
        let path = Path::new(arg);
        if path.exists() {
            out.push(input::parse_bytes(arg, read_secret_file(path)?.expose())?);
        } else if arg.contains('/') || arg.ends_with(".txt") || arg.ends_with(".json") || arg.ends_with(".asc") {
            bail!("{arg}: no such file");
        } else {
            if !warned {
                eprintln!(
                    "warning: a share given on the command line can stay in shell history and be seen in the process list; prefer files or --stdin"
                );
                warned = true;
            }
            out.push(input::parse(&format!("argument {}", out.len() + 1), arg)?);
        }
    }
    if stdin {
        out.push(input::parse_bytes("stdin", read_secret_stdin()?.expose())?);
    }
    Ok(out)
}

/// Reads shares typed back from paper (`--from-text`): numbered lines with their checks.
pub fn read_typed(paths: &[PathBuf]) -> Result<Vec<Parsed>> {
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(input::parse_typed(&path.display().to_string(), &text)?)
        })
        .collect()
}

/// Reads the shares in photographs or scans of their QR codes (`--from-image`).
pub fn read_images(paths: &[PathBuf]) -> Result<Vec<Parsed>> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut images = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        images.push((path.display().to_string(), bytes));
    }
    Ok(vec![input::parse_images(&images)?])
}

/// Reads the secret keys named by `--key-file`.
pub fn read_key_files(paths: &[PathBuf]) -> Result<symbolon::openpgp::decrypt::SecretKeys> {
    let mut keys = symbolon::openpgp::decrypt::SecretKeys::default();
    for path in paths {
        let bytes = read_secret_file(path)?;
        keys.add(&path.display().to_string(), bytes.expose())?;
    }
    Ok(keys)
}

/// Reads a manifest file.
pub fn read_manifest(path: &Path) -> Result<symbolon::manifest::Manifest> {
    Ok(read_manifest_bytes(path)?.1)
}

/// A manifest file's bytes (as a plan records them) and the manifest they hold.
pub fn read_manifest_bytes(path: &Path) -> Result<(Vec<u8>, symbolon::manifest::Manifest)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = std::str::from_utf8(&bytes).with_context(|| format!("{} is not text", path.display()))?;
    let manifest = symbolon::manifest::Manifest::from_json(text).with_context(|| path.display().to_string())?;
    Ok((bytes, manifest))
}

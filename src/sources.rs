//! Where a ceremony's inputs come from: share files or share text given as arguments, standard
//! input, photographs of QR codes, lines typed back from paper, secret files, key files and
//! manifests. Each is read whole and handed to [`crate::input`] to be recognised; secret bytes
//! go straight into buffers that are wiped on drop.

use crate::input::{self, InputError, Parsed};
use crate::manifest::{Manifest, ManifestError};
use crate::openpgp::decrypt::{DecryptError, SecretKeys};
use crate::secret::SecretBytes;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("cannot open {}: {source}", path.display())]
    Unopenable { path: PathBuf, source: std::io::Error },
    #[error("{0}: no such file")]
    NoSuchFile(String),
    #[error("{arg}: no such file, and not a share's text either ({why})")]
    NeitherFileNorShare { arg: String, why: String },
    #[error("{} changed while it was read: try again", .0.display())]
    Changed(PathBuf),
    #[error("stdin is a terminal, where typed secret bytes would be echoed: pipe them in, or read them from a file")]
    StdinIsTerminal,
    #[error("cannot read stdin: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("{} is not text", .0.display())]
    NotText(PathBuf),
    #[error("{}: {source}", path.display())]
    Manifest { path: PathBuf, source: ManifestError },
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Key(#[from] DecryptError),
}

fn unreadable(path: &Path) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
    move |source| SourceError::Unreadable { path: path.to_path_buf(), source }
}

/// Reads a whole file into a secret buffer allocated once at the file's size.
pub fn secret_file(path: &Path) -> Result<SecretBytes, SourceError> {
    let mut file =
        std::fs::File::open(path).map_err(|source| SourceError::Unopenable { path: path.to_path_buf(), source })?;
    let len = file.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let mut buf = SecretBytes::zeroed(len);
    file.read_exact(buf.expose_mut()).map_err(unreadable(path))?;
    let mut probe = [0u8; 1];
    if file.read(&mut probe).map_err(unreadable(path))? != 0 {
        return Err(SourceError::Changed(path.to_path_buf()));
    }
    Ok(buf)
}

/// Reads all of stdin as secret bytes; refuses a terminal (the bytes would be echoed).
pub fn secret_stdin() -> Result<SecretBytes, SourceError> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(SourceError::StdinIsTerminal);
    }
    let mut buf = Zeroizing::new(Vec::new());
    stdin.read_to_end(&mut buf).map_err(SourceError::Stdin)?;
    Ok(SecretBytes::copy_from(&buf))
}

/// How a share argument is taken: an existing file, a path that names no file (refused), or
/// else the share text itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    File,
    Missing,
    /// Share text on the command line, where it can stay in shell history and be seen in the
    /// process list.
    Text,
}

pub fn arg_kind(arg: &str) -> ArgKind {
    // A path that exists but cannot be looked at (no permission) is a file: reading it then says
    // why it cannot be read, rather than "no such file".
    let looked = std::fs::metadata(arg);
    if looked.is_ok() || looked.is_err_and(|e| e.kind() != std::io::ErrorKind::NotFound) {
        ArgKind::File
    } else if arg.contains('/') || arg.ends_with(".txt") || arg.ends_with(".json") || arg.ends_with(".asc") {
        ArgKind::Missing
    } else {
        ArgKind::Text
    }
}

/// Reads every share argument (see [`arg_kind`]), then stdin.
pub fn shares(args: &[String], stdin: bool) -> Result<Vec<Parsed>, SourceError> {
    let mut out = Vec::new();
    for arg in args {
        match arg_kind(arg) {
            ArgKind::File => out.push(input::parse_bytes(arg, secret_file(Path::new(arg))?.expose())?),
            ArgKind::Missing => return Err(SourceError::NoSuchFile(arg.clone())),
            ArgKind::Text => match input::parse(&format!("argument {}", out.len() + 1), arg) {
                Ok(parsed) => out.push(parsed),
                // A word that is no share was most likely meant as a file name.
                Err(e) if !arg.contains(char::is_whitespace) && arg.len() < 64 => {
                    // Named only if it cannot be key material (short, or not of the hex/base64
                    // alphabet): a mistyped key is not echoed to the terminal or a log.
                    let keyish =
                        arg.len() >= 16 && arg.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
                    let arg = if keyish { format!("argument {}", out.len() + 1) } else { crate::sanitize(arg) };
                    return Err(SourceError::NeitherFileNorShare { arg, why: e.to_string() });
                }
                Err(e) => return Err(e.into()),
            },
        }
    }
    if stdin {
        out.push(input::parse_bytes("stdin", secret_stdin()?.expose())?);
    }
    Ok(out)
}

/// Reads shares typed back from paper: numbered lines with their checks.
pub fn typed(paths: &[PathBuf]) -> Result<Vec<Parsed>, SourceError> {
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(unreadable(path))?;
            Ok(input::parse_typed(&path.display().to_string(), &text)?)
        })
        .collect()
}

/// Reads the shares in photographs or scans of their QR codes.
pub fn images(paths: &[PathBuf]) -> Result<Vec<Parsed>, SourceError> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut images = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = std::fs::read(path).map_err(unreadable(path))?;
        images.push((path.display().to_string(), bytes));
    }
    Ok(vec![input::parse_images(&images)?])
}

/// Reads secret key files.
pub fn key_files(paths: &[PathBuf]) -> Result<SecretKeys, SourceError> {
    let mut keys = SecretKeys::default();
    for path in paths {
        let bytes = secret_file(path)?;
        keys.add(&path.display().to_string(), bytes.expose())?;
    }
    Ok(keys)
}

/// A manifest file's bytes (as a plan records them) and the manifest they hold.
pub fn manifest(path: &Path) -> Result<(Vec<u8>, Manifest), SourceError> {
    let bytes = std::fs::read(path).map_err(unreadable(path))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| SourceError::NotText(path.to_path_buf()))?;
    let manifest =
        Manifest::from_json(text).map_err(|source| SourceError::Manifest { path: path.to_path_buf(), source })?;
    Ok((bytes, manifest))
}

//! Reading what the user points at: share files or text, secret files, stdin.

use anyhow::{Context, Result, bail};
use std::io::{IsTerminal, Read};
use std::path::Path;
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

/// Reads text that holds shares (not necessarily UTF-8 clean at the edges).
fn read_text_file(path: &Path) -> Result<Zeroizing<String>> {
    let bytes = read_secret_file(path)?;
    let text = std::str::from_utf8(bytes.expose()).map_err(|_| {
        anyhow::anyhow!("{} is not text: give a share file, a Vault key file or Vault's output", path.display())
    })?;
    Ok(Zeroizing::new(text.to_string()))
}

/// Reads every share argument: a file path, or the share text itself.
pub fn read_shares(args: &[String], stdin: bool) -> Result<Vec<Parsed>> {
    let mut out = Vec::new();
    let mut warned = false;
    for arg in args {
        let path = Path::new(arg);
        if path.exists() {
            out.push(input::parse(arg, &read_text_file(path)?)?);
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
        let bytes = read_secret_stdin()?;
        let text = std::str::from_utf8(bytes.expose()).map_err(|_| anyhow::anyhow!("stdin is not text"))?;
        out.push(input::parse("stdin", text)?);
    }
    Ok(out)
}

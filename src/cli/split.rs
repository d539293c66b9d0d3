//! `symbolon split`

use super::io;
use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use symbolon::manifest::{self, Manifest, ShareFile, ShareFormat};
use symbolon::output::{NewDir, Privacy};
use symbolon::secret::SecretBytes;
use symbolon::shamir::Scheme;
use symbolon::share::{Label, Target};
use symbolon::split::{SplitPlan, split_secret};
use symbolon::vault_keys;

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["secret_file", "stdin", "generate"])))]
pub struct Args {
    /// Read the secret from FILE (all of its bytes, as they are).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Read the secret from standard input (a pipe, never a terminal).
    #[arg(long)]
    stdin: bool,
    /// Generate a new random secret of BYTES bytes from the operating system's CSPRNG.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..))]
    generate: Option<u32>,
    /// Number of shares to make (Vault: -key-shares).
    #[arg(short = 'n', long = "shares", alias = "key-shares", value_name = "N")]
    shares: usize,
    /// Number of shares needed to recover the secret (Vault: -key-threshold).
    #[arg(short = 't', long = "threshold", alias = "key-threshold", value_name = "K")]
    threshold: usize,
    /// Shamir scheme: native (sharks/blahaj format) or vault (byte-compatible with HashiCorp Vault).
    #[arg(long, default_value = "native")]
    scheme: Scheme,
    /// A label for the set, e.g. "vault-prod unseal" (at most 64 bytes).
    #[arg(long, default_value = "")]
    label: String,
    /// What the secret unlocks: unseal, recovery or generic (Vault's words).
    #[arg(long, default_value = "generic")]
    target: Target,
    /// Write the shares unencrypted. Required for now: encryption to OpenPGP recipients is not built yet.
    #[arg(long)]
    plaintext: bool,
    /// Form of each share file: symbolon (format v1 text), or Vault's bare hex or base64 key (vault scheme only).
    #[arg(long, value_enum, default_value = "symbolon")]
    share_format: FormatArg,
    /// New directory to write the shares and manifest.json into (must not exist).
    #[arg(short = 'o', long, value_name = "DIR")]
    out_dir: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Symbolon,
    VaultHex,
    VaultBase64,
}

pub fn run(args: Args) -> Result<()> {
    // Check everything that does not need the secret first.
    let format = match args.share_format {
        FormatArg::Symbolon => ShareFormat::SymbolonV1,
        FormatArg::VaultHex => ShareFormat::VaultHex,
        FormatArg::VaultBase64 => ShareFormat::VaultBase64,
    };
    if format != ShareFormat::SymbolonV1 && args.scheme != Scheme::Vault {
        bail!("--share-format {:?} writes Vault keys, which need --scheme vault", args.share_format);
    }
    let plan = SplitPlan {
        scheme: args.scheme,
        threshold: args.threshold,
        shares: args.shares,
        target: args.target,
        label: Label::new(&args.label)?,
        created: None,
    };
    if let Some(warning) = plan.check()? {
        eprintln!("warning: {warning}");
    }
    if !args.plaintext {
        bail!(
            "encrypted shares are not available yet (they come with OpenPGP recipients); \
             pass --plaintext to write unencrypted shares, which anyone who can read the files can use"
        );
    }
    if args.out_dir.symlink_metadata().is_ok() {
        bail!(symbolon::output::OutputError::Exists { path: args.out_dir.clone() });
    }

    let secret = if let Some(path) = &args.secret_file {
        io::read_secret_file(path)?
    } else if args.stdin {
        io::read_secret_stdin()?
    } else {
        let len = args.generate.unwrap_or(32) as usize;
        let mut s = SecretBytes::zeroed(len);
        symbolon::rng::fill_from_os(s.expose_mut())?;
        s
    };
    if secret.is_empty() {
        bail!("the secret is empty: there is nothing to split (check the file or the pipe)");
    }

    let mut rng = symbolon::rng::os_rng()?;
    let set = split_secret(&secret, &plan, &mut rng)?;
    drop(secret);

    let width = set.shares.len().to_string().len().max(2);
    let ext = match format {
        ShareFormat::SymbolonV1 => "txt",
        ShareFormat::VaultHex => "hex",
        ShareFormat::VaultBase64 => "b64",
    };
    let mut dir = NewDir::create(&args.out_dir)?;
    // Each file is hashed as it is written and its text wiped at once: one share in memory at a time.
    let mut files = Vec::with_capacity(set.shares.len());
    for share in &set.shares {
        let name = format!("{:0width$}-share.{ext}", share.index);
        let text = match format {
            ShareFormat::SymbolonV1 => share.to_text(),
            ShareFormat::VaultHex => vault_keys::hex_line(share.payload.expose()),
            ShareFormat::VaultBase64 => vault_keys::base64_line(share.payload.expose()),
        };
        dir.write(&name, text.as_bytes(), Privacy::Secret)?;
        files.push(ShareFile { name, sha256: Sha256::digest(text.as_bytes()).into() });
    }
    let manifest = Manifest::new(&set.info, format, &set.shares, &files);
    dir.write(manifest::FILE_NAME, manifest.to_json().as_bytes(), Privacy::Public)?;
    let path = dir.commit().context("the share set was not written")?;

    let info = &set.info;
    println!(
        "Split into set {} ({} scheme, target {}{}).",
        info.id.short(),
        info.scheme,
        info.target,
        label_suffix(info.label.as_str())
    );
    println!("{} shares, {}. Written to {}:", info.count, info.describe_threshold(), path.display());
    for file in &files {
        println!("  {}", file.name);
    }
    println!("  {}  (public: set id, commitments; no secrets)", manifest::FILE_NAME);
    if let Some(reason) = &manifest.bare_commitments_omitted {
        eprintln!("note: the manifest has no per-share commitments for the bare keys: {reason}");
    }
    if args.generate.is_some() {
        println!("The secret was generated here and exists only in these shares.");
    }
    println!("These shares are NOT encrypted: hand each to its custodian and delete the rest.");
    Ok(())
}

fn label_suffix(label: &str) -> String {
    if label.is_empty() { String::new() } else { format!(", label \"{label}\"") }
}

//! `symbolon combine`

use super::io;
use anyhow::{Result, bail};
use clap::ValueEnum;
use std::io::IsTerminal;
use std::path::PathBuf;
use symbolon::output::{Privacy, write_new_file};
use symbolon::vault_keys;
use zeroize::Zeroizing;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("dest").required(true).args(["out", "stdout"])))]
pub struct Args {
    #[command(flatten)]
    inputs: super::recovery::Inputs,
    /// The set's manifest.json: checks every share on its own and names the bad ones.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The threshold of a set of bare Vault keys (symbolon shares carry their own).
    #[arg(short = 't', long = "threshold", alias = "key-threshold", value_name = "K")]
    threshold: Option<usize>,
    /// Write the secret to this new file (created with mode 0600, never overwritten).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write the secret to standard output.
    #[arg(long)]
    stdout: bool,
    /// How to write the secret.
    #[arg(long, value_enum, default_value = "raw")]
    encoding: Encoding,
    #[command(flatten)]
    airgap: super::options::Airgap,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Encoding {
    Raw,
    Hex,
    Base64,
}

pub fn run(args: Args) -> Result<()> {
    args.airgap.check()?;
    if args.stdout && args.encoding == Encoding::Raw && std::io::stdout().is_terminal() {
        bail!(
            "refusing to print raw secret bytes to a terminal: use --encoding hex or --encoding base64, or --out FILE"
        );
    }
    if let Some(out) = &args.out {
        symbolon::output::refuse_existing(out)?;
    }
    let manifest = args.manifest.as_deref().map(io::read_manifest).transpose()?;
    let parsed = args.inputs.read()?;
    let recovered = args.inputs.recover(parsed, manifest.as_ref(), args.threshold)?;

    let secret = recovered.secret.expose();
    let encoded: Zeroizing<Vec<u8>> = Zeroizing::new(match args.encoding {
        Encoding::Raw => secret.to_vec(),
        Encoding::Hex => vault_keys::hex_line(secret).as_bytes().to_vec(),
        Encoding::Base64 => vault_keys::base64_line(secret).as_bytes().to_vec(),
    });
    if let Some(out) = &args.out {
        write_new_file(out, &encoded, Privacy::Secret)?;
    } else {
        symbolon::output::note_stdout();
        super::write_stdout_bytes(&encoded, "the secret");
    }
    super::recovery::report(&recovered, args.out.as_ref());
    Ok(())
}

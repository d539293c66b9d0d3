//! `symbolon split`

use super::io;
use super::new_set::{NewSetArgs, Origin, prepare, write};
use anyhow::Result;
use std::path::PathBuf;
use symbolon::secret::SecretBytes;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["secret_file", "stdin", "generate"])))]
pub struct Args {
    #[command(flatten)]
    airgap: super::options::Airgap,
    /// Read the secret from FILE (all of its bytes, as they are).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// Read the secret from standard input (a pipe, never a terminal).
    #[arg(long)]
    stdin: bool,
    /// Generate a new random secret of BYTES bytes from the operating system's CSPRNG.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..))]
    generate: Option<u32>,
    /// Vouch that the secret read is uniformly random (a key Vault or another generator made, at
    /// least 16 bytes): the manifest then commits to each bare Vault key, so that a key can be
    /// checked alone. Never for a passphrase: k-1 custodians could test guesses of it.
    #[arg(long = "secret-is-random", conflicts_with = "generate")]
    secret_is_random: bool,
    #[command(flatten)]
    set: NewSetArgs,
}

pub fn run(args: Args) -> Result<()> {
    args.airgap.check()?;
    let prepared = prepare(&args.set, None)?;
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
    write(
        prepared,
        secret,
        Origin { generated: args.generate.is_some(), vouched_random: args.secret_is_random, ..Origin::default() },
    )
}

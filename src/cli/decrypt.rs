//! `symbolon decrypt`

use super::io;
use super::prompt::TerminalPrompt;
use anyhow::{Result, bail};
use std::path::PathBuf;
use symbolon::candidate::{Candidate, Piece};
use symbolon::input;
use symbolon::manifest::Manifest;
use symbolon::openpgp::decrypt;
use symbolon::output::{Privacy, write_new_file};
use symbolon::verification::{self, ShareCheck};

#[derive(clap::Args)]
pub struct Args {
    /// The encrypted share: a file (.asc, .pgp, Vault's base64) or Vault's output holding one key.
    #[arg(value_name = "SHARE", required_unless_present_any = ["from_images", "from_text", "paste"])]
    share: Option<String>,
    /// The share from photographs or scans of its QR code(s) (PNG, JPEG) instead of a file.
    #[arg(long = "from-image", value_name = "IMAGE", conflicts_with_all = ["share", "from_text"])]
    from_images: Vec<PathBuf>,
    /// The share typed back from its paper sheet (the numbered text lines) instead of a file.
    #[arg(long = "from-text", value_name = "FILE", conflicts_with = "share")]
    from_text: Option<PathBuf>,
    /// Paste or type the share's numbered lines on the terminal; a wrong line is named and asked
    /// for again.
    #[arg(long, conflicts_with_all = ["share", "from_text", "from_images"])]
    paste: bool,
    /// Decrypt with this OpenPGP secret key file (armored or binary; its passphrase is asked on
    /// the terminal) instead of the custodian's smartcard.
    #[arg(long = "key-file", value_name = "FILE")]
    key_files: Vec<PathBuf>,
    #[command(flatten)]
    card: super::options::CardArgs,
    #[command(flatten)]
    airgap: super::options::Airgap,
    /// The set's manifest.json: names the custodian, and --check checks the share against it.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// Only check: decrypt, verify the share (against the manifest if given), print nothing secret.
    #[arg(long)]
    check: bool,
    /// Write the decrypted share to this new file (mode 0600) instead of standard output.
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    args.airgap.check()?;
    let manifest = args.manifest.as_deref().map(io::read_manifest).transpose()?;
    if let Some(out) = &args.out {
        symbolon::output::refuse_existing(out)?;
    }
    let candidate = read_one(&args)?;
    let Piece::Encrypted { message, target } = &candidate.piece else {
        bail!("{} is not encrypted: it can be read (and checked with `symbolon inspect`) as it is", candidate.origin);
    };

    // Say who the share is for before anything is asked.
    let recipients = decrypt::recipients(message)?;
    let holder = manifest.as_ref().and_then(|m| m.entry_for_recipients(&recipients));
    tell!(
        "{} is encrypted to: {}{}",
        candidate.origin,
        decrypt::describe_recipients(&recipients),
        holder.map_or(String::new(), |e| format!(
            " (share {}, custodian {}, per the manifest)",
            e.index,
            e.custodian.as_deref().map_or("unnamed".into(), symbolon::sanitize)
        ))
    );
    // A key file if one is given, else the custodian's card.
    let plaintext = if args.key_files.is_empty() {
        let mut cards = args.card.cards(manifest.as_ref());
        decrypt::decrypt(message, &mut [&mut cards], &mut TerminalPrompt)?
    } else {
        let mut keys = io::read_key_files(&args.key_files)?;
        decrypt::decrypt(message, &mut [&mut keys], &mut TerminalPrompt)?
    };
    let inside = input::read_inside(&candidate.origin, &plaintext, *target)?;
    drop(plaintext);

    if args.check {
        return check(&inside, manifest.as_ref());
    }
    // The share in its text form: a symbolon share, or Vault's hex key.
    let Some(text) = inside.piece.text_form() else { bail!("{} holds another encrypted message", candidate.origin) };
    write_out(&text, args.out.as_deref())
}

/// The one share decrypt takes: from a file, typed lines, a paste or images.
fn read_one(args: &Args) -> Result<Candidate> {
    let parsed = match (&args.share, &args.from_text) {
        _ if args.paste => vec![symbolon::input::read_pasted(&mut TerminalPrompt)?],
        (Some(share), _) => io::read_shares(std::slice::from_ref(share), false)?,
        (None, Some(text)) => io::read_typed(std::slice::from_ref(text))?,
        (None, None) => io::read_images(&args.from_images)?,
    };
    let mut candidates: Vec<Candidate> = parsed.into_iter().flat_map(|p| p.candidates).collect();
    if candidates.len() != 1 {
        bail!("the input holds {} shares: decrypt takes one share at a time", candidates.len());
    }
    Ok(candidates.remove(0))
}

/// The decrypted share to the new file `out` (mode 0600), or to standard output.
fn write_out(text: &str, out: Option<&std::path::Path>) -> Result<()> {
    match out {
        Some(path) => {
            write_new_file(path, text.as_bytes(), Privacy::Secret)?;
            tell!("The decrypted share was written to {} (mode 0600).", path.display());
        }
        None => {
            symbolon::output::note_stdout();
            super::write_stdout_bytes(text.as_bytes(), "the decrypted share");
        }
    }
    Ok(())
}

/// `--check`: what the share is and whether it matches the manifest, with nothing secret printed.
fn check(inside: &Candidate, manifest: Option<&Manifest>) -> Result<()> {
    let line = match verification::check_share(&inside.piece, manifest)? {
        ShareCheck::Share { index, set_short, threshold, in_manifest: true } => {
            format!(
                "OK: share {index} of set {set_short} ({threshold}) decrypts and matches its commitment in the manifest."
            )
        }
        ShareCheck::Share { index, set_short, threshold, in_manifest: false } => format!(
            "OK: decrypts to a well-formed share {index} of set {set_short} ({threshold}); give --manifest to check it against the set."
        ),
        ShareCheck::VaultKeyInManifest { index, set_short } => {
            format!("OK: Vault key {index} of set {set_short} decrypts and matches the manifest.")
        }
        ShareCheck::VaultKey { len } => {
            format!("OK: decrypts to a Vault key of {len} bytes; give --manifest to check it against the set.")
        }
    };
    tell!("{line}");
    Ok(())
}

//! `symbolon qr show`

use super::io;
use anyhow::{Result, bail};
use symbolon::candidate::Piece;
use symbolon::qr;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Print a share's QR code(s) on the terminal, for a phone or a scanner held to the screen.
    Show {
        /// The share file (encrypted or not).
        #[arg(value_name = "SHARE")]
        share: String,
    },
}

pub fn run(command: Command) -> Result<()> {
    let Command::Show { share } = command;
    let mut candidates: Vec<_> =
        io::read_shares(std::slice::from_ref(&share), false)?.into_iter().flat_map(|p| p.candidates).collect();
    if candidates.len() != 1 {
        bail!("{share} holds {} shares: show one share at a time", candidates.len());
    }
    let piece = candidates.remove(0).piece;
    match piece {
        Piece::Share(_) => tell!("warning: this share is NOT encrypted: anyone who sees the code holds the share"),
        Piece::VaultKey { .. } => {
            tell!("warning: this Vault key is NOT encrypted: anyone who sees the code holds the key")
        }
        Piece::Encrypted { .. } => {}
    }
    let form = piece.qr_form()?;
    let payloads = qr::payloads(&form);
    for (i, payload) in payloads.iter().enumerate() {
        let mut text = String::new();
        if payloads.len() > 1 {
            text.push_str(&format!("QR code {} of {} (scan every one, in any order):\n", i + 1, payloads.len()));
        }
        text.push_str(&qr::to_terminal(&qr::code(payload)?));
        text.push('\n');
        super::write_stdout_bytes(text.as_bytes(), "the share's QR code");
    }
    Ok(())
}

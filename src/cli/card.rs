//! `symbolon card list` and `symbolon card cert`

use super::prompt::TerminalPrompt;
use anyhow::{Result, bail};
use sequoia_openpgp::serialize::SerializeInto;
use std::path::PathBuf;
use symbolon::card::{self, ReaderContent};
use symbolon::output::{Privacy, write_new_file};
use symbolon::sanitize;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Every reader and card: ident, manufacturer, cardholder, keys, PIN retries, touch policy.
    List {
        /// Machine-readable output (schema "symbolon-card-list", version 1).
        #[arg(long)]
        json: bool,
    },
    /// Make a certificate from a card's public keys (the card signs it: user PIN, maybe touch),
    /// to enroll a custodian straight from their token.
    Cert {
        /// The new file to write the armored certificate to.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The user ID, e.g. "Alice <alice@example.org>" (default: the card's cardholder name).
        #[arg(long)]
        name: Option<String>,
        /// Which card, by ident (MMMM:SSSSSSSS, see `card list`), when several are inserted.
        #[arg(long, value_name = "IDENT")]
        card: Option<String>,
    },
}

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::List { json } => list(json),
        Command::Cert { out, name, card } => cert(&out, name.as_deref(), card.as_deref()),
    }
}

fn list(json: bool) -> Result<()> {
    let readers = match card::list_telling(&mut |reader| {
        tell!(
            "Still waiting for the card in reader \"{}\": another program may be using it.",
            symbolon::sanitize(reader)
        )
    }) {
        Ok(readers) => readers,
        Err(e) => {
            if json {
                show!("{}", serde_json::to_string_pretty(&card::CardListError::of(&e))?);
            }
            return Err(e.into());
        }
    };
    if json {
        show!("{}", serde_json::to_string_pretty(&card::CardList::of(&readers))?);
        return refuse_if_nothing_seen(&readers);
    }
    for r in &readers {
        // Reader names and what cards say of themselves come from the devices: escaped.
        let name = sanitize(&r.name);
        match &r.content {
            ReaderContent::Empty => show!("Reader \"{name}\": no card"),
            ReaderContent::Other(what) => show!("Reader \"{name}\": a card, but {}", sanitize(what)),
            ReaderContent::Busy => show!("Reader \"{name}\": {}", card::BUSY_NOTE),
            ReaderContent::Refused => show!(
                "Reader \"{name}\": pcscd does not let this user use this reader (polkit action org.debian.pcsc-lite.access_card): whether it holds a card cannot be told"
            ),
            ReaderContent::OpenPgp(info) => {
                show!("Reader \"{name}\": OpenPGP card {}", info.ident);
                show!("  manufacturer    {}", sanitize(&info.manufacturer));
                show!("  serial          {}", info.serial);
                show!(
                    "  cardholder      {}",
                    if info.cardholder.is_empty() { "(not set)".into() } else { sanitize(&info.cardholder) }
                );
                for (slot, key) in [
                    ("signing", &info.signing),
                    ("decryption", &info.decryption),
                    ("authentication", &info.authentication),
                ] {
                    show!(
                        "  {slot:<15} {}  {}{}",
                        key.fingerprint.as_deref().unwrap_or("(no key)"),
                        key.algorithm,
                        key.touch.as_deref().map_or(String::new(), |t| format!("  touch: {t}"))
                    );
                }
                let counter = |n: u8| if n == 0 { "0 (blocked)".to_string() } else { n.to_string() };
                show!(
                    "  PIN retries     user {}, reset code {}, admin {}",
                    counter(info.pin_retries.user),
                    if info.pin_retries.reset == 0 {
                        "0 (not set, or blocked)".to_string()
                    } else {
                        info.pin_retries.reset.to_string()
                    },
                    counter(info.pin_retries.admin)
                );
            }
        }
    }
    refuse_if_nothing_seen(&readers)
}

/// `card list` looked at nothing when pcscd refused this user every reader: that is a failure.
fn refuse_if_nothing_seen(readers: &[card::Reader]) -> Result<()> {
    if !readers.is_empty() && readers.iter().all(|r| matches!(r.content, ReaderContent::Refused)) {
        bail!(
            "pcscd does not let this user use any of its {} readers (polkit action org.debian.pcsc-lite.access_card): {}",
            readers.len(),
            card::POLKIT_ADVICE
        );
    }
    Ok(())
}

fn cert(out: &std::path::Path, name: Option<&str>, ident: Option<&str>) -> Result<()> {
    symbolon::output::refuse_existing(out)?;
    let cert = card::cert::make_cert(ident, name, &mut TerminalPrompt)?;
    let armored = cert.armored().to_vec()?;
    write_new_file(out, &armored, Privacy::Public)?;
    tell!("Wrote the certificate {} to {}.", symbolon::openpgp::certs::describe(&cert), out.display());
    Ok(())
}

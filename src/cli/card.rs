//! `symbolon card list`, `cert`, `setup`, `pin` and `reset`

use super::prompt::TerminalPrompt;
use anyhow::{Result, bail};
use sequoia_openpgp::serialize::SerializeInto;
use std::path::PathBuf;
use symbolon::card::{self, ReaderContent, provision};
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
    /// Set up a custodian's token: keys generated ON the card (nothing secret leaves it), the
    /// cardholder name, new user and admin PINs (each typed twice; never the factory defaults),
    /// optionally the touch policy; then the card signs its certificate, written for
    /// `split --recipient`. A card that already holds keys is refused unless --reset is given.
    Setup {
        /// The custodian's name ("Given Names Surname"): the cardholder name and the user ID.
        #[arg(long)]
        name: String,
        /// An email address for the user ID ("Name <email>").
        #[arg(long)]
        email: Option<String>,
        /// The new file to write the armored certificate to.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Key algorithm: cv25519 (Ed25519 and X25519), rsa4096, nistp256 or nistp384, as the card
        /// supports them.
        #[arg(long, default_value = "cv25519", value_name = "ALGORITHM")]
        algorithm: provision::Algorithm,
        /// Touch policy for every key, where the card has one: off, on or cached.
        #[arg(long, value_name = "POLICY")]
        touch: Option<provision::Touch>,
        /// The URL of the public key, stored on the card.
        #[arg(long)]
        url: Option<String>,
        /// Login data stored on the card.
        #[arg(long)]
        login: Option<String>,
        /// Also put these certificates (the custodian's other tokens) into the file written, so
        /// that one file enrolls all of the custodian's tokens.
        #[arg(long = "with", value_name = "FILE")]
        with: Vec<PathBuf>,
        /// Reset the card to its factory state first, erasing its keys; IDENT is the card's ident
        /// typed back (see `card list`).
        #[arg(long, value_name = "IDENT")]
        reset: Option<String>,
        #[command(flatten)]
        which: WhichCard,
    },
    /// Change, unblock or set a card's PINs.
    #[command(subcommand)]
    Pin(PinCommand),
    /// Reset a card to its factory state, erasing its keys and PINs (PINs 123456 and 12345678).
    Reset {
        /// The card's ident typed back (see `card list`): the reset goes ahead only if it matches.
        #[arg(long, value_name = "IDENT")]
        confirm: Option<String>,
        #[command(flatten)]
        which: WhichCard,
    },
}

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::List { json } => list(json),
        Command::Cert { out, name, card } => cert(&out, name.as_deref(), card.as_deref()),
        Command::Setup { name, email, out, algorithm, touch, url, login, with, reset, which } => setup(SetupArgs {
            name: &name,
            email: email.as_deref(),
            out: &out,
            algorithm,
            touch,
            url: url.as_deref(),
            login: login.as_deref(),
            with: &with,
            reset: reset.as_deref(),
            which: &which,
        }),
        Command::Pin(command) => pin(command),
        Command::Reset { confirm, which } => reset(confirm.as_deref(), &which),
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

/// Which card, and whether a PIN's last try may be spent.
#[derive(clap::Args)]
pub struct WhichCard {
    /// Which card, by ident (MMMM:SSSSSSSS, see `card list`), when several are inserted.
    #[arg(long, value_name = "IDENT")]
    card: Option<String>,
    /// Spend a PIN's last try if it comes to that (a wrong one then blocks it).
    #[arg(long)]
    allow_last_pin_try: bool,
}

impl WhichCard {
    fn which(&self) -> provision::Which<'_> {
        provision::Which { ident: self.card.as_deref(), allow_last_try: self.allow_last_pin_try }
    }
}

#[derive(clap::Subcommand)]
pub enum PinCommand {
    /// Change the user PIN (or, with --admin, the admin PIN): the current one, then the new one
    /// twice.
    Change {
        /// Change the admin PIN instead of the user PIN.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        which: WhichCard,
    },
    /// Set a new user PIN on a card whose user PIN is blocked (or forgotten), with the admin PIN
    /// or, with --reset-code, the reset code.
    Unblock {
        /// Use the reset code instead of the admin PIN.
        #[arg(long)]
        reset_code: bool,
        #[command(flatten)]
        which: WhichCard,
    },
    /// Set the reset code (with the admin PIN): it unblocks the user PIN without the admin PIN.
    ResetCode {
        #[command(flatten)]
        which: WhichCard,
    },
}

struct SetupArgs<'a> {
    name: &'a str,
    email: Option<&'a str>,
    out: &'a std::path::Path,
    algorithm: provision::Algorithm,
    touch: Option<provision::Touch>,
    url: Option<&'a str>,
    login: Option<&'a str>,
    with: &'a [PathBuf],
    reset: Option<&'a str>,
    which: &'a WhichCard,
}

fn setup(a: SetupArgs<'_>) -> Result<()> {
    symbolon::output::refuse_existing(a.out)?;
    // The other tokens' certificates are read before the card is touched.
    let mut others = Vec::new();
    for path in a.with {
        let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let origin = path.display().to_string();
        for cert in symbolon::openpgp::certs::read_certs(&origin, &bytes)? {
            symbolon::openpgp::certs::validate(&origin, &cert)?;
            others.push(cert);
        }
    }
    let plan = provision::Setup {
        which: a.which.which(),
        algorithm: a.algorithm,
        name: a.name.to_string(),
        email: a.email.map(str::to_string),
        url: a.url.map(str::to_string),
        login: a.login.map(str::to_string),
        touch: a.touch,
        reset: a.reset.map(|ident| Some(ident.to_string())),
    };
    let done = provision::setup(&plan, &mut TerminalPrompt)?;
    let mut armored = done.cert.armored().to_vec()?;
    for other in &others {
        armored.extend(other.armored().to_vec()?);
    }
    tell!("Set up {}:", done.card);
    for what in &done.done {
        tell!("  {what}");
    }
    if let Err(e) = write_new_file(a.out, &armored, Privacy::Public) {
        tell!(
            "The card is set up, but its certificate could not be written: make it again with `symbolon card cert --card {} --name \"{}\" --out FILE`.",
            done.ident,
            symbolon::sanitize(&done.user_id)
        );
        return Err(e.into());
    }
    tell!(
        "Wrote the certificate {} to {}{}.",
        symbolon::openpgp::certs::describe(&done.cert),
        a.out.display(),
        if others.is_empty() {
            String::new()
        } else {
            let given = symbolon::wording::counted(others.len(), "certificate", "certificates");
            format!(", with the {given} given with --with (the custodian's other tokens)")
        }
    );
    tell!("Fingerprint: {}", done.cert.fingerprint());
    let all = if others.is_empty() { "" } else { "#all" };
    tell!("Next: enroll the custodian with `symbolon split ... --recipient NAME={}{all}`.", a.out.display());
    Ok(())
}

fn pin(command: PinCommand) -> Result<()> {
    match command {
        PinCommand::Change { admin, which } => {
            let pin = if admin { provision::Pin::Admin } else { provision::Pin::User };
            let card = provision::change_pin(which.which(), pin, &mut TerminalPrompt)?;
            tell!("The {} of {card} was changed.", if admin { "admin PIN" } else { "user PIN" });
        }
        PinCommand::Unblock { reset_code, which } => {
            let with = if reset_code { provision::Unblock::ResetCode } else { provision::Unblock::AdminPin };
            let card = provision::unblock(which.which(), with, &mut TerminalPrompt)?;
            tell!("The user PIN of {card} was set, and its retry counter reset.");
        }
        PinCommand::ResetCode { which } => {
            let card = provision::set_reset_code(which.which(), &mut TerminalPrompt)?;
            tell!("The reset code of {card} was set.");
        }
    }
    Ok(())
}

fn reset(confirm: Option<&str>, which: &WhichCard) -> Result<()> {
    let card = provision::reset(which.which(), confirm, &mut TerminalPrompt)?;
    tell!(
        "{card} was reset to its factory state: it holds no keys now (read back). An OpenPGP card's reset sets the factory PINs (user 123456, admin 12345678): set it up with `symbolon card setup`."
    );
    Ok(())
}

//! OpenPGP smartcards (YubiKey, Nitrokey, Gnuk, any OpenPGP card) over PC/SC.
//!
//! - [`open_all`] finds every reader and the OpenPGP card in it, and [`CardInfo`] is what a card
//!   says about itself (for `symbolon card list`).
//! - [`decrypt::Cards`] decrypts a share's session key on the card that holds its key: the card is
//!   found before any PIN is asked, retries are shown, the last retry is guarded.
//! - [`cert`] builds a certificate from a card's public keys (for `symbolon card cert`).
//! - [`daemon`] talks to pcscd's socket directly, to tell "not running" from "speaks another
//!   protocol" (a static PC/SC client meets newer daemons).
//!
//! Card access goes through `openpgp-card`'s typestate (`Card<Open>` → `Card<Transaction>`), and a
//! transaction is held for one operation only.

pub mod cert;
pub mod daemon;
pub mod decrypt;
pub mod events;
mod keys;
pub mod pin;
pub mod provision;
mod transport;

use openpgp_card::ocard::KeyType;
use openpgp_card::ocard::data::{Fingerprint, TouchPolicy};
use openpgp_card::state::Open;
use serde::Serialize;

/// What went wrong with a card, said so that the person at the keyboard knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error(
        "pcscd, the PC/SC daemon that reaches smartcards, is not running ({detail}): start it (`systemctl start pcscd`, or `pcscd` as root), then run this again; `symbolon doctor` checks the whole chain"
    )]
    NoService { detail: String },
    #[error(
        "pcscd speaks PC/SC protocol {daemon} and refused {offered} (\"communication protocol mismatch\"); {advice}; `symbolon doctor` shows what the daemon answered"
    )]
    ProtocolMismatch { daemon: daemon::Version, offered: String, advice: &'static str },
    #[error(
        "pcscd refused this user the use of smartcards (polkit action org.debian.pcsc-lite.access_pcsc): {POLKIT_ADVICE}"
    )]
    NotAuthorized,
    #[error(
        "pcscd is running and answered symbolon's probe (protocol {in_use}), but the PC/SC client library could not connect ({detail}): see pcscd's log (journalctl -u pcscd); `symbolon doctor` checks the whole chain"
    )]
    ClientFailed { in_use: daemon::Version, detail: String },
    #[error(
        "no smartcard reader is connected: plug in the token (a YubiKey or Nitrokey is its own reader); if it is plugged in, `symbolon doctor` checks USB access and pcscd"
    )]
    NoReaders,
    #[error("no OpenPGP card is inserted (readers: {readers}){others}: insert the token{needed}")]
    NoCards { readers: String, others: String, needed: String, busy: bool },
    #[error(
        "no inserted card holds the decryption key {wanted}{holder}. Cards inserted: {seen}{others}. Insert the card that holds that key"
    )]
    NoMatchingCard { wanted: String, holder: String, seen: String, others: String, busy: bool },
    #[error(
        "pcscd does not let this user use the readers {readers} (polkit action org.debian.pcsc-lite.access_card), so whether one holds the card{needed} cannot be told: {POLKIT_ADVICE}"
    )]
    ReadersRefused { readers: String, needed: String },
    #[error("wrong PIN for {card}: {} before the PIN is blocked", crate::wording::tries_left(*.left))]
    WrongPin { card: String, left: u8 },
    /// `tried`: wrong PINs typed in this run blocked it (it was not blocked before).
    #[error(
        "the user PIN of {card} is {} (no tries left): unblock it with the admin PIN or the reset code (`symbolon card pin unblock`), then try again",
        if *.tried { "now blocked by the wrong PINs typed" } else { "blocked" }
    )]
    PinBlocked { card: String, tried: bool },
    /// `tried`: wrong PINs typed in this run brought it down to its last try.
    #[error(
        "{card} has ONE PIN try left{}: a wrong PIN now blocks the card. {} Make sure of the PIN and run again allowing the last try, or unblock it first with the reset code or admin PIN",
        if *.tried { " after the wrong PIN typed" } else { "" },
        if *.tried { "symbolon stopped before spending it." } else { "Nothing was tried." }
    )]
    LastTry { card: String, tried: bool },
    #[error(
        "{card} has ONE PIN try left: a wrong PIN now blocks the card, and making a certificate never spends the last try. Nothing was tried. Unblock the PIN first with the reset code or admin PIN, or reset the counter by entering the right PIN where the last try may be spent"
    )]
    LastTryNeverSpent { card: String },
    #[error(
        "{card} has no cardholder name to name the certificate by: give the certificate a user ID (or set the card's cardholder name)"
    )]
    NoCardholderName { card: String },
    #[error("no inserted OpenPGP card is {wanted}: the cards inserted are {idents}")]
    NoSuchCard { wanted: String, idents: String },
    #[error("several OpenPGP cards are inserted ({idents}): say which one to use")]
    SeveralCards { idents: String },
    #[error(
        "{card} was removed or lost contact during the operation: nothing was decrypted. Insert it and run the command again"
    )]
    Removed { card: String },
    #[error(
        "no PIN that could be right was given for {card} ({why}): nothing was sent to the card, no try was spent. Type the card's user PIN (6 characters or more)"
    )]
    ImpossiblePin { card: String, why: String },
    #[error(
        "pcscd, the PC/SC daemon, went away while {what} on {card}: the card and the PIN are not to blame. Start pcscd again (`systemctl start pcscd`); `symbolon card list` shows the PIN tries left"
    )]
    DaemonGone { card: String, what: &'static str },
    #[error("the PIN for {card} was not given: {why}")]
    NoPin { card: String, why: String },
    #[error("{card}: {what} failed: {why}")]
    Card { card: String, what: &'static str, why: String },
    #[error("PC/SC: {what} failed: {why}")]
    Pcsc { what: &'static str, why: String },
    #[error("the {which} of {card} is blocked (no tries left): nothing was tried")]
    SecretBlocked { card: String, which: &'static str },
    #[error(
        "the {which} of {card} has ONE try left: a wrong one now blocks it. Nothing was tried. Make sure of it and run again allowing the last try"
    )]
    SecretLastTry { card: String, which: &'static str },
    #[error(
        "wrong {which} for {card}: {} before it is blocked. Nothing was written to the card (it counted the try)",
        crate::wording::tries_left(*.left)
    )]
    WrongSecret { card: String, which: &'static str, left: u8 },
    #[error(
        "no {which} that could be right was given for {card} ({why}): nothing was sent to the card, no try was spent"
    )]
    ImpossibleSecret { card: String, which: &'static str, why: String },
    #[error("no new {what} was given for {card} ({why}): nothing was written to the card")]
    NewPinNotGiven { card: String, what: &'static str, why: String },
    #[error(
        "{card} already holds keys: it is not set up again unless it is reset first (erasing them). Nothing was changed"
    )]
    HasKeys { card: String, ident: String },
    #[error("the card's ident was not typed back as {ident}: {card} was not reset. Nothing was changed")]
    ResetNotConfirmed { card: String, ident: String },
    #[error("{card}: {why}")]
    BadCardholder { card: String, why: String },
    #[error("{card} cannot generate {asked} keys in every slot; it can: {can}. Nothing was written to it")]
    AlgorithmUnsupported { card: String, asked: &'static str, can: String },
    #[error("{card} has no touch policy to set (no user interaction flags). Nothing was written to it")]
    TouchUnsupported { card: String },
    #[error(
        "{card}: {what} failed: {why}. The card was changed ({}): reset it and set it up again",
        if done.is_empty() { "its admin PIN was verified".to_string() } else { done.join("; ") }
    )]
    SetupFailed { card: String, what: &'static str, why: String, done: Vec<String> },
}

impl CardError {
    /// Whether the card needed is simply not there (no reader, no card, another card): the
    /// custodian is absent, nothing was tried on any card.
    pub fn is_absent_card(&self) -> bool {
        self.absent().is_some()
    }

    /// `Some(busy)` when the card needed is not there: `busy` when a reader holds a card that
    /// another program is using exclusively (it may be the one).
    pub fn absent(&self) -> Option<bool> {
        match self {
            CardError::NoReaders => Some(false),
            CardError::NoCards { busy, .. } | CardError::NoMatchingCard { busy, .. } => Some(*busy),
            _ => None,
        }
    }
}

/// A reader whose card another program holds exclusively, and the fix.
pub const BUSY_NOTE: &str = "holds a card that another program is using exclusively, so symbolon cannot see which card \
    it is: if it is gpg's scdaemon (it keeps a card it used), release it with `gpgconf --kill scdaemon`";

/// What to do when pcscd's polkit check refuses a user.
pub const POLKIT_ADVICE: &str = "pcscd asks polkit, which by default allows smartcards only to users of an active local \
    session (logged in at the machine itself: not through su, sudo -u, ssh or a chroot); run symbolon from that session, \
    or have the administrator add a polkit rule for this user (docs/UDEV.md shows one)";

/// One of a card's three key slots.
#[derive(Debug, Clone, Serialize)]
pub struct KeySlot {
    /// The OpenPGP v4 fingerprint the card records for the key (upper-case hex), if a key is set.
    pub fingerprint: Option<String>,
    /// The slot's algorithm, e.g. "Curve25519 (ECDH)" or "RSA 4096".
    pub algorithm: String,
    /// The touch policy if the card has a button: "off", "on", "fixed", "cached", "cached-fixed".
    pub touch: Option<String>,
}

/// PIN retry counters: tries left before each PIN is blocked.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Retries {
    pub user: u8,
    pub reset: u8,
    pub admin: u8,
}

/// What an inserted OpenPGP card says about itself.
#[derive(Debug, Clone, Serialize)]
pub struct CardInfo {
    pub reader: String,
    /// The card's ident, `MMMM:SSSSSSSS` (manufacturer and serial), as gpg and oct show it.
    pub ident: String,
    pub manufacturer: String,
    pub serial: String,
    pub cardholder: String,
    pub signing: KeySlot,
    pub decryption: KeySlot,
    pub authentication: KeySlot,
    pub pin_retries: Retries,
}

impl CardInfo {
    /// "card 000F:1A2B3C4D (Nitrokey GmbH) in reader X" — how a card is named in messages.
    pub fn describe(&self) -> String {
        let (manufacturer, reader) = (crate::sanitize(&self.manufacturer), crate::sanitize(&self.reader));
        format!("card {} ({manufacturer}) in reader \"{reader}\"", self.ident)
    }
}

/// "; reader X holds a card without an OpenPGP application ..." for the readers in `others`
/// that hold some other card, and one clause for the readers pcscd refuses this user (empty when
/// there is none).
pub(crate) fn describe_others(others: &[Reader]) -> String {
    let mut text: String = others
        .iter()
        .filter_map(|r| match &r.content {
            ReaderContent::Other(what) => Some(format!(
                "; reader \"{}\" holds a card that cannot be used ({what}: not an OpenPGP token, or its OpenPGP \
                 application is disabled)",
                crate::sanitize(&r.name)
            )),
            ReaderContent::Busy => Some(format!("; reader \"{}\" {BUSY_NOTE}", crate::sanitize(&r.name))),
            _ => None,
        })
        .collect();
    let refused = refused_readers(others);
    if !refused.is_empty() {
        text.push_str(&format!(
            "; pcscd does not let this user use the readers {refused} (polkit action org.debian.pcsc-lite.access_card; \
             docs/UDEV.md)"
        ));
    }
    text
}

/// Whether a reader in `others` holds a card another program uses exclusively.
pub(crate) fn any_busy(others: &[Reader]) -> bool {
    others.iter().any(|r| matches!(r.content, ReaderContent::Busy))
}

/// The readers pcscd refuses this user, quoted and joined ("" when none).
fn refused_readers(others: &[Reader]) -> String {
    others
        .iter()
        .filter(|r| matches!(r.content, ReaderContent::Refused))
        .map(|r| format!("\"{}\"", crate::sanitize(&r.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The error for "no usable OpenPGP card": readers pcscd refuses this user, if there are any (a
/// card may be in them), else "no card inserted".
pub(crate) fn no_cards(readers: &[String], others: &[Reader], needed: String) -> CardError {
    let refused = refused_readers(others);
    if refused.is_empty() {
        let mut readers = readers.to_vec();
        readers.sort();
        CardError::NoCards {
            readers: readers.join(", "),
            others: describe_others(others),
            needed,
            busy: any_busy(others),
        }
    } else {
        CardError::ReadersRefused { readers: refused, needed }
    }
}

/// `card list --json`: every reader and what is in it, versioned.
#[derive(Debug, Serialize)]
pub struct CardList<'a> {
    pub schema: &'static str,
    pub schema_version: u32,
    pub readers: Vec<ListedReader<'a>>,
}

/// `card list --json` when the readers cannot be listed: the same schema, with the error in place
/// of the readers, so a script reads why instead of nothing.
#[derive(Debug, Serialize)]
pub struct CardListError {
    pub schema: &'static str,
    pub schema_version: u32,
    pub error: ListError,
}

#[derive(Debug, Serialize)]
pub struct ListError {
    /// A stable name of the kind of failure, e.g. "no-service", "no-readers".
    pub kind: &'static str,
    pub message: String,
}

impl CardListError {
    pub fn of(e: &CardError) -> CardListError {
        let kind = match e {
            CardError::NoService { .. } => "no-service",
            CardError::ProtocolMismatch { .. } => "protocol-mismatch",
            CardError::NotAuthorized => "not-authorized",
            CardError::ClientFailed { .. } => "client-failed",
            CardError::NoReaders => "no-readers",
            CardError::ReadersRefused { .. } => "readers-refused",
            _ => "other",
        };
        CardListError {
            schema: "symbolon-card-list",
            schema_version: 1,
            error: ListError { kind, message: e.to_string() },
        }
    }
}

/// One reader in [`CardList`]. `card` is null for an empty reader and for one whose content
/// could not be read (`note` says why; `access` is "refused" where pcscd refused this user).
#[derive(Debug, Serialize)]
pub struct ListedReader<'a> {
    pub reader: &'a str,
    pub card: Option<&'a CardInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
}

impl<'a> CardList<'a> {
    pub fn of(readers: &'a [Reader]) -> CardList<'a> {
        let listed = readers
            .iter()
            .map(|r| {
                let (card, access, note) = match &r.content {
                    ReaderContent::Empty => (None, None, None),
                    ReaderContent::Other(what) => (None, None, Some(what.as_str())),
                    ReaderContent::Refused => {
                        (None, Some("refused"), Some("pcscd does not let this user use this reader (polkit)"))
                    }
                    ReaderContent::Busy => (None, Some("busy"), Some(BUSY_NOTE)),
                    ReaderContent::OpenPgp(info) => (Some(&**info), None, None),
                };
                ListedReader { reader: &r.name, card, access, note }
            })
            .collect();
        CardList { schema: "symbolon-card-list", schema_version: 1, readers: listed }
    }
}

/// A reader and what is in it.
#[derive(Debug)]
pub struct Reader {
    pub name: String,
    pub content: ReaderContent,
}

#[derive(Debug)]
pub enum ReaderContent {
    Empty,
    /// A card without an OpenPGP application (or one that could not be read).
    Other(String),
    /// pcscd does not let this user connect to the reader (its polkit check, `access_card`):
    /// whether a card is in it cannot be told.
    Refused,
    /// Another program holds the card exclusively (gpg's scdaemon does, until it is stopped):
    /// what card it is cannot be told until it is released.
    Busy,
    OpenPgp(Box<CardInfo>),
}

/// An opened OpenPGP card and its reader's name.
pub(crate) struct OpenCard {
    pub reader: String,
    pub card: openpgp_card::Card<Open>,
    /// Drops what the transport remembers of the card, for a transaction that must read the
    /// card afresh (another program may have used it since).
    pub forget: transport::Forget,
}

/// A PC/SC context, with pcscd's absence or protocol mismatch told apart.
pub(crate) fn context() -> Result<pcsc::Context, CardError> {
    match pcsc::Context::establish(pcsc::Scope::User) {
        Ok(ctx) => Ok(ctx),
        Err(e @ (pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::CommError)) => {
            // Running but refusing us means a protocol mismatch; `daemon` can tell.
            match (daemon::probe(), daemon::CLIENT) {
                (Ok(daemon::Probe::Mismatch { daemon, offered }), daemon::Client::Negotiating) => {
                    let offered = offered.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and ");
                    let advice = "this symbolon speaks the protocols of pcsc-lite 1.9 to 2.5 (4:4 and 4:5): a \
                                  pcscd of another protocol is not supported yet; please report it, with `pcscd --version`";
                    Err(CardError::ProtocolMismatch { daemon, offered, advice })
                }
                // The system's client library was refused, or refused a daemon that the static
                // client would have reached.
                (Ok(probe), daemon::Client::System)
                    if matches!(
                        probe,
                        daemon::Probe::Mismatch { .. } | daemon::Probe::Compatible { in_use: daemon::V4_5, .. }
                    ) =>
                {
                    let daemon = match probe {
                        daemon::Probe::Mismatch { daemon, .. } | daemon::Probe::Compatible { daemon, .. } => daemon,
                    };
                    let advice = "this symbolon build uses the system's PC/SC client library, which does not match \
                                  the running pcscd: use the static symbolon (scripts/build-static), which negotiates";
                    Err(CardError::ProtocolMismatch { daemon, offered: "the system library's protocol".into(), advice })
                }
                (Err(daemon::ProbeError::Closed { polkit: true, .. }), _) => Err(CardError::NotAuthorized),
                (Ok(daemon::Probe::Compatible { in_use, .. }), _) => {
                    Err(CardError::ClientFailed { in_use, detail: e.to_string() })
                }
                _ => Err(CardError::NoService { detail: e.to_string() }),
            }
        }
        Err(pcsc::Error::SecurityViolation) => Err(CardError::NotAuthorized),
        Err(e) => Err(CardError::Pcsc { what: "connecting to pcscd", why: e.to_string() }),
    }
}

/// Finds the card `ident` (or the only one inserted) and reads what it says about itself, its
/// cardholder name included (one transaction, ended).
pub(crate) fn pick(ident: Option<&str>) -> Result<(OpenCard, CardInfo), CardError> {
    let ctx = context()?;
    let Found { readers, cards, others } = open_all(&ctx)?;
    if readers.is_empty() {
        return Err(CardError::NoReaders);
    }
    let mut infos = Vec::new();
    for mut open in cards {
        if let Ok(i) = info(&mut open, true) {
            infos.push((open, i));
        }
    }
    choose(infos, ident, &readers, &others)
}

/// The card `ident`, or the only one, among the opened cards and what they said of themselves.
pub(crate) fn choose(
    mut infos: Vec<(OpenCard, CardInfo)>,
    ident: Option<&str>,
    readers: &[String],
    others: &[Reader],
) -> Result<(OpenCard, CardInfo), CardError> {
    match ident {
        Some(id) => {
            let mut idents: Vec<String> = infos.iter().map(|(_, i)| i.ident.clone()).collect();
            idents.sort();
            match infos.into_iter().find(|(_, i)| i.ident.eq_ignore_ascii_case(id)) {
                Some(found) => Ok(found),
                None if !idents.is_empty() => {
                    Err(CardError::NoSuchCard { wanted: crate::sanitize(id), idents: idents.join(", ") })
                }
                None => Err(no_cards(readers, others, format!(" {}", crate::sanitize(id)))),
            }
        }
        None => {
            if infos.len() > 1 {
                let ids = infos.iter().map(|(_, i)| i.ident.clone()).collect::<Vec<_>>().join(", ");
                return Err(CardError::SeveralCards { idents: ids });
            }
            infos.pop().ok_or_else(|| no_cards(readers, others, String::new()))
        }
    }
}

/// What [`open_all`] found: every reader's name, the OpenPGP cards (opened), and the readers
/// holding anything else.
pub(crate) struct Found {
    pub readers: Vec<String>,
    pub cards: Vec<OpenCard>,
    pub others: Vec<Reader>,
}

/// Every reader and what it holds; OpenPGP cards are opened (SELECTed).
pub(crate) fn open_all(ctx: &pcsc::Context) -> Result<Found, CardError> {
    open_all_telling(ctx, &mut |_| {})
}

/// [`open_all`], telling `waiting` (a reader's name) when another program holds its card.
pub(crate) fn open_all_telling(ctx: &pcsc::Context, waiting: &mut dyn FnMut(&str)) -> Result<Found, CardError> {
    let readers = match ctx.list_readers_owned() {
        Ok(readers) => readers,
        Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
        Err(e @ (pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::CommError)) => {
            return Err(CardError::NoService { detail: e.to_string() });
        }
        Err(e) => return Err(CardError::Pcsc { what: "listing readers", why: e.to_string() }),
    };
    let mut names = Vec::new();
    let mut cards = Vec::new();
    let mut others = Vec::new();
    for reader in readers {
        let name = reader.to_string_lossy().into_owned();
        names.push(name.clone());
        // Connecting and opening wait while another program holds the card in a transaction.
        match telling(&name, waiting, || open_one(ctx, &reader)) {
            Ok((card, forget)) => cards.push(OpenCard { reader: name, card, forget }),
            Err(content) => others.push(Reader { name, content }),
        }
    }
    Ok(Found { readers: names, cards, others })
}

/// Connects to the card in `reader` and SELECTs its OpenPGP application; or what the reader
/// holds instead.
fn open_one(
    ctx: &pcsc::Context,
    reader: &std::ffi::CStr,
) -> Result<(openpgp_card::Card<Open>, transport::Forget), ReaderContent> {
    let card = ctx.connect(reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY).map_err(|e| match e {
        pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard => ReaderContent::Empty,
        pcsc::Error::SecurityViolation => ReaderContent::Refused,
        pcsc::Error::SharingViolation => ReaderContent::Busy,
        e => ReaderContent::Other(format!("cannot connect: {e}")),
    })?;
    let backend = card_backend_pcsc::PcscBackend::from_pcsc_card(reader, pcsc::ShareMode::Shared, card)
        .map_err(|e| ReaderContent::Other(e.to_string()))?;
    let transport = transport::Deduplicating::new(backend);
    let forget = transport.forget();
    let card = openpgp_card::Card::<Open>::new(transport)
        .map_err(|_| ReaderContent::Other("no OpenPGP application".into()))?;
    Ok((card, forget))
}

fn fingerprint_hex(fp: Option<&Fingerprint>) -> Option<String> {
    // An unset slot reads as 20 zero bytes on many cards.
    fp.map(Fingerprint::to_hex).filter(|h| h.bytes().any(|b| b != b'0')).map(|h| h.to_ascii_uppercase())
}

pub(crate) fn touch_name(policy: TouchPolicy) -> String {
    match policy {
        TouchPolicy::Off => "off".into(),
        TouchPolicy::On => "on".into(),
        TouchPolicy::Fixed => "fixed".into(),
        TouchPolicy::Cached => "cached".into(),
        TouchPolicy::CachedFixed => "cached-fixed".into(),
        TouchPolicy::Unknown(b) => format!("unknown ({b:#04x})"),
    }
}

/// Reads what a card says about itself, in one transaction. `with_name` also reads the
/// cardholder name (one more APDU, not needed to decrypt).
pub(crate) fn info(open: &mut OpenCard, with_name: bool) -> Result<CardInfo, openpgp_card::Error> {
    info_telling(open, with_name, &mut |_| {})
}

/// How long a transaction may take to begin before the person is told another program holds
/// the card.
const BUSY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Begins a transaction on the card. pcscd makes it wait while another program holds one; when
/// that takes longer than [`BUSY_AFTER`], `waiting` is called once (to say so) and the wait goes
/// on.
pub(crate) fn begin<'c>(
    open: &'c mut OpenCard,
    waiting: &mut dyn FnMut(&str),
) -> Result<openpgp_card::Card<openpgp_card::state::Transaction<'c>>, openpgp_card::Error> {
    let reader = open.reader.clone();
    let card = &mut open.card;
    telling(&reader, waiting, move || card.transaction())
}

/// Runs `f` (which may wait for a card another program holds) in a thread of its own; when it
/// takes longer than [`BUSY_AFTER`], `waiting` is called once with `reader`, and the wait goes on.
fn telling<T: Send>(reader: &str, waiting: &mut dyn FnMut(&str), f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let handle = scope.spawn(move || {
            let out = f();
            let _ = done.send(());
            out
        });
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(BUSY_AFTER) {
            waiting(reader);
        }
        handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// [`info`], telling `waiting` (the reader's name) when another program holds the card.
pub(crate) fn info_telling(
    open: &mut OpenCard,
    with_name: bool,
    waiting: &mut dyn FnMut(&str),
) -> Result<CardInfo, openpgp_card::Error> {
    let reader = open.reader.clone();
    let mut tx = begin(open, waiting)?;
    let aid = tx.application_identifier()?;
    let fps = tx.fingerprints()?;
    let pw = tx.pw_status_bytes()?;
    let mut slot = |kt: KeyType, fp: Option<&Fingerprint>| -> KeySlot {
        KeySlot {
            fingerprint: fingerprint_hex(fp),
            algorithm: tx.algorithm_attributes(kt).map(|a| a.to_string()).unwrap_or_else(|_| "unknown".into()),
            touch: tx.user_interaction_flag(kt).ok().flatten().map(|uif| touch_name(uif.touch_policy())),
        }
    };
    let signing = slot(KeyType::Signing, fps.signature());
    let decryption = slot(KeyType::Decryption, fps.decryption());
    let authentication = slot(KeyType::Authentication, fps.authentication());
    let cardholder = if with_name { tx.cardholder_name().unwrap_or_default() } else { String::new() };
    Ok(CardInfo {
        reader,
        ident: aid.ident(),
        manufacturer: aid.manufacturer_name().to_string(),
        serial: format!("{:08X}", aid.serial()),
        cardholder,
        signing,
        decryption,
        authentication,
        pin_retries: Retries { user: pw.err_count_pw1(), reset: pw.err_count_rc(), admin: pw.err_count_pw3() },
    })
}

/// `symbolon card list`: every reader, and what each card holds.
pub fn list() -> Result<Vec<Reader>, CardError> {
    list_telling(&mut |_| {})
}

/// [`list`], calling `slow` with a reader's name when its card takes more than a second to
/// answer (another program may hold it in a transaction): once per reader at most.
pub fn list_telling(slow: &mut dyn FnMut(&str)) -> Result<Vec<Reader>, CardError> {
    let mut told: Vec<String> = Vec::new();
    let mut once = |reader: &str| {
        if !told.iter().any(|t| t == reader) {
            told.push(reader.to_string());
            slow(reader);
        }
    };
    let ctx = context()?;
    let Found { readers: names, cards, others: mut readers } = open_all_telling(&ctx, &mut once)?;
    if names.is_empty() {
        return Err(CardError::NoReaders);
    }
    for mut open in cards {
        let content = match info_telling(&mut open, true, &mut once) {
            Ok(info) => ReaderContent::OpenPgp(Box::new(info)),
            Err(e) => ReaderContent::Other(format!("the OpenPGP application could not be read: {e}")),
        };
        readers.push(Reader { name: open.reader, content });
    }
    readers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(readers)
}

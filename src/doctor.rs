//! Is this machine ready for a ceremony? PC/SC, readers and cards, USB access to tokens, and the
//! air-gap and memory posture: each check a typed [`Finding`] with what to do about it. The CLI
//! (`symbolon doctor`) prints them; a check that cannot look is a [`Level::Problem`], never `ok`.

use crate::card::{self, CardError, ReaderContent, daemon};
use crate::hygiene::{self, AirGap, Hardening, MemoryLock, Swap};
use std::path::Path;

/// USB vendor IDs of common OpenPGP tokens (Yubico, Nitrokey, Gnuk/FSIJ, OnlyKey/SoloKeys' vendor).
const TOKEN_VENDORS: &[(&str, &str)] = &[
    ("1050", "Yubico"),
    ("20a0", "Nitrokey"),
    ("234b", "Gnuk (FSIJ)"),
    ("1d50", "OnlyKey / Gnuk (OpenMoko IDs)"),
    ("1209", "SoloKeys"),
    ("04e6", "SCM/Identiv reader"),
    ("072f", "ACS reader"),
];

/// How a finding bears on the ceremony.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Ok,
    Info,
    Warning,
    /// Fix it before the ceremony (also: a check that could not look).
    Problem,
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    Pcscd,
    PcscdVersion,
    CcidDriver,
    Readers,
    Card,
    Cards,
    UsbAccess,
    AirGap,
    Swap,
    MemoryLock,
    CoreDumps,
}

impl Topic {
    pub fn name(self) -> &'static str {
        match self {
            Topic::Pcscd => "pcscd",
            Topic::PcscdVersion => "pcscd version",
            Topic::CcidDriver => "CCID driver",
            Topic::Readers => "readers",
            Topic::Card => "card",
            Topic::Cards => "cards",
            Topic::UsbAccess => "USB access",
            Topic::AirGap => "air gap",
            Topic::Swap => "swap",
            Topic::MemoryLock => "memory lock",
            Topic::CoreDumps => "core dumps",
        }
    }
}

/// One check's result: what was found and, unless it is fine, what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub topic: Topic,
    pub detail: String,
    pub fix: Option<String>,
}

/// The findings of every check, in the order they are made.
#[derive(Debug, Default)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    fn ok(&mut self, topic: Topic, detail: impl Into<String>) {
        self.0.push(Finding { level: Level::Ok, topic, detail: detail.into(), fix: None });
    }
    fn info(&mut self, topic: Topic, detail: impl Into<String>) {
        self.0.push(Finding { level: Level::Info, topic, detail: detail.into(), fix: None });
    }
    fn warn(&mut self, topic: Topic, detail: impl Into<String>, fix: impl Into<String>) {
        self.0.push(Finding { level: Level::Warning, topic, detail: detail.into(), fix: Some(fix.into()) });
    }
    fn problem(&mut self, topic: Topic, detail: impl Into<String>, fix: impl Into<String>) {
        self.0.push(Finding { level: Level::Problem, topic, detail: detail.into(), fix: Some(fix.into()) });
    }

    /// How many findings must be fixed before the ceremony.
    pub fn problems(&self) -> usize {
        self.0.iter().filter(|f| f.level == Level::Problem).count()
    }
}

/// Every check, in order. `hardening` is what the process did to itself at start.
pub fn examine(hardening: &Hardening) -> Findings {
    let mut r = Findings::default();
    pcscd(&mut r);
    ccid_driver(&mut r);
    cards(&mut r);
    usb_access(&mut r);
    air_gap(&mut r);
    swap_and_memory(&mut r, hardening);
    core_dumps(&mut r, hardening);
    r
}

/// The daemon: reachable, the protocol it speaks and the one in use, the installed version.
fn pcscd(r: &mut Findings) {
    let socket = daemon::socket_path();
    match daemon::probe() {
        Ok(probe @ daemon::Probe::Compatible { .. }) => compatible(r, &probe, &socket),
        Ok(probe @ daemon::Probe::Mismatch { .. }) => mismatch(r, &probe, &socket),
        Err(why @ daemon::ProbeError::Closed { polkit: true, .. }) => {
            r.problem(Topic::Pcscd, why.to_string(), card::POLKIT_ADVICE)
        }
        Err(why @ daemon::ProbeError::Closed { polkit: false, .. }) => r.problem(
            Topic::Pcscd,
            why.to_string(),
            "look at pcscd's log (journalctl -u pcscd), restart it (systemctl restart pcscd)",
        ),
        Err(why) => r.problem(
            Topic::Pcscd,
            format!("not reachable: {why}"),
            "install and start it: apt-get install pcscd (or dnf install pcsc-lite), then systemctl start pcscd (or run pcscd as root)",
        ),
    }
    pcscd_version(r);
}

fn compatible(r: &mut Findings, probe: &daemon::Probe, socket: &Path) {
    let daemon::Probe::Compatible { daemon, in_use } = probe else { return };
    let line = format!("running at {}, speaks protocol {daemon} ({})", socket.display(), probe.daemon_family());
    match daemon::CLIENT {
        daemon::Client::Negotiating => r.ok(Topic::Pcscd, format!("{line}; protocol {in_use} in use")),
        // The probe negotiated; the system's library may not have.
        daemon::Client::System if *in_use == daemon::V4_4 => r.ok(
            Topic::Pcscd,
            format!("{line}; it accepts 4:4, and this build uses the system's libpcsclite"),
        ),
        daemon::Client::System => r.warn(
            Topic::Pcscd,
            format!("{line}; it accepts only {in_use}, and this build uses the system's libpcsclite, whose protocol symbolon cannot see"),
            "if card commands fail with 'protocol mismatch', use the static symbolon (scripts/build-static), which negotiates",
        ),
    }
}

fn mismatch(r: &mut Findings, probe: &daemon::Probe, socket: &Path) {
    let daemon::Probe::Mismatch { daemon, offered } = probe else { return };
    let offered: Vec<String> = offered.iter().map(ToString::to_string).collect();
    r.problem(
        Topic::Pcscd,
        format!(
            "running at {}, speaks protocol {daemon} ({}) and refuses {} (\"communication protocol mismatch\")",
            socket.display(),
            probe.daemon_family(),
            offered.join(" and ")
        ),
        match daemon::CLIENT {
            daemon::Client::Negotiating => {
                "this symbolon speaks the protocols of pcsc-lite 1.9 to 2.5 (4:4, 4:5): report this daemon (pcscd --version)"
            }
            daemon::Client::System => "use the static symbolon (scripts/build-static), which negotiates",
        },
    );
}

fn pcscd_version(r: &mut Findings) {
    match daemon::installed_version() {
        Some((path, version)) => r.ok(
            Topic::PcscdVersion,
            format!(
                "{} reports pcsc-lite {version} (the installed program; the protocol above is the running daemon's)",
                path.display()
            ),
        ),
        None => r.info(
            Topic::PcscdVersion,
            "cannot tell: no pcscd program in /usr/sbin, /usr/bin or /sbin answered --version",
        ),
    }
}

fn ccid_driver(r: &mut Findings) {
    let bundles = ["/usr/lib/pcsc/drivers/ifd-ccid.bundle", "/usr/lib64/pcsc/drivers/ifd-ccid.bundle"];
    let mut unreadable = None;
    for bundle in bundles {
        match Path::new(bundle).try_exists() {
            Ok(true) => return r.ok(Topic::CcidDriver, "installed (pcscd can talk to USB tokens and readers)"),
            Ok(false) => {}
            Err(e) => unreadable = Some(format!("{bundle}: {e}")),
        }
    }
    match unreadable {
        Some(why) => r.problem(
            Topic::CcidDriver,
            format!("cannot tell whether it is installed ({why})"),
            "check as root: ls /usr/lib/pcsc/drivers",
        ),
        None => r.warn(
            Topic::CcidDriver,
            "the libccid driver is not installed",
            "apt-get install libccid (pcscd needs it for USB tokens and readers)",
        ),
    }
}

fn cards(r: &mut Findings) {
    let mut slow = Vec::new();
    let listed = card::list_telling(&mut |reader| slow.push(crate::sanitize(reader)));
    for reader in &slow {
        r.warn(
            Topic::Cards,
            format!("the card in reader \"{reader}\" took more than a second to answer"),
            "another program may be using it (gpg's scdaemon: gpgconf --kill scdaemon); a ceremony waits for it",
        );
    }
    match listed {
        Ok(readers) => readers_and_cards(r, &readers),
        Err(CardError::NoReaders) => r.problem(
            Topic::Readers,
            "pcscd sees no reader",
            "plug in the token; if it is plugged in, check USB access below and that the libccid driver is installed",
        ),
        // Already a problem on the pcscd line.
        Err(
            CardError::NoService { .. }
            | CardError::ProtocolMismatch { .. }
            | CardError::NotAuthorized
            | CardError::ClientFailed { .. },
        ) if !matches!(daemon::probe(), Ok(daemon::Probe::Compatible { .. })) => {}
        Err(e) => r.problem(Topic::Readers, e.to_string(), "see the message"),
    }
}

fn readers_and_cards(r: &mut Findings, readers: &[card::Reader]) {
    let refused: Vec<String> = readers
        .iter()
        .filter(|rd| matches!(rd.content, ReaderContent::Refused))
        .map(|rd| crate::sanitize(&rd.name))
        .collect();
    if refused.is_empty() {
        r.ok(Topic::Readers, format!("{} visible", readers.len()));
    } else {
        r.problem(
            Topic::Readers,
            format!(
                "{} visible, and pcscd does not let this user use {} of them (polkit action org.debian.pcsc-lite.access_card): {}",
                readers.len(),
                refused.len(),
                refused.join(", ")
            ),
            card::POLKIT_ADVICE,
        );
    }
    let mut cards = 0;
    for info in readers.iter().filter_map(|rd| match &rd.content {
        ReaderContent::OpenPgp(info) => Some(info),
        _ => None,
    }) {
        cards += 1;
        let detail = format!(
            "{} ({}) in reader \"{}\", decryption key {}, user PIN {}",
            info.ident,
            crate::sanitize(&info.manufacturer),
            crate::sanitize(&info.reader),
            info.decryption.fingerprint.as_deref().unwrap_or("(none)"),
            crate::wording::tries_left(info.pin_retries.user)
        );
        // Every problem of the card, each with its fix.
        let mut fixes = Vec::new();
        if info.decryption.fingerprint.is_none() {
            fixes.push(
                "this card holds no decryption key, so no share can be encrypted to it: generate or import one \
                 (gpg --card-edit, then admin, generate), then make its certificate with `symbolon card cert`",
            );
        }
        match info.pin_retries.user {
            0 => fixes.push("the user PIN is blocked: unblock it with the reset code or admin PIN before the ceremony"),
            1 => fixes.push(
                "one wrong PIN blocks this card: reset the counter by entering the right PIN once \
                 (`symbolon decrypt SHARE --check --allow-last-pin-try`), or unblock it with the reset code or admin PIN",
            ),
            _ => {}
        }
        if fixes.is_empty() {
            r.ok(Topic::Card, detail);
        } else {
            r.warn(Topic::Card, detail, fixes.join("; "));
        }
    }
    let other_cards: Vec<String> = readers
        .iter()
        .filter_map(|rd| match &rd.content {
            ReaderContent::Other(what) => Some(format!(
                "reader \"{}\" holds a card that cannot be used ({})",
                crate::sanitize(&rd.name),
                crate::sanitize(what)
            )),
            ReaderContent::Busy => Some(format!("reader \"{}\" {}", crate::sanitize(&rd.name), card::BUSY_NOTE)),
            _ => None,
        })
        .collect();
    if cards == 0 && refused.is_empty() {
        let what = if other_cards.is_empty() {
            "no OpenPGP card is inserted".to_string()
        } else {
            format!("no OpenPGP card is inserted: {}", other_cards.join("; "))
        };
        r.warn(Topic::Cards, what, "insert the custodian's token; `symbolon card list` shows what is seen");
    } else if !other_cards.is_empty() {
        r.warn(
            Topic::Cards,
            other_cards.join("; "),
            "not an OpenPGP token, its OpenPGP application is disabled, or another program holds it",
        );
    }
}

/// The air gap. The fix of a warning or problem says nothing of the CLI's flags: the CLI adds
/// them.
fn air_gap(r: &mut Findings) {
    match hygiene::air_gap() {
        AirGap::Offline => r.ok(
            Topic::AirGap,
            "no network interface is up in the network namespace symbolon runs in (loopback only; read from /sys/class/net)",
        ),
        AirGap::Up(up) => r.warn(
            Topic::AirGap,
            format!("network interfaces up: {}", up.join(", ")),
            "take them down (ip link set DEV down), or better unplug or disable the hardware",
        ),
        AirGap::CannotTell(e) => r.problem(
            Topic::AirGap,
            format!("cannot tell whether a network interface is up: {e}"),
            e.fix,
        ),
    }
}

fn swap_and_memory(r: &mut Findings, hardening: &Hardening) {
    match &hardening.swap {
        Swap::Off => r.ok(Topic::Swap, "off (read from /proc/swaps)"),
        Swap::On(devices) => r.warn(
            Topic::Swap,
            format!("on ({}): memory holding secrets could be written to disk", devices.join(", ")),
            "turn it off: swapoff -a",
        ),
        Swap::CannotTell(e) => r.problem(Topic::Swap, format!("cannot tell whether swap is on: {e}"), e.fix),
    }
    let unlocked = match &hardening.memory_lock {
        MemoryLock::Locked => return r.ok(Topic::MemoryLock, "all of symbolon's memory is locked in RAM"),
        MemoryLock::Limited { limit } => {
            format!("not locked (the memory-lock limit is {} KiB, not unlimited)", limit / 1024)
        }
        MemoryLock::Failed(e) => format!("not locked (locking failed: {e})"),
    };
    match &hardening.swap {
        Swap::Off => r.ok(Topic::MemoryLock, format!("{unlocked}; with swap off nothing can be swapped out")),
        Swap::On(_) => r.warn(
            Topic::MemoryLock,
            format!("{unlocked}, and swap is on: secrets could be swapped to disk"),
            "turn swap off (swapoff -a), or run with an unlimited memory-lock limit (ulimit -l unlimited, as root)",
        ),
        Swap::CannotTell(_) => r.warn(
            Topic::MemoryLock,
            format!("{unlocked}, and whether swap is on cannot be told (above)"),
            "make sure swap is off",
        ),
    }
}

fn core_dumps(r: &mut Findings, hardening: &Hardening) {
    if !(hardening.core_dumps_disabled && hardening.not_dumpable) {
        return r.problem(
            Topic::CoreDumps,
            "symbolon could not turn them off for itself (see the warnings above)",
            "run it where setrlimit and prctl are allowed",
        );
    }
    if hardening.core_dumps_were_allowed {
        r.warn(
            Topic::CoreDumps,
            "allowed by this shell's limits (symbolon turned them off for itself: core limit 0, not dumpable)",
            "for the whole session: ulimit -c 0 (and e.g. systemd-coredump off)",
        );
    } else {
        r.ok(Topic::CoreDumps, "off (core limit 0, and symbolon is not dumpable)");
    }
}

/// Token USB devices present, and whether this user can open them (pcscd runs as root on most
/// systems, but some run it as a user; udev rules give that user access).
fn usb_access(r: &mut Findings) {
    let dir = "/sys/bus/usb/devices";
    if let Err(e) = hygiene::sysfs_mounted() {
        return usb_cannot_tell(r, e.to_string());
    }
    let devices = match std::fs::read_dir(dir) {
        Ok(devices) => devices,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return r.warn(
                Topic::UsbAccess,
                "this machine has no USB bus (/sys is mounted, /sys/bus/usb is absent): no USB token can be used here",
                "use a machine with USB, or a reader on another bus (`symbolon card list` shows what pcscd sees)",
            );
        }
        Err(e) => return usb_cannot_tell(r, format!("{dir} cannot be read ({e})")),
    };
    let mut tokens = 0;
    for dev in devices {
        match dev {
            Ok(dev) => tokens += usb_device(r, &dev.path()),
            Err(e) => usb_cannot_tell(r, format!("{dir} cannot be listed ({e})")),
        }
    }
    if tokens == 0 {
        r.info(Topic::UsbAccess, "no USB device of a known token or reader vendor is plugged in");
    }
}

fn usb_cannot_tell(r: &mut Findings, why: String) {
    r.problem(
        Topic::UsbAccess,
        format!("cannot tell which tokens are plugged in and whether this user may open them: {why}"),
        "mount /sys (mount -t sysfs sysfs /sys); `symbolon card list` shows the cards pcscd sees",
    )
}

/// One USB device: if it is a known token's, whether this user may open it. Returns 1 for a token.
fn usb_device(r: &mut Findings, path: &Path) -> usize {
    // Interfaces (1-1:1.0) have no idVendor; devices do.
    let vendor = match std::fs::read_to_string(path.join("idVendor")) {
        Ok(vendor) => vendor.trim().to_ascii_lowercase(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return 0,
        Err(e) => {
            usb_cannot_tell(r, format!("{}/idVendor cannot be read ({e})", path.display()));
            return 0;
        }
    };
    let Some((_, maker)) = TOKEN_VENDORS.iter().find(|(v, _)| *v == vendor) else { return 0 };
    let read = |f: &str| std::fs::read_to_string(path.join(f)).unwrap_or_default().trim().to_string();
    let (Ok(bus), Ok(devnum)) = (read("busnum").parse::<u32>(), read("devnum").parse::<u32>()) else {
        usb_cannot_tell(
            r,
            format!("a {maker} device at {}: its bus and device numbers cannot be read", path.display()),
        );
        return 1;
    };
    let node = format!("/dev/bus/usb/{bus:03}/{devnum:03}");
    let product = match read("product") {
        p if p.is_empty() => "(no product name)".to_string(),
        p => crate::sanitize(&p),
    };
    match std::fs::OpenOptions::new().read(true).write(true).open(&node) {
        Ok(_) => r.ok(Topic::UsbAccess, format!("{maker} {product} at {node} is readable and writable")),
        Err(e) => r.warn(
            Topic::UsbAccess,
            format!("{maker} {product} at {node}: {e}"),
            "if pcscd runs as this user, install the rules in udev/ (see docs/UDEV.md)",
        ),
    }
    1
}

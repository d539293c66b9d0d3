//! `symbolon doctor`: is this machine ready for a ceremony? PC/SC, readers and cards, USB access
//! to tokens, and the air-gap posture, each with what to do about it.

use anyhow::{Result, bail};
use symbolon::card::{self, CardError, ReaderContent, daemon};
use symbolon::hygiene::{self, AirGap, Hardening, MemoryLock, Swap};

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

#[derive(clap::Args)]
pub struct Args {}

struct Report {
    problems: usize,
}

impl Report {
    fn ok(&self, what: &str, detail: &str) {
        println!("ok       {what}: {detail}");
    }
    fn info(&self, what: &str, detail: &str) {
        println!("info     {what}: {detail}");
    }
    fn warn(&self, what: &str, detail: &str, fix: &str) {
        println!("WARNING  {what}: {detail}\n         -> {fix}");
    }
    fn problem(&mut self, what: &str, detail: &str, fix: &str) {
        self.problems += 1;
        println!("PROBLEM  {what}: {detail}\n         -> {fix}");
    }
}

pub fn run(_args: Args, hardening: &Hardening) -> Result<()> {
    let mut r = Report { problems: 0 };
    pcscd(&mut r);
    ccid_driver(&mut r);
    cards(&mut r);
    usb_access(&mut r);
    air_gap(&mut r);
    swap_and_memory(&mut r, hardening);
    core_dumps(&mut r, hardening);
    if r.problems > 0 {
        bail!("{} problem(s) found: fix each PROBLEM above before the ceremony", r.problems);
    }
    Ok(())
}

/// The daemon: reachable, the protocol it speaks and the one in use, the installed version.
fn pcscd(r: &mut Report) {
    let socket = daemon::socket_path();
    match daemon::probe() {
        Ok(probe) => match &probe {
            daemon::Probe::Compatible { daemon, in_use } => {
                let family = probe.daemon_family();
                let line = format!("running at {}, speaks protocol {daemon} ({family})", socket.display());
                match daemon::CLIENT {
                    daemon::Client::Negotiating => r.ok("pcscd", &format!("{line}; protocol {in_use} in use")),
                    // The probe negotiated; the system's library may not have.
                    daemon::Client::System if *in_use == daemon::V4_4 => r.ok(
                        "pcscd",
                        &format!("{line}; it accepts 4:4, and this build uses the system's libpcsclite"),
                    ),
                    daemon::Client::System => r.warn(
                        "pcscd",
                        &format!("{line}; it accepts only {in_use}, and this build uses the system's libpcsclite, whose protocol symbolon cannot see"),
                        "if card commands fail with 'protocol mismatch', use the static symbolon (scripts/build-static), which negotiates",
                    ),
                }
            }
            daemon::Probe::Mismatch { daemon, offered } => {
                let offered: Vec<String> = offered.iter().map(ToString::to_string).collect();
                r.problem(
                    "pcscd",
                    &format!(
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
        },
        Err(why @ daemon::ProbeError::Closed { polkit: true, .. }) => {
            r.problem("pcscd", &why.to_string(), card::POLKIT_ADVICE)
        }
        Err(why @ daemon::ProbeError::Closed { polkit: false, .. }) => {
            r.problem("pcscd", &why.to_string(), "look at pcscd's log (journalctl -u pcscd), restart it (systemctl restart pcscd)")
        }
        Err(why) => r.problem(
            "pcscd",
            &format!("not reachable: {why}"),
            "install and start it: apt-get install pcscd (or dnf install pcsc-lite), then systemctl start pcscd (or run pcscd as root)",
        ),
    }
    pcscd_version(r);
}

fn pcscd_version(r: &mut Report) {
    match daemon::installed_version() {
        Some((path, version)) => r.ok(
            "pcscd version",
            &format!(
                "{} reports pcsc-lite {version} (the installed program; the protocol above is the running daemon's)",
                path.display()
            ),
        ),
        None => {
            r.info("pcscd version", "cannot tell: no pcscd program in /usr/sbin, /usr/bin or /sbin answered --version")
        }
    }
}

fn ccid_driver(r: &mut Report) {
    let bundles = ["/usr/lib/pcsc/drivers/ifd-ccid.bundle", "/usr/lib64/pcsc/drivers/ifd-ccid.bundle"];
    let mut unreadable = None;
    for bundle in bundles {
        match std::path::Path::new(bundle).try_exists() {
            Ok(true) => return r.ok("CCID driver", "installed (pcscd can talk to USB tokens and readers)"),
            Ok(false) => {}
            Err(e) => unreadable = Some(format!("{bundle}: {e}")),
        }
    }
    match unreadable {
        Some(why) => r.problem(
            "CCID driver",
            &format!("cannot tell whether it is installed ({why})"),
            "check as root: ls /usr/lib/pcsc/drivers",
        ),
        None => r.warn(
            "CCID driver",
            "the libccid driver is not installed",
            "apt-get install libccid (pcscd needs it for USB tokens and readers)",
        ),
    }
}

fn cards(r: &mut Report) {
    match card::list() {
        Ok(readers) => readers_and_cards(r, &readers),
        Err(CardError::NoReaders) => r.problem(
            "readers",
            "pcscd sees no reader",
            "plug in the token; if it is plugged in, check USB access below and that the libccid driver is installed",
        ),
        // Already a PROBLEM on the pcscd line.
        Err(
            CardError::NoService { .. }
            | CardError::ProtocolMismatch { .. }
            | CardError::NotAuthorized
            | CardError::ClientFailed { .. },
        ) if !matches!(daemon::probe(), Ok(daemon::Probe::Compatible { .. })) => {}
        Err(e) => r.problem("readers", &e.to_string(), "see the message"),
    }
}

fn readers_and_cards(r: &mut Report, readers: &[card::Reader]) {
    let refused: Vec<String> = readers
        .iter()
        .filter(|rd| matches!(rd.content, ReaderContent::Refused))
        .map(|rd| symbolon::sanitize(&rd.name))
        .collect();
    if refused.is_empty() {
        r.ok("readers", &format!("{} visible", readers.len()));
    } else {
        r.problem(
            "readers",
            &format!(
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
            "{} ({}), decryption key {}, user PIN tries left {}",
            info.ident,
            symbolon::sanitize(&info.manufacturer),
            info.decryption.fingerprint.as_deref().unwrap_or("(none)"),
            info.pin_retries.user
        );
        if info.pin_retries.user <= 1 {
            r.warn(
                "card",
                &detail,
                "the user PIN is (nearly) blocked: unblock it with the reset code or admin PIN before the ceremony",
            );
        } else {
            r.ok("card", &detail);
        }
    }
    if cards == 0 && refused.is_empty() {
        r.warn(
            "cards",
            "no OpenPGP card is inserted",
            "insert the custodian's token; `symbolon card list` shows what is seen",
        );
    }
}

fn air_gap(r: &mut Report) {
    match hygiene::air_gap() {
        AirGap::Offline => r.ok(
            "air gap",
            "no network interface is up in the network namespace symbolon runs in (loopback only; read from /sys/class/net)",
        ),
        AirGap::Up(up) => r.warn(
            "air gap",
            &format!("network interfaces up: {}", up.join(", ")),
            "take them down (ip link set DEV down), or better unplug or disable the hardware; ceremony commands refuse with --require-airgap",
        ),
        AirGap::CannotTell(e) => r.problem(
            "air gap",
            &format!("cannot tell whether a network interface is up: {e}"),
            &format!("{}; until then --require-airgap refuses (after a check by hand, add --airgap-checked-by-hand)", e.fix),
        ),
    }
}

fn swap_and_memory(r: &mut Report, hardening: &Hardening) {
    match &hardening.swap {
        Swap::Off => r.ok("swap", "off (read from /proc/swaps)"),
        Swap::On(devices) => r.warn(
            "swap",
            &format!("on ({}): memory holding secrets could be written to disk", devices.join(", ")),
            "turn it off: swapoff -a",
        ),
        Swap::CannotTell(e) => r.problem("swap", &format!("cannot tell whether swap is on: {e}"), e.fix),
    }
    let unlocked = match &hardening.memory_lock {
        MemoryLock::Locked => return r.ok("memory lock", "all of symbolon's memory is locked in RAM"),
        MemoryLock::Limited { limit } => {
            format!("not locked (the memory-lock limit is {} KiB, not unlimited)", limit / 1024)
        }
        MemoryLock::Failed(e) => format!("not locked (locking failed: {e})"),
    };
    match &hardening.swap {
        Swap::Off => r.ok("memory lock", &format!("{unlocked}; with swap off nothing can be swapped out")),
        Swap::On(_) => r.warn(
            "memory lock",
            &format!("{unlocked}, and swap is on: secrets could be swapped to disk"),
            "turn swap off (swapoff -a), or run with an unlimited memory-lock limit (ulimit -l unlimited, as root)",
        ),
        Swap::CannotTell(_) => r.warn(
            "memory lock",
            &format!("{unlocked}, and whether swap is on cannot be told (above)"),
            "make sure swap is off",
        ),
    }
}

fn core_dumps(r: &mut Report, hardening: &Hardening) {
    if !(hardening.core_dumps_disabled && hardening.not_dumpable) {
        return r.problem(
            "core dumps",
            "symbolon could not turn them off for itself (see the warnings above)",
            "run it where setrlimit and prctl are allowed",
        );
    }
    if hardening.core_dumps_were_allowed {
        r.warn(
            "core dumps",
            "allowed by this shell's limits (symbolon turned them off for itself: core limit 0, not dumpable)",
            "for the whole session: ulimit -c 0 (and e.g. systemd-coredump off)",
        );
    } else {
        r.ok("core dumps", "off (core limit 0, and symbolon is not dumpable)");
    }
}

/// Token USB devices present, and whether this user can open them (pcscd runs as root on most
/// systems, but some run it as a user; udev rules give that user access).
fn usb_access(r: &mut Report) {
    let dir = "/sys/bus/usb/devices";
    if let Err(e) = hygiene::sysfs_mounted() {
        return usb_cannot_tell(r, e.to_string());
    }
    let devices = match std::fs::read_dir(dir) {
        Ok(devices) => devices,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return r.warn(
                "USB access",
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
        r.info("USB access", "no USB device of a known token or reader vendor is plugged in");
    }
}

fn usb_cannot_tell(r: &mut Report, why: String) {
    r.problem(
        "USB access",
        &format!("cannot tell which tokens are plugged in and whether this user may open them: {why}"),
        "mount /sys (mount -t sysfs sysfs /sys); `symbolon card list` shows the cards pcscd sees",
    )
}

/// One USB device: if it is a known token's, whether this user may open it. Returns 1 for a token.
fn usb_device(r: &mut Report, path: &std::path::Path) -> usize {
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
        p => symbolon::sanitize(&p),
    };
    match std::fs::OpenOptions::new().read(true).write(true).open(&node) {
        Ok(_) => r.ok("USB access", &format!("{maker} {product} at {node} is readable and writable")),
        Err(e) => r.warn(
            "USB access",
            &format!("{maker} {product} at {node}: {e}"),
            "if pcscd runs as this user, install the rules in udev/ (see docs/UDEV.md)",
        ),
    }
    1
}

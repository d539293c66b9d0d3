//! `symbolon doctor`: is this machine ready for a ceremony? PC/SC, readers and cards, USB access
//! to tokens, and the air-gap posture, each with what to do about it.

use anyhow::{Result, bail};
use symbolon::card::{self, CardError, ReaderContent, daemon};
use symbolon::hygiene::{self, Hardening};

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
    fn warn(&mut self, what: &str, detail: &str, fix: &str) {
        println!("WARNING  {what}: {detail}\n         -> {fix}");
    }
    fn problem(&mut self, what: &str, detail: &str, fix: &str) {
        self.problems += 1;
        println!("PROBLEM  {what}: {detail}\n         -> {fix}");
    }
}

pub fn run(_args: Args, hardening: &Hardening) -> Result<()> {
    let mut r = Report { problems: 0 };
    let (major, minor) = daemon::CLIENT_PROTOCOL;
    match daemon::probe() {
        Ok(daemon::Probe::Compatible { daemon }) => r.ok(
            "pcscd",
            &format!("running at {}, protocol {daemon}, accepts this build's {major}:{minor}", daemon::socket_path().display()),
        ),
        Ok(daemon::Probe::Mismatch { daemon, client }) => r.problem(
            "pcscd",
            &format!("speaks protocol {daemon} and refuses this build's {client} (\"Communication protocol mismatch\")"),
            "use the symbolon build for this distribution, or a pcsc-lite of version 1.9.x-2.2.x or 2.4.1 and later",
        ),
        Err(why) => r.problem(
            "pcscd",
            &format!("not reachable: {why}"),
            "install and start it: apt-get install pcscd (or dnf install pcsc-lite), then systemctl start pcscd (or run pcscd as root)",
        ),
    }
    if std::path::Path::new("/usr/lib/pcsc/drivers/ifd-ccid.bundle").exists()
        || std::path::Path::new("/usr/lib64/pcsc/drivers/ifd-ccid.bundle").exists()
    {
        r.ok("CCID driver", "installed (pcscd can talk to USB tokens and readers)");
    } else {
        r.warn(
            "CCID driver",
            "the libccid driver is not installed",
            "apt-get install libccid (pcscd needs it for USB tokens and readers)",
        );
    }
    match card::list() {
        Ok(readers) => {
            let cards: Vec<_> = readers
                .iter()
                .filter_map(|rd| match &rd.content {
                    ReaderContent::OpenPgp(info) => Some(info),
                    _ => None,
                })
                .collect();
            r.ok("readers", &format!("{} visible", readers.len()));
            if cards.is_empty() {
                r.warn(
                    "cards",
                    "no OpenPGP card is inserted",
                    "insert the custodian's token; `symbolon card list` shows what is seen",
                );
            }
            for info in cards {
                let detail = format!(
                    "{} ({}), decryption key {}, user PIN tries left {}",
                    info.ident,
                    info.manufacturer,
                    info.decryption.fingerprint.as_deref().unwrap_or("(none)"),
                    info.pin_retries.user
                );
                if info.pin_retries.user <= 1 {
                    r.warn("card", &detail, "the user PIN is (nearly) blocked: unblock it with the reset code or admin PIN before the ceremony");
                } else {
                    r.ok("card", &detail);
                }
            }
        }
        Err(CardError::NoReaders) => r.problem(
            "readers",
            "pcscd sees no reader",
            "plug in the token; if it is plugged in, check USB access below and that the libccid driver is installed",
        ),
        Err(CardError::NoService { .. } | CardError::ProtocolMismatch { .. }) => {}
        Err(e) => r.problem("readers", &e.to_string(), "see the message"),
    }
    usb_access(&mut r);

    let up = hygiene::network_interfaces_up();
    if up.is_empty() {
        r.ok("air gap", "no network interface is up (loopback only)");
    } else {
        r.warn(
            "air gap",
            &format!("network interfaces up: {}", up.join(", ")),
            "take them down (ip link set DEV down), or better unplug or disable the hardware; ceremony commands refuse with --require-airgap",
        );
    }
    if hygiene::swap_active() {
        r.warn("swap", "swap is on: memory holding secrets could be written to disk", "turn it off: swapoff -a");
    } else {
        r.ok("swap", "off");
    }
    if hardening.core_dumps_were_allowed {
        r.warn(
            "core dumps",
            "allowed by this shell's limits (symbolon turns them off for itself)",
            "for the whole session: ulimit -c 0 (and e.g. systemd-coredump off)",
        );
    } else {
        r.ok("core dumps", "off");
    }
    if r.problems > 0 {
        bail!("{} problem(s) found: smartcards cannot be used until they are fixed", r.problems);
    }
    Ok(())
}

/// Token USB devices present, and whether this user can open them (pcscd runs as root on most
/// systems, but some run it as a user; udev rules give that user access).
fn usb_access(r: &mut Report) {
    let Ok(devices) = std::fs::read_dir("/sys/bus/usb/devices") else {
        return;
    };
    for dev in devices.filter_map(Result::ok) {
        let path = dev.path();
        let Ok(vendor) = std::fs::read_to_string(path.join("idVendor")) else { continue };
        let vendor = vendor.trim().to_ascii_lowercase();
        let Some((_, maker)) = TOKEN_VENDORS.iter().find(|(v, _)| *v == vendor) else { continue };
        let read = |f: &str| std::fs::read_to_string(path.join(f)).unwrap_or_default().trim().to_string();
        let (bus, devnum) = (read("busnum"), read("devnum"));
        let (Ok(bus), Ok(devnum)) = (bus.parse::<u32>(), devnum.parse::<u32>()) else { continue };
        let node = format!("/dev/bus/usb/{bus:03}/{devnum:03}");
        let product = read("product");
        match std::fs::OpenOptions::new().read(true).write(true).open(&node) {
            Ok(_) => r.ok("USB access", &format!("{maker} {product} at {node} is readable and writable")),
            Err(e) => r.warn(
                "USB access",
                &format!("{maker} {product} at {node}: {e}"),
                "if pcscd runs as this user, install the rules in udev/ (see docs/UDEV.md)",
            ),
        }
    }
}

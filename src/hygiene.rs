//! Process hardening done before any secret is read (no core dumps, not dumpable or traceable by
//! other processes of the same user, memory locked against swapping where the limits allow it),
//! and the checks of the machine's posture (air gap, swap).
//!
//! Every check fails closed: when its source cannot be read (no `/sys` or `/proc` in a chroot, a
//! file this user may not read, something that is not the kernel's filesystem mounted there), it
//! says [`CannotTell`], never "fine". The answers come from the kernel's own files: `/sys/class/net`
//! (checked to be a sysfs, and to list the loopback interface every network namespace has) and
//! `/proc/swaps` (checked to be on a procfs).

use std::path::Path;

use rustix::mm::{MlockAllFlags, mlockall};
use rustix::process::{
    DumpableBehavior, Resource, Rlimit, dumpable_behavior, getrlimit, set_dumpable_behavior, setrlimit,
};

/// A check could not look: what it needed, why it could not read it, and how a person can check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name} {why}")]
pub struct CannotTell {
    /// What the check reads, e.g. "/sys/class/net".
    pub source_name: String,
    /// What is wrong with it, e.g. "cannot be read (No such file or directory (os error 2))".
    pub why: String,
    /// How to make the source readable, or to check by hand.
    pub fix: &'static str,
}

/// Network interfaces, other than loopback, that are up (administratively: `IFF_UP`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AirGap {
    /// Every interface but loopback is down.
    Offline,
    /// These interfaces are up (sorted).
    Up(Vec<String>),
    CannotTell(CannotTell),
}

/// sysfs's and procfs's `statfs` magic numbers (linux/magic.h).
const SYSFS_MAGIC: u64 = 0x6265_6572;
const PROC_SUPER_MAGIC: u64 = 0x9fa0;

fn unreadable(e: std::io::Error) -> String {
    format!("cannot be read ({e})")
}

/// Whether `path` is on the kernel's filesystem with `magic` (a bare directory in a chroot is not).
fn on_filesystem(path: &Path, magic: u64, name: &str, fix: &'static str) -> Result<(), CannotTell> {
    let cannot = |why: String| CannotTell { source_name: path.display().to_string(), why, fix };
    let fs = rustix::fs::statfs(path).map_err(|e| cannot(unreadable(std::io::Error::from(e))))?;
    // The field's type differs between architectures; the magic numbers fit in 32 bits.
    #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
    let kind = fs.f_type as u64;
    if kind != magic {
        return Err(cannot(format!(
            "is not on the kernel's {name} (filesystem type {kind:#x}: no {name} is mounted there)"
        )));
    }
    Ok(())
}

/// Whether `/sys` is the kernel's sysfs (so that a file missing there is truly absent).
pub fn sysfs_mounted() -> Result<(), CannotTell> {
    on_filesystem(Path::new("/sys"), SYSFS_MAGIC, "sysfs", "mount /sys (mount -t sysfs sysfs /sys)")
}

const NET_FIX: &str = "mount /sys (mount -t sysfs sysfs /sys), or check by hand that every network interface but loopback is down (ip link)";

/// The air-gap check: reads `/sys/class/net`, the interfaces of the network namespace symbolon
/// runs in (on a ceremony machine, the machine's own; in a container or a namespace made for it,
/// only that one's: docs/DESIGN.md).
pub fn air_gap() -> AirGap {
    match interfaces_up(Path::new("/sys/class/net"), true) {
        Ok(up) if up.is_empty() => AirGap::Offline,
        Ok(up) => AirGap::Up(up),
        Err(e) => AirGap::CannotTell(e),
    }
}

/// Interfaces up in `dir` (a `/sys/class/net`); `kernel`: check that it is a sysfs (off only in
/// unit tests, which use a directory of their own).
fn interfaces_up(dir: &Path, kernel: bool) -> Result<Vec<String>, CannotTell> {
    let cannot = |source_name: String, why: String| CannotTell { source_name, why, fix: NET_FIX };
    if kernel {
        on_filesystem(dir, SYSFS_MAGIC, "sysfs", NET_FIX)?;
    }
    let entries = std::fs::read_dir(dir).map_err(|e| cannot(dir.display().to_string(), unreadable(e)))?;
    let mut up = Vec::new();
    let mut loopback = false;
    for entry in entries {
        let entry = entry.map_err(|e| cannot(dir.display().to_string(), unreadable(e)))?;
        // Interfaces are directories (symbolic links to their devices); files such as the bonding
        // driver's `bonding_masters` are not interfaces.
        let file_type = entry.file_type().map_err(|e| cannot(entry.path().display().to_string(), unreadable(e)))?;
        if file_type.is_file() {
            continue;
        }
        let path = entry.path().join("flags");
        let text = std::fs::read_to_string(&path).map_err(|e| cannot(path.display().to_string(), unreadable(e)))?;
        let flags = u32::from_str_radix(text.trim().trim_start_matches("0x"), 16)
            .map_err(|_| cannot(path.display().to_string(), format!("holds unexpected content {:?}", text.trim())))?;
        // IFF_UP = 0x1, IFF_LOOPBACK = 0x8.
        if flags & 0x8 != 0 {
            loopback = true;
        } else if flags & 0x1 != 0 {
            up.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    if !loopback {
        // Every network namespace has a loopback interface: this is not the kernel's view.
        return Err(cannot(
            dir.display().to_string(),
            "lists no loopback interface: it is not this system's view".into(),
        ));
    }
    up.sort();
    Ok(up)
}

/// What the ceremony commands ask of the air gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AirGapPolicy {
    /// Go on whatever the check says (the caller warns).
    Warn,
    /// Refuse unless the check established that no interface is up.
    Require,
    /// As `Require`, but where the check cannot look the operator has checked by hand; an
    /// interface the check SEES up still refuses.
    RequireCheckedByHand,
}

/// Why a ceremony command refuses to run under [`AirGapPolicy::Require`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AirGapRefused {
    #[error("network interfaces are up ({})", .0.join(", "))]
    Up(Vec<String>),
    #[error("whether a network interface is up cannot be told: {0}")]
    CannotTell(CannotTell),
}

/// Applies `policy` to the air-gap check: `Ok(AirGap::Offline)` to go on silently, `Ok(other)` to
/// go on with a warning about `other`, `Err` to refuse.
pub fn enforce_air_gap(policy: AirGapPolicy) -> Result<AirGap, AirGapRefused> {
    match (air_gap(), policy) {
        (AirGap::Up(up), AirGapPolicy::Require | AirGapPolicy::RequireCheckedByHand) => Err(AirGapRefused::Up(up)),
        (AirGap::CannotTell(e), AirGapPolicy::Require) => Err(AirGapRefused::CannotTell(e)),
        (state, _) => Ok(state),
    }
}

/// Whether swap is in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Swap {
    Off,
    /// The swap devices or files in use.
    On(Vec<String>),
    CannotTell(CannotTell),
}

const SWAP_FIX: &str = "mount /proc (mount -t proc proc /proc), or check by hand that no swap is in use \
                        (swapon --show on the host prints nothing)";

/// The swap check: reads `/proc/swaps`.
pub fn swap() -> Swap {
    let path = Path::new("/proc/swaps");
    if let Err(e) = on_filesystem(path, PROC_SUPER_MAGIC, "procfs", SWAP_FIX) {
        return Swap::CannotTell(e);
    }
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let devices: Vec<String> =
                text.lines().skip(1).filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect();
            if devices.is_empty() { Swap::Off } else { Swap::On(devices) }
        }
        Err(e) => {
            Swap::CannotTell(CannotTell { source_name: path.display().to_string(), why: e.to_string(), fix: SWAP_FIX })
        }
    }
}

/// Whether this process's memory is locked against swapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryLock {
    Locked,
    /// Not attempted: with a finite limit, locking all future memory would make large allocations
    /// fail. `limit` is the memory-lock limit in bytes.
    Limited {
        limit: u64,
    },
    Failed(String),
}

/// What [`harden_process`] achieved, each part read back from the kernel.
#[derive(Debug, Clone)]
pub struct Hardening {
    /// `RLIMIT_CORE` is 0 (soft and hard), read back after setting it.
    pub core_dumps_disabled: bool,
    /// The process is not dumpable (`PR_GET_DUMPABLE` reads 0): no core dump at all, and no
    /// ptrace or /proc/PID/mem access by other processes of the user.
    pub not_dumpable: bool,
    pub memory_lock: MemoryLock,
    /// Whether core dumps were allowed before symbolon turned them off for itself.
    pub core_dumps_were_allowed: bool,
    /// The swap check, as made at start-up.
    pub swap: Swap,
    /// What was not achieved, and what it means; empty when all is well.
    pub warnings: Vec<String>,
}

/// Turns off core dumps, marks the process non-dumpable, and locks its memory if it can do so
/// without risking allocation failures (only when the memory-lock limit is unlimited).
pub fn harden_process() -> Hardening {
    let core_dumps_were_allowed = core_dumps_allowed();
    let mut warnings = Vec::new();
    if let Err(e) = setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) }) {
        warnings.push(format!("could not turn off core dumps ({e}): a crash could write secrets to disk"));
    }
    let core = getrlimit(Resource::Core);
    let core_dumps_disabled = core.current == Some(0) && core.maximum == Some(0);
    if let Err(e) = set_dumpable_behavior(DumpableBehavior::NotDumpable) {
        warnings.push(format!("could not mark the process non-dumpable ({e})"));
    }
    let not_dumpable = dumpable_behavior().is_ok_and(|d| d == DumpableBehavior::NotDumpable);
    // Root (CAP_SYS_RESOURCE) may lift the limit; anyone may raise the soft limit to the hard one.
    if setrlimit(Resource::Memlock, Rlimit { current: None, maximum: None }).is_err() {
        let limit = getrlimit(Resource::Memlock);
        let _ = setrlimit(Resource::Memlock, Rlimit { current: limit.maximum, maximum: limit.maximum });
    }
    let memory_lock = match getrlimit(Resource::Memlock).current {
        None => match mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE) {
            Ok(()) => MemoryLock::Locked,
            Err(e) => MemoryLock::Failed(e.to_string()),
        },
        Some(limit) => MemoryLock::Limited { limit },
    };
    let swap = swap();
    if memory_lock != MemoryLock::Locked {
        let why = match &memory_lock {
            MemoryLock::Failed(e) => format!("locking failed: {e}"),
            MemoryLock::Limited { limit } => format!("the memory-lock limit is {} KiB, not unlimited", limit / 1024),
            MemoryLock::Locked => String::new(),
        };
        match &swap {
            Swap::Off => {}
            Swap::On(devices) => warnings.push(format!(
                "memory is not locked ({why}) and swap is on ({}): secrets could be swapped to disk; turn swap off \
                 (swapoff -a) or run with an unlimited memory-lock limit",
                devices.join(", ")
            )),
            Swap::CannotTell(e) => warnings
                .push(format!("memory is not locked ({why}) and whether swap is on cannot be told: {e}; {}", e.fix)),
        }
    }
    Hardening { core_dumps_disabled, not_dumpable, memory_lock, core_dumps_were_allowed, swap, warnings }
}

/// Whether core dumps are allowed for this process (the soft `RLIMIT_CORE` is not zero).
pub fn core_dumps_allowed() -> bool {
    getrlimit(Resource::Core).current != Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_that_is_not_sysfs_cannot_tell() {
        // A bare directory (as in a chroot without /sys) and a fake one with a single interface:
        // neither is the kernel's view, so neither may pass as "no interface up".
        let dir = std::env::temp_dir().join(format!("symbolon-hygiene-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("eth0")).unwrap();
        std::fs::write(dir.join("eth0/flags"), "0x1002\n").unwrap();
        let result = interfaces_up(&dir, true);
        std::fs::remove_dir_all(&dir).unwrap();
        let e = result.unwrap_err();
        assert!(e.why.starts_with("is not on the kernel's sysfs"), "{e:?}");
        let e = interfaces_up(Path::new("/nonexistent/class/net"), true).unwrap_err();
        assert_eq!(e.source_name, "/nonexistent/class/net");
        assert!(e.why.contains("No such file"), "{e:?}");
    }

    #[test]
    fn flags_decide_and_files_are_not_interfaces() {
        // The reading itself, on a directory laid out as /sys/class/net is.
        let dir = std::env::temp_dir().join(format!("symbolon-hygiene-flags-{}", std::process::id()));
        for (name, flags) in [("lo", "0x9"), ("eth0", "0x1003"), ("wlan0", "0x1002"), ("usb0", "0x1043")] {
            std::fs::create_dir_all(dir.join(name)).unwrap();
            std::fs::write(dir.join(name).join("flags"), format!("{flags}\n")).unwrap();
        }
        std::fs::write(dir.join("bonding_masters"), "bond0\n").unwrap();
        let up = interfaces_up(&dir, false);
        std::fs::remove_dir_all(dir.join("eth0")).unwrap();
        std::fs::remove_dir_all(dir.join("usb0")).unwrap();
        let offline = interfaces_up(&dir, false);
        std::fs::remove_dir_all(dir.join("lo")).unwrap();
        let no_loopback = interfaces_up(&dir, false);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(up.unwrap(), ["eth0", "usb0"]);
        assert_eq!(offline.unwrap(), Vec::<String>::new());
        assert!(no_loopback.unwrap_err().why.starts_with("lists no loopback interface"));
    }

    #[test]
    fn this_machines_interfaces_are_read() {
        // The test machine has /sys: the answer is a list, never "cannot tell", and loopback is
        // never in it.
        let up = interfaces_up(Path::new("/sys/class/net"), true).unwrap();
        assert!(!up.iter().any(|i| i == "lo"), "{up:?}");
    }
}

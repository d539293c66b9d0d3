//! Process hardening done before any secret is read: no core dumps, not dumpable or traceable by
//! other processes of the same user, memory locked against swapping where the limits allow it.

use rustix::mm::{MlockAllFlags, mlockall};
use rustix::process::{DumpableBehavior, Resource, Rlimit, getrlimit, set_dumpable_behavior, setrlimit};

/// What [`harden_process`] achieved. Each `false` comes with a line in `warnings`.
#[derive(Debug, Clone, Default)]
pub struct Hardening {
    pub core_dumps_disabled: bool,
    pub not_dumpable: bool,
    pub memory_locked: bool,
    /// Whether core dumps were allowed before symbolon turned them off for itself.
    pub core_dumps_were_allowed: bool,
    pub warnings: Vec<String>,
}

/// Turns off core dumps, marks the process non-dumpable, and locks its memory if it can do so
/// without risking allocation failures (only when the memory-lock limit is unlimited).
pub fn harden_process() -> Hardening {
    let mut h = Hardening { core_dumps_were_allowed: core_dumps_allowed(), ..Hardening::default() };
    match setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) }) {
        Ok(()) => h.core_dumps_disabled = true,
        Err(e) => h.warnings.push(format!("could not turn off core dumps ({e}): a crash could write secrets to disk")),
    }
    match set_dumpable_behavior(DumpableBehavior::NotDumpable) {
        Ok(()) => h.not_dumpable = true,
        Err(e) => h.warnings.push(format!("could not mark the process non-dumpable ({e})")),
    }
    // Root (CAP_SYS_RESOURCE) may lift the limit; anyone may raise the soft limit to the hard one.
    if setrlimit(Resource::Memlock, Rlimit { current: None, maximum: None }).is_err() {
        let limit = getrlimit(Resource::Memlock);
        let _ = setrlimit(Resource::Memlock, Rlimit { current: limit.maximum, maximum: limit.maximum });
    }
    let limit = getrlimit(Resource::Memlock);
    // With a finite limit, locking all future memory would make large allocations fail, so
    // memory is locked only when the limit is unlimited.
    if limit.current.is_none() {
        match mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE) {
            Ok(()) => h.memory_locked = true,
            Err(e) if swap_active() => {
                h.warnings.push(format!("could not lock memory ({e}): secrets could be swapped to disk; turn swap off"))
            }
            Err(_) => {}
        }
    } else if swap_active() {
        let kib = limit.current.unwrap_or(0) / 1024;
        h.warnings.push(format!(
            "memory not locked (the memory-lock limit is {kib} KiB, not unlimited) and swap is on: secrets could be \
             swapped to disk; turn swap off (swapoff -a) or run with an unlimited memlock limit"
        ));
    }
    h
}

/// Whether any swap device is in use (a line beyond the header of /proc/swaps).
pub fn swap_active() -> bool {
    std::fs::read_to_string("/proc/swaps").map_or(true, |s| s.lines().skip(1).any(|l| !l.trim().is_empty()))
}

/// Network interfaces other than loopback that are up (administratively: `IFF_UP`). An
/// air-gapped ceremony machine should have none.
pub fn network_interfaces_up() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/sys/class/net") else { return Vec::new() };
    let mut up: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let flags = std::fs::read_to_string(e.path().join("flags")).ok()?;
            let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).ok()?;
            // IFF_UP = 0x1, IFF_LOOPBACK = 0x8.
            (flags & 0x1 != 0 && flags & 0x8 == 0).then_some(name)
        })
        .collect();
    up.sort();
    up
}

/// Whether core dumps are allowed for this process (the soft `RLIMIT_CORE` is not zero).
pub fn core_dumps_allowed() -> bool {
    getrlimit(Resource::Core).current != Some(0)
}

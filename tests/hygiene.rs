//! Process hardening: after `harden_process`, no core dump can be written and the process is not
//! dumpable (its memory cannot be read through /proc or ptrace by other processes of the user).
//! Its own test binary, since it changes the process it runs in.

use rustix::process::{DumpableBehavior, Resource, dumpable_behavior, getrlimit};

#[test]
fn core_dumps_off_and_not_dumpable() {
    let h = symbolon::hygiene::harden_process();
    assert!(h.core_dumps_disabled, "{:?}", h.warnings);
    assert!(h.not_dumpable, "{:?}", h.warnings);
    let core = getrlimit(Resource::Core);
    assert_eq!((core.current, core.maximum), (Some(0), Some(0)));
    assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::NotDumpable);
    // Memory is locked exactly when the memlock limit is unlimited (as root it is lifted).
    let memlock = getrlimit(Resource::Memlock);
    let locked = h.memory_lock == symbolon::hygiene::MemoryLock::Locked;
    assert_eq!(locked, memlock.current.is_none(), "{:?}", h.warnings);
    if locked {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let locked_kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmLck:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        assert!(locked_kib > 0, "VmLck is 0 although mlockall succeeded");
    }
}

#[test]
fn the_binary_runs_with_core_dumps_off() {
    use std::process::{Command, Stdio};
    // `combine --stdin` waits for its input: look at the running process meanwhile.
    let bin = std::env::var_os("SYMBOLON_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_symbolon").into());
    let mut child = Command::new(bin)
        .args(["combine", "--stdin", "--stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let limits_path = format!("/proc/{}/limits", child.id());
    let core_line = |text: &str| text.lines().find(|l| l.starts_with("Max core file size")).map(str::to_string);
    let mut seen = None;
    for _ in 0..100 {
        let text = std::fs::read_to_string(&limits_path).unwrap_or_default();
        seen = core_line(&text);
        // The soft limit is often 0 already; only the hardening makes the hard limit 0 too.
        let fields = seen.as_deref().map(|l| l.split_whitespace().skip(4).take(2).collect::<Vec<_>>());
        if fields.is_some_and(|f| f == ["0", "0"]) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(child.stdin.take());
    let _ = child.wait();
    let line = seen.expect("no core limit line in /proc/<pid>/limits");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{line}");
}

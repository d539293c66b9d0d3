//! What an interruption does (SIGINT, SIGTERM, SIGHUP): every unfinished output is removed
//! before the process exits ([`crate::output::abandon`]), and the caller is told what was removed
//! and what this run had already written, to say so truthfully. The exit status is 128 + the
//! signal's number (130, 143, 129), as a shell reports a process killed by it.
//!
//! The signals are received by a thread of their own (through a self-pipe, `signal-hook`), not in
//! a signal handler, so removing files and printing is safe there.

use crate::output::{self, Abandoned};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// An interruption, as reported to the caller's hook just before the process exits.
#[derive(Debug)]
pub struct Interrupted {
    /// The signal's name: "SIGINT", "SIGTERM" or "SIGHUP".
    pub signal: &'static str,
    /// The exit status the process is about to exit with.
    pub status: i32,
    pub outputs: Abandoned,
}

/// Installs the handling. `report` runs on the signal thread, after the temporaries are removed
/// and before the process exits (e.g. to restore the terminal and say what happened).
pub fn install(report: impl Fn(&Interrupted) + Send + 'static) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new().name("interrupt".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let name = match signal {
                SIGINT => "SIGINT",
                SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            let interrupted = Interrupted { signal: name, status: 128 + signal, outputs: output::abandon() };
            // The report may fail (a hung-up terminal): the process exits all the same.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| report(&interrupted)));
            std::process::exit(interrupted.status);
        }
    })?;
    Ok(())
}

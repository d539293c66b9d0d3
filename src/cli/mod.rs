//! Command-line layer: one file per subcommand, each holding its clap arguments and its `run`.

/// Prints a line to stdout, like `println!`, but a closed stdout (`symbolon doctor | head -1`)
/// ends the run quietly instead of panicking: see [`stdout_failed`].
macro_rules! show {
    () => {
        $crate::cli::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` as [`show!`] does `println!`.
macro_rules! show_raw {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}

/// Prints a line to stderr, like `eprintln!`; a closed stderr is ignored (what was to be said
/// cannot be said, and the run goes on to its end and its exit code).
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod card;
mod combine;
mod decrypt;
mod doctor;
mod hint;
mod inspect;
mod io;
mod new_set;
mod options;
mod prompt;
mod qr;
mod recovery;
mod rekey;
mod split;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Offline Shamir secret sharing for key ceremonies.
#[derive(Parser)]
#[command(name = "symbolon", version = env!("SYMBOLON_VERSION"), about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Split a secret into shares, any THRESHOLD of which recover it.
    Split(split::Args),
    /// Recover a secret from shares (symbolon shares or Vault keys, plain or encrypted).
    Combine(combine::Args),
    /// Decrypt one share with its custodian's key: show it, or only check it (--check).
    Decrypt(decrypt::Args),
    /// Show what shares are (set, index, threshold, label, target) without revealing the secret.
    Inspect(inspect::Args),
    /// QR codes of shares.
    #[command(subcommand)]
    Qr(qr::Command),
    /// Re-split the SAME secret to a new set (new count, threshold, custodians) from a threshold
    /// of old shares, each decrypted on its custodian's card. Not rotation: the secret stays.
    Rekey(Box<rekey::Command>),
    /// Walk the custodians of a (new) set through decrypting their shares on their cards; check
    /// each against the manifest, and the set's commitment once a threshold verified.
    Verify(verify::Args),
    /// OpenPGP smartcards: list them, make a certificate from one.
    #[command(subcommand)]
    Card(card::Command),
    /// Check this machine for a ceremony: pcscd, readers, cards, USB access, air gap.
    Doctor(doctor::Args),
}

/// Exit codes: 0 success, 1 the operation failed (bad input, failed check, I/O), 2 usage error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let hardening = symbolon::hygiene::harden_process();
    for warning in &hardening.warnings {
        tell!("warning: {warning}");
    }
    if let Err(e) = symbolon::interrupt::install(report_interruption) {
        tell!("warning: interruptions cannot be caught ({e}): an interrupted run may leave unfinished outputs behind");
    }
    let flags = hint_flags(&cli.command);
    let result = match cli.command {
        Command::Split(args) => split::run(args),
        Command::Combine(args) => combine::run(args),
        Command::Decrypt(args) => decrypt::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Qr(command) => qr::run(command),
        Command::Rekey(command) => rekey::dispatch(*command),
        Command::Verify(args) => verify::run(args),
        Command::Card(command) => card::run(command),
        Command::Doctor(args) => doctor::run(args, &hardening),
    };
    report_cleaned();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Errors carry outside text (paths, origins, file contents): escaped as printed.
            tell!("error: {}", symbolon::sanitize::sanitize_lines(&describe(&e)));
            for hint in hint::hints(e.as_ref(), flags) {
                tell!("hint: {}", symbolon::sanitize::sanitize_lines(&hint));
            }
            ExitCode::from(1)
        }
    }
}

/// Writes to stdout; see [`stdout_failed`] for a failure.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        drop(out);
        stdout_failed(&e, None);
    }
}

/// Writes `what` (e.g. "the secret") to stdout and flushes it; see [`stdout_failed`] for a
/// failure, which is said on stderr even when the reader went away: what was to be delivered
/// was not (whole).
pub(crate) fn write_stdout_bytes(bytes: &[u8], what: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        drop(out);
        stdout_failed(&e, Some(what));
    }
}

/// stdout cannot be written. When its reader went away (EPIPE: `| head -1`), the run ends with
/// 141, the code of a process ended by SIGPIPE, as other Unix tools do: quietly for messages,
/// with a line on stderr when it was a secret or a share that did not get through. Any other
/// failure is said on stderr, with exit code 1. Either way unfinished outputs are removed first.
fn stdout_failed(e: &std::io::Error, what: Option<&str>) -> ! {
    prompt::restore_terminal();
    let abandoned = symbolon::output::abandon();
    for (path, why) in &abandoned.left {
        tell!(
            "error: the unfinished output {} could not be removed ({why}): remove it by hand, it may hold secrets",
            symbolon::sanitize(&path.display().to_string())
        );
    }
    if let Some(what) = what {
        tell!("error: {what} could not be written to stdout ({e}): it did not reach its reader whole");
    }
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(141);
    }
    if what.is_none() {
        tell!("error: writing to stdout failed: {e}");
    }
    std::process::exit(1);
}

/// What an interruption did, said just before the process exits.
fn report_interruption(i: &symbolon::interrupt::Interrupted) {
    prompt::restore_terminal();
    let o = &i.outputs;
    for (path, pid) in &o.cleaned {
        note_cleaned(path, *pid);
    }
    let shown = |paths: &[std::path::PathBuf]| {
        paths.iter().map(|p| symbolon::sanitize(&p.display().to_string())).collect::<Vec<_>>().join(", ")
    };
    if !o.removed.is_empty() {
        tell!("The unfinished output was removed: {}.", shown(&o.removed));
    }
    for (path, e) in &o.left {
        tell!(
            "error: the unfinished output {} could not be removed ({e}): remove it by hand, it may hold secrets",
            symbolon::sanitize(&path.display().to_string())
        );
    }
    match (o.written.is_empty(), o.left.is_empty()) {
        (true, true) => tell!("interrupted ({}): nothing was written", i.signal),
        (false, true) => tell!(
            "interrupted ({}): {} had been written before the interruption; nothing else was",
            i.signal,
            shown(&o.written)
        ),
        (_, false) => tell!("interrupted ({})", i.signal),
    }
}

/// Stale temporaries of killed runs that this run removed.
fn report_cleaned() {
    for (path, pid) in symbolon::output::take_cleaned() {
        note_cleaned(&path, pid);
    }
}

fn note_cleaned(path: &std::path::Path, pid: u32) {
    tell!(
        "note: removed {}, an unfinished output left by an interrupted symbolon run (process {pid})",
        symbolon::sanitize(&path.display().to_string())
    );
}

/// Which flags the command has, for the hints after an error.
fn hint_flags(command: &Command) -> hint::Flags {
    let cards = hint::Flags {
        key_file: true,
        allow_last_pin_try: true,
        from_image: true,
        wait: true,
        ..hint::Flags::default()
    };
    let manifest = Some("--manifest");
    match command {
        Command::Combine(_) => {
            hint::Flags { manifest: true, manifest_flag: manifest, threshold: Some("--threshold"), ..cards }
        }
        Command::Decrypt(_) => hint::Flags { manifest: true, manifest_flag: manifest, wait: false, ..cards },
        Command::Verify(_) => hint::Flags { manifest: true, from_image: false, ..cards },
        Command::Inspect(_) => hint::Flags { from_image: true, ..hint::Flags::default() },
        Command::Rekey(rekey) => {
            let old = Some("--old-manifest");
            hint::Flags {
                wait: rekey.is_one_shot(),
                new_set: true,
                operator_key_file: true,
                threshold: Some("--old-threshold"),
                manifest_flag: old,
                ..cards
            }
        }
        Command::Split(_) => hint::Flags { new_set: true, secret_file: true, ..hint::Flags::default() },
        Command::Card(card::Command::Cert { .. }) => hint::Flags { card_cert: true, ..hint::Flags::default() },
        Command::Card(card::Command::Setup { .. }) => {
            hint::Flags { card_admin: Some("--reset"), ..hint::Flags::default() }
        }
        Command::Card(card::Command::Reset { .. }) => {
            hint::Flags { card_admin: Some("--confirm"), ..hint::Flags::default() }
        }
        Command::Card(card::Command::Pin(_)) => hint::Flags { card_admin: Some("--card"), ..hint::Flags::default() },
        _ => hint::Flags::default(),
    }
}

/// The error and its causes, each cause added only if the message does not already say it
/// (library messages embed their cause).
fn describe(e: &anyhow::Error) -> String {
    let mut message = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's arguments are consistent (unique names, valid groups): clap checks this
    /// only when a command is parsed, so a conflict would otherwise surface at a user's first run.
    #[test]
    fn every_command_is_consistent() {
        super::Cli::command().debug_assert();
    }

    /// Splits a command line as a POSIX shell would for these simple lines: words, with '…' and
    /// "…" quoting; a `#` comment ends it.
    fn words(line: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut word: Option<String> = None;
        let mut quote: Option<char> = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => word.get_or_insert_with(String::new).push(c),
                (None, '\'' | '"') => {
                    quote = Some(c);
                    word.get_or_insert_with(String::new);
                }
                (None, '#') if word.is_none() => break,
                (None, c) if c.is_whitespace() => out.extend(word.take()),
                (None, c) => word.get_or_insert_with(String::new).push(c),
            }
        }
        out.extend(word);
        out
    }

    /// Every `symbolon` command the README and the guides in docs/ print (in their shell blocks)
    /// is one the CLI takes: its subcommand and flags exist and fit together. Lines that elide
    /// arguments ("...", alternatives with "|" or "[...]") are skipped.
    #[test]
    fn every_command_the_docs_print_parses() {
        use clap::Parser;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        for doc in ["README.md", "docs/CUSTODIAN.md", "docs/CEREMONY.md"] {
            let text = std::fs::read_to_string(root.join(doc)).unwrap();
            let mut in_block = false;
            let mut pending = String::new();
            for line in text.lines() {
                if line.trim_start().starts_with("```") {
                    in_block = !in_block;
                    continue;
                }
                if !in_block {
                    continue;
                }
                let line = line.trim();
                if let Some(head) = line.strip_suffix('\\') {
                    pending.push_str(head);
                    pending.push(' ');
                    continue;
                }
                let whole = std::mem::take(&mut pending) + line;
                let command = whole.split(" # ").next().unwrap_or_default().trim().to_string();
                if !command.starts_with("symbolon ") || ["...", "|", "[", "…"].iter().any(|e| command.contains(e)) {
                    continue;
                }
                let args = words(&command);
                if let Err(e) = super::Cli::try_parse_from(&args) {
                    panic!("{doc}: `{command}` does not parse: {e}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 20, "only {checked} commands found in the docs");
    }
}

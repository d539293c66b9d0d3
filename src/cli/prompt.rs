//! The terminal side of the library's `Prompt`: secrets are read from the controlling terminal
//! (/dev/tty) with echo off, or through pinentry when there is no terminal or when asked
//! (SYMBOLON_PINENTRY=1, or a pinentry program path). Never from stdin.

use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use symbolon::prompt::{CardWait, Prompt, PromptError, Question, SecretRequest, Waited};
use zeroize::Zeroizing;

pub struct TerminalPrompt;

/// Whether a person can see symbolon and act: a terminal on stdin or stderr, or a controlling
/// terminal (/dev/tty). Without one, nothing waits for a card or pcscd unless `--wait` says so.
pub fn attended() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal()
        || std::io::stderr().is_terminal()
        || OpenOptions::new().read(true).write(true).open("/dev/tty").is_ok()
}

/// Whether to wait for cards: `--wait`, else `--no-wait`, else whether a person is there.
pub fn wait_for_cards(wait: bool, no_wait: bool) -> bool {
    wait || (!no_wait && attended())
}

/// The terminal's settings while echo is off for a secret, to restore on an interruption.
static ECHO_OFF: Mutex<Option<Termios>> = Mutex::new(None);

/// Puts the terminal's echo back if an interruption came while a secret was being typed.
pub fn restore_terminal() {
    let saved = ECHO_OFF.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let (Some(saved), Ok(tty)) = (saved, OpenOptions::new().read(true).write(true).open("/dev/tty")) {
        let _ = tcsetattr(&tty, OptionalActions::Flush, &saved);
        let _ = writeln!(&tty);
    }
}

impl Prompt for TerminalPrompt {
    fn secret(&mut self, request: &SecretRequest) -> Result<Zeroizing<String>, PromptError> {
        let pinentry = std::env::var("SYMBOLON_PINENTRY").ok().filter(|v| !v.is_empty() && v != "0");
        if pinentry.is_none() {
            match read_tty(request) {
                Err(PromptError::NoTerminal) => {}
                other => return other,
            }
        }
        let program = match pinentry.as_deref() {
            Some("1") | None => "pinentry",
            Some(path) => path,
        };
        read_pinentry(program, request)
    }

    fn confirm(&mut self, question: &Question) -> Result<bool, PromptError> {
        match question {
            Question::PlanHash { hash, action } => {
                Ok(hash.matches(&self.line(&format!("Type the plan hash ({hash}) to {action}: "))?))
            }
            Question::RetryOrSkip { what } => {
                Ok(self.line(&format!("  {what}: press Enter to retry, or type skip: "))?.trim().is_empty())
            }
            Question::TypeIdent { ident, action } => Ok(self
                .line(&format!("Type the card's ident ({ident}) to {action}: "))?
                .trim()
                .eq_ignore_ascii_case(ident)),
        }
    }

    /// Notices carry outside text (origins, file names): escaped as printed.
    fn notice(&mut self, message: &str) {
        tell!("{}", symbolon::sanitize::sanitize_lines(message));
    }

    /// On a terminal: names the card, waits for the cards to change (pcscd's events, in this
    /// thread) while another thread watches the terminal for Enter, which skips the card (or,
    /// when it cannot be skipped, stops waiting). Input typed before is dropped, and echo is off
    /// meanwhile: a PIN typed ahead is neither shown nor taken for Enter. Through pinentry
    /// (SYMBOLON_PINENTRY) or without a terminal: as the library does unattended.
    fn wait_for_card(&mut self, wait: &CardWait<'_>) -> Result<Waited, PromptError> {
        let via_pinentry = std::env::var("SYMBOLON_PINENTRY").is_ok_and(|v| !v.is_empty() && v != "0");
        let tty = match OpenOptions::new().read(true).write(true).open("/dev/tty") {
            Ok(tty) if !via_pinentry => tty,
            _ => return symbolon::prompt::wait_unattended(self, wait),
        };
        let enter = wait.skip.unwrap_or("stop waiting");
        if !wait.again {
            writeln!(&tty, "Waiting for {}: {}, or press Enter to {enter}.", wait.card, wait.ask)
                .map_err(PromptError::Terminal)?;
        }
        let quiet = Quiet::new(&tty)?;
        let (wake_read, wake_write) = rustix::pipe::pipe().map_err(|e| PromptError::Terminal(e.into()))?;
        let cancel = wait.waiter.canceller();
        let (changed, pressed) = std::thread::scope(|scope| {
            let watcher = scope.spawn(|| enter_pressed(&tty, &wake_read, &*cancel));
            let changed = wait.waiter.wait();
            // Ends the watcher (it stops reading the terminal, and stops cancelling).
            let _ = rustix::io::write(&wake_write, b"x");
            (changed, watcher.join().unwrap_or(false))
        });
        drop(quiet);
        match changed.map_err(PromptError::Waiting)? {
            true => Ok(Waited::Changed),
            false if pressed && wait.skip.is_some() => Ok(Waited::Skip),
            false => Err(PromptError::Cancelled),
        }
    }

    fn line(&mut self, prompt: &str) -> Result<Zeroizing<String>, PromptError> {
        let tty = OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|_| PromptError::NoTerminal)?;
        write!(&tty, "{prompt}").map_err(PromptError::Terminal)?;
        let mut line = Zeroizing::new(String::new());
        match BufReader::new(&tty).read_line(&mut line) {
            Ok(0) => Err(PromptError::Cancelled),
            Ok(_) => {
                let trimmed = line.trim_end_matches(['\n', '\r']).len();
                line.truncate(trimmed);
                Ok(line)
            }
            Err(e) => Err(PromptError::Terminal(e)),
        }
    }
}

/// Waits until a line is typed on `tty` or `wake` is readable. After a line, `cancel` is called
/// again every 100 ms until `wake` says the wait ended (a cancel can come just before the wait
/// blocks, where it would not reach it).
fn enter_pressed(tty: &std::fs::File, wake: &rustix::fd::OwnedFd, cancel: &(dyn Fn() + Send + Sync)) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    loop {
        let mut fds = [PollFd::new(tty, PollFlags::IN), PollFd::new(wake, PollFlags::IN)];
        match poll(&mut fds, None) {
            Ok(_) if fds[1].revents().contains(PollFlags::IN) => return false,
            Ok(_) if fds[0].revents().intersects(PollFlags::IN | PollFlags::HUP) => break,
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(_) => return false,
        }
    }
    let mut line = Zeroizing::new(String::new());
    let _ = BufReader::new(tty).read_line(&mut line);
    let every = Timespec { tv_sec: 0, tv_nsec: 100_000_000 };
    loop {
        cancel();
        let mut fds = [PollFd::new(wake, PollFlags::IN)];
        match poll(&mut fds, Some(&every)) {
            Ok(_) if fds[0].revents().contains(PollFlags::IN) => return true,
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(_) => return true,
        }
    }
}

/// The terminal with pending input dropped and echo off (lines still end with Enter), put back
/// on drop, and by [`restore_terminal`] on an interruption.
struct Quiet<'t> {
    tty: &'t std::fs::File,
    saved: Termios,
}

impl<'t> Quiet<'t> {
    fn new(tty: &'t std::fs::File) -> Result<Quiet<'t>, PromptError> {
        let failed = |e: rustix::io::Errno| PromptError::Terminal(e.into());
        let saved = tcgetattr(tty).map_err(failed)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        *ECHO_OFF.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved.clone());
        // Flush: what was typed before this is dropped.
        tcsetattr(tty, OptionalActions::Flush, &quiet).map_err(failed)?;
        Ok(Quiet { tty, saved })
    }
}

impl Drop for Quiet<'_> {
    fn drop(&mut self) {
        let _ = tcsetattr(self.tty, OptionalActions::Flush, &self.saved);
        *ECHO_OFF.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

fn read_tty(request: &SecretRequest) -> Result<Zeroizing<String>, PromptError> {
    let tty = OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|_| PromptError::NoTerminal)?;
    let failed = PromptError::Terminal;
    let saved = tcgetattr(&tty).map_err(|e| failed(e.into()))?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    write!(&tty, "{}: ", ask(request)).map_err(failed)?;
    *ECHO_OFF.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved.clone());
    tcsetattr(&tty, OptionalActions::Flush, &quiet).map_err(|e| failed(e.into()))?;
    let mut line = Zeroizing::new(String::new());
    let read = BufReader::new(&tty).read_line(&mut line);
    let _ = tcsetattr(&tty, OptionalActions::Flush, &saved);
    *ECHO_OFF.lock().unwrap_or_else(|e| e.into_inner()) = None;
    match read {
        Ok(0) => Err(PromptError::Cancelled),
        Ok(_) => {
            let trimmed = line.trim_end_matches(['\n', '\r']).len();
            line.truncate(trimmed);
            Ok(line)
        }
        Err(e) => Err(failed(e)),
    }
}

/// What the terminal shows: "Enter the user PIN of card ..." or "Passphrase for the secret key ...".
fn ask(request: &SecretRequest) -> String {
    let description = request.describe();
    if request.is_pin() { format!("Enter {description}") } else { format!("Passphrase for {description}") }
}

/// A minimal Assuan client for pinentry: SETDESC, SETPROMPT, GETPIN.
fn read_pinentry(program: &str, request: &SecretRequest) -> Result<Zeroizing<String>, PromptError> {
    let description = request.describe();
    let mut child =
        Command::new(program).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().map_err(
            |source| match std::env::var("SYMBOLON_PINENTRY").as_deref() {
                // Named by the user: say what was named and why it did not start.
                Ok(named) if named == program => {
                    PromptError::PinentryNotStarted { program: symbolon::sanitize(program), source }
                }
                _ => PromptError::NoTerminal,
            },
        )?;
    let failed = PromptError::Pinentry;
    let mut stdin = child.stdin.take().ok_or(PromptError::NoTerminal)?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or(PromptError::NoTerminal)?);
    let mut line = Zeroizing::new(String::new());
    let expect_ok = |stdout: &mut BufReader<_>, line: &mut String| assuan_reply(stdout, line);
    expect_ok(&mut stdout, &mut line)?; // greeting
    for command in [
        format!(
            "SETDESC {}\n",
            percent_encode(&if request.is_pin() {
                format!("symbolon needs {description}")
            } else {
                format!("symbolon needs the passphrase for {description}")
            })
        ),
        format!(
            "SETPROMPT {}\n",
            match request {
                SecretRequest::AdminPin { .. } => "Admin PIN:",
                SecretRequest::UserPin { .. } => "PIN:",
                SecretRequest::Passphrase { .. } => "Passphrase:",
                SecretRequest::ResetCode { .. } => "Reset code:",
                SecretRequest::New { .. } => "New PIN:",
            }
        ),
    ] {
        stdin.write_all(command.as_bytes()).map_err(failed)?;
        expect_ok(&mut stdout, &mut line)?;
    }
    stdin.write_all(b"GETPIN\n").map_err(failed)?;
    let pin = expect_ok(&mut stdout, &mut line)?.unwrap_or_default();
    let _ = stdin.write_all(b"BYE\n");
    let _ = child.wait();
    Ok(pin)
}

/// Reads pinentry's lines up to its `OK`: the data line's content, if one came (`D ...`).
fn assuan_reply(
    stdout: &mut BufReader<std::process::ChildStdout>,
    line: &mut String,
) -> Result<Option<Zeroizing<String>>, PromptError> {
    let mut data = None;
    loop {
        line.clear();
        if stdout.read_line(line).map_err(PromptError::Pinentry)? == 0 {
            return Err(PromptError::PinentryClosed);
        }
        if line.starts_with("OK") {
            return Ok(data);
        }
        if let Some(rest) = line.strip_prefix("D ") {
            data = Some(Zeroizing::new(percent_decode(rest.trim_end_matches(['\n', '\r']))));
        } else if line.starts_with("ERR") {
            // The person cancelled, or pinentry could not show itself (no terminal, no display).
            return Err(if line.to_lowercase().contains("cancel") {
                PromptError::Cancelled
            } else {
                PromptError::NoTerminal
            });
        }
    }
}

fn percent_encode(text: &str) -> String {
    text.chars()
        .map(|c| if c == '%' || c == '\n' || c == '\r' { format!("%{:02X}", c as u32) } else { c.to_string() })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()))
            .flatten();
        match escaped {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

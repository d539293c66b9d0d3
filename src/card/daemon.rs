//! pcscd's socket, spoken to directly: is the daemon there, which internal protocol does it speak,
//! and which one does symbolon use with it?
//!
//! A PC/SC client library and pcscd exchange a protocol version first (`CMD_VERSION`: the client
//! offers its `major:minor`, the daemon answers with its own and accepts or refuses). pcsc-lite's
//! protocol is 4:4 up to 2.2.3 and 4:5 from 2.3.0 (4:5 only adds `CMD_GET_READER_EVENTS`);
//! daemons 2.3.0 to 2.4.0 accept only 4:5, 2.4.1 and later accept both, older ones only 4:4.
//!
//! The static symbolon carries its own client (pcsc-lite 1.9.9 with one patch,
//! `scripts/lib/pcsclite-negotiate.patch`): it offers 4:4, and when the daemon refuses that and
//! answers a later 4.x protocol, it offers 4:5 on a new session. (pcsc-lite 2.5 answers 4:6 and
//! accepts 4:4: seen on Debian sid's 2.5.3.) [`probe`] does exactly the same here, so that
//! `doctor` and the errors can say what the client library meets, which the library itself
//! reports only as "no service".

use std::fmt;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// pcsc-lite's `CMD_VERSION` message.
const CMD_VERSION: u32 = 0x11;
/// Where pcscd listens unless `PCSCLITE_CSOCK_NAME` says otherwise (as the client library does).
const DEFAULT_SOCKET: &str = "/run/pcscd/pcscd.comm";

/// A pcscd client/server protocol version, `major:minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Version {
    pub major: i32,
    pub minor: i32,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

/// pcsc-lite 1.9.9's protocol, the one the static client implements and offers first.
pub const V4_4: Version = Version { major: 4, minor: 4 };
/// pcsc-lite 2.3.0's protocol: 4:4 plus a command the client never sends.
pub const V4_5: Version = Version { major: 4, minor: 5 };

/// Which PC/SC client library this binary was linked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// symbolon's own static client (`scripts/build-static`): offers 4:4, then 4:5.
    Negotiating,
    /// The system's shared libpcsclite (a development build): it speaks the protocol of the
    /// pcsc-lite it comes from, which symbolon cannot see.
    System,
}

/// The client of this build: `scripts/build-static` sets `SYMBOLON_PCSC_CLIENT=negotiating` when it
/// links the static client.
pub const CLIENT: Client = match option_env!("SYMBOLON_PCSC_CLIENT") {
    Some(_) => Client::Negotiating,
    None => Client::System,
};

impl Client {
    /// How the client is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Client::Negotiating => "symbolon's static PC/SC client (pcsc-lite 1.9.9, offers protocol 4:4, then 4:5)",
            Client::System => "the system's PC/SC client library (libpcsclite; its protocol is its pcsc-lite's)",
        }
    }
}

/// What pcscd answered to the negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The daemon accepted `in_use`; it said it speaks `daemon` itself.
    Compatible { daemon: Version, in_use: Version },
    /// The daemon refused every version offered; it said it speaks `daemon`.
    Mismatch { daemon: Version, offered: Vec<Version> },
}

impl Probe {
    /// The pcsc-lite versions whose daemons answer as this one did.
    pub fn daemon_family(&self) -> &'static str {
        match *self {
            Probe::Compatible { daemon: V4_4, .. } => "pcsc-lite 2.2.3 or older",
            Probe::Compatible { in_use: V4_4, .. } => "pcsc-lite 2.4.1 or later, which also accepts 4:4",
            Probe::Compatible { daemon: V4_5, in_use: V4_5 } => "pcsc-lite 2.3.0 to 2.4.0, which accepts only 4:5",
            Probe::Compatible { .. } => "a pcsc-lite that accepts 4:5 but not 4:4",
            Probe::Mismatch { .. } => "a pcsc-lite version this symbolon does not know",
        }
    }
}

/// Why pcscd could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot connect to {}: {error}", socket.display())]
    Unreachable { socket: PathBuf, error: std::io::Error },
    /// The daemon accepted the connection and closed it without answering: what a pcscd built
    /// with polkit does to a user its polkit check refuses (and to everyone while polkitd is
    /// down); other daemons close only when they fail.
    #[error(
        "pcscd at {} accepted the connection and closed it without answering: {}",
        socket.display(),
        if *polkit { "its polkit check refused this user (action org.debian.pcsc-lite.access_pcsc; everyone is refused while polkitd is not running)" }
        else { "it failed or refused this user (this pcscd has no polkit policy installed; its log says why: journalctl -u pcscd)" }
    )]
    Closed { socket: PathBuf, polkit: bool },
    #[error("pcscd at {} did not answer the version message: {error}", socket.display())]
    NoAnswer { socket: PathBuf, error: std::io::Error },
}

/// The socket the PC/SC client library would use.
pub fn socket_path() -> PathBuf {
    std::env::var_os("PCSCLITE_CSOCK_NAME").map_or_else(|| PathBuf::from(DEFAULT_SOCKET), PathBuf::from)
}

/// Negotiates with pcscd as the static client does: 4:4 first, then 4:5 if the daemon refused 4:4
/// and answered that it speaks a later 4.x protocol (4:5, or 4:6 as pcsc-lite 2.5 does).
pub fn probe() -> Result<Probe, ProbeError> {
    let socket = socket_path();
    let (daemon, accepted) = offer(&socket, V4_4)?;
    if accepted {
        return Ok(Probe::Compatible { daemon, in_use: V4_4 });
    }
    // The client library's rule (the patch): 4:5 is offered to a daemon of a later 4.x protocol.
    if daemon.major != V4_4.major || daemon.minor <= V4_4.minor {
        return Ok(Probe::Mismatch { daemon, offered: vec![V4_4] });
    }
    match offer(&socket, V4_5)? {
        (daemon, true) => Ok(Probe::Compatible { daemon, in_use: V4_5 }),
        (daemon, false) => Ok(Probe::Mismatch { daemon, offered: vec![V4_4, V4_5] }),
    }
}

/// Offers `version` on a new session: the daemon's own version, and whether it accepted.
fn offer(socket: &Path, version: Version) -> Result<(Version, bool), ProbeError> {
    let unreachable = |error| ProbeError::Unreachable { socket: socket.to_path_buf(), error };
    let no_answer = |error| ProbeError::NoAnswer { socket: socket.to_path_buf(), error };
    let mut stream = UnixStream::connect(socket).map_err(unreachable)?;
    let timeout = Some(Duration::from_secs(3));
    stream.set_read_timeout(timeout).map_err(no_answer)?;
    stream.set_write_timeout(timeout).map_err(no_answer)?;
    let mut msg = Vec::with_capacity(20);
    msg.extend_from_slice(&12u32.to_ne_bytes()); // body size
    msg.extend_from_slice(&CMD_VERSION.to_ne_bytes());
    msg.extend_from_slice(&version.major.to_ne_bytes());
    msg.extend_from_slice(&version.minor.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes()); // rv
    stream.write_all(&msg).map_err(|error| match error.kind() {
        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset => closed(socket),
        _ => no_answer(error),
    })?;
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).map_err(|error| match error.kind() {
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => closed(socket),
        _ => no_answer(error),
    })?;
    let word = |i: usize| [answer[i], answer[i + 1], answer[i + 2], answer[i + 3]];
    let daemon = Version { major: i32::from_ne_bytes(word(0)), minor: i32::from_ne_bytes(word(4)) };
    Ok((daemon, u32::from_ne_bytes(word(8)) == 0))
}

/// pcsc-lite's polkit policy, installed with a pcscd that asks polkit.
const POLKIT_POLICY: &str = "/usr/share/polkit-1/actions/org.debian.pcsc-lite.policy";

/// Whether this system's pcscd asks polkit (its policy is installed).
pub fn uses_polkit() -> bool {
    Path::new(POLKIT_POLICY).exists()
}

fn closed(socket: &Path) -> ProbeError {
    ProbeError::Closed { socket: socket.to_path_buf(), polkit: uses_polkit() }
}

/// The pcscd program installed on this system and the version it reports (`pcscd --version`), or
/// `None` when none is found where distributions put it. This is the installed program, which is
/// normally, but not provably, the one running.
pub fn installed_version() -> Option<(PathBuf, String)> {
    ["/usr/sbin/pcscd", "/usr/bin/pcscd", "/sbin/pcscd"].into_iter().map(PathBuf::from).find_map(|path| {
        let out = std::process::Command::new(&path)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text.lines().find_map(|l| l.trim().strip_prefix("pcsc-lite version "))?;
        let version = version.trim_end_matches('.').trim();
        (!version.is_empty() && version.len() < 32 && version.bytes().all(|b| b.is_ascii_graphic()))
            .then(|| (path, version.to_string()))
    })
}

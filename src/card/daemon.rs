//! pcscd's socket, spoken to directly: is the daemon there, and which protocol does it speak?
//!
//! A PC/SC client library and pcscd exchange a protocol version first (`CMD_VERSION`); a daemon
//! that does not accept the client's version refuses it, and the client library reports only "no
//! service". A statically linked symbolon carries its own client (pcsc-lite 1.9.9, protocol 4:4),
//! so it can meet a daemon that refuses it: pcsc-lite 2.3.0 up to 2.4.0 accept only 4:5 (1.9.x to
//! 2.2.x speak 4:4; 2.4.1 and later accept both). This module asks the daemon itself, so that
//! `doctor` and the errors can say which case it is.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// The PC/SC client protocol this build speaks (pcsc-lite 1.9.9's `PROTOCOL_VERSION_MAJOR:MINOR`,
/// the client linked statically, and the client of Debian 12 for dynamic builds).
pub const CLIENT_PROTOCOL: (i32, i32) = (4, 4);
/// pcsc-lite's `CMD_VERSION` message.
const CMD_VERSION: u32 = 0x11;
/// Where pcscd listens unless `PCSCLITE_CSOCK_NAME` says otherwise (as the client library does).
const DEFAULT_SOCKET: &str = "/run/pcscd/pcscd.comm";

/// What pcscd answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The daemon accepts this build's protocol; `daemon` is its own version, e.g. "4:4".
    Compatible { daemon: String },
    /// The daemon refuses this build's protocol.
    Mismatch { daemon: String, client: String },
}

/// The socket the PC/SC client library would use.
pub fn socket_path() -> PathBuf {
    std::env::var_os("PCSCLITE_CSOCK_NAME").map_or_else(|| PathBuf::from(DEFAULT_SOCKET), PathBuf::from)
}

/// Asks pcscd for its protocol version. `Err` says why the daemon cannot be reached.
pub fn probe() -> Result<Probe, String> {
    let path = socket_path();
    let mut stream = UnixStream::connect(&path).map_err(|e| format!("cannot connect to {}: {e}", path.display()))?;
    let timeout = Some(Duration::from_secs(3));
    stream.set_read_timeout(timeout).map_err(|e| e.to_string())?;
    stream.set_write_timeout(timeout).map_err(|e| e.to_string())?;
    let mut msg = Vec::with_capacity(20);
    msg.extend_from_slice(&12u32.to_ne_bytes()); // body size
    msg.extend_from_slice(&CMD_VERSION.to_ne_bytes());
    msg.extend_from_slice(&CLIENT_PROTOCOL.0.to_ne_bytes());
    msg.extend_from_slice(&CLIENT_PROTOCOL.1.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes()); // rv
    stream.write_all(&msg).map_err(|e| format!("pcscd did not take the version message: {e}"))?;
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).map_err(|e| format!("pcscd did not answer the version message: {e}"))?;
    let word = |i: usize| [answer[i], answer[i + 1], answer[i + 2], answer[i + 3]];
    let daemon = format!("{}:{}", i32::from_ne_bytes(word(0)), i32::from_ne_bytes(word(4)));
    if u32::from_ne_bytes(word(8)) == 0 {
        Ok(Probe::Compatible { daemon })
    } else {
        Ok(Probe::Mismatch { daemon, client: format!("{}:{}", CLIENT_PROTOCOL.0, CLIENT_PROTOCOL.1) })
    }
}

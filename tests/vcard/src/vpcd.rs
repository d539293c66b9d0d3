//! vsmartcard's vpcd protocol, card side, and the ISO 7816-4 transport around opcard.
//!
//! vpcd frames every message with a 2-byte big-endian length. A 1-byte message is a control
//! command (0 power off, 1 power on, 2 reset, 4 send the ATR); anything longer is a command APDU,
//! answered with one response APDU. Command chaining (CLA bit 0x10) is assembled here and long
//! responses are returned in 256-byte pieces with `61xx` / GET RESPONSE, as a card's transport
//! layer would do before the OpenPGP application sees the command.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd as _;

/// The ATR of a T=1 card with historical bytes as opcard reports them.
const ATR: &[u8] = &[0x3b, 0x8a, 0x80, 0x01, 0x00, 0x31, 0xf5, 0x73, 0xc0, 0x01, 0x60, 0x00, 0x90, 0x00, 0x1c];

/// Largest command after chaining, and largest response, opcard may produce.
const MAX_APDU: usize = 7609;

pub struct Connection {
    stream: TcpStream,
}

impl Connection {
    pub fn connect(port: u16) -> io::Result<Self> {
        let stream = TcpStream::connect(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
        // vpcd writes the length and the body of every message separately: without these, Nagle's
        // algorithm and delayed ACKs cost ~40 ms per APDU.
        stream.set_nodelay(true)?;
        let conn = Connection { stream };
        conn.quickack();
        Ok(conn)
    }

    fn quickack(&self) {
        let one: libc::c_int = 1;
        // SAFETY: a plain setsockopt on a socket we own, with a pointer to a live c_int.
        unsafe {
            libc::setsockopt(
                self.stream.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_QUICKACK,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }

    fn read(&mut self) -> io::Result<Vec<u8>> {
        // Linux leaves quick-ACK mode on its own: set it again before every receive, so that the
        // length's segment is ACKed at once and vpcd's second write (the body) is not held back.
        let mut len = [0u8; 2];
        self.quickack();
        self.stream.read_exact(&mut len)?;
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        self.quickack();
        self.stream.read_exact(&mut msg)?;
        self.quickack();
        Ok(msg)
    }

    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        let len = u16::try_from(data.len()).map_err(|_| io::Error::other("response too long"))?;
        let mut msg = Vec::with_capacity(data.len() + 2);
        msg.extend_from_slice(&len.to_be_bytes());
        msg.extend_from_slice(data);
        self.stream.write_all(&msg)
    }

    /// Answers vpcd until it goes away (pcscd stopped) or the card vanishes. With `trace`, every
    /// command APDU's header (CLA INS P1 P2) is written to standard error, one line each (the
    /// benchmark counts them).
    pub fn serve<C: opcard::Client>(mut self, card: &mut Card<C>, trace: bool) -> Result<(), String> {
        loop {
            let msg = match self.read() {
                Ok(msg) => msg,
                Err(e) if matches!(e.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset) => {
                    return Ok(());
                }
                Err(e) => return Err(format!("reading from vpcd: {e}")),
            };
            if trace && msg.len() >= 4 {
                eprintln!("APDU {:02x?}", &msg[..4]);
            }
            let reply = match msg.as_slice() {
                [] => return Err("vpcd sent an empty message".into()),
                [0] | [1] => None,
                [2] => {
                    card.reset();
                    None
                }
                [4] => Some(ATR.to_vec()),
                [other] => return Err(format!("vpcd sent an unknown control command {other}")),
                apdu => match card.execute(apdu) {
                    Some(reply) => Some(reply),
                    // Fault injection: vanish without answering, as a card pulled out does.
                    None => return Ok(()),
                },
            };
            if let Some(reply) = reply {
                self.send(&reply).map_err(|e| format!("writing to vpcd: {e}"))?;
            }
        }
    }
}

pub struct Card<C: opcard::Client> {
    card: opcard::Card<C>,
    vanish_on_decipher: bool,
    /// Answer every command with "file not found", as a card without the OpenPGP application.
    no_openpgp: bool,
    /// Be a card without RSA: its algorithm information lists none, and setting an RSA
    /// algorithm is refused.
    no_rsa: bool,
    /// Data of a chained command received so far.
    chained: Vec<u8>,
    /// The part of the last response not yet fetched with GET RESPONSE.
    pending: Vec<u8>,
}

impl<C: opcard::Client> Card<C> {
    pub fn new(card: opcard::Card<C>, vanish_on_decipher: bool, no_openpgp: bool, no_rsa: bool) -> Self {
        Card { card, vanish_on_decipher, no_openpgp, no_rsa, chained: Vec::new(), pending: Vec::new() }
    }

    fn reset(&mut self) {
        self.card.reset();
        self.chained.clear();
        self.pending.clear();
    }

    /// One command APDU in, one response APDU out; `None` when the card is to vanish.
    fn execute(&mut self, apdu: &[u8]) -> Option<Vec<u8>> {
        if self.no_openpgp {
            return Some(status(0x6a82));
        }
        let command = match iso7816::command::CommandView::try_from(apdu) {
            Ok(command) => command,
            Err(_) => return Some(status(0x6700)),
        };
        let ins: u8 = command.instruction().into();
        if ins == 0xc0 {
            return Some(self.next_piece(command.expected()));
        }
        self.pending.clear();
        if command.class().chain().not_the_last() {
            self.chained.extend_from_slice(command.data());
            return Some(status(0x9000));
        }
        if self.vanish_on_decipher && ins == 0x2a && command.p1 == 0x80 && command.p2 == 0x86 {
            return None;
        }
        // PUT DATA of an algorithm attributes DO (C1..C3) naming RSA (algorithm id 01).
        if self.no_rsa
            && ins == 0xda
            && command.p1 == 0
            && (0xc1..=0xc3).contains(&command.p2)
            && command.data().first() == Some(&1)
        {
            return Some(status(0x6a80));
        }
        let algorithm_information = ins == 0xca && command.p1 == 0 && command.p2 == 0xfa;
        let mut whole;
        let command = if self.chained.is_empty() {
            command
        } else {
            // The last link's header with all links' data, as one extended command.
            self.chained.extend_from_slice(command.data());
            let data = std::mem::take(&mut self.chained);
            whole = Vec::with_capacity(data.len() + 9);
            whole.extend_from_slice(&[apdu[0] & !0x10, ins, command.p1, command.p2, 0]);
            whole.extend_from_slice(&u16::try_from(data.len()).unwrap_or(u16::MAX).to_be_bytes());
            whole.extend_from_slice(&data);
            whole.extend_from_slice(&[0, 0]);
            match iso7816::command::CommandView::try_from(whole.as_slice()) {
                Ok(command) => command,
                Err(_) => return Some(status(0x6700)),
            }
        };
        let mut reply: heapless::Vec<u8, MAX_APDU> = heapless::Vec::new();
        let result = self.card.handle(command, reply.as_mut_view());
        let sw = match result {
            Ok(()) => 0x9000,
            Err(status) => u16::from(status),
        };
        if sw != 0x9000 {
            return Some(status(sw));
        }
        if self.no_rsa && algorithm_information {
            let filtered = without_rsa(&reply);
            reply.clear();
            let _ = reply.extend_from_slice(&filtered);
        }
        // Extended Le: everything at once. Short Le: 256-byte pieces.
        if command.extended || reply.len() <= 256 {
            let mut out = reply.to_vec();
            out.extend_from_slice(&[0x90, 0x00]);
            return Some(out);
        }
        self.pending = reply.to_vec();
        Some(self.next_piece(256))
    }

    fn next_piece(&mut self, le: usize) -> Vec<u8> {
        let n = if le == 0 { 256 } else { le.min(256) }.min(self.pending.len());
        let mut out: Vec<u8> = self.pending.drain(..n).collect();
        match self.pending.len() {
            0 => out.extend_from_slice(&[0x90, 0x00]),
            rest => out.extend_from_slice(&[0x61, u8::try_from(rest).unwrap_or(0)]),
        }
        out
    }
}

/// The algorithm information (DO FA, or its bare list of C1/C2/C3 entries) without its RSA
/// entries (algorithm id 01).
fn without_rsa(reply: &[u8]) -> Vec<u8> {
    let (wrapped, body) = match reply {
        [0xfa, 0x82, _, _, rest @ ..] | [0xfa, 0x81, _, rest @ ..] => (true, rest),
        [0xfa, len, rest @ ..] if *len < 0x80 => (true, rest),
        _ => (false, reply),
    };
    let mut kept = Vec::new();
    let mut i = 0;
    while i + 2 <= body.len() {
        let len = usize::from(body[i + 1]);
        let end = (i + 2 + len).min(body.len());
        if body.get(i + 2) != Some(&1) {
            kept.extend_from_slice(&body[i..end]);
        }
        i = end;
    }
    if !wrapped {
        return kept;
    }
    let mut out = vec![0xfa];
    match kept.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend_from_slice(&[0x81, n as u8]),
        n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(&kept);
    out
}

fn status(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}

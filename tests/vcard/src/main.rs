//! A virtual OpenPGP card for symbolon's tests and demo.
//!
//! Runs Nitrokey's `opcard` (the OpenPGP card application of the Nitrokey 3) on trussed's software
//! platform and attaches it to pcscd through vsmartcard's `vpcd` reader driver, which listens on a
//! TCP port of 127.0.0.1: this program connects to that port and answers the APDUs pcscd forwards.
//! To PC/SC clients (symbolon, gpg's scdaemon, opensc) it is an inserted OpenPGP card. Killing the
//! process is pulling the card out of the reader.
//!
//! Usage: `symbolon-vcard [--port PORT] [--serial HEX8] [--state DIR] [--vanish-on-decipher] [--trace-apdus] [--no-openpgp] [--no-rsa]`
//!
//! - `--port`: vpcd's port (35963 is the first reader of the first vpcd config entry).
//! - `--serial`: the card's serial number (8 hex digits); cards in one test must differ.
//! - `--state`: keep the card's flash (keys, PINs, retry counters) in files in DIR, created on
//!   first use, so that the same card can be pulled out and inserted again, in another reader or
//!   another pcscd. Without it the card lives in memory and is new at every start.
//! - `--vanish-on-decipher`: fault injection for tests. The card disappears (closes its connection
//!   without answering) when it is asked to decrypt, as if pulled out mid-operation.
//! - `--trace-apdus`: write each command APDU's header to standard error (to count APDUs).
//! - `--no-openpgp`: be a card without the OpenPGP application (every command: 6A82).
//! - `--no-rsa`: be a card without RSA (its algorithm information lists none; setting an RSA
//!   algorithm: 6A80).
//!
//! Unlike `trussed::virt`, whose random generator has a constant seed (so two fresh cards make
//! identical keys), every card here draws its own seed from the operating system.

mod dispatch;
mod vpcd;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng as _;
use std::io::Read as _;
use std::process::ExitCode;
use trussed::backend::BackendId;
use trussed::pipe::TrussedChannel;
use trussed::virt::{Runner, StorageConfig, StoreConfig, UserInterface};

struct Args {
    port: u16,
    serial: [u8; 4],
    vanish_on_decipher: bool,
    no_openpgp: bool,
    no_rsa: bool,
    trace: bool,
    state: Option<std::path::PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 35963,
        serial: [0x5a, 0x00, 0x00, 0x01],
        vanish_on_decipher: false,
        no_openpgp: false,
        no_rsa: false,
        trace: false,
        state: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => {
                let v = it.next().ok_or("--port needs a value")?;
                args.port = v.parse().map_err(|_| format!("--port {v}: not a port number"))?;
            }
            "--serial" => {
                let v = it.next().ok_or("--serial needs a value")?;
                let n = u32::from_str_radix(&v, 16).map_err(|_| format!("--serial {v}: not 8 hex digits"))?;
                if v.len() != 8 {
                    return Err(format!("--serial {v}: not 8 hex digits"));
                }
                args.serial = n.to_be_bytes();
            }
            "--state" => args.state = Some(it.next().ok_or("--state needs a directory")?.into()),
            "--vanish-on-decipher" => args.vanish_on_decipher = true,
            "--trace-apdus" => args.trace = true,
            "--no-openpgp" => args.no_openpgp = true,
            "--no-rsa" => args.no_rsa = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// trussed's software platform, with a random generator seeded from the operating system.
struct Platform<'a> {
    rng: ChaCha8Rng,
    store: trussed::virt::Store<'a>,
    ui: UserInterface,
}

impl<'a> trussed::Platform for Platform<'a> {
    type R = ChaCha8Rng;
    type S = trussed::virt::Store<'a>;
    type UI = UserInterface;

    fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }
    fn store(&self) -> Self::S {
        self.store
    }
    fn user_interface(&mut self) -> &mut UserInterface {
        &mut self.ui
    }
}

fn os_seed() -> std::io::Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut seed)?;
    Ok(seed)
}

const BACKENDS: &[BackendId<dispatch::Backend>] = &[
    BackendId::Custom(dispatch::Backend::Auth),
    BackendId::Custom(dispatch::Backend::Staging),
    BackendId::Custom(dispatch::Backend::Rsa),
    BackendId::Core,
];

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("symbolon-vcard: {e}");
            return ExitCode::from(2);
        }
    };
    let seed = match os_seed() {
        Ok(seed) => seed,
        Err(e) => {
            eprintln!("symbolon-vcard: cannot read /dev/urandom: {e}");
            return ExitCode::FAILURE;
        }
    };
    let conn = match vpcd::Connection::connect(args.port) {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!(
                "symbolon-vcard: cannot reach vpcd on 127.0.0.1:{}: {e} (is pcscd running with vpcd?)",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let mut store = match &args.state {
        None => StoreConfig::ram(),
        Some(dir) => {
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!("symbolon-vcard: cannot create the state directory {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
            StoreConfig {
                internal: StorageConfig::filesystem(dir.join("internal")),
                external: StorageConfig::filesystem(dir.join("external")),
                volatile: StorageConfig::ram(),
            }
        }
    };
    let result = store.with_store(|store| {
        let platform = Platform { rng: ChaCha8Rng::from_seed(seed), store, ui: UserInterface::new() };
        let channel = TrussedChannel::new();
        let (requester, responder) = channel.split().expect("a fresh channel splits");
        let mut runner = Runner::new();
        runner.add_endpoint(responder, "opcard", BACKENDS);
        let client: trussed::virt::Client<dispatch::Dispatch> =
            trussed::virt::Client::new(requester, runner.syscall(), None);
        runner.run(platform, dispatch::Dispatch::default(), || {
            let mut options = opcard::Options::default();
            options.serial = args.serial;
            let card = opcard::Card::new(client, options);
            let mut card = vpcd::Card::new(card, args.vanish_on_decipher, args.no_openpgp, args.no_rsa);
            conn.serve(&mut card, args.trace)
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("symbolon-vcard: {e}");
            ExitCode::FAILURE
        }
    }
}

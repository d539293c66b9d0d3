#![allow(dead_code)]
//! Virtual OpenPGP cards for the tests: Nitrokey's opcard (the `symbolon-vcard` test crate) in
//! vpcd readers of a pcscd that `scripts/test` starts, and stops by PID, before and after the
//! suite. A card is inserted by starting its process and removed by killing it.
//!
//! Card tests take [`exclusive`] for their whole run: every test sees every inserted card, so
//! they must not overlap.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use openpgp_card::ocard::KeyType;
use openpgp_card::ocard::algorithm::AlgoSimple;
use openpgp_card::ocard::crypto::PublicKeyMaterial;
use openpgp_card::ocard::data::{Fingerprint, KeyGenerationTime};
use sequoia_openpgp::packet::key::{Key4, PublicParts, UnspecifiedRole};
use sequoia_openpgp::types::{HashAlgorithm, SymmetricAlgorithm};

/// opcard's factory PINs.
pub const USER_PIN: &str = "123456";
pub const ADMIN_PIN: &str = "12345678";

/// The pinentry that answers the card PINs (`tests/support/pinentry-card`).
pub fn pinentry() -> String {
    format!("{}/tests/support/pinentry-card", env!("CARGO_MANIFEST_DIR"))
}

static LOCK: Mutex<()> = Mutex::new(());
static NEXT: AtomicU32 = AtomicU32::new(1);

/// Serializes the card tests of one test binary.
pub fn exclusive() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn env_or_panic(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: the card tests need pcscd with virtual readers and the virtual card; \
             run them through ./scripts/test, which starts (and stops) both"
        )
    })
}

/// The vpcd readers: (port, PC/SC reader name).
pub fn readers() -> Vec<(u16, String)> {
    let base: u16 = env_or_panic("SYMBOLON_VPCD_BASE").parse().unwrap();
    let count: u16 = env_or_panic("SYMBOLON_VPCD_COUNT").parse().unwrap();
    (0..count).map(|i| (base + i, format!("Symbolon Virtual PCD {} 00 {:02}", i / 2, i % 2))).collect()
}

fn vcard_bin() -> PathBuf {
    let path = PathBuf::from(env_or_panic("SYMBOLON_VCARD"));
    assert!(path.exists(), "the virtual card binary {} does not exist", path.display());
    path
}

/// Whether pcscd's own reader state says a card is present (`Some(true)`), the reader is empty
/// (`Some(false)`), or neither yet. A failed connect is not enough to know a card is gone: pcscd
/// notices a removal only at its next poll, and a card inserted before that is never seen.
fn card_state(reader: &str) -> Option<bool> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap_or_else(|e| panic!("PC/SC: {e}"));
    let name = std::ffi::CString::new(reader).ok()?;
    let mut states = [pcsc::ReaderState::new(name.clone(), pcsc::State::UNAWARE)];
    ctx.get_status_change(Duration::ZERO, &mut states).ok()?;
    let state = states[0].event_state();
    if std::env::var_os("CARDS_DEBUG").is_some() {
        eprintln!("{:?} {reader}: {state:?}", std::time::SystemTime::now());
    }
    if state.contains(pcsc::State::EMPTY) {
        return Some(false);
    }
    if state.contains(pcsc::State::PRESENT) && !state.contains(pcsc::State::MUTE) {
        // Present and answering: a connect succeeds.
        return ctx.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY).is_ok().then_some(true);
    }
    None
}

fn card_present(reader: &str) -> bool {
    card_state(reader) == Some(true)
}

fn wait_for(reader: &str, present: bool) {
    let start = Instant::now();
    while card_state(reader) != Some(present) {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the card in {reader} did not {}",
            if present { "appear" } else { "go away" }
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A card serial unique in this test run: process id and a counter.
pub fn new_serial() -> u32 {
    0x5000_0000 | ((std::process::id() & 0xfff) << 16) | NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Algorithms for keys generated on a card.
#[derive(Clone, Copy, Debug)]
pub enum Algo {
    Cv25519,
    Rsa2048,
}

/// An inserted virtual card. Dropping it pulls it out.
pub struct VirtualCard {
    child: Option<Child>,
    pub reader: String,
    /// `0000:SSSSSSSS`, as `card list` shows it.
    pub ident: String,
}

impl VirtualCard {
    /// Inserts a fresh card (factory state: no keys, PINs 123456 / 12345678) into reader `slot`.
    pub fn insert(slot: usize, extra: &[&str]) -> VirtualCard {
        Self::start(slot, new_serial(), extra)
    }

    /// Inserts the card `serial` whose flash (keys, PINs, retry counters) is kept in `state`:
    /// the same card, pulled out and inserted again, in this reader or another.
    pub fn insert_kept(slot: usize, serial: u32, state: &std::path::Path) -> VirtualCard {
        Self::start(slot, serial, &["--state", state.to_str().expect("a UTF-8 state path")])
    }

    fn start(slot: usize, serial: u32, extra: &[&str]) -> VirtualCard {
        let (port, reader) = readers().into_iter().nth(slot).expect("enough virtual readers");
        assert!(!card_present(&reader), "reader {reader} is not empty");
        let child = Command::new(vcard_bin())
            .args(["--port", &port.to_string(), "--serial", &format!("{serial:08x}")])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("the virtual card starts");
        // Built before waiting, so that a card that does not appear is still killed on drop.
        let card = VirtualCard { child: Some(child), reader, ident: format!("0000:{serial:08X}") };
        wait_for(&card.reader, true);
        card
    }

    /// Pulls the card out (kills its process) and waits until pcscd sees the reader empty.
    pub fn remove(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            wait_for(&self.reader, false);
            // vpcd's driver takes a moment to close the old connection and listen again; a card
            // connecting in that window is never seen.
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Generates signing and decryption keys ON the card, through openpgp-card (admin PIN), as a
    /// card tool would. Returns the decryption key's fingerprint.
    pub fn generate(&self, algo: Algo) -> String {
        let simple = match algo {
            Algo::Cv25519 => AlgoSimple::Curve25519,
            Algo::Rsa2048 => AlgoSimple::RSA2k,
        };
        self.as_admin(|admin| {
            for kt in [KeyType::Signing, KeyType::Decryption] {
                admin.set_algorithm(kt, simple).unwrap();
                admin.generate_key(fingerprint_of, kt).unwrap();
            }
            let tx = admin.as_transaction();
            tx.invalidate_cache().unwrap();
            tx.fingerprint(KeyType::Decryption).unwrap().unwrap().to_hex().to_ascii_uppercase()
        })
    }

    /// Sets the decryption key's touch policy to "on" (admin PIN).
    pub fn require_touch(&self) {
        self.as_admin(|admin| {
            admin.set_touch_policy(KeyType::Decryption, openpgp_card::ocard::data::TouchPolicy::On).unwrap();
        });
    }

    /// Runs `f` on this card with the admin PIN verified, in one transaction.
    fn as_admin<R>(&self, f: impl FnOnce(&mut openpgp_card::Card<openpgp_card::state::Admin<'_, '_>>) -> R) -> R {
        let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
        let name = std::ffi::CString::new(self.reader.clone()).unwrap();
        let backend = card_backend_pcsc::PcscBackend::from_pcsc_reader(&ctx, &name, None).unwrap();
        let mut card = openpgp_card::Card::<openpgp_card::state::Open>::new(backend).unwrap();
        let mut tx = card.transaction().unwrap();
        tx.verify_admin_pin(ADMIN_PIN.to_string().into()).unwrap();
        let mut admin = tx.as_admin_card(None::<secrecy::SecretString>).unwrap();
        f(&mut admin)
    }

    /// Generates keys ON the card with gpg's `--card-edit` (driven through --command-fd; PINs by
    /// the test pinentry), in `home` (a fresh GnuPG home that is set up for this card's reader).
    /// Returns gpg's armored export of the new certificate.
    pub fn gpg_generate(&self, gpg: &crate::gpg::Gpg, algo: Algo, name: &str, email: &str) -> Vec<u8> {
        gpg_use_card(&gpg.home, &self.reader);
        let mut script = String::from("admin\n");
        if let Algo::Cv25519 = algo {
            // key-attr: ECC, Curve 25519, for each of the three keys.
            script.push_str("key-attr\n2\n1\n2\n1\n2\n1\n");
        }
        script.push_str(&format!("generate\nn\n0\n{name}\n{email}\n\nO\nquit\n"));
        let mut child = Command::new("gpg")
            .arg("--homedir")
            .arg(&gpg.home)
            .args(["--no-tty", "--command-fd", "0", "--status-fd", "2", "--card-edit"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let status = String::from_utf8_lossy(&out.stderr);
        assert!(status.contains("KEY_CREATED"), "gpg did not generate keys on {}:\n{status}", self.reader);
        gpg.ok(&["--armor", "--export", email], None)
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Sets up a GnuPG home to use a card in `reader` through pcscd, shared with other PC/SC clients,
/// with the test pinentry answering PINs.
pub fn gpg_use_card(home: &std::path::Path, reader: &str) {
    std::fs::write(home.join("scdaemon.conf"), format!("disable-ccid\npcsc-shared\nreader-port {reader}\n")).unwrap();
    std::fs::write(home.join("gpg-agent.conf"), format!("pinentry-program {}\n", pinentry())).unwrap();
    let _ = Command::new("gpgconf").arg("--homedir").arg(home).args(["--kill", "all"]).output();
}

/// OpenPGP v4 fingerprints of keys generated on a card: Ed25519/RSA signing keys, and Curve25519
/// (KDF SHA-256/AES-128, as `card cert` and gpg choose)/RSA decryption keys.
fn fingerprint_of(
    material: &PublicKeyMaterial,
    time: KeyGenerationTime,
    kt: KeyType,
) -> Result<Fingerprint, openpgp_card::Error> {
    let ctime = std::time::UNIX_EPOCH + Duration::from_secs(u64::from(time.get()));
    let key: Key4<PublicParts, UnspecifiedRole> = match material {
        PublicKeyMaterial::R(rsa) => Key4::import_public_rsa(rsa.v(), rsa.n(), ctime),
        PublicKeyMaterial::E(ecc) if kt == KeyType::Decryption => {
            Key4::import_public_cv25519(ecc.data(), HashAlgorithm::SHA256, SymmetricAlgorithm::AES128, ctime)
        }
        PublicKeyMaterial::E(ecc) => Key4::import_public_ed25519(ecc.data(), ctime),
    }
    .map_err(|e| openpgp_card::Error::InternalError(e.to_string()))?;
    let bytes: [u8; 20] = key.fingerprint().as_bytes().try_into().unwrap();
    Ok(Fingerprint::from(bytes))
}

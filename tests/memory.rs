//! No secret left in memory (in the style of sequoia-openpgp's secret-leak detector).
//!
//! This process splits and recovers a known secret through the library's real paths — split,
//! the share's binary and text forms, checked lines, QR payloads, a QR image drawn and read back,
//! OpenPGP encryption to a software key and decryption with it, recognition of what was given,
//! combine, Vault's hex and base64 forms — drops everything, then reads its whole address space
//! (every readable mapping in /proc/self/maps, through /proc/self/mem) and looks for the secret
//! (raw, hex, base64) and for each share's bytes. Any hit fails, with its mapping, address,
//! whether a live allocation holds it (and its size) or it lies in freed memory, and the bytes
//! around it.
//!
//! The needles are kept XOR-masked, so that the scan does not find its own copy of them; the
//! process uses the binary's global allocator ([`symbolon::wipe::WipeOnFree`]). A harness of its
//! own (`harness = false`): no test threads run beside the scan.

use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use symbolon::candidate::Candidate;
use symbolon::secret::SecretBytes;
use symbolon::share::{Label, Target};
use symbolon::split::{SplitPlan, split_secret};

/// The binary's allocator, wrapped to record live allocations for the report.
struct Tracking;

const SLOTS: usize = 1 << 16;
static LIVE_PTR: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static LIVE_LEN: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static TRACKING: AtomicBool = AtomicBool::new(false);

fn slot_of(ptr: usize) -> usize {
    (ptr >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) % SLOTS
}

fn track(ptr: usize, len: usize) {
    let mut s = slot_of(ptr);
    for _ in 0..SLOTS {
        if LIVE_PTR[s].compare_exchange(0, ptr, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            LIVE_LEN[s].store(len, Ordering::Release);
            return;
        }
        s = (s + 1) % SLOTS;
    }
}

fn untrack(ptr: usize) {
    let mut s = slot_of(ptr);
    for _ in 0..SLOTS {
        if LIVE_PTR[s].load(Ordering::Acquire) == ptr {
            LIVE_LEN[s].store(0, Ordering::Release);
            LIVE_PTR[s].store(usize::MAX, Ordering::Release);
            return;
        }
        if LIVE_PTR[s].load(Ordering::Acquire) == 0 {
            return;
        }
        s = (s + 1) % SLOTS;
    }
}

/// The live allocation holding `addr`, if one is recorded: (start, length).
fn live_at(addr: usize) -> Option<(usize, usize)> {
    (0..SLOTS).find_map(|s| {
        let (p, l) = (LIVE_PTR[s].load(Ordering::Acquire), LIVE_LEN[s].load(Ordering::Acquire));
        (p != 0 && p != usize::MAX && l > 0 && (p..p + l).contains(&addr)).then_some((p, l))
    })
}

unsafe impl std::alloc::GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { symbolon::wipe::WipeOnFree.alloc(layout) };
        if TRACKING.load(Ordering::Relaxed) && !p.is_null() {
            track(p as usize, layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        untrack(ptr as usize);
        unsafe { symbolon::wipe::WipeOnFree.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { symbolon::wipe::WipeOnFree.alloc_zeroed(layout) };
        if TRACKING.load(Ordering::Relaxed) && !p.is_null() {
            track(p as usize, layout.size());
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        untrack(ptr as usize);
        let p = unsafe { symbolon::wipe::WipeOnFree.realloc(ptr, layout, new_size) };
        if TRACKING.load(Ordering::Relaxed) && !p.is_null() {
            track(p as usize, new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// Masks every needle byte: the scan compares against masked copies only.
const MASK: u8 = 0xA5;

struct Needle {
    what: String,
    masked: Vec<u8>,
}

impl Needle {
    fn of(what: impl Into<String>, plain: &[u8]) -> Needle {
        Needle { what: what.into(), masked: plain.iter().map(|b| b ^ MASK).collect() }
    }
    /// Built from an encoding computed one character at a time, never whole in the clear.
    fn encoded(what: impl Into<String>, chars: impl Iterator<Item = u8>) -> Needle {
        Needle { what: what.into(), masked: chars.map(|b| b ^ MASK).collect() }
    }
    fn at(&self, hay: &[u8], i: usize) -> bool {
        hay.len() - i >= self.masked.len() && self.masked.iter().zip(&hay[i..]).all(|(m, h)| m ^ MASK == *h)
    }
}

fn hex_chars(bytes: &[u8]) -> impl Iterator<Item = u8> + '_ {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
}

/// Standard base64 of the first whole groups of three bytes (no padding needed).
fn base64_chars(bytes: &[u8]) -> impl Iterator<Item = u8> + '_ {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    bytes.chunks_exact(3).flat_map(|c| {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        [18, 12, 6, 0].map(|s| A[((n >> s) & 63) as usize])
    })
}

/// The secret: 32 bytes made from a seed, written straight into a secret buffer.
fn the_secret(seed: u64) -> SecretBytes {
    let mut s = SecretBytes::zeroed(32);
    let mut x = seed;
    for b in s.expose_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = (x >> 32) as u8;
    }
    s
}

/// Everything the library does with a secret, on real paths; returns the needles (masked) and
/// drops the rest.
fn ceremony(secret: &SecretBytes) -> Vec<Needle> {
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::serialize::SerializeInto;
    use symbolon::openpgp::Custodian;
    use symbolon::openpgp::decrypt::SecretKeys;
    use symbolon::openpgp::encrypt::{Output, encrypt};

    let mut needles = vec![
        Needle::of("the secret", secret.expose()),
        Needle::encoded("the secret in hex", hex_chars(secret.expose())),
        Needle::encoded("the secret in base64", base64_chars(secret.expose())),
    ];
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    for scheme in [symbolon::shamir::Scheme::Native, symbolon::shamir::Scheme::Vault] {
        let plan = SplitPlan {
            scheme,
            threshold: 2,
            shares: 3,
            target: Target::Unseal,
            label: Label::new("memory test").expect("a plain label"),
            created: Some(1_795_635_853),
        };
        let set = split_secret(secret, &plan, &mut rng).expect("the plan splits");
        for share in &set.shares {
            // The y bytes alone: a share's part that is secret.
            let y = share.point().expect("a share's point").y;
            needles.push(Needle::of(format!("share {} ({scheme:?}), its y bytes", share.index), y.expose()));
        }
        let mut candidates: Vec<Candidate> = Vec::new();
        // Share 1: text form, pasted.
        let text = set.shares[0].to_text();
        candidates.extend(symbolon::input::parse("share 1", &text).expect("a share's text parses").candidates);
        // Share 2: binary form, through QR payloads and a QR image drawn and read back.
        let bytes = set.shares[1].to_bytes();
        let payloads = symbolon::qr::payloads(bytes.expose());
        let code = symbolon::qr::code(&payloads[0]).expect("a QR code");
        let png = symbolon::qr::to_png(&code, 4).expect("a PNG");
        let read = symbolon::qr::read_image("share 2", &png).expect("the QR code reads back");
        let file = symbolon::qr::assemble(&read).expect("the payloads assemble");
        candidates.extend(symbolon::input::parse_bytes("share 2", &file).expect("a binary share").candidates);
        // Shares 1 and 3: encrypted to a software key, decrypted with it in a recovery.
        let (cert, _) = CertBuilder::general_purpose(Some("carol <carol@example.org>"))
            .set_cipher_suite(CipherSuite::Cv25519)
            .generate()
            .expect("a key");
        let key = cert.as_tsk().to_vec().expect("the key serializes");
        let carol = Custodian::new("carol", vec![("carol.asc".into(), cert)]).expect("a custodian");
        let mut keys = SecretKeys::default();
        keys.add("carol.key", &key).expect("the key file reads");
        let parsed = [0, 2]
            .map(|i| {
                let message = encrypt(&carol, set.shares[i].to_text().as_bytes(), Output::Armored).expect("encrypted");
                symbolon::input::parse_bytes(&format!("share {}", i + 1), &message).expect("a message")
            })
            .into_iter()
            .collect();
        let session = symbolon::recovery::prepare(symbolon::recovery::Inputs::new(parsed).expect("inputs"), None, None)
            .expect("a session");
        let mut prompt = symbolon::prompt::Scripted::new(Vec::<&str>::new());
        let opened = session.recover(&mut keys, &Default::default(), &mut prompt).expect("both shares decrypt");
        assert_eq!(opened.secret.expose(), secret.expose(), "recovered from the decrypted shares");
        let recovered = symbolon::combine::combine(candidates, &Default::default()).expect("two shares combine");
        assert_eq!(recovered.secret.expose(), secret.expose());
        // Vault's forms of a key, written and read back.
        let hex = symbolon::vault_keys::hex_line(set.shares[0].payload.expose());
        let b64 = symbolon::vault_keys::base64_line(set.shares[1].payload.expose());
        let keys = symbolon::vault_keys::parse_lines(&format!("{}{}", hex.as_str(), b64.as_str())).expect("keys");
        assert_eq!(keys.keys.len(), 2);
        // Checked lines of the secret, as an operator would read them aloud.
        let lines = symbolon::checked_lines::encode(secret.expose());
        let back = symbolon::checked_lines::decode(lines.lines()).expect("lines decode");
        assert_eq!(back.as_slice(), secret.expose());
    }
    needles
}

struct Hit {
    needle: usize,
    addr: usize,
    mapping: String,
    context: Vec<u8>,
}

/// Every readable mapping: (start, end, description).
fn mappings() -> Vec<(usize, usize, String)> {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps is readable");
    maps.lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let (range, perms) = (f.next()?, f.next()?);
            let path = f.nth(3).unwrap_or("[anonymous]").to_string();
            let (a, b) = range.split_once('-')?;
            let (a, b) = (usize::from_str_radix(a, 16).ok()?, usize::from_str_radix(b, 16).ok()?);
            // [vvar] and [vsyscall] cannot be read through /proc/self/mem.
            (perms.starts_with('r') && path != "[vvar]" && path != "[vsyscall]").then_some((a, b, path))
        })
        .collect()
}

fn scan(needles: &[Needle]) -> (Vec<Hit>, usize) {
    let longest = needles.iter().map(|n| n.masked.len()).max().unwrap_or(0);
    let mut mem = std::fs::File::open("/proc/self/mem").expect("/proc/self/mem opens");
    const CHUNK: usize = 1 << 20;
    // Allocated once; hits inside it are the scan's own reading, ignored (and it is wiped after
    // each chunk).
    let mut buf = vec![0u8; CHUNK + longest];
    let own = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let mut hits = Vec::new();
    let mut scanned = 0;
    for (start, end, path) in mappings() {
        let mut at = start;
        while at < end {
            let len = (end - at).min(CHUNK + longest);
            if mem.seek(SeekFrom::Start(at as u64)).is_err() {
                break;
            }
            let got = match mem.read(&mut buf[..len]) {
                Ok(n) if n > 0 => n,
                _ => break,
            };
            scanned += got;
            let hay = &buf[..got];
            for i in 0..got {
                for (n, needle) in needles.iter().enumerate() {
                    if needle.at(hay, i) && !own.contains(&(at + i)) {
                        let from = i.saturating_sub(16);
                        let context = hay[from..(i + needle.masked.len() + 16).min(got)].to_vec();
                        hits.push(Hit { needle: n, addr: at + i, mapping: path.clone(), context });
                    }
                }
            }
            buf.iter_mut().for_each(|b| *b = 0);
            if got <= CHUNK {
                at += got;
            } else {
                at += CHUNK;
            }
        }
    }
    std::hint::black_box(&mut buf);
    (hits, scanned)
}

fn main() {
    // `cargo test` passes the harness's options (such as --nocapture); none applies here.
    TRACKING.store(true, Ordering::Relaxed);
    let secret = the_secret(0x5eed_0f5e_c2e7);
    let needles = std::thread::scope(|s| {
        // The ceremony on a thread of its own, as the CLI's work is; its stack is a mapping
        // that the scan reads too.
        s.spawn(|| ceremony(&secret)).join().expect("the ceremony ran")
    });
    // The needles must see real copies: the secret itself is still live here, and found.
    // (The hits' context holds the secret: they are dropped, and wiped, at once.)
    let found_live = !scan(&needles[..1]).0.is_empty();
    assert!(found_live, "the scan does not find the live secret: it cannot find a leak either");
    drop(secret);
    let (hits, scanned) = scan(&needles);
    println!("memory: scanned {} MiB of this process for {} needles", scanned >> 20, needles.len());
    if hits.is_empty() {
        println!("memory: no copy of the secret or of a share was left after everything was dropped");
        return;
    }
    for h in &hits {
        let place = match live_at(h.addr) {
            Some((p, l)) => format!("in a live allocation of {l} bytes at {p:#x} (+{})", h.addr - p),
            None => "not in a live allocation (freed memory, a stack or a static)".to_string(),
        };
        eprintln!(
            "LEAK: {} at {:#x} in {}, {place}\n  bytes around it: {}",
            needles[h.needle].what,
            h.addr,
            h.mapping,
            hex::encode(&h.context)
        );
    }
    eprintln!("memory: {} copies of secret material were left in memory after everything was dropped", hits.len());
    std::process::exit(1);
}

//! No secret left in memory (in the style of sequoia-openpgp's secret-leak detector).
//!
//! This process splits and recovers a known secret through the library's real paths — split,
//! the share's binary and text forms, checked lines, QR payloads, a QR image drawn and read back,
//! OpenPGP encryption to a software key and decryption with it, recognition of what was given,
//! combine, Vault's hex and base64 forms — drops everything, then reads its whole address space
//! (every readable mapping in /proc/self/maps, through /proc/self/mem) and looks for the secret
//! (raw, hex, base64, checked lines) and for each share (y bytes, text line, Vault's key lines,
//! QR payload). Any hit fails, with its mapping, address, whether a live allocation holds it (and
//! its size) or it lies in freed memory, and the bytes around it; so does a part of a mapping
//! that cannot be read.
//!
//! The needles are taken from the real outputs and kept XOR-masked, so that the scan does not
//! find its own copy of them; while the outputs are alive, every needle must be found. The
//! process uses the binary's global allocator ([`symbolon::wipe::WipeOnFree`]). A harness of its
//! own (`harness = false`): no test threads run beside the scan.

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

/// Allocations the table had no room for: then "not in a live allocation" cannot be told.
static UNTRACKED: AtomicUsize = AtomicUsize::new(0);
const FREED: usize = usize::MAX;

fn track(ptr: usize, len: usize) {
    let mut s = slot_of(ptr);
    for _ in 0..SLOTS {
        let cur = LIVE_PTR[s].load(Ordering::Acquire);
        // An empty slot or one freed before (its entry gone) takes the new one.
        if (cur == 0 || cur == FREED)
            && LIVE_PTR[s].compare_exchange(cur, ptr, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        {
            LIVE_LEN[s].store(len, Ordering::Release);
            return;
        }
        s = (s + 1) % SLOTS;
    }
    UNTRACKED.fetch_add(1, Ordering::Relaxed);
}

fn untrack(ptr: usize) {
    let mut s = slot_of(ptr);
    for _ in 0..SLOTS {
        match LIVE_PTR[s].load(Ordering::Acquire) {
            p if p == ptr => {
                LIVE_LEN[s].store(0, Ordering::Release);
                LIVE_PTR[s].store(FREED, Ordering::Release);
                return;
            }
            0 => return,
            _ => s = (s + 1) % SLOTS,
        }
    }
}

/// The live allocation holding `addr`, if one is recorded: (start, length).
fn live_at(addr: usize) -> Option<(usize, usize)> {
    (0..SLOTS).find_map(|s| {
        let (p, l) = (LIVE_PTR[s].load(Ordering::Acquire), LIVE_LEN[s].load(Ordering::Acquire));
        (p != 0 && p != FREED && l > 0 && (p..p + l).contains(&addr)).then_some((p, l))
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
    fn at(&self, hay: &[u8], i: usize) -> bool {
        hay[i] == self.masked[0] ^ MASK
            && hay.len() - i >= self.masked.len()
            && self.masked.iter().zip(&hay[i..]).all(|(m, h)| m ^ MASK == *h)
    }
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
/// drops the rest. Each needle is taken from a real output and must be found while that output
/// is alive: a needle the scan cannot find would prove nothing.
fn ceremony(secret: &SecretBytes) -> Vec<Needle> {
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::serialize::SerializeInto;
    use symbolon::openpgp::Custodian;
    use symbolon::openpgp::decrypt::SecretKeys;
    use symbolon::openpgp::encrypt::{Output, encrypt};
    use symbolon::vault_keys::{base64_line, hex_line};

    // The secret as `combine --encoding hex|base64` and Vault print a key, and as checked lines.
    let (secret_hex, secret_b64) = (hex_line(secret.expose()), base64_line(secret.expose()));
    let secret_lines = symbolon::checked_lines::encode(secret.expose());
    let back = symbolon::checked_lines::decode(secret_lines.lines()).expect("lines decode");
    assert_eq!(back.as_slice(), secret.expose());
    let mut needles = vec![
        Needle::of("the secret", secret.expose()),
        Needle::of("the secret in hex", secret_hex.trim().as_bytes()),
        Needle::of("the secret in base64", secret_b64.trim().as_bytes()),
        Needle::of("the secret's first checked line", first_line(&secret_lines).as_bytes()),
    ];
    // What is kept alive until the positive scan below.
    let mut alive: Vec<Box<dyn std::any::Any>> = vec![Box::new((secret_hex, secret_b64, secret_lines, back))];
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
        let texts: Vec<_> = set.shares.iter().map(|s| s.to_text()).collect();
        let vault_lines: Vec<_> =
            set.shares.iter().map(|s| (hex_line(s.payload.expose()), base64_line(s.payload.expose()))).collect();
        for (i, share) in set.shares.iter().enumerate() {
            let tag = format!("share {} ({scheme:?})", share.index);
            let y = share.point().expect("a share's point").y;
            needles.push(Needle::of(format!("{tag}, its y bytes"), y.expose()));
            needles.push(Needle::of(format!("{tag}, its first text line"), first_line(&texts[i]).as_bytes()));
            needles.push(Needle::of(format!("{tag}, as Vault's hex key"), vault_lines[i].0.trim().as_bytes()));
            needles.push(Needle::of(format!("{tag}, as Vault's base64 key"), vault_lines[i].1.trim().as_bytes()));
        }
        let mut candidates: Vec<Candidate> = Vec::new();
        // Share 1: text form, pasted.
        candidates.extend(symbolon::input::parse("share 1", &texts[0]).expect("a share's text parses").candidates);
        // Share 2: binary form, through QR payloads and a QR image drawn and read back.
        let bytes = set.shares[1].to_bytes();
        let payloads = symbolon::qr::payloads(bytes.expose());
        needles.push(Needle::of(format!("share 2 ({scheme:?}), its QR payload"), payloads[0].as_bytes()));
        let code = symbolon::qr::code(&payloads[0]).expect("a QR code");
        let png = symbolon::qr::to_png(&code, 4).expect("a PNG");
        let read = symbolon::qr::read_image("share 2", &png).expect("the QR code reads back");
        let file = symbolon::qr::assemble(&read).expect("the payloads assemble");
        candidates.extend(symbolon::input::parse_bytes("share 2", &file).expect("a binary share").candidates);
        let recovered = symbolon::combine::combine(candidates, &Default::default()).expect("two shares combine");
        assert_eq!(recovered.secret.expose(), secret.expose());
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
                let message = encrypt(&carol, texts[i].as_bytes(), Output::Armored).expect("encrypted");
                symbolon::input::parse_bytes(&format!("share {}", i + 1), &message).expect("a message")
            })
            .into_iter()
            .collect();
        let session = symbolon::recovery::prepare(symbolon::recovery::Inputs::new(parsed).expect("inputs"), None, None)
            .expect("a session");
        let mut prompt = symbolon::prompt::Scripted::new(Vec::<&str>::new());
        let opened = session.recover(&mut keys, &Default::default(), &mut prompt).expect("both shares decrypt");
        assert_eq!(opened.secret.expose(), secret.expose(), "recovered from the decrypted shares");
        // Vault's forms of the keys, read back.
        let keys =
            symbolon::vault_keys::parse_lines(&format!("{}{}", vault_lines[0].0.as_str(), vault_lines[1].1.as_str()))
                .expect("keys");
        assert_eq!(keys.keys.len(), 2);
        alive.push(Box::new((set, texts, vault_lines, payloads, recovered, opened, keys)));
    }
    // The positive control: with every output still alive, every needle is found.
    let (hits, _) = scan(&needles);
    let missing: Vec<&str> = needles
        .iter()
        .enumerate()
        .filter(|(n, _)| !hits.iter().any(|h| h.needle == *n))
        .map(|(_, x)| x.what.as_str())
        .collect();
    drop(hits);
    assert!(
        missing.is_empty(),
        "the scan does not find these live copies, so it could not find them leaked: {missing:?}"
    );
    drop(alive);
    needles
}

/// The first line of `text` that starts with a line number (checked lines).
fn first_line(text: &str) -> String {
    text.lines().find(|l| l.starts_with("01 ")).expect("a checked line numbered 01").to_string()
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
            // The kernel's [vvar*] and [vsyscall] pages cannot be read through /proc/self/mem.
            (perms.starts_with('r') && !path.starts_with("[vvar") && path != "[vsyscall]").then_some((a, b, path))
        })
        .collect()
}

/// What a scan read: bytes read, and the bytes of readable mappings it could not read.
struct Coverage {
    read: usize,
    unread: Vec<(String, usize)>,
}

fn scan(needles: &[Needle]) -> (Vec<Hit>, Coverage) {
    use std::os::unix::fs::FileExt;
    let longest = needles.iter().map(|n| n.masked.len()).max().unwrap_or(1);
    let mem = std::fs::File::open("/proc/self/mem").expect("/proc/self/mem opens");
    const CHUNK: usize = 1 << 20;
    const PAGE: usize = 4096;
    // Allocated once; hits inside it are the scan's own reading, ignored (and it is wiped after
    // each chunk).
    let mut buf = vec![0u8; CHUNK + longest];
    let own = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let mut hits = Vec::new();
    let mut coverage = Coverage { read: 0, unread: Vec::new() };
    for (start, end, path) in mappings() {
        let mut at = start;
        let mut unread = 0;
        while at < end {
            let want = (end - at).min(CHUNK + longest);
            let got = match mem.read_at(&mut buf[..want], at as u64) {
                Ok(n) if n > 0 => n,
                // Unreadable here: skip a page, and count it.
                _ => {
                    let skip = (end - at).min(PAGE);
                    unread += skip;
                    at += skip;
                    continue;
                }
            };
            // Positions whose needle could run past what was read are scanned in the next read,
            // which starts there; at the mapping's end every position is scanned.
            let last = at + got >= end;
            let limit = if last || got < longest { got } else { got - (longest - 1) };
            coverage.read += limit;
            let hay = &buf[..got];
            for i in 0..limit {
                for (n, needle) in needles.iter().enumerate() {
                    if needle.at(hay, i) && !own.contains(&(at + i)) {
                        let from = i.saturating_sub(16);
                        let context = hay[from..(i + needle.masked.len() + 16).min(got)].to_vec();
                        hits.push(Hit { needle: n, addr: at + i, mapping: path.clone(), context });
                    }
                }
            }
            buf.iter_mut().for_each(|b| *b = 0);
            at += limit;
        }
        if unread > 0 {
            coverage.unread.push((format!("{path} at {start:#x}"), unread));
        }
    }
    std::hint::black_box(&mut buf);
    (hits, coverage)
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
    drop(secret);
    let (hits, coverage) = scan(&needles);
    println!(
        "memory: scanned {} MiB of this process (every readable mapping) for {} needles",
        coverage.read >> 20,
        needles.len()
    );
    let mut failed = false;
    if !coverage.unread.is_empty() {
        eprintln!("CANNOT TELL: parts of these mappings could not be read: {:?}", coverage.unread);
        failed = true;
    }
    let untracked = UNTRACKED.load(Ordering::Relaxed);
    for h in &hits {
        let place = match live_at(h.addr) {
            Some((p, l)) => format!("in a live allocation of {l} bytes at {p:#x} (+{})", h.addr - p),
            None if untracked > 0 => {
                format!("in no allocation recorded ({untracked} were not recorded: the table was full)")
            }
            None => "not in a live allocation (freed memory, a stack or a static)".to_string(),
        };
        eprintln!(
            "LEAK: {} at {:#x} in {}, {place}\n  bytes around it: {}",
            needles[h.needle].what,
            h.addr,
            h.mapping,
            hex::encode(&h.context)
        );
        failed = true;
    }
    if failed {
        eprintln!("memory: {} copies of secret material were left in memory after everything was dropped", hits.len());
        std::process::exit(1);
    }
    println!("memory: no copy of the secret or of a share was left after everything was dropped");
}

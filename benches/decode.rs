//! Error-correcting recovery (issue 11's targets): prints figures, asserts only that the secret
//! came back and that every wrong share was named.
//!
//! Library (in memory, CPU time of the process, best of 3):
//! - 32-byte secret, 128-of-255, 63 wrong shares at random places: target under 50 ms of CPU;
//! - 16 MiB secret, 5-of-9, 2 wrong (one wholly random, one with a single flipped byte), next to
//!   a plain combine of 5 good shares: target within 2x.
//!
//! Command line (wall time of `symbolon combine` on share files): the same cases and a 10-of-20
//! set with its wrong share listed first, for format-v1 shares of both schemes and Vault's bare
//! keys. `SYMBOLON_OLD_BIN=/path/to/symbolon` runs an older binary (e.g. the subset search's) on
//! the same files next to it, each run stopped after 120 s.
//!
//! Run: `cargo bench --bench decode`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use symbolon::candidate::{Candidate, Piece};
use symbolon::combine::{self, Context};
use symbolon::secret::SecretBytes;
use symbolon::shamir::Scheme;
use symbolon::share::{Label, Share, Target};
use symbolon::split::{SplitPlan, split_secret};

fn cpu_seconds() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Best of `runs`: (CPU seconds, wall seconds).
fn best_of(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let (mut cpu, mut wall) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..runs {
        let (c, w) = (cpu_seconds(), Instant::now());
        f();
        cpu = cpu.min(cpu_seconds() - c);
        wall = wall.min(w.elapsed().as_secs_f64());
    }
    (cpu, wall)
}

/// A small deterministic generator for the damage (xorshift): not for secrets.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn make_set(scheme: Scheme, secret: &SecretBytes, k: usize, n: usize) -> Vec<Share> {
    let plan = SplitPlan {
        scheme,
        threshold: k,
        shares: n,
        target: Target::Generic,
        label: Label::new("bench").expect("label"),
        created: Some(1_795_635_853),
    };
    split_secret(secret, &plan, &mut symbolon::rng::os_rng().expect("OS RNG")).expect("split").shares
}

/// The y bytes of a share's payload (the x byte is first for native, last for Vault).
fn y_of(share: &mut Share) -> &mut [u8] {
    let scheme = share.set.scheme;
    let p = share.payload.expose_mut();
    let len = p.len();
    match scheme {
        Scheme::Native => &mut p[1..],
        Scheme::Vault => &mut p[..len - 1],
    }
}

/// Damages `count` shares at random places, wholly or in one byte, alternately.
fn damage(shares: &mut [Share], count: usize, noise: &mut Noise) -> Vec<usize> {
    let mut order: Vec<usize> = (0..shares.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, noise.below(i + 1));
    }
    let mut wrong = order[..count].to_vec();
    wrong.sort_unstable();
    for (n, &i) in wrong.iter().enumerate() {
        let y = y_of(&mut shares[i]);
        if n % 2 == 0 {
            y.iter_mut().for_each(|b| *b ^= (noise.next() as u8) | 1);
        } else {
            let at = noise.below(y.len());
            y[at] ^= 0x40;
        }
    }
    wrong
}

fn candidates(shares: &[Share]) -> Vec<Candidate> {
    shares.iter().map(|s| Candidate { origin: format!("share {}", s.index), piece: Piece::Share(s.clone()) }).collect()
}

fn library() {
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    println!(
        "library, best of 3 runs, {} threads available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for scheme in [Scheme::Native, Scheme::Vault] {
        let secret = SecretBytes::copy_from(&[0x5a; 32]);
        let mut shares = make_set(scheme, &secret, 128, 255);
        let wrong = damage(&mut shares, 63, &mut noise);
        let mut named = 0;
        let (cpu, _) = best_of(3, || {
            let r = combine::combine(candidates(&shares), &Context::default()).expect("recovered");
            assert!(r.secret == secret);
            named = r.bad.len();
        });
        assert_eq!(named, wrong.len());
        println!(
            "  {scheme:<6} 32 B, 128-of-255, 63 wrong: recovered, {named} named, {:7.1} ms CPU (target < 50)",
            cpu * 1e3
        );
    }
    for scheme in [Scheme::Native, Scheme::Vault] {
        let mut secret = SecretBytes::zeroed(16 << 20);
        symbolon::rng::fill_from_os(secret.expose_mut()).expect("OS RNG");
        let mut shares = make_set(scheme, &secret, 5, 9);
        let (_, plain) = best_of(3, || {
            let r = combine::combine(candidates(&shares[..5]), &Context::default()).expect("plain");
            assert!(r.secret == secret);
        });
        y_of(&mut shares[0]).iter_mut().for_each(|b| *b ^= (noise.next() as u8) | 1);
        let y = y_of(&mut shares[6]);
        let at = y.len() - 3;
        y[at] ^= 1;
        let (_, decoded) = best_of(3, || {
            let r = combine::combine(candidates(&shares), &Context::default()).expect("decoded");
            assert!(r.secret == secret);
            assert_eq!(r.bad, ["share 1", "share 7"]);
        });
        println!(
            "  {scheme:<6} 16 MiB, 5-of-9, 2 wrong: recovered, both named, {decoded:6.3} s; plain combine of 5 good {plain:6.3} s: {:4.2}x (target < 2x)",
            decoded / plain
        );
    }
}

/// Runs `bin combine` with `args` in `dir`, at most 120 s: wall seconds and the outcome's
/// last stderr line, or None if stopped.
fn run_cli(bin: &Path, dir: &Path, args: &[String]) -> (f64, Option<(bool, String)>) {
    let start = Instant::now();
    let mut child = Command::new(bin)
        .arg("combine")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("symbolon");
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            return (start.elapsed().as_secs_f64(), None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().rfind(|l| l.starts_with("error:")).unwrap_or("").chars().take(110).collect();
    (start.elapsed().as_secs_f64(), Some((out.status.success(), last)))
}

struct Case {
    name: String,
    dir: PathBuf,
    args: Vec<String>,
}

/// Writes `shares` (format v1 text, or Vault's bare hex keys) into a fresh directory, in order.
fn write_case(name: &str, shares: &[Share], bare: bool, extra: &[&str]) -> Case {
    let dir = std::env::temp_dir().join(format!("symbolon-bench-decode-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut args = Vec::new();
    for (i, s) in shares.iter().enumerate() {
        let file = format!("{:03}-{}.{}", i + 1, s.index, if bare { "hex" } else { "txt" });
        if bare {
            std::fs::write(dir.join(&file), hex_line(s.payload.expose())).expect("write");
        } else {
            std::fs::write(dir.join(&file), s.to_text().as_bytes()).expect("write");
        }
        args.push(file);
    }
    args.extend(["--stdout", "--encoding", "hex"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    Case { name: name.into(), dir, args }
}

fn hex_line(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n"
}

fn command_line() {
    let new = PathBuf::from(env!("CARGO_BIN_EXE_symbolon"));
    let old = std::env::var_os("SYMBOLON_OLD_BIN").map(PathBuf::from);
    let mut noise = Noise(0x2545_f491_4f6c_dd1d);
    println!("command line, wall time of one run{}", if old.is_some() { " (old binary next to it)" } else { "" });
    let mut cases = Vec::new();
    for (scheme, bare) in [(Scheme::Native, false), (Scheme::Vault, false), (Scheme::Vault, true)] {
        let kind = if bare { "vault-keys" } else { scheme.name() };
        let secret = SecretBytes::copy_from(&[0x33; 32]);
        // 10-of-20, the wrong share (one byte) listed first.
        let mut shares = make_set(scheme, &secret, 10, 20);
        let at = noise.below(32);
        y_of(&mut shares[0])[at] ^= 0x08;
        let threshold: &[&str] = if bare { &["--threshold", "10"] } else { &[] };
        cases.push(write_case(&format!("{kind}-10-of-20-bad-first"), &shares, bare, threshold));
        // 128-of-255, 63 wrong.
        let mut shares = make_set(scheme, &secret, 128, 255);
        damage(&mut shares, 63, &mut noise);
        let threshold: &[&str] = if bare { &["--threshold", "128"] } else { &[] };
        cases.push(write_case(&format!("{kind}-128-of-255-63-wrong"), &shares, bare, threshold));
        // 16 MiB, 5-of-9: 5 good, then all 9 with 2 wrong.
        let mut big = SecretBytes::zeroed(16 << 20);
        symbolon::rng::fill_from_os(big.expose_mut()).expect("OS RNG");
        let mut shares = make_set(scheme, &big, 5, 9);
        let threshold: &[&str] = if bare { &["--threshold", "5"] } else { &[] };
        cases.push(write_case(&format!("{kind}-16MiB-5-good"), &shares[..5], bare, threshold));
        y_of(&mut shares[0]).iter_mut().for_each(|b| *b ^= (noise.next() as u8) | 1);
        let y = y_of(&mut shares[6]);
        let at = noise.below(y.len());
        y[at] ^= 0x02;
        cases.push(write_case(&format!("{kind}-16MiB-9-with-2-wrong"), &shares, bare, threshold));
    }
    let say = |outcome: &Option<(bool, String)>| match outcome {
        None => "stopped after 120 s".to_string(),
        Some((true, _)) => "recovered".to_string(),
        Some((false, e)) => format!("failed: {e}"),
    };
    for case in &cases {
        let (t, outcome) = run_cli(&new, &case.dir, &case.args);
        assert!(matches!(outcome, Some((true, _))), "{}: {outcome:?}", case.name);
        print!("  {:<34} {t:7.2} s {}", case.name, say(&outcome));
        if let Some(old) = &old {
            let (t, outcome) = run_cli(old, &case.dir, &case.args);
            print!("   | old: {t:7.2} s {}", say(&outcome));
        }
        println!();
        let _ = std::fs::remove_dir_all(&case.dir);
    }
}

fn main() {
    library();
    command_line();
}

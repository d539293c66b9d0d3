//! Split and combine time for a 16 MiB secret, 5-of-9, both schemes (library level, in memory).
//! Prints figures; asserts nothing about time. Run: `cargo bench --bench shamir`.

use std::time::Instant;
use symbolon::secret::SecretBytes;
use symbolon::shamir::{self, Scheme};

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let out = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(out);
    }
    (best, last.expect("runs >= 1"))
}

fn main() {
    let len = 16 << 20;
    let mut secret = SecretBytes::zeroed(len);
    symbolon::rng::fill_from_os(secret.expose_mut()).expect("OS RNG");
    let mut rng = symbolon::rng::os_rng().expect("OS RNG");
    println!(
        "secret: 16 MiB, 5-of-9, best of 3 runs, {} threads available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for scheme in [Scheme::Native, Scheme::Vault] {
        let (split_s, points) = best_of(3, || shamir::split(scheme, secret.expose(), 5, 9, &mut rng).expect("split"));
        let (combine_s, back) = best_of(3, || shamir::combine(scheme, &points[2..7]).expect("combine"));
        assert!(back == secret, "roundtrip");
        println!("symbolon {:<6} split {:>7.3} s   combine {:>7.3} s", scheme.name(), split_s, combine_s);
    }
}

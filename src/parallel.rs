//! Work on many custodians at once (reading and validating certificates, encrypting shares) is
//! spread over the machine's cores, in order.

/// `f(i, &items[i])` for every item, on all cores; results in item order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len()).max(1);
    let chunk = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                scope.spawn(move || part.iter().enumerate().map(|(j, item)| f(c * chunk + j, item)).collect::<Vec<R>>())
            })
            .collect();
        // A worker only panics on a bug; carry the panic on rather than hide it.
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

//! One parallel map for the whole crate, on scoped threads.
//!
//! Used wherever work is spread over the cores: parsing and checking
//! manifests (`validate`), policy evaluation (`policy`), reading blobs
//! (`repo::snapshot`) and reading workloads (`change::inventory`). Results
//! always come back in input order, and a panic in a worker is resumed on
//! the caller's thread. It does not pool threads: each call spawns at most
//! one per core, which costs tens of microseconds, so callers pass a
//! `min_per_thread` below which the work stays on the caller's thread.

use std::num::NonZeroUsize;

/// The number of threads worth running: one per core (as
/// `available_parallelism` reports it, so `taskset` is honoured).
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// `f` over consecutive runs of `items`, one run per thread (at most one per
/// core, each run at least `min_per_thread` items long); the runs' results
/// concatenated in input order. Use it when each run needs state of its own
/// (an engine, a repository handle); see [`map`] otherwise.
pub(crate) fn map_runs<T: Sync, R: Send>(
    items: &[T],
    min_per_thread: usize,
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = threads().min(items.len() / min_per_thread.max(1)).max(1);
    if threads == 1 {
        return f(items);
    }
    let run = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items.chunks(run).map(|c| scope.spawn(move || f(c))).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// `items.iter().map(f)`, spread over the cores with at least
/// `min_per_thread` items each; results in input order.
pub(crate) fn map<T: Sync, R: Send>(
    items: &[T],
    min_per_thread: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    map_runs(items, min_per_thread, |run| run.iter().map(&f).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_input_order_whatever_the_split() {
        let items: Vec<usize> = (0..1000).collect();
        for min in [1, 7, 64, 500, 2000] {
            let out = map(&items, min, |i| i * 2);
            assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>(), "min {min}");
        }
    }

    #[test]
    fn runs_are_consecutive_and_cover_every_item() {
        let items: Vec<usize> = (0..257).collect();
        let runs = map_runs(&items, 1, |run| vec![run.to_vec()]);
        assert!(runs.len() <= threads());
        assert_eq!(runs.concat(), items);
    }

    #[test]
    fn small_inputs_stay_on_the_callers_thread() {
        let caller = std::thread::current().id();
        let items = [1, 2, 3];
        let ids = map(&items, 64, |_| std::thread::current().id());
        assert!(ids.iter().all(|id| *id == caller));
        assert!(map(&[] as &[u8], 1, |b| *b).is_empty());
    }

    #[test]
    #[should_panic(expected = "boom")]
    fn a_worker_panic_reaches_the_caller() {
        let items: Vec<usize> = (0..100).collect();
        map(&items, 1, |&i| if i == 99 { panic!("boom") } else { i });
    }
}

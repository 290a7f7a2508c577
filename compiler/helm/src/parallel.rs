//! Spreading independent pieces of a render (template parsing, template execution, document
//! decoding) over the machine's cores: `kiln helm template` is judged on wall time, and a big
//! chart has hundreds of independent templates and documents.
//!
//! Scoped threads pull items from a shared counter, so uneven items balance out; results come
//! back in input order, whatever order the work happened in.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads worth using: the cores this process may run on.
fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Bytes of template or YAML text worth a second thread: parsing or decoding them takes a few
/// hundred microseconds, several times what starting and joining a thread costs.
pub(crate) const WORTH_A_THREAD: usize = 16 << 10;

/// Whether [`map`] would spread `len` items over more than one thread.
pub(crate) fn is_parallel(len: usize) -> bool {
    threads() > 1 && len > 1
}

/// `items.iter().map(f).collect()`, computed on up to one thread per core.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_when(true, items, f)
}

/// [`map`] when `worth_it`, else on this thread: starting threads (and their allocator arenas)
/// costs more than a small chart's whole render, and on a loaded machine every join waits for
/// a helper thread to be scheduled.
pub(crate) fn map_when<T: Sync, R: Send>(
    worth_it: bool,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = if worth_it {
        threads().min(items.len())
    } else {
        1
    };
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                return done;
            };
            done.push((i, f(item)));
        }
    };
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
        let mut all = work();
        for h in helpers {
            match h.join() {
                Ok(done) => all.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        for (i, r) in all {
            slots[i] = Some(r);
        }
    });
    slots.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_input_order_with_uneven_items() {
        let items: Vec<u64> = (0..200).collect();
        let out = map(&items, |&i| {
            if i % 7 == 0 {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_panic_in_a_worker_reaches_the_caller() {
        let items: Vec<u32> = (0..64).collect();
        let r = std::panic::catch_unwind(|| {
            map(&items, |&i| {
                assert!(i != 63, "boom");
                i
            })
        });
        assert!(r.is_err());
    }
}

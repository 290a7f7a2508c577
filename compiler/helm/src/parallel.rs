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

/// Bytes of template or YAML text worth a second thread: parsing or decoding them takes about a
/// millisecond, several times what starting, scheduling and joining a thread costs on a busy
/// machine (measured: 16 KB made medium charts slower there).
pub(crate) const WORTH_A_THREAD: usize = 64 << 10;

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
    let queue = Queue::new(items, f);
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..workers).map(|_| s.spawn(|| queue.work())).collect();
        let mine = queue.work();
        queue.results(mine, helpers)
    })
}

/// Items that threads take one at a time: a helper can start on them while the caller is busy
/// with something else, and the caller joins in when it is free.
pub(crate) struct Queue<'a, T, F> {
    items: &'a [T],
    next: AtomicUsize,
    f: F,
}

impl<'a, T: Sync, R: Send, F: Fn(&T) -> R + Sync> Queue<'a, T, F> {
    pub(crate) fn new(items: &'a [T], f: F) -> Self {
        Queue {
            items,
            next: AtomicUsize::new(0),
            f,
        }
    }

    /// Takes items until none are left: what this thread did, with the items' indices.
    pub(crate) fn work(&self) -> Vec<(usize, R)> {
        let mut done = Vec::new();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = self.items.get(i) else {
                return done;
            };
            done.push((i, (self.f)(item)));
        }
    }

    /// Leaves the items nobody has taken yet undone.
    pub(crate) fn stop(&self) {
        self.next.store(self.items.len(), Ordering::Relaxed);
    }

    /// The results in input order, from the caller's share and its helpers'; `None` for items
    /// left undone.
    pub(crate) fn partial_results(
        &self,
        mine: Vec<(usize, R)>,
        helpers: Vec<std::thread::ScopedJoinHandle<'_, Vec<(usize, R)>>>,
    ) -> Vec<Option<R>> {
        let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None)
            .take(self.items.len())
            .collect();
        let theirs = helpers.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        for (i, r) in std::iter::once(mine).chain(theirs).flatten() {
            slots[i] = Some(r);
        }
        slots
    }

    /// [`Queue::partial_results`] when every item was done.
    pub(crate) fn results(
        &self,
        mine: Vec<(usize, R)>,
        helpers: Vec<std::thread::ScopedJoinHandle<'_, Vec<(usize, R)>>>,
    ) -> Vec<R> {
        self.partial_results(mine, helpers)
            .into_iter()
            .flatten()
            .collect()
    }
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

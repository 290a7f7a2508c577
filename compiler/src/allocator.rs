//! The process's memory allocator: mimalloc, tuned for a short-lived command.
//!
//! Rendering allocates many small, short-lived objects on two threads. glibc's malloc spent about
//! 150 instructions on each (a sixth of a large chart's render); mimalloc spends a fraction of that.
//! Two settings matter on the machines kiln runs on, where a page fault costs microseconds:
//! - transparent huge pages are off (crate feature `no_thp`): a 2 MiB page is zeroed whole on first
//!   touch, which made small charts, touching a few megabytes in all, slower than with 4 KiB pages;
//! - freed memory is kept, not returned to the system (`purge_delay` = -1): a command lives for
//!   milliseconds, and memory handed back is only faulted in again by the next allocation.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (the Rust bindings do not name it);
/// the test below checks it against the option's documented default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Stops mimalloc from returning freed memory to the system for the rest of the process.
pub fn keep_freed_memory() {
    // SAFETY: sets a plain integer option; mimalloc reads options atomically.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_delay_names_the_option_it_sets() {
        // SAFETY: reads integer options.
        let (delay, os_tag) = unsafe {
            (
                libmimalloc_sys::mi_option_get(PURGE_DELAY),
                libmimalloc_sys::mi_option_get(PURGE_DELAY + 3),
            )
        };
        // Defaults from mimalloc v3 options.c: purge_delay 1000 ms, and os_tag (three places on) 100.
        assert_eq!((delay, os_tag), (1000, 100));
        keep_freed_memory();
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, -1);
    }
}

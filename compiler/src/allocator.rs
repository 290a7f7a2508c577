//! The process's memory allocator: mimalloc, tuned for a short-lived command.
//!
//! Rendering allocates many small, short-lived objects on two threads. glibc's malloc spent about
//! 150 instructions on each (a sixth of a large chart's render); mimalloc spends a fraction of that.
//! On the machines kiln runs on a page fault costs microseconds, so the settings are about pages touched:
//! - transparent huge pages are off (crate feature `no_thp`): a 2 MiB page is zeroed whole on first
//!   touch, which made small charts, touching a few megabytes in all, slower than with 4 KiB pages;
//! - freed memory is kept, not returned to the system (`purge_delay` = -1): a command lives for
//!   milliseconds, and memory handed back is only faulted in again by the next allocation;
//! - the first arena is 64 MiB, not 1 GiB (`arena_reserve`): mimalloc writes an arena's bitmaps when it
//!   reserves it, and those of a 1 GiB arena are 42 pages, touched at every start of every command.
//!   Larger renders get further arenas.
//!
//! The first allocation happens before `main` (the Rust runtime's), so the settings are made by a
//! constructor that runs before any other; as defaults, so `MIMALLOC_*` variables still override them.

use std::ffi::c_long;

use libmimalloc_sys::mi_option_t;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Positions in mimalloc v3's `mi_option_e` (the Rust bindings do not name these options); the
// test below checks them by name against the binary's own report.
const PURGE_DELAY: mi_option_t = 15;
const ARENA_RESERVE: mi_option_t = 23;
const ARENA_RESERVE_KIB: c_long = 64 * 1024;

// Prioritised constructors run before plain ones such as mimalloc's own process start-up, which
// fixes the options it has not been given.
#[cfg_attr(target_os = "linux", unsafe(link_section = ".init_array.00200"))]
#[cfg_attr(
    target_vendor = "apple",
    unsafe(link_section = "__DATA,__mod_init_func")
)]
#[used]
static SET_DEFAULTS: extern "C" fn() = set_defaults;

extern "C" fn set_defaults() {
    // SAFETY: sets plain integer options before any allocation.
    unsafe {
        libmimalloc_sys::mi_option_set_default(PURGE_DELAY, -1);
        libmimalloc_sys::mi_option_set_default(ARENA_RESERVE, ARENA_RESERVE_KIB);
    }
}

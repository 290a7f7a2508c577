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
//!
//! Allocations go to mimalloc's plain entry points unless they need more alignment than every
//! block has: its aligned ones, which the `mimalloc` crate calls for everything, cost about 60
//! instructions a call instead of about 25, and a large chart makes ~145,000 calls.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::{c_long, c_void};

use libmimalloc_sys as mi;
use libmimalloc_sys::mi_option_t;

#[global_allocator]
static ALLOCATOR: Mimalloc = Mimalloc;

/// Every mimalloc block of 16 bytes or more is 16-byte aligned, smaller ones 8-byte aligned
/// (`MI_MAX_ALIGN_SIZE`); a Rust layout's size is a multiple of its alignment.
const PLAIN_ALIGN: usize = 16;

fn plain(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

struct Mimalloc;

// SAFETY: each method hands the layout's size and alignment to the matching mimalloc function,
// which returns memory of that size and alignment, or null; plain ones only where every block is
// aligned enough (see `plain`).
unsafe impl GlobalAlloc for Mimalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        unsafe {
            if plain(align, size) {
                mi::mi_malloc(size).cast()
            } else {
                mi::mi_malloc_aligned(size, align).cast()
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        unsafe {
            if plain(align, size) {
                mi::mi_zalloc(size).cast()
            } else {
                mi::mi_zalloc_aligned(size, align).cast()
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        unsafe {
            if plain(align, new_size) {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, align).cast()
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_gets_its_alignment_zeroes_and_contents() {
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 3, 8, 12, 16, 24, 48, 100, 1000, 5000, 70_000] {
                let Ok(layout) = Layout::from_size_align(size.max(align), align) else {
                    continue;
                };
                // SAFETY: non-zero sizes; every pointer is checked, written within its size and
                // freed with its own layout.
                unsafe {
                    let p = ALLOCATOR.alloc(layout);
                    assert!(
                        !p.is_null() && (p as usize).is_multiple_of(align),
                        "{layout:?}"
                    );
                    p.write_bytes(0xa5, layout.size());
                    let grown = layout.size() * 3 + 5;
                    let q = ALLOCATOR.realloc(p, layout, grown);
                    assert!(
                        !q.is_null() && (q as usize).is_multiple_of(align),
                        "realloc {layout:?}"
                    );
                    assert!((0..layout.size()).all(|i| *q.add(i) == 0xa5), "{layout:?}");
                    let shrunk = Layout::from_size_align(grown, align).unwrap();
                    let r = ALLOCATOR.realloc(q, shrunk, 1);
                    assert!(!r.is_null() && (r as usize).is_multiple_of(align) && *r == 0xa5);
                    ALLOCATOR.dealloc(r, Layout::from_size_align(1, align).unwrap());
                    let z = ALLOCATOR.alloc_zeroed(layout);
                    assert!(
                        !z.is_null() && (z as usize).is_multiple_of(align),
                        "zeroed {layout:?}"
                    );
                    assert!((0..layout.size()).all(|i| *z.add(i) == 0), "{layout:?}");
                    ALLOCATOR.dealloc(z, layout);
                }
            }
        }
    }
}

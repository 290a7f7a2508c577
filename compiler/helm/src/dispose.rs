//! Freeing a render's large structures (parsed templates, chart files, values) costs up to a fifth
//! of a big chart's render. A short-lived process such as `kiln helm template` leaves them to the
//! operating system at exit instead; long-lived callers (`kiln build`) free them as usual.

use std::sync::atomic::{AtomicBool, Ordering};

static LEAVE_TO_EXIT: AtomicBool = AtomicBool::new(false);

/// Declares that the process exits right after rendering: from now on render structures are not
/// freed one by one.
pub fn leave_to_process_exit() {
    LEAVE_TO_EXIT.store(true, Ordering::Relaxed);
}

/// Drops `value`, unless the process is about to exit anyway.
pub(crate) fn dispose<T>(value: T) {
    if LEAVE_TO_EXIT.load(Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

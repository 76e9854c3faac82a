//! Giving memory back to the system once a burst is over: freed blocks stay
//! in the allocator's free lists (the process's RSS) until it is asked to
//! return them. Requests within a moment of each other make one trim, run
//! off the async threads (it walks every arena).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Requests this close together share one trim.
const GATHER: Duration = Duration::from_millis(200);

static PENDING: AtomicBool = AtomicBool::new(false);

/// Ask for the allocator's free memory to go back to the system soon.
pub fn give_back() {
    if PENDING.swap(true, Ordering::AcqRel) {
        return;
    }
    let trim = || {
        std::thread::sleep(GATHER);
        PENDING.store(false, Ordering::Release);
        trim_now();
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(trim)),
        Err(_) => drop(std::thread::spawn(trim)),
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_now() {
    // SAFETY: malloc_trim only walks the allocator's own state, under its
    // locks; it is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_now() {}

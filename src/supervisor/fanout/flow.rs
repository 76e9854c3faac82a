//! Whether a session is taking in a flood, and how soon after its last
//! batch a flooded terminal may take it for over (and be caught up).
//!
//! A flood is a batch of at least [`super::FLOOD_BATCH`] being parsed (or
//! waiting for its parser), or one parsed within the session's *window*.
//! The window is short ([`QUICK`]) when this session floods alone, so the
//! history follows a flood's end at once; it is [`SLOW`] while another
//! session has flooded within [`OTHERS`] (a dozen floods sharing the cores
//! pause between their batches, and each pause would be taken for an end:
//! a catch-up of ten thousand rows that the flood scrolls away again), and
//! it doubles up to [`SLOW`] whenever a flood comes back within
//! [`RELAPSE`] of a catch-up (a loop of `cat`s), back to [`QUICK`] after a
//! flood that stayed over.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use crate::screen::Mark;

/// Milliseconds: the window of a session flooding alone...
pub(super) const QUICK: u64 = 8;
/// ...and of one beside other floods, or one that came back too often.
pub(super) const SLOW: u64 = 40;
/// Rows a [`SLOW`] that make output a flood to a terminal attaching, in
/// whatever batches it comes (a program the session keeps up with).
const POURING_ROWS: u64 = 1000;
/// Another session's flood batch within this counts as flooding beside.
const OTHERS: u64 = 200;
/// A flood back within this of a catch-up was not over: the window
/// doubles.
const RELAPSE: u64 = 1000;

/// The host's clock for flows, in milliseconds.
static CLOCK: LazyLock<Instant> = LazyLock::new(Instant::now);
/// Each flow's last flood batch (taken in or parsed), by flow.
static RECENT: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

fn now() -> u64 {
    u64::try_from(CLOCK.elapsed().as_millis()).unwrap_or(u64::MAX).max(1)
}

fn recent() -> std::sync::MutexGuard<'static, Vec<(u64, u64)>> {
    RECENT.lock().unwrap_or_else(|p| p.into_inner())
}

/// One session's flow (see the module).
pub(super) struct Flow {
    id: u64,
    parsing: AtomicBool,
    /// When the last flood's batch was parsed (0: never).
    last_flood: AtomicU64,
    /// This session's own window.
    window: AtomicU64,
    /// When a terminal was last caught up after a flood (0: not since the
    /// last flood began).
    caught_up_at: AtomicU64,
    /// Two looks at the model after a batch, at least [`SLOW`] apart
    /// (older first): when, and where its stream was.
    looks: Mutex<[Option<(u64, Mark)>; 2]>,
}

impl Flow {
    pub fn new() -> Flow {
        static IDS: AtomicU64 = AtomicU64::new(1);
        Flow {
            id: IDS.fetch_add(1, Ordering::Relaxed),
            parsing: AtomicBool::new(false),
            last_flood: AtomicU64::new(0),
            window: AtomicU64::new(QUICK),
            caught_up_at: AtomicU64::new(0),
            looks: Mutex::new([None, None]),
        }
    }

    /// The model after a batch was taken in (kept for
    /// [`Flow::flooded_lately`]).
    pub(super) fn took_in(&self, mark: Mark) {
        let now = now();
        let mut looks = self.looks.lock().unwrap_or_else(|p| p.into_inner());
        if looks[1].is_none_or(|(at, _)| now.saturating_sub(at) >= SLOW) {
            looks[0] = looks[1];
            looks[1] = Some((now, mark));
        }
    }

    /// A flood's batch begins (`true`: taken in, waiting for or holding a
    /// parser) or has been parsed (`false`).
    pub fn parsing(&self, parsing: bool) {
        let now = now();
        if parsing {
            let caught_up = self.caught_up_at.swap(0, Ordering::AcqRel);
            if caught_up != 0 {
                let window = if now.saturating_sub(caught_up) < RELAPSE {
                    (self.window.load(Ordering::Acquire) * 2).min(SLOW)
                } else {
                    QUICK
                };
                self.window.store(window, Ordering::Release);
            }
        } else {
            self.last_flood.store(now, Ordering::Release);
        }
        self.parsing.store(parsing, Ordering::Release);
        let mut recent = recent();
        match recent.iter_mut().find(|(id, _)| *id == self.id) {
            Some(entry) => entry.1 = now,
            None => recent.push((self.id, now)),
        }
    }

    /// How long after its last batch a flood is over, now.
    fn window(&self) -> u64 {
        let now = now();
        let beside = recent()
            .iter()
            .any(|&(id, at)| id != self.id && now.saturating_sub(at) < OTHERS);
        if beside {
            SLOW
        } else {
            self.window.load(Ordering::Acquire)
        }
    }

    /// Whether the flood is still on, for a flooded terminal deciding it
    /// is over: within the session's window.
    pub(super) fn flooding(&self) -> bool {
        self.within(self.window())
    }

    /// Whether a flood is under way, for a terminal that attaches to the
    /// model at `mark`: a flood batch within [`SLOW`] whatever the window
    /// (the pause between two batches of a flood that is still on must not
    /// paint it whole), or [`POURING_ROWS`] a [`SLOW`] since a look at
    /// most four of those ago, however small its batches.
    pub(super) fn flooded_lately(&self, mark: Mark) -> bool {
        if self.within(SLOW) {
            return true;
        }
        let now = now();
        let looks = *self.looks.lock().unwrap_or_else(|p| p.into_inner());
        looks.iter().flatten().any(|&(at, then)| {
            let elapsed = now.saturating_sub(at).max(1);
            elapsed <= 4 * SLOW
                && u128::from(mark.rows_since(then)) * u128::from(SLOW)
                    >= u128::from(POURING_ROWS) * u128::from(elapsed)
        })
    }

    fn within(&self, window: u64) -> bool {
        if self.parsing.load(Ordering::Acquire) {
            return true;
        }
        let last = self.last_flood.load(Ordering::Acquire);
        last != 0 && now().saturating_sub(last) < window
    }

    /// A terminal of the session was caught up after its flood.
    pub(super) fn caught_up(&self) {
        self.caught_up_at.store(now(), Ordering::Release);
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        recent().retain(|(id, _)| *id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_that_comes_back_after_its_catch_up_widens_the_window() {
        let flow = Flow::new();
        assert_eq!(flow.window.load(Ordering::Acquire), QUICK);
        for expected in [2 * QUICK, 4 * QUICK, SLOW, SLOW] {
            flow.parsing(true);
            flow.parsing(false);
            flow.caught_up();
            flow.parsing(true);
            assert_eq!(flow.window.load(Ordering::Acquire), expected);
            flow.parsing(false);
        }
        assert!(flow.flooding(), "its last batch was just now");
    }

    #[test]
    fn output_pouring_in_small_batches_is_a_flood_to_an_attaching_terminal() {
        let flow = Flow::new();
        assert!(!flow.flooded_lately(Mark::default()));
        flow.took_in(Mark::default());
        // (A mark far along: the rows scrolled since.)
        let mut screen = crate::screen::Screen::new(80, 4, 100);
        screen.feed(&b"x\r\n".repeat(2000));
        assert!(flow.flooded_lately(screen.mark()), "2,000 rows just now");
        assert!(!flow.flooded_lately(Mark::default()), "no row since");
    }

    #[test]
    fn a_flood_beside_another_gets_the_slow_window() {
        let (one, two) = (Flow::new(), Flow::new());
        one.parsing(true);
        one.parsing(false);
        assert!(two.window() == SLOW, "one flooded just now");
        drop(one);
        // (Other tests' flows may be flooding meanwhile: only the own
        // window is certain.)
        assert!(two.window() >= QUICK);
    }
}

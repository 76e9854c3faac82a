//! The pool desk: the idle shells, how many there should be and of which
//! shell, the run of failures that backs the pool off, and its counts.
//!
//! Owns its fields; the supervisor reaches them only through these methods
//! (and spawns and claims shells as jobs, in `pool.rs`). Invariants: never
//! more idle shells than its size (at most [`MAX_POOL`]); a shell taken
//! has shown its prompt and is healthy; after [`MAX_FAILURES`] failures in
//! a row nothing more is started until the settings change.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::idle::{Failures, Unhealthy};
use super::{DEFAULT_READY_WITHIN, Idle, MAX_BACKOFF, MAX_FAILURES, MAX_POOL};
use crate::api::Payload;

#[derive(Default)]
pub(in crate::supervisor) struct Pool {
    size: usize,
    /// The shell argv idle shells run; sessions of another shell skip the pool.
    argv: Vec<String>,
    idle: VecDeque<Idle>,
    spawning: usize,
    next: u64,
    claimed: u64,
    replaced: u64,
    /// `pool.ready_timeout`.
    ready_within: Duration,
    failures: Failures,
    /// `pool.recycle`: stopped plain shells younger than this come back.
    recycle: Option<Duration>,
    recycled: u64,
}

impl Pool {
    pub fn status(&self) -> Payload {
        Payload::of(&crate::api::reply::PoolStatus {
            size: self.size,
            idle: self.idle.len(),
            ready: self.idle.iter().filter(|i| i.ready()).count(),
            spawning: self.spawning,
            claimed: self.claimed,
            replaced: self.replaced,
            recycled: self.recycled,
            pids: self.idle.iter().map(|i| i.spawned.pid).collect(),
            shell: self.argv.join(" "),
            failures: self.failures.count,
            retry_in: self
                .failures
                .retry_at
                .map(|at| at.saturating_duration_since(Instant::now()).as_secs()),
            given_up: self.failures.given_up.clone(),
        })
    }

    fn ready_within(&self) -> Duration {
        if self.ready_within.is_zero() {
            DEFAULT_READY_WITHIN
        } else {
            self.ready_within
        }
    }

    /// A warm shell failed: wait longer before the next, or give up.
    pub(super) fn failed(&mut self, why: Unhealthy) {
        let base = self.ready_within();
        let failures = &mut self.failures;
        failures.count += 1;
        failures.last = Some(why);
        let backoff = base.saturating_mul(1 << (failures.count - 1).min(16)).min(MAX_BACKOFF);
        failures.retry_at = Some(Instant::now() + backoff);
        if failures.count >= MAX_FAILURES && failures.given_up.is_none() {
            let what = match why {
                Unhealthy::Exited => "exited before it could be used".to_string(),
                Unhealthy::Silent => format!("showed no prompt within {} s", base.as_secs_f32()),
            };
            let reason = format!(
                "{} warm shells in a row {what} (slow or failing rc files?); the pool stopped",
                failures.count
            );
            tracing::warn!("{reason}");
            failures.given_up = Some(reason);
        } else {
            tracing::info!(
                failures = failures.count,
                backoff_ms = backoff.as_millis() as u64,
                ?why,
                "pool shell failed; retrying later"
            );
        }
    }

    /// A warm shell came up: the failures are forgotten.
    pub(super) fn came_up(&mut self) {
        self.failures = Failures::default();
    }

    /// How many shells to start now (each counted as spawning): none while
    /// the pool backs off, has given up or has no shell.
    pub fn shells_to_start(&mut self, now: Instant) -> usize {
        if self.argv.is_empty() || self.failures.given_up.is_some() {
            return 0;
        }
        if let Some(at) = self.failures.retry_at {
            if now < at {
                return 0;
            }
            self.failures.retry_at = None;
        }
        let missing = self.size.saturating_sub(self.idle.len() + self.spawning);
        self.spawning += missing;
        missing
    }

    /// A number for the next pool shell's log.
    pub fn next_number(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// A shell started (or failed to): it waits, unless the pool is full or
    /// the host is stopping.
    pub fn spawned(&mut self, result: Result<Idle, String>, shutting_down: bool) {
        self.spawning = self.spawning.saturating_sub(1);
        match result {
            Ok(idle) if !shutting_down && self.idle.len() < self.size => {
                tracing::debug!(pid = idle.spawned.pid, "pool shell ready");
                self.idle.push_back(idle);
            }
            Ok(idle) => idle.discard(),
            Err(err) => tracing::warn!("pool shell failed to start: {err}"),
        }
    }

    /// The oldest healthy shell that has shown its prompt; the unhealthy
    /// met on the way are hung up, those still starting stay.
    pub fn take(&mut self) -> Option<Idle> {
        let mut taken = None;
        let mut kept = VecDeque::new();
        let ready_within = self.ready_within();
        while let Some(mut idle) = self.idle.pop_front() {
            if taken.is_some() {
                kept.push_back(idle);
            } else if let Some(why) = idle.unhealthy(ready_within) {
                self.replaced += 1;
                self.failed(why);
                idle.discard();
            } else if idle.ready() {
                taken = Some(idle);
            } else {
                kept.push_back(idle);
            }
        }
        self.idle = kept;
        if taken.is_some() {
            self.claimed += 1;
        }
        taken
    }

    /// A stopped session's shell, reset: first in line (the newest warm
    /// shell makes room).
    pub fn recycled(&mut self, idle: Idle) {
        self.recycled += 1;
        self.idle.push_front(idle);
        while self.idle.len() > self.size.max(1) {
            if let Some(newest) = self.idle.pop_back() {
                newest.discard();
            }
        }
    }

    /// Hang up idle shells that died or never came up.
    pub fn check_health(&mut self) {
        let mut kept = VecDeque::new();
        let ready_within = self.ready_within();
        while let Some(mut idle) = self.idle.pop_front() {
            if let Some(why) = idle.unhealthy(ready_within) {
                tracing::info!(pid = idle.spawned.pid, ?why, "pool shell unhealthy; hanging it up");
                self.replaced += 1;
                self.failed(why);
                idle.discard();
            } else {
                if idle.ready() && self.failures.count > 0 {
                    self.came_up();
                }
                kept.push_back(idle);
            }
        }
        self.idle = kept;
    }

    /// A new size, shell and ready timeout: a new shell or timeout starts
    /// afresh (its shells hung up, its failures forgotten); past the size,
    /// the newest go.
    pub fn configure(&mut self, size: usize, argv: Vec<String>, ready_within: Duration) {
        if argv != self.argv || ready_within != self.ready_within {
            self.drain();
            self.failures = Failures::default();
        }
        self.ready_within = ready_within;
        self.size = size.min(MAX_POOL);
        self.argv = argv;
        while self.idle.len() > self.size {
            if let Some(idle) = self.idle.pop_back() {
                idle.discard();
            }
        }
    }

    /// Hang up every idle shell.
    pub fn drain(&mut self) {
        for idle in self.idle.drain(..) {
            idle.discard();
        }
    }

    /// The shell idle shells run (sessions of another shell skip the pool).
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// How long a stopped plain shell may be and still come back.
    pub fn recycle(&self) -> Option<Duration> {
        self.recycle
    }

    pub fn set_recycle(&mut self, recycle: Option<Duration>) {
        self.recycle = recycle;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_shells_back_off_then_stop_the_pool_and_one_that_comes_up_resets_it() {
        let mut pool = Pool::default();
        pool.configure(0, Vec::new(), Duration::from_millis(100));
        pool.failed(Unhealthy::Silent);
        let first = pool.failures.retry_at.unwrap();
        pool.failed(Unhealthy::Exited);
        let second = pool.failures.retry_at.unwrap();
        assert!(second > first, "each failure waits longer");
        for _ in 2..MAX_FAILURES {
            pool.failed(Unhealthy::Silent);
        }
        let status = pool.status().into_inner();
        let given_up = status["given_up"].as_str().unwrap_or_default().to_string();
        assert!(given_up.contains("the pool stopped"), "{status:?}");
        assert!(given_up.contains("showed no prompt within 0.1 s"), "{given_up}");
        assert_eq!(status["failures"].as_u64(), Some(u64::from(MAX_FAILURES)));
        pool.came_up();
        let status = pool.status().into_inner();
        assert!(status["given_up"].is_null() && status["retry_in"].is_null());
        assert_eq!(status["failures"].as_u64(), Some(0));
    }

    #[test]
    fn no_shell_no_spawn_and_never_past_the_size() {
        let mut pool = Pool::default();
        assert_eq!(pool.shells_to_start(Instant::now()), 0, "no shell configured");
        pool.configure(99, vec!["/bin/sh".into()], Duration::from_secs(5));
        assert_eq!(pool.shells_to_start(Instant::now()), MAX_POOL, "at most MAX_POOL");
        assert_eq!(pool.shells_to_start(Instant::now()), 0, "those are spawning already");
    }
}

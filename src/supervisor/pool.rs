//! The pre-warmed pool: idle shells started ahead of time, so a start does
//! not wait for a shell (and its rc files) to come up.
//!
//! A `shell` session claims one and is moved to its directory; any other
//! agent claims one and the shell `exec`s `lulu launch <spec>`, which becomes
//! the agent with the session's directory and environment (read from a
//! private file, so nothing secret is typed into a terminal). Claimed shells
//! are replaced in the background; a shell that exited, or printed nothing
//! within `pool.ready_timeout` (5 s), is replaced too.
//!
//! A shell that is slow to come up is in its rc files, which may hold a lock
//! (pyenv's rehash does): it gets SIGHUP, so its traps and clean-ups run,
//! never SIGKILL while it could still clean up. Its replacement waits, with
//! a back-off that doubles; after [`MAX_FAILURES`] in a row the pool stops
//! trying and says why (`:checkhealth lulu`). A shell that printed anything
//! is never taken for stuck.

use crate::private::{self, Links};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::api::Payload;

use super::{Command, Supervisor, log_path};

mod idle;
use crate::model::SessionId;
use crate::pty::{self, Input, OutputLog, SpawnSpec, Spawned};
pub(super) use idle::Idle;
use idle::{Failures, Unhealthy};

/// Most idle shells kept, whatever `pool.size` says.
pub const MAX_POOL: usize = 6;
/// Spacing between pool spawns, so they do not all start at once.
const STAGGER: Duration = Duration::from_millis(100);
/// An idle shell that has printed nothing by then is considered stuck.
pub const DEFAULT_READY_WITHIN: Duration = Duration::from_secs(5);
/// Failed warm shells in a row after which the pool stops trying.
pub const MAX_FAILURES: u32 = 4;
/// Longest wait before the next try.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What a session asks of a claimed idle shell.
pub(super) struct Claim<'a> {
    pub id: &'a SessionId,
    pub name: &'a str,
    pub cwd: &'a Path,
    pub cols: u16,
    pub rows: u16,
    /// `None`: stay the shell (a shell session); else become this program.
    pub launch: Option<crate::launch::LaunchSpec>,
}

#[derive(Default)]
pub(super) struct Pool {
    pub size: usize,
    /// The shell argv idle shells run; sessions of another shell skip the pool.
    pub argv: Vec<String>,
    idle: VecDeque<Idle>,
    spawning: usize,
    next: u64,
    claimed: u64,
    replaced: u64,
    /// `pool.ready_timeout`.
    pub ready_within: Duration,
    failures: Failures,
    /// `pool.recycle`: stopped plain shells younger than this come back.
    pub recycle: Option<Duration>,
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
    fn failed(&mut self, why: Unhealthy) {
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
    fn came_up(&mut self) {
        self.failures = Failures::default();
    }
}

/// Single-quote for a POSIX shell (and fish): the only quoting lulu types.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl Supervisor {
    /// Top the pool up to its size, spawning in the background.
    pub(super) fn pool_fill(&mut self) {
        if self.shutdown.is_some() || self.pool.argv.is_empty() || self.pool.failures.given_up.is_some() {
            return;
        }
        if let Some(at) = self.pool.failures.retry_at {
            if Instant::now() < at {
                return;
            }
            self.pool.failures.retry_at = None;
        }
        let missing = self.pool.size.saturating_sub(self.pool.idle.len() + self.pool.spawning);
        for i in 0..missing {
            self.pool.spawning += 1;
            self.pool.next += 1;
            let log = self.settings.state_dir.join("logs").join(format!(
                "pool-{}-{}.log",
                std::process::id(),
                self.pool.next
            ));
            let spec = SpawnSpec {
                argv: self.pool.argv.clone(),
                cwd: std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from),
                env: vec![
                    ("TERM".into(), "xterm-256color".into()),
                    ("COLORTERM".into(), "truecolor".into()),
                ],
                cols: 80,
                rows: 24,
                log: OutputLog::open(log.clone(), super::LOG_CAP),
            };
            let tx = self.tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(STAGGER * i as u32).await;
                let result = tokio::task::spawn_blocking(move || pty::spawn(spec))
                    .await
                    .map_err(|err| err.to_string())
                    .and_then(|r| r.map_err(|err| err.to_string()))
                    .map(|spawned| Idle {
                        spawned,
                        log,
                        born: Instant::now(),
                        prompted: false,
                    });
                let _ = tx.send(Command::PoolSpawned(Box::new(result)));
            });
        }
    }

    pub(super) fn on_pool_spawned(&mut self, result: Result<Idle, String>) {
        self.pool.spawning = self.pool.spawning.saturating_sub(1);
        match result {
            Ok(idle) if self.shutdown.is_none() && self.pool.idle.len() < self.pool.size => {
                tracing::debug!(pid = idle.spawned.pid, "pool shell ready");
                self.pool.idle.push_back(idle);
            }
            Ok(idle) => idle.discard(),
            Err(err) => tracing::warn!("pool shell failed to start: {err}"),
        }
    }

    /// The oldest healthy idle shell that has shown its prompt, if any; the
    /// pool refills behind it. Shells still starting stay for later.
    pub(super) fn pool_take(&mut self) -> Option<Idle> {
        let mut taken = None;
        let mut kept = VecDeque::new();
        let ready_within = self.pool.ready_within();
        while let Some(mut idle) = self.pool.idle.pop_front() {
            if taken.is_some() {
                kept.push_back(idle);
            } else if let Some(why) = idle.unhealthy(ready_within) {
                self.pool.replaced += 1;
                self.pool.failed(why);
                idle.discard();
            } else if idle.ready() {
                taken = Some(idle);
            } else {
                kept.push_back(idle);
            }
        }
        self.pool.idle = kept;
        if taken.is_some() {
            self.pool.claimed += 1;
        }
        self.pool_fill();
        taken
    }

    /// A stopped shell session's PTY, reset: it ends as completed, and its
    /// shell waits in the pool, first in line (the newest warm shell makes
    /// room). A shell that did not come back is stopped as usual.
    pub(super) fn on_recycled(&mut self, id: SessionId, spawned: Option<Spawned>) {
        let Some(spawned) = spawned else {
            tracing::info!(session = %id, "shell did not come back from its reset; stopping it");
            if let Some(live) = self.entries.get(&id).and_then(|e| e.live.as_ref()) {
                let _ = live
                    .commands
                    .send(super::session_task::SessionCmd::Stop { force: false });
            }
            return;
        };
        // Its output goes to the pool log it was given at the reset.
        let log = spawned.log.path();
        self.on_exit(id, crate::model::ExitKind::Code(0), Default::default());
        let idle = Idle {
            spawned,
            log,
            born: Instant::now(),
            prompted: true,
        };
        if self.shutdown.is_some() {
            return idle.discard();
        }
        self.pool.recycled += 1;
        self.pool.idle.push_front(idle);
        while self.pool.idle.len() > self.pool.size.max(1) {
            if let Some(newest) = self.pool.idle.pop_back() {
                newest.discard();
            }
        }
    }

    /// A fresh log path for a pool shell.
    pub(super) fn pool_log_path(&mut self) -> PathBuf {
        self.pool.next += 1;
        self.settings
            .state_dir
            .join("logs")
            .join(format!("pool-{}-{}.log", std::process::id(), self.pool.next))
    }

    /// Replace idle shells that died or never came up.
    pub(super) fn pool_tick(&mut self) {
        let mut kept = VecDeque::new();
        let ready_within = self.pool.ready_within();
        while let Some(mut idle) = self.pool.idle.pop_front() {
            if let Some(why) = idle.unhealthy(ready_within) {
                tracing::info!(pid = idle.spawned.pid, ?why, "pool shell unhealthy; hanging it up");
                self.pool.replaced += 1;
                self.pool.failed(why);
                idle.discard();
            } else {
                if idle.ready() && self.pool.failures.count > 0 {
                    self.pool.came_up();
                }
                kept.push_back(idle);
            }
        }
        self.pool.idle = kept;
        self.pool_fill();
    }

    /// Apply a new size (and shell): drop what is too many or of the wrong
    /// shell, then refill.
    pub(super) fn pool_configure(&mut self, size: usize, argv: Vec<String>, ready_within: Duration) {
        if argv != self.pool.argv || ready_within != self.pool.ready_within {
            self.pool_drain();
            // New settings deserve a fresh start.
            self.pool.failures = Failures::default();
        }
        self.pool.ready_within = ready_within;
        self.pool.size = size.min(MAX_POOL);
        self.pool.argv = argv;
        while self.pool.idle.len() > self.pool.size {
            if let Some(idle) = self.pool.idle.pop_back() {
                idle.discard();
            }
        }
        self.pool_fill();
    }

    pub(super) fn pool_drain(&mut self) {
        for idle in self.pool.idle.drain(..) {
            idle.discard();
        }
    }
}

/// Turn a claimed idle shell into a session: move its log, size it, and
/// type the one line that moves it to its directory (a shell session) or
/// execs the agent through a launch spec. Runs in a start's job.
pub(super) async fn claim(state_dir: &Path, exe: &Path, idle: Idle, claim: Claim<'_>) -> anyhow::Result<Spawned> {
    {
        let Claim {
            id,
            name,
            cwd,
            cols,
            rows,
            launch,
        } = claim;
        let Idle { spawned, .. } = idle;
        let target = log_path(state_dir, id);
        let handle = spawned.log.clone();
        tokio::task::spawn_blocking(move || handle.move_to(&target)).await??;
        spawned.control.resize(cols, rows)?;
        let line = match launch {
            Some(spec) => {
                let dir = super::session_dir(state_dir, id);
                let make = dir.clone();
                tokio::task::spawn_blocking(move || private::dir(&make, Links::Follow)).await??;
                let file = dir.join("launch.json");
                let write = file.clone();
                tokio::task::spawn_blocking(move || spec.write(&write)).await??;
                format!(
                    " exec {} launch {}\r",
                    quote(&exe.to_string_lossy()),
                    quote(&file.to_string_lossy())
                )
            }
            None => format!(
                " cd {} && export LULU_SESSION={} LULU_SESSION_NAME={} && clear\r",
                quote(&cwd.to_string_lossy()),
                quote(id.as_str()),
                quote(name)
            ),
        };
        spawned.control.write(Input::Bytes(line.into_bytes()));
        Ok(spawned)
    }
}

#[cfg(test)]
mod tests;

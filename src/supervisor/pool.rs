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
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Command, Supervisor, log_path};

mod desk;
mod idle;
use crate::model::SessionId;
use crate::pty::{self, Input, OutputLog, SpawnSpec, Spawned};
pub(super) use desk::Pool;
pub(super) use idle::Idle;

/// Most idle shells kept, whatever `pool.size` says.
pub const MAX_POOL: usize = 6;
/// Spacing between pool spawns, so they do not all start at once.
const STAGGER: Duration = Duration::from_millis(100);
/// A claimed shell's replacement starts this long after the claim.
const REFILL_AFTER_CLAIM: Duration = Duration::from_millis(150);
/// An idle shell that has printed nothing by then is considered stuck.
pub const DEFAULT_READY_WITHIN: Duration = Duration::from_secs(5);
/// Failed warm shells in a row after which the pool stops trying.
pub const MAX_FAILURES: u32 = 4;
/// Longest wait before the next try.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(300);

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

/// Clears a shell's screen and scrollback with the shell's own `printf`
/// (a builtin in sh, dash, bash, zsh and fish): `clear` would fork a
/// program that reads terminfo, a few milliseconds before the prompt shows.
pub(super) const CLEAR: &str = r"printf '\033[H\033[2J\033[3J'";

/// Single-quote for a POSIX shell (and fish): the only quoting lulu types.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl Supervisor {
    /// Top the pool up to its size, spawning in the background.
    pub(super) fn pool_fill(&mut self) {
        self.pool_fill_after(Duration::ZERO);
    }

    /// Top the pool up, its first spawn `delay` from now (after a claim:
    /// the claimed shell's start does not share the CPU with a new one).
    fn pool_fill_after(&mut self, delay: Duration) {
        if self.shutdown.is_some() {
            return;
        }
        let missing = self.pool.shells_to_start(Instant::now());
        for i in 0..missing {
            let log = self.pool_log_path();
            let argv = self.pool.argv().to_vec();
            let tx = self.tx.clone();
            let wait = delay + STAGGER * i as u32;
            tokio::spawn(async move {
                // (A zero sleep still waits for the timer's next tick.)
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let opened = log.clone();
                let result = tokio::task::spawn_blocking(move || pty::spawn(warm_shell(argv, opened)))
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
        let shutting_down = self.shutdown.is_some();
        self.pool.spawned(result, shutting_down);
    }

    /// The oldest healthy idle shell that has shown its prompt, if any; the
    /// pool refills behind it. Shells still starting stay for later.
    pub(super) fn pool_take(&mut self) -> Option<Idle> {
        let taken = self.pool.take();
        self.pool_fill_after(REFILL_AFTER_CLAIM);
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
        self.pool.recycled(idle);
    }

    /// A fresh log path for a pool shell.
    pub(super) fn pool_log_path(&mut self) -> PathBuf {
        let next = self.pool.next_number();
        self.settings
            .state_dir
            .join("logs")
            .join(format!("pool-{}-{next}.log", std::process::id()))
    }

    /// Replace idle shells that died or never came up.
    pub(super) fn pool_tick(&mut self) {
        self.pool.check_health();
        self.pool_fill();
    }

    /// Apply a new size (and shell): drop what is too many or of the wrong
    /// shell, then refill.
    pub(super) fn pool_configure(&mut self, size: usize, argv: Vec<String>, ready_within: Duration) {
        self.pool.configure(size, argv, ready_within);
        self.pool_fill();
    }

    pub(super) fn pool_drain(&mut self) {
        self.pool.drain();
    }
}

/// A pool shell: in `$HOME`, at 80x24, its log opened (off the loop).
fn warm_shell(argv: Vec<String>, log: PathBuf) -> SpawnSpec {
    SpawnSpec {
        argv,
        cwd: std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from),
        env: vec![
            ("TERM".into(), "xterm-256color".into()),
            ("COLORTERM".into(), "truecolor".into()),
        ],
        cols: 80,
        rows: 24,
        log: OutputLog::open(log, super::LOG_CAP),
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
                " cd {} && export LULU_SESSION={} LULU_SESSION_NAME={} && {CLEAR}\r",
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

//! One idle shell of the pool and its health (exited, or silent past the
//! ready timeout), and the run of failures that backs the pool off.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::pty::Spawned;

/// How long a hung-up shell may take to exit before it is killed.
const HANGUP_GRACE: Duration = Duration::from_secs(30);

pub(in crate::supervisor) struct Idle {
    pub spawned: Spawned,
    pub(super) log: PathBuf,
    pub(super) born: Instant,
    /// It showed its prompt already (a recycled session's shell).
    pub(super) prompted: bool,
}

/// Why an idle shell is no use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unhealthy {
    Exited,
    /// Printed nothing within the ready timeout.
    Silent,
}

impl Idle {
    pub(super) fn unhealthy(&mut self, ready_within: Duration) -> Option<Unhealthy> {
        let exited = !matches!(
            self.spawned.exit.try_recv(),
            Err(tokio::sync::oneshot::error::TryRecvError::Empty)
        );
        if exited {
            return Some(Unhealthy::Exited);
        }
        (self.born.elapsed() > ready_within && !self.ready()).then_some(Unhealthy::Silent)
    }

    /// Has it printed its prompt? Input typed before that could be lost to
    /// a shell still setting up its line editor.
    pub(super) fn ready(&self) -> bool {
        self.prompted || self.spawned.log.has_output()
    }

    /// Hang it up (SIGHUP: a shell exits, running its traps); one that is
    /// still there after a long grace is killed.
    pub(super) fn discard(self) {
        let Idle { spawned, log, .. } = self;
        spawned.control.signal(libc::SIGHUP);
        tokio::task::spawn_blocking(move || std::fs::remove_file(log));
        let Spawned { control, exit, .. } = spawned;
        tokio::spawn(async move {
            if tokio::time::timeout(HANGUP_GRACE, exit).await.is_err() {
                tracing::warn!(pid = control.pid(), "a pool shell ignored SIGHUP; killing it");
                control.signal(libc::SIGKILL);
            }
        });
    }
}

/// Consecutive failures and what they mean for the next try.
#[derive(Debug, Default)]
pub(super) struct Failures {
    pub(super) count: u32,
    /// No new shell before then.
    pub(super) retry_at: Option<Instant>,
    /// Set once the pool gave up; says why.
    pub(super) given_up: Option<String>,
    pub(super) last: Option<Unhealthy>,
}

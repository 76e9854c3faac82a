//! Auto-restart (`restart = 'on-failure'`): a session that ends `failed`
//! (not one the user stopped) is started again in its worktree, its agent
//! resuming its conversation when it can, after 1 s, 2 s, 4 s … (at most
//! 60 s), and no more than its limit in an hour. The plan is kept by name,
//! so it carries across the restarted session's new record.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::{Command, SessionOptions, Supervisor};
use crate::api::StartOpts;
use crate::model::{Restarting, SessionId, SessionRecord, Status};

/// Restarts allowed in an hour when the start does not say.
pub const DEFAULT_LIMIT: u32 = 5;
const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(60);
const WINDOW: Duration = Duration::from_secs(3600);

/// How a session is started again.
pub(super) struct Plan {
    opts: StartOpts,
    options: SessionOptions,
    limit: u32,
    /// When each restart of the last hour began.
    attempts: VecDeque<Instant>,
    /// Each failure and restart so far, written into the history of every
    /// run that follows (each run is a record of its own).
    log: Vec<String>,
}

impl Plan {
    /// The next restart after a failure for `reason` at `now`: its wait,
    /// its number and what the record says; `None` once `limit` restarts
    /// fell within the last hour.
    fn next(&mut self, reason: &str, now: Instant) -> Option<(Duration, u32, Restarting)> {
        while self.attempts.front().is_some_and(|at| now.duration_since(*at) > WINDOW) {
            self.attempts.pop_front();
        }
        let (attempt, limit) = (self.attempts.len() as u32 + 1, self.limit);
        if attempt > limit {
            return None;
        }
        let wait = delay(attempt);
        self.attempts.push_back(now);
        self.log.push(format!(
            "{}: failed ({reason}); restart {attempt}/{limit} after {}s",
            crate::model::now(),
            wait.as_secs()
        ));
        let at = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
        Some((
            wait,
            attempt,
            Restarting {
                attempt,
                limit,
                at: crate::model::timestamp(at),
            },
        ))
    }
}

/// The wait before restart number `attempt` (1-based).
pub fn delay(attempt: u32) -> Duration {
    FIRST_DELAY
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(MAX_DELAY)
}

/// DESK: how each session that restarts on failure starts again, by
/// name. Invariant: a name has a plan only while its latest start asked for
/// `restart = 'on-failure'` and it has not given up.
#[derive(Default)]
pub(super) struct Restarts(HashMap<String, Plan>);

/// What a failure leads to.
pub(super) enum Next {
    /// No plan for it.
    None,
    /// Its plan gave up after `limit` restarts within the hour (forgotten).
    GaveUp { limit: u32 },
    /// Restart number `attempt` of `limit`, after `wait`.
    After {
        wait: Duration,
        attempt: u32,
        limit: u32,
        restarting: Restarting,
    },
}

impl Restarts {
    /// A start the user asked for: remember how to start it again (or
    /// forget an old plan when it asks for none).
    pub(super) fn plan(&mut self, name: &str, opts: &StartOpts, options: &SessionOptions) {
        if opts.restart.as_deref() == Some("on-failure") {
            let plan = Plan {
                opts: opts.clone(),
                options: options.clone(),
                limit: opts.restart_limit.unwrap_or(DEFAULT_LIMIT),
                attempts: VecDeque::new(),
                log: Vec::new(),
            };
            self.0.insert(name.to_string(), plan);
        } else {
            self.0.remove(name);
        }
    }

    /// Session `name` failed for `reason`: its next restart, if any.
    pub(super) fn failed(&mut self, name: &str, reason: &str) -> Next {
        let Some(plan) = self.0.get_mut(name) else {
            return Next::None;
        };
        let limit = plan.limit;
        match plan.next(reason, Instant::now()) {
            Some((wait, attempt, restarting)) => Next::After {
                wait,
                attempt,
                limit,
                restarting,
            },
            None => {
                self.0.remove(name);
                Next::GaveUp { limit }
            }
        }
    }

    /// How `name` is started again: its start options and editor options.
    pub(super) fn start_of(&self, name: &str) -> Option<(StartOpts, SessionOptions)> {
        self.0.get(name).map(|plan| (plan.opts.clone(), plan.options.clone()))
    }

    /// The earlier runs' failures and restarts.
    pub(super) fn log(&self, name: &str) -> &[String] {
        self.0.get(name).map(|p| p.log.as_slice()).unwrap_or_default()
    }
}

impl Supervisor {
    pub(super) fn plan_restarts(&mut self, opts: &StartOpts, options: &SessionOptions, name: &str) {
        self.restarts.plan(name, opts, options);
    }

    /// A session ended: if it failed and has a plan with attempts left,
    /// schedule its restart and say so in its record.
    pub(super) fn maybe_restart(&mut self, id: &SessionId) {
        let Some(entry) = self.entries.get(id) else {
            return;
        };
        if entry.record.status != Status::Failed {
            return;
        }
        let (name, reason) = (
            entry.record.name.clone(),
            entry.record.failure_reason.clone().unwrap_or_default(),
        );
        let next = self.restarts.failed(&name, &reason);
        let Some(entry) = self.entries.get_mut(id) else {
            return;
        };
        let (wait, attempt, limit, restarting) = match next {
            Next::None => return,
            Next::After {
                wait,
                attempt,
                limit,
                restarting,
            } => (wait, attempt, limit, restarting),
            Next::GaveUp { limit } => {
                entry.record.failure_reason = Some(format!("{reason}; gave up after {limit} restarts in an hour"));
                let record = entry.record.clone();
                self.persist(&record);
                self.event(id, "restart", &format!("gave up after {limit} restarts in an hour"));
                self.broadcast_record(&record);
                return;
            }
        };
        entry.record.restarting = Some(restarting);
        let record = entry.record.clone();
        self.event(
            id,
            "restart",
            &format!("attempt {attempt}/{limit} in {}s", wait.as_secs()),
        );
        tracing::info!(session = %id, attempt, wait = ?wait, "restarting on failure");
        self.broadcast_record(&record);
        let tx = self.tx.clone();
        let session = id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let _ = tx.send(Command::Restart(session));
        });
    }

    /// The wait is over: start it again, unless the user has deleted it,
    /// started another of that name, or a restart is not wanted any more.
    pub(super) fn on_restart(&mut self, id: SessionId) {
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        if entry.live.is_some() || entry.record.restarting.is_none() {
            return;
        }
        entry.record.restarting = None;
        let record: SessionRecord = entry.record.clone();
        let Some((mut opts, options)) = self.restarts.start_of(&record.name) else {
            return;
        };
        opts.name = Some(record.name.clone());
        opts.reuse = true;
        // The worktree it had, and the conversation its agent had.
        opts.cwd = record.repo.clone().or(Some(record.cwd.clone()));
        if record.worktree.is_some() {
            opts.worktree = Some(true);
            opts.base = record.base.clone();
        }
        opts.resume = record.conversation.clone().filter(|c| {
            crate::adapter::for_session(&record.agent, record.kind)
                .resume_args(c)
                .is_some()
        });
        // Typed once, into the first run only.
        opts.prompt = None;
        self.start_as(opts, options, None, super::start::Origin::Restart);
    }

    /// The earlier runs' failures and restarts, into a new run's history.
    pub(super) fn carry_restart_log(&self, id: &SessionId, name: &str) {
        for line in self.restarts.log(name) {
            self.event(id, "restart", line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_a_second_to_a_minute() {
        let waits: Vec<u64> = (1..=9).map(|n| delay(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(delay(u32::MAX), MAX_DELAY, "no overflow");
    }
}

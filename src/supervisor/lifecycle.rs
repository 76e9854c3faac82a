//! How sessions change state after they start: stop, exit, delete, and the
//! host's own shutdown. Terminal statuses are set once (`finish`).

use crate::api::Payload;
use anyhow::anyhow;
use tokio::sync::oneshot;

use super::session_task::{SessionCmd, SessionEvent};
use super::{Command, Entry, Reply, Supervisor, log_path, respond, session_dir};
use crate::api::Event;
use crate::api::reply;
use crate::model::{ExitKind, SessionId, SessionRecord, Status, now};
use crate::worktree::setup::SetupFailure;

impl Supervisor {
    pub(super) fn stop(&mut self, session: &str, force: bool) -> anyhow::Result<Payload> {
        let (max_age, tx) = (self.pool.recycle(), self.tx.clone());
        let pool_log = self.pool_log_path();
        let entry = self.find_mut(session)?;
        let Some(live) = entry.live.as_mut() else {
            // Stopping an ended session is a no-op, not an error: the user's
            // intent already holds.
            return Ok(Payload::of(&entry.record));
        };
        live.stop_requested = true;
        let recycle = !force
            && live.plain_shell
            && live.delete_requested.is_none()
            && max_age.is_some_and(|max_age| live.born.elapsed() < max_age);
        if recycle {
            let (reply, answer) = tokio::sync::oneshot::channel();
            let _ = live.commands.send(SessionCmd::Recycle { log: pool_log, reply });
            let id = entry.record.id.clone();
            tokio::spawn(async move {
                let spawned = answer.await.ok().flatten().map(Box::new);
                let _ = tx.send(Command::Recycled(id, spawned));
            });
        } else {
            let _ = live.commands.send(SessionCmd::Stop { force });
        }
        Ok(Payload::of(&entry.record))
    }

    /// Everything about one session: its record, its event history, and the
    /// last lines its screen shows (from its screen model; for an ended
    /// session, from a model fed its log). A job: the history and the log
    /// are read off the loop.
    pub(super) fn detail(
        &self,
        session: &str,
    ) -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<Payload>> + Send + 'static> {
        let entry = self.find(session)?;
        let record = entry.record.clone();
        let screen = self.screen_text(entry, DETAIL_ROWS);
        let store = self.store.clone();
        Ok(async move {
            let id = record.id.clone();
            let history = store.run(move |s| s.history(&id)).await?;
            let lines = screen.await.lines;
            let output = lines.into_iter().filter(|line| !line.is_empty()).collect();
            let events = history
                .into_iter()
                .map(|(at, kind, detail)| reply::HistoryEvent { at, kind, detail })
                .collect();
            Ok(Payload::of(&reply::Detail { record, events, output }))
        })
    }

    /// The screen of `entry` as text, its last `rows` rows: from the live
    /// model, else from a model fed the end of its log (off the loop).
    pub(super) fn screen_text(
        &self,
        entry: &Entry,
        rows: usize,
    ) -> impl std::future::Future<Output = crate::screen::Text> + Send + 'static {
        let live = entry.live.as_ref().map(|live| live.screen.clone());
        let log = log_path(&self.settings.state_dir, &entry.record.id);
        async move {
            if let Some(screen) = live {
                return crate::supervisor::fanout::lock(&screen).text(rows);
            }
            tokio::task::spawn_blocking(move || {
                let mut screen = crate::screen::Screen::new(ENDED_COLS, ENDED_ROWS, 0);
                screen.feed_shown(&crate::pty::read_tail(&log, ENDED_TAIL));
                screen.text(rows)
            })
            .await
            .unwrap_or_default()
        }
    }
}

/// Rows of screen `K` shows.
const DETAIL_ROWS: usize = 15;
/// The size an ended session's screen is rebuilt at, from this much log.
const ENDED_COLS: u16 = 120;
const ENDED_ROWS: u16 = 40;
const ENDED_TAIL: usize = 1024 * 1024;

impl Supervisor {
    /// `:LuluDelete`: a dirty or unmerged worktree refuses (checked by a
    /// job) before anything is stopped; a live session is stopped first and
    /// goes once reaped; then the worktree (a job), then the row.
    pub(super) fn delete(&mut self, session: &str, force: bool, reply: Option<Reply>) {
        let record = match self.find(session) {
            Ok(entry) => entry.record.clone(),
            Err(err) => return respond(reply, Err(err)),
        };
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let checked = super::worktrees::removable(&record, force);
            let _ = tx.send(Command::DeleteChecked {
                id: record.id,
                force,
                checked,
                reply,
            });
        });
    }

    pub(super) fn on_delete_checked(
        &mut self,
        id: SessionId,
        force: bool,
        checked: anyhow::Result<()>,
        reply: Option<Reply>,
    ) {
        if let Err(err) = checked {
            return respond(reply, Err(err));
        }
        let Some(entry) = self.entries.get_mut(&id) else {
            return respond(reply, Err(anyhow!("session {id} went away")));
        };
        if let Some(live) = entry.live.as_mut() {
            // Deleting a live session stops it first; the row goes once the
            // process is reaped, and the caller is answered then.
            live.stop_requested = true;
            let _ = live.commands.send(SessionCmd::Stop { force });
            live.delete_waiters.extend(reply);
            live.delete_requested = Some(force);
            return;
        }
        self.remove(&id, force, reply.into_iter().collect());
    }

    /// Forget a session that has ended: its worktree and branch first (a
    /// job; a refusal keeps everything), then its row, log and settings.
    pub(super) fn remove(&mut self, id: &SessionId, force: bool, waiters: Vec<Reply>) {
        let Some(record) = self.entries.get(id).map(|e| e.record.clone()) else {
            for waiter in waiters {
                let _ = waiter.send(Ok(Payload::NIL));
            }
            return;
        };
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let removed = super::worktrees::remove_worktree(&record, force);
            let _ = tx.send(Command::Removed {
                id: record.id,
                removed,
                waiters,
            });
        });
    }

    pub(super) fn on_removed(&mut self, id: SessionId, removed: anyhow::Result<()>, waiters: Vec<Reply>) {
        let answer = removed.map(|()| self.forget(&id));
        for waiter in waiters {
            let _ = waiter.send(match &answer {
                Ok(()) => Ok(Payload::NIL),
                Err(err) => Err(anyhow!("{err:#}")),
            });
        }
    }

    /// Drop a session's row, log and settings (not its worktree); the files
    /// go in the background.
    pub(super) fn forget(&mut self, id: &SessionId) {
        let dir = session_dir(&self.settings.state_dir, id);
        let log = log_path(&self.settings.state_dir, id);
        tokio::task::spawn_blocking(move || {
            let _ = std::fs::remove_dir_all(dir);
            let mut rotated = log.clone().into_os_string();
            rotated.push(".1");
            let _ = std::fs::remove_file(&log);
            let _ = std::fs::remove_file(rotated);
        });
        let key = id.clone();
        self.store
            .write(format!("the removal of session {id}"), move |s| s.delete_session(&key));
        self.entries.remove(id);
        self.chats.remove(id);
        // The worktree count in the list's footer is stale now.
        self.branches.outdated();
        let _ = self.usage();
        self.editors.emit(Event::Deleted, Payload::from(id.as_str()));
        tracing::info!(session = %id, "session deleted");
    }

    pub(super) fn on_session_event(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::Running(id) => {
                let Some(entry) = self.entries.get_mut(&id) else {
                    return;
                };
                if entry.record.status != Status::Starting {
                    return;
                }
                entry.record.status = Status::Running;
                entry.record.updated_at = now();
                let record = entry.record.clone();
                self.persist(&record);
                self.broadcast_record(&record);
            }
            SessionEvent::Activity(id) => {
                let Some(entry) = self.entries.get_mut(&id) else {
                    return;
                };
                entry.record.last_activity_at = now();
                let record = entry.record.clone();
                self.persist(&record);
                self.broadcast_record(&record);
                self.maybe_refresh_ahead(&id);
            }
            SessionEvent::Exited(id, exit) => self.on_exited(id, exit),
            SessionEvent::Crashed(id, message) => self.on_crash(id, message),
            SessionEvent::Screen(id, verdict) => self.on_screen_verdict(&id, verdict),
            SessionEvent::Ready(id) => self.on_ready(&id),
        }
    }

    /// The process ended: what only files can tell (its memory limit was
    /// hit; its worktree setup failed) is read by a job first, then
    /// [`Supervisor::on_exit`] ends the session.
    pub(super) fn on_exited(&mut self, id: SessionId, exit: ExitKind) {
        let Some(live) = self.entries.get(&id).and_then(|e| e.live.as_ref()) else {
            return;
        };
        let limits = live.limits.clone();
        let report = session_dir(&self.settings.state_dir, &id).join("setup-failed.json");
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let oom = limits.is_some_and(|applied| {
                let oom = applied.oom_killed();
                applied.remove();
                oom
            });
            let setup = SetupFailure::read(&report).map(|failure| failure.reason());
            let _ = tx.send(Command::ExitAssessed(id, exit, Assessed { oom, setup }));
        });
    }

    pub(super) fn on_exit(&mut self, id: SessionId, exit: ExitKind, assessed: Assessed) {
        // An ACP session's conversation, to its last note, is stored now.
        self.chats.save_soon(&id);
        self.save_chats();
        let Some(entry) = self.entries.get_mut(&id) else {
            tracing::warn!(session = %id, "exit for an unknown session dropped");
            return;
        };
        let Some(live) = entry.live.take() else {
            return;
        };
        self.controls.remove(&id);
        // The task has sent its last event; it is finishing on its own.
        drop(live.task);
        self.read_last_usage(&id, live.transcript, live.tally);
        self.withdraw_session(&id);
        self.refresh_ahead(&id);
        // After the withdrawals above, which changed its pending count.
        let Some(record) = self.entries.get(&id).map(|e| e.record.clone()) else {
            return;
        };
        let (mut status, mut reason) = match (live.stop_requested, exit.failure_reason()) {
            (true, _) | (false, None) => (Status::Completed, None),
            (false, Some(reason)) => (Status::Failed, Some(reason)),
        };
        // Killed by its memory limit: say so, whatever its exit looked like.
        let limit = record.limits.as_ref().and_then(|l| l.memory.clone());
        if assessed.oom
            && let Some(limit) = limit
        {
            status = Status::Failed;
            reason = Some(format!("memory limit ({limit}) reached"));
        }
        // A failed worktree.setup says so, rather than "exited with code N".
        if status == Status::Failed
            && let Some(setup) = assessed.setup
        {
            reason = Some(setup);
        }
        let detail = match exit {
            ExitKind::Code(code) => format!("exit code {code}"),
            ExitKind::Signal(sig) => format!("signal {sig}"),
        };
        let detail = if live.stop_requested {
            format!("{detail} (stopped)")
        } else {
            detail
        };
        self.event(&id, "exited", &detail);
        self.finish(record, status, reason, Some(exit.exit_code()));
        if let Some(entry) = self.entries.get(&id) {
            self.editors.emit(Event::Exit, Payload::of(&entry.record));
        }
        if live.delete_requested.is_none() {
            self.maybe_restart(&id);
            self.apply_cleanup_policy(&id, live.cleanup_merged);
        }
        if let Some(force) = live.delete_requested {
            self.remove(&id, force, live.delete_waiters);
        }
    }

    /// A session's task panicked: end its process and fail it, alone.
    fn on_crash(&mut self, id: SessionId, message: String) {
        tracing::error!(session = %id, %message, "session task panicked");
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        let Some(live) = entry.live.take() else {
            return;
        };
        self.controls.remove(&id);
        live.control.signal(libc::SIGKILL);
        let record = entry.record.clone();
        self.withdraw_session(&id);
        self.event(&id, "crashed", &message);
        let reason = format!("lulu lost this session (internal error: {message})");
        self.finish(record, Status::Failed, Some(reason), None);
        self.maybe_restart(&id);
        for waiter in live.delete_waiters {
            let _ = waiter.send(Err(anyhow!("the session crashed; delete it again")));
        }
    }

    /// Move a session to a terminal status (once: a second call is ignored).
    pub(super) fn finish(
        &mut self,
        mut record: SessionRecord,
        status: Status,
        reason: Option<String>,
        exit_code: Option<i64>,
    ) {
        if !record.status.is_live() {
            return;
        }
        record.status = status;
        record.failure_reason = reason;
        record.exit_code = exit_code;
        // An ended session waits for no one.
        record.waiting = false;
        record.waiting_source = None;
        record.updated_at = now();
        self.persist(&record);
        if let Some(entry) = self.entries.get_mut(&record.id) {
            entry.record = record.clone();
        }
        self.broadcast_record(&record);
    }

    pub(super) fn begin_shutdown(&mut self, done: oneshot::Sender<()>) {
        tracing::info!(live = self.live_count(), "shutting down");
        self.pool_drain();
        for entry in &mut self.entries {
            if let Some(live) = entry.live.as_mut() {
                live.stop_requested = true;
                let _ = live.commands.send(SessionCmd::Stop { force: false });
            }
        }
        self.shutdown = Some(done);
    }
}

/// What the files said about how a session ended.
#[derive(Debug, Default)]
pub(super) struct Assessed {
    /// Its memory limit killed something of it.
    pub oom: bool,
    /// Its worktree setup failed, in words.
    pub setup: Option<String>,
}

//! The supervisor: one task that owns every session record and the live
//! sessions' handles, fed by a `Command` channel. Session tasks run on their
//! own and report back with events, so one session's flood or crash never
//! holds up another.

mod answers;
mod approval_input;
mod approvals;
mod asks;
mod cleanup;
mod feed;
mod forge;
mod handle;
pub use handle::SupervisorHandle;
mod attention;
mod branch_review;
mod branches;
mod chats;
mod clients;
mod controls;
mod conversation;
mod dispatch;
mod edit_review;
mod editors;
mod entries;
mod fanout;
mod hello;
mod landing;
mod lifecycle;
mod live;
mod names;
mod pool;
mod preview;
mod queue;
mod restart;
mod rules;
mod saved;
mod session_task;
mod start;
mod start_job;
mod terminals;
mod worktree_policy;
mod worktrees;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::api::Payload;
use anyhow::{Context, anyhow, bail};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::agent::Agents;
use crate::api::Event;
use crate::api::{Client, ClientId, Peer};
use crate::api::{Hello, Request};
use crate::approval::RuleSpec;
use crate::errors::HostError;
use crate::hook::{HookReply, HookRequest};
use crate::model::{SessionId, SessionRecord};
use crate::pty::Input;
use crate::store::Store;
use approvals::Ticket;
pub(super) use live::SessionOptions;
use live::{Entry, Live};
use session_task::{SessionCmd, SessionEvent};

/// How long a stop waits before SIGKILL.
pub fn session_grace() -> Duration {
    session_task::STOP_GRACE
}

pub use clients::{DaemonLink, Occupancy};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
const DEFAULT_SCROLLBACK: usize = 10_000;
/// Most rows of scrollback a session may keep (Neovim's own limit).
const MAX_SCROLLBACK: usize = 100_000;
/// How much of an ended session's log is read back to paint it.
const ENDED_REPLAY: u64 = 8 * 1024 * 1024;
/// Per-session output log cap before it rotates (one old file is kept).
const LOG_CAP: u64 = 8 * 1024 * 1024;

pub struct Settings {
    pub state_dir: PathBuf,
    /// Where the store lives (hidden from sandboxed sessions).
    pub data_dir: PathBuf,
    /// The hook socket sessions' hooks connect to (`None`: no hook bridge).
    pub hook_socket: Option<PathBuf>,
    /// This binary, for the hook command agents run.
    pub exe: PathBuf,
    /// `$PATH` and `$SHELL` as the host saw them at start.
    pub path_var: Option<String>,
    pub shell_var: Option<String>,
    /// Set when this host is `lulu daemon`.
    pub daemon: Option<clients::DaemonLink>,
}

type Reply = oneshot::Sender<anyhow::Result<Payload>>;

enum Command {
    Request {
        client: ClientId,
        peer: Peer,
        request: Box<Request>,
        reply: Option<Reply>,
    },
    Session(SessionEvent),
    Hook {
        ticket: Ticket,
        request: HookRequest,
        reply: oneshot::Sender<HookReply>,
    },
    HookGone(Ticket),
    ApprovalExpired(i64),
    /// A recount of a session's commits ahead of its base.
    Branch(SessionId, worktrees::BranchState),
    /// Worktree count and bytes, computed in the background.
    Usage(usize, u64),
    /// Periodic upkeep: recount `ahead`, replace unhealthy pool shells.
    Tick,
    #[cfg(test)]
    PanicSession(SessionId),
    PoolSpawned(Box<Result<pool::Idle, String>>),
    /// New bytes of a session's transcript.
    Transcript(SessionId, Vec<u8>),
    /// A recycled session's shell, reset (or `None`: it did not come back).
    Recycled(SessionId, Option<Box<crate::pty::Spawned>>),
    /// Memory a limited session uses now.
    Memory(SessionId, u64),
    /// A look at a repository's branches, done.
    Looked(Box<feed::Look>),
    /// What the files say about a session that ended.
    ExitAssessed(SessionId, crate::model::ExitKind, lifecycle::Assessed),
    /// A delete's check of the worktree is done.
    DeleteChecked {
        id: SessionId,
        force: bool,
        checked: anyhow::Result<()>,
        reply: Option<Reply>,
    },
    /// A deleted session's worktree is removed (or refused).
    Removed {
        id: SessionId,
        removed: anyhow::Result<()>,
        waiters: Vec<Reply>,
    },
    /// Worktrees found merged (and removed) by a prune or clean-up job.
    Retired(Box<cleanup::Retired>),
    /// A rule change is stored; the list as it is now.
    RulesChanged(Box<rules::Changed>),
    /// A failed session's wait before its restart is over.
    Restart(SessionId),
    /// A merge job's outcome.
    Merged(Box<landing::GitDone<String>>),
    /// A rebase job's outcome.
    Rebased(Box<landing::GitDone<crate::worktree::history::Rebased>>),
    /// A reviewed allow's input, worked out off the loop.
    Reviewed {
        id: i64,
        result: anyhow::Result<Option<serde_json::Value>>,
        by: String,
        reply: Option<Reply>,
    },
    /// The usage an ended session's transcript came to, read to its end.
    LastUsage(SessionId, Box<crate::cost::Tally>),
    /// A session's transcript, found by its adapter's search (or not yet).
    TranscriptFound(SessionId, Option<PathBuf>),
    /// An editor's connection ended.
    ClientGone(ClientId),
    /// The user typed into a session (through [`SupervisorHandle::direct`]).
    Typed(SessionId),
    /// A pull request's job is done (forge.rs).
    PrOpened(SessionId, Box<anyhow::Result<forge::Pushed>>, Option<Reply>),
    /// A start's job is done (see start.rs).
    Started(Box<start::StartDone>),
    /// Something every editor should be told (the store could not write).
    Notice(String),
    Occupancy(oneshot::Sender<clients::Occupancy>),
    Shutdown(oneshot::Sender<()>),
}

pub struct Supervisor {
    /// Shared with every connection (see [`SupervisorHandle::direct`]).
    controls: controls::Controls,
    store: Store,
    settings: Settings,
    /// Oldest first; the list is this reversed.
    entries: entries::Sessions,
    /// The editors connected, their options, and what they are told.
    editors: editors::Editors,
    tx: mpsc::UnboundedSender<Command>,
    shutdown: Option<oneshot::Sender<()>>,
    /// The rules, the questions waiting, how long they wait.
    asks: asks::Asks,
    /// How each session that restarts on failure starts again, by name.
    restarts: restart::Restarts,
    /// The branches' activity feed and the worktree policy.
    branches: branches::Branches,
    pool: pool::Pool,
    /// The conversations of ACP sessions.
    chats: chats::Chats,
}

impl Supervisor {
    /// Load the stored sessions (after reconciliation) and start the loop.
    pub fn spawn(
        store: Store,
        settings: Settings,
        stored: Vec<SessionRecord>,
        rules: Vec<(i64, RuleSpec)>,
        notices: Vec<String>,
    ) -> (SupervisorHandle, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let controls = controls::Controls::default();
        let reports = tx.clone();
        store.set_reporter(std::sync::Arc::new(move |message| {
            let _ = reports.send(Command::Notice(message));
        }));
        let supervisor = Supervisor {
            controls: controls.clone(),
            store,
            settings,
            entries: entries::Sessions::new(
                stored
                    .into_iter()
                    .rev()
                    .map(|record| Entry { record, live: None })
                    .collect(),
            ),
            editors: editors::Editors::new(notices),
            tx: tx.clone(),
            shutdown: None,
            asks: asks::Asks::new(rules),
            restarts: restart::Restarts::default(),
            branches: Default::default(),
            pool: pool::Pool::default(),
            chats: chats::Chats::default(),
        };
        let ticker = tx.clone();
        let task = tokio::spawn(async move {
            // Agents commit and write transcripts without printing; a tick
            // keeps `ahead` and the cost current.
            let tick = tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(1));
                loop {
                    every.tick().await;
                    if ticker.send(Command::Tick).is_err() {
                        break;
                    }
                }
            });
            supervisor.run(rx).await;
            tick.abort();
        });
        (SupervisorHandle { tx, controls }, task)
    }

    /// The session `session` names (an id, else the newest of that name).
    fn find(&self, session: &str) -> anyhow::Result<&Entry> {
        let id = self.entries.resolve(session)?;
        Ok(self.entries.get(id).expect("resolved from the index"))
    }

    fn find_mut(&mut self, session: &str) -> anyhow::Result<&mut Entry> {
        let id = self.entries.resolve(session)?.clone();
        Ok(self.entries.get_mut(&id).expect("resolved from the index"))
    }

    fn live(&mut self, session: &str) -> anyhow::Result<&mut Live> {
        let entry = self.find_mut(session)?;
        let name = entry.record.name.clone();
        let status = entry.record.status;
        entry.live.as_mut().ok_or_else(|| {
            HostError::SessionEnded {
                name,
                status: status.as_str().to_string(),
            }
            .into()
        })
    }

    fn live_count(&self) -> usize {
        self.entries.live_count()
    }

    /// A new price table re-prices every session's counted usage.
    fn set_prices(&mut self, prices: crate::cost::Prices) {
        let changed = self.entries.set_prices(prices);
        for record in &changed {
            self.broadcast_record(record);
        }
    }

    /// Save a record (queued: the loop never waits on the store).
    fn persist(&self, record: &SessionRecord) {
        persist_to(&self.store, record);
    }

    fn event(&self, id: &SessionId, kind: &'static str, detail: &str) {
        let (key, detail) = (id.clone(), detail.to_string());
        self.store.write(format!("a {kind} event of session {id}"), move |s| {
            s.add_event(&key, kind, &detail)
        });
    }

    fn broadcast_record(&self, record: &SessionRecord) {
        self.editors.emit(Event::Session, Payload::of(record));
    }
}

/// Queue a record's write (for a caller that holds an entry borrowed).
fn persist_to(store: &Store, record: &SessionRecord) {
    let row = record.clone();
    store.write(format!("the state of session '{}'", record.name), move |s| {
        s.update_session(&row)
    });
}

/// `[lulu: completed · exit 0 · 12:03]`: how a session ended, in local time.
fn ended_line(record: &SessionRecord) -> String {
    let how = record
        .failure_reason
        .clone()
        .unwrap_or_else(|| format!("exit {}", record.exit_code.map_or("?".into(), |c| c.to_string())));
    let clock = chrono::DateTime::parse_from_rfc3339(&record.updated_at)
        .map(|at| at.with_timezone(&chrono::Local).format("%H:%M").to_string())
        .unwrap_or_default();
    format!("[lulu: {} · {how} · {clock}]", record.status.as_str())
}

/// Answer `reply` from a job that runs off the loop (a store query, a file
/// read), so the loop serves others meanwhile.
fn answer_later(
    reply: Option<Reply>,
    job: impl std::future::Future<Output = anyhow::Result<Payload>> + Send + 'static,
) {
    tokio::spawn(async move { respond(reply, job.await) });
}

fn respond(reply: Option<Reply>, result: anyhow::Result<Payload>) {
    match reply {
        Some(reply) => {
            let _ = reply.send(result);
        }
        None => {
            if let Err(err) = result {
                tracing::info!("notification failed: {err:#}");
            }
        }
    }
}

/// Per-session files other than the log (agent settings).
pub fn session_dir(state_dir: &Path, id: &SessionId) -> PathBuf {
    state_dir.join("sessions").join(id.as_str())
}

pub fn log_path(state_dir: &Path, id: &SessionId) -> PathBuf {
    state_dir.join("logs").join(format!("{id}.log"))
}

#[cfg(test)]
mod tests;

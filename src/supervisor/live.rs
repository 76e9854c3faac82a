//! What the supervisor keeps of a session: its record, and while it runs,
//! its live handles and the options it was started with.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::session_task::SessionCmd;
use super::{DEFAULT_SCROLLBACK, Reply, fanout};
use crate::agent::Agents;
use crate::model::SessionRecord;
use crate::pty::PtyControl;

/// A running session's handles and what its start decided.
pub(super) struct Live {
    pub(super) control: PtyControl,
    pub(super) screen: fanout::SharedScreen,
    pub(super) commands: mpsc::UnboundedSender<SessionCmd>,
    pub(super) task: JoinHandle<()>,
    pub(super) stop_requested: bool,
    /// Remove the session once it has exited (a `delete` of a live session;
    /// `Some(force)`), then answer these.
    pub(super) delete_requested: Option<bool>,
    pub(super) delete_waiters: Vec<Reply>,
    /// Delay between a sent text and its Enter.
    pub(super) submit_delay: Duration,
    /// `worktree.cleanup = 'delete_if_merged'` of the editor that started it.
    pub(super) cleanup_merged: bool,
    /// The secret this session's hooks must present.
    pub(super) token: String,
    /// The hook event whose questions wait for the user (the adapter's
    /// wiring says which); others are answered by rules alone.
    pub(super) asks_through: Option<&'static str>,
    /// A first prompt to type once the session is ready for input.
    pub(super) prompt: Option<String>,
    /// Its resource limits as set up (cgroups, rlimits).
    pub(super) limits: Option<crate::limits::Applied>,
    /// A plain shell (the pool's kind), and when it went live: what may be
    /// recycled into the pool when stopped (`pool.recycle`).
    pub(super) plain_shell: bool,
    pub(super) born: std::time::Instant,
    /// When `ahead` was last recounted.
    pub(super) ahead_checked: Option<std::time::Instant>,
    /// The agent's transcript (from its hooks, or found by the search from
    /// the session's start) and what it has cost so far.
    pub(super) transcript: Option<PathBuf>,
    pub(super) transcript_search: Option<(crate::adapter::TranscriptSearch, std::time::SystemTime)>,
    pub(super) tally: Option<crate::cost::Tally>,
    pub(super) reading_transcript: bool,
    pub(super) last_activity_write: std::time::Instant,
}

/// The options that shape a session, captured when it starts: those of the
/// editor that starts it (see `Supervisor::options`).
#[derive(Clone)]
pub(crate) struct SessionOptions {
    pub(super) agents: Agents,
    pub(super) worktree_enabled: bool,
    pub(super) worktree_root: Option<PathBuf>,
    pub(super) worktree_branch: String,
    pub(super) worktree_copy: Vec<String>,
    pub(super) worktree_setup: Option<Vec<String>>,
    pub(super) cleanup_merged: bool,
    pub(super) scrollback: usize,
}

impl Default for SessionOptions {
    fn default() -> SessionOptions {
        SessionOptions {
            agents: Agents::default(),
            worktree_enabled: true,
            worktree_root: None,
            worktree_branch: crate::worktree::DEFAULT_BRANCH.to_string(),
            worktree_copy: Vec::new(),
            worktree_setup: None,
            cleanup_merged: false,
            scrollback: DEFAULT_SCROLLBACK,
        }
    }
}

pub(super) struct Entry {
    pub(super) record: SessionRecord,
    pub(super) live: Option<Live>,
}

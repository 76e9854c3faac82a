//! What an editor (or `lulu` from a shell) may ask of the host: one typed
//! [`Request`] per method, decoded and checked in `rpc/` and served by the
//! supervisor.

use crate::approval::RuleSpec;
use crate::worktree::Strategy;

use super::opts::*;

#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Hello(Box<Hello>),
    Start(Box<StartOpts>),
    List,
    Get(String),
    Send {
        session: String,
        text: String,
    },
    Write {
        session: String,
        bytes: Vec<u8>,
    },
    Resize {
        session: String,
        cols: u16,
        rows: u16,
    },
    Stop {
        session: String,
        force: bool,
    },
    Delete {
        session: String,
        force: bool,
    },
    Attach {
        session: String,
        chan: i64,
        /// The terminal's size: the session is resized to it before the
        /// terminal is painted.
        size: Option<(u16, u16)>,
        opts: AttachOpts,
    },
    Detach {
        session: String,
        chan: i64,
    },
    Diff(String),
    Detail(String),
    /// An ACP session's conversation, whole.
    Chat(String),
    /// Push the session's branch.
    Push {
        session: String,
        opts: PushOpts,
    },
    /// A pull request's draft for the session.
    PrDraft(String),
    /// Push, then open a pull (merge) request.
    Pr {
        session: String,
        opts: PrOpts,
    },
    /// The session's screen as text: its last `rows` rows.
    Screen {
        session: String,
        rows: usize,
    },
    /// Send this editor `screen` events for the session (none: stop).
    Watch {
        session: Option<String>,
        rows: usize,
    },
    Merge {
        session: String,
        strategy: Strategy,
        /// The commit's message instead of lulu's (for a squash: the
        /// session's commit messages).
        message: Option<String>,
    },
    Rebase {
        session: String,
        step: RebaseStep,
    },
    /// The files a session changed against its base, with line counts.
    ReviewFiles(String),
    /// A file as it was at the session's fork from its base.
    ReviewBase {
        session: String,
        path: String,
    },
    /// A file of the session's worktree as it is now (for an editor that
    /// cannot read the worktree itself: a remote host's).
    ReviewRead {
        session: String,
        path: String,
    },
    /// Write a file of the session's worktree (the user's edit in review).
    ReviewWrite {
        session: String,
        path: String,
        content: Vec<u8>,
    },
    AddComment {
        session: String,
        comment: crate::store::Comment,
    },
    Comments(String),
    ClearComments(String),
    /// One comment of a session, by id.
    RemoveComment {
        session: String,
        id: i64,
    },
    SaveTemplate {
        name: String,
        spec: String,
    },
    Templates,
    /// The git activity feed, newest first.
    Activity,
    Trust(String),
    Usage,
    PoolStatus,
    AgentInfo,
    SaveSnapshot {
        name: String,
        specs: String,
    },
    Snapshot(String),
    Snapshots,
    Prune {
        dry_run: bool,
    },
    Approvals(ApprovalListOpts),
    Decide {
        approval: i64,
        choice: Choice,
        opts: DecideOpts,
    },
    /// A file tool's question as a change to review: the file now and after.
    Review(i64),
    Rules,
    AddRule {
        spec: Box<RuleSpec>,
        index: Option<usize>,
    },
    RemoveRule(i64),
    MoveRule {
        rule: i64,
        index: usize,
    },
    DaemonStatus,
    DaemonStop,
}

impl Request {
    /// Requests that decide approvals or change what decides them: refused
    /// to a caller that runs inside one of the host's sessions.
    pub fn editor_only(&self) -> bool {
        matches!(
            self,
            Request::Decide { .. }
                | Request::SaveTemplate { .. }
                | Request::AddComment { .. }
                | Request::ReviewWrite { .. }
                | Request::ClearComments(_)
                | Request::RemoveComment { .. }
                | Request::AddRule { .. }
                | Request::RemoveRule(_)
                | Request::MoveRule { .. }
                | Request::Trust(_)
        )
    }
}

//! The host's answers, typed: each reply and event payload that is not a
//! record is a struct here, made a [`super::Payload`] and turned into
//! msgpack at the edge alone (`rpc/`), so that its field names are written
//! once and the Lua side (`lua/lulu/`) reads what the compiler checked.

use serde::Serialize;

use crate::model::SessionRecord;
use crate::worktree::history::Hunk;

/// `lulu.hello`.
#[derive(Debug, Serialize)]
pub struct Hello {
    pub version: &'static str,
    pub pid: u32,
    /// `embedded` or `daemon` ([`crate::identity::HostKind`]).
    pub mode: &'static str,
    pub build: &'static str,
    pub live: usize,
}

/// `lulu.daemon_status`.
#[derive(Debug, Serialize)]
pub struct DaemonStatus {
    pub pid: u32,
    pub version: &'static str,
    pub build: &'static str,
    pub live: usize,
    pub clients: usize,
    pub socket: String,
    pub log: String,
}

/// `lulu.pool_status`.
#[derive(Debug, Serialize)]
pub struct PoolStatus {
    pub size: usize,
    pub idle: usize,
    pub ready: usize,
    pub spawning: usize,
    pub claimed: u64,
    pub replaced: u64,
    pub recycled: u64,
    pub pids: Vec<u32>,
    pub shell: String,
    pub failures: u32,
    /// Seconds until a failing pool tries again.
    pub retry_in: Option<u64>,
    /// Why it stopped trying.
    pub given_up: Option<String>,
}

/// `lulu.repo_trust`.
#[derive(Debug, Serialize)]
pub struct Trusted {
    pub path: String,
    pub sha256: String,
}

/// A merge or rebase that went through (`commit`: the new tip, none for
/// an abort).
#[derive(Debug, Serialize)]
pub struct Landed {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl Landed {
    pub fn at(commit: Option<String>) -> Landed {
        Landed { ok: true, commit }
    }
}

/// A merge or rebase stopped at conflicts: where they are.
#[derive(Debug, Serialize)]
pub struct Conflicted<'a> {
    pub ok: bool,
    pub message: String,
    pub files: &'a [String],
    pub conflicts: &'a [Hunk],
}

/// A worktree a prune or clean-up retired.
#[derive(Debug, Serialize)]
pub struct Retired {
    pub name: String,
    pub branch: String,
    pub worktree: String,
}

/// The `usage` event: worktrees and their size on disk.
#[derive(Debug, Serialize)]
pub struct WorktreeUsage {
    pub count: usize,
    pub bytes: u64,
}

/// The `approval_resolved` event.
#[derive(Debug, Serialize)]
pub struct ApprovalResolved<'a> {
    pub id: i64,
    pub session_id: &'a str,
    /// `allow`, `deny`, `withdrawn`, `expired`, …
    pub outcome: &'a str,
}

/// `lulu.session_detail`.
#[derive(Debug, Serialize)]
pub struct Detail {
    pub record: SessionRecord,
    pub events: Vec<HistoryEvent>,
    /// The screen's non-blank lines.
    pub output: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct HistoryEvent {
    pub at: String,
    pub kind: String,
    pub detail: String,
}

/// `lulu.approval_review`: a file tool's question as a diff.
#[derive(Debug, Serialize)]
pub struct Review {
    pub id: i64,
    pub session_name: String,
    pub tool: String,
    pub path: String,
    /// The path as shown (relative to the session's directory).
    pub shown: String,
    /// The file now; none for a new file.
    pub current: Option<String>,
    pub proposed: String,
    /// Whether an edited version can go back to the agent.
    pub editable: bool,
}

/// A rule as the editor lists it: its id, then its spec's fields.
#[derive(Debug, Serialize)]
pub struct RuleView<'a> {
    pub id: i64,
    #[serde(flatten)]
    pub spec: &'a crate::approval::RuleSpec,
}

/// The answer to a hello sent as a notification (the `hello` event): the
/// hello's reply, with the sessions and the questions waiting.
#[derive(Debug, Serialize)]
pub struct Welcome<S: Serialize, A: Serialize> {
    #[serde(flatten)]
    pub hello: Hello,
    pub sessions: S,
    pub approvals: A,
}

/// An answer that is an error, where the editor reads it as a field.
#[derive(Debug, Serialize)]
pub struct Failed {
    pub error: String,
}

/// `lulu.agent_info`: one agent the editor configured.
#[derive(Debug, Serialize)]
pub struct AgentInfo<'a, I: Serialize> {
    pub name: &'a str,
    pub integration: I,
    /// The program it runs, or why it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_flag: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proven_with: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relies_on: Option<&'static str>,
}

/// A watched session's screen (the `screen` event): the screen, and whose.
#[derive(Debug, Serialize)]
pub struct ScreenOf<'a, T: Serialize> {
    #[serde(flatten)]
    pub screen: T,
    pub session: &'a str,
}

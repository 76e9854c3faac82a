//! The RPC surface, and the only file that touches `rmpv::Value`: method name
//! plus arguments in, a typed [`Request`] out (every argument checked, never
//! indexed blindly), and replies and events back to values.
//!
//! The method table here is mirrored in `lua/lulu/rpc.lua`.

use std::collections::BTreeMap;

use rmpv::Value;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::agent::AgentSpec;
use crate::approval::RuleSpec;
use crate::worktree::Strategy;

mod decode;

pub use decode::decode;

pub const HELLO: &str = "lulu.hello";
pub const SESSION_START: &str = "lulu.session_start";
pub const SESSION_LIST: &str = "lulu.session_list";
pub const SESSION_GET: &str = "lulu.session_get";
pub const SESSION_SEND: &str = "lulu.session_send";
pub const SESSION_WRITE: &str = "lulu.session_write";
pub const SESSION_RESIZE: &str = "lulu.session_resize";
pub const SESSION_STOP: &str = "lulu.session_stop";
pub const SESSION_DELETE: &str = "lulu.session_delete";
pub const SESSION_ATTACH: &str = "lulu.session_attach";
pub const SESSION_DETACH: &str = "lulu.session_detach";
pub const SESSION_DIFF: &str = "lulu.session_diff";
pub const SESSION_DETAIL: &str = "lulu.session_detail";
pub const SESSION_SCREEN: &str = "lulu.session_screen";
pub const SESSION_WATCH: &str = "lulu.session_watch";
pub const SESSION_MERGE: &str = "lulu.session_merge";
pub const SESSION_REBASE: &str = "lulu.session_rebase";
pub const REVIEW_FILES: &str = "lulu.review_files";
pub const REVIEW_BASE: &str = "lulu.review_base";
pub const REVIEW_READ: &str = "lulu.review_read";
pub const REVIEW_WRITE: &str = "lulu.review_write";
pub const COMMENT_ADD: &str = "lulu.comment_add";
pub const COMMENT_LIST: &str = "lulu.comment_list";
pub const COMMENT_CLEAR: &str = "lulu.comment_clear";
pub const TEMPLATE_SAVE: &str = "lulu.template_save";
pub const TEMPLATE_LIST: &str = "lulu.template_list";
pub const ACTIVITY_LIST: &str = "lulu.activity_list";

/// Every method, once: the table the Lua side (`lua/lulu/rpc.lua`) and the
/// events it handles (`lua/lulu/events.lua`, [`EVENTS`]) are checked against.
pub const METHODS: &[&str] = &[
    HELLO,
    SESSION_SCREEN,
    SESSION_WATCH,
    SESSION_START,
    SESSION_LIST,
    SESSION_GET,
    SESSION_SEND,
    SESSION_WRITE,
    SESSION_RESIZE,
    SESSION_STOP,
    SESSION_DELETE,
    SESSION_ATTACH,
    SESSION_DETACH,
    SESSION_DIFF,
    SESSION_DETAIL,
    SESSION_MERGE,
    SESSION_REBASE,
    REVIEW_FILES,
    REVIEW_BASE,
    REVIEW_READ,
    REVIEW_WRITE,
    COMMENT_ADD,
    COMMENT_LIST,
    COMMENT_CLEAR,
    TEMPLATE_SAVE,
    TEMPLATE_LIST,
    ACTIVITY_LIST,
    REPO_TRUST,
    WORKTREE_USAGE,
    WORKTREE_PRUNE,
    POOL_STATUS,
    AGENT_INFO,
    SNAPSHOT_SAVE,
    SNAPSHOT_GET,
    SNAPSHOT_LIST,
    DAEMON_STATUS,
    DAEMON_STOP,
    APPROVAL_LIST,
    APPROVAL_DECIDE,
    APPROVAL_REVIEW,
    RULE_LIST,
    RULE_ADD,
    RULE_REMOVE,
    RULE_MOVE,
];

/// Every event the host sends an editor (`nvim_exec_lua` of
/// `lulu.events.dispatch(name, payload)`); `lua/lulu/events.lua` has a
/// handler for each (a test checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A session's record changed.
    Session,
    /// A session ended (its record, after the last output).
    Exit,
    /// A session was deleted (its id).
    Deleted,
    /// A watched session's screen (previews).
    Screen,
    /// A question for the user.
    Approval,
    /// A question was answered, withdrawn or expired.
    ApprovalResolved,
    /// The rules, as they are now.
    Rules,
    /// Worktree count and size.
    Usage,
    /// A warning for the user.
    Notice,
    /// Something happened on a session's branch.
    Activity,
    /// The answer to a hello sent as a notification.
    Hello,
}

impl Event {
    pub const ALL: [Event; 11] = [
        Event::Session,
        Event::Exit,
        Event::Deleted,
        Event::Screen,
        Event::Approval,
        Event::ApprovalResolved,
        Event::Rules,
        Event::Usage,
        Event::Notice,
        Event::Activity,
        Event::Hello,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Event::Session => "session",
            Event::Exit => "exit",
            Event::Deleted => "deleted",
            Event::Screen => "screen",
            Event::Approval => "approval",
            Event::ApprovalResolved => "approval_resolved",
            Event::Rules => "rules",
            Event::Usage => "usage",
            Event::Notice => "notice",
            Event::Activity => "activity",
            Event::Hello => "hello",
        }
    }
}
pub const REPO_TRUST: &str = "lulu.repo_trust";
pub const WORKTREE_USAGE: &str = "lulu.worktree_usage";
pub const WORKTREE_PRUNE: &str = "lulu.worktree_prune";
pub const POOL_STATUS: &str = "lulu.pool_status";
pub const AGENT_INFO: &str = "lulu.agent_info";
pub const SNAPSHOT_SAVE: &str = "lulu.snapshot_save";
pub const SNAPSHOT_GET: &str = "lulu.snapshot_get";
pub const SNAPSHOT_LIST: &str = "lulu.snapshot_list";
pub const APPROVAL_LIST: &str = "lulu.approval_list";
pub const APPROVAL_DECIDE: &str = "lulu.approval_decide";
pub const APPROVAL_REVIEW: &str = "lulu.approval_review";
pub const RULE_LIST: &str = "lulu.rule_list";
pub const RULE_ADD: &str = "lulu.rule_add";
pub const RULE_REMOVE: &str = "lulu.rule_remove";
pub const RULE_MOVE: &str = "lulu.rule_move";
pub const DAEMON_STATUS: &str = "lulu.daemon_status";
pub const DAEMON_STOP: &str = "lulu.daemon_stop";

/// Most rows of screen one `session_screen` answers with.
const MAX_SCREEN_ROWS: usize = 500;

/// Longest session reference (name or id) accepted.
const MAX_REF: usize = 256;

/// What the editor tells the host about itself when it connects.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Hello {
    #[serde(default)]
    pub version: String,
    /// What the editor calls this host (`hosts.NAME`): echoed with each
    /// event. A hello sent as a notification is answered with a `hello`
    /// event that also carries the sessions and pending questions.
    pub tag: Option<String>,
    #[serde(default)]
    pub config: HostConfig,
}

/// The part of the user's `setup()` options the host acts on.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    pub max_sessions: Option<usize>,
    pub scrollback: Option<usize>,
    #[serde(default, deserialize_with = "lenient_map")]
    pub agents: BTreeMap<String, AgentSpec>,
    /// Seconds a pending approval waits for the user before answering "ask".
    pub approval_timeout: Option<u64>,
    /// Sessions in a git repository get their own worktree (default true).
    pub worktree: Option<bool>,
    /// Where worktrees go instead of `<repo>/.lulu/worktrees`.
    pub worktree_root: Option<String>,
    /// Globs of untracked files copied from the main worktree into new ones.
    #[serde(default)]
    pub worktree_copy: Vec<String>,
    /// argv run in a new worktree before the agent starts.
    pub worktree_setup: Option<Vec<String>>,
    /// What happens to an ended session's worktree: `keep` or `delete_if_merged`.
    pub worktree_cleanup: Option<String>,
    /// Idle shells kept warm (default 2, at most 6).
    pub pool_size: Option<usize>,
    /// Seconds a warm shell may take to print its prompt.
    pub pool_ready_timeout: Option<f64>,
    /// A stopped plain shell session goes back to the pool (reset) instead
    /// of being killed, while younger than `pool_max_age` seconds.
    #[serde(default)]
    pub pool_recycle: bool,
    pub pool_max_age: Option<f64>,
    /// Per model-name prefix, USD per million tokens; over the defaults.
    #[serde(default, deserialize_with = "lenient_map")]
    pub prices: BTreeMap<String, crate::cost::Price>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartOpts {
    pub agent: Option<String>,
    pub name: Option<String>,
    pub cwd: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default, deserialize_with = "lenient_map")]
    pub env: BTreeMap<String, String>,
    /// `Some(true)`: a worktree is required; `Some(false)`: run in place.
    pub worktree: Option<bool>,
    /// Branch or commit the session's branch starts from (default HEAD).
    pub base: Option<String>,
    /// Restoring: an ended session of this name is replaced, and its branch
    /// and worktree are used again.
    #[serde(default)]
    pub reuse: bool,
    /// The agent's own id of a conversation to resume (a session's
    /// `conversation`), through the agent's resume flag.
    pub resume: Option<String>,
    /// Typed into the session once it is ready for input (its screen drew
    /// and held still): a template's first prompt.
    pub prompt: Option<String>,
    /// This start's `worktree.copy` and `worktree.setup` (a template's),
    /// instead of the editor's.
    pub worktree_copy: Option<Vec<String>>,
    pub worktree_setup: Option<Vec<String>>,
    /// `on-failure`: a session that fails starts again, with back-off.
    pub restart: Option<String>,
    /// Restarts allowed in an hour (default 5).
    pub restart_limit: Option<u32>,
    /// Memory, CPU and process limits for the session's process tree.
    pub limits: Option<crate::limits::Limits>,
    /// Run the session's process tree in this sandbox.
    pub sandbox: Option<crate::sandbox::Sandbox>,
    pub cols: Option<u16>,
    pub rows: Option<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalListOpts {
    /// The record of past decisions instead of the pending requests.
    #[serde(default)]
    pub history: bool,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneOpts {
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleAddOpts {
    /// Where to insert (0 = first); default last.
    pub index: Option<usize>,
}

/// The user's answer to a pending approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Allow,
    Deny,
    AlwaysAllow,
    AlwaysDeny,
}

/// What may come with an answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideOpts {
    /// Told to the agent with a deny (what to do instead).
    pub message: Option<String>,
    /// With an allow of a file tool: the file as the user accepted it
    /// (reviewed, maybe edited); the agent is given the input that makes it.
    pub content: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeOpts {
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentOpts {
    path: String,
    line: i64,
    end_line: Option<i64>,
    text: String,
}

/// Longest review comment.
pub const MAX_COMMENT: usize = 16 * 1024;

/// Largest file a review reads or writes through the host.
pub const MAX_REVIEW_FILE: usize = 4 * 1024 * 1024;

/// Longest commit message a merge takes.
pub const MAX_COMMIT_MESSAGE: usize = 64 * 1024;

/// `:LuluRebase {session} [continue|abort]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebaseStep {
    Start,
    Continue,
    Abort,
}

/// Longest message sent to an agent with a deny.
pub const MAX_DENY_MESSAGE: usize = 4096;

/// How a terminal attaches (`session_attach`'s fifth argument).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct AttachOpts {
    /// The terminal showed this session before it was detached (a buffer
    /// that went lazy): catch it up from there instead of painting it
    /// whole.
    #[serde(default)]
    pub resume: bool,
    /// Lines of scrollback the terminal keeps (its buffer's 'scrollback').
    pub scrollback: Option<usize>,
    /// The editor's colours (`#rrggbb`), which the host reports to a
    /// program asking (OSC 10/11) while no terminal shows it.
    #[serde(default, deserialize_with = "hex_colour")]
    pub fg: Option<(u8, u8, u8)>,
    #[serde(default, deserialize_with = "hex_colour")]
    pub bg: Option<(u8, u8, u8)>,
}

/// `#rrggbb`, or nothing for anything else (a colour is a nicety: a bad
/// one is not worth refusing the attach over).
fn hex_colour<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<(u8, u8, u8)>, D::Error> {
    let text = Option::<String>::deserialize(deserializer).unwrap_or_default();
    Ok(text.and_then(|text| {
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 || !hex.is_ascii() {
            return None;
        }
        let byte = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).ok();
        Some((byte(0)?, byte(2)?, byte(4)?))
    }))
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopOpts {
    #[serde(default)]
    pub force: bool,
}

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
                | Request::AddRule { .. }
                | Request::RemoveRule(_)
                | Request::MoveRule { .. }
                | Request::Trust(_)
        )
    }
}

impl PartialEq for Hello {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProtocolError {
    #[error("unknown method '{0}'")]
    UnknownMethod(String),
    #[error("{method} takes {want}, got {got} argument(s)")]
    Arity {
        method: String,
        want: &'static str,
        got: usize,
    },
    #[error("{method}: {what} {detail}")]
    BadArgument {
        method: String,
        what: &'static str,
        detail: String,
    },
}

/// Accept `{}` sent as an empty list: Lua cannot tell an empty table's kind.
pub fn lenient_map<'de, D, V>(de: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum MapOrEmpty<V> {
        Map(BTreeMap<String, V>),
        List(Vec<serde::de::IgnoredAny>),
    }
    match MapOrEmpty::deserialize(de) {
        Ok(MapOrEmpty::Map(map)) => Ok(map),
        Ok(MapOrEmpty::List(items)) if items.is_empty() => Ok(BTreeMap::new()),
        _ => Err(serde::de::Error::custom("expected a table of string keys")),
    }
}

/// Codes carried in error replies, `[code, message]`. They are Neovim's own
/// error types: it shows the message for these two and "unknown error" for
/// any other code.
#[derive(Debug, Clone, Copy)]
pub enum ErrorCode {
    /// The request was understood but could not be carried out.
    Failed = 0,
    /// The request itself is malformed.
    BadRequest = 1,
}

pub fn error_value(code: ErrorCode, message: &str) -> Value {
    Value::Array(vec![Value::from(code as i64), Value::from(message)])
}

/// Decode a table through JSON, for the same reason replies are encoded
/// that way: rmpv's serde support expects enums and structs as arrays.
fn from_table<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    let json = to_json(value)?;
    serde_json::from_value(json).map_err(|err| err.to_string())
}

/// Text must be UTF-8: a name or a path that is not would be silently
/// rewritten otherwise.
fn to_json(value: Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    let text = |s: rmpv::Utf8String| {
        s.into_str()
            .ok_or_else(|| "they hold text that is not valid UTF-8".to_string())
    };
    Ok(match value {
        Value::Nil => J::Null,
        Value::Boolean(b) => J::Bool(b),
        Value::Integer(n) => n
            .as_i64()
            .map(J::from)
            .or_else(|| n.as_u64().map(J::from))
            .unwrap_or(J::Null),
        Value::F32(f) => J::from(f64::from(f)),
        Value::F64(f) => J::from(f),
        Value::String(s) => J::String(text(s)?),
        Value::Binary(b) => {
            J::String(String::from_utf8(b).map_err(|_| "they hold bytes that are not valid UTF-8".to_string())?)
        }
        Value::Array(items) => J::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Map(pairs) => J::Object(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(s) => text(s)?,
                        other => other.to_string(),
                    };
                    Ok((key, to_json(v)?))
                })
                .collect::<Result<_, String>>()?,
        ),
        Value::Ext(..) => return Err("they hold an extension value".to_string()),
    })
}

/// Encode a reply. Through JSON on purpose: rmpv's own serializer writes
/// structs as arrays, and the Lua side wants tables with keys.
pub fn to_value<T: Serialize>(value: &T) -> Value {
    match serde_json::to_value(value) {
        Ok(json) => from_json(json),
        Err(err) => {
            tracing::error!(%err, "reply did not encode");
            Value::Nil
        }
    }
}

fn from_json(json: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Boolean(b),
        J::Number(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_u64().map(Value::from))
            .unwrap_or_else(|| Value::F64(n.as_f64().unwrap_or(0.0))),
        J::String(s) => Value::from(s),
        J::Array(items) => Value::Array(items.into_iter().map(from_json).collect()),
        J::Object(map) => Value::Map(map.into_iter().map(|(k, v)| (Value::from(k), from_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests;

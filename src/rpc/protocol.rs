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

/// A path inside a worktree as the user names it: relative, no `..`, no
/// NUL, not too long.
fn is_relative_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 4096
        && !path.starts_with('/')
        && !path.starts_with('-')
        && !path.contains('\0')
        && !path.split('/').any(|part| part == "..")
}

fn relative_path(a: &mut Args<'_>, index: usize) -> Result<String, ProtocolError> {
    let raw = a.bytes(index, "path")?;
    let path = String::from_utf8(raw).map_err(|_| a.bad("path", "is not valid UTF-8"))?;
    if !is_relative_path(&path) {
        return Err(a.bad("path", "must be relative to the worktree, without '..'"));
    }
    Ok(path)
}

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

/// Positional arguments with the method name, for error messages.
struct Args<'a> {
    method: &'a str,
    values: Vec<Value>,
}

impl<'a> Args<'a> {
    fn expect(
        method: &'a str,
        values: Vec<Value>,
        min: usize,
        max: usize,
        want: &'static str,
    ) -> Result<Self, ProtocolError> {
        if values.len() < min || values.len() > max {
            return Err(ProtocolError::Arity {
                method: method.to_string(),
                want,
                got: values.len(),
            });
        }
        Ok(Args { method, values })
    }

    fn bad(&self, what: &'static str, detail: impl Into<String>) -> ProtocolError {
        ProtocolError::BadArgument {
            method: self.method.to_string(),
            what,
            detail: detail.into(),
        }
    }

    fn is_nil(&self, index: usize) -> bool {
        self.values.get(index).is_none_or(Value::is_nil)
    }

    fn take(&mut self, index: usize) -> Value {
        self.values
            .get_mut(index)
            .map(|v| std::mem::replace(v, Value::Nil))
            .unwrap_or(Value::Nil)
    }

    fn session(&mut self, index: usize) -> Result<String, ProtocolError> {
        let raw = self.take(index);
        let Value::String(s) = raw else {
            return Err(self.bad("session", format!("must be a name or id string, got {}", kind(&raw))));
        };
        let Some(s) = s.into_str() else {
            return Err(self.bad("session", "is not valid UTF-8"));
        };
        if s.is_empty() || s.len() > MAX_REF || s.contains('\0') {
            return Err(self.bad("session", format!("must be 1-{MAX_REF} bytes with no NUL")));
        }
        Ok(s)
    }

    /// Text or binary: Neovim sends Lua strings as msgpack str even when they
    /// hold arbitrary bytes, so both carry raw bytes here.
    fn bytes(&mut self, index: usize, what: &'static str) -> Result<Vec<u8>, ProtocolError> {
        match self.take(index) {
            Value::String(s) => Ok(s.into_bytes()),
            Value::Binary(b) => Ok(b),
            other => Err(self.bad(what, format!("must be a string, got {}", kind(&other)))),
        }
    }

    fn int<T: TryFrom<i64>>(&mut self, index: usize, what: &'static str, range: &str) -> Result<T, ProtocolError> {
        let raw = self.take(index);
        raw.as_i64()
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| self.bad(what, format!("must be an integer in {range}, got {}", describe(&raw))))
    }

    /// `cols, rows` at `index` and the next: a terminal's size, each 1..=65535.
    fn size(&mut self, index: usize) -> Result<(u16, u16), ProtocolError> {
        let mut dimension = |at, what| {
            let n: u16 = self.int(at, what, "1..=65535")?;
            if n == 0 {
                return Err(self.bad(what, "must be an integer in 1..=65535, got 0".to_string()));
            }
            Ok(n)
        };
        Ok((dimension(index, "cols")?, dimension(index + 1, "rows")?))
    }

    fn options<T: DeserializeOwned + Default>(&mut self, index: usize) -> Result<T, ProtocolError> {
        match self.take(index) {
            Value::Nil => Ok(T::default()),
            Value::Array(a) if a.is_empty() => Ok(T::default()),
            value @ Value::Map(_) => {
                from_table(value).map_err(|err| self.bad("options", format!("are invalid: {err}")))
            }
            other => Err(self.bad("options", format!("must be a table, got {}", kind(&other)))),
        }
    }
}

pub fn decode(method: &str, values: Vec<Value>) -> Result<Request, ProtocolError> {
    let args = move |min, max, want| Args::expect(method, values, min, max, want);
    Ok(match method {
        HELLO => Request::Hello(Box::new(args(0, 1, "one table")?.options(0)?)),
        SESSION_START => Request::Start(Box::new(args(0, 1, "an options table")?.options(0)?)),
        SESSION_LIST => {
            args(0, 0, "no arguments")?;
            Request::List
        }
        SESSION_GET => Request::Get(args(1, 1, "(session)")?.session(0)?),
        SESSION_SEND => {
            let mut a = args(2, 2, "(session, text)")?;
            let session = a.session(0)?;
            let text = a.bytes(1, "text")?;
            let text =
                String::from_utf8(text).map_err(|_| a.bad("text", "is not valid UTF-8; use write for raw bytes"))?;
            Request::Send { session, text }
        }
        SESSION_WRITE => {
            let mut a = args(2, 2, "(session, bytes)")?;
            Request::Write {
                session: a.session(0)?,
                bytes: a.bytes(1, "bytes")?,
            }
        }
        SESSION_RESIZE => {
            let mut a = args(3, 3, "(session, cols, rows)")?;
            let session = a.session(0)?;
            let (cols, rows) = a.size(1)?;
            Request::Resize { session, cols, rows }
        }
        SESSION_STOP | SESSION_DELETE => {
            let mut a = args(1, 2, "(session[, {force}])")?;
            let session = a.session(0)?;
            let force = a.options::<StopOpts>(1)?.force;
            if method == SESSION_STOP {
                Request::Stop { session, force }
            } else {
                Request::Delete { session, force }
            }
        }
        SESSION_ATTACH => {
            let mut a = args(2, 5, "(session, channel[, cols, rows[, {resume, scrollback}]])")?;
            let session = a.session(0)?;
            let chan = a.int(1, "channel", "1..")?;
            let size = if a.is_nil(2) { None } else { Some(a.size(2)?) };
            let opts = a.options(4)?;
            Request::Attach {
                session,
                chan,
                size,
                opts,
            }
        }
        SESSION_DETACH => {
            let mut a = args(2, 2, "(session, channel)")?;
            let session = a.session(0)?;
            let chan = a.int(1, "channel", "1..")?;
            Request::Detach { session, chan }
        }
        SESSION_DIFF => Request::Diff(args(1, 1, "(session)")?.session(0)?),
        SESSION_DETAIL => Request::Detail(args(1, 1, "(session)")?.session(0)?),
        SESSION_SCREEN => {
            let mut a = args(1, 2, "(session[, rows])")?;
            let session = a.session(0)?;
            let rows = if a.is_nil(1) {
                MAX_SCREEN_ROWS
            } else {
                a.int::<usize>(1, "rows", "1..=500")?.clamp(1, MAX_SCREEN_ROWS)
            };
            Request::Screen { session, rows }
        }
        SESSION_WATCH => {
            let mut a = args(0, 2, "([session[, rows]])")?;
            let session = if a.is_nil(0) { None } else { Some(a.session(0)?) };
            let rows = if a.is_nil(1) {
                MAX_SCREEN_ROWS
            } else {
                a.int::<usize>(1, "rows", "1..=500")?.clamp(1, MAX_SCREEN_ROWS)
            };
            Request::Watch { session, rows }
        }
        SESSION_MERGE => {
            let mut a = args(1, 3, "(session[, strategy[, {message}]])")?;
            let session = a.session(0)?;
            let opts: MergeOpts = a.options(2)?;
            if opts
                .message
                .as_ref()
                .is_some_and(|m| m.trim().is_empty() || m.len() > MAX_COMMIT_MESSAGE)
            {
                return Err(a.bad("message", format!("must be 1 to {MAX_COMMIT_MESSAGE} bytes of text")));
            }
            let strategy = match a.take(1) {
                Value::Nil => Strategy::Merge,
                Value::String(s) => s
                    .as_str()
                    .and_then(Strategy::parse)
                    .ok_or_else(|| a.bad("strategy", "must be merge, squash or rebase"))?,
                other => return Err(a.bad("strategy", format!("must be a string, got {}", kind(&other)))),
            };
            Request::Merge {
                session,
                strategy,
                message: opts.message,
            }
        }
        REVIEW_FILES => Request::ReviewFiles(args(1, 1, "(session)")?.session(0)?),
        REVIEW_BASE => {
            let mut a = args(2, 2, "(session, path)")?;
            let session = a.session(0)?;
            let path = relative_path(&mut a, 1)?;
            Request::ReviewBase { session, path }
        }
        REVIEW_READ => {
            let mut a = args(2, 2, "(session, path)")?;
            let session = a.session(0)?;
            let path = relative_path(&mut a, 1)?;
            Request::ReviewRead { session, path }
        }
        REVIEW_WRITE => {
            let mut a = args(3, 3, "(session, path, content)")?;
            let session = a.session(0)?;
            let path = relative_path(&mut a, 1)?;
            let content = a.bytes(2, "content")?;
            if content.len() > MAX_REVIEW_FILE {
                return Err(a.bad("content", "is larger than 4 MiB"));
            }
            Request::ReviewWrite { session, path, content }
        }
        COMMENT_ADD => {
            let mut a = args(2, 2, "(session, {path, line, end_line, text})")?;
            let session = a.session(0)?;
            let opts: CommentOpts = match a.take(1) {
                value @ Value::Map(_) => {
                    from_table(value).map_err(|err| a.bad("comment", format!("is invalid: {err}")))?
                }
                other => return Err(a.bad("comment", format!("must be a table, got {}", kind(&other)))),
            };
            let line = opts.line;
            let end_line = opts.end_line.unwrap_or(line);
            if line < 1 || end_line < line {
                return Err(a.bad("comment", "needs line >= 1 and end_line >= line"));
            }
            if opts.text.trim().is_empty() || opts.text.len() > MAX_COMMENT {
                return Err(a.bad("comment", format!("text must be 1 to {MAX_COMMENT} bytes")));
            }
            if !is_relative_path(&opts.path) {
                return Err(a.bad("comment", "path must be relative to the worktree, without '..'"));
            }
            Request::AddComment {
                session,
                comment: crate::store::Comment {
                    id: 0,
                    path: opts.path,
                    line,
                    end_line,
                    text: opts.text,
                    created_at: String::new(),
                },
            }
        }
        COMMENT_LIST => Request::Comments(args(1, 1, "(session)")?.session(0)?),
        TEMPLATE_SAVE => {
            let mut a = args(2, 2, "(name, template)")?;
            let name = a.session(0)?;
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(a.bad("name", "may hold only letters, digits, '-', '_' and '.'"));
            }
            let spec = match a.take(1) {
                value @ Value::Map(_) => {
                    let json = to_json(value).map_err(|err| a.bad("template", err))?;
                    serde_json::to_string(&json).map_err(|err| a.bad("template", err.to_string()))?
                }
                other => return Err(a.bad("template", format!("must be a table, got {}", kind(&other)))),
            };
            Request::SaveTemplate { name, spec }
        }
        TEMPLATE_LIST => {
            args(0, 0, "no arguments")?;
            Request::Templates
        }
        ACTIVITY_LIST => {
            args(0, 0, "no arguments")?;
            Request::Activity
        }
        COMMENT_CLEAR => Request::ClearComments(args(1, 1, "(session)")?.session(0)?),
        SESSION_REBASE => {
            let mut a = args(1, 2, "(session[, start|continue|abort])")?;
            let session = a.session(0)?;
            let step = match a.take(1) {
                Value::Nil => RebaseStep::Start,
                Value::String(s) => match s.as_str() {
                    Some("start") => RebaseStep::Start,
                    Some("continue") => RebaseStep::Continue,
                    Some("abort") => RebaseStep::Abort,
                    _ => return Err(a.bad("step", "must be start, continue or abort")),
                },
                other => return Err(a.bad("step", format!("must be a string, got {}", kind(&other)))),
            };
            Request::Rebase { session, step }
        }
        REPO_TRUST => {
            let mut a = args(1, 1, "(directory)")?;
            let dir =
                String::from_utf8(a.bytes(0, "directory")?).map_err(|_| a.bad("directory", "is not valid UTF-8"))?;
            Request::Trust(dir)
        }
        SNAPSHOT_SAVE => {
            let mut a = args(2, 2, "(name, sessions)")?;
            let name = a.session(0)?;
            let specs = match a.take(1) {
                value @ Value::Array(_) => {
                    let json = to_json(value).map_err(|err| a.bad("sessions", err))?;
                    serde_json::to_string(&json).map_err(|err| a.bad("sessions", err.to_string()))?
                }
                other => return Err(a.bad("sessions", format!("must be a list, got {}", kind(&other)))),
            };
            Request::SaveSnapshot { name, specs }
        }
        SNAPSHOT_GET => Request::Snapshot(args(1, 1, "(name)")?.session(0)?),
        SNAPSHOT_LIST => {
            args(0, 0, "no arguments")?;
            Request::Snapshots
        }
        AGENT_INFO => {
            args(0, 0, "no arguments")?;
            Request::AgentInfo
        }
        POOL_STATUS => {
            args(0, 0, "no arguments")?;
            Request::PoolStatus
        }
        DAEMON_STATUS => {
            args(0, 0, "no arguments")?;
            Request::DaemonStatus
        }
        DAEMON_STOP => {
            args(0, 0, "no arguments")?;
            Request::DaemonStop
        }
        WORKTREE_USAGE => {
            args(0, 0, "no arguments")?;
            Request::Usage
        }
        WORKTREE_PRUNE => Request::Prune {
            dry_run: args(0, 1, "([{dry_run}])")?.options::<PruneOpts>(0)?.dry_run,
        },
        APPROVAL_LIST => Request::Approvals(args(0, 1, "([{history, limit}])")?.options(0)?),
        APPROVAL_DECIDE => {
            let mut a = args(2, 3, "(approval id, decision[, {message, content}])")?;
            let approval = a.int(0, "approval id", "1..")?;
            let raw = a.bytes(1, "decision")?;
            let choice = match raw.as_slice() {
                b"allow" => Choice::Allow,
                b"deny" => Choice::Deny,
                b"always_allow" => Choice::AlwaysAllow,
                b"always_deny" => Choice::AlwaysDeny,
                _ => return Err(a.bad("decision", "must be allow, deny, always_allow or always_deny")),
            };
            let opts: DecideOpts = a.options(2)?;
            if opts.message.as_ref().is_some_and(|m| m.len() > MAX_DENY_MESSAGE) {
                return Err(a.bad("message", format!("is longer than {MAX_DENY_MESSAGE} bytes")));
            }
            if opts.message.is_some() && !matches!(choice, Choice::Deny | Choice::AlwaysDeny) {
                return Err(a.bad("message", "goes only with a deny"));
            }
            if opts.content.is_some() && choice != Choice::Allow {
                return Err(a.bad("content", "goes only with allow (once)"));
            }
            Request::Decide { approval, choice, opts }
        }
        APPROVAL_REVIEW => Request::Review(args(1, 1, "(approval id)")?.int(0, "approval id", "1..")?),
        RULE_LIST => {
            args(0, 0, "no arguments")?;
            Request::Rules
        }
        RULE_ADD => {
            let mut a = args(1, 2, "(rule[, {index}])")?;
            let spec = match a.take(0) {
                value @ Value::Map(_) => {
                    from_table::<RuleSpec>(value).map_err(|err| a.bad("rule", format!("is invalid: {err}")))?
                }
                other => return Err(a.bad("rule", format!("must be a table, got {}", kind(&other)))),
            };
            let index = a.options::<RuleAddOpts>(1)?.index;
            Request::AddRule {
                spec: Box::new(spec),
                index,
            }
        }
        RULE_REMOVE => Request::RemoveRule(args(1, 1, "(rule id)")?.int(0, "rule id", "1..")?),
        RULE_MOVE => {
            let mut a = args(2, 2, "(rule id, index)")?;
            Request::MoveRule {
                rule: a.int(0, "rule id", "1..")?,
                index: a.int(1, "index", "0..")?,
            }
        }
        other => return Err(ProtocolError::UnknownMethod(other.to_string())),
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "a boolean",
        Value::Integer(_) => "a number",
        Value::F32(_) | Value::F64(_) => "a float",
        Value::String(_) => "a string",
        Value::Binary(_) => "binary data",
        Value::Array(_) => "a list",
        Value::Map(_) => "a table",
        Value::Ext(..) => "an extension value",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Integer(n) => n.to_string(),
        other => kind(other).to_string(),
    }
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
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::from(v)
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(pairs.iter().map(|(k, v)| (s(k), v.clone())).collect())
    }

    #[test]
    fn decodes_well_formed_requests() {
        let cases: Vec<(&str, Vec<Value>, Request)> = vec![
            (SESSION_LIST, vec![], Request::List),
            (SESSION_GET, vec![s("alpha")], Request::Get("alpha".into())),
            (
                SESSION_SEND,
                vec![s("a"), s("ls -la")],
                Request::Send {
                    session: "a".into(),
                    text: "ls -la".into(),
                },
            ),
            (
                SESSION_WRITE,
                vec![s("a"), Value::Binary(vec![0, 255, 27])],
                Request::Write {
                    session: "a".into(),
                    bytes: vec![0, 255, 27],
                },
            ),
            (
                SESSION_RESIZE,
                vec![s("a"), Value::from(120), Value::from(40)],
                Request::Resize {
                    session: "a".into(),
                    cols: 120,
                    rows: 40,
                },
            ),
            (
                SESSION_STOP,
                vec![s("a"), map(&[("force", Value::from(true))])],
                Request::Stop {
                    session: "a".into(),
                    force: true,
                },
            ),
            (
                SESSION_DELETE,
                vec![s("a")],
                Request::Delete {
                    session: "a".into(),
                    force: false,
                },
            ),
            (
                SESSION_START,
                vec![map(&[
                    ("agent", s("shell")),
                    ("args", Value::Array(vec![s("-c"), s("exit 3")])),
                    ("env", Value::Array(vec![])),
                    ("cols", Value::from(100)),
                ])],
                Request::Start(Box::new(StartOpts {
                    agent: Some("shell".into()),
                    args: vec!["-c".into(), "exit 3".into()],
                    cols: Some(100),
                    ..StartOpts::default()
                })),
            ),
            (SESSION_START, vec![], Request::Start(Box::default())),
            (
                SESSION_ATTACH,
                vec![s("a"), Value::from(3), Value::from(120), Value::from(40)],
                Request::Attach {
                    session: "a".into(),
                    chan: 3,
                    size: Some((120, 40)),
                    opts: AttachOpts::default(),
                },
            ),
            (
                SESSION_ATTACH,
                vec![
                    s("a"),
                    Value::from(3),
                    Value::from(120),
                    Value::from(40),
                    map(&[
                        ("resume", Value::from(true)),
                        ("scrollback", Value::from(5000)),
                        ("fg", s("#e0e2ea")),
                        ("bg", s("not a colour")),
                    ]),
                ],
                Request::Attach {
                    session: "a".into(),
                    chan: 3,
                    size: Some((120, 40)),
                    opts: AttachOpts {
                        resume: true,
                        scrollback: Some(5000),
                        fg: Some((0xe0, 0xe2, 0xea)),
                        bg: None,
                    },
                },
            ),
            (
                SESSION_ATTACH,
                vec![s("a"), Value::from(3)],
                Request::Attach {
                    session: "a".into(),
                    chan: 3,
                    size: None,
                    opts: AttachOpts::default(),
                },
            ),
            (
                SESSION_SCREEN,
                vec![s("a"), Value::from(12)],
                Request::Screen {
                    session: "a".into(),
                    rows: 12,
                },
            ),
            (
                SESSION_WATCH,
                vec![s("a"), Value::from(10)],
                Request::Watch {
                    session: Some("a".into()),
                    rows: 10,
                },
            ),
            (
                SESSION_WATCH,
                vec![],
                Request::Watch {
                    session: None,
                    rows: MAX_SCREEN_ROWS,
                },
            ),
        ];
        for (method, args, want) in cases {
            assert_eq!(decode(method, args), Ok(want), "{method}");
        }
    }

    #[test]
    fn malformed_arguments_say_what_is_wrong() {
        let huge = "x".repeat(10 * 1024 * 1024);
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("lulu.nope", vec![], "unknown method 'lulu.nope'"),
            (
                SESSION_GET,
                vec![],
                "lulu.session_get takes (session), got 0 argument(s)",
            ),
            (
                SESSION_GET,
                vec![Value::from(7)],
                "session must be a name or id string, got a number",
            ),
            (SESSION_GET, vec![s("")], "session must be 1-256 bytes"),
            (SESSION_GET, vec![s(&huge)], "session must be 1-256 bytes"),
            (SESSION_GET, vec![s("a\0b")], "session must be 1-256 bytes with no NUL"),
            (
                SESSION_RESIZE,
                vec![s("a"), Value::from(-1), Value::from(2)],
                "cols must be an integer in 1..=65535, got -1",
            ),
            (
                SESSION_RESIZE,
                vec![s("a"), s("wide"), Value::from(2)],
                "cols must be an integer in 1..=65535, got a string",
            ),
            (SESSION_START, vec![map(&[("agnet", s("x"))])], "unknown field `agnet`"),
            (SESSION_START, vec![map(&[("args", s("x"))])], "options are invalid"),
            (SESSION_START, vec![s("shell")], "options must be a table, got a string"),
            (
                SESSION_SEND,
                vec![s("a"), Value::Binary(vec![0xff])],
                "text is not valid UTF-8",
            ),
            (
                SESSION_STOP,
                vec![s("a"), map(&[("force", s("yes"))])],
                "options are invalid",
            ),
            (SESSION_ATTACH, vec![s("a"), Value::Nil], "channel must be an integer"),
            (
                APPROVAL_DECIDE,
                vec![Value::from(1), s("maybe")],
                "decision must be allow, deny",
            ),
            (
                APPROVAL_DECIDE,
                vec![Value::from(1), s("deny"), map(&[("content", s("x"))])],
                "content goes only with allow (once)",
            ),
            (APPROVAL_REVIEW, vec![s("one")], "approval id must be an integer"),
            (
                SESSION_REBASE,
                vec![s("a"), s("sideways")],
                "step must be start, continue or abort",
            ),
            (
                REVIEW_FILES,
                vec![Value::from(1)],
                "session must be a name or id string",
            ),
            (
                REVIEW_BASE,
                vec![s("a"), s("../../etc/passwd")],
                "path must be relative to the worktree",
            ),
            (
                COMMENT_ADD,
                vec![
                    s("a"),
                    map(&[
                        ("path", s("f")),
                        ("line", Value::from(3)),
                        ("end_line", Value::from(2)),
                        ("text", s("x")),
                    ]),
                ],
                "needs line >= 1 and end_line >= line",
            ),
            (COMMENT_LIST, vec![], "takes (session), got 0"),
            (COMMENT_CLEAR, vec![Value::Nil], "session must be a name or id string"),
            (TEMPLATE_SAVE, vec![s("a b"), map(&[])], "name may hold only letters"),
            (TEMPLATE_LIST, vec![s("x")], "takes no arguments"),
            (ACTIVITY_LIST, vec![s("x")], "takes no arguments"),
            (
                SESSION_REBASE,
                vec![s("a"), s("sideways")],
                "step must be start, continue or abort",
            ),
            (
                RULE_ADD,
                vec![map(&[("action", s("perhaps"))])],
                "rule is invalid: unknown variant `perhaps`",
            ),
            (
                RULE_ADD,
                vec![map(&[("action", s("allow")), ("colour", s("red"))])],
                "unknown field `colour`",
            ),
            (RULE_ADD, vec![s("allow")], "rule must be a table"),
            (
                RULE_MOVE,
                vec![Value::from(1), Value::from(-2)],
                "index must be an integer in 0..",
            ),
            (
                SESSION_MERGE,
                vec![s("a"), s("octopus")],
                "strategy must be merge, squash or rebase",
            ),
            (
                SESSION_START,
                vec![Value::Map(vec![(s("cwd"), Value::Binary(vec![b'/', 0xff, 0xfe]))])],
                "options are invalid: they hold bytes that are not valid UTF-8",
            ),
            (
                REPO_TRUST,
                vec![Value::Binary(vec![0xff])],
                "directory is not valid UTF-8",
            ),
            (HELLO, vec![s("hi")], "options must be a table"),
            (SESSION_LIST, vec![Value::from(1)], "takes no arguments"),
            (SESSION_SEND, vec![s("a")], "takes (session, text)"),
            (SESSION_WRITE, vec![s("a"), Value::from(5)], "bytes must be a string"),
            (
                SESSION_DELETE,
                vec![s("a"), map(&[("force", Value::from(1))])],
                "options are invalid",
            ),
            (SESSION_DETACH, vec![s("a"), s("b")], "channel must be an integer"),
            (
                SESSION_DIFF,
                vec![Value::Nil],
                "session must be a name or id string, got nil",
            ),
            (SESSION_DETAIL, vec![], "takes (session)"),
            (
                APPROVAL_LIST,
                vec![map(&[("history", s("yes"))])],
                "options are invalid",
            ),
            (RULE_LIST, vec![Value::from(1)], "takes no arguments"),
            (RULE_REMOVE, vec![s("one")], "rule id must be an integer"),
            (WORKTREE_USAGE, vec![Value::Nil], "takes no arguments"),
            (
                WORKTREE_PRUNE,
                vec![map(&[("dry", Value::from(true))])],
                "unknown field `dry`",
            ),
            (POOL_STATUS, vec![Value::Nil], "takes no arguments"),
            (AGENT_INFO, vec![Value::Nil], "takes no arguments"),
            (SNAPSHOT_SAVE, vec![s("x"), s("all")], "sessions must be a list"),
            (
                SNAPSHOT_GET,
                vec![Value::from(3)],
                "session must be a name or id string",
            ),
            (SNAPSHOT_LIST, vec![Value::Nil], "takes no arguments"),
            (DAEMON_STATUS, vec![Value::Nil], "takes no arguments"),
            (DAEMON_STOP, vec![s("now")], "takes no arguments"),
            (
                SESSION_ATTACH,
                vec![s("a"), Value::from(3), Value::from(0), Value::from(40)],
                "cols must be an integer in 1..=65535",
            ),
            (SESSION_SCREEN, vec![s("a"), s("all")], "rows must be an integer"),
            (
                REVIEW_READ,
                vec![s("a"), s("/etc/passwd")],
                "path must be relative to the worktree",
            ),
            (
                REVIEW_WRITE,
                vec![s("a"), s("f.txt"), Value::Binary(vec![0; MAX_REVIEW_FILE + 1])],
                "content is larger than 4 MiB",
            ),
            (
                SESSION_WATCH,
                vec![Value::from(1)],
                "session must be a name or id string",
            ),
        ];
        // Every method has a bad-input case.
        let all = METHODS;
        for method in all {
            assert!(
                cases.iter().any(|(m, _, _)| m == method),
                "no bad-input case for {method}"
            );
        }
        for (method, args, want) in cases {
            let err = decode(method, args).unwrap_err().to_string();
            assert!(err.contains(want), "{method}: {err:?} lacks {want:?}");
        }
    }

    #[test]
    fn the_lua_side_names_the_same_methods_and_handles_every_event() {
        let rpc = include_str!("../../lua/lulu/rpc.lua");
        let table = &rpc[rpc.find("M.methods = {").expect("rpc.lua has M.methods")..];
        let table = &table[..table.find("\n}").expect("the table ends")];
        let lua: Vec<&str> = table.lines().filter_map(|l| l.split('\'').nth(1)).collect();
        for name in &lua {
            assert!(
                METHODS.contains(name),
                "rpc.lua names {name}, which the host does not have"
            );
        }
        for name in METHODS {
            assert!(lua.contains(name), "the host has {name}, which rpc.lua does not name");
        }
        let events = include_str!("../../lua/lulu/events.lua");
        for event in Event::ALL {
            assert!(
                events.contains(&format!("function H.handlers.{}(", event.name())),
                "events.lua has no handler for the host's '{}' event",
                event.name()
            );
        }
    }

    #[test]
    fn records_encode_without_nil_fields() {
        #[derive(Serialize)]
        struct R {
            #[serde(skip_serializing_if = "Option::is_none")]
            a: Option<i64>,
            b: i64,
        }
        assert_eq!(to_value(&R { a: None, b: 1 }), map(&[("b", Value::from(1))]));
    }
}

//! The RPC surface, and the only file that touches `rmpv::Value`: method name
//! plus arguments in, a typed [`Request`] out (every argument checked, never
//! indexed blindly), and replies and events back to values.
//!
//! The method table here is mirrored in `lua/lulu/rpc.lua`.

use rmpv::Value;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::approval::RuleSpec;
use crate::worktree::Strategy;

mod args;
mod decode;
mod names;
mod opts;

pub use decode::{BadCall, Call, call, decode};
pub use names::*;
pub use opts::*;

/// Most rows of screen one `session_screen` answers with.
const MAX_SCREEN_ROWS: usize = 500;

/// Longest session reference (name or id) accepted.
const MAX_REF: usize = 256;

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

//! The session record as every layer sees it: store rows, RPC replies and
//! events to Neovim all carry this one shape (DESIGN.md, "A session record").

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// A session's stable id: eight lowercase hex digits, random.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(String);

// Hashes as its string does, so maps keyed by it can be looked up by `&str`.
impl std::borrow::Borrow<str> for SessionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl SessionId {
    pub fn random() -> Self {
        let mut raw = [0u8; 4];
        // A failing OS RNG is not something a caller can fix; fall back to
        // the clock so a start never fails for it.
        if getrandom::fill(&mut raw).is_err() {
            let nanos = Utc::now().timestamp_subsec_nanos();
            raw = nanos.to_le_bytes();
        }
        SessionId(raw.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn from_stored(raw: String) -> Self {
        SessionId(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a session runs: a terminal program, or an agent lulu speaks the
/// Agent Client Protocol with (through `lulu acp`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionKind {
    #[default]
    Terminal,
    Acp,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Terminal => "terminal",
            SessionKind::Acp => "acp",
        }
    }

    pub fn parse(text: &str) -> Option<SessionKind> {
        match text {
            "terminal" => Some(SessionKind::Terminal),
            "acp" => Some(SessionKind::Acp),
            _ => None,
        }
    }
}

/// The four statuses a user sees. `Completed` and `Failed` are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Starting,
    Running,
    Completed,
    Failed,
}

impl Status {
    pub fn is_live(self) -> bool {
        matches!(self, Status::Starting | Status::Running)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        Some(match raw {
            "starting" => Status::Starting,
            "running" => Status::Running,
            "completed" => Status::Completed,
            "failed" => Status::Failed,
            _ => return None,
        })
    }
}

/// Timestamps travel as RFC 3339 strings in UTC with millisecond precision,
/// so that string order is time order.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn now() -> String {
    timestamp(Utc::now())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: SessionId,
    pub name: String,
    pub agent: String,
    /// A terminal program, or an ACP agent (its buffer is a chat).
    #[serde(default)]
    pub kind: SessionKind,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i64>,
    /// When that process started (clock ticks since boot, from /proc), so a
    /// later host can tell it from another that got the same pid.
    #[serde(skip)]
    pub pid_start: Option<i64>,
    pub cwd: String,
    /// The argv that was run, program first.
    pub argv: Vec<String>,
    /// The user's own args (appended to the agent's argv), to start it again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worktree: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The main worktree of the repository the session's worktree is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Commits on the session's branch not yet on its base (kept fresh by
    /// the host while the session runs; not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ahead: Option<i64>,
    /// Everything on the branch is in its base (a squash merge included).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub merged: bool,
    /// The worktree has uncommitted changes (untracked files included).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dirty: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_activity_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    pub pending_approvals: i64,
    /// The agent said it waits for the user (its turn ended, or it needs
    /// attention); cleared when the user types or the agent moves on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waiting: bool,
    /// What said so: `hook` (the agent's own signal) or `screen` (its
    /// screen showed a dialog or its prompt after a turn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_source: Option<String>,
    /// Token totals from the agent's usage source, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<crate::cost::Tokens>,
    /// What the agent used, by model (stored; `cost_usd` and `tokens` are
    /// priced from it).
    #[serde(skip)]
    pub usage: crate::cost::Usage,
    /// The resource limits it runs under (not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<crate::limits::Limits>,
    /// Memory its process tree uses now, in bytes, where its cgroup counts
    /// it (kept fresh while it runs; not stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// It failed and starts again soon (not stored: a host that starts
    /// afresh has no plan to restart it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarting: Option<Restarting>,
    /// The agent's own id of its conversation (Claude's and Gemini's
    /// session id, Codex's thread id), to resume it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    /// Its pull (merge) request, once `:LuluPR` opened one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_url: Option<String>,
    /// The sandbox it runs in (stored: it starts again inside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::sandbox::Sandbox>,
}

/// A failed session about to start again (`restart = 'on-failure'`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restarting {
    /// This restart's number within the hour, and how many are allowed.
    pub attempt: u32,
    pub limit: u32,
    /// When it starts again (RFC 3339).
    pub at: String,
}

impl SessionRecord {
    /// Price the usage by `prices` into `cost_usd` and `tokens`. Returns
    /// whether either changed.
    pub fn price(&mut self, prices: &crate::cost::Prices) -> bool {
        let (cost, tokens) = if self.usage.is_empty() {
            (None, None)
        } else {
            // To the micro-dollar, so that float noise is no change.
            let cost = self.usage.cost(prices).usd.map(|usd| (usd * 1e6).round() / 1e6);
            (cost, Some(self.usage.tokens()))
        };
        let changed = self.cost_usd != cost || self.tokens != tokens;
        self.cost_usd = cost;
        self.tokens = tokens;
        changed
    }
}

/// How a session's process ended, as the PTY layer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    Code(i32),
    Signal(i32),
}

impl ExitKind {
    /// The one-line reason shown in the list; `None` for a clean exit.
    pub fn failure_reason(self) -> Option<String> {
        match self {
            ExitKind::Code(0) => None,
            ExitKind::Code(code) => Some(format!("exited with code {code}")),
            ExitKind::Signal(sig) => Some(format!("killed by signal {sig}")),
        }
    }

    /// The shell convention: 128 + signal number for a signalled process.
    pub fn exit_code(self) -> i64 {
        match self {
            ExitKind::Code(code) => i64::from(code),
            ExitKind::Signal(sig) => 128 + i64::from(sig),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_eight_hex_digits_and_differ() {
        let a = SessionId::random();
        let b = SessionId::random();
        assert_eq!(a.as_str().len(), 8);
        assert!(a.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn exit_reasons_read_as_the_list_shows_them() {
        let cases = [
            (ExitKind::Code(0), None, 0),
            (ExitKind::Code(3), Some("exited with code 3"), 3),
            (ExitKind::Signal(9), Some("killed by signal 9"), 137),
        ];
        for (kind, reason, code) in cases {
            assert_eq!(kind.failure_reason().as_deref(), reason);
            assert_eq!(kind.exit_code(), code);
        }
    }

    #[test]
    fn timestamps_sort_as_strings() {
        let early = timestamp(DateTime::from_timestamp(1_000, 5_000_000).unwrap());
        let late = timestamp(DateTime::from_timestamp(1_000, 50_000_000).unwrap());
        assert!(early < late, "{early} < {late}");
        assert!(early.ends_with('Z'));
    }

    #[test]
    fn status_round_trips() {
        for s in [Status::Starting, Status::Running, Status::Completed, Status::Failed] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("zombie"), None);
    }
}

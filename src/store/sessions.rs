//! The sessions table: a session's row written, updated, read back (each
//! value checked, a bad row skipped and reported rather than failing the
//! whole list), and what a host that died left marked live.

use rusqlite::{OptionalExtension, Row, params};

use super::events::insert_event;
use super::{Store, StoreError, bad_detail, row_key};
use crate::model::{SessionId, SessionRecord, Status, now};

impl Store {
    pub fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions (id, name, agent, status, failure_reason, exit_code, pid, cwd, argv,
                   worktree, branch, base, created_at, updated_at, last_activity_at, repo, args, host, sandbox, kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
                params![
                    s.id.as_str(),
                    s.name,
                    s.agent,
                    s.status.as_str(),
                    s.failure_reason,
                    s.exit_code,
                    s.pid,
                    s.cwd,
                    argv_json(&s.argv),
                    s.worktree,
                    s.branch,
                    s.base,
                    s.created_at,
                    s.updated_at,
                    s.last_activity_at,
                    s.repo,
                    argv_json(&s.args),
                    self.host,
                    s.sandbox.as_ref().and_then(|b| serde_json::to_string(b).ok()),
                    s.kind.as_str()
                ],
            )?;
            Ok(())
        })
    }

    /// Write the mutable part of a session row.
    pub fn update_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE sessions SET status = ?2, failure_reason = ?3, exit_code = ?4, pid = ?5,
                   updated_at = ?6, last_activity_at = ?7, pid_start = ?8, usage = ?9, conversation = ?10,
                   pr_url = ?11
                 WHERE id = ?1",
                params![
                    s.id.as_str(),
                    s.status.as_str(),
                    s.failure_reason,
                    s.exit_code,
                    s.pid,
                    s.updated_at,
                    s.last_activity_at,
                    s.pid_start,
                    usage_json(&s.usage),
                    s.conversation,
                    s.pr_url
                ],
            )?;
            Ok(())
        })
    }

    pub fn delete_session(&self, id: &SessionId) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            tx.execute("DELETE FROM events WHERE session_id = ?1", [id.as_str()])?;
            tx.execute("DELETE FROM comments WHERE session_id = ?1", [id.as_str()])?;
            tx.execute("DELETE FROM chats WHERE session_id = ?1", [id.as_str()])?;
            tx.execute("DELETE FROM sessions WHERE id = ?1", [id.as_str()])?;
            tx.commit()?;
            Ok(())
        })
    }

    /// All sessions, newest first.
    pub fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions ORDER BY created_at DESC, rowid DESC"
            ))?;
            let rows = stmt.query_map([], |row| Ok((row.get::<_, rusqlite::types::Value>(0)?, raw_row(row))))?;
            let mut sessions = Vec::new();
            for row in rows {
                let (key, raw) = row?;
                match raw.map_err(StoreError::from).and_then(decode) {
                    Ok(session) => sessions.push(session),
                    Err(err) => self.skip_row("sessions", &row_key(&key), &bad_detail(err)),
                }
            }
            Ok(sessions)
        })
    }

    pub fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.with(|c| {
            let row = c
                .query_row(
                    &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"),
                    [id.as_str()],
                    raw_row,
                )
                .optional()?;
            row.map(decode).transpose()
        })
    }

    /// Sessions that were live when the previous host of this kind died can
    /// no longer be (their PTY masters closed with it): mark them failed
    /// with `reason`. Another kind's sessions may still be running.
    pub fn fail_live_sessions(&self, reason: &str) -> Result<Vec<LeftBehind>, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let left: Vec<LeftBehind> = {
                let mut stmt = tx.prepare(
                    "SELECT id, pid, pid_start FROM sessions WHERE status IN ('starting', 'running') AND host = ?1",
                )?;
                let rows = stmt.query_map([self.host], |row| {
                    Ok(LeftBehind {
                        id: SessionId::from_stored(row.get(0)?),
                        pid: row.get::<_, Option<i64>>(1).ok().flatten(),
                        pid_start: row.get::<_, Option<i64>>(2).ok().flatten(),
                    })
                })?;
                self.readable("sessions", rows)
            };
            let at = now();
            for id in left.iter().map(|l| &l.id) {
                tx.execute(
                    "UPDATE sessions SET status = 'failed', failure_reason = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id.as_str(), reason, at],
                )?;
                insert_event(&tx, id, "failed", reason)?;
            }
            tx.commit()?;
            Ok(left)
        })
    }

    /// A session's worktree went (pruned): forget its path and branch.
    pub fn clear_worktree(&self, id: &SessionId) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE sessions SET worktree = NULL, branch = NULL, updated_at = ?2 WHERE id = ?1",
                params![id.as_str(), now()],
            )?;
            Ok(())
        })
    }
}

/// The columns `raw_row` reads, in its order.
const SESSION_COLUMNS: &str = "id, name, agent, status, failure_reason, exit_code, pid, cwd, argv, worktree, \
     branch, base, created_at, updated_at, last_activity_at, repo, args, usage, conversation, sandbox, kind, pr_url";

fn usage_json(usage: &crate::cost::Usage) -> Option<String> {
    (!usage.is_empty()).then(|| serde_json::to_string(usage).unwrap_or_default())
}

fn argv_json(argv: &[String]) -> String {
    serde_json::to_string(argv).unwrap_or_else(|_| "[]".into())
}

/// A row as stored, before the checks that can fail on hand-edited data.
struct RawRow {
    id: String,
    name: String,
    agent: String,
    status: String,
    failure_reason: Option<String>,
    exit_code: Option<i64>,
    pid: Option<i64>,
    cwd: String,
    argv: String,
    worktree: Option<String>,
    branch: Option<String>,
    base: Option<String>,
    created_at: String,
    updated_at: String,
    last_activity_at: String,
    repo: Option<String>,
    args: String,
    usage: Option<String>,
    conversation: Option<String>,
    sandbox: Option<String>,
    kind: String,
    pr_url: Option<String>,
}

fn raw_row(row: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        id: row.get(0)?,
        name: row.get(1)?,
        agent: row.get(2)?,
        status: row.get(3)?,
        failure_reason: row.get(4)?,
        exit_code: row.get(5)?,
        pid: row.get(6)?,
        cwd: row.get(7)?,
        argv: row.get(8)?,
        worktree: row.get(9)?,
        branch: row.get(10)?,
        base: row.get(11)?,
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
        last_activity_at: row.get(14)?,
        repo: row.get(15)?,
        args: row.get(16)?,
        usage: row.get(17)?,
        conversation: row.get(18)?,
        sandbox: row.get(19)?,
        kind: row.get(20)?,
        pr_url: row.get(21)?,
    })
}

/// A session a previous host left marked live, and its process as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftBehind {
    pub id: SessionId,
    pub pid: Option<i64>,
    pub pid_start: Option<i64>,
}

fn decode(raw: RawRow) -> Result<SessionRecord, StoreError> {
    let bad = |detail: String| StoreError::BadRow {
        id: raw.id.clone(),
        detail,
    };
    let status = Status::parse(&raw.status).ok_or_else(|| bad(format!("unknown status {:?}", raw.status)))?;
    let argv: Vec<String> = serde_json::from_str(&raw.argv).map_err(|err| bad(format!("argv: {err}")))?;
    let args: Vec<String> = serde_json::from_str(&raw.args).map_err(|err| bad(format!("args: {err}")))?;
    let usage = match raw.usage.as_deref().map(serde_json::from_str::<crate::cost::Usage>) {
        Some(Ok(usage)) => usage,
        None => crate::cost::Usage::default(),
        Some(Err(err)) => return Err(bad(format!("usage: {err}"))),
    };
    // Unreadable, a sandboxed session must not come back unconfined.
    let sandbox = raw
        .sandbox
        .as_deref()
        .map(serde_json::from_str::<crate::sandbox::Sandbox>)
        .transpose()
        .map_err(|err| bad(format!("sandbox: {err}")))?;
    let kind =
        crate::model::SessionKind::parse(&raw.kind).ok_or_else(|| bad(format!("unknown kind {:?}", raw.kind)))?;
    Ok(SessionRecord {
        id: SessionId::from_stored(raw.id),
        kind,
        name: raw.name,
        agent: raw.agent,
        status,
        failure_reason: raw.failure_reason,
        exit_code: raw.exit_code,
        pid: raw.pid,
        pid_start: None,
        cwd: raw.cwd,
        argv,
        args,
        worktree: raw.worktree,
        branch: raw.branch,
        base: raw.base,
        created_at: raw.created_at,
        updated_at: raw.updated_at,
        last_activity_at: raw.last_activity_at,
        repo: raw.repo,
        ahead: None,
        merged: false,
        dirty: false,
        cost_usd: None,
        pending_approvals: 0,
        waiting: false,
        waiting_source: None,
        tokens: None,
        usage,
        conversation: raw.conversation,
        pr_url: raw.pr_url,
        restarting: None,
        limits: None,
        memory: None,
        sandbox,
    })
}

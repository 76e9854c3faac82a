//! SQLite persistence: sessions and their events. Synchronous by design; the
//! async side queues work on the store's own thread ([`worker`]):
//! [`Store::write`] without waiting, [`Store::run`] for an answer.

mod comments;
pub use comments::{Comment, MAX_COMMENTS};
mod rules;
mod schema;
mod wal;
mod worker;

pub use worker::Reporter;

pub use rules::DecisionRecord;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::model::{SessionId, SessionRecord, Status, now};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    /// SQLite refused to open the file, or a pragma failed.
    #[error("cannot open {path}: {source}; check its permissions or move it aside")]
    Open { path: PathBuf, source: rusqlite::Error },
    /// `PRAGMA quick_check` found damage.
    #[error("{path} is damaged ({detail}); move it aside and lulu starts a fresh one")]
    Corrupt { path: PathBuf, detail: String },
    /// The file was written by a newer lulu.
    #[error("{path} has schema version {found}, newer than this lulu knows ({known}); update lulu")]
    TooNew { path: PathBuf, found: i64, known: i64 },
    /// A query failed.
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A stored row does not decode (hand-edited or damaged).
    #[error("stored session {id} is unreadable: {detail}")]
    BadRow { id: String, detail: String },
    /// The blocking task running the query panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
}

/// A cloneable handle on one connection. SQLite serialises writers anyway;
/// one connection behind a mutex keeps `SQLITE_BUSY` out of the host.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    /// Rows that did not decode, each once: skipped (and left untouched in
    /// the file) so that one bad row never stops lulu.
    skipped: Arc<Mutex<SkippedRows>>,
    /// The store's thread, started with the first queued job.
    jobs: Arc<std::sync::OnceLock<Mutex<std::sync::mpsc::Sender<worker::Job>>>>,
    reporter: Arc<Mutex<Option<Reporter>>>,
    /// The kind of host this handle belongs to (`embedded` or `daemon`):
    /// stamped on the sessions it inserts.
    host: &'static str,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            crate::private::dir(dir, crate::private::Links::Follow).map_err(|err| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source: err.into(),
            })?;
        }
        // SQLite gives its -wal and -shm files the database file's mode, so
        // a private database file keeps all three private.
        if path.parent().is_some() {
            for suffix in ["-wal", "-shm"] {
                let mut side = path.as_os_str().to_owned();
                side.push(suffix);
                let _ = crate::private::tighten(Path::new(&side));
            }
            crate::private::append(path).map_err(|err| StoreError::CreateDir {
                path: path.to_path_buf(),
                source: err.into(),
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(|source| {
            // A file that is not a database fails here first.
            corrupt_or_open(path, source)
        })?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(|source| corrupt_or_open(path, source))?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: check,
            });
        }
        schema::migrate(&conn, path)?;
        Ok(Store::wrap(conn))
    }

    /// Open, and if the file is damaged, move it (and its WAL) aside and
    /// start a fresh one: the editor keeps working and the old data stays
    /// on disk for recovery. A damaged WAL (which SQLite would drop without
    /// a word) is copied aside first. Returns what the user should be told.
    pub fn open_or_recover(path: &Path) -> Result<(Store, Vec<String>), StoreError> {
        let mut notices = Vec::new();
        if let Some(why) = wal::damage(path) {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
            let copy = path.with_extension(format!("db.wal-damaged-{stamp}"));
            let kept = ["", "-wal"].iter().try_for_each(|suffix| {
                let (mut from, mut to) = (path.as_os_str().to_owned(), copy.as_os_str().to_owned());
                from.push(suffix);
                to.push(suffix);
                std::fs::copy(&from, &to).map(|_| ())
            });
            tracing::error!(%why, copy = %copy.display(), "the WAL is damaged");
            notices.push(match kept {
                Ok(()) => format!(
                    "lulu.db's write-ahead log is damaged ({why}): its latest changes cannot be read. A copy of both files is at {}",
                    copy.display()
                ),
                Err(err) => format!(
                    "lulu.db's write-ahead log is damaged ({why}): its latest changes cannot be read (no copy kept: {err})"
                ),
            });
        }
        match Store::open(path) {
            Err(StoreError::Corrupt { detail, .. }) => {
                let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
                let backup = path.with_extension(format!("db.damaged-{stamp}"));
                for suffix in ["", "-wal", "-shm"] {
                    let mut from = path.as_os_str().to_owned();
                    from.push(suffix);
                    let mut to = backup.as_os_str().to_owned();
                    to.push(suffix);
                    if Path::new(&from).exists() {
                        std::fs::rename(&from, &to).map_err(|source| StoreError::CreateDir {
                            path: PathBuf::from(&to),
                            source,
                        })?;
                    }
                }
                tracing::error!(backup = %backup.display(), %detail, "damaged store moved aside");
                notices.push(format!(
                    "lulu.db was damaged; moved it to {} and started a fresh one",
                    backup.display()
                ));
                Ok((Store::open(path)?, notices))
            }
            other => other.map(|store| (store, notices)),
        }
    }

    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        schema::migrate(&conn, Path::new(":memory:"))?;
        Ok(Store::wrap(conn))
    }

    fn wrap(conn: Connection) -> Store {
        Store {
            conn: Arc::new(Mutex::new(conn)),
            skipped: Arc::default(),
            jobs: Arc::default(),
            reporter: Arc::default(),
            host: crate::host::HostKind::Embedded.as_str(),
        }
    }

    /// This handle belongs to a host of `kind`: its sessions are marked
    /// so, and only a host of that kind reconciles them.
    pub fn of_kind(mut self, kind: crate::host::HostKind) -> Store {
        self.host = kind.as_str();
        self
    }

    /// Run `f` on the store's thread, after everything queued before it,
    /// and wait for its answer.
    pub async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.queue(worker::Job::Query(Box::new(move |store| {
            let _ = tx.send(f(store));
        })))?;
        rx.await
            .map_err(|_| StoreError::Task("the store's thread ended".into()))?
    }

    /// Queue a write and return at once. It runs in order on the store's
    /// thread; see [`worker`] for waits and retries. `what` names it in a
    /// report ("the status of session 'x'").
    pub fn write<F>(&self, what: impl Into<String>, f: F)
    where
        F: FnMut(&Store) -> Result<(), StoreError> + Send + 'static,
    {
        let what = what.into();
        if let Err(err) = self.queue(worker::Job::Write {
            what: what.clone(),
            run: Box::new(f),
        }) {
            tracing::error!("could not queue the write of {what}: {err}");
        }
    }

    fn queue(&self, job: worker::Job) -> Result<(), StoreError> {
        let jobs = match self.jobs.get() {
            Some(jobs) => jobs,
            None => {
                let tx = worker::spawn(self.clone()).map_err(|err| StoreError::Task(err.to_string()))?;
                let _ = self.jobs.set(Mutex::new(tx));
                self.jobs
                    .get()
                    .ok_or_else(|| StoreError::Task("no store thread".into()))?
            }
        };
        jobs.lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| StoreError::Task("the store's thread ended".into()))
    }

    /// Where trouble with queued writes is told (the editor's notices).
    pub fn set_reporter(&self, reporter: Reporter) {
        *self.reporter.lock().unwrap_or_else(|p| p.into_inner()) = Some(reporter);
    }

    fn report(&self, message: String) {
        let reporter = self.reporter.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match reporter {
            Some(report) => report(message),
            None => tracing::warn!("{message}"),
        }
    }

    /// Fold the WAL into the database and empty it (a clean stop).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.with(|c| {
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
    }

    /// Note a row that does not decode (`table`, its key, why).
    pub(crate) fn skip_row(&self, table: &str, key: &str, detail: &str) {
        let mut skipped = self.skipped.lock().unwrap_or_else(|p| p.into_inner());
        let entry = format!("{table} row {key}: {detail}");
        if skipped.seen.insert(entry.clone()) {
            tracing::warn!("{entry}; skipped, left in the database as it is");
            skipped.fresh.push(entry);
        }
    }

    /// The rows that decode; the others are noted and skipped.
    fn readable<T>(&self, table: &str, rows: impl Iterator<Item = rusqlite::Result<T>>) -> Vec<T> {
        rows.filter_map(|row| {
            row.map_err(|err| self.skip_row(table, "(unreadable)", &err.to_string()))
                .ok()
        })
        .collect()
    }

    /// Rows skipped since the last call (each told once).
    pub fn take_skipped(&self) -> Vec<String> {
        std::mem::take(&mut self.skipped.lock().unwrap_or_else(|p| p.into_inner()).fresh)
    }

    /// Every row skipped since the store was opened.
    pub fn skipped(&self) -> Vec<String> {
        let skipped = self.skipped.lock().unwrap_or_else(|p| p.into_inner());
        skipped.seen.iter().cloned().collect()
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // A poisoned lock means a panic mid-query elsewhere; SQLite itself
        // rolled back, so the connection is still usable.
        let conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&conn)
    }

    pub fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions (id, name, agent, status, failure_reason, exit_code, pid, cwd, argv,
                   worktree, branch, base, created_at, updated_at, last_activity_at, repo, args, host, sandbox)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
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
                    s.sandbox.as_ref().and_then(|b| serde_json::to_string(b).ok())
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
                   updated_at = ?6, last_activity_at = ?7, pid_start = ?8, usage = ?9, conversation = ?10
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
                    s.conversation
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

    /// Save a named set of sessions to start again (`:LuluSave`); replaces
    /// a set of that name. `specs` is the editor's own JSON.
    pub fn save_snapshot(&self, name: &str, specs: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO snapshots (name, specs, saved_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET specs = excluded.specs, saved_at = excluded.saved_at",
                params![name, specs, now()],
            )?;
            Ok(())
        })
    }

    pub fn snapshot(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(
                c.query_row("SELECT specs FROM snapshots WHERE name = ?1", [name], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    pub fn snapshot_names(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT name FROM snapshots ORDER BY saved_at DESC")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(self.readable("snapshots", rows))
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

    /// Trust `path` with exactly this content hash (replacing older trust).
    pub fn trust_file(&self, path: &str, sha256: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO trusted_files (path, sha256, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(path) DO UPDATE SET sha256 = excluded.sha256, at = excluded.at",
                params![path, sha256, now()],
            )?;
            Ok(())
        })
    }

    pub fn is_trusted(&self, path: &str, sha256: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            let n: i64 = c.query_row(
                "SELECT COUNT(*) FROM trusted_files WHERE path = ?1 AND sha256 = ?2",
                params![path, sha256],
                |r| r.get(0),
            )?;
            Ok(n > 0)
        })
    }

    pub fn add_event(&self, id: &SessionId, kind: &str, detail: &str) -> Result<(), StoreError> {
        self.with(|c| insert_event(c, id, kind, detail))
    }

    pub fn events(&self, id: &SessionId) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .history(id)?
            .into_iter()
            .map(|(_, kind, detail)| (kind, detail))
            .collect())
    }

    /// A session's events, oldest first: `(at, kind, detail)`.
    pub fn history(&self, id: &SessionId) -> Result<Vec<(String, String, String)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT at, kind, detail FROM events WHERE session_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([id.as_str()], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
            Ok(self.readable("events", rows))
        })
    }
}

/// The columns `raw_row` reads, in its order.
const SESSION_COLUMNS: &str = "id, name, agent, status, failure_reason, exit_code, pid, cwd, argv, worktree, \
     branch, base, created_at, updated_at, last_activity_at, repo, args, usage, conversation, sandbox";

fn corrupt_or_open(path: &Path, source: rusqlite::Error) -> StoreError {
    match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: source.to_string(),
        },
        _ => StoreError::Open {
            path: path.to_path_buf(),
            source,
        },
    }
}

fn insert_event(c: &Connection, id: &SessionId, kind: &str, detail: &str) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO events (session_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4)",
        params![id.as_str(), now(), kind, detail],
    )?;
    Ok(())
}

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
    })
}

/// A row's key as the user would look it up (`'4e74dc7a'`, `12`).
pub(crate) fn row_key(value: &rusqlite::types::Value) -> String {
    match value {
        rusqlite::types::Value::Text(text) => format!("'{text}'"),
        rusqlite::types::Value::Integer(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

pub(crate) fn bad_detail(err: StoreError) -> String {
    match err {
        StoreError::BadRow { detail, .. } => detail,
        other => other.to_string(),
    }
}

/// A session a previous host left marked live, and its process as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftBehind {
    pub id: SessionId,
    pub pid: Option<i64>,
    pub pid_start: Option<i64>,
}

#[derive(Default)]
struct SkippedRows {
    seen: std::collections::BTreeSet<String>,
    fresh: Vec<String>,
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
    Ok(SessionRecord {
        id: SessionId::from_stored(raw.id),
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
        restarting: None,
        limits: None,
        memory: None,
        sandbox,
    })
}

#[cfg(test)]
pub(crate) mod tests;

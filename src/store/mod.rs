//! SQLite persistence: sessions and their events. Synchronous by design; the
//! async side queues work on the store's own thread ([`worker`]):
//! [`Store::write`] without waiting, [`Store::run`] for an answer.

mod chats;
mod comments;
mod events;
mod saved;
pub use comments::{Comment, MAX_COMMENTS};
mod rules;
mod schema;
mod sessions;
pub use sessions::LeftBehind;
mod wal;
mod worker;

pub use worker::Reporter;

pub use rules::DecisionRecord;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

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
            host: crate::identity::HostKind::Embedded.as_str(),
        }
    }

    /// This handle belongs to a host of `kind`: its sessions are marked
    /// so, and only a host of that kind reconciles them.
    pub fn of_kind(mut self, kind: crate::identity::HostKind) -> Store {
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
}

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

#[derive(Default)]
struct SkippedRows {
    seen: std::collections::BTreeSet<String>,
    fresh: Vec<String>,
}

#[cfg(test)]
pub(crate) mod tests;

//! The store's one thread: every write and every query of the async side
//! runs here, in the order it was queued, so nothing in the host waits on
//! SQLite but the caller that asked for an answer, and a write queued before
//! a query is seen by it.
//!
//! Writes are fire-and-forget ([`Store::write`]). While another process
//! holds the database locked, a write waits for it (and everything queued
//! after it waits in order): nothing is lost or reordered. A write that
//! fails otherwise (a full or read-only disk) is retried with a growing
//! pause, and the trouble is reported once through the reporter the host
//! installs (a notice in the editor), then again if it is given up.

use std::sync::mpsc;
use std::time::Duration;

use super::{Store, StoreError};

/// Tries of a write that fails for a reason other than a lock.
const MAX_TRIES: u32 = 8;
/// Longest pause between two tries.
const MAX_PAUSE: Duration = Duration::from_secs(30);

type WriteFn = Box<dyn FnMut(&Store) -> Result<(), StoreError> + Send>;
type QueryFn = Box<dyn FnOnce(&Store) + Send>;

pub(super) enum Job {
    Write { what: String, run: WriteFn },
    Query(QueryFn),
}

/// Who hears about writes in trouble.
pub type Reporter = std::sync::Arc<dyn Fn(String) + Send + Sync>;

pub(super) fn spawn(store: Store) -> std::io::Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new().name("lulu-store".into()).spawn(move || {
        while let Ok(job) = rx.recv() {
            match job {
                Job::Query(run) => run(&store),
                Job::Write { what, mut run } => write(&store, &what, &mut run),
            }
        }
    })?;
    Ok(tx)
}

fn write(store: &Store, what: &str, run: &mut WriteFn) {
    let mut tries = 0;
    let mut pause = Duration::from_millis(100);
    let mut told = false;
    loop {
        match run(store) {
            Ok(()) => {
                if told {
                    store.report(format!("lulu could record {what} again"));
                }
                return;
            }
            // Another process holds the database: wait for it, in order.
            Err(err) if is_locked(&err) => {
                if !told && tries == 0 {
                    tracing::warn!("the database is locked by another process; writes wait for it");
                }
                tries = 0;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(err) => {
                tries += 1;
                tracing::error!(tries, "could not record {what}: {err}");
                if !told {
                    told = true;
                    store.report(format!("lulu could not record {what} ({err}); retrying"));
                }
                if tries >= MAX_TRIES {
                    store.report(format!("lulu gave up recording {what} after {tries} tries: {err}"));
                    return;
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}

fn is_locked(err: &StoreError) -> bool {
    matches!(
        err,
        StoreError::Sql(e) if matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    )
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::model::Status;

    #[tokio::test]
    async fn writes_wait_out_another_process_lock_in_order_and_queries_see_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lulu.db");
        let store = Store::open(&path).unwrap();
        // Another process's connection holds the database.
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let t0 = Instant::now();
        for n in 0..5 {
            let record = crate::store::tests::record(&format!("s{n}"), Status::Running, "2026-01-01T00:00:00.000Z");
            store.write(format!("session s{n}"), move |s| s.insert_session(&record));
        }
        assert!(
            t0.elapsed() < Duration::from_millis(50),
            "writes are queued, not waited for"
        );
        let waiting = tokio::spawn({
            let store = store.clone();
            async move { store.run(|s| s.sessions()).await }
        });
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(!waiting.is_finished(), "the query waits behind the writes");
        other.execute_batch("COMMIT").unwrap();
        let sessions = tokio::time::timeout(Duration::from_secs(20), waiting)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let mut names: Vec<String> = sessions.into_iter().map(|s| s.name).collect();
        names.sort();
        assert_eq!(names, ["s0", "s1", "s2", "s3", "s4"], "all landed once the lock went");
    }

    #[test]
    fn a_failing_write_is_retried_and_the_trouble_told_once_then_cleared() {
        let store = Store::open_in_memory().unwrap();
        let told = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = told.clone();
        store.set_reporter(std::sync::Arc::new(move |m| sink.lock().unwrap().push(m)));
        let mut tries = 0;
        let mut run: WriteFn = Box::new(move |_| {
            tries += 1;
            if tries < 3 {
                Err(StoreError::Task("disk full".into()))
            } else {
                Ok(())
            }
        });
        write(&store, "a status", &mut run);
        let told = told.lock().unwrap().clone();
        assert_eq!(told.len(), 2, "{told:?}");
        assert!(told[0].contains("could not record a status (database task failed: disk full); retrying"));
        assert!(told[1].contains("could record a status again"));
    }
}

//! Versioned migrations, tracked in `PRAGMA user_version`. Each step runs in
//! one transaction, so a crash mid-migration leaves the previous version.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // v1: sessions and their event history.
    "CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        agent TEXT NOT NULL,
        status TEXT NOT NULL,
        failure_reason TEXT,
        exit_code INTEGER,
        pid INTEGER,
        cwd TEXT NOT NULL,
        argv TEXT NOT NULL,
        worktree TEXT,
        branch TEXT,
        base TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_activity_at TEXT NOT NULL
     );
     CREATE INDEX sessions_created ON sessions (created_at);
     CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
     );
     CREATE INDEX events_session ON events (session_id);",
    // v2: approval rules (ordered) and the record of every decision.
    "CREATE TABLE rules (
        id INTEGER PRIMARY KEY,
        position INTEGER NOT NULL,
        spec TEXT NOT NULL,
        created_at TEXT NOT NULL
     );
     CREATE TABLE approvals (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        session_name TEXT NOT NULL,
        agent TEXT NOT NULL,
        tool TEXT NOT NULL,
        summary TEXT NOT NULL,
        decision TEXT NOT NULL,
        decided_by TEXT NOT NULL,
        at TEXT NOT NULL
     );
     CREATE INDEX approvals_at ON approvals (at);",
    // v3: the repository a session's worktree belongs to.
    "ALTER TABLE sessions ADD COLUMN repo TEXT;",
    // v4: repository files the user trusts to run commands (`.lulu.json`).
    "CREATE TABLE trusted_files (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, at TEXT NOT NULL);",
    // v5: the user's own args (to start a session again), and saved sets.
    "ALTER TABLE sessions ADD COLUMN args TEXT NOT NULL DEFAULT '[]';
     CREATE TABLE snapshots (name TEXT PRIMARY KEY, specs TEXT NOT NULL, saved_at TEXT NOT NULL);",
    // v6: the agent's id of the tool call a decision was about.
    "ALTER TABLE approvals ADD COLUMN tool_use_id TEXT;",
    // v7: which kind of host runs a session (`embedded` or `daemon`), so a
    // host reconciles only its own kind's sessions.
    "ALTER TABLE sessions ADD COLUMN host TEXT NOT NULL DEFAULT 'embedded';",
    // v8: when a session's process started, so the next host can end a
    // process its dead predecessor left (and not another with its pid).
    "ALTER TABLE sessions ADD COLUMN pid_start INTEGER;",
    // v9: what each session's agent used (tokens by model, its own cost
    // figures; priced when shown), and the agent's id of its conversation.
    "ALTER TABLE sessions ADD COLUMN usage TEXT;
     ALTER TABLE sessions ADD COLUMN conversation TEXT;",
    // v10: review comments on a session's changes, until sent to its agent.
    "CREATE TABLE comments (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        path TEXT NOT NULL,
        line INTEGER NOT NULL,
        end_line INTEGER NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
     );
     CREATE INDEX comments_session ON comments (session_id);",
    // v11: session templates saved from the editor (`:LuluTemplate save`).
    "CREATE TABLE templates (name TEXT PRIMARY KEY, spec TEXT NOT NULL, saved_at TEXT NOT NULL);",
    // v12: the sandbox a session runs in (JSON), so it starts again inside.
    "ALTER TABLE sessions ADD COLUMN sandbox TEXT;",
    // v13: a session's kind (`terminal` or `acp`), and an ACP session's
    // conversation (its entries as JSON, bounded by the host).
    "ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'terminal';
     CREATE TABLE chats (session_id TEXT PRIMARY KEY, entries TEXT NOT NULL, saved_at TEXT NOT NULL);",
    // v14: a session's pull (merge) request.
    "ALTER TABLE sessions ADD COLUMN pr_url TEXT;",
];

pub fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > known {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            known,
        });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn, Path::new("x")).unwrap();
        migrate(&conn, Path::new("x")).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(migrate(&conn, Path::new("x")), Err(StoreError::TooNew { .. })));
    }
}

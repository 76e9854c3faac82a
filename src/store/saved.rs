//! What the user keeps across sessions: named sets of sessions to start
//! again (`:LuluSave`), and setup files trusted with their content hash.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::model::now;

impl Store {
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
}

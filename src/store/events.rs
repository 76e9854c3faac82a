//! A session's events (started, approved, merged, ...), oldest first.

use rusqlite::{Connection, params};

use super::{Store, StoreError};
use crate::model::{SessionId, now};

impl Store {
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

pub(super) fn insert_event(c: &Connection, id: &SessionId, kind: &str, detail: &str) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO events (session_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4)",
        params![id.as_str(), now(), kind, detail],
    )?;
    Ok(())
}

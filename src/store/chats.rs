//! The chats table: an ACP session's conversation, its entries as one JSON
//! list (the host bounds it), written whole and read back whole.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::model::{SessionId, now};

impl Store {
    pub fn save_chat(&self, id: &SessionId, entries: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO chats (session_id, entries, saved_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(session_id) DO UPDATE SET entries = excluded.entries, saved_at = excluded.saved_at",
                params![id.as_str(), entries, now()],
            )?;
            Ok(())
        })
    }

    /// The stored conversation's entries (JSON), if any.
    pub fn chat(&self, id: &SessionId) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(
                c.query_row("SELECT entries FROM chats WHERE session_id = ?1", [id.as_str()], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_is_kept_whole_and_replaced_whole() {
        let store = Store::open_in_memory().unwrap();
        let id = SessionId::random();
        assert_eq!(store.chat(&id).unwrap(), None);
        store.save_chat(&id, "[1]").unwrap();
        store.save_chat(&id, "[1,2]").unwrap();
        assert_eq!(store.chat(&id).unwrap().as_deref(), Some("[1,2]"));
    }
}

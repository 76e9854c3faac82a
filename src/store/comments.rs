//! What the user keeps in the store besides sessions: review comments on
//! a session's changes, kept with the session until they are sent to its
//! agent (or the session is deleted), and saved session templates.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::model::{SessionId, now};

/// One comment on a line or a range of a file of the session's worktree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    #[serde(default)]
    pub id: i64,
    /// Relative to the session's worktree.
    pub path: String,
    /// 1-based, inclusive.
    pub line: i64,
    pub end_line: i64,
    pub text: String,
    #[serde(default)]
    pub created_at: String,
}

/// Most comments kept for one session (a review of more is refused).
pub const MAX_COMMENTS: i64 = 500;

impl Store {
    /// Add a comment; `false` (nothing added) when the session has
    /// [`MAX_COMMENTS`] already.
    pub fn add_comment(&self, session: &SessionId, comment: &Comment) -> Result<bool, StoreError> {
        self.with(|c| {
            let count: i64 = c.query_row(
                "SELECT COUNT(*) FROM comments WHERE session_id = ?1",
                [session.as_str()],
                |r| r.get(0),
            )?;
            if count >= MAX_COMMENTS {
                return Ok(false);
            }
            c.execute(
                "INSERT INTO comments (session_id, path, line, end_line, text, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    session.as_str(),
                    comment.path,
                    comment.line,
                    comment.end_line,
                    comment.text,
                    now()
                ],
            )?;
            Ok(true)
        })
    }

    /// A session's comments, by file and line.
    pub fn comments(&self, session: &SessionId) -> Result<Vec<Comment>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id, path, line, end_line, text, created_at FROM comments
                 WHERE session_id = ?1 ORDER BY path, line, id",
            )?;
            let rows = stmt.query_map([session.as_str()], |row| {
                Ok(Comment {
                    id: row.get(0)?,
                    path: row.get(1)?,
                    line: row.get(2)?,
                    end_line: row.get(3)?,
                    text: row.get(4)?,
                    created_at: row.get(5)?,
                })
            })?;
            Ok(self.readable("comments", rows))
        })
    }

    /// Remove one comment; `false` when the session has no such comment.
    pub fn remove_comment(&self, session: &SessionId, id: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "DELETE FROM comments WHERE session_id = ?1 AND id = ?2",
                params![session.as_str(), id],
            )?;
            Ok(n > 0)
        })
    }

    pub fn clear_comments(&self, session: &SessionId) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("DELETE FROM comments WHERE session_id = ?1", [session.as_str()])?;
            Ok(())
        })
    }
}

impl Store {
    /// Save a template (`:LuluTemplate save`); replaces one of that name.
    /// `spec` is the editor's own JSON.
    pub fn save_template(&self, name: &str, spec: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO templates (name, spec, saved_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, saved_at = excluded.saved_at",
                params![name, spec, now()],
            )?;
            Ok(())
        })
    }

    /// Every saved template: `(name, spec JSON)`, by name.
    pub fn templates(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT name, spec FROM templates ORDER BY name")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(self.readable("templates", rows))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_kept_per_session_in_file_order_until_cleared() {
        let store = Store::open_in_memory().unwrap();
        let (a, b) = (SessionId::random(), SessionId::random());
        let comment = |path: &str, line| Comment {
            id: 0,
            path: path.into(),
            line,
            end_line: line,
            text: format!("{path}:{line}"),
            created_at: String::new(),
        };
        for c in [comment("src/b.rs", 3), comment("src/a.rs", 9), comment("src/a.rs", 2)] {
            store.add_comment(&a, &c).unwrap();
        }
        store.add_comment(&b, &comment("x", 1)).unwrap();
        let texts: Vec<String> = store.comments(&a).unwrap().into_iter().map(|c| c.text).collect();
        assert_eq!(texts, ["src/a.rs:2", "src/a.rs:9", "src/b.rs:3"]);
        store.clear_comments(&a).unwrap();
        assert!(store.comments(&a).unwrap().is_empty());
        assert_eq!(store.comments(&b).unwrap().len(), 1);
        store.delete_session(&b).unwrap();
        assert!(store.comments(&b).unwrap().is_empty(), "deleted with its session");
        for n in 0..MAX_COMMENTS {
            assert!(store.add_comment(&b, &comment("f", n + 1)).unwrap());
        }
        assert!(!store.add_comment(&b, &comment("f", 1)).unwrap(), "bounded");
    }

    #[test]
    fn templates_are_saved_by_name_and_replaced() {
        let store = Store::open_in_memory().unwrap();
        store.save_template("review", r#"{"agent":"claude"}"#).unwrap();
        store.save_template("fix", r#"{"agent":"codex"}"#).unwrap();
        store.save_template("review", r#"{"agent":"gemini"}"#).unwrap();
        assert_eq!(
            store.templates().unwrap(),
            vec![
                ("fix".to_string(), r#"{"agent":"codex"}"#.to_string()),
                ("review".to_string(), r#"{"agent":"gemini"}"#.to_string())
            ]
        );
    }
}

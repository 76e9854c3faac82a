//! Rules and the approval record in the store. Rules keep their order in a
//! `position` column, renumbered densely on every change.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::approval::RuleSpec;
use crate::model::now;

/// One decision, as recorded and as `lulu.approvals({history = true})`
/// returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub id: i64,
    pub session_id: String,
    pub session_name: String,
    pub agent: String,
    pub tool: String,
    pub summary: String,
    /// `allow`, `deny` or `ask`.
    pub decision: String,
    /// `rule:<id>`, `user`, or `timeout`.
    pub decided_by: String,
    pub at: String,
    /// The agent's id of the tool call (a `PermissionRequest` carries none;
    /// it comes from the `PreToolUse` it was paired with).
    pub tool_use_id: Option<String>,
}

impl Store {
    /// Rules in evaluation order.
    pub fn rules(&self) -> Result<Vec<(i64, RuleSpec)>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT id, spec FROM rules ORDER BY position, id")?;
            let rows = stmt.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))?;
            let mut rules = Vec::new();
            for row in rows {
                let (id, spec) = row?;
                match serde_json::from_str(&spec) {
                    Ok(spec) => rules.push((id, spec)),
                    Err(err) => self.skip_row("rules", &id.to_string(), &err.to_string()),
                }
            }
            Ok(rules)
        })
    }

    /// Insert a rule at `index` (0 = first), or last; returns its id.
    pub fn add_rule(&self, spec: &RuleSpec, index: Option<usize>) -> Result<i64, StoreError> {
        let json = serde_json::to_string(spec).map_err(|err| StoreError::BadRow {
            id: "new rule".into(),
            detail: err.to_string(),
        })?;
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let count: i64 = tx.query_row("SELECT COUNT(*) FROM rules", [], |r| r.get(0))?;
            let position = index.map_or(count, |i| (i as i64).min(count));
            tx.execute(
                "UPDATE rules SET position = position + 1 WHERE position >= ?1",
                [position],
            )?;
            tx.execute(
                "INSERT INTO rules (position, spec, created_at) VALUES (?1, ?2, ?3)",
                params![position, json, now()],
            )?;
            let id = tx.last_insert_rowid();
            tx.commit()?;
            Ok(id)
        })
    }

    /// Returns false when there was no such rule.
    pub fn remove_rule(&self, id: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let position: Option<i64> = tx
                .query_row("SELECT position FROM rules WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            let Some(position) = position else {
                return Ok(false);
            };
            tx.execute("DELETE FROM rules WHERE id = ?1", [id])?;
            tx.execute(
                "UPDATE rules SET position = position - 1 WHERE position > ?1",
                [position],
            )?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// Move a rule to `index` (0 = first). Returns false when there was no
    /// such rule.
    pub fn move_rule(&self, id: i64, index: usize) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            let mut ids: Vec<i64> = {
                let mut stmt = tx.prepare("SELECT id FROM rules ORDER BY position, id")?;
                stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            let Some(from) = ids.iter().position(|&r| r == id) else {
                return Ok(false);
            };
            let moved = ids.remove(from);
            ids.insert(index.min(ids.len()), moved);
            for (position, rule) in ids.iter().enumerate() {
                tx.execute(
                    "UPDATE rules SET position = ?1 WHERE id = ?2",
                    params![position as i64, rule],
                )?;
            }
            tx.commit()?;
            Ok(true)
        })
    }

    pub fn record_decision(&self, d: &DecisionRecord) -> Result<i64, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO approvals (session_id, session_name, agent, tool, summary, decision, decided_by, at, tool_use_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    d.session_id,
                    d.session_name,
                    d.agent,
                    d.tool,
                    d.summary,
                    d.decision,
                    d.decided_by,
                    d.at,
                    d.tool_use_id
                ],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// The newest `limit` decisions, newest first.
    pub fn decisions(&self, limit: usize) -> Result<Vec<DecisionRecord>, StoreError> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id, session_id, session_name, agent, tool, summary, decision, decided_by, at, tool_use_id
                 FROM approvals ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit as i64], |r| {
                Ok((r.get::<_, rusqlite::types::Value>(0)?, decision_row(r)))
            })?;
            let mut decisions = Vec::new();
            for row in rows {
                let (key, decision) = row?;
                match decision {
                    Ok(decision) => decisions.push(decision),
                    Err(err) => self.skip_row("approvals", &super::row_key(&key), &err.to_string()),
                }
            }
            Ok(decisions)
        })
    }
}

fn decision_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DecisionRecord> {
    Ok(DecisionRecord {
        id: r.get(0)?,
        session_id: r.get(1)?,
        session_name: r.get(2)?,
        agent: r.get(3)?,
        tool: r.get(4)?,
        summary: r.get(5)?,
        decision: r.get(6)?,
        decided_by: r.get(7)?,
        at: r.get(8)?,
        tool_use_id: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::Action;

    fn spec(command: &str) -> RuleSpec {
        RuleSpec {
            command: Some(command.into()),
            ..RuleSpec::new(Action::Allow)
        }
    }

    fn order(store: &Store) -> Vec<String> {
        store
            .rules()
            .unwrap()
            .into_iter()
            .map(|(_, s)| s.command.unwrap())
            .collect()
    }

    #[test]
    fn rules_keep_their_order_through_add_move_remove() {
        let store = Store::open_in_memory().unwrap();
        let a = store.add_rule(&spec("a"), None).unwrap();
        let b = store.add_rule(&spec("b"), None).unwrap();
        store.add_rule(&spec("first"), Some(0)).unwrap();
        assert_eq!(order(&store), ["first", "a", "b"]);
        assert!(store.move_rule(b, 0).unwrap());
        assert_eq!(order(&store), ["b", "first", "a"]);
        assert!(store.move_rule(b, 99).unwrap());
        assert_eq!(order(&store), ["first", "a", "b"]);
        assert!(store.remove_rule(a).unwrap());
        assert!(!store.remove_rule(a).unwrap());
        assert!(!store.move_rule(a, 0).unwrap());
        assert_eq!(order(&store), ["first", "b"]);
        store.add_rule(&spec("mid"), Some(1)).unwrap();
        assert_eq!(order(&store), ["first", "mid", "b"]);
    }

    #[test]
    fn decisions_are_recorded_newest_first() {
        let store = Store::open_in_memory().unwrap();
        for (i, decision) in ["allow", "deny"].iter().enumerate() {
            store
                .record_decision(&DecisionRecord {
                    id: 0,
                    session_id: "s".into(),
                    session_name: "n".into(),
                    agent: "claude".into(),
                    tool: "Bash".into(),
                    summary: format!("cmd {i}"),
                    decision: decision.to_string(),
                    decided_by: "user".into(),
                    at: now(),
                    tool_use_id: (i == 0).then(|| "toolu_1".into()),
                })
                .unwrap();
        }
        let got = store.decisions(10).unwrap();
        assert_eq!(
            got.iter().map(|d| d.decision.as_str()).collect::<Vec<_>>(),
            ["deny", "allow"]
        );
    }
}

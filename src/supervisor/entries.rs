//! The sessions desk: every session the host knows, oldest first, with an
//! index by id (the records, and for a live one its handles); the names of
//! the starts under way, the most sessions that may run, and the prices
//! their usage is counted at. What asks "which session is this?" or "may
//! one more start?" asks here, not by scanning.
//!
//! Invariants: a name is taken by at most one session, live or starting;
//! live and starting sessions together never pass the limit when a start
//! is reserved; every record is priced by the current table.

use std::collections::{HashMap, HashSet};

use super::Entry;
use crate::errors::HostError;
use crate::model::SessionId;

/// Sessions at once, unless a hello says otherwise.
const DEFAULT_MAX_SESSIONS: usize = 12;

pub(super) struct Sessions {
    /// Oldest first; the list shows them reversed.
    entries: Vec<Entry>,
    /// Id -> position in `entries`.
    by_id: HashMap<String, usize>,
    /// Names of sessions whose start's job is running: reserved, and each
    /// counted under `max`.
    starting: HashSet<String>,
    max: usize,
    prices: crate::cost::Prices,
}

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions::new(Vec::new())
    }
}

impl Sessions {
    /// The stored sessions, priced by the built-in table.
    pub fn new(mut entries: Vec<Entry>) -> Sessions {
        let prices = crate::cost::Prices::default();
        for entry in &mut entries {
            entry.record.price(&prices);
        }
        let mut sessions = Sessions {
            entries,
            by_id: HashMap::new(),
            starting: HashSet::new(),
            max: DEFAULT_MAX_SESSIONS,
            prices,
        };
        sessions.reindex();
        sessions
    }

    /// Reserve `name` for a start: refused past the limit.
    pub fn reserve(&mut self, name: &str) -> Result<(), HostError> {
        if self.live_count() + self.starting.len() >= self.max {
            return Err(HostError::MaxSessions(self.max));
        }
        self.starting.insert(name.to_string());
        Ok(())
    }

    /// Whether one more start would pass the limit (checked before a
    /// start's other work; [`Sessions::reserve`] checks again).
    pub fn full(&self) -> Option<HostError> {
        (self.live_count() + self.starting.len() >= self.max).then_some(HostError::MaxSessions(self.max))
    }

    /// A start's job is done (its session is live, failed or gone).
    pub fn release(&mut self, name: &str) {
        self.starting.remove(name);
    }

    /// Starts under way.
    pub fn starting(&self) -> usize {
        self.starting.len()
    }

    pub fn set_max(&mut self, max: usize) {
        self.max = max.max(1);
    }

    /// The prices usage is counted at.
    pub fn prices(&self) -> &crate::cost::Prices {
        &self.prices
    }

    /// A new price table: every record priced again; the ones that changed.
    pub fn set_prices(&mut self, prices: crate::cost::Prices) -> Vec<crate::model::SessionRecord> {
        if prices == self.prices {
            return Vec::new();
        }
        self.prices = prices;
        let mut changed = Vec::new();
        for entry in &mut self.entries {
            if entry.record.price(&self.prices) {
                changed.push(entry.record.clone());
            }
        }
        changed
    }

    fn reindex(&mut self) {
        self.by_id = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.record.id.to_string(), i))
            .collect();
    }

    pub fn get(&self, id: &SessionId) -> Option<&Entry> {
        self.get_str(id.as_str())
    }

    pub fn get_mut(&mut self, id: &SessionId) -> Option<&mut Entry> {
        let index = *self.by_id.get(id.as_str())?;
        self.entries.get_mut(index)
    }

    /// By an id as text (what a hook or a client sends).
    pub fn get_str(&self, id: &str) -> Option<&Entry> {
        self.entries.get(*self.by_id.get(id)?)
    }

    /// The newest session of that name.
    pub fn by_name(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.record.name == name)
    }

    /// What a reference names: an id, else the newest of that name.
    pub fn resolve(&self, reference: &str) -> Result<&SessionId, HostError> {
        self.get_str(reference)
            .or_else(|| self.by_name(reference))
            .map(|e| &e.record.id)
            .ok_or_else(|| HostError::NoSession(reference.to_string()))
    }

    pub fn push(&mut self, entry: Entry) {
        self.by_id.insert(entry.record.id.to_string(), self.entries.len());
        self.entries.push(entry);
    }

    pub fn remove(&mut self, id: &SessionId) -> Option<Entry> {
        let index = self.by_id.remove(id.as_str())?;
        let entry = self.entries.remove(index);
        self.reindex();
        Some(entry)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Entry> {
        self.entries.iter()
    }

    /// Taken by a session, live or ended, or by a start under way.
    pub fn name_taken(&self, name: &str) -> bool {
        if self.starting.contains(name) {
            return true;
        }
        self.by_name(name).is_some()
    }

    pub fn live_count(&self) -> usize {
        self.entries.iter().filter(|e| e.live.is_some()).count()
    }
}

impl<'a> IntoIterator for &'a Sessions {
    type Item = &'a Entry;
    type IntoIter = std::slice::Iter<'a, Entry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl<'a> IntoIterator for &'a mut Sessions {
    type Item = &'a mut Entry;
    type IntoIter = std::slice::IterMut<'a, Entry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    fn entry(name: &str) -> Entry {
        Entry {
            record: crate::store::tests::record(name, Status::Completed, "2026-01-01T00:00:00.000Z"),
            live: None,
        }
    }

    #[test]
    fn ids_and_names_find_the_right_session_after_removals() {
        let (a, b, c) = (entry("a"), entry("b"), entry("a"));
        let (a_id, b_id, c_id) = (a.record.id.clone(), b.record.id.clone(), c.record.id.clone());
        let mut sessions = Sessions::new(vec![a, b]);
        sessions.push(c);
        assert_eq!(sessions.resolve("a"), Ok(&c_id), "the newest of a name");
        assert_eq!(sessions.resolve(a_id.as_str()), Ok(&a_id), "an id wins");
        assert_eq!(sessions.resolve("nope"), Err(HostError::NoSession("nope".into())));
        assert!(sessions.remove(&a_id).is_some());
        assert!(sessions.get(&a_id).is_none());
        assert_eq!(
            sessions.get(&b_id).map(|e| e.record.name.as_str()),
            Some("b"),
            "indices follow"
        );
        assert_eq!(sessions.get_mut(&c_id).map(|e| e.record.name.as_str()), Some("a"));
        assert_eq!(sessions.iter().count(), 2);
        assert!(sessions.name_taken("b") && !sessions.name_taken("z"));
        assert_eq!(sessions.live_count(), 0);
    }
}

#[cfg(test)]
mod desk_tests {
    use super::*;

    #[test]
    fn starts_count_under_the_limit_and_hold_their_names() {
        let mut desk = Sessions::default();
        desk.set_max(2);
        desk.reserve("a").unwrap();
        assert!(desk.name_taken("a"), "a start under way holds its name");
        desk.reserve("b").unwrap();
        assert!(matches!(desk.reserve("c"), Err(HostError::MaxSessions(2))));
        assert!(desk.full().is_some());
        desk.release("a");
        assert!(!desk.name_taken("a"));
        assert!(desk.full().is_none());
        assert_eq!(desk.starting(), 1);
        assert!(
            desk.set_prices(crate::cost::Prices::default()).is_empty(),
            "the same table changes nothing"
        );
    }
}

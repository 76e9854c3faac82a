//! Every session the host knows, oldest first, with an index by id: the
//! records, and for a live one its handles. What asks "which session is
//! this?" asks here, not by scanning.

use std::collections::HashMap;

use super::Entry;
use crate::errors::HostError;
use crate::model::SessionId;

#[derive(Default)]
pub(super) struct Sessions {
    /// Oldest first; the list shows them reversed.
    entries: Vec<Entry>,
    /// Id -> position in `entries`.
    by_id: HashMap<String, usize>,
}

impl Sessions {
    pub fn new(entries: Vec<Entry>) -> Sessions {
        let mut sessions = Sessions {
            entries,
            by_id: HashMap::new(),
        };
        sessions.reindex();
        sessions
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

    pub fn name_taken(&self, name: &str) -> bool {
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

//! DESK: the conversations of ACP sessions. Owns each session's entries
//! (merged as they arrive: chunks into their message, tool updates into
//! their card), bounded in bytes (the oldest go first, and a note says
//! so), and when each was last stored. Invariant: what an editor was told
//! (`from`, then the entries from there) rebuilds exactly the list kept.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::acp::chat::Entry;
use crate::model::SessionId;

/// Most bytes of text one conversation keeps.
pub const MAX_CHAT_BYTES: usize = 2 * 1024 * 1024;
/// Most entries one batch may carry.
pub const MAX_BATCH: usize = 4096;
/// How long a changed conversation waits before it is stored.
const SAVE_EVERY: Duration = Duration::from_secs(3);

#[derive(Default)]
struct Chat {
    entries: Vec<Entry>,
    weight: usize,
    /// Changed since it was last stored, and when that was.
    dirty: bool,
    due: bool,
    saved: Option<Instant>,
}

/// What an editor is told: the entries from `from` on replace its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatUpdate {
    pub session: SessionId,
    pub from: usize,
    pub entries: Vec<Entry>,
}

#[derive(Default)]
pub struct Chats {
    by_session: HashMap<SessionId, Chat>,
}

const TRIMMED: &str = "earlier conversation trimmed (lulu keeps the last 2 MiB)";

impl Chats {
    /// Add a batch; what changed, for the editors.
    pub fn add(&mut self, id: &SessionId, batch: Vec<Entry>) -> ChatUpdate {
        let chat = self.by_session.entry(id.clone()).or_default();
        let mut from = chat.entries.len();
        for entry in batch.into_iter().take(MAX_BATCH) {
            let at = Entry::merge_into(&mut chat.entries, entry);
            from = from.min(at);
        }
        chat.weight = chat.entries.iter().map(Entry::weight).sum();
        if chat.weight > MAX_CHAT_BYTES {
            chat.trim();
            from = 0;
        }
        chat.dirty = true;
        ChatUpdate {
            session: id.clone(),
            from,
            entries: chat.entries[from.min(chat.entries.len())..].to_vec(),
        }
    }

    /// The whole conversation, if this host holds it.
    pub fn get(&self, id: &SessionId) -> Option<&[Entry]> {
        self.by_session.get(id).map(|c| c.entries.as_slice())
    }

    /// Store it at the next look (a turn ended).
    pub fn save_soon(&mut self, id: &SessionId) {
        if let Some(chat) = self.by_session.get_mut(id) {
            chat.due = true;
        }
    }

    /// The conversations to store now, each marked stored.
    pub fn due(&mut self) -> Vec<(SessionId, Vec<Entry>)> {
        let mut out = Vec::new();
        for (id, chat) in &mut self.by_session {
            let waited = chat.saved.is_none_or(|t| t.elapsed() >= SAVE_EVERY);
            if chat.dirty && (chat.due || waited) {
                chat.dirty = false;
                chat.due = false;
                chat.saved = Some(Instant::now());
                out.push((id.clone(), chat.entries.clone()));
            }
        }
        out
    }

    pub fn remove(&mut self, id: &SessionId) {
        self.by_session.remove(id);
    }
}

impl Chat {
    /// Drop the oldest entries until it fits (with room to spare), a note first.
    fn trim(&mut self) {
        let goal = MAX_CHAT_BYTES * 3 / 4;
        let mut cut = 0;
        while self.weight > goal && cut < self.entries.len() {
            self.weight -= self.entries[cut].weight();
            cut += 1;
        }
        self.entries.drain(..cut);
        if !matches!(self.entries.first(), Some(Entry::Note { text }) if text == TRIMMED) {
            self.entries.insert(0, Entry::Note { text: TRIMMED.into() });
        }
        self.weight = self.entries.iter().map(Entry::weight).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(text: &str) -> Entry {
        Entry::Agent { text: text.into() }
    }

    #[test]
    fn updates_replay_to_the_same_list_and_the_list_stays_bounded() {
        let mut chats = Chats::default();
        let id = SessionId::random();
        let mut mirror: Vec<Entry> = Vec::new();
        let mut apply = |update: ChatUpdate| {
            mirror.truncate(update.from);
            mirror.extend(update.entries);
            mirror.clone()
        };
        apply(chats.add(&id, vec![Entry::User { text: "hi".into() }, agent("a")]));
        let got = apply(chats.add(
            &id,
            vec![
                agent("b"),
                Entry::Turn {
                    stop: "end_turn".into(),
                },
            ],
        ));
        assert_eq!(got, chats.get(&id).unwrap());
        assert_eq!(got[1], agent("ab"));
        let big = "x".repeat(200 * 1024);
        for _ in 0..30 {
            let update = chats.add(&id, vec![Entry::User { text: "q".into() }, agent(&big)]);
            assert_eq!(apply(update), chats.get(&id).unwrap());
        }
        let kept = chats.get(&id).unwrap();
        assert!(kept.iter().map(Entry::weight).sum::<usize>() <= MAX_CHAT_BYTES);
        assert_eq!(kept[0], Entry::Note { text: TRIMMED.into() });
        assert_eq!(kept.iter().filter(|e| matches!(e, Entry::Note { .. })).count(), 1);
        assert_eq!(chats.due().len(), 1);
        assert!(chats.due().is_empty(), "stored once until it changes again");
    }
}

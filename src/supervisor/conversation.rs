//! An ACP session's conversation and usage as `lulu acp` reports them:
//! entries into the chats desk and out to every editor, usage into the
//! record (priced as every session's is), and the conversation stored as
//! it grows (a job; the loop never waits on the store).

use serde::Serialize;
use serde_json::Value;

use super::chats::MAX_BATCH;
use super::{Reply, Supervisor, answer_later, respond};
use crate::acp::chat::Entry;
use crate::api::{Event, Payload};
use crate::model::SessionId;

/// A conversation as `session_chat` answers it.
#[derive(Serialize)]
struct Whole<'a> {
    session: &'a SessionId,
    from: usize,
    entries: &'a [Entry],
}

impl Supervisor {
    /// A batch of entries from the session's client.
    pub(super) fn on_chat(&mut self, id: &SessionId, payload: &Value) {
        let Some(list) = payload.get("entries").and_then(Value::as_array) else {
            return;
        };
        // Each entry read on its own: one of a shape lulu does not know is
        // dropped, the rest kept.
        let batch: Vec<Entry> = list
            .iter()
            .take(MAX_BATCH)
            .filter_map(|e| serde_json::from_value(e.clone()).ok())
            .collect();
        if batch.is_empty() {
            return;
        }
        let update = self.chats.add(id, batch);
        self.editors.emit(Event::Chat, Payload::of(&update));
    }

    /// What a turn used: tokens by model (added), or the agent's own
    /// running cost (replaced).
    pub(super) fn on_acp_usage(&mut self, id: &SessionId, payload: &Value) {
        let prices = self.entries.prices().clone();
        let Some(entry) = self.entries.get_mut(id) else {
            return;
        };
        let usage = &mut entry.record.usage;
        if let Some(models) = payload.get("models").and_then(Value::as_object) {
            for (model, tokens) in models.iter().take(32) {
                let Ok(tokens) = serde_json::from_value::<crate::cost::Tokens>(tokens.clone()) else {
                    continue;
                };
                let kept = usage.models.entry(model.chars().take(100).collect()).or_default();
                kept.input = kept.input.saturating_add(tokens.input);
                kept.output = kept.output.saturating_add(tokens.output);
            }
        }
        if let Some(usd) = payload
            .get("cost_usd")
            .and_then(Value::as_f64)
            .filter(|c| c.is_finite() && *c >= 0.0)
        {
            usage.own_usd = usd;
        }
        entry.record.price(&prices);
        let record = entry.record.clone();
        self.persist(&record);
        self.broadcast_record(&record);
    }

    /// Store the conversations that changed (on the tick).
    pub(super) fn save_chats(&mut self) {
        for (id, entries) in self.chats.due() {
            self.store.write(format!("the conversation of session {id}"), move |s| {
                let json = serde_json::to_string(&entries).unwrap_or_else(|_| "[]".into());
                s.save_chat(&id, &json)
            });
        }
    }

    /// `session_chat`: the whole conversation (from the store when this
    /// host has not held it: an ACP session of an earlier host).
    pub(super) fn chat(&self, session: &str, reply: Option<Reply>) {
        let id = match self.find(session) {
            Ok(entry) => entry.record.id.clone(),
            Err(err) => return respond(reply, Err(err)),
        };
        if let Some(entries) = self.chats.get(&id) {
            let whole = Whole {
                session: &id,
                from: 0,
                entries,
            };
            return respond(reply, Ok(Payload::of(&whole)));
        }
        let store = self.store.clone();
        answer_later(reply, async move {
            let key = id.clone();
            let stored = store.run(move |s| s.chat(&key)).await?;
            let entries: Vec<Entry> = stored
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default();
            Ok(Payload::of(&Whole {
                session: &id,
                from: 0,
                entries: &entries,
            }))
        });
    }
}

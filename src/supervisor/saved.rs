//! What the store keeps for the user besides sessions: prompt templates
//! and saved sets of sessions. Writes are queued on the store's thread;
//! reads are jobs that answer by themselves, so the loop goes on.

use crate::api::Payload;
use anyhow::Context;

use super::{Reply, Supervisor, answer_later};
use crate::errors::HostError;

impl Supervisor {
    pub(super) fn save_template(&self, name: String, spec: String) -> Payload {
        self.store
            .write(format!("the template '{name}'"), move |s| s.save_template(&name, &spec));
        Payload::NIL
    }

    pub(super) fn templates(&self, reply: Option<Reply>) {
        let store = self.store.clone();
        answer_later(reply, async move {
            let saved = store.run(|s| s.templates()).await?;
            Ok(Payload::of(
                &saved.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            ))
        });
    }

    pub(super) fn save_snapshot(&self, name: String, specs: String) -> Payload {
        self.store.write(format!("the saved set '{name}'"), move |s| {
            s.save_snapshot(&name, &specs)
        });
        Payload::NIL
    }

    pub(super) fn snapshot(&self, name: String, reply: Option<Reply>) {
        let store = self.store.clone();
        answer_later(reply, async move {
            let key = name.clone();
            match store.run(move |s| s.snapshot(&key)).await {
                Ok(Some(specs)) => serde_json::from_str::<serde_json::Value>(&specs)
                    .map(|json| Payload::of(&json))
                    .context("the saved set is unreadable"),
                Ok(None) => Err(HostError::NoSnapshot(name).into()),
                Err(err) => Err(err.into()),
            }
        });
    }

    pub(super) fn snapshots(&self, reply: Option<Reply>) {
        let store = self.store.clone();
        answer_later(reply, async move {
            store
                .run(|s| s.snapshot_names())
                .await
                .map(|names| Payload::of(&names))
                .context("could not list saved sets")
        });
    }
}

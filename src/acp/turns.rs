//! Turns: the user's prompts go one at a time; a turn's end says why and
//! what it used; the user's Ctrl-C cancels it (and every question of it
//! still waiting).

use serde_json::{Value, json};

use super::agent::Heard;
use super::chat::Entry;
use super::client::{Client, Sent};
use super::keys::Key;

impl Client {
    pub(super) fn on_keys(&mut self, bytes: &[u8]) {
        for key in self.keys.feed(bytes) {
            match key {
                Key::Prompt(text) => {
                    self.told_why = false;
                    self.prompts.push_back(text);
                    self.next_prompt();
                }
                Key::Cancel => self.cancel(),
            }
        }
    }

    /// Send the next prompt, if the session is ready and no turn runs.
    pub(super) fn next_prompt(&mut self) {
        if self.turn {
            return;
        }
        let Some(session) = self.session.clone() else {
            return;
        };
        let Some(text) = self.prompts.pop_front() else {
            return;
        };
        self.turn = true;
        self.push(Entry::User { text: text.clone() });
        self.say(json!({"hook_event_name": "UserPromptSubmit"}));
        self.request(
            Sent::Prompt,
            "session/prompt",
            json!({"sessionId": session, "prompt": [{"type": "text", "text": text}]}),
        );
    }

    pub(super) fn turn_ended(&mut self, result: Result<Value, String>) {
        self.turn = false;
        self.cards.clear();
        let stop = match &result {
            Ok(result) => result
                .get("stopReason")
                .and_then(Value::as_str)
                .unwrap_or("end_turn")
                .to_string(),
            Err(err) => {
                self.note(format!("the turn failed: {err}"));
                "error".to_string()
            }
        };
        if let Ok(result) = &result {
            let models = crate::adapter::acp_turn_usage(result);
            if !models.is_empty() {
                self.say(json!({"hook_event_name": "Usage", "models": models}));
            }
        }
        self.push(Entry::Turn {
            stop: super::chat::cut(&stop, 40).to_string(),
        });
        self.say(json!({"hook_event_name": "Stop", "stop_reason": stop}));
        self.next_prompt();
    }

    /// Ctrl-C: cancel the turn, and answer "cancelled" to its questions.
    fn cancel(&mut self) {
        let Some(session) = self.session.clone().filter(|_| self.turn) else {
            return;
        };
        let message = super::wire::notification("session/cancel", json!({"sessionId": session}));
        self.send(&message);
        self.cancel_asks();
        self.note("cancelled");
    }
}

/// What a question thread sends back.
pub(super) fn answered(tx: &std::sync::mpsc::SyncSender<Heard>, ask: u64, stream: std::os::unix::net::UnixStream) {
    let tx = tx.clone();
    std::thread::spawn(move || {
        let reply = super::host::Host::answer(&stream);
        let _ = tx.send(Heard::Answered { ask, reply });
    });
}

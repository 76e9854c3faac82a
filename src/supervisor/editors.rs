//! The editors desk: the editors connected, each with the options that
//! shape the sessions it starts, the options a client that said no hello
//! gets (the last hello's), and every event the host tells them.
//!
//! Owns its fields; the supervisor reaches them only through these methods.
//! Invariants: an event goes to every joined editor, in the order emitted;
//! a connection that ended is never joined again by a hello that arrives
//! late; notices held for the first editor reach exactly one editor.

use std::collections::{HashMap, VecDeque};

use super::SessionOptions;
use crate::api::{Client, ClientId, Event, Payload};

/// How many ended connections are remembered for a hello still in flight.
const DEPARTED_KEPT: usize = 256;

#[derive(Default)]
pub(super) struct Editors {
    joined: HashMap<ClientId, (Client, SessionOptions)>,
    departed: VecDeque<ClientId>,
    /// What the last hello set: the options of a client that said none
    /// (`lulu start` from a shell), and what is daemon-wide about agents.
    last: SessionOptions,
    /// Said to the first editor that joins (a recovered store, say).
    held: Vec<String>,
}

impl Editors {
    /// No editor yet; `notices` wait for the first.
    pub fn new(notices: Vec<String>) -> Editors {
        Editors {
            held: notices,
            ..Editors::default()
        }
    }

    /// An editor said hello with `options`, which become the last ones; it
    /// is told the notices held for the first editor. False when its
    /// connection already ended.
    pub fn join(&mut self, client: Client, options: SessionOptions) -> bool {
        self.last = options.clone();
        if self.departed.contains(&client.id) {
            return false;
        }
        for notice in self.held.drain(..) {
            client.emit(Event::Notice, Payload::from(notice));
        }
        self.joined.insert(client.id, (client, options));
        true
    }

    /// A connection ended; true when it was an editor that had joined.
    pub fn leave(&mut self, client: ClientId) -> bool {
        if self.joined.remove(&client).is_some() {
            return true;
        }
        if self.departed.len() == DEPARTED_KEPT {
            self.departed.pop_front();
        }
        self.departed.push_back(client);
        false
    }

    /// What shapes the sessions `client` starts (the last hello's options
    /// for a client that said none).
    pub fn options(&self, client: ClientId) -> &SessionOptions {
        self.joined.get(&client).map_or(&self.last, |(_, options)| options)
    }

    /// The last hello's options.
    pub fn last(&self) -> &SessionOptions {
        &self.last
    }

    pub fn len(&self) -> usize {
        self.joined.len()
    }

    /// Tell every joined editor.
    pub fn emit(&self, event: Event, payload: Payload) {
        for (client, _) in self.joined.values() {
            client.emit(event, payload.clone());
        }
    }

    /// A warning for the user, shown as one notification in each editor.
    pub fn notice(&self, message: &str) {
        self.emit(Event::Notice, Payload::from(message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Peer;

    fn editor() -> Client {
        Client {
            id: ClientId::next(),
            peer: Peer::nowhere(),
        }
    }

    #[test]
    fn a_late_hello_from_a_closed_connection_is_not_joined() {
        let mut editors = Editors::new(vec!["recovered".into()]);
        let gone = editor();
        assert!(!editors.leave(gone.id), "never joined");
        assert!(!editors.join(gone, SessionOptions::default()));
        assert_eq!(editors.len(), 0);
        let here = editor();
        assert!(editors.join(here.clone(), SessionOptions::default()));
        assert_eq!(editors.len(), 1);
        assert!(editors.held.is_empty(), "the held notice went to the first editor");
        assert!(editors.leave(here.id));
        assert_eq!(editors.len(), 0);
    }

    #[test]
    fn a_client_without_hello_gets_the_last_options() {
        let mut editors = Editors::default();
        let options = SessionOptions {
            scrollback: 77,
            ..SessionOptions::default()
        };
        editors.join(editor(), options);
        assert_eq!(editors.options(ClientId::next()).scrollback, 77);
        assert_eq!(editors.last().scrollback, 77);
    }

    #[test]
    fn each_editor_keeps_its_own_options() {
        let with = |scrollback| SessionOptions {
            scrollback,
            ..SessionOptions::default()
        };
        let mut editors = Editors::default();
        let (a, b) = (editor(), editor());
        let (a_id, b_id) = (a.id, b.id);
        assert!(editors.join(a, with(100)));
        assert!(editors.join(b, with(200)));
        assert_eq!(editors.options(a_id).scrollback, 100);
        assert_eq!(editors.options(b_id).scrollback, 200);
        assert!(editors.leave(a_id));
        assert_eq!(editors.options(a_id).scrollback, 200, "gone: the last hello's");
        assert_eq!(editors.len(), 1);
    }
}

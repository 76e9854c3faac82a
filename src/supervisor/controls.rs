//! The live sessions' PTY controls, shared with every connection, so that
//! keystrokes, pastes and resizes reach a session without passing through
//! the supervisor's queue: they cost the same whatever else the host is
//! doing (a slow `git worktree add`, a locked database).
//!
//! Read-mostly: the supervisor inserts a session when it goes live and
//! removes it when it ends; readers take a short `std::sync` lock, never
//! held across an await.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::fanout::SharedScreen;
use crate::model::SessionId;
use crate::pty::{Input, PtyControl};

#[derive(Clone)]
pub struct Handle {
    pub id: SessionId,
    pub control: PtyControl,
    /// Pause between typed text and its Enter (`send`).
    pub submit_delay: Duration,
    /// The session's screen model (previews read it).
    pub screen: SharedScreen,
}

#[derive(Default)]
struct Index {
    by_id: HashMap<SessionId, Handle>,
    by_name: HashMap<String, SessionId>,
}

#[derive(Clone, Default)]
pub struct Controls(Arc<RwLock<Index>>);

impl Controls {
    pub(super) fn insert(&self, name: &str, handle: Handle) {
        let mut index = self.0.write().unwrap_or_else(|p| p.into_inner());
        index.by_name.insert(name.to_string(), handle.id.clone());
        index.by_id.insert(handle.id.clone(), handle);
    }

    pub(super) fn remove(&self, id: &SessionId) {
        let mut index = self.0.write().unwrap_or_else(|p| p.into_inner());
        index.by_id.remove(id);
        index.by_name.retain(|_, named| named != id);
    }

    /// The live session `session` names (an id, else a name).
    pub fn get(&self, session: &str) -> Option<Handle> {
        let index = self.0.read().unwrap_or_else(|p| p.into_inner());
        let id = match index.by_id.get_key_value(session) {
            Some((id, _)) => id.clone(),
            None => index.by_name.get(session)?.clone(),
        };
        index.by_id.get(&id).cloned()
    }
}

impl Handle {
    pub fn send(&self, text: &str) {
        type_line(&self.control, self.submit_delay, text);
    }
}

/// Type `text` as a person would: the text (a bracketed paste when it spans
/// lines), a pause (agent TUIs take text and Enter in one burst for a
/// paste), then Enter on its own.
pub(super) fn type_line(control: &PtyControl, delay: Duration, text: &str) {
    let body = text.trim_end_matches(['\n', '\r']);
    let bytes = if body.contains('\n') {
        format!("\x1b[200~{body}\x1b[201~").into_bytes()
    } else {
        body.as_bytes().to_vec()
    };
    control.write(Input::Bytes(bytes));
    control.write(Input::Pause(delay));
    control.write(Input::Bytes(b"\r".to_vec()));
}

//! A live preview of one session's screen for one editor (the list's `p`):
//! a task per watching editor that sends the screen as a `screen` event
//! whenever it has changed, at most [`PER_SECOND`] times a second. It reads
//! the model through the shared controls (never the supervisor's queue);
//! an ended session's screen is sent once, rebuilt from its log.

use std::time::Duration;

use crate::api::Payload;
use tokio::task::JoinHandle;

use super::SupervisorHandle;
use super::fanout;
use crate::api::reply::ScreenOf;
use crate::api::{Client, ClientId, Event, Peer, Request};

const PER_SECOND: u64 = 10;

impl SupervisorHandle {
    /// Start sending `session`'s screen (its last `rows` rows) to `peer`.
    pub fn watch(&self, client: ClientId, peer: Peer, session: String, rows: usize) -> JoinHandle<()> {
        let supervisor = self.clone();
        tokio::spawn(async move {
            let editor = Client {
                id: client,
                peer: peer.clone(),
            };
            let mut last = None;
            let mut tick = tokio::time::interval(Duration::from_millis(1000 / PER_SECOND));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(handle) = supervisor.controls.get(&session) else {
                    break;
                };
                let text = {
                    let mut screen = fanout::lock(&handle.screen);
                    if last == Some(screen.generation()) {
                        continue;
                    }
                    let (cols, height) = handle.control.size();
                    screen.resize(cols, height);
                    screen.text(rows)
                };
                last = Some(text.generation);
                if !editor.emit(Event::Screen, payload(handle.id.as_str(), &text)) {
                    return; // the editor is gone
                }
            }
            // Ended (or never live): its last screen, once.
            let request = Request::Screen {
                session: session.clone(),
                rows,
            };
            if let Ok(screen) = supervisor.request(client, peer, request).await
                && screen.as_inner().is_object()
            {
                let session = session.as_str();
                editor.emit(Event::Screen, Payload::of(&ScreenOf { screen, session }));
            }
        })
    }
}

fn payload(session: &str, text: &crate::screen::Text) -> Payload {
    Payload::of(&ScreenOf { screen: text, session })
}

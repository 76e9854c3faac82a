//! What goes through the supervisor for a session's terminals: a terminal
//! attached (a live session's own task paints it from the model; an ended
//! one's is painted from its log's tail, off the loop), and the typing that
//! also clears a waiting mark and counts as activity. (Plain keystrokes
//! and resizes bypass the supervisor: see `controls`.)

use std::time::Duration;

use crate::api::Payload;
use anyhow::Context;

use super::session_task::{SessionCmd, SessionEvent};
use super::{Command, ENDED_REPLAY, Supervisor, controls, ended_line, log_path};
use crate::api::{ClientId, Peer};
use crate::pty::{self, Input};

impl Supervisor {
    pub(super) fn send_text(&mut self, session: &str, text: &str) -> anyhow::Result<Payload> {
        let live = self.live(session)?;
        controls::type_line(&live.control, live.submit_delay, text);
        self.clear_waiting(session);
        self.touch(session);
        Ok(Payload::NIL)
    }

    pub(super) fn write(&mut self, session: &str, bytes: Vec<u8>) -> anyhow::Result<Payload> {
        self.live(session)?.control.write(Input::Bytes(bytes));
        self.clear_waiting(session);
        self.touch(session);
        Ok(Payload::NIL)
    }

    /// Input counts as activity; recorded at most once a second.
    pub(super) fn touch(&mut self, session: &str) {
        let Ok(entry) = self.find_mut(session) else {
            return;
        };
        let Some(live) = entry.live.as_mut() else {
            return;
        };
        if live.last_activity_write.elapsed() < Duration::from_secs(1) {
            return;
        }
        live.last_activity_write = std::time::Instant::now();
        let id = entry.record.id.clone();
        let _ = self.tx.send(Command::Session(SessionEvent::Activity(id)));
    }

    pub(super) fn attach(
        &mut self,
        client: ClientId,
        peer: Peer,
        session: &str,
        chan: i64,
        size: Option<(u16, u16)>,
        opts: crate::api::AttachOpts,
    ) -> anyhow::Result<Payload> {
        let state_dir = self.settings.state_dir.clone();
        // An ended session is painted with the attaching editor's scrollback.
        let scrollback = self.editors.options(client).scrollback;
        let entry = self.find_mut(session)?;
        if let Some(live) = entry.live.as_ref() {
            // Sized first, so the model paints the terminal at its own size.
            if let Some((cols, rows)) = size {
                live.control.resize(cols, rows).context("resize failed")?;
            }
            let _ = live.commands.send(SessionCmd::Attach {
                client,
                peer,
                chan,
                opts,
            });
            return Ok(Payload::NIL);
        }
        // An ended session has no model; its log holds the same bytes, and
        // a model fed from its tail paints what it last showed.
        let log = log_path(&state_dir, &entry.record.id);
        let last = ended_line(&entry.record);
        let (cols, rows) = size.unwrap_or((80, 24));
        tokio::spawn(async move {
            let painted = tokio::task::spawn_blocking(move || {
                let mut screen = crate::screen::Screen::new(cols, rows, scrollback);
                screen.feed_shown(&pty::read_tail(&log, ENDED_REPLAY as usize));
                screen.snapshot()
            });
            let mut painted = painted.await.unwrap_or_default();
            // How it ended, after what it printed (as the editor writes it
            // when a session it shows ends).
            painted.extend_from_slice(format!("\r\n\x1b[2m{last}\x1b[0m\r\n").as_bytes());
            peer.link.chan_send(chan, painted);
        });
        Ok(Payload::NIL)
    }
}

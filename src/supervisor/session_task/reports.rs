//! What a session's task reports about it: that it runs, its activity,
//! that its screen drew and held still, and what its screen shows (a
//! question waiting, a finished turn).

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{ACTIVITY_EVERY, SessionEvent};
use crate::model::SessionId;
use crate::screen::status::{Seen, Signs, Verdict, Watch};
use crate::supervisor::fanout::SharedScreen;

/// What the supervisor has been told of the session's output: that it runs
/// (once), its activity (at most every [`ACTIVITY_EVERY`]), and that its
/// screen drew and held still (once).
pub(super) struct Told {
    id: SessionId,
    events: mpsc::UnboundedSender<SessionEvent>,
    pub(super) running: bool,
    pub(super) ready: bool,
    last_activity: Instant,
    pub(super) last_output: Option<Instant>,
}

impl Told {
    pub(super) fn new(id: SessionId, events: mpsc::UnboundedSender<SessionEvent>) -> Told {
        Told {
            id,
            events,
            running: false,
            ready: false,
            last_activity: Instant::now() - ACTIVITY_EVERY,
            last_output: None,
        }
    }

    pub(super) fn output(&mut self) {
        self.last_output = Some(Instant::now());
        if !self.running {
            self.running();
        }
        if self.last_activity.elapsed() >= ACTIVITY_EVERY {
            self.last_activity = Instant::now();
            let _ = self.events.send(SessionEvent::Activity(self.id.clone()));
        }
    }

    pub(super) fn running(&mut self) {
        self.running = true;
        let _ = self.events.send(SessionEvent::Running(self.id.clone()));
    }

    pub(super) fn ready(&mut self) {
        self.ready = true;
        let _ = self.events.send(SessionEvent::Ready(self.id.clone()));
    }
}

/// The screen as last read, and what has been made of it.
#[derive(Default)]
pub(super) struct ScreenReading {
    generation: Option<u64>,
    seen: Option<Seen>,
    watch: Watch,
}

impl ScreenReading {
    /// Read the screen again if it changed; a verdict once one has held.
    pub(super) fn read(&mut self, screen: &SharedScreen, signs: &Signs) -> Option<Verdict> {
        let seen = {
            let mut screen = crate::supervisor::fanout::lock(screen);
            match self.seen {
                Some(seen) if self.generation == Some(screen.generation()) => seen,
                _ => {
                    let text = screen.text(usize::MAX);
                    self.generation = Some(text.generation);
                    signs.read(&text.lines)
                }
            }
        };
        self.seen = Some(seen);
        self.watch.observe(seen, std::time::Instant::now())
    }
}

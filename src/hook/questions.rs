//! What the hook server needs of whoever answers: to be asked, and to be
//! told a question was withdrawn. The server knows only this (not the
//! supervisor), so the bridge can be tested and reused on its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;

use super::{HookReply, HookRequest};

/// Names one hook's question while it waits.
pub type Ticket = u64;

/// A message from the hook server.
pub enum Question {
    /// A hook asks; the answer goes to `reply`.
    Ask {
        ticket: Ticket,
        request: HookRequest,
        reply: oneshot::Sender<HookReply>,
    },
    /// The hook hung up before its answer (the agent answered in its own
    /// dialog, or was killed).
    Gone(Ticket),
}

/// Where questions go (the supervisor, in the host).
pub trait Answerer: Send + Sync + 'static {
    fn take(&self, question: Question);
}

/// The hook server's end: cheap to clone.
#[derive(Clone)]
pub struct Questions(Arc<dyn Answerer>);

impl Questions {
    pub fn new(to: impl Answerer) -> Questions {
        Questions(Arc::new(to))
    }

    /// Ask; the answer arrives on the receiver (dropped unanswered: the
    /// host is going away).
    pub fn ask(&self, request: HookRequest) -> (Ticket, oneshot::Receiver<HookReply>) {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let ticket = NEXT.fetch_add(1, Ordering::Relaxed);
        let (reply, rx) = oneshot::channel();
        self.0.take(Question::Ask { ticket, request, reply });
        (ticket, rx)
    }

    pub fn gone(&self, ticket: Ticket) {
        self.0.take(Question::Gone(ticket));
    }
}

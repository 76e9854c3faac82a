//! The questions waiting for the user, as the supervisor owns them: parked
//! in arrival order under ids of their own, found by id, by the hook
//! connection that asked, or by the tool call the agent went on to run,
//! and taken out whole when they are settled. Plain data: no IO, no
//! events (the supervisor tells the editors), tested on its own.

use serde::Serialize;
use tokio::sync::oneshot;

use super::approval_input::Fingerprint;
#[cfg(test)]
use super::approval_input::fingerprint;
use super::approvals::Ticket;
use crate::hook::HookReply;
use crate::model::SessionId;

/// A question waiting for the user.
pub(super) struct Pending {
    pub view: PendingView,
    pub(super) ticket: Ticket,
    pub(super) reply: oneshot::Sender<HookReply>,
    /// What "always" rules need of the input (its command and paths); long
    /// values such as a Write's content are cut to an excerpt.
    pub(super) input: serde_json::Value,
    /// The whole input's fingerprint, to tell when the agent moved on.
    pub(super) fingerprint: Fingerprint,
    /// Where the agent ran, and the session's root: what "always" rules
    /// are judged against.
    pub(super) cwd: String,
    pub(super) root: String,
    /// A file tool's whole input, kept on disk for its review.
    pub(super) spill: Option<super::edit_review::Spill>,
}

/// What the editor sees of a pending approval.
#[derive(Debug, Clone, Serialize)]
pub struct PendingView {
    pub id: i64,
    pub session_id: SessionId,
    pub session_name: String,
    pub agent: String,
    pub tool: String,
    /// The agent's id of this tool call, when it could be paired.
    pub tool_use_id: Option<String>,
    /// The command, or the file (with a size hint for edits).
    pub summary: String,
    /// The rules "Always allow" would add, in words; `None` when no rule
    /// as narrow as the question can be made (a file outside the session,
    /// a command lulu cannot vouch for, a tool that names neither).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always: Option<String>,
    /// The rules "Always deny" would add, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_deny: Option<String>,
    /// Why the allow rules that cover part of it could not allow it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doubt: Option<String>,
    /// A file change that can be reviewed as a diff (`approval_review`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub review: bool,
    /// Whether an edited version can be given back to the agent.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub editable: bool,
    pub created_at: String,
}

#[cfg(test)]
impl PendingView {
    pub(super) fn for_test(id: i64, session: &SessionId, tool: &str) -> PendingView {
        PendingView {
            id,
            session_id: session.clone(),
            session_name: "s".into(),
            agent: "claude".into(),
            tool: tool.into(),
            tool_use_id: None,
            summary: String::new(),
            always: None,
            always_deny: None,
            doubt: None,
            review: false,
            editable: false,
            created_at: String::new(),
        }
    }
}

#[cfg(test)]
impl Pending {
    pub(super) fn for_test(
        view: PendingView,
        ticket: Ticket,
        reply: oneshot::Sender<HookReply>,
        input: serde_json::Value,
    ) -> Pending {
        Pending {
            view,
            ticket,
            reply,
            fingerprint: fingerprint(&input),
            input,
            cwd: "/".into(),
            root: "/".into(),
            spill: None,
        }
    }
}

#[derive(Default)]
pub(super) struct ApprovalQueue {
    pending: Vec<Pending>,
    last_id: i64,
}

impl ApprovalQueue {
    /// The id the next parked question gets.
    pub fn next_id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    pub fn park(&mut self, pending: Pending) {
        self.pending.push(pending);
    }

    pub fn count_for(&self, session: &SessionId) -> usize {
        self.pending.iter().filter(|p| &p.view.session_id == session).count()
    }

    pub fn get(&self, id: i64) -> Option<&Pending> {
        self.pending.iter().find(|p| p.view.id == id)
    }

    pub fn take(&mut self, id: i64) -> Option<Pending> {
        let index = self.pending.iter().position(|p| p.view.id == id)?;
        Some(self.pending.remove(index))
    }

    /// The question of the hook connection `ticket`.
    pub fn take_ticket(&mut self, ticket: Ticket) -> Option<Pending> {
        let index = self.pending.iter().position(|p| p.ticket == ticket)?;
        Some(self.pending.remove(index))
    }

    /// Every question of `session`, oldest first.
    pub fn take_session(&mut self, session: &SessionId) -> Vec<Pending> {
        let (gone, kept) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| &p.view.session_id == session);
        self.pending = kept;
        gone
    }

    /// The question a tool call the agent ran answers: the same tool, and
    /// the same call id when both have one, else the same input (every
    /// field of `ran` as it was asked; a call with no input, none).
    pub fn take_ran(
        &mut self,
        session: &SessionId,
        tool: &str,
        use_id: Option<&str>,
        ran: &Fingerprint,
    ) -> Option<Pending> {
        let index = self.pending.iter().position(|p| {
            &p.view.session_id == session
                && p.view.tool == tool
                && match (use_id, p.view.tool_use_id.as_deref()) {
                    (Some(a), Some(b)) => a == b,
                    // A call with no input matches nothing: an empty
                    // fingerprint would match every question of the tool.
                    _ => !ran.is_empty() && ran.iter().all(|(key, hash)| p.fingerprint.get(key) == Some(hash)),
                }
        })?;
        Some(self.pending.remove(index))
    }

    /// What the editors see, oldest first.
    pub fn views(&self) -> impl Iterator<Item = &PendingView> {
        self.pending.iter().map(|p| &p.view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(
        queue: &mut ApprovalQueue,
        session: &SessionId,
        ticket: Ticket,
        tool: &str,
        input: serde_json::Value,
    ) -> (i64, oneshot::Receiver<HookReply>) {
        let (reply, rx) = oneshot::channel();
        let id = queue.next_id();
        let view = PendingView::for_test(id, session, tool);
        queue.park(Pending::for_test(view, ticket, reply, input));
        (id, rx)
    }

    #[test]
    fn questions_are_found_by_id_ticket_session_and_the_call_that_ran() {
        let (a, b) = (SessionId::random(), SessionId::random());
        let mut queue = ApprovalQueue::default();
        let (first, _r1) = pending(&mut queue, &a, 10, "Bash", serde_json::json!({ "command": "ls" }));
        let (second, _r2) = pending(&mut queue, &a, 11, "Write", serde_json::json!({ "file_path": "x" }));
        let (third, _r3) = pending(&mut queue, &b, 12, "Bash", serde_json::json!({ "command": "make" }));
        assert!(first < second && second < third, "ids rise");
        assert_eq!(queue.count_for(&a), 2);
        assert_eq!(
            queue.views().map(|v| v.id).collect::<Vec<_>>(),
            vec![first, second, third]
        );

        // The agent ran `make` in b: that question, not a's Bash.
        let ran = fingerprint(&serde_json::json!({ "command": "make" }));
        assert!(queue.take_ran(&a, "Bash", None, &ran).is_none());
        // A report with no input (made up inside the session) settles
        // nothing.
        assert!(
            queue
                .take_ran(&a, "Bash", None, &fingerprint(&serde_json::json!({})))
                .is_none()
        );
        assert_eq!(queue.count_for(&a), 2);
        assert_eq!(queue.take_ran(&b, "Bash", None, &ran).map(|p| p.view.id), Some(third));

        assert_eq!(queue.take_ticket(11).map(|p| p.view.id), Some(second));
        assert!(queue.take_ticket(11).is_none(), "taken once");
        assert!(queue.get(first).is_some());
        assert_eq!(queue.take_session(&a).len(), 1);
        assert!(queue.take(first).is_none());
        assert_eq!(queue.views().count(), 0);
        assert!(queue.next_id() > third, "an id is never given twice");
    }
}

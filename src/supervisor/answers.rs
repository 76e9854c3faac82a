//! The user's answers to the questions the approvals part parked: once,
//! or "always" (its rules stored first, as a job), each recorded and told
//! to every editor.

use crate::api::Payload;
use anyhow::anyhow;

use super::{Reply, Supervisor, respond};
use crate::api::{Choice, DecideOpts, Event};
use crate::approval::{Action, ToolCall};
use crate::hook::HookReply;
use crate::model::{SessionId, now};
use crate::store::DecisionRecord;

use super::queue::PendingView;

impl Supervisor {
    /// The user's answer. `by` says which editor gave it. An "always" adds
    /// its rules first, as a job; the question is settled when they are in.
    pub(super) fn decide(&mut self, id: i64, choice: Choice, opts: DecideOpts, by: String, reply: Option<Reply>) {
        let Some(pending) = self.asks.get(id) else {
            return respond(
                reply,
                Err(anyhow!(
                    "approval {id} is no longer pending (answered, withdrawn, expired, or answered in the agent)"
                )),
            );
        };
        let action = match choice {
            Choice::Allow | Choice::AlwaysAllow => Action::Allow,
            Choice::Deny | Choice::AlwaysDeny => Action::Deny,
        };
        if !matches!(choice, Choice::AlwaysAllow | Choice::AlwaysDeny) {
            let settled = self.settle(id, action, &by, opts.message, None);
            return respond(reply, settled.map(|()| Payload::NIL));
        }
        let record = self.find(pending.view.session_id.as_str()).map(|e| e.record.clone());
        let agent = record.map_or_else(|_| pending.view.agent.clone(), |r| r.agent);
        let call = ToolCall {
            agent: &agent,
            tool: &pending.view.tool,
            input: &pending.input,
            cwd: std::path::Path::new(&pending.cwd),
            root: std::path::Path::new(&pending.root),
        };
        let Some(specs) = self.asks.always_rules(&call, action) else {
            return respond(
                reply,
                Err(anyhow!(
                    "no rule as narrow as this question can be made (a file outside the session, or a command lulu cannot vouch for); answer it once, or write a rule"
                )),
            );
        };
        let then = super::rules::Then::Settle {
            approval: id,
            action,
            by,
            message: opts.message,
        };
        self.change_rules(super::rules::Change::AddFirst(specs), then, reply);
    }

    /// The rules an "always" added are in: settle its question, if it is
    /// still pending (it may have gone while they were stored).
    pub(super) fn settle_after_rules(
        &mut self,
        approval: i64,
        action: Action,
        by: String,
        message: Option<String>,
        ids: &[i64],
    ) -> anyhow::Result<Payload> {
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        let by = format!("{by} (added rule {})", ids.join(", "));
        self.settle(approval, action, &by, message, None)?;
        Ok(Payload::NIL)
    }

    /// Answer question `id` and tell everyone; an error when it is gone
    /// (answered, withdrawn or expired meanwhile).
    pub(super) fn settle(
        &mut self,
        id: i64,
        action: Action,
        by: &str,
        message: Option<String>,
        updated_input: Option<serde_json::Value>,
    ) -> anyhow::Result<()> {
        let pending = self
            .asks
            .take(id)
            .ok_or_else(|| anyhow!("approval {id} is no longer pending (answered, withdrawn or expired)"))?;
        let v = pending.view.clone();
        self.record(&v, action, by);
        let reason = (action == Action::Deny).then(|| match message {
            Some(message) if !message.trim().is_empty() => message,
            _ => crate::hook::DENIED_BY_USER.to_string(),
        });
        let _ = pending.reply.send(HookReply {
            decision: action,
            reason,
            updated_input,
        });
        self.resolved(&v, action.as_str());
        Ok(())
    }

    /// Record a decision (queued: the loop never waits on the store).
    pub(super) fn record(&self, v: &PendingView, decision: Action, by: &str) {
        let d = DecisionRecord {
            id: 0,
            session_id: v.session_id.to_string(),
            session_name: v.session_name.clone(),
            agent: v.agent.clone(),
            tool: v.tool.clone(),
            summary: v.summary.clone(),
            decision: decision.as_str().to_string(),
            decided_by: by.to_string(),
            at: now(),
            tool_use_id: v.tool_use_id.clone(),
        };
        self.store
            .write(format!("a decision on {}'s {}", v.session_name, v.tool), move |s| {
                s.record_decision(&d).map(|_| ())
            });
    }

    pub(super) fn resolved(&mut self, view: &PendingView, outcome: &str) {
        let payload = Payload::of(&crate::api::reply::ApprovalResolved {
            id: view.id,
            session_id: view.session_id.as_str(),
            outcome,
        });
        self.editors.emit(Event::ApprovalResolved, payload);
        let session = view.session_id.clone();
        self.pending_changed(&session);
    }

    /// Keep the session record's `pending_approvals` count current.
    pub(super) fn pending_changed(&mut self, session: &SessionId) {
        let count = self.asks.waiting_for(session) as i64;
        if let Some(entry) = self.entries.get_mut(session) {
            entry.record.pending_approvals = count;
            let record = entry.record.clone();
            self.broadcast_record(&record);
        }
    }
}

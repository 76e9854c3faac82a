//! Approvals in the supervisor: hook questions answered by rules or queued
//! for the user (their answers: answers.rs), and the rule list.
//!
//! A question reaches the user only from the hook event the session's
//! wiring names (Claude's and Codex's `PermissionRequest`: the agent would
//! show its own dialog; Gemini's `BeforeTool` under lulu's yolo mode) with
//! no deciding rule. Other events (`PreToolUse`) are answered by rules
//! alone: no rule, no opinion.

use std::time::Duration;

use crate::api::Payload;
use anyhow::{Context, bail};

use tokio::sync::oneshot;

use super::{Command, Supervisor};
use crate::adapter::HookEvent;
use crate::api::ApprovalListOpts;
use crate::api::Caller;
use crate::approval::{self, Action, Rule, RuleSpec, ToolCall};
use crate::hook::{HookReply, HookRequest, same_token};
use crate::model::{SessionId, SessionRecord, now};
use crate::proctree;

pub(super) use super::approval_input::RecentToolUses;
use super::approval_input::{excerpt, fingerprint};
use crate::api::Event;

/// The default time a question waits for the user.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(600);

/// What the rules made of a tool call.
enum Judged {
    /// A rule answered (or the call is not a question at all).
    Answered(HookReply),
    /// No rule decides: a question, if the agent asks it here.
    Asks(Box<PendingView>, Parked),
}

/// What a question keeps of its call while it waits.
struct Parked {
    input: serde_json::Value,
    /// Where the agent ran, and the session's root.
    cwd: String,
    root: String,
    /// Every file it names is inside the session (nothing in doubt).
    inside: bool,
    /// Why a file it names is one no review opens for, if one is.
    path_doubt: Option<String>,
}

/// What a hook's payload asks about: the tool, its input, where it runs,
/// and the session's root.
struct Asked {
    tool: String,
    input: serde_json::Value,
    cwd: String,
    root: String,
}

impl Asked {
    fn of(record: &SessionRecord, payload: &serde_json::Value) -> Asked {
        let text = |key: &str| payload.get(key).and_then(|v| v.as_str());
        Asked {
            tool: text("tool_name").unwrap_or("").to_string(),
            input: payload.get("tool_input").cloned().unwrap_or(serde_json::Value::Null),
            cwd: text("cwd").unwrap_or(&record.cwd).to_string(),
            root: record.worktree.clone().unwrap_or_else(|| record.cwd.clone()),
        }
    }
}

/// Identifies one hook connection, so that it can withdraw its question.
pub use crate::hook::questions::Ticket;

pub(super) use super::queue::{Pending, PendingView};

impl Supervisor {
    /// A hook asks. Answers at once from the rules, or parks the question.
    pub(super) fn on_hook(&mut self, ticket: Ticket, request: HookRequest, reply: oneshot::Sender<HookReply>) {
        let event = request.event().to_string();
        let Some((record, asks_through)) = self.hook_session(&request) else {
            let _ = reply.send(HookReply::ask());
            return;
        };
        // The hook's own agent says what its event means (a configured
        // program may speak another agent's hooks).
        let meaning = crate::adapter::for_agent(&request.agent).hook_event(&event);
        if meaning.answered_in_agent() {
            self.answered_in_agent(&record.id, &request.payload);
        }
        self.on_hook_event(&record.id, meaning, &request.payload);
        if meaning.nothing_to_judge() {
            let _ = reply.send(HookReply::ask());
            return;
        }
        let (view, parked) = match self.judge(&record, meaning, &request.payload) {
            Judged::Answered(answer) => {
                let _ = reply.send(answer);
                return;
            }
            Judged::Asks(view, parked) => (view, parked),
        };
        if asks_through != Some(event.as_str()) {
            let _ = reply.send(HookReply::ask());
            return;
        }
        // Answering for the agent's dialog: what it would run unasked runs,
        // as long as every file it names is inside the session.
        if crate::adapter::for_agent(&record.agent).asks_no_one(&view.tool) && parked.inside {
            let _ = reply.send(HookReply::of(Action::Allow, None));
            return;
        }
        self.park(ticket, reply, *view, parked);
    }

    /// The live session a hook speaks for, and the event its questions come
    /// through; `None` (logged) for an unknown session or a wrong token.
    fn hook_session(&self, request: &HookRequest) -> Option<(SessionRecord, Option<&'static str>)> {
        let Some(entry) = self.entries.get_str(&request.session) else {
            tracing::warn!(session = %request.session, "hook for an unknown session refused");
            return None;
        };
        let token_ok = entry
            .live
            .as_ref()
            .is_some_and(|live| same_token(&live.token, &request.token));
        if !token_ok {
            tracing::warn!(session = %entry.record.id, "hook with a wrong token refused");
            return None;
        }
        // A session its adapter did not wire (a configured program that
        // runs `lulu hook claude` itself) asks as the hook's agent does.
        let asks_through = entry.live.as_ref().and_then(|live| {
            live.asks_through
                .or_else(|| crate::adapter::for_agent(&request.agent).asks_through())
        });
        Some((entry.record.clone(), asks_through))
    }

    /// The rules' verdict on a tool call, paired with the agent's id of the
    /// call; a rule's answer is recorded.
    fn judge(&mut self, record: &SessionRecord, event: HookEvent, payload: &serde_json::Value) -> Judged {
        let Asked { tool, input, cwd, root } = Asked::of(record, payload);
        let call = ToolCall {
            agent: &record.agent,
            tool: &tool,
            input: &input,
            cwd: std::path::Path::new(&cwd),
            root: std::path::Path::new(&root),
        };
        let weighed = self.asks.weigh(&call);
        let verdict = weighed.verdict;
        let (always, always_deny) = (
            weighed.always.as_deref().map(describe_rules),
            weighed.always_deny.as_deref().map(describe_rules),
        );
        let announced = payload.get("tool_use_id").and_then(|t| t.as_str());
        let tool_use_id = self.asks.call_id(&record.id, event, &tool, &input, announced);
        let view = PendingView {
            id: 0,
            session_id: record.id.clone(),
            session_name: record.name.clone(),
            agent: record.agent.clone(),
            always,
            always_deny,
            doubt: verdict.doubt.clone(),
            summary: approval::summarize(&tool, &input),
            review: false,
            editable: false,
            tool,
            tool_use_id,
            created_at: now(),
        };
        if verdict.action == Action::Ask {
            let parked = Parked {
                input,
                cwd,
                root,
                inside: weighed.inside,
                path_doubt: weighed.path_doubt,
            };
            return Judged::Asks(Box::new(view), parked);
        }
        let by = verdict.rule.map_or("rule".to_string(), |id| format!("rule:{id}"));
        tracing::info!(session = %record.id, tool = %view.tool, decision = verdict.action.as_str(), %by, "hook answered by rule");
        self.record(&view, verdict.action, &by);
        let reason = verdict.reason.or_else(|| {
            verdict
                .rule
                .map(|id| format!("{} by lulu rule {id}", verdict_word(verdict.action)))
        });
        Judged::Answered(HookReply::of(verdict.action, reason))
    }

    /// Queue the question for the user (at most [`MAX_PARKED_PER_SESSION`]
    /// a session; past it, the agent's own dialog) until it is answered,
    /// withdrawn or expires.
    fn park(&mut self, ticket: Ticket, reply: oneshot::Sender<HookReply>, mut view: PendingView, parked: Parked) {
        let session = view.session_id.clone();
        let waiting = self.asks.waiting_for(&session);
        if waiting >= MAX_PARKED_PER_SESSION {
            tracing::warn!(session = %session, waiting, "too many questions waiting; this one goes to the agent's own dialog");
            let _ = reply.send(HookReply::ask());
            return;
        }
        view.id = self.asks.next_id();
        tracing::info!(session = %session, approval = view.id, tool = %view.tool, "approval pending");
        let id = view.id;
        let Parked {
            input,
            cwd,
            root,
            path_doubt,
            ..
        } = parked;
        let spill = self.spill_for_review(&mut view, &input, path_doubt);
        self.editors.emit(Event::Approval, Payload::of(&view));
        self.asks.park(Pending {
            view,
            ticket,
            reply,
            fingerprint: fingerprint(&input),
            input: excerpt(input),
            cwd,
            root,
            spill,
        });
        self.pending_changed(&session);
        let tx = self.tx.clone();
        let timeout = self.asks.timeout();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let _ = tx.send(Command::ApprovalExpired(id));
        });
    }

    /// The hook went away (the agent answered in its own dialog, or died).
    pub(super) fn on_hook_gone(&mut self, ticket: Ticket) {
        if let Some(pending) = self.asks.take_ticket(ticket) {
            // Its hook died with the session being stopped: it ended.
            let ending = self
                .entries
                .get(&pending.view.session_id)
                .is_none_or(|e| e.live.as_ref().is_none_or(|live| live.stop_requested));
            self.resolved(&pending.view, if ending { "session ended" } else { "withdrawn" });
        }
    }

    /// Nobody answered in time: the agent's own dialog takes over.
    pub(super) fn on_approval_expired(&mut self, id: i64) {
        if let Some(pending) = self.asks.take(id) {
            self.record(&pending.view, Action::Ask, "timeout");
            let _ = pending.reply.send(HookReply::ask());
            self.resolved(&pending.view, "expired");
        }
    }

    /// Withdraw every question of a session that ended.
    /// The session ended: its open questions are settled, as such.
    pub(super) fn withdraw_session(&mut self, session: &SessionId) {
        for pending in self.asks.take_session(session) {
            let _ = pending.reply.send(HookReply::ask());
            self.resolved(&pending.view, "session ended");
        }
    }

    /// The agent moved on (the tool ran, failed or was denied): the user
    /// answered in the agent's own dialog. The question is resolved, and a
    /// later answer in Neovim is refused rather than recorded.
    fn answered_in_agent(&mut self, session: &SessionId, payload: &serde_json::Value) {
        let tool = payload.get("tool_name").and_then(|t| t.as_str()).unwrap_or("");
        let use_id = payload.get("tool_use_id").and_then(|t| t.as_str());
        let input = payload.get("tool_input").cloned().unwrap_or(serde_json::Value::Null);
        let ran = fingerprint(&input);
        let Some(pending) = self.asks.take_ran(session, tool, use_id, &ran) else {
            return;
        };
        let outcome = match payload.get("hook_event_name").and_then(|e| e.as_str()) {
            Some("PermissionDenied") => Action::Deny,
            _ => Action::Allow,
        };
        tracing::info!(session = %session, approval = pending.view.id, "answered in the agent");
        self.record(&pending.view, outcome, "agent");
        let _ = pending.reply.send(HookReply::ask());
        self.resolved(&pending.view, "answered in the agent");
    }

    /// Refuse a request that only an editor may make when it comes from
    /// inside one of this host's sessions (an agent answering its own
    /// question, or writing itself a rule).
    pub(super) fn check_caller(&self, request: &crate::api::Request, caller: &Caller) -> anyhow::Result<()> {
        if !request.editor_only() {
            return Ok(());
        }
        let Some(pid) = caller.pid else {
            return Ok(());
        };
        if caller.ancestry.is_empty() {
            bail!(
                "refused: cannot tell which process asks (pid {pid}); only an editor can answer approvals or change rules"
            );
        }
        for entry in &self.entries {
            if let Some(live) = &entry.live
                && proctree::within(&caller.ancestry, live.control.pid())
            {
                tracing::warn!(session = %entry.record.id, pid, "approval or rule request from inside a session refused");
                bail!(
                    "refused: this request comes from inside session '{}' (pid {pid}); only an editor can answer approvals or change rules",
                    entry.record.name
                );
            }
        }
        Ok(())
    }

    /// The pending questions, or (a job off the loop) the record of
    /// decisions.
    /// The questions waiting for an answer, oldest first.
    /// The questions waiting, oldest first, as the editor shows them.
    pub(super) fn pending(&self) -> Vec<impl serde::Serialize + '_> {
        self.asks.views()
    }

    pub(super) fn approvals(
        &self,
        opts: ApprovalListOpts,
    ) -> anyhow::Result<std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<Payload>> + Send>>> {
        if !opts.history {
            let pending = Payload::of(&self.pending());
            return Ok(Box::pin(async move { Ok(pending) }));
        }
        let limit = opts.limit.unwrap_or(200).min(10_000);
        let store = self.store.clone();
        Ok(Box::pin(async move {
            let decisions = store
                .run(move |s| s.decisions(limit))
                .await
                .context("could not read the approval record")?;
            Ok(Payload::of(&decisions))
        }))
    }

    pub(super) fn rules_value(&self) -> Payload {
        Payload::of(&self.asks.rule_views())
    }

    /// A warning for the user, shown as one notification.
    pub(super) fn notice(&self, message: &str) {
        self.editors.notice(message);
    }
}

pub(super) fn compile_rules(stored: Vec<(i64, RuleSpec)>) -> Vec<Rule> {
    stored
        .into_iter()
        .filter_map(|(id, spec)| match Rule::new(id, spec) {
            Ok(rule) => Some(rule),
            Err(err) => {
                tracing::error!(rule = id, "stored rule skipped: {err}");
                None
            }
        })
        .collect()
}

fn verdict_word(action: Action) -> &'static str {
    match action {
        Action::Allow => "allowed",
        Action::Deny => "denied",
        Action::Ask => "left to you",
    }
}

/// What "always" rules cover, in words: "Bash `ls`, Bash `git status`".
fn describe_rules(rules: &[RuleSpec]) -> String {
    rules.iter().map(RuleSpec::describe).collect::<Vec<_>>().join(", ")
}

/// Questions one session may have waiting for the user; more go straight
/// to the agent's own dialog.
pub const MAX_PARKED_PER_SESSION: usize = 16;
#[cfg(test)]
mod tests;

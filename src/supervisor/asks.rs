//! The asks desk: the rules in their order, the questions waiting for the
//! user, the agent's recent tool calls (to pair a question that carries no
//! call id with its call) and how long a question waits.
//!
//! Owns its fields; the supervisor reaches them only through these methods.
//! Invariants: rules are weighed in their stored order, the first that
//! matches decides; a question waits once, under an id no other question
//! had; at most one question is taken for any answer, withdrawal or
//! expiry; what the rules know of a call comes from one resolution of its
//! paths (the file system asked once).

use std::time::Duration;

use super::approval_input::Fingerprint;
use super::approvals::{DEFAULT_APPROVAL_TIMEOUT, RecentToolUses, Ticket, compile_rules};
use super::queue::{ApprovalQueue, Pending, PendingView};
use crate::adapter::HookEvent;
use crate::approval::{self, Action, Rule, RuleSpec, ToolCall, Verdict};
use crate::model::SessionId;

pub(super) struct Asks {
    rules: Vec<Rule>,
    queue: ApprovalQueue,
    tool_uses: RecentToolUses,
    timeout: Duration,
}

/// What the rules say of one call.
pub(super) struct Weighed {
    pub verdict: Verdict,
    /// The rules "always" would add, for each answer (none: no rule as
    /// narrow as the call can be made).
    pub always: Option<Vec<RuleSpec>>,
    pub always_deny: Option<Vec<RuleSpec>>,
    /// Every file it names is inside the session, and no pattern names more.
    pub inside: bool,
    /// Why a file it names is one no review opens for, if one is.
    pub path_doubt: Option<String>,
}

impl Asks {
    /// The stored rules (a rule that no longer compiles is skipped, logged).
    pub fn new(stored: Vec<(i64, RuleSpec)>) -> Asks {
        Asks {
            rules: compile_rules(stored),
            queue: ApprovalQueue::default(),
            tool_uses: RecentToolUses::default(),
            timeout: DEFAULT_APPROVAL_TIMEOUT,
        }
    }

    /// The rules' verdict on `call`, and the rules "always" would add.
    pub fn weigh(&self, call: &ToolCall) -> Weighed {
        let parts = call.parts();
        let verdict = approval::evaluate_parts(&self.rules, call, &parts);
        let inside = parts.stay_inside() && !call.has_patterns();
        let always = |action| approval::always_rules_of(&self.rules, call, parts.clone(), action);
        Weighed {
            verdict,
            always: always(Action::Allow),
            always_deny: always(Action::Deny),
            inside,
            path_doubt: parts.path_doubt(),
        }
    }

    /// The rules "always" `action` would add for `call`.
    pub fn always_rules(&self, call: &ToolCall, action: Action) -> Option<Vec<RuleSpec>> {
        approval::always_rules(&self.rules, call, action)
    }

    /// The agent's id of a call: remembered when the agent announces the
    /// call ahead (to pair a later question that has none), else paired.
    pub fn call_id(
        &mut self,
        session: &SessionId,
        event: HookEvent,
        tool: &str,
        input: &serde_json::Value,
        announced: Option<&str>,
    ) -> Option<String> {
        match event {
            HookEvent::ToolAhead => {
                let id = announced.map(str::to_string);
                if let Some(id) = &id {
                    self.tool_uses.remember(session, tool, input, id);
                }
                id
            }
            _ => self.tool_uses.pair(session, tool, input),
        }
    }

    /// The rules as stored now (a change's whole list).
    pub fn set_rules(&mut self, stored: Vec<(i64, RuleSpec)>) {
        self.rules = compile_rules(stored);
    }

    /// The rules as the editor lists them.
    pub fn rule_views(&self) -> Vec<crate::api::reply::RuleView<'_>> {
        self.rules
            .iter()
            .map(|rule| crate::api::reply::RuleView {
                id: rule.id,
                spec: &rule.spec,
            })
            .collect()
    }

    /// How long a question waits for the user.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Wait `secs` (1 s to a day) from now on.
    pub fn set_timeout(&mut self, secs: u64) {
        self.timeout = Duration::from_secs(secs.clamp(1, 24 * 3600));
    }

    /// The id the next question gets.
    pub fn next_id(&mut self) -> i64 {
        self.queue.next_id()
    }

    pub fn park(&mut self, pending: Pending) {
        self.queue.park(pending);
    }

    pub fn waiting_for(&self, session: &SessionId) -> usize {
        self.queue.count_for(session)
    }

    pub fn get(&self, id: i64) -> Option<&Pending> {
        self.queue.get(id)
    }

    pub fn take(&mut self, id: i64) -> Option<Pending> {
        self.queue.take(id)
    }

    /// The question of the hook connection `ticket`.
    pub fn take_ticket(&mut self, ticket: Ticket) -> Option<Pending> {
        self.queue.take_ticket(ticket)
    }

    /// Every question of `session`, oldest first.
    pub fn take_session(&mut self, session: &SessionId) -> Vec<Pending> {
        self.queue.take_session(session)
    }

    /// The question a call the agent ran answers (see
    /// [`ApprovalQueue::take_ran`]).
    pub fn take_ran(
        &mut self,
        session: &SessionId,
        tool: &str,
        use_id: Option<&str>,
        ran: &Fingerprint,
    ) -> Option<Pending> {
        self.queue.take_ran(session, tool, use_id, ran)
    }

    /// What the editors see, oldest first.
    pub fn views(&self) -> Vec<&PendingView> {
        self.queue.views().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_is_bounded_and_rules_are_listed_in_order() {
        let spec = |tool: &str, action: &str| -> RuleSpec {
            serde_json::from_value(serde_json::json!({"tool": tool, "action": action})).unwrap()
        };
        let mut asks = Asks::new(vec![(2, spec("Read", "allow")), (1, spec("Bash", "deny"))]);
        assert_eq!(asks.timeout(), DEFAULT_APPROVAL_TIMEOUT);
        asks.set_timeout(0);
        assert_eq!(asks.timeout(), Duration::from_secs(1));
        asks.set_timeout(u64::MAX);
        assert_eq!(asks.timeout(), Duration::from_secs(24 * 3600));
        let ids: Vec<i64> = asks.rule_views().iter().map(|r| r.id).collect();
        assert_eq!(ids, [2, 1], "in their stored order");
        asks.set_rules(Vec::new());
        assert!(asks.rule_views().is_empty());
    }

    #[test]
    fn ids_are_never_given_twice() {
        let mut asks = Asks::new(Vec::new());
        let (a, b) = (asks.next_id(), asks.next_id());
        assert!(b > a);
    }
}

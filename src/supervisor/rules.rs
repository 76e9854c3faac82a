//! Changes to the approval rules, as jobs: a rule is compiled on the loop
//! (a bad pattern is refused before anything is stored), stored by the
//! store's thread, and the whole list, read back in its stored order, comes
//! back to the loop as a command. With the database locked by another
//! process, questions keep being answered by the rules in memory.

use crate::api::Payload;
use anyhow::Context;

use super::{Command, Reply, Supervisor, respond};
use crate::api::Event;
use crate::approval::{Action, Rule, RuleSpec};

/// What to change.
pub(super) enum Change {
    Add {
        spec: Box<RuleSpec>,
        index: Option<usize>,
    },
    /// An "always": these rules, first, in this order.
    AddFirst(Vec<RuleSpec>),
    Remove(i64),
    Move {
        id: i64,
        index: usize,
    },
}

/// What to do once the change is in.
pub(super) enum Then {
    /// Answer the request with the new rule's id (or nil).
    Answer,
    /// Settle the question an "always" answered.
    Settle {
        approval: i64,
        action: Action,
        by: String,
        message: Option<String>,
    },
}

/// A change's outcome, back on the loop.
pub(super) struct Changed {
    /// Ids of the rules added.
    added: Vec<i64>,
    /// Every rule, in order, as stored now.
    stored: Vec<(i64, RuleSpec)>,
    then: Then,
    reply: Option<Reply>,
}

impl Supervisor {
    pub(super) fn change_rules(&mut self, change: Change, then: Then, reply: Option<Reply>) {
        let specs: Vec<&RuleSpec> = match &change {
            Change::Add { spec, .. } => vec![spec.as_ref()],
            Change::AddFirst(specs) => specs.iter().collect(),
            _ => Vec::new(),
        };
        for spec in specs {
            if let Err(err) = Rule::new(0, spec.clone()) {
                return respond(reply, Err(err.into()));
            }
        }
        let (store, tx) = (self.store.clone(), self.tx.clone());
        tokio::spawn(async move {
            let result = store
                .run(move |s| {
                    let mut added = Vec::new();
                    match change {
                        Change::Add { spec, index } => added.push(s.add_rule(&spec, index)?),
                        Change::AddFirst(specs) => {
                            for spec in specs.iter().rev() {
                                added.push(s.add_rule(spec, Some(0))?);
                            }
                            added.reverse();
                        }
                        Change::Remove(id) => {
                            if !s.remove_rule(id)? {
                                return Ok(Err(id));
                            }
                        }
                        Change::Move { id, index } => {
                            if !s.move_rule(id, index)? {
                                return Ok(Err(id));
                            }
                        }
                    }
                    Ok(Ok((added, s.rules()?)))
                })
                .await
                .context("could not save the rule");
            let changed = match result {
                Ok(Ok((added, stored))) => Ok(Changed {
                    added,
                    stored,
                    then,
                    reply,
                }),
                Ok(Err(id)) => Err((crate::errors::HostError::NoRule(id).into(), reply)),
                Err(err) => Err((err, reply)),
            };
            match changed {
                Ok(changed) => {
                    let _ = tx.send(Command::RulesChanged(Box::new(changed)));
                }
                Err((err, reply)) => respond(reply, Err(err)),
            }
        });
    }

    pub(super) fn on_rules_changed(&mut self, changed: Changed) {
        let Changed {
            added,
            stored,
            then,
            reply,
        } = changed;
        self.asks.set_rules(stored);
        self.editors.emit(Event::Rules, self.rules_value());
        let answer = match then {
            Then::Answer => Ok(added.first().map_or(Payload::NIL, Payload::of)),
            Then::Settle {
                approval,
                action,
                by,
                message,
            } => self.settle_after_rules(approval, action, by, message, &added),
        };
        respond(reply, answer);
    }
}

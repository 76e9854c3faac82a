//! Approval rules: pure and synchronous, no IO. Patterns are compiled when a
//! rule is made, so a bad glob or regex is refused then and never fails later.
//!
//! Rules are tried in order; the first whose conditions all hold decides.
//! With no match the verdict is `ask`: lulu has no opinion and the agent's own
//! permission flow (or the user) decides.

mod call;
mod paths;
mod shell;
mod text;

use std::path::Path;

use globset::{Glob, GlobBuilder, GlobMatcher};
use regex::Regex;
use serde::{Deserialize, Serialize};

pub use call::{Command, Part, Parts, ToolCall, file_path_of, file_paths_of, is_path_key};
pub use paths::Resolved;
pub use shell::MAX_COMMAND_BYTES;
pub use text::summarize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allow,
    Deny,
    Ask,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
            Action::Ask => "ask",
        }
    }
}

/// A rule as the user writes it (and as it is stored and exported).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub action: Action,
    /// Tool name, exact (`Bash`), or a regex between slashes (`/^(Edit|Write)$/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Glob over the tool's file path, relative to the session root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Regex searched in a shell command (`tool_input.command`): each
    /// simple command's words joined by single spaces. It never allows a
    /// command whose words hold spaces or quotes (the join is ambiguous).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// A simple command's exact words (what "always" stores): matched word
    /// by word, never as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// Glob over the session's working directory (absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Agent name, exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// A repository root: the rule applies only to sessions inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Told to the agent when the rule denies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RuleSpec {
    /// A rule with `action` and no conditions yet.
    pub fn new(action: Action) -> RuleSpec {
        RuleSpec {
            action,
            tool: None,
            path: None,
            command: None,
            argv: None,
            cwd: None,
            agent: None,
            scope: None,
            reason: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RuleError {
    /// A glob in `path` or `cwd` does not parse.
    #[error("invalid {field} glob {pattern:?}: {message}")]
    Glob {
        field: &'static str,
        pattern: String,
        message: String,
    },
    /// A regex in `tool` or `command` does not parse.
    #[error("invalid {field} regex {pattern:?}: {message}")]
    Regex {
        field: &'static str,
        pattern: String,
        message: String,
    },
    /// A rule without conditions would decide every tool call.
    #[error("a rule needs at least one of tool, path, command, argv, cwd or agent")]
    NoCondition,
}

/// A rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: i64,
    pub spec: RuleSpec,
    tool: Option<TextMatcher>,
    path: Option<GlobMatcher>,
    command: Option<Regex>,
    cwd: Option<GlobMatcher>,
}

#[derive(Debug, Clone)]
enum TextMatcher {
    Exact(String),
    Pattern(Regex),
}

impl Rule {
    pub fn new(id: i64, spec: RuleSpec) -> Result<Rule, RuleError> {
        if spec.tool.is_none()
            && spec.path.is_none()
            && spec.command.is_none()
            && spec.argv.as_ref().is_none_or(|a| a.is_empty())
            && spec.cwd.is_none()
            && spec.agent.is_none()
        {
            return Err(RuleError::NoCondition);
        }
        let tool = spec.tool.as_deref().map(tool_matcher).transpose()?;
        let path = spec.path.as_deref().map(|p| glob("path", p)).transpose()?;
        let command = spec.command.as_deref().map(|c| regex("command", c)).transpose()?;
        let cwd = spec.cwd.as_deref().map(|c| glob("cwd", c)).transpose()?;
        Ok(Rule {
            id,
            spec,
            tool,
            path,
            command,
            cwd,
        })
    }

    /// Does this rule decide `part` of `call`? Conditions on the call (agent,
    /// scope, tool, cwd) must hold; a `command` condition needs a simple
    /// command that it matches, a `path` condition a path that it matches.
    fn matches(&self, call: &ToolCall<'_>, part: &Part) -> bool {
        self.fits_call(call) && self.fits_command(part) && self.fits_path(part)
    }

    /// The agent, the session's root, the tool and the directory.
    fn fits_call(&self, call: &ToolCall<'_>) -> bool {
        if let Some(agent) = &self.spec.agent
            && agent != call.agent
        {
            return false;
        }
        if let Some(scope) = &self.spec.scope
            && !paths::lexical(call.root).starts_with(paths::lexical(Path::new(scope)))
        {
            return false;
        }
        if let Some(tool) = &self.tool {
            let hit = match tool {
                TextMatcher::Exact(name) => name == call.tool,
                TextMatcher::Pattern(re) => re.is_match(call.tool),
            };
            if !hit {
                return false;
            }
        }
        if let Some(cwd) = &self.cwd
            && !cwd.is_match(paths::lexical(call.cwd))
        {
            return false;
        }
        true
    }

    /// The command's words (`argv`) and its pattern (`command`).
    fn fits_command(&self, part: &Part) -> bool {
        if let Some(argv) = &self.spec.argv {
            match part {
                Part::Command(simple) if simple.words == *argv => {}
                _ => return false,
            }
        }
        if let Some(command) = &self.command {
            match part {
                // A regex reads the words joined: where that join is
                // ambiguous (`rm 'a b'` reads as `rm a b`) it may deny or
                // ask, never allow.
                Part::Command(simple) if self.spec.action == Action::Allow => {
                    if !command.is_match(&simple.text()) || simple.joins_ambiguously() {
                        return false;
                    }
                }
                // A deny or ask reads the words as the shell passes them
                // or as they were written (`rm -rf ~`).
                Part::Command(simple)
                    if command.is_match(&simple.text())
                        || simple.written_text().is_some_and(|w| command.is_match(&w)) => {}
                _ => return false,
            }
        }
        true
    }

    /// The path: inside the root by the rule's glob; outside or in doubt
    /// only as each action allows.
    fn fits_path(&self, part: &Part) -> bool {
        match part {
            Part::Path(Resolved::Inside(rel)) => match &self.path {
                Some(glob) => glob.is_match(rel),
                None => true,
            },
            // Outside the session root an allow needs its own absolute glob
            // (`allow tool=Read path='/usr/include/**'`); deny and ask rules
            // may name it by absolute path, or not at all.
            Part::Path(Resolved::Outside(abs)) => match (&self.path, self.spec.action) {
                (Some(glob), Action::Allow) => self.absolute_glob() && glob.is_match(abs),
                (Some(glob), _) => glob.is_match(abs),
                (None, Action::Allow) => false,
                (None, _) => true,
            },
            // A place no glob vouches for: only a deny or ask names it.
            Part::Path(Resolved::Doubt { path, .. }) => match (&self.path, self.spec.action) {
                (_, Action::Allow) => false,
                (Some(glob), _) => glob.is_match(path),
                (None, _) => true,
            },
            _ => self.path.is_none(),
        }
    }

    fn absolute_glob(&self) -> bool {
        self.spec.path.as_deref().is_some_and(|p| p.starts_with('/'))
    }
}

fn tool_matcher(pattern: &str) -> Result<TextMatcher, RuleError> {
    match pattern.strip_prefix('/').and_then(|p| p.strip_suffix('/')) {
        Some(re) if !re.is_empty() => Ok(TextMatcher::Pattern(regex("tool", re)?)),
        _ => Ok(TextMatcher::Exact(pattern.to_string())),
    }
}

fn glob(field: &'static str, pattern: &str) -> Result<GlobMatcher, RuleError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|g: Glob| g.compile_matcher())
        .map_err(|err| RuleError::Glob {
            field,
            pattern: pattern.to_string(),
            message: err.kind().to_string(),
        })
}

fn regex(field: &'static str, pattern: &str) -> Result<Regex, RuleError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|err| RuleError::Regex {
            field,
            pattern: pattern.to_string(),
            message: err.to_string().lines().last().unwrap_or_default().trim().to_string(),
        })
}

/// What the rules say about one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub action: Action,
    /// The rule that decided; `None` when none matched.
    pub rule: Option<i64>,
    pub reason: Option<String>,
    /// For an `ask` that allow rules covered in part: why they could not
    /// allow it (shown with the question).
    pub doubt: Option<String>,
}

impl Verdict {
    fn ask() -> Verdict {
        Verdict {
            action: Action::Ask,
            rule: None,
            reason: None,
            doubt: None,
        }
    }
}

/// Judge each part of the call by the first rule that decides it. Any part
/// denied: deny. Every part allowed, and no doubt about the call: allow.
/// Anything else: ask.
pub fn evaluate(rules: &[Rule], call: &ToolCall<'_>) -> Verdict {
    evaluate_parts(rules, call, &call.parts())
}

/// [`evaluate`] of a call whose parts are worked out already (resolving
/// its paths asks the file system: once a question is enough).
pub fn evaluate_parts(rules: &[Rule], call: &ToolCall<'_>, parts: &Parts) -> Verdict {
    let Parts { parts, doubt } = parts;
    let doubt = doubt.clone();
    let mut first_allow = None;
    let mut undecided = false;
    for part in parts {
        match rules.iter().find(|rule| rule.matches(call, part)) {
            Some(rule) if rule.spec.action == Action::Deny => {
                return Verdict {
                    action: Action::Deny,
                    rule: Some(rule.id),
                    reason: rule.spec.reason.clone(),
                    doubt: None,
                };
            }
            Some(rule) if rule.spec.action == Action::Allow => {
                first_allow.get_or_insert(rule.id);
            }
            _ => undecided = true,
        }
    }
    match first_allow {
        Some(id) if !undecided && doubt.is_none() => Verdict {
            action: Action::Allow,
            rule: Some(id),
            reason: None,
            doubt: None,
        },
        // Allowed in part: say why not in whole.
        Some(_) => Verdict {
            doubt: doubt.or_else(|| Some("part of it is covered by no allow rule".into())),
            ..Verdict::ask()
        },
        None => Verdict::ask(),
    }
}

/// The rules an "always" answer adds: never wider than what was asked.
/// Each simple command exactly (its words, matched word by word), or each
/// file exactly (inside the root for
/// an allow; an outside file only for a deny, by its real absolute path).
/// `None` when no rule that narrow can be made (an allow for a command in
/// doubt or a file outside the root, or an allow for a tool that names
/// neither): the user may still allow once, or write a rule in :LuluRules.
/// An "always deny" names only the parts no rule allows now (`ls && rm -rf
/// build` denies `rm -rf build`, not `ls`), or every part if all are.
pub fn always_rules(rules: &[Rule], call: &ToolCall<'_>, action: Action) -> Option<Vec<RuleSpec>> {
    always_rules_of(rules, call, call.parts(), action)
}

/// [`always_rules`] of a call whose parts are worked out already.
pub fn always_rules_of(rules: &[Rule], call: &ToolCall<'_>, parts: Parts, action: Action) -> Option<Vec<RuleSpec>> {
    let Parts { mut parts, doubt } = parts;
    if action == Action::Allow && doubt.is_some() {
        return None;
    }
    if action == Action::Deny {
        let allowed = |part: &Part| {
            rules
                .iter()
                .find(|rule| rule.matches(call, part))
                .is_some_and(|rule| rule.spec.action == Action::Allow)
        };
        if parts.iter().any(|part| !allowed(part)) {
            parts.retain(|part| !allowed(part));
        }
    }
    let mut out: Vec<RuleSpec> = Vec::new();
    for part in parts {
        let mut spec = RuleSpec {
            tool: Some(call.tool.to_string()),
            ..RuleSpec::new(action)
        };
        match part {
            Part::Command(simple) => spec.argv = Some(simple.words),
            Part::Path(Resolved::Inside(rel)) => spec.path = Some(globset::escape(&rel.to_string_lossy())),
            Part::Path(Resolved::Outside(abs)) if action != Action::Allow => {
                spec.path = Some(globset::escape(&abs.to_string_lossy()));
            }
            Part::Whole if action != Action::Allow => {}
            _ => return None,
        }
        if !out.contains(&spec) {
            out.push(spec);
        }
    }
    Some(out)
}

#[cfg(test)]
mod attack_tests;
#[cfg(test)]
mod tests;

//! Approval rules: pure and synchronous, no IO. Patterns are compiled when a
//! rule is made, so a bad glob or regex is refused then and never fails later.
//!
//! Rules are tried in order; the first whose conditions all hold decides.
//! With no match the verdict is `ask`: lulu has no opinion and the agent's own
//! permission flow (or the user) decides.

use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher};
use regex::Regex;
use serde::{Deserialize, Serialize};

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
    /// Regex searched in a shell command (`tool_input.command`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
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
    #[error("a rule needs at least one of tool, path, command, cwd or agent")]
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

    fn matches(&self, call: &ToolCall<'_>) -> bool {
        if let Some(agent) = &self.spec.agent
            && agent != call.agent
        {
            return false;
        }
        if let Some(scope) = &self.spec.scope
            && !normalize(call.root).starts_with(normalize(Path::new(scope)))
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
            && !cwd.is_match(normalize(call.cwd))
        {
            return false;
        }
        if let Some(command) = &self.command {
            match call.command() {
                Some(text) if command.is_match(text) => {}
                _ => return false,
            }
        }
        if let Some(glob) = &self.path {
            match call.file_path() {
                Some(FilePath::Inside(rel)) if glob.is_match(&rel) => {}
                // Outside the session root: never allowed by a rule, but a
                // deny or ask rule may still name it by absolute path.
                Some(FilePath::Outside(abs)) if self.spec.action != Action::Allow && glob.is_match(&abs) => {}
                _ => return false,
            }
        }
        true
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

/// One tool call as an agent's hook reports it.
#[derive(Debug, Clone)]
pub struct ToolCall<'a> {
    pub agent: &'a str,
    pub tool: &'a str,
    pub input: &'a serde_json::Value,
    /// Where the agent runs (the hook's `cwd`).
    pub cwd: &'a Path,
    /// The session's root: its worktree, or its cwd.
    pub root: &'a Path,
}

enum FilePath {
    Inside(PathBuf),
    Outside(PathBuf),
}

impl ToolCall<'_> {
    pub fn command(&self) -> Option<&str> {
        self.input.get("command").and_then(|c| c.as_str())
    }

    pub fn raw_path(&self) -> Option<&str> {
        file_path_of(self.input)
    }

    fn file_path(&self) -> Option<FilePath> {
        let raw = Path::new(self.raw_path()?);
        let abs = normalize(&self.cwd.join(raw));
        let root = normalize(self.root);
        Some(match abs.strip_prefix(&root) {
            Ok(rel) => FilePath::Inside(rel.to_path_buf()),
            Err(_) => FilePath::Outside(abs),
        })
    }
}

/// The file a tool touches, if any (`Write`, `Edit`, `Read`,
/// `NotebookEdit` and friends name it in one of these keys).
pub fn file_path_of(input: &serde_json::Value) -> Option<&str> {
    ["file_path", "path", "notebook_path"]
        .iter()
        .find_map(|key| input.get(*key).and_then(|p| p.as_str()))
}

/// Resolve `.` and `..` without touching the file system (the file may not
/// exist yet), so `src/../../etc/passwd` is seen for what it is.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What the rules say about one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub action: Action,
    /// The rule that decided; `None` when none matched.
    pub rule: Option<i64>,
    pub reason: Option<String>,
}

pub fn evaluate(rules: &[Rule], call: &ToolCall<'_>) -> Verdict {
    rules
        .iter()
        .find(|rule| rule.matches(call))
        .map(|rule| Verdict {
            action: rule.spec.action,
            rule: Some(rule.id),
            reason: rule.spec.reason.clone(),
        })
        .unwrap_or(Verdict {
            action: Action::Ask,
            rule: None,
            reason: None,
        })
}

/// A one-line summary of a call for prompts and the record: the command, or
/// the file with a size hint for edits.
pub fn summarize(tool: &str, input: &serde_json::Value) -> String {
    let text = |key: &str| input.get(key).and_then(|v| v.as_str());
    let line = if let Some(command) = text("command") {
        command.to_string()
    } else if let Some(path) = file_path_of(input) {
        match (text("old_string"), text("new_string"), text("content")) {
            (Some(old), Some(new), _) => format!("{path} (-{} +{} lines)", old.lines().count(), new.lines().count()),
            (_, _, Some(content)) => format!("{path} ({} lines)", content.lines().count()),
            _ => path.to_string(),
        }
    } else {
        let json = input.to_string();
        if json == "{}" || json == "null" {
            tool.to_string()
        } else {
            json
        }
    };
    let line = line.replace(['\n', '\r'], " ⏎ ");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests;

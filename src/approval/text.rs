//! Rules and calls in words: a rule as the user reads it ("Bash `npm
//! test`"), and a call's one-line summary for prompts and the record.

use super::{RuleSpec, file_path_of};

impl RuleSpec {
    /// Only a tool (or nothing) to match: the rule decides every call of it.
    pub fn is_tool_wide(&self) -> bool {
        self.path.is_none() && self.command.is_none() && self.argv.is_none() && self.cwd.is_none()
    }

    /// The rule in words: "Bash `npm test`", "Write src/main.rs", "every Read".
    pub fn describe(&self) -> String {
        let tool = self.tool.as_deref().unwrap_or("any tool");
        if let Some(argv) = &self.argv {
            let words: Vec<String> = argv.iter().map(|w| quote_word(w)).collect();
            return format!("{tool} `{}`", words.join(" "));
        }
        match (&self.command, &self.path) {
            (Some(command), _) => {
                let text = command.trim_start_matches('^').trim_end_matches('$');
                format!("{tool} `{}`", unescape_regex(text))
            }
            (None, Some(path)) => format!("{tool} {path}"),
            (None, None) => format!("every {tool}"),
        }
    }
}

/// A word as a shell would need it written to read it back whole.
fn quote_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ',' | ':' | '=' | '+' | '@' | '%'));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Undo `regex::escape`, for showing an exact-command rule as its command.
fn unescape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            other => out.push(other),
        }
    }
    out
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

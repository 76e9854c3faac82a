//! What a parked question keeps of its tool's input: an excerpt (a long
//! Write body or patch is not held in memory), and a fingerprint of the
//! whole, to tell when the agent moved on; and the recent tool uses that
//! pair a question with its `PreToolUse`.

use crate::approval;
use crate::model::SessionId;

/// Longest value of a tool input kept with a waiting question (beyond its
/// command, which the shell analysis caps itself).
const EXCERPT_BYTES: usize = 4096;

/// The input as a waiting question keeps it: the command and paths whole
/// (always rules are made from them), any other long string cut, with its
/// length and a digest, so 20 parked 15 MB Writes (or MultiEdits) do not
/// stay in memory.
pub(super) fn excerpt(input: serde_json::Value) -> serde_json::Value {
    let serde_json::Value::Object(fields) = input else {
        return cut(input);
    };
    let fields = fields
        .into_iter()
        .filter_map(|(key, value)| match value {
            // A patch keeps only the lines that name its files.
            serde_json::Value::String(text) if matches!(key.as_str(), "patch" | "input") => {
                let files: Vec<&str> = text
                    .lines()
                    .filter(|line| line.starts_with("*** "))
                    .take(PATCH_FILES_KEPT)
                    .collect();
                Some((key, serde_json::Value::String(files.join("\n"))))
            }
            // Kept whole, within what the rules can judge at all: a longer
            // command is beyond the shell analysis (never allowed), and no
            // real path is that long; dropped, "always" offers no rule.
            value if key == "command" || approval::is_path_key(&key) => {
                (value.to_string().len() <= approval::MAX_COMMAND_BYTES).then_some((key, value))
            }
            other => Some((key, cut(other))),
        })
        .collect();
    serde_json::Value::Object(fields)
}

/// Every long string in `value`, however deep (a MultiEdit's edits), cut to
/// an excerpt with its length and a digest.
fn cut(value: serde_json::Value) -> serde_json::Value {
    use sha2::Digest;
    match value {
        serde_json::Value::String(text) if text.len() > EXCERPT_BYTES => {
            let mut at = EXCERPT_BYTES;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let digest = sha2::Sha256::digest(text.as_bytes());
            let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            serde_json::Value::String(format!("{}… ({} bytes, sha256 {hex}…)", &text[..at], text.len()))
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(cut).collect()),
        serde_json::Value::Object(fields) => {
            serde_json::Value::Object(fields.into_iter().map(|(k, v)| (k, cut(v))).collect())
        }
        other => other,
    }
}

/// Lines of a patch kept with a waiting question (the files it names).
const PATCH_FILES_KEPT: usize = 256;

/// How many recent tool calls are kept for pairing, per supervisor.
pub(super) const TOOL_USES_KEPT: usize = 64;

/// Recent `PreToolUse` calls: (session, tool, input fingerprint,
/// tool_use_id). Fingerprints, not inputs: a Write carries a whole file.
#[derive(Default)]
pub(super) struct RecentToolUses(pub(super) std::collections::VecDeque<(SessionId, String, Fingerprint, String)>);

impl RecentToolUses {
    pub(super) fn remember(&mut self, session: &SessionId, tool: &str, input: &serde_json::Value, id: &str) {
        if self.0.len() == TOOL_USES_KEPT {
            self.0.pop_front();
        }
        self.0
            .push_back((session.clone(), tool.to_string(), fingerprint(input), id.to_string()));
    }

    /// The newest call of this session and tool whose input the question
    /// repeats (codex adds a `description` to it), taken out of the list.
    pub(super) fn pair(&mut self, session: &SessionId, tool: &str, input: &serde_json::Value) -> Option<String> {
        let asked = fingerprint(input);
        let index = self.0.iter().rposition(|(s, t, f, _)| {
            s == session && t == tool && f.iter().all(|(key, hash)| asked.get(key) == Some(hash))
        })?;
        self.0.remove(index).map(|(_, _, _, id)| id)
    }
}

/// A hash per top-level field of a tool input (the whole value under "" when
/// it is not an object).
pub(super) type Fingerprint = std::collections::BTreeMap<String, u64>;

pub(super) fn fingerprint(input: &serde_json::Value) -> Fingerprint {
    use std::hash::{Hash, Hasher};
    let hash = |value: &serde_json::Value| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        value.to_string().hash(&mut hasher);
        hasher.finish()
    };
    match input {
        serde_json::Value::Object(fields) => fields.iter().map(|(k, v)| (k.clone(), hash(v))).collect(),
        other => Fingerprint::from([(String::new(), hash(other))]),
    }
}

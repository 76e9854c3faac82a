//! A conversation as lulu keeps and shows it: a list of entries (the
//! user's prompts, the agent's words and thoughts, tool calls as cards,
//! plans), built from ACP's `session/update` notifications. Only the shapes
//! listed here are read; an update of any other shape is ignored, and
//! every text is capped.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest text kept of one update (a chunk, a title).
pub const MAX_TEXT: usize = 256 * 1024;
/// Most files a tool card lists.
const MAX_FILES: usize = 20;
/// Most steps a plan keeps.
const MAX_STEPS: usize = 100;

/// One entry of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    /// What the user sent.
    User { text: String },
    /// What the agent said (chunks of one message merge).
    Agent { text: String },
    /// What the agent thought (shown folded).
    Thought { text: String },
    /// A tool call, updated in place by its id.
    Tool {
        id: String,
        kind: String,
        title: String,
        status: String,
        #[serde(default)]
        files: Vec<String>,
    },
    /// The agent's plan, replaced whole by its next.
    Plan { steps: Vec<Step> },
    /// A turn ended, and why (`end_turn`, `cancelled`, `refusal`, ...).
    Turn { stop: String },
    /// lulu's own word: a refused request, the agent's exit.
    Note { text: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub content: String,
    pub status: String,
}

impl Entry {
    /// Bytes of text it holds (what the bounds count).
    pub fn weight(&self) -> usize {
        match self {
            Entry::User { text } | Entry::Agent { text } | Entry::Thought { text } | Entry::Note { text } => {
                text.len() + 16
            }
            Entry::Tool { id, title, files, .. } => {
                id.len() + title.len() + files.iter().map(String::len).sum::<usize>() + 32
            }
            Entry::Plan { steps } => steps.iter().map(|s| s.content.len() + 16).sum::<usize>() + 16,
            Entry::Turn { stop } => stop.len() + 16,
        }
    }

    /// Add `next` to a conversation that ends with the entries in `list`:
    /// a chunk continues the message before it, a tool update changes its
    /// card, a plan replaces the plan of the same turn. Returns the index
    /// of the first entry that changed.
    pub fn merge_into(list: &mut Vec<Entry>, next: Entry) -> usize {
        match (list.last_mut(), next) {
            (Some(Entry::Agent { text }), Entry::Agent { text: more })
            | (Some(Entry::Thought { text }), Entry::Thought { text: more })
            | (Some(Entry::User { text }), Entry::User { text: more }) => {
                push_capped(text, &more);
                list.len() - 1
            }
            (_, tool @ Entry::Tool { .. }) => merge_tool(list, tool),
            (_, Entry::Plan { steps }) => merge_plan(list, steps),
            (_, next) => {
                list.push(next);
                list.len() - 1
            }
        }
    }
}

/// A tool call's update changes its card (what it says, the rest kept).
fn merge_tool(list: &mut Vec<Entry>, tool: Entry) -> usize {
    let Entry::Tool {
        id,
        kind,
        title,
        status,
        files,
    } = tool
    else {
        return list.len();
    };
    let found = list
        .iter()
        .rposition(|e| matches!(e, Entry::Tool { id: have, .. } if *have == id));
    let Some(at) = found else {
        list.push(Entry::Tool {
            id,
            kind,
            title,
            status,
            files,
        });
        return list.len() - 1;
    };
    if let Entry::Tool {
        kind: k,
        title: t,
        status: s,
        files: f,
        ..
    } = &mut list[at]
    {
        for (kept, new) in [(k, kind), (t, title), (s, status)] {
            if !new.is_empty() {
                *kept = new;
            }
        }
        if !files.is_empty() {
            *f = files;
        }
    }
    at
}

/// A plan replaces the plan of the same turn (since the user's last prompt).
fn merge_plan(list: &mut Vec<Entry>, steps: Vec<Step>) -> usize {
    let turn_start = list.iter().rposition(|e| matches!(e, Entry::User { .. }));
    let found = list
        .iter()
        .rposition(|e| matches!(e, Entry::Plan { .. }))
        .filter(|at| turn_start.is_none_or(|start| *at > start));
    match found {
        Some(at) => {
            list[at] = Entry::Plan { steps };
            at
        }
        None => {
            list.push(Entry::Plan { steps });
            list.len() - 1
        }
    }
}

fn push_capped(text: &mut String, more: &str) {
    let room = (MAX_TEXT * 4).saturating_sub(text.len());
    text.push_str(cut(more, room));
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn text_of(value: Option<&Value>) -> String {
    cut(value.and_then(Value::as_str).unwrap_or(""), MAX_TEXT).to_string()
}

/// The text of a content block (`{type: "text", text}`); other blocks
/// (images, resources) are named, not shown.
fn block_text(block: Option<&Value>) -> Option<String> {
    let block = block?;
    match block.get("type").and_then(Value::as_str)? {
        "text" => Some(text_of(block.get("text"))),
        "resource_link" | "resource" => Some(format!("[{}]", text_of(block.get("uri").or(block.get("name"))))),
        other => Some(format!("[{} content]", cut(other, 40))),
    }
}

/// The files a tool call names: its `locations`, and the paths of its diffs.
fn files_of(update: &Value) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    let locations = update.get("locations").and_then(Value::as_array).into_iter().flatten();
    let diffs = update
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("type").and_then(Value::as_str) == Some("diff"));
    for path in locations
        .chain(diffs)
        .filter_map(|v| v.get("path").and_then(Value::as_str))
    {
        if files.len() < MAX_FILES && !files.iter().any(|f| f == path) {
            files.push(cut(path, 4096).to_string());
        }
    }
    files
}

/// The ACP tool kinds; any other is `other` (none: empty, an update).
pub const KINDS: [&str; 10] = [
    "read",
    "edit",
    "delete",
    "move",
    "search",
    "execute",
    "think",
    "fetch",
    "switch_mode",
    "other",
];

fn known_kind(kind: Option<&Value>) -> String {
    match kind.and_then(Value::as_str) {
        None | Some("") => String::new(),
        Some(kind) if KINDS.contains(&kind) => kind.to_string(),
        Some(_) => "other".to_string(),
    }
}

/// The entry one `session/update`'s `update` object makes, if any.
pub fn entry_of(update: &Value) -> Option<Entry> {
    let kind = update.get("sessionUpdate").and_then(Value::as_str)?;
    let content = update.get("content");
    Some(match kind {
        "agent_message_chunk" => Entry::Agent {
            text: block_text(content)?,
        },
        "agent_thought_chunk" => Entry::Thought {
            text: block_text(content)?,
        },
        "user_message_chunk" => Entry::User {
            text: block_text(content)?,
        },
        "tool_call" | "tool_call_update" => Entry::Tool {
            id: cut(&text_of(update.get("toolCallId")), 128).to_string(),
            kind: known_kind(update.get("kind")),
            title: cut(&text_of(update.get("title")), 500).to_string(),
            status: cut(&text_of(update.get("status")), 40).to_string(),
            files: files_of(update),
        },
        "plan" => Entry::Plan {
            steps: update
                .get("entries")
                .and_then(Value::as_array)?
                .iter()
                .take(MAX_STEPS)
                .map(|step| Step {
                    content: cut(&text_of(step.get("content")), 2000).to_string(),
                    status: text_of(step.get("status")),
                })
                .collect(),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feed(updates: &[Value]) -> Vec<Entry> {
        let mut list = Vec::new();
        for update in updates {
            if let Some(entry) = entry_of(update) {
                Entry::merge_into(&mut list, entry);
            }
        }
        list
    }

    #[test]
    fn chunks_merge_tools_update_in_place_plans_replace() {
        let chunk = |t: &str| json!({"sessionUpdate": "agent_message_chunk", "content": {"type": "text", "text": t}});
        let list = feed(&[
            json!({"sessionUpdate": "user_message_chunk", "content": {"type": "text", "text": "hi"}}),
            chunk("Hel"),
            chunk("lo"),
            json!({"sessionUpdate": "tool_call", "toolCallId": "t1", "kind": "execute", "title": "ls", "status": "pending"}),
            json!({"sessionUpdate": "plan", "entries": [{"content": "a", "status": "pending"}]}),
            json!({"sessionUpdate": "tool_call_update", "toolCallId": "t1", "status": "completed",
                   "content": [{"type": "diff", "path": "/r/a.txt", "oldText": null, "newText": "x"}]}),
            json!({"sessionUpdate": "plan", "entries": [{"content": "a", "status": "completed"}]}),
            json!({"sessionUpdate": "available_commands_update", "availableCommands": []}),
            json!({"sessionUpdate": "agent_message_chunk", "content": "not a block"}),
            chunk("!"),
        ]);
        assert_eq!(
            list,
            vec![
                Entry::User { text: "hi".into() },
                Entry::Agent { text: "Hello".into() },
                Entry::Tool {
                    id: "t1".into(),
                    kind: "execute".into(),
                    title: "ls".into(),
                    status: "completed".into(),
                    files: vec!["/r/a.txt".into()]
                },
                Entry::Plan {
                    steps: vec![Step {
                        content: "a".into(),
                        status: "completed".into()
                    }]
                },
                Entry::Agent { text: "!".into() },
            ]
        );
    }

    #[test]
    fn texts_are_capped_at_a_character_boundary() {
        let long = "é".repeat(MAX_TEXT);
        let Some(Entry::Agent { text }) = entry_of(&json!({"sessionUpdate": "agent_message_chunk",
            "content": {"type": "text", "text": long}}))
        else {
            panic!()
        };
        assert!(text.len() <= MAX_TEXT && text.chars().all(|c| c == 'é'));
    }
}

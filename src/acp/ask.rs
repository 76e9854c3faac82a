//! An ACP permission request as a lulu question, and lulu's answer as the
//! option the agent offered. The question's tool is the call's ACP `kind`
//! (`execute`, `edit`, `read`, ...: one vocabulary for every ACP agent, so
//! one rule serves them all); its input is what the rules judge: the shell
//! command of an `execute`, the file and its whole new content of an edit
//! with a diff (the edit review shows it), the files of the others.
//!
//! Answers are never widened: lulu's "allow" picks the agent's
//! `allow_once` (an "always" is lulu's own rule, stored by lulu), and when
//! the agent offers no such option the call is cancelled.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::approval::Action;
use crate::hook::HookReply;

/// Keys of a command's input that say where it runs.
const RUN_DIR_KEYS: [&str; 3] = ["cwd", "workdir", "dir_path"];

/// What lulu asks about one permission request.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub tool: String,
    pub input: Value,
    pub title: String,
    pub call_id: String,
    /// For an edit lulu can review: the file and its whole new content.
    pub edit: Option<(String, String)>,
}

/// Read `request_permission`'s params. `title_is_command`: the agent's
/// adapter (chosen by the configured program, not by what the agent says
/// of itself) vouches that an `execute` call's title is its command, used
/// when the call has no `rawInput` at all; `current`: a file's content
/// now, for an edit whose diff is a piece of it.
pub fn question(params: &Value, title_is_command: bool, current: impl Fn(&str) -> Option<String>) -> Question {
    let call = params.get("toolCall").unwrap_or(&Value::Null);
    let text = |key: &str| call.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let kind = text("kind");
    let tool = if super::chat::KINDS.contains(&kind.as_str()) {
        kind
    } else {
        "other".to_string()
    };
    let title = super::chat::cut(&text("title"), 2000).to_string();
    let told = call.get("rawInput").is_some_and(|raw| !raw.is_null());
    let raw = call
        .get("rawInput")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut input = Map::new();
    let mut edit = None;
    if tool == "execute" {
        // The title stands for the command only when the call says nothing else.
        execute_input(&raw, &title, title_is_command && !told, &mut input);
    } else {
        edit = edit_of(call, &current);
        if let Some((path, content)) = &edit {
            input.insert("file_path".into(), json!(path));
            input.insert("content".into(), json!(content));
        } else {
            files_input(call, &raw, &mut input);
        }
    }
    if input.is_empty() {
        input.insert("title".into(), json!(title));
    }
    Question {
        tool,
        input: Value::Object(input),
        title,
        call_id: text("toolCallId"),
        edit,
    }
}

fn execute_input(raw: &Map<String, Value>, title: &str, title_is_command: bool, input: &mut Map<String, Value>) {
    match raw.get("command") {
        Some(command @ (Value::String(_) | Value::Array(_))) => {
            input.insert("command".into(), command.clone());
        }
        _ if title_is_command && !title.is_empty() => {
            input.insert("command".into(), json!(title));
        }
        // No command lulu can read: the rules see none, and ask.
        _ => {}
    }
    for key in RUN_DIR_KEYS {
        if let Some(dir) = raw.get(key) {
            input.insert(key.into(), dir.clone());
        }
    }
}

/// The files a call names: its `locations` and diffs, and the path keys of
/// its `rawInput`.
fn files_input(call: &Value, raw: &Map<String, Value>, input: &mut Map<String, Value>) {
    let mut paths: Vec<Value> = Vec::new();
    let located = call.get("locations").and_then(Value::as_array).into_iter().flatten();
    let diffs = diffs(call);
    for path in located.chain(diffs.iter().copied()).filter_map(|l| l.get("path")) {
        if path.is_string() && !paths.contains(path) {
            paths.push(path.clone());
        }
    }
    for (key, value) in raw {
        if crate::approval::is_path_key(key) || ["pattern", "include", "exclude", "glob"].contains(&key.as_str()) {
            input.insert(key.clone(), value.clone());
        }
    }
    if !paths.is_empty() {
        input.entry("file_path").or_insert_with(|| paths[0].clone());
        input.insert("paths".into(), Value::Array(paths));
    }
}

fn diffs(call: &Value) -> Vec<&Value> {
    call.get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("type").and_then(Value::as_str) == Some("diff"))
        .collect()
}

/// An edit of one file lulu can show whole: one diff whose old text is
/// none (a new file), the whole file, or a piece found once in it.
fn edit_of(call: &Value, current: &impl Fn(&str) -> Option<String>) -> Option<(String, String)> {
    let [diff] = diffs(call)[..] else {
        return None;
    };
    let path = diff.get("path")?.as_str()?;
    let new = diff.get("newText")?.as_str()?;
    let now = current(path);
    let whole = match (diff.get("oldText").and_then(Value::as_str), now) {
        (None | Some(""), None) => new.to_string(),
        (Some(old), Some(now)) if old == now => new.to_string(),
        (Some(old), Some(now)) if !old.is_empty() && now.matches(old).count() == 1 => now.replacen(old, new, 1),
        _ => return None,
    };
    Some((path.to_string(), whole))
}

/// The outcome to send for lulu's `reply`, from the agent's `options`.
pub fn outcome(params: &Value, reply: &HookReply) -> Value {
    let wanted: &[&str] = match reply.decision {
        Action::Allow => &["allow_once"],
        Action::Deny | Action::Ask => &["reject_once", "reject_always"],
    };
    let options = params.get("options").and_then(Value::as_array).into_iter().flatten();
    let chosen = wanted.iter().find_map(|kind| {
        options
            .clone()
            .find(|o| o.get("kind").and_then(Value::as_str) == Some(kind))
            .and_then(|o| o.get("optionId").cloned())
    });
    let mut answer = match chosen {
        Some(id) => json!({"outcome": {"outcome": "selected", "optionId": id}}),
        None => json!({"outcome": {"outcome": "cancelled"}}),
    };
    if let Some(reason) = reply.reason.as_deref().filter(|_| reply.decision != Action::Allow) {
        answer["_meta"] = json!({"message": reason});
    }
    answer
}

/// Where a question runs: the command's own directory if it names one.
pub fn cwd_of(question: &Question, default: &Path) -> String {
    RUN_DIR_KEYS
        .iter()
        .find_map(|k| question.input.get(*k).and_then(Value::as_str))
        .map_or_else(|| default.display().to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permission(call: Value) -> Value {
        json!({"sessionId": "s", "toolCall": call, "options": [
            {"optionId": "a", "name": "Always", "kind": "allow_always"},
            {"optionId": "o", "name": "Once", "kind": "allow_once"},
            {"optionId": "r", "name": "No", "kind": "reject_once"}]})
    }

    #[test]
    fn commands_from_raw_input_or_a_vouched_title_else_none() {
        let call = json!({"toolCallId": "t", "kind": "execute", "title": "touch x", "rawInput": {"command": "ls -la", "cwd": "/r"}});
        let q = question(&permission(call), false, |_| None);
        assert_eq!(
            (q.tool.as_str(), &q.input),
            ("execute", &json!({"command": "ls -la", "cwd": "/r"}))
        );
        let untold = json!({"toolCallId": "t", "kind": "execute", "title": "touch x"});
        assert_eq!(
            question(&permission(untold.clone()), true, |_| None).input,
            json!({"command": "touch x"})
        );
        assert_eq!(
            question(&permission(untold), false, |_| None).input,
            json!({"title": "touch x"})
        );
        // An agent that sends a rawInput of its own is not read by its title.
        let odd_command = json!({"kind": "execute", "title": "npm test", "rawInput": {"command": 42}});
        assert_eq!(
            question(&permission(odd_command), true, |_| None).input,
            json!({"title": "npm test"})
        );
        let odd = json!({"kind": "launch_missiles", "title": "t"});
        assert_eq!(question(&permission(odd), false, |_| None).tool, "other");
    }

    #[test]
    fn edits_become_the_whole_new_file() {
        let diff = |old: Value| json!({"kind": "edit", "title": "Edit", "content": [{"type": "diff", "path": "/r/a", "oldText": old, "newText": "B"}]});
        let now = |_: &str| Some("xAy".to_string());
        assert_eq!(
            question(&permission(diff(json!("A"))), false, now).edit,
            Some(("/r/a".into(), "xBy".into()))
        );
        assert_eq!(
            question(&permission(diff(json!("xAy"))), false, now).edit,
            Some(("/r/a".into(), "B".into()))
        );
        assert_eq!(
            question(&permission(diff(Value::Null)), false, |_| None).edit,
            Some(("/r/a".into(), "B".into()))
        );
        // Not found, or the file exists but the agent thinks it new: no review.
        let q = question(&permission(diff(json!("Z"))), false, now);
        assert_eq!(
            (q.edit, q.input),
            (None, json!({"file_path": "/r/a", "paths": ["/r/a"]}))
        );
        assert_eq!(question(&permission(diff(Value::Null)), false, now).edit, None);
    }

    #[test]
    fn answers_pick_once_options_and_never_widen() {
        let params = permission(json!({}));
        let allow = HookReply::of(Action::Allow, None);
        assert_eq!(outcome(&params, &allow)["outcome"]["optionId"], "o");
        let deny = HookReply::of(Action::Deny, Some("not now".into()));
        let answer = outcome(&params, &deny);
        assert_eq!(
            (
                answer["outcome"]["optionId"].as_str(),
                answer["_meta"]["message"].as_str()
            ),
            (Some("r"), Some("not now"))
        );
        let only_always = json!({"options": [{"optionId": "a", "kind": "allow_always"}]});
        assert_eq!(outcome(&only_always, &allow)["outcome"]["outcome"], "cancelled");
        assert_eq!(outcome(&params, &HookReply::ask())["outcome"]["optionId"], "r");
    }
}

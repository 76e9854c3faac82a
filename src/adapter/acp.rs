//! Agents that speak the Agent Client Protocol (`agents.NAME.acp`), run
//! through `lulu acp` (src/acp/): their events reach the host as hook
//! events of the agent `acp`, with one vocabulary for every ACP agent.
//! What lulu knows of particular ACP agents lives here too.

use super::{Adapter, HookEvent, Integration};
use crate::cost::Tokens;

/// Every ACP session.
pub struct Acp;

impl Adapter for Acp {
    fn integration(&self) -> Integration {
        Integration::FULL
    }

    fn hook_event(&self, event: &str) -> HookEvent {
        match event {
            "SessionStart" | "UserPromptSubmit" => HookEvent::Works,
            "Stop" => HookEvent::Waits,
            "Chat" => HookEvent::Chat,
            "Usage" => HookEvent::Usage,
            // "PermissionRequest", and anything else: judged.
            _ => HookEvent::Other,
        }
    }

    fn asks_through(&self) -> Option<&'static str> {
        Some("PermissionRequest")
    }

    /// An edit with a diff is asked as its file's whole new content.
    fn file_tool(&self, tool: &str) -> Option<crate::edit_review::Shape> {
        (tool == "edit").then_some(crate::edit_review::Shape::Write)
    }

    /// `lulu acp` writes the user's reviewed version itself.
    fn takes_edited_input(&self) -> bool {
        true
    }

    /// `lulu acp --load ID` (the start puts it in place).
    fn resume_args(&self, _id: &str) -> Option<Vec<String>> {
        Some(Vec::new())
    }

    fn version_flag(&self) -> Option<&'static str> {
        None
    }
}

/// Gemini CLI's `execute` calls carry no `rawInput`; their title is the
/// shell command itself (its shell tool's `getDisplayTitle`, 0.61.0).
/// Decided by the program lulu runs (`program`: its path), never by what
/// the agent says of itself.
pub fn title_is_command(program: &str) -> bool {
    std::path::Path::new(program)
        .file_name()
        .is_some_and(|name| name == "gemini")
}

/// Tokens by model a turn's result reports in its `_meta` (Gemini CLI:
/// `_meta.quota.model_usage[{model, token_count{input_tokens, output_tokens}}]`).
pub fn turn_usage(result: &serde_json::Value) -> std::collections::BTreeMap<String, Tokens> {
    let mut models = std::collections::BTreeMap::new();
    let list = result.pointer("/_meta/quota/model_usage").and_then(|v| v.as_array());
    for item in list.into_iter().flatten().take(32) {
        let Some(model) = item.get("model").and_then(|m| m.as_str()).filter(|m| m.len() <= 100) else {
            continue;
        };
        let count = |key: &str| {
            item.pointer(&format!("/token_count/{key}"))
                .and_then(|v| v.as_u64())
                .unwrap_or(0)
        };
        let tokens = Tokens {
            input: count("input_tokens"),
            output: count("output_tokens"),
            ..Tokens::default()
        };
        let entry: &mut Tokens = models.entry(model.to_string()).or_default();
        entry.input += tokens.input;
        entry.output += tokens.output;
    }
    models
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_turn_usage_by_model() {
        let result = serde_json::json!({"stopReason": "end_turn", "_meta": {"quota": {"model_usage": [
            {"model": "gemini-3.8-flash", "token_count": {"input_tokens": 1000, "output_tokens": 100}},
            {"model": "auto", "token_count": {"input_tokens": 1200, "output_tokens": 20}}]}}});
        let usage = turn_usage(&result);
        assert_eq!(usage["gemini-3.8-flash"].input, 1000);
        assert_eq!(usage["auto"].output, 20);
        assert!(turn_usage(&serde_json::json!({"stopReason": "end_turn"})).is_empty());
    }
}

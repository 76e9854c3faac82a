//! The decision formats agents read from a hook's stdout, rendered from the
//! host's answer. Claude Code's (`PreToolUse`'s `permissionDecision`,
//! `PermissionRequest`'s `decision.behavior`) is spoken by Codex too;
//! Gemini CLI's `BeforeTool` has its own. `None`: no opinion (`ask`), the
//! agent's own permission flow goes on.

use serde_json::json;

use crate::approval::Action;
use crate::hook::HookReply;

fn reason(reply: &HookReply) -> String {
    reply.reason.clone().unwrap_or_else(|| "lulu rule".to_string())
}

/// Claude Code's format (and Codex's).
pub(super) fn permission(event: &str, reply: &HookReply) -> Option<String> {
    let reason = reason(reply);
    let out = match (event, reply.decision) {
        (_, Action::Ask) => return None,
        ("PreToolUse", decision) => json!({
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision.as_str(),
                "permissionDecisionReason": reason,
            }
        }),
        (_, Action::Allow) => {
            let mut decision = json!({ "behavior": "allow" });
            if let Some(input) = &reply.updated_input {
                decision["updatedInput"] = input.clone();
            }
            json!({
                "hookSpecificOutput": {
                    "hookEventName": "PermissionRequest",
                    "decision": decision,
                }
            })
        }
        (_, Action::Deny) => json!({
            "hookSpecificOutput": {
                "hookEventName": "PermissionRequest",
                "decision": { "behavior": "deny", "message": reason },
            }
        }),
    };
    Some(out.to_string())
}

/// Gemini CLI's `BeforeTool`: `{"decision": "allow"|"deny", "reason"}`,
/// and the input to run instead (`tool_input`).
pub(super) fn before_tool(event: &str, reply: &HookReply) -> Option<String> {
    if event != "BeforeTool" || reply.decision == Action::Ask {
        return None;
    }
    let reason = reason(reply);
    let out = match &reply.updated_input {
        Some(input) if reply.decision == Action::Allow => json!({
            "decision": "allow",
            "reason": reason,
            "hookSpecificOutput": { "hookEventName": "BeforeTool", "tool_input": input },
        }),
        _ => json!({ "decision": reply.decision.as_str(), "reason": reason }),
    };
    Some(out.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(decision: Action, reason: Option<&str>) -> HookReply {
        HookReply::of(decision, reason.map(str::to_string))
    }

    #[test]
    fn renders_claude_decisions() {
        let cases = [
            ("PreToolUse", reply(Action::Ask, None), ""),
            ("PermissionRequest", reply(Action::Ask, None), ""),
            (
                "PreToolUse",
                reply(Action::Allow, Some("rule 3")),
                r#"{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow","permissionDecisionReason":"rule 3"}}"#,
            ),
            (
                "PreToolUse",
                reply(Action::Deny, Some("no rm")),
                r#"{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"no rm"}}"#,
            ),
            (
                "PermissionRequest",
                reply(Action::Allow, None),
                r#"{"hookSpecificOutput":{"decision":{"behavior":"allow"},"hookEventName":"PermissionRequest"}}"#,
            ),
            (
                "PermissionRequest",
                reply(Action::Deny, Some("denied in Neovim")),
                r#"{"hookSpecificOutput":{"decision":{"behavior":"deny","message":"denied in Neovim"},"hookEventName":"PermissionRequest"}}"#,
            ),
        ];
        for (event, reply, want) in cases {
            assert_eq!(permission(event, &reply).unwrap_or_default(), want, "{event} {reply:?}");
        }
    }

    #[test]
    fn renders_gemini_decisions() {
        assert_eq!(before_tool("BeforeTool", &reply(Action::Ask, None)), None);
        assert_eq!(
            before_tool("BeforeTool", &reply(Action::Deny, Some("no"))).unwrap(),
            r#"{"decision":"deny","reason":"no"}"#
        );
        let mut edited = reply(Action::Allow, None);
        edited.updated_input = Some(json!({ "content": "x" }));
        assert_eq!(
            before_tool("BeforeTool", &edited).unwrap(),
            r#"{"decision":"allow","hookSpecificOutput":{"hookEventName":"BeforeTool","tool_input":{"content":"x"}},"reason":"lulu rule"}"#
        );
        assert_eq!(before_tool("AfterAgent", &reply(Action::Allow, None)), None);
    }
}

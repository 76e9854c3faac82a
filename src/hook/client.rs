//! `lulu hook <agent>`: what an agent's hook configuration runs. It reads
//! the agent's hook JSON on stdin, asks the host, and prints the agent's
//! decision JSON. Plain std: no async runtime, no database, so it answers in
//! milliseconds on every tool call.
//!
//! Whenever anything goes wrong (not started by lulu, host gone, timeout,
//! refused) it prints nothing and exits 0: the agent then decides as it
//! would without lulu. Never a silent allow: for a Gemini session that lulu
//! runs in yolo mode, where no opinion would let the tool run, a tool hook
//! with no decision answers "ask" (Gemini's own dialog) instead.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use serde_json::{Value, json};

use super::{ENV_SESSION, ENV_SOCKET, ENV_TIMEOUT, ENV_TOKEN, HookReply, HookRequest};
use crate::approval::Action;

/// Largest hook input read from the agent.
const MAX_INPUT: u64 = 16 * 1024 * 1024;
/// Without `LULU_HOOK_TIMEOUT`: the default approval timeout plus a margin.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(610);

/// Run the hook; returns what to print (possibly nothing).
pub fn run(agent: &str, stdin: impl Read) -> String {
    let must_decide = agent == "gemini" && std::env::var(crate::adapter::GEMINI_YOLO_ENV).as_deref() == Ok("1");
    let mut event = String::new();
    let result = ask(agent, stdin, &mut event);
    let fallback = || {
        if must_decide && event == "BeforeTool" {
            json!({ "decision": "ask" }).to_string()
        } else {
            String::new()
        }
    };
    match result {
        Ok(Some(reply)) => render(agent, &event, &reply).unwrap_or_else(fallback),
        Ok(None) => fallback(),
        Err(err) => {
            // The agent shows a hook's stderr only in verbose modes (and
            // Gemini reads it as the answer when stdout is empty).
            let out = fallback();
            if out.is_empty() && agent != "gemini" {
                eprintln!("lulu hook: {err}");
            }
            out
        }
    }
}

fn ask(agent: &str, stdin: impl Read, event: &mut String) -> Result<Option<HookReply>, String> {
    let mut raw = String::new();
    stdin
        .take(MAX_INPUT)
        .read_to_string(&mut raw)
        .map_err(|err| format!("cannot read the hook input: {err}"))?;
    let payload: Value = serde_json::from_str(&raw).map_err(|err| format!("hook input is not JSON: {err}"))?;
    *event = payload
        .get("hook_event_name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let (Ok(socket), Ok(session), Ok(token)) = (
        std::env::var(ENV_SOCKET),
        std::env::var(ENV_SESSION),
        std::env::var(ENV_TOKEN),
    ) else {
        // Not a lulu session: no opinion.
        return Ok(None);
    };
    if !matches!(
        event.as_str(),
        "PreToolUse"
            | "PermissionRequest"
            | "BeforeTool"
            | "Notification"
            | "Stop"
            | "UserPromptSubmit"
            | "SessionStart"
            | "PostToolUse"
            | "PostToolUseFailure"
            | "PermissionDenied"
            | "BeforeAgent"
            | "AfterAgent"
            | "AfterTool"
    ) {
        return Ok(None);
    }
    let timeout = std::env::var(ENV_TIMEOUT)
        .ok()
        .and_then(|t| t.parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);

    let mut stream = UnixStream::connect(&socket).map_err(|err| format!("host unreachable at {socket}: {err}"))?;
    stream.set_read_timeout(Some(timeout)).map_err(|err| err.to_string())?;
    let request = HookRequest {
        session,
        token,
        agent: agent.to_string(),
        payload,
    };
    let mut line = serde_json::to_vec(&request).map_err(|err| err.to_string())?;
    line.push(b'\n');
    stream
        .write_all(&line)
        .map_err(|err| format!("cannot ask the host: {err}"))?;
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .map_err(|err| format!("no answer from the host: {err}"))?;
    if answer.is_empty() {
        return Err("the host closed the connection".into());
    }
    let reply: HookReply = serde_json::from_str(&answer).map_err(|err| format!("bad answer from the host: {err}"))?;
    Ok(Some(reply))
}

/// The agent's decision format; `None` for `ask`: no opinion, the agent's
/// own permission flow goes on.
fn render(agent: &str, event: &str, reply: &HookReply) -> Option<String> {
    let reason = reply.reason.clone().unwrap_or_else(|| "lulu rule".to_string());
    let out = match (agent, event, reply.decision) {
        (_, _, Action::Ask) => return None,
        // Gemini CLI's BeforeTool: {"decision": "allow"|"deny", "reason"},
        // and the input to run instead (`tool_input`).
        (_, "BeforeTool", decision) => match &reply.updated_input {
            Some(input) if decision == Action::Allow => json!({
                "decision": "allow",
                "reason": reason,
                "hookSpecificOutput": { "hookEventName": "BeforeTool", "tool_input": input },
            }),
            _ => json!({ "decision": decision.as_str(), "reason": reason }),
        },
        (_, "PreToolUse", decision) => json!({
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision.as_str(),
                "permissionDecisionReason": reason,
            }
        }),
        (_, _, Action::Allow) => {
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
        (_, _, Action::Deny) => json!({
            "hookSpecificOutput": {
                "hookEventName": "PermissionRequest",
                "decision": { "behavior": "deny", "message": reason },
            }
        }),
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
            assert_eq!(
                render("claude", event, &reply).unwrap_or_default(),
                want,
                "{event} {reply:?}"
            );
        }
    }
}

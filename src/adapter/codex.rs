//! OpenAI Codex: wired with `-c` overrides only (nothing written to the
//! user's `~/.codex`): command hooks that run `lulu hook codex`, plus the
//! trust codex demands before it runs a hook, given for exactly those hooks.
//!
//! Codex runs a configured hook only once it is trusted, by a
//! `hooks.state."<source>:<event>:<group>:<handler>".trusted_hash` entry whose
//! hash is SHA-256 over the hook's normalized identity as compact JSON with
//! sorted keys. Passing that entry with `-c` trusts lulu's own hooks and
//! nothing else; `--dangerously-bypass-hook-trust` would also run every other
//! unreviewed hook, so lulu does not use it. Events that take no matcher
//! (`Stop`, `UserPromptSubmit`) hash without one, as codex normalizes them.
//! Checked against codex 0.169.0 (tests/lua/test_real_agents.lua).

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Adapter, Integration, Signs, WireContext, Wiring, session_var, shell_quote};
use crate::cost::Format;

/// The source codex gives to hooks that come from `-c` overrides.
const SESSION_FLAGS_SOURCE: &str = "/<session-flags>/config.toml";

pub struct Codex;

impl Adapter for Codex {
    fn hook_events(&self) -> &'static [&'static str] {
        super::claude::HOOK_EVENTS
    }

    fn hook_event(&self, event: &str) -> super::HookEvent {
        super::claude::hook_event(event)
    }

    fn asks_through(&self) -> Option<&'static str> {
        Some("PermissionRequest")
    }

    /// Codex reads Claude Code's decision format.
    fn render_decision(&self, event: &str, reply: &crate::hook::HookReply) -> Option<String> {
        super::decisions::permission(event, reply)
    }

    fn state_paths(&self, home: &Path, env: &[(String, String)]) -> Vec<PathBuf> {
        vec![session_var(env, "CODEX_HOME").map_or_else(|| home.join(".codex"), PathBuf::from)]
    }

    fn screen_signs(&self) -> Signs {
        // Codex 0.169.0's approval dialogs. Its working line is not read:
        // its hooks say when a turn ends.
        Signs {
            dialog: &[
                "Would you like to run the following command?",
                "Would you like to make the following edits?",
            ],
            working: &[],
            prompt: &[],
        }
    }

    fn proven_with(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "0.169.0",
            "its `-c` hook overrides and their trust hashes (approvals, waiting), its rollout lines (cost), its dialog text and `codex resume`",
        ))
    }

    fn integration(&self) -> Integration {
        Integration::FULL
    }

    fn wire(&self, ctx: &WireContext<'_>) -> std::io::Result<Wiring> {
        let command = format!("{} hook codex", shell_quote(ctx.exe));
        Ok(Wiring {
            args: codex_overrides(&command, ctx.approval_timeout_secs),
            env: Vec::new(),
            asks_through: Some("PermissionRequest"),
        })
    }

    fn transcript(&self) -> Option<Format> {
        Some(Format::Codex)
    }

    fn resume_args(&self, id: &str) -> Option<Vec<String>> {
        // A subcommand, so first; 0.169.0's `resume` takes the same `-c`
        // overrides lulu's hooks come in, and appends to the same rollout.
        Some(vec!["resume".into(), id.into()])
    }
}

/// One hook: its config name, codex's internal name, whether it takes a
/// matcher, and its timeout in seconds.
struct Hook {
    event: &'static str,
    key: &'static str,
    matcher: bool,
    timeout: u64,
}

fn hooks(approval_timeout_secs: u64) -> [Hook; 6] {
    let hook = |event, key, matcher, timeout| Hook {
        event,
        key,
        matcher,
        timeout,
    };
    [
        // Rules answer at once.
        hook("PreToolUse", "pre_tool_use", true, 30),
        // Waits for the user; lulu's own timeout decides first.
        hook(
            "PermissionRequest",
            "permission_request",
            true,
            approval_timeout_secs + 30,
        ),
        hook("Stop", "stop", false, 10),
        hook("UserPromptSubmit", "user_prompt_submit", false, 10),
        hook("SessionStart", "session_start", true, 10),
        // The tool ran: a question still pending in Neovim was answered in
        // codex's own dialog.
        hook("PostToolUse", "post_tool_use", true, 10),
    ]
}

/// The `-c key=value` pairs that declare and trust lulu's hooks.
pub fn codex_overrides(command: &str, approval_timeout_secs: u64) -> Vec<String> {
    let mut args = Vec::new();
    let mut trust = Vec::new();
    // A JSON string is a valid TOML basic string.
    let quoted = |s: &str| serde_json::Value::from(s).to_string();
    for hook in hooks(approval_timeout_secs) {
        let matcher = if hook.matcher { r#"matcher="*","# } else { "" };
        args.push("-c".to_string());
        args.push(format!(
            r#"hooks.{}=[{{{matcher}hooks=[{{type="command",command={},timeout={}}}]}}]"#,
            hook.event,
            quoted(command),
            hook.timeout
        ));
        let key = format!("{SESSION_FLAGS_SOURCE}:{}:0:0", hook.key);
        trust.push(format!(
            "{}={{trusted_hash={}}}",
            quoted(&key),
            quoted(&trust_hash(&hook, command))
        ));
    }
    // One inline table: a dotted `-c` path cannot hold a key with dots in it.
    args.push("-c".to_string());
    args.push(format!("hooks.state={{{}}}", trust.join(",")));
    args
}

/// Codex's trust hash of one hook: `sha256:` and the hex digest of its
/// identity (keys sorted, defaults filled: `async = false`).
fn trust_hash(hook: &Hook, command: &str) -> String {
    let mut identity = json!({
        "event_name": hook.key,
        "hooks": [{ "async": false, "command": command, "timeout": hook.timeout, "type": "command" }],
    });
    if hook.matcher {
        identity["matcher"] = json!("*");
    }
    // serde_json's maps are sorted (no `preserve_order`), and `to_string`
    // is compact: exactly codex's canonical form.
    let digest = Sha256::digest(identity.to_string().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_hashes_match_what_codex_wrote_for_the_same_hooks() {
        // Hashes codex 0.169.0 itself wrote to config.toml when these hooks
        // (timeout 600) were trusted in its /hooks dialog.
        let command = "cat >> /tmp/e2e/codexhooks.jsonl; echo >> /tmp/e2e/codexhooks.jsonl";
        let at = |key: &str| {
            let mut hook = hooks(570).into_iter().find(|h| h.key == key).unwrap();
            hook.timeout = 600;
            trust_hash(&hook, command)
        };
        assert_eq!(
            at("permission_request"),
            "sha256:4cafceb006b857d264265a55f34d5fac2b88975cfa2b1a12006d4249ad014795"
        );
        assert_eq!(
            at("stop"),
            "sha256:4da18f644cc0d0ee69f6441d6ca1087e57bb6bf5cb6b1cf1b0032f74b15a7027"
        );
        assert_eq!(
            at("user_prompt_submit"),
            "sha256:c15e474b94228a29fbff0a0d5376fe19f5552f6a488782d3f6b9c0f12622df86"
        );
        assert_eq!(
            at("pre_tool_use"),
            "sha256:e1d4fc58ffde1ed4638f751d614788d578817249d20677d3de8ccbaf5138b9fd"
        );
    }

    #[test]
    fn overrides_are_toml_that_survives_odd_commands() {
        let args = codex_overrides(r#"'/opt/a "b"/lulu' hook codex"#, 600);
        assert_eq!(args.len(), 14);
        assert!(args.chunks(2).all(|pair| pair[0] == "-c"));
        assert_eq!(
            args[3],
            r#"hooks.PermissionRequest=[{matcher="*",hooks=[{type="command",command="'/opt/a \"b\"/lulu' hook codex",timeout=630}]}]"#
        );
        assert!(args[5].starts_with(r#"hooks.Stop=[{hooks=["#));
        assert!(
            args[13]
                .starts_with(r#"hooks.state={"/<session-flags>/config.toml:pre_tool_use:0:0"={trusted_hash="sha256:"#)
        );
    }
}

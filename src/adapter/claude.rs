//! Claude Code: wired through a per-session `--settings` file in lulu's
//! state directory (nothing of the user's is touched) whose command hooks run
//! `lulu hook claude`; cost from its transcript; attention from its
//! `Notification` and `Stop` hooks.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Adapter, HookEvent, Integration, Signs, WireContext, Wiring, session_var, shell_quote};
use crate::cost::Format;
use crate::private::{self, Links};

pub struct Claude;

/// The hook events Claude Code's settings wire to lulu (and Codex's, a
/// subset of them).
pub(super) const HOOK_EVENTS: &[&str] = &[
    "PreToolUse",
    "PermissionRequest",
    "Notification",
    "Stop",
    "UserPromptSubmit",
    "SessionStart",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionDenied",
];

/// What Claude Code's hook events mean (Codex's are the same events).
pub(super) fn hook_event(event: &str) -> HookEvent {
    match event {
        "Notification" | "Stop" => HookEvent::Waits,
        "UserPromptSubmit" | "SessionStart" => HookEvent::Works,
        "PreToolUse" => HookEvent::ToolAhead,
        "PostToolUse" => HookEvent::ToolRan,
        "PostToolUseFailure" | "PermissionDenied" => HookEvent::ToolSettled,
        "SessionEnd" => HookEvent::Ends,
        _ => HookEvent::Other,
    }
}

impl Adapter for Claude {
    fn hook_events(&self) -> &'static [&'static str] {
        HOOK_EVENTS
    }

    fn hook_event(&self, event: &str) -> HookEvent {
        hook_event(event)
    }

    fn asks_through(&self) -> Option<&'static str> {
        Some("PermissionRequest")
    }

    fn file_tool(&self, tool: &str) -> Option<crate::edit_review::Shape> {
        use crate::edit_review::Shape;
        match tool {
            "Write" => Some(Shape::Write),
            "Edit" => Some(Shape::Edit),
            "MultiEdit" => Some(Shape::MultiEdit),
            _ => None,
        }
    }

    /// With an allow, `updatedInput` replaces the tool's whole input.
    fn takes_edited_input(&self) -> bool {
        true
    }

    fn render_decision(&self, event: &str, reply: &crate::hook::HookReply) -> Option<String> {
        super::decisions::permission(event, reply)
    }

    fn state_paths(&self, home: &Path, env: &[(String, String)]) -> Vec<PathBuf> {
        let config = session_var(env, "CLAUDE_CONFIG_DIR").map_or_else(|| home.join(".claude"), PathBuf::from);
        // `~/.claude.json` is a file: Claude rewrites it in place.
        vec![config, home.join(".claude.json"), home.join(".cache/claude")]
    }

    fn screen_signs(&self) -> Signs {
        // Claude Code 2.1.330's permission dialog, its spinner line, and
        // the footer under its input box.
        Signs {
            dialog: &[
                "Do you want to proceed?",
                "Do you want to make this edit",
                "Do you want to create",
            ],
            working: &["esc to interrupt"],
            prompt: &["? for shortcuts"],
        }
    }

    fn proven_with(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "2.1.330",
            "its hook payloads and decisions (approvals, waiting), its transcript lines (cost), its dialog text (waiting by screen) and `--resume`",
        ))
    }

    fn integration(&self) -> Integration {
        Integration::FULL
    }

    fn wire(&self, ctx: &WireContext<'_>) -> std::io::Result<Wiring> {
        private::dir(ctx.session_dir, Links::Follow)?;
        let file: PathBuf = ctx.session_dir.join("claude-settings.json");
        let settings = claude_settings(ctx.exe, ctx.approval_timeout_secs);
        private::write(
            &file,
            &serde_json::to_vec_pretty(&settings).map_err(std::io::Error::other)?,
        )?;
        Ok(Wiring {
            args: vec!["--settings".into(), file.to_string_lossy().into_owned()],
            env: Vec::new(),
            asks_through: Some("PermissionRequest"),
        })
    }

    fn transcript(&self) -> Option<Format> {
        Some(Format::Claude)
    }

    fn resume_args(&self, id: &str) -> Option<Vec<String>> {
        // 2.1.330 appends the resumed turns to the same transcript, and its
        // cost-state line there stays cumulative.
        Some(vec!["--resume".into(), id.into()])
    }
}

/// The Claude Code settings that route its permission questions to lulu:
/// `PreToolUse` for rules, `PermissionRequest` for rules and then the user.
pub fn claude_settings(exe: &Path, approval_timeout_secs: u64) -> serde_json::Value {
    let command = format!("{} hook claude", shell_quote(exe));
    let hook = |timeout: u64| json!([{ "matcher": "*", "hooks": [{ "type": "command", "command": command, "timeout": timeout }] }]);
    json!({
        "hooks": {
            // Rules answer at once; the margin covers a slow machine.
            "PreToolUse": hook(30),
            // Waits for the user; a little longer than lulu's own timeout so
            // lulu, not Claude, decides what a timeout means.
            "PermissionRequest": hook(approval_timeout_secs + 30),
            // Attention and the transcript's path; answered at once.
            "Notification": hook(10),
            "Stop": hook(10),
            "UserPromptSubmit": hook(10),
            "SessionStart": hook(10),
            // The tool went ahead (or was refused) in Claude's own dialog:
            // the question pending in Neovim is settled.
            "PostToolUse": hook(10),
            "PostToolUseFailure": hook(10),
            "PermissionDenied": hook(10),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_command_survives_odd_paths() {
        let settings = claude_settings(Path::new("/opt/it's here/lulu"), 600);
        let command = settings["hooks"]["PermissionRequest"][0]["hooks"][0]["command"]
            .as_str()
            .unwrap();
        assert_eq!(command, r"'/opt/it'\''s here/lulu' hook claude");
        assert_eq!(settings["hooks"]["PermissionRequest"][0]["hooks"][0]["timeout"], 630);
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("printf %s {}", shell_quote(Path::new("/a b/it's")))])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "/a b/it's");
    }
}

//! Gemini CLI reads hooks only from settings files, and lulu writes none of
//! the user's. So each session gets a Gemini home of its own
//! (`GEMINI_CLI_HOME=<session dir>/gemini-home`, which moves the whole
//! `~/.gemini`): its `settings.json` is the user's settings with lulu's
//! hooks added, and every other entry of the user's `~/.gemini`
//! (credentials, trusted folders, projects, chats under `tmp/`, history,
//! extensions, memory) is a symlink to the user's own, so the agent sees
//! what it always sees and what it writes there lands in the user's files.
//!
//! The system settings files are not the route: Gemini skips them unless
//! root owns them and every directory above them.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{WireContext, shell_quote};
use crate::private::{self, Links};

/// What lulu's BeforeTool hook prints when anything at all goes wrong
/// (lulu's binary gone, a crash): Gemini's own dialog, never a silent run.
const FALLBACK_ASK: &str = r#"{"decision":"ask"}"#;

/// The user's Gemini directory, as the agent would find it.
pub fn user_dir(ctx: &WireContext<'_>) -> Option<PathBuf> {
    let home = ctx.var("GEMINI_CLI_HOME").or_else(|| ctx.var("HOME"))?;
    Some(PathBuf::from(home).join(".gemini"))
}

/// Make the session's Gemini home; returns it (the `GEMINI_CLI_HOME`).
/// `guarded`: lulu runs Gemini in yolo mode, so its BeforeTool hook must
/// answer "ask" whatever fails.
pub fn make(ctx: &WireContext<'_>, guarded: bool) -> std::io::Result<PathBuf> {
    let home = ctx.session_dir.join("gemini-home");
    let dir = home.join(".gemini");
    private::dir(&dir, Links::Follow)?;
    let user = user_dir(ctx);
    let mut settings = json!({});
    if let Some(user) = &user {
        // Gemini makes these on first use; made now, in the user's own
        // directory, so that what it keeps there (chats, the project
        // names) outlives the session and a resumed one finds it.
        std::fs::create_dir_all(user.join("tmp"))?;
        settings = read_settings(&user.join("settings.json"))?;
        link_entries(user, &dir)?;
    }
    add_hooks(&mut settings, ctx.exe, ctx.approval_timeout_secs, guarded);
    private::write(
        &dir.join("settings.json"),
        &serde_json::to_vec_pretty(&settings).map_err(std::io::Error::other)?,
    )?;
    Ok(home)
}

/// Every entry of the user's directory but `settings.json`, linked.
fn link_entries(user: &Path, dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(user)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "settings.json" {
            continue;
        }
        let link = dir.join(&name);
        if std::fs::symlink_metadata(&link).is_ok() {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), &link)?;
    }
    Ok(())
}

/// The user's settings (Gemini allows comments in them), or none.
fn read_settings(path: &Path) -> std::io::Result<Value> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(json!({})),
        Err(err) => return Err(err),
    };
    match serde_json::from_str::<Value>(&strip_comments(&text)) {
        Ok(value) if value.is_object() => Ok(value),
        _ => Err(std::io::Error::other(format!(
            "{} is not a JSON object gemini could read; fix it, then start the session again",
            path.display()
        ))),
    }
}

/// lulu's hooks, after the user's own; hooks on (a user who turned them
/// off would otherwise run every tool unasked under lulu's yolo mode).
pub fn add_hooks(settings: &mut Value, exe: &Path, approval_timeout_secs: u64, guarded: bool) {
    let command = format!("{} hook gemini", shell_quote(exe));
    let before_tool = if guarded {
        format!("{command} || printf '%s\\n' '{FALLBACK_ASK}'")
    } else {
        command.clone()
    };
    let group = |command: &str, timeout_secs: u64| {
        json!({
            "matcher": "*",
            "hooks": [{ "type": "command", "name": "lulu", "command": command, "timeout": timeout_secs * 1000 }],
        })
    };
    let hooks = [
        // Waits for the user; longer than lulu's own timeout, after which
        // lulu answers "ask" (Gemini's own dialog).
        ("BeforeTool", group(&before_tool, approval_timeout_secs + 60)),
        // Its dialog is up (`ToolPermission`), a turn ended, one began.
        ("Notification", group(&command, 10)),
        ("AfterAgent", group(&command, 10)),
        ("BeforeAgent", group(&command, 10)),
        ("SessionStart", group(&command, 10)),
        ("AfterTool", group(&command, 10)),
    ];
    let root = settings.as_object_mut().expect("settings are an object");
    let table = root.entry("hooks").or_insert_with(|| json!({}));
    if !table.is_object() {
        *table = json!({});
    }
    for (event, group) in hooks {
        let list = table
            .as_object_mut()
            .expect("hooks are an object")
            .entry(event)
            .or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        list.as_array_mut().expect("an array").push(group);
    }
    let config = root.entry("hooksConfig").or_insert_with(|| json!({}));
    if !config.is_object() {
        *config = json!({});
    }
    let config = config.as_object_mut().expect("an object");
    config.insert("enabled".into(), Value::Bool(true));
    if let Some(Value::Array(disabled)) = config.get_mut("disabled") {
        disabled.retain(|name| name != "lulu" && name.as_str().is_none_or(|n| !n.contains("hook gemini")));
    }
}

/// Whether the system settings (which override the user's) could stop
/// lulu's hooks or yolo mode: then lulu leaves Gemini in its own mode.
pub fn system_may_interfere(ctx: &WireContext<'_>) -> bool {
    let path = ctx
        .var("GEMINI_CLI_SYSTEM_SETTINGS_PATH")
        .unwrap_or_else(|| "/etc/gemini-cli/settings.json".into());
    let Ok(text) = std::fs::read_to_string(&path) else {
        return false;
    };
    let Ok(settings) = serde_json::from_str::<Value>(&strip_comments(&text)) else {
        return true;
    };
    settings.get("hooksConfig").is_some()
        || settings.get("hooks").is_some()
        || settings.pointer("/security/disableYoloMode").is_some()
        || settings.pointer("/tools/approvalMode").is_some()
}

/// JSON with `//` and `/* */` comments removed (outside strings), as
/// Gemini reads its settings.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(dir: &'a Path, env: &'a [(String, String)]) -> WireContext<'a> {
        WireContext {
            session_dir: dir,
            exe: Path::new("/opt/lulu"),
            approval_timeout_secs: 600,
            env,
            user_args: &[],
        }
    }

    #[test]
    fn the_users_settings_keep_their_hooks_and_get_lulus_after_them() {
        let root = tempfile::tempdir().unwrap();
        let user = root.path().join("home/.gemini");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(
            user.join("settings.json"),
            r#"{
              // the user's own
              "ui": {"theme": "GitHub /* not a comment */"},
              "hooks": {"BeforeTool": [{"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "mine"}]}]},
              "hooksConfig": {"enabled": false, "disabled": ["lulu", "other"]} /* off */
            }"#,
        )
        .unwrap();
        std::fs::write(user.join("oauth_creds.json"), "{}").unwrap();
        let env = [(
            "HOME".to_string(),
            root.path().join("home").to_string_lossy().into_owned(),
        )];
        let session = root.path().join("session");
        let home = make(&ctx(&session, &env), true).unwrap();
        let dir = home.join(".gemini");
        let settings: Value = serde_json::from_slice(&std::fs::read(dir.join("settings.json")).unwrap()).unwrap();
        assert_eq!(settings["ui"]["theme"], "GitHub /* not a comment */");
        let before = settings["hooks"]["BeforeTool"].as_array().unwrap();
        assert_eq!(before.len(), 2, "the user's hook, then lulu's");
        assert_eq!(before[0]["hooks"][0]["command"], "mine");
        assert_eq!(
            before[1]["hooks"][0]["command"],
            r#"'/opt/lulu' hook gemini || printf '%s\n' '{"decision":"ask"}'"#
        );
        assert_eq!(before[1]["hooks"][0]["timeout"], 660_000);
        assert_eq!(settings["hooksConfig"]["enabled"], true);
        assert_eq!(settings["hooksConfig"]["disabled"], json!(["other"]));
        // Everything else is the user's own, through links.
        assert_eq!(
            std::fs::read_link(dir.join("oauth_creds.json")).unwrap(),
            user.join("oauth_creds.json")
        );
        assert_eq!(std::fs::read_link(dir.join("tmp")).unwrap(), user.join("tmp"));
        assert!(user.join("tmp").is_dir(), "made where gemini would make it");
        assert!(
            !std::fs::symlink_metadata(dir.join("settings.json"))
                .unwrap()
                .is_symlink()
        );
    }

    #[test]
    fn the_guard_answers_ask_when_lulu_cannot() {
        let mut settings = json!({});
        add_hooks(&mut settings, Path::new("/nonexistent/lulu"), 1, true);
        let command = settings["hooks"]["BeforeTool"][0]["hooks"][0]["command"]
            .as_str()
            .unwrap();
        let out = std::process::Command::new("sh").args(["-c", command]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), FALLBACK_ASK);
        assert!(out.status.success());
    }

    #[test]
    fn unreadable_settings_are_an_error_naming_the_file() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("settings.json"), "{ not json").unwrap();
        let err = read_settings(&root.path().join("settings.json")).unwrap_err();
        assert!(err.to_string().contains("settings.json is not a JSON object"), "{err}");
        assert_eq!(read_settings(&root.path().join("missing.json")).unwrap(), json!({}));
    }
}

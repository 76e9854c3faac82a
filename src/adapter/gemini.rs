//! Gemini CLI: approvals and the waiting signal through its hooks, cost from
//! its chat file.
//!
//! Its hooks come only from settings files, so each session gets a Gemini
//! home of its own whose settings are the user's plus lulu's hooks
//! ([`super::gemini_home`]). A `BeforeTool` "allow" does not skip Gemini's
//! own dialog in its default mode, so lulu runs it with `--approval-mode
//! yolo` and a hook on every tool: rules allow or deny, a question no rule
//! answers waits in Neovim, and a timeout or any failure answers "ask",
//! which forces Gemini's own dialog (never a silent run). Gemini itself
//! turns yolo off in a folder it does not trust, and skips settings hooks
//! there: its own dialogs then ask, as without lulu. A user who picks an
//! approval mode (`--approval-mode`, `--yolo`), or system settings that
//! touch hooks or yolo, keep Gemini's own mode: lulu's rules then only deny.
//!
//! Its chat file: gemini names each working directory in
//! `~/.gemini/projects.json` (`{"projects": {cwd: slug}}`) and writes
//! `~/.gemini/tmp/<slug>/chats/session-*.jsonl`. A session has a worktree,
//! hence a directory, of its own, so the newest chat file there begun after
//! the session started is the session's.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{Adapter, Integration, Signs, TranscriptSearch, WireContext, Wiring, gemini_home};
use crate::cost::Format;

pub struct Gemini;

impl Adapter for Gemini {
    fn hook_events(&self) -> &'static [&'static str] {
        &[
            "BeforeTool",
            "Notification",
            "BeforeAgent",
            "AfterAgent",
            "AfterTool",
            "SessionStart",
        ]
    }

    /// `AfterAgent` ends its turn (it has no `Stop`), `BeforeAgent` begins
    /// one.
    fn hook_event(&self, event: &str) -> super::HookEvent {
        use super::HookEvent;
        match event {
            "Notification" | "AfterAgent" => HookEvent::Waits,
            "BeforeAgent" | "SessionStart" => HookEvent::Works,
            "BeforeTool" => HookEvent::ToolAhead,
            "AfterTool" => HookEvent::ToolRan,
            "SessionEnd" => HookEvent::Ends,
            _ => HookEvent::Other,
        }
    }

    fn reads_stderr(&self) -> bool {
        true
    }

    fn file_tool(&self, tool: &str) -> Option<crate::edit_review::Shape> {
        use crate::edit_review::Shape;
        match tool {
            "write_file" => Some(Shape::Write),
            "replace" => Some(Shape::Replace),
            _ => None,
        }
    }

    /// With an allow, `hookSpecificOutput.tool_input` is the input it runs.
    fn takes_edited_input(&self) -> bool {
        true
    }

    fn render_decision(&self, event: &str, reply: &crate::hook::HookReply) -> Option<String> {
        super::decisions::before_tool(event, reply)
    }

    /// Under lulu's yolo mode no opinion would run the tool: `ask` shows
    /// Gemini's own dialog instead. Never a silent allow.
    fn undecided(&self, event: &str) -> Option<String> {
        (event == "BeforeTool" && std::env::var(YOLO_ENV).as_deref() == Ok("1"))
            .then(|| serde_json::json!({ "decision": "ask" }).to_string())
    }

    fn state_paths(&self, home: &Path, _env: &[(String, String)]) -> Vec<PathBuf> {
        // lulu's GEMINI_CLI_HOME for the session links into the real one.
        vec![home.join(".gemini")]
    }

    fn screen_signs(&self) -> Signs {
        // Gemini CLI 0.61.0's confirmation dialogs, its "responding" line
        // and its input box: with no hooks wired, its screen is all lulu
        // has.
        Signs {
            dialog: &["Allow execution", "Apply this change?", "Waiting for user confirmation"],
            working: &["esc to cancel"],
            prompt: &["Type your message"],
        }
    }

    fn proven_with(&self) -> Option<(&'static str, &'static str)> {
        Some((
            "0.61.0",
            "its chat files and `projects.json` (cost), its dialog and prompt text (waiting by screen) and `--resume`",
        ))
    }

    fn integration(&self) -> Integration {
        Integration::FULL
    }

    fn wire(&self, ctx: &WireContext<'_>) -> std::io::Result<Wiring> {
        let own_mode = ctx
            .user_args
            .iter()
            .any(|a| a == "--yolo" || a == "-y" || a.starts_with("--approval-mode"));
        let yolo = !own_mode && !gemini_home::system_may_interfere(ctx);
        let home = gemini_home::make(ctx, yolo)?;
        let mut env = vec![("GEMINI_CLI_HOME".to_string(), home.to_string_lossy().into_owned())];
        if yolo {
            env.push((YOLO_ENV.to_string(), "1".to_string()));
        }
        Ok(Wiring {
            args: if yolo {
                vec!["--approval-mode".into(), "yolo".into()]
            } else {
                Vec::new()
            },
            env,
            // In its own mode Gemini's dialog asks; lulu's rules only deny
            // (Gemini sends no PermissionRequest).
            asks_through: yolo.then_some("BeforeTool"),
        })
    }

    fn asks_no_one(&self, tool: &str) -> bool {
        // Gemini CLI 0.61.0's tools that read, plan or talk to the user:
        // its default mode runs them without a dialog.
        matches!(
            tool,
            "read_file"
                | "read_many_files"
                | "list_directory"
                | "glob"
                | "grep_search"
                | "google_web_search"
                | "get_internal_docs"
                | "list_mcp_resources"
                | "read_mcp_resource"
                | "write_todos"
                | "activate_skill"
                | "ask_user"
                | "enter_plan_mode"
                | "exit_plan_mode"
                | "complete_task"
                | "update_topic"
        ) || tool.starts_with("tracker_")
    }

    fn transcript(&self) -> Option<Format> {
        Some(Format::Gemini)
    }

    fn resume_args(&self, id: &str) -> Option<Vec<String>> {
        // 0.61.0 takes a session id as well as `latest` or an index.
        Some(vec!["--resume".into(), id.into()])
    }

    fn transcript_search(
        &self,
        cwd: &Path,
        env: &[(String, String)],
        resumed: Option<&str>,
    ) -> Option<TranscriptSearch> {
        let var = |key: &str| super::session_var(env, key);
        let home = var("GEMINI_CLI_HOME").or_else(|| var("HOME"))?;
        Some(TranscriptSearch::Gemini {
            dir: PathBuf::from(home).join(".gemini"),
            cwd: cwd.to_path_buf(),
            resumed: resumed.map(str::to_string),
        })
    }
}

/// Set in a session that lulu runs in yolo mode: its BeforeTool hook must
/// then answer "ask" (Gemini's dialog) whenever it has no decision.
pub const YOLO_ENV: &str = "LULU_GEMINI_YOLO";

/// Chat files may be stamped a little before lulu's own record of the start.
const CLOCK_SLACK: Duration = Duration::from_secs(2);

/// The newest chat file for `cwd` under gemini's `dir` begun at or after
/// `since`. Blocking (reads a few files): call it off the async runtime.
pub(super) fn find_chat(dir: &Path, cwd: &Path, since: SystemTime) -> Option<PathBuf> {
    let since = since.checked_sub(CLOCK_SLACK).unwrap_or(since);
    chat_files(dir, cwd)?
        .into_iter()
        .filter(|(born, _)| *born >= since)
        .max()
        .map(|(_, path)| path)
}

/// The chat file of conversation `id`: the first one begun with that
/// session id (gemini 0.61.0 resuming appends there, and begins another
/// file with the same id that it leaves empty). Blocking.
pub(super) fn find_conversation(dir: &Path, cwd: &Path, id: &str) -> Option<PathBuf> {
    chat_files(dir, cwd)?
        .into_iter()
        .filter(|(_, path)| session_id_of(path).as_deref() == Some(id))
        .min()
        .map(|(_, path)| path)
}

/// Every `session-*.jsonl` in the chats directory gemini keeps for `cwd`,
/// with when each was begun.
fn chat_files(dir: &Path, cwd: &Path) -> Option<Vec<(SystemTime, PathBuf)>> {
    let projects: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("projects.json")).ok()?).ok()?;
    let projects = projects.get("projects")?.as_object()?;
    let real = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let slug = [real.as_path(), cwd]
        .iter()
        .find_map(|path| projects.get(path.to_str()?)?.as_str())?;
    if slug.contains('/') || slug.starts_with('.') {
        return None;
    }
    let files = std::fs::read_dir(dir.join("tmp").join(slug).join("chats"))
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("session-") && name.ends_with(".jsonl")
        })
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let born = meta.created().or_else(|_| meta.modified()).ok()?;
            Some((born, e.path()))
        })
        .collect();
    Some(files)
}

/// The `sessionId` of a chat file's first line (read no further than 64 KiB).
fn session_id_of(path: &Path) -> Option<String> {
    use std::io::{BufRead, Read};
    let file = std::fs::File::open(path).ok()?;
    let mut first = Vec::new();
    std::io::BufReader::new(file.take(64 * 1024))
        .read_until(b'\n', &mut first)
        .ok()?;
    let header: serde_json::Value = serde_json::from_slice(&first).ok()?;
    header.get("sessionId")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat_dir(home: &Path, slug: &str) -> PathBuf {
        let chats = home.join("tmp").join(slug).join("chats");
        std::fs::create_dir_all(&chats).unwrap();
        chats
    }

    #[test]
    fn finds_the_newest_chat_of_the_sessions_directory() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join(".gemini");
        let cwd = root.path().join("repo/.lulu/worktrees/g");
        let other = root.path().join("elsewhere");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        let since = SystemTime::now();
        assert_eq!(find_chat(&home, &cwd, since), None, "no projects.json yet");

        let projects = serde_json::json!({"projects": {
            std::fs::canonicalize(&cwd).unwrap().to_str().unwrap(): "g",
            std::fs::canonicalize(&other).unwrap().to_str().unwrap(): "g-1",
        }});
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join("projects.json"), projects.to_string()).unwrap();
        assert_eq!(find_chat(&home, &cwd, since), None, "no chat yet");

        let chats = chat_dir(&home, "g");
        std::fs::write(chats.join("notes.txt"), "").unwrap();
        std::fs::write(chats.join("session-a.jsonl"), "{}\n").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(chats.join("session-b.jsonl"), "{}\n").unwrap();
        std::fs::write(chat_dir(&home, "g-1").join("session-c.jsonl"), "{}\n").unwrap();
        assert_eq!(find_chat(&home, &cwd, since), Some(chats.join("session-b.jsonl")));
        assert_eq!(
            find_chat(&home, &cwd, SystemTime::now() + Duration::from_secs(60)),
            None,
            "chats begun before the session are not its own"
        );

        // Resuming: the first file begun with the conversation's id, not
        // the newer one gemini begins beside it.
        let header = |id: &str| format!("{{\"sessionId\":\"{id}\",\"kind\":\"main\"}}\n{{\"$set\":{{}}}}\n");
        std::fs::write(chats.join("session-x1.jsonl"), header("conv-x")).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(chats.join("session-x2.jsonl"), header("conv-x")).unwrap();
        assert_eq!(
            find_conversation(&home, &cwd, "conv-x"),
            Some(chats.join("session-x1.jsonl"))
        );
        assert_eq!(find_conversation(&home, &cwd, "conv-y"), None);
    }

    #[test]
    fn a_slug_cannot_lead_outside_geminis_directory() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join(".gemini");
        std::fs::create_dir_all(&home).unwrap();
        let cwd = root.path().to_path_buf();
        for slug in ["../..", ".", "a/b"] {
            let projects =
                serde_json::json!({"projects": {std::fs::canonicalize(&cwd).unwrap().to_str().unwrap(): slug}});
            std::fs::write(home.join("projects.json"), projects.to_string()).unwrap();
            assert_eq!(find_chat(&home, &cwd, SystemTime::UNIX_EPOCH), None, "{slug}");
        }
    }

    #[test]
    fn the_sessions_own_home_wins() {
        let env = vec![("HOME".to_string(), "/h".to_string())];
        let Some(TranscriptSearch::Gemini { dir, .. }) = Gemini.transcript_search(Path::new("/w"), &env, None) else {
            panic!("gemini searches for its chat");
        };
        assert_eq!(dir, Path::new("/h/.gemini"));
        let env = vec![
            ("HOME".to_string(), "/h".to_string()),
            ("GEMINI_CLI_HOME".to_string(), "/g".to_string()),
        ];
        let Some(TranscriptSearch::Gemini { dir, .. }) = Gemini.transcript_search(Path::new("/w"), &env, None) else {
            panic!("gemini searches for its chat");
        };
        assert_eq!(dir, Path::new("/g/.gemini"));
    }
}

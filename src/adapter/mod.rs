//! One adapter per agent CLI, behind one small trait: how a session of it is
//! wired to lulu (extra argv, files in lulu's state dir), where its usage
//! comes from, and what lulu can do with it. An agent added from config
//! alone (`agents = { aider = { cmd = {...} } }`) gets [`Generic`]: it runs,
//! with no hooks and no cost.

mod acp;
mod claude;
mod codex;
mod decisions;
mod gemini;
mod gemini_home;
mod others;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

pub use acp::{Acp, title_is_command as acp_title_is_command, turn_usage as acp_turn_usage};
pub use claude::Claude;
pub use codex::Codex;
pub use gemini::{Gemini, YOLO_ENV as GEMINI_YOLO_ENV};
pub use others::{Generic, Shell};

use crate::cost::Format;
pub use crate::screen::status::Signs;

/// What lulu does for an agent, as `:checkhealth lulu` and the docs show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Integration {
    /// Permission questions reach Neovim through its hooks.
    pub approvals: bool,
    /// `cost_usd` and token totals from its own records.
    pub cost: bool,
    /// "Waiting for you" from its own signals.
    pub attention: bool,
}

impl Integration {
    /// Approvals, cost and attention: what Claude Code and Codex get.
    pub const FULL: Integration = Integration {
        approvals: true,
        cost: true,
        attention: true,
    };
}

/// Everything an adapter needs to wire one session.
pub struct WireContext<'a> {
    /// Where the adapter may write per-session files.
    pub session_dir: &'a Path,
    /// The lulu binary, for hook commands.
    pub exe: &'a Path,
    pub approval_timeout_secs: u64,
    /// The session's own environment (the agent's `env`, the start's),
    /// over lulu's: where the agent will look for the user's files.
    pub env: &'a [(String, String)],
    /// The user's own args for the agent.
    pub user_args: &'a [String],
}

impl WireContext<'_> {
    /// A variable as the agent will see it: the session's own, else lulu's.
    pub fn var(&self, key: &str) -> Option<String> {
        session_var(self.env, key)
    }
}

/// A variable as a session's agent will see it: the session's own
/// environment (the last setting wins) over lulu's; empty is unset.
pub fn session_var(env: &[(String, String)], key: &str) -> Option<String> {
    env.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var(key).ok())
        .filter(|v| !v.is_empty())
}

/// How a session of an agent is wired to lulu.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wiring {
    /// Flags to put right after the agent's command (before the user's).
    pub args: Vec<String>,
    /// Variables set last, over the session's own.
    pub env: Vec<(String, String)>,
    /// The hook event whose questions wait for the user in Neovim (the
    /// agent's own dialog would ask otherwise); `None`: as Claude and
    /// Codex ask (`PermissionRequest`), which an unwired agent may still
    /// send (a configured program that runs `lulu hook claude` itself).
    pub asks_through: Option<&'static str>,
}

/// What one of an agent's hook events means to lulu (each adapter says of
/// its own events; the supervisor acts on the meaning, never the name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookEvent {
    /// Its turn ended, or it calls for the user: it waits. Nothing to judge.
    Waits,
    /// A prompt or a session begins: it works. Nothing to judge.
    Works,
    /// A tool is about to run: it works, and the call is judged; the call's
    /// id, when it carries one, pairs a question that comes later.
    ToolAhead,
    /// A tool ran: whatever asked about it was answered in the agent's own
    /// dialog. Nothing to judge.
    ToolRan,
    /// A tool failed or was refused in the agent's own dialog: answered
    /// there; then judged as any other event.
    ToolSettled,
    /// The session ends. Nothing to judge.
    Ends,
    /// Entries of an ACP session's conversation. Nothing to judge.
    Chat,
    /// What an ACP session's turn used. Nothing to judge.
    Usage,
    /// Anything else (the question it asks through among them): judged.
    Other,
}

impl HookEvent {
    /// Whether the event is answered at once, with no rule's verdict.
    pub fn nothing_to_judge(self) -> bool {
        matches!(
            self,
            HookEvent::Waits
                | HookEvent::Works
                | HookEvent::ToolRan
                | HookEvent::Ends
                | HookEvent::Chat
                | HookEvent::Usage
        )
    }

    /// What it says of the agent waiting for the user, if anything.
    pub fn waiting(self) -> Option<bool> {
        match self {
            HookEvent::Waits => Some(true),
            HookEvent::Works | HookEvent::ToolAhead => Some(false),
            _ => None,
        }
    }

    /// Whether a question about the call was settled in the agent.
    pub fn answered_in_agent(self) -> bool {
        matches!(self, HookEvent::ToolRan | HookEvent::ToolSettled)
    }
}

pub trait Adapter: Send + Sync {
    fn integration(&self) -> Integration;

    /// What its hook `event` means (see [`HookEvent`]).
    fn hook_event(&self, _event: &str) -> HookEvent {
        HookEvent::Other
    }

    /// The hook event through which the agent asks its questions when its
    /// session was not wired by lulu (a configured program that runs `lulu
    /// hook <agent>` itself); `None`: it asks none there.
    fn asks_through(&self) -> Option<&'static str> {
        None
    }

    /// The shape of its file tool `tool`, for the edit review; `None`: not
    /// a file change lulu can show.
    fn file_tool(&self, _tool: &str) -> Option<crate::edit_review::Shape> {
        None
    }

    /// It runs a changed input given with its allow (the user's edited
    /// version of a file change).
    fn takes_edited_input(&self) -> bool {
        false
    }

    /// Its hook's errors are best kept off stderr, which it would read as
    /// the hook's answer when stdout is empty.
    fn reads_stderr(&self) -> bool {
        false
    }

    /// Wire a session to lulu (hooks, flags, files in lulu's state dir).
    /// Blocking (may write files): call off the async runtime.
    fn wire(&self, _ctx: &WireContext<'_>) -> std::io::Result<Wiring> {
        Ok(Wiring::default())
    }

    /// A tool the agent runs without asking anyone in its default mode
    /// (reading, planning): when lulu answers for its dialog (see
    /// [`Wiring::asks_through`]), no rule deciding, it is allowed without a
    /// question, as the agent itself would.
    fn asks_no_one(&self, _tool: &str) -> bool {
        false
    }

    /// The version of the CLI this adapter was proven with (the pin in
    /// `scripts/install-agents`), and what of it lulu relies on, which may
    /// differ in another version.
    fn proven_with(&self) -> Option<(&'static str, &'static str)> {
        None
    }

    /// The argument that makes the CLI print its version.
    fn version_flag(&self) -> Option<&'static str> {
        Some("--version")
    }

    /// The format of its transcript, where its usage is read from: the file
    /// its hooks point to (`transcript_path`), or what
    /// [`Adapter::transcript_search`] finds.
    fn transcript(&self) -> Option<Format> {
        None
    }

    /// How to find the transcript of a session started in `cwd` with `env`
    /// (on top of lulu's own), for an agent whose hooks do not say.
    fn transcript_search(
        &self,
        _cwd: &Path,
        _env: &[(String, String)],
        _resumed: Option<&str>,
    ) -> Option<TranscriptSearch> {
        None
    }

    /// The argv that resumes the agent's conversation `id` (the
    /// [`crate::model::SessionRecord::conversation`] it revealed), put
    /// right after its command; `None`: it cannot.
    fn resume_args(&self, _id: &str) -> Option<Vec<String>> {
        None
    }

    /// The hook events `lulu hook <agent>` takes to the host; any other
    /// gets no opinion without asking.
    fn hook_events(&self) -> &'static [&'static str] {
        &[]
    }

    /// The decision JSON the agent reads from its hook `event` for the
    /// host's `reply`; `None`: no opinion (its own flow goes on).
    fn render_decision(&self, _event: &str, _reply: &crate::hook::HookReply) -> Option<String> {
        None
    }

    /// What its hook prints for `event` when there is no decision (the
    /// host unreachable, no answer, `ask`): nothing, unless no opinion
    /// would let a tool run unasked.
    fn undecided(&self, _event: &str) -> Option<String> {
        None
    }

    /// Where the agent keeps its own state (settings, credentials,
    /// conversations), which a sandboxed session may write; `home` is the
    /// session's `$HOME`, `env` its own environment on top of lulu's. A
    /// path with no extension is a directory, made if missing.
    fn state_paths(&self, _home: &Path, _env: &[(String, String)]) -> Vec<PathBuf> {
        Vec::new()
    }

    /// What its screen shows when it waits for the user and when it works
    /// (see [`crate::screen::status`]); none: its screen is not read.
    fn screen_signs(&self) -> Signs {
        Signs::default()
    }
}

/// Where to look for a session's transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscriptSearch {
    /// Gemini's chat files: `dir` is its `~/.gemini`, `cwd` the session's;
    /// `resumed`: the conversation being resumed, whose file gemini appends
    /// to (while it also begins a new, empty one).
    Gemini {
        dir: PathBuf,
        cwd: PathBuf,
        resumed: Option<String>,
    },
}

impl TranscriptSearch {
    /// The transcript, once the agent has begun one after `since`. Blocking
    /// (reads the file system): call it off the async runtime.
    pub fn find(&self, since: SystemTime) -> Option<PathBuf> {
        match self {
            TranscriptSearch::Gemini { dir, cwd, resumed } => match resumed {
                Some(id) => gemini::find_conversation(dir, cwd, id),
                None => gemini::find_chat(dir, cwd, since),
            },
        }
    }
}

/// Hooks run through a shell; quote the binary's path for it.
fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"))
}

/// The change a tool call makes to a file, if its adapter can show it.
pub fn file_change(
    adapter: &dyn Adapter,
    tool: &str,
    input: &serde_json::Value,
) -> Option<crate::edit_review::FileChange> {
    crate::edit_review::FileChange::of(adapter.file_tool(tool)?, input)
}

/// The adapter of a session: its agent's, or for an ACP session, ACP's.
pub fn for_session(agent: &str, kind: crate::model::SessionKind) -> &'static dyn Adapter {
    match kind {
        crate::model::SessionKind::Acp => &Acp,
        crate::model::SessionKind::Terminal => for_agent(agent),
    }
}

/// The adapter for an agent name.
pub fn for_agent(name: &str) -> &'static dyn Adapter {
    match name {
        "claude" => &Claude,
        "codex" => &Codex,
        "gemini" => &Gemini,
        "shell" => &Shell,
        // The events of every ACP session (`lulu acp` speaks as this).
        "acp" => &Acp,
        _ => &Generic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_has_an_adapter_and_what_each_is_wired_for() {
        let wired = |name: &str| for_agent(name).integration();
        for name in ["claude", "codex", "gemini"] {
            assert_eq!(
                wired(name),
                Integration {
                    approvals: true,
                    cost: true,
                    attention: true
                },
                "{name}"
            );
        }
        for name in ["shell", "aider"] {
            assert_eq!(
                wired(name),
                Integration {
                    approvals: false,
                    cost: false,
                    attention: false
                },
                "{name}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let ctx = WireContext {
            session_dir: dir.path(),
            exe: Path::new("/usr/bin/lulu"),
            approval_timeout_secs: 600,
            env: &[],
            user_args: &[],
        };
        assert_eq!(for_agent("aider").wire(&ctx).unwrap(), Wiring::default());
        let wiring = for_agent("claude").wire(&ctx).unwrap();
        assert_eq!(wiring.args[0], "--settings");
        assert!(Path::new(&wiring.args[1]).exists());
        assert_eq!(wiring.asks_through, Some("PermissionRequest"));
        assert_eq!(for_agent("shell").version_flag(), None);
    }

    /// A fourth agent with hooks is its adapter alone (plus its line in
    /// `for_agent` and the defaults): what its events mean, how it asks,
    /// which of its tools change files. Nothing outside `adapter/` learns
    /// its names; the supervisor acts on the meanings.
    #[test]
    fn a_made_up_agent_is_described_by_its_adapter_alone() {
        struct Koda;
        impl Adapter for Koda {
            fn integration(&self) -> Integration {
                Integration {
                    approvals: true,
                    cost: false,
                    attention: true,
                }
            }
            fn hook_event(&self, event: &str) -> HookEvent {
                match event {
                    "koda.idle" => HookEvent::Waits,
                    "koda.turn" => HookEvent::Works,
                    "koda.tool" => HookEvent::ToolAhead,
                    "koda.ran" => HookEvent::ToolRan,
                    _ => HookEvent::Other,
                }
            }
            fn asks_through(&self) -> Option<&'static str> {
                Some("koda.ask")
            }
            fn file_tool(&self, tool: &str) -> Option<crate::edit_review::Shape> {
                (tool == "put").then_some(crate::edit_review::Shape::Write)
            }
            fn takes_edited_input(&self) -> bool {
                true
            }
        }
        let koda: &dyn Adapter = &Koda;
        let idle = koda.hook_event("koda.idle");
        assert!(idle.nothing_to_judge() && idle.waiting() == Some(true));
        let tool = koda.hook_event("koda.tool");
        assert!(!tool.nothing_to_judge() && tool.waiting() == Some(false));
        assert!(koda.hook_event("koda.ran").answered_in_agent());
        assert_eq!(koda.hook_event("koda.ask"), HookEvent::Other, "its question is judged");
        let input = serde_json::json!({"file_path": "a.txt", "content": "new\n"});
        let shape = koda.file_tool("put").unwrap();
        let change = crate::edit_review::FileChange::of(shape, &input).unwrap();
        assert_eq!(change.apply(Some("old\n")).unwrap(), "new\n");
        let edited = crate::edit_review::accepted_input(shape, &input, Some("old\n"), "mine\n")
            .unwrap()
            .unwrap();
        assert_eq!(edited["content"], "mine\n");
    }
}

//! One tool call as an agent's hook reports it, and the parts the rules
//! judge it by: the shell commands in it (parsed, `shell.rs`) and every
//! path it names (resolved, `paths.rs`).

use std::path::Path;

use super::*;

/// One tool call as an agent's hook reports it.
#[derive(Debug, Clone)]
pub struct ToolCall<'a> {
    pub agent: &'a str,
    pub tool: &'a str,
    pub input: &'a serde_json::Value,
    /// Where the agent runs (the hook's `cwd`).
    pub cwd: &'a Path,
    /// The session's root: its worktree, or its cwd.
    pub root: &'a Path,
}

/// One thing a call does, judged on its own: a simple command of its shell
/// command, one of the files it names, or (for other tools) the call itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Command(shell::Simple),
    Path(Resolved),
    Whole,
}

/// What a call does, as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parts {
    pub parts: Vec<Part>,
    /// Why no rule may allow the call (from the shell analysis).
    pub doubt: Option<String>,
}

impl Parts {
    /// Does every file the call names lead inside the session, with
    /// nothing in doubt? (What an agent's own unasked tools, reading and
    /// planning, may touch when lulu answers for it.)
    pub fn stay_inside(&self) -> bool {
        self.doubt.is_none()
            && self
                .parts
                .iter()
                .all(|part| matches!(part, Part::Whole | Part::Path(Resolved::Inside(_))))
    }

    /// Why a file the call names is one no glob vouches for, if one is.
    pub fn path_doubt(&self) -> Option<String> {
        self.parts.iter().find_map(|part| match part {
            Part::Path(Resolved::Doubt { path, why }) => Some(format!("{}: {why}", path.display())),
            _ => None,
        })
    }
}

/// A tool's shell command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Script(String),
    Argv(Vec<String>),
}

impl ToolCall<'_> {
    /// The shell command, if the tool runs one: a string, or an argv list
    /// (codex's `shell`).
    pub fn command(&self) -> Option<Command> {
        match self.input.get("command")? {
            serde_json::Value::String(text) => Some(Command::Script(text.clone())),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(Command::Argv),
            _ => None,
        }
    }

    /// The directory a command tool runs in: the agent's, or the one its
    /// input names, resolved; `Err` (why) when that one is not a plain
    /// directory inside the session.
    fn run_dir(&self) -> Result<std::path::PathBuf, String> {
        let Some(raw) = RUN_DIR_KEYS.iter().find_map(|key| self.input.get(*key)) else {
            return Ok(self.cwd.to_path_buf());
        };
        let raw = raw
            .as_str()
            .ok_or("it names its directory in a shape lulu does not read")?;
        match paths::resolve(raw, self.cwd, self.root) {
            Resolved::Inside(rel) => Ok(self.root.join(rel)),
            Resolved::Outside(abs) => Err(format!("it runs in {} outside the session", abs.display())),
            Resolved::Doubt { path, why } => Err(format!("it runs in {}: {why}", path.display())),
        }
    }

    /// Does the input name files in patterns lulu does not resolve (a
    /// glob's `pattern`, `read_many_files`' `include`)? Then it cannot be
    /// said to stay inside the session.
    pub fn has_patterns(&self) -> bool {
        PATTERN_KEYS.iter().any(|key| self.input.get(*key).is_some())
    }

    pub fn raw_path(&self) -> Option<&str> {
        file_path_of(self.input)
    }

    /// Split the call into what the rules judge.
    pub fn parts(&self) -> Parts {
        if let Some(command) = self.command() {
            // A tool may run its command elsewhere (Gemini's `dir_path`,
            // Codex's `workdir`): judged there, which must be inside.
            let (cwd, elsewhere) = match self.run_dir() {
                Ok(dir) => (dir, None),
                Err(why) => (self.cwd.to_path_buf(), Some(why)),
            };
            let ctx = shell::Context {
                cwd: &cwd,
                root: self.root,
            };
            let analysis = match &command {
                // A command string runs in the agent's shell: bash, or zsh
                // for a zsh user's Claude Code.
                Command::Script(text) => shell::analyze(text, &ctx, shell::Dialect::BashOrZsh),
                Command::Argv(argv) => shell::analyze_argv(argv, &ctx),
            };
            let mut parts: Vec<Part> = analysis.commands.into_iter().map(Part::Command).collect();
            let mut doubt = elsewhere.or(analysis.doubt);
            if parts.is_empty() {
                parts.push(Part::Whole);
                doubt.get_or_insert_with(|| "it runs no command lulu can see".into());
            }
            return Parts { parts, doubt };
        }
        let files = file_paths_of(self.input);
        if !files.is_empty() {
            let mut parts = Parts {
                parts: files
                    .iter()
                    .map(|raw| Part::Path(paths::resolve(raw, self.cwd, self.root)))
                    .collect(),
                doubt: None,
            };
            parts.doubt = parts.path_doubt();
            return parts;
        }
        // A patch whose files lulu could not read is not one it vouches for.
        let unread_patch = ["patch", "input"].iter().any(|key| {
            self.input
                .get(*key)
                .and_then(|p| p.as_str())
                .is_some_and(|p| p.contains("***"))
        });
        Parts {
            parts: vec![Part::Whole],
            doubt: unread_patch.then(|| "a patch whose files lulu cannot read".to_string()),
        }
    }
}

/// Keys that name the directory a command runs in.
const RUN_DIR_KEYS: [&str; 4] = ["dir_path", "workdir", "cwd", "directory"];
/// Keys that name files by a pattern.
const PATTERN_KEYS: [&str; 4] = ["pattern", "include", "exclude", "glob"];

/// Keys that name one file.
const PATH_KEYS: [&str; 5] = ["file_path", "path", "notebook_path", "absolute_path", "dir_path"];

/// Is `key` one that names files (kept whole wherever a call is kept)?
pub fn is_path_key(key: &str) -> bool {
    PATH_KEYS.contains(&key) || matches!(key, "paths" | "file_paths" | "patch" | "input")
}

/// The file a tool touches, if any (`Write`, `Edit`, `Read`,
/// `NotebookEdit` and friends name it in one of these keys).
pub fn file_path_of(input: &serde_json::Value) -> Option<&str> {
    PATH_KEYS
        .iter()
        .find_map(|key| input.get(*key).and_then(|p| p.as_str()))
}

/// Every file a tool names: the single-path keys, lists of paths (`paths`,
/// `file_paths`), and the files of a codex-style patch (`*** Update File:`).
pub fn file_paths_of(input: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = PATH_KEYS
        .iter()
        .filter_map(|key| input.get(*key).and_then(|p| p.as_str()).map(str::to_string))
        .collect();
    for key in ["paths", "file_paths"] {
        if let Some(list) = input.get(key).and_then(|l| l.as_array()) {
            out.extend(list.iter().filter_map(|p| p.as_str().map(str::to_string)));
        }
    }
    for key in ["patch", "input"] {
        if let Some(patch) = input.get(key).and_then(|p| p.as_str()) {
            out.extend(patch.lines().filter_map(|line| {
                [
                    "*** Add File: ",
                    "*** Update File: ",
                    "*** Delete File: ",
                    "*** Move to: ",
                ]
                .iter()
                // Codex trims each hunk header before reading it.
                .find_map(|prefix| line.trim().strip_prefix(prefix.trim_end()))
                .map(|path| path.trim().to_string())
            }));
        }
    }
    out
}

//! What a shell command really runs, as far as lulu can vouch for it.
//!
//! A rule's `command` regex over the whole string cannot see shell
//! structure: `ls && rm -rf ~` starts with `ls`. So the command is parsed
//! with tree-sitter's Bash grammar into its simple commands (each one's
//! words, unquoted and re-joined with single spaces), and anything whose
//! effect the parse cannot show is a *doubt*: command or process
//! substitution, a program named by an expansion, `eval`/`exec`/`sh -c` and
//! other runners of hidden code, backgrounding, a redirection that writes
//! outside the session root, unparseable input. A doubt never blocks a deny;
//! it only keeps a command from being allowed.

use std::path::Path;
use std::sync::OnceLock;

use tree_sitter::{Language, Node, Parser};

use super::paths::{self, Resolved};

mod words;
use words::{collapse, is_assignment, unescape, unescape_double};

/// Longer commands are not parsed: they are never allowed by a rule.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;
/// Deeper nesting is not walked (and is a doubt).
const MAX_DEPTH: usize = 200;

/// The parse of one shell command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// Each simple command, in source order, as its words re-joined with
    /// single spaces (`FOO=1 'git' status` is `FOO=1 git status`).
    pub commands: Vec<String>,
    /// Why no rule may allow this command, if the analysis cannot vouch
    /// for it; the first reason found.
    pub doubt: Option<String>,
}

/// Where the command runs: relative redirection targets resolve against
/// `cwd`; a write must stay inside `root`.
pub struct Context<'a> {
    pub cwd: &'a Path,
    pub root: &'a Path,
}

/// Programs that run code the analysis cannot see (a string, a file, stdin
/// or another command line): never vouched for, whatever their arguments.
const RUNNERS: &[&str] = &[
    "eval", "exec", "source", ".", "builtin", "command", "xargs", "env", "sudo", "doas", "su", "nohup", "setsid",
    "timeout", "nice", "ionice", "time", "stdbuf", "chroot", "unshare", "nsenter", "flock", "watch", "parallel",
    "script", "trap", "sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "csh", "tcsh", "busybox",
];
/// Interpreters that take code as an argument with one of these flags.
const INLINE_CODE: &[(&str, &[&str])] = &[
    ("python", &["-c"]),
    ("python3", &["-c"]),
    ("python2", &["-c"]),
    ("node", &["-e", "--eval", "-p", "--print"]),
    ("perl", &["-e", "-E"]),
    ("ruby", &["-e"]),
    ("php", &["-r"]),
    ("lua", &["-e"]),
    ("awk", &["system"]),
    (
        "find",
        &[
            "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprintf", "-fls",
        ],
    ),
    ("git", &["-c", "--exec-path", "--config-env"]),
];
/// Builtins that change the directory relative paths resolve against.
const CHANGES_DIR: &[&str] = &["cd", "pushd", "popd"];
/// Targets a redirection may write without leaving the session.
const HARMLESS_TARGETS: &[&str] = &["/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"];

fn language() -> &'static Language {
    static LANGUAGE: OnceLock<Language> = OnceLock::new();
    LANGUAGE.get_or_init(|| tree_sitter_bash::LANGUAGE.into())
}

pub fn analyze(source: &str, ctx: &Context<'_>) -> Analysis {
    if source.len() > MAX_COMMAND_BYTES {
        return Analysis {
            commands: Vec::new(),
            doubt: Some(format!("longer than {MAX_COMMAND_BYTES} bytes")),
        };
    }
    // tree-sitter-bash 0.25's scanner passes a lookahead codepoint to C's
    // `isdigit` and friends, which read out of bounds (and crash) for one
    // past 255. Non-ASCII characters are only ever word characters to a
    // shell, so each of their bytes is parsed as a plain letter: the tree
    // has the same shape and the same byte offsets, and words are read back
    // from the real source.
    let ascii: Vec<u8> = source.bytes().map(|b| if b.is_ascii() { b } else { b'a' }).collect();
    let mut parser = Parser::new();
    let tree = parser
        .set_language(language())
        .ok()
        .and_then(|()| parser.parse(&ascii, None));
    let Some(tree) = tree else {
        return Analysis {
            commands: Vec::new(),
            doubt: Some("the shell parser failed".into()),
        };
    };
    let mut walk = Walk {
        src: source.as_bytes(),
        ctx,
        commands: Vec::new(),
        doubt: None,
        changes_dir: false,
        relative_writes: false,
    };
    let root = tree.root_node();
    if root.has_error() {
        walk.doubt("it does not parse as a shell command");
    }
    walk.node(root, 0);
    if walk.changes_dir && walk.relative_writes {
        walk.doubt("it changes directory and then writes to a relative path");
    }
    Analysis {
        commands: walk.commands,
        doubt: walk.doubt,
    }
}

/// An argv run without a shell (codex's `shell` tool passes a list): one
/// simple command, unless it is itself `sh -c <script>`, which is parsed.
pub fn analyze_argv(argv: &[String], ctx: &Context<'_>) -> Analysis {
    if let [shell, flag, script] = argv
        && is_shell(shell)
        && matches!(flag.as_str(), "-c" | "-lc" | "-ic")
    {
        return analyze(script, ctx);
    }
    let mut walk = Walk {
        src: b"",
        ctx,
        commands: Vec::new(),
        doubt: None,
        changes_dir: false,
        relative_writes: false,
    };
    walk.simple(argv.to_vec());
    Analysis {
        commands: walk.commands,
        doubt: walk.doubt,
    }
}

fn is_shell(program: &str) -> bool {
    let name = program.rsplit('/').next().unwrap_or(program);
    ["sh", "bash", "zsh", "dash", "ksh"].contains(&name)
}

struct Walk<'a> {
    src: &'a [u8],
    ctx: &'a Context<'a>,
    commands: Vec<String>,
    doubt: Option<String>,
    changes_dir: bool,
    relative_writes: bool,
}

impl Walk<'_> {
    fn doubt(&mut self, why: impl Into<String>) {
        if self.doubt.is_none() {
            self.doubt = Some(why.into());
        }
    }

    fn text(&self, node: Node<'_>) -> String {
        String::from_utf8_lossy(&self.src[node.byte_range()]).into_owned()
    }

    /// Every node is visited: simple commands are collected wherever they
    /// are (inside loops, functions, substitutions), so a deny rule sees
    /// them all even where the whole is in doubt.
    fn node(&mut self, node: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            self.doubt("it is nested too deeply");
            return;
        }
        match node.kind() {
            "command" => self.command(node, depth),
            // `PATH=/tmp/x; ls`: an assignment on its own changes what later
            // commands run, so it is a command of its own to be allowed, as
            // are `export`, `unset` and `[[ ... ]]`.
            "declaration_command"
            | "unset_command"
            | "test_command"
            | "variable_assignment"
            | "variable_assignments" => {
                self.commands.push(collapse(&self.text(node)));
                self.substitutions(node, depth + 1);
                return;
            }
            "command_substitution" => self.doubt("it runs a command substitution"),
            "process_substitution" => self.doubt("it runs a process substitution"),
            "function_definition" => self.doubt("it defines a function"),
            "file_redirect" => self.redirect(node),
            "heredoc_redirect" | "herestring_redirect" => {}
            "ERROR" => self.doubt("it does not parse as a shell command"),
            "&" if node.parent().is_some_and(|p| !matches!(p.kind(), "file_redirect")) => {
                self.doubt("it runs a command in the background");
            }
            "|&" | "coproc" => self.doubt("it runs a coprocess or pipes stderr"),
            _ => {}
        }
        if node.is_missing() {
            self.doubt("it does not parse as a shell command");
        }
        if matches!(node.kind(), "command" | "file_redirect") {
            return;
        }
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            self.node(child, depth + 1);
        }
    }

    fn command(&mut self, node: Node<'_>, depth: usize) {
        let mut words = Vec::new();
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            match child.kind() {
                "variable_assignment" => words.push(collapse(&self.text(child))),
                "file_redirect" => self.redirect(child),
                "herestring_redirect" | "heredoc_redirect" => {}
                "command_name" => {
                    let name = self.word(child);
                    if name.expanded {
                        self.doubt("the program it runs is named by an expansion");
                    }
                    words.push(name.text);
                }
                _ => {
                    let word = self.word(child);
                    words.push(word.text);
                }
            }
            if child.kind() != "file_redirect" {
                self.substitutions(child, depth + 1);
            }
        }
        self.simple(words);
    }

    /// The substitutions inside a word, walked as programs of their own.
    fn substitutions(&mut self, node: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            self.doubt("it is nested too deeply");
            return;
        }
        if matches!(node.kind(), "command_substitution" | "process_substitution") {
            self.node(node, depth);
            return;
        }
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            self.substitutions(child, depth + 1);
        }
    }

    /// Judge one simple command's words, then keep it.
    fn simple(&mut self, words: Vec<String>) {
        let program_at = words.iter().position(|w| !is_assignment(w));
        if let Some(at) = program_at {
            let program = words[at].rsplit('/').next().unwrap_or(&words[at]).to_string();
            let args = &words[at + 1..];
            if RUNNERS.contains(&program.as_str()) {
                self.doubt(format!("`{program}` runs code the analysis cannot see"));
            }
            if let Some((_, flags)) = INLINE_CODE.iter().find(|(name, _)| *name == program)
                && args
                    .iter()
                    .any(|a| flags.iter().any(|f| a == f || a.starts_with(&format!("{f}="))))
            {
                self.doubt(format!("`{program}` is given code or an action to run"));
            }
            if program == "awk" && args.iter().any(|a| a.contains("system") || a.contains('|')) {
                self.doubt("`awk` is given code that runs commands");
            }
            if CHANGES_DIR.contains(&program.as_str()) {
                self.changes_dir = true;
            }
            if program.chars().any(|c| matches!(c, '*' | '?' | '[')) {
                self.doubt("the program it runs is a glob pattern");
            }
        }
        let text = words.join(" ");
        if !text.is_empty() {
            self.commands.push(text);
        }
    }

    /// A redirection that writes must stay inside the session root.
    fn redirect(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
        let operator = children
            .iter()
            .find(|c| !c.is_named())
            .map(|c| self.text(*c))
            .unwrap_or_default();
        let writes = operator.contains('>');
        let Some(target) = node.child_by_field_name("destination") else {
            return;
        };
        self.substitutions(target, 1);
        if !writes {
            return;
        }
        let word = self.word(target);
        // `>&2`, `2>&1`, `>&-`: duplicating or closing descriptors.
        if operator.ends_with('&') && (word.text.chars().all(|c| c.is_ascii_digit()) || word.text == "-") {
            return;
        }
        if word.expanded {
            self.doubt("it redirects output to a path named by an expansion");
            return;
        }
        if HARMLESS_TARGETS.contains(&word.text.as_str()) || word.text.starts_with("/dev/fd/") {
            return;
        }
        if !word.text.starts_with('/') && !word.text.starts_with('~') {
            self.relative_writes = true;
        }
        match paths::resolve(&word.text, self.ctx.cwd, self.ctx.root) {
            Resolved::Inside(_) => {}
            Resolved::Outside(abs) => {
                self.doubt(format!("it writes to {} outside the session", abs.display()));
            }
        }
    }

    /// A word as the shell would see it once quotes are removed; `expanded`
    /// when part of it is only known at run time.
    fn word(&self, node: Node<'_>) -> Word {
        match node.kind() {
            "word" | "number" => Word {
                text: unescape(&self.text(node)),
                expanded: false,
            },
            "raw_string" => {
                let raw = self.text(node);
                Word {
                    text: raw.trim_start_matches('\'').trim_end_matches('\'').to_string(),
                    expanded: false,
                }
            }
            "string" => {
                let mut expanded = false;
                let mut text = String::new();
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    match child.kind() {
                        "string_content" => text.push_str(&unescape_double(&self.text(child))),
                        _ => {
                            expanded = true;
                            text.push_str(&self.text(child));
                        }
                    }
                }
                // An empty `""` or content the grammar kept unnamed.
                if node.named_child_count() == 0 {
                    let raw = self.text(node);
                    text = unescape_double(raw.trim_start_matches('"').trim_end_matches('"'));
                }
                Word { text, expanded }
            }
            "concatenation" | "command_name" => {
                let mut out = Word {
                    text: String::new(),
                    expanded: false,
                };
                let mut cursor = node.walk();
                for child in node.children(&mut cursor) {
                    let part = self.word(child);
                    out.text.push_str(&part.text);
                    out.expanded |= part.expanded;
                }
                out
            }
            // `$x`, `${x}`, `$(...)`, `$((...))`, `$'...'`, `$"..."` and the rest.
            _ => Word {
                text: self.text(node),
                expanded: true,
            },
        }
    }
}

struct Word {
    text: String,
    expanded: bool,
}

#[cfg(test)]
mod tests;

//! What a shell command really runs, and whether lulu can vouch for it.
//!
//! The command is parsed with tree-sitter's Bash grammar and judged by a
//! positive grammar (`grammar.rs`): it may be allowed only when every node
//! of the parse is one of a short list of shapes whose effect the parse
//! shows completely — simple commands of literal words joined by `&&`,
//! `||`, `;`, `|` and newlines, plus redirections of one descriptor to one
//! literal path inside the session. Anything else (every expansion,
//! substitution, loop, assignment, function, subshell, unparsed byte) is a
//! *doubt*: the command can still be denied by a rule, never allowed.
//! Then each simple command's words are checked against the table of
//! options that make a program run code or write files (`programs.rs`).
//!
//! Every simple command found anywhere in the tree (inside substitutions,
//! loops, the words after a redirect) is still reported, so a deny rule
//! sees them all, even where the whole is in doubt.

use std::path::Path;
use std::sync::OnceLock;

use tree_sitter::{Language, Parser};

mod git;
mod grammar;
mod programs;
mod scripts;
mod words;

/// Longer commands are not parsed: they are never allowed by a rule.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// One simple command: its words as the program receives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simple {
    pub words: Vec<String>,
    /// The words as written, where that differs (`~` before the shell made
    /// it the home): a deny rule reads either.
    pub written: Option<Vec<String>>,
}

impl Simple {
    pub fn new(words: Vec<String>) -> Simple {
        Simple { words, written: None }
    }

    /// The words as written, joined.
    pub fn written_text(&self) -> Option<String> {
        self.written.as_ref().map(|w| w.join(" "))
    }

    /// The words joined with single spaces: what a `command` regex reads.
    pub fn text(&self) -> String {
        self.words.join(" ")
    }

    /// Would the joined text split back into other words? (A word holding
    /// a space, a tab, a newline or a quote.) A regex over the text cannot
    /// then tell `rm 'a b'` from `rm a b`.
    pub fn joins_ambiguously(&self) -> bool {
        self.words
            .iter()
            .any(|w| w.is_empty() || w.chars().any(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '\\')))
    }
}

/// The parse of one shell command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// Each simple command, in source order.
    pub commands: Vec<Simple>,
    /// Why no rule may allow this command, if the analysis cannot vouch
    /// for it; the first reason found.
    pub doubt: Option<String>,
}

impl Analysis {
    fn doubted(why: impl Into<String>) -> Analysis {
        Analysis {
            commands: Vec::new(),
            doubt: Some(why.into()),
        }
    }
}

/// Where the command runs: relative redirection targets resolve against
/// `cwd`; a redirection must stay inside `root`.
pub struct Context<'a> {
    pub cwd: &'a Path,
    pub root: &'a Path,
}

/// The shell that will read a script. Only the grammar's shapes that mean
/// the same to that shell are vouched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `bash -c`.
    Bash,
    /// `sh -c` / `dash -c` (POSIX; on Debian `sh` is dash): no `&>`.
    Posix,
    /// `zsh -c`: no `=word`, no unquoted `^` or `#` inside a word.
    Zsh,
    /// A tool's command string, run by the agent's shell, which may be
    /// bash or zsh: only what both read alike.
    BashOrZsh,
}

fn language() -> &'static Language {
    static LANGUAGE: OnceLock<Language> = OnceLock::new();
    LANGUAGE.get_or_init(|| tree_sitter_bash::LANGUAGE.into())
}

/// Judge a command string as `dialect` would run it.
pub fn analyze(source: &str, ctx: &Context<'_>, dialect: Dialect) -> Analysis {
    if source.len() > MAX_COMMAND_BYTES {
        return Analysis::doubted(format!("longer than {MAX_COMMAND_BYTES} bytes"));
    }
    if source.contains('\0') {
        return Analysis::doubted("it holds a NUL byte");
    }
    // A backslash-newline joins lines before the shell reads words, and
    // tree-sitter does not always join them where the shell does (inside
    // a word, after a newline, before a `#`): never vouched for.
    if source.contains("\\\n") || source.contains("\\\r\n") {
        return Analysis {
            doubt: Some("it continues a line with a backslash".into()),
            ..grammar_only(source, ctx, dialect)
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
        return Analysis::doubted("the shell parser failed");
    };
    grammar::judge(source.as_bytes(), tree.root_node(), ctx, dialect)
}

/// The commands a deny rule may still see in a command lulu will not
/// vouch for anyway (its doubt is the caller's).
fn grammar_only(source: &str, ctx: &Context<'_>, dialect: Dialect) -> Analysis {
    let joined = source.replace("\\\r\n", "").replace("\\\n", "");
    let mut parser = Parser::new();
    let ascii: Vec<u8> = joined.bytes().map(|b| if b.is_ascii() { b } else { b'a' }).collect();
    match parser
        .set_language(language())
        .ok()
        .and_then(|()| parser.parse(&ascii, None))
    {
        Some(tree) => grammar::judge(joined.as_bytes(), tree.root_node(), ctx, dialect),
        None => Analysis::doubted("the shell parser failed"),
    }
}

/// An argv run without a shell (codex passes a list): one simple command,
/// unless it is a known shell's `-c <script>`, which is judged as that
/// shell reads it.
pub fn analyze_argv(argv: &[String], ctx: &Context<'_>) -> Analysis {
    if let [shell, flag, script] = argv
        && matches!(flag.as_str(), "-c" | "-lc")
        && let Some(dialect) = dialect_of(shell)
    {
        return analyze(script, ctx, dialect);
    }
    let simple = Simple::new(argv.to_vec());
    let mut doubt = programs::table().doubt(&simple.words, ctx);
    if doubt.is_none() {
        doubt = grammar::changes_dir_outside(&simple.words, ctx);
    }
    Analysis {
        commands: vec![simple],
        doubt,
    }
}

/// The shells lulu knows how to read, by program name (a path is taken
/// only from the system's own directories: `./sh` is any program).
fn dialect_of(program: &str) -> Option<Dialect> {
    let name = match program.rsplit_once('/') {
        Some(("/bin" | "/usr/bin" | "/usr/local/bin", name)) => name,
        Some(_) => return None,
        None => program,
    };
    match name {
        "bash" => Some(Dialect::Bash),
        "sh" | "dash" => Some(Dialect::Posix),
        "zsh" => Some(Dialect::Zsh),
        _ => None,
    }
}

#[cfg(test)]
mod soup_tests;
#[cfg(test)]
mod tests;

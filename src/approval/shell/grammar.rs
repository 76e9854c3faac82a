//! The positive grammar: the parse shapes lulu can vouch for. A command may
//! be allowed only if every node of its parse is one of these:
//!
//! | shape                | nodes                                                        |
//! |----------------------|--------------------------------------------------------------|
//! | a script             | `program` of statements, `comment`                           |
//! | joined commands      | `list` (`&&`, `||`), `pipeline` (`|`), `;` and newlines     |
//! | a simple command     | `command`: `command_name` and argument words                 |
//! | a word               | `word` (escapes, no expansion), `raw_string` (`'…'`), `string` (`"…"` with no expansion), `number`, their `concatenation` |
//! | a redirection        | `redirected_statement` with `file_redirect`: `>` `>>` `<` `N>` (and `&>` `&>>` where the shell reads them) to one literal path inside the session or `/dev/null`; `N>&M`, `>&-` |
//! | input                | `heredoc_redirect` with a quoted delimiter and nothing after it; `herestring_redirect` of one literal word (bash, zsh) |
//!
//! Everything else is a doubt, named by what it is. On top of the shapes:
//! a glob may only be an argument whose first character is literal and not
//! `-` (so it cannot expand to an option), a brace expansion never, a
//! program never comes from a glob, `cd` only into the session, a
//! relative redirect never follows a `cd`, and a redirect never follows
//! (or runs beside, in a pipeline) a command that may add, remove or
//! replace a directory entry: a file is opened where it leads when the
//! redirect runs, and an earlier `git apply` or `ln` may have made a link
//! on its way. Each simple command's words are then read against the
//! program table.

use tree_sitter::Node;

use super::words::{self, Word};
use super::{Analysis, Context, Dialect, Simple, programs};

mod places;
mod redirect;
use places::CHANGES_DIR;
pub(super) use places::changes_dir_outside;
#[cfg(test)]
pub(super) use places::searches_cdpath;

/// Deeper nesting is not walked (and is a doubt).
const MAX_DEPTH: usize = 200;

pub(super) fn judge(src: &[u8], root: Node<'_>, ctx: &Context<'_>, dialect: Dialect) -> Analysis {
    let mut walk = Walk {
        src,
        ctx,
        dialect,
        commands: Vec::new(),
        doubt: None,
        changes_dir: false,
        relative_redirect: false,
        tree_changed: false,
    };
    if root.has_error() {
        walk.doubt("it does not parse as a shell command");
    }
    // Bytes before the first node and after the last are blanks too.
    walk.gap(0, root.start_byte());
    walk.gap(root.end_byte(), src.len());
    walk.node(root, 0);
    if walk.changes_dir && walk.relative_redirect {
        walk.doubt("it changes directory and then redirects to a relative path");
    }
    Analysis {
        commands: walk.commands,
        doubt: walk.doubt,
    }
}

struct Walk<'a> {
    src: &'a [u8],
    ctx: &'a Context<'a>,
    dialect: Dialect,
    commands: Vec<Simple>,
    doubt: Option<String>,
    changes_dir: bool,
    relative_redirect: bool,
    /// A command that may have changed the file tree has run before this
    /// point, or runs beside it in the pipeline being walked.
    tree_changed: bool,
}

impl Walk<'_> {
    fn doubt(&mut self, why: impl Into<String>) {
        if self.doubt.is_none() {
            self.doubt = Some(why.into());
        }
    }

    /// Text between two nodes must be blanks the shell skips: a byte the
    /// grammar left out of every node is one lulu cannot vouch for.
    fn gap(&mut self, from: usize, to: usize) {
        let between = self.src.get(from..to).unwrap_or_default();
        let blank = between
            .iter()
            .enumerate()
            .all(|(i, b)| matches!(b, b' ' | b'\t' | b'\n') || (*b == b'\\' && between.get(i + 1) == Some(&b'\n')));
        if !blank {
            self.doubt("part of it is text the parse did not place");
        }
    }

    fn raw(&self, node: Node<'_>) -> String {
        String::from_utf8_lossy(&self.src[node.byte_range()]).into_owned()
    }

    fn node(&mut self, node: Node<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            self.doubt("it is nested too deeply");
            return;
        }
        if node.is_missing() || node.is_error() {
            self.doubt("it does not parse as a shell command");
        }
        match node.kind() {
            "pipeline" => {
                // Its commands run at once: one's redirect may be opened
                // after another has changed the tree.
                let before = self.tree_changed;
                if !self.pipeline_leaves_tree(node) {
                    self.tree_changed = true;
                }
                self.joined(node, depth);
                self.tree_changed |= before;
            }
            "program" | "list" => self.joined(node, depth),
            // A `#` inside a word is no comment to the shell.
            "comment" => {
                let start = node.start_byte();
                if start > 0 && !self.src[start - 1].is_ascii_whitespace() {
                    self.doubt("a `#` the parse took for a comment is part of a word");
                }
            }
            "redirected_statement" => self.redirected(node, depth),
            "command" => self.command(node, depth),
            kind => {
                self.doubt(format!("it uses {}", describe(kind)));
                // Commands of their own that a deny rule may name.
                if matches!(kind, "declaration_command" | "unset_command" | "test_command") {
                    let words = self.raw(node).split_whitespace().map(str::to_string).collect();
                    self.commands.push(Simple::new(words));
                }
                self.inside(node, depth);
            }
        }
    }

    /// Walk every child (of a shape in doubt): a deny rule still sees the
    /// commands in it.
    fn inside(&mut self, node: Node<'_>, depth: usize) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            self.node(child, depth + 1);
        }
    }

    fn joined(&mut self, node: Node<'_>, depth: usize) {
        let mut cursor = node.walk();
        let mut end = node.start_byte();
        for child in node.children(&mut cursor) {
            self.gap(end, child.start_byte());
            end = child.end_byte();
            if child.is_named() {
                self.node(child, depth + 1);
            } else if !matches!(child.kind(), ";" | "&&" | "||" | "|") {
                self.doubt(format!("it uses `{}`", child.kind()));
            }
        }
        self.gap(end, node.end_byte());
    }

    fn redirected(&mut self, node: Node<'_>, depth: usize) {
        let mut cursor = node.walk();
        let mut body = None;
        let mut redirects = Vec::new();
        let mut end = node.start_byte();
        for child in node.children(&mut cursor) {
            self.gap(end, child.start_byte());
            // `{NAME}>file`: bash and zsh take the word before as a
            // variable to store the descriptor in (`{HOME}>x` sets HOME).
            let start = child.start_byte();
            if child.kind().ends_with("redirect")
                && start > node.start_byte()
                && start == end
                && self.src.get(start - 1) == Some(&b'}')
            {
                self.doubt("a `{name}` right before a redirection stores a descriptor in that variable");
            }
            end = child.end_byte();
            match child.kind() {
                "file_redirect" | "heredoc_redirect" | "herestring_redirect" => redirects.push(child),
                _ if child.is_named() && body.is_none() => body = Some(child),
                other => {
                    self.doubt(format!("it uses `{other}` around a redirection"));
                    self.node(child, depth + 1);
                }
            }
        }
        // A simple command's redirects are opened before it runs; the
        // parse also hangs `a && b > f`'s redirect on the whole list, and
        // there `f` is opened after `a` has run: judged after its body.
        let simple = body.is_none_or(|body| body.kind() == "command");
        if simple {
            for redirect in &redirects {
                self.redirect(*redirect, depth);
            }
        }
        match body {
            Some(body) => self.node(body, depth + 1),
            // zsh runs `cat` (NULLCMD) for a line of redirections alone.
            None if matches!(self.dialect, Dialect::Zsh | Dialect::BashOrZsh) => {
                self.doubt("a redirection with no command runs cat in zsh");
            }
            None => {}
        }
        if !simple {
            for redirect in &redirects {
                self.redirect(*redirect, depth);
            }
        }
    }

    fn command(&mut self, node: Node<'_>, depth: usize) {
        let mut simple = Vec::new();
        let mut written = Vec::new();
        let mut globbed = false;
        let mut cursor = node.walk();
        let mut end = None;
        for child in node.children(&mut cursor) {
            // Two words with nothing between them are one word to the
            // shell, whatever the grammar made of them.
            if end == Some(child.start_byte()) {
                self.doubt("its words run together where the parse splits them");
            }
            self.gap(end.unwrap_or(node.start_byte()), child.start_byte());
            end = Some(child.end_byte());
            match child.kind() {
                "command_name" => {
                    let (text, as_written) = self.program(child, depth);
                    simple.push(text);
                    written.push(as_written);
                }
                "file_redirect" | "heredoc_redirect" | "herestring_redirect" => self.redirect(child, depth),
                "variable_assignment" => {
                    self.doubt("it assigns a variable");
                    simple.push(self.raw(child));
                    written.push(self.raw(child));
                    self.inside(child, depth);
                }
                _ if child.is_named() => {
                    let (text, as_written, glob) = self.argument_word(child, depth);
                    globbed |= glob;
                    simple.push(text);
                    written.push(as_written);
                }
                other => self.doubt(format!("it uses `{other}`")),
            }
        }
        if globbed
            && simple
                .first()
                .is_some_and(|program| programs::table().reads_script(program))
        {
            self.doubt("a file name pattern could expand to a script (sed, awk)");
        }
        self.simple(simple, written);
    }

    /// The program a simple command runs, as the shell passes it and as it
    /// was written: a pattern, a word another shell reads otherwise or an
    /// expansion is in doubt.
    fn program(&mut self, child: Node<'_>, depth: usize) -> (String, String) {
        let word = match child.named_child(0) {
            Some(inner) if child.named_child_count() == 1 => self.whole_word(inner, depth),
            _ => None,
        };
        let Some((word, as_written)) = word else {
            self.doubt("the program it runs is named by an expansion");
            return (self.raw(child), self.raw(child));
        };
        if word.is_glob() {
            self.doubt("the program it runs is a file name pattern");
        }
        if word.is_brace_expansion() {
            self.doubt("the program it runs is a brace expansion (it becomes several words)");
        }
        if let Some(why) = word.dialect_doubt(self.dialect) {
            self.doubt(why);
        }
        (word.text(), as_written)
    }

    /// An argument as passed and as written, and whether it is a pattern.
    fn argument_word(&mut self, child: Node<'_>, depth: usize) -> (String, String, bool) {
        match self.whole_word(child, depth) {
            Some((word, as_written)) => {
                self.argument(&word);
                (word.text(), as_written, word.is_glob())
            }
            None => (self.raw(child), self.raw(child), false),
        }
    }

    /// An argument's own shape: globs that cannot become options, no brace
    /// expansion, nothing the dialect reads differently.
    fn argument(&mut self, word: &Word) {
        if word.is_glob() && !word.glob_is_anchored() {
            self.doubt("a file name pattern could expand to an option (start it with `./`)");
        }
        if word.is_brace_expansion() {
            self.doubt("it uses brace expansion");
        }
        if let Some(why) = word.dialect_doubt(self.dialect) {
            self.doubt(why);
        }
    }

    fn simple(&mut self, words: Vec<String>, written: Vec<String>) {
        if words.is_empty() {
            return;
        }
        if let Some(why) = programs::table().doubt(&words, self.ctx) {
            self.doubt(why);
        }
        if let Some(why) = changes_dir_outside(&words, self.ctx) {
            self.doubt(why);
        }
        if CHANGES_DIR.contains(&words[0].as_str()) {
            if self.changes_dir {
                self.doubt("it changes directory more than once");
            }
            self.changes_dir = true;
        } else if self.changes_dir && words[0].rsplit('/').next() == Some("git") {
            // Elsewhere, git may find a repository (a bare one the agent
            // wrote, say) whose config runs programs.
            self.doubt("it runs git after changing directory");
        }
        if !programs::leaves_tree(&words) {
            self.tree_changed = true;
        }
        let written = (written != words).then_some(written);
        self.commands.push(Simple { words, written });
    }

    /// A word of the shapes on the list, or `None` (and a doubt) for any
    /// other; commands inside it are still walked.
    fn word(&mut self, node: Node<'_>, depth: usize) -> Option<Word> {
        let read = match node.kind() {
            "word" | "number" => words::plain_word(&self.raw(node)),
            "raw_string" => {
                let raw = self.raw(node);
                raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')).map(|inner| {
                    let mut word = Word::default();
                    word.push_quoted(inner);
                    word
                })
            }
            "string" => self.string(node),
            "concatenation" => self.concatenation(node, depth),
            _ => None,
        };
        if read.is_none() {
            self.doubt(format!("it uses {}", describe(node.kind())));
            self.inside(node, depth);
        }
        read
    }

    /// A whole word (an argument, a program, a redirect target): its tilde
    /// expanded as the shell would.
    fn whole_word(&mut self, node: Node<'_>, depth: usize) -> Option<(Word, String)> {
        let word = self.word(node, depth)?;
        let written = word.text();
        match word.expand_tilde() {
            Some(word) => Some((word, written)),
            None => {
                self.doubt(format!("`{written}` is a home lulu does not know"));
                Some((Word::written(&written), written))
            }
        }
    }

    fn string(&self, node: Node<'_>) -> Option<Word> {
        let mut cursor = node.walk();
        let plain = node
            .children(&mut cursor)
            .all(|c| c.kind() == "string_content" || (!c.is_named() && c.kind() == "\""));
        let raw = self.raw(node);
        let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
        if !plain {
            return None;
        }
        let mut word = Word::default();
        word.push_quoted(&words::double_quoted(inner)?);
        Some(word)
    }

    fn concatenation(&mut self, node: Node<'_>, depth: usize) -> Option<Word> {
        let mut out = Word::default();
        let mut end = node.start_byte();
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
        let mut whole = true;
        for child in children {
            // Parts must touch: a gap is text the grammar did not show.
            if child.start_byte() != end {
                whole = false;
            }
            end = child.end_byte();
            match self.word(child, depth + 1) {
                Some(part) => out.append(part),
                None => whole = false,
            }
        }
        (whole && end == node.end_byte()).then_some(out)
    }
}

/// A node kind in words, for the question's "why".
fn describe(kind: &str) -> String {
    let what = match kind {
        "command_substitution" => "a command substitution",
        "process_substitution" => "a process substitution",
        "simple_expansion" | "expansion" => "a variable expansion",
        "arithmetic_expansion" => "arithmetic",
        "ansi_c_string" => "ANSI-C quoting ($'…')",
        "translated_string" => "a translated string ($\"…\")",
        "brace_expression" => "brace expansion",
        "variable_assignment" | "variable_assignments" => "an assignment",
        "declaration_command" => "a declaration",
        "unset_command" => "unset",
        "test_command" => "a test ([[ … ]])",
        "subshell" => "a subshell",
        "compound_statement" => "a command group",
        "function_definition" => "a function",
        "for_statement" | "c_style_for_statement" | "while_statement" | "until_statement" => "a loop",
        "if_statement" => "an if",
        "case_statement" => "a case",
        "negated_command" => "`!`",
        "ERROR" => "text that does not parse",
        other => return format!("`{other}`"),
    };
    what.to_string()
}

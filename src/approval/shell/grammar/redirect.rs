//! The positive grammar's redirections (see `grammar.rs`): one descriptor
//! to one literal path inside the session (or `/dev/null`), descriptor
//! duplication and closing, here-documents with a wholly quoted delimiter
//! and here-strings of one literal word. Anything else is a doubt.

use tree_sitter::Node;

use super::{Walk, describe};
use crate::approval::paths::{self, Resolved};
use crate::approval::shell::Dialect;

impl Walk<'_> {
    pub(super) fn redirect(&mut self, node: Node<'_>, depth: usize) {
        match node.kind() {
            "file_redirect" => self.file_redirect(node, depth),
            "heredoc_redirect" => self.heredoc(node, depth),
            _ => self.herestring(node, depth),
        }
    }

    fn file_redirect(&mut self, node: Node<'_>, depth: usize) {
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
        let mut end = node.start_byte();
        for child in &children {
            self.gap(end, child.start_byte());
            end = child.end_byte();
        }
        let operator = children.iter().find(|c| !c.is_named()).map(|c| c.kind()).unwrap_or("");
        let targets: Vec<Node<'_>> = children
            .iter()
            .filter(|c| c.is_named() && c.kind() != "file_descriptor")
            .copied()
            .collect();
        if targets.len() > 1 {
            self.doubt("it has words after a redirection");
            for extra in &targets[1..] {
                self.word(*extra, depth + 1);
            }
        }
        let both = matches!(self.dialect, Dialect::Bash | Dialect::Zsh | Dialect::BashOrZsh);
        match (operator, targets.first()) {
            (">&-" | "<&-", None) => {}
            (">&" | "<&", Some(target))
                if target.kind() == "number" && self.raw(*target).bytes().all(|b| b.is_ascii_digit()) => {}
            (">" | ">>" | "<", Some(target)) => self.target(*target, depth),
            ("&>" | "&>>", Some(target)) if both => self.target(*target, depth),
            (other, _) => self.doubt(format!("it uses the redirection `{other}`")),
        }
    }

    /// A redirection's file: one literal word, inside the session (or
    /// `/dev/null`), judged by where it really leads.
    fn target(&mut self, node: Node<'_>, depth: usize) {
        let Some((word, _)) = self.whole_word(node, depth + 1) else {
            return;
        };
        if word.is_glob() || word.is_brace_expansion() {
            self.doubt("it redirects to a file name pattern");
            return;
        }
        if let Some(why) = word.dialect_doubt(self.dialect) {
            self.doubt(why);
            return;
        }
        let text = word.text();
        let zsh = matches!(self.dialect, Dialect::Zsh | Dialect::BashOrZsh);
        if zsh && text.starts_with(['!', '|']) {
            self.doubt("`>!` and `>|` force a write in zsh");
            return;
        }
        if text == "/dev/null" {
            return;
        }
        if self.tree_changed {
            self.doubt(format!(
                "it redirects to {text} after (or beside) a command that may have changed where that leads"
            ));
            return;
        }
        if !text.starts_with('/') {
            self.relative_redirect = true;
        }
        match paths::resolve(&text, self.ctx.cwd, self.ctx.root) {
            Resolved::Inside(_) => {}
            Resolved::Outside(abs) => self.doubt(format!("it redirects to {} outside the session", abs.display())),
            Resolved::Doubt { why, .. } => self.doubt(format!("it redirects to {text}: {why}")),
        }
    }

    /// `<<'EOF'`: literal text in, nothing after it on its line. The
    /// delimiter is one plain word, wholly in single or double quotes, and
    /// the body ends where the shell ends it: the first line that is the
    /// delimiter (tree-sitter and the shell disagree on partly quoted
    /// delimiters and on `<<-`'s tabs, so those are doubts).
    fn heredoc(&mut self, node: Node<'_>, depth: usize) {
        let mut cursor = node.walk();
        let mut delimiter = None;
        for child in node.children(&mut cursor) {
            match child.kind() {
                "<<" => {}
                "<<-" => self.doubt("its here-document strips tabs (<<-)"),
                // `cat <<'EOF' > notes.txt`: the grammar hangs the
                // command's next redirection here.
                "file_redirect" => self.file_redirect(child, depth),
                "heredoc_start" => {
                    let raw = self.raw(child);
                    let quoted = raw
                        .strip_prefix('\'')
                        .and_then(|r| r.strip_suffix('\''))
                        .or_else(|| raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')));
                    match quoted {
                        Some(word)
                            if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                        {
                            delimiter = Some(word.to_string());
                        }
                        _ => self.doubt("its here-document's delimiter is not one quoted word (<<'EOF')"),
                    }
                }
                "heredoc_body" => {
                    if child.named_child_count() > 0 {
                        self.doubt("its here-document expands");
                        self.inside(child, depth);
                    }
                    let body = self.raw(child);
                    if let Some(word) = &delimiter
                        && body.lines().any(|line| line == word)
                    {
                        self.doubt("its here-document ends before the parse thinks");
                    }
                }
                "heredoc_end" => {
                    if delimiter.as_deref() != Some(self.raw(child).as_str()) {
                        self.doubt("its here-document ends where the shell would not");
                    }
                }
                other => {
                    self.doubt(format!("it puts {} after a here-document", describe(other)));
                    self.node(child, depth + 1);
                }
            }
        }
    }

    fn herestring(&mut self, node: Node<'_>, depth: usize) {
        if self.dialect == Dialect::Posix {
            self.doubt("`<<<` is not read by sh");
        }
        let mut cursor = node.walk();
        let words: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        if words.len() != 1 {
            self.doubt("it has words after a here-string");
        }
        for word in words {
            self.word(word, depth + 1);
        }
    }
}

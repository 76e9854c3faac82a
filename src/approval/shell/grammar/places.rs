//! Where a script's commands run and where its redirects lead: `cd` (and
//! `pushd`, `popd`, zsh's `chdir`) only into the session, by where the
//! shell really goes (`$CDPATH`), and which commands leave the file tree's
//! shape as it was (see `grammar.rs`).

use tree_sitter::Node;

use super::Walk;
use crate::approval::paths::{self, Resolved};
use crate::approval::shell::{Context, programs};

/// Builtins that change the directory relative paths resolve against.
pub(super) const CHANGES_DIR: &[&str] = &["cd", "pushd", "popd", "chdir"];

/// `cd`, `pushd`, `popd` whose target is not a literal directory inside
/// the session: later commands would run somewhere lulu did not judge.
pub(in crate::approval::shell) fn changes_dir_outside(words: &[String], ctx: &Context<'_>) -> Option<String> {
    let program = words.first()?;
    if !CHANGES_DIR.contains(&program.as_str()) {
        return None;
    }
    let targets: Vec<&String> = words[1..].iter().filter(|w| !w.starts_with('-')).collect();
    let inside = match (program.as_str(), targets.as_slice()) {
        ("popd", _) | (_, []) => false,
        (_, [target]) if searches_cdpath(target, std::env::var_os("CDPATH").as_deref()) => false,
        (_, [target]) => matches!(paths::resolve(target, ctx.cwd, ctx.root), Resolved::Inside(_)),
        _ => false,
    };
    (!inside).then(|| format!("`{program}` leaves the session's directory (or goes where lulu cannot tell)"))
}

/// Whether the shells look `target` up in `$CDPATH` (set in the
/// environment the agent inherits) before the working directory: a
/// relative name that does not start with `.`.
pub(in crate::approval::shell) fn searches_cdpath(target: &str, cdpath: Option<&std::ffi::OsStr>) -> bool {
    let set = cdpath.is_some_and(|v| !v.is_empty());
    set && !target.starts_with('/') && !target.starts_with('.')
}

impl Walk<'_> {
    /// Whether every command of a pipeline is one that leaves the tree as
    /// it is, read from its words as written (a word in doubt is doubted
    /// when the command itself is walked).
    pub(super) fn pipeline_leaves_tree(&self, node: Node<'_>) -> bool {
        let mut cursor = node.walk();
        node.named_children(&mut cursor).all(|child| {
            let command = if child.kind() == "redirected_statement" {
                child.named_child(0)
            } else {
                Some(child)
            };
            command.filter(|c| c.kind() == "command").is_some_and(|command| {
                let mut cursor = command.walk();
                let words: Vec<String> = command
                    .named_children(&mut cursor)
                    .filter(|w| !w.kind().ends_with("redirect"))
                    .map(|w| self.raw(w))
                    .collect();
                programs::leaves_tree(&words)
            })
        })
    }
}

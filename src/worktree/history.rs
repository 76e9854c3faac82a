//! What a merge keeps and where it collides: the message a squash commit
//! carries (the session's own commit messages), the conflicting hunks of a
//! merge that cannot land (found without touching any checkout), and the
//! rebase of a session's branch onto its moved base, stopped at conflicts
//! for the user to resolve in its worktree.

use std::path::Path;

use serde::Serialize;

use super::WorktreeError;
use super::git::{Tree, git, git_at};

/// One conflicting hunk: where it starts in the session's version of the
/// file (its worktree's, or with markers in it while a rebase is stopped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    /// Relative to the repository.
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// Lines the other side has there.
    pub theirs: usize,
}

/// The squash commit's message: the session's commit messages, oldest
/// first, under one summary line (a single commit keeps its own message).
pub fn squash_message(repo_dir: &Path, branch: &str, base: &str) -> Result<String, WorktreeError> {
    let log = git(
        repo_dir,
        ["log", "--reverse", "--format=%B%x00", &format!("{base}..{branch}")],
    )
    .output()?;
    let messages: Vec<&str> = log.split('\0').map(str::trim).filter(|m| !m.is_empty()).collect();
    Ok(match messages.as_slice() {
        [] => format!("Squash {branch}"),
        [one] => one.to_string(),
        [first, rest @ ..] => {
            let subject = first.lines().next().unwrap_or_default();
            let mut text = format!("{subject} (+{} more, squashed from {branch})\n", rest.len());
            for message in &messages {
                text.push('\n');
                for (i, line) in message.lines().enumerate() {
                    if !line.is_empty() {
                        text.push_str(if i == 0 { "* " } else { "  " });
                        text.push_str(line);
                    }
                    text.push('\n');
                }
            }
            text.trim_end().to_string()
        }
    })
}

/// The hunks where merging `branch` into `base` conflicts, at their lines
/// in `branch`'s version of each file. Nothing is checked out or written
/// but objects (`git merge-tree`).
pub fn conflict_hunks(repo_dir: &Path, branch: &str, base: &str) -> Result<Vec<Hunk>, WorktreeError> {
    let out = git(repo_dir, ["merge-tree", "--write-tree", "--name-only", branch, base]).output_allow_status(1)?;
    let mut lines = out.lines();
    let tree = lines.next().unwrap_or_default().trim().to_string();
    let mut hunks = Vec::new();
    // The conflicted names follow the tree, up to a blank line.
    for path in lines.take_while(|l| !l.is_empty()) {
        let merged = git(repo_dir, ["cat-file", "-p", &format!("{tree}:{path}")]).output()?;
        hunks.extend(marked_hunks(path, &merged, MarkerSide::Ours));
    }
    Ok(hunks)
}

/// Which side of the markers the file's own lines are.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MarkerSide {
    /// Numbered as in the "ours" version (lines of the other side are not).
    Ours,
    /// Numbered as the file with its markers is (a stopped rebase).
    Marked,
}

/// The conflict hunks of a file with conflict markers in it.
pub fn marked_hunks(path: &str, text: &str, side: MarkerSide) -> Vec<Hunk> {
    #[derive(PartialEq)]
    enum In {
        Outside,
        Ours,
        Ancestor,
        Theirs,
    }
    let (mut state, mut line, mut hunks) = (In::Outside, 0usize, Vec::<Hunk>::new());
    for (i, row) in text.lines().enumerate() {
        let marker = |m: &str| row.starts_with(m) && (row.len() == 7 || row.as_bytes()[7] == b' ');
        match state {
            In::Outside | In::Ours | In::Ancestor | In::Theirs if marker("<<<<<<<") => {
                let at = if side == MarkerSide::Marked { i + 1 } else { line + 1 };
                hunks.push(Hunk {
                    path: path.to_string(),
                    line: at,
                    theirs: 0,
                });
                state = In::Ours;
                continue;
            }
            In::Ours if marker("|||||||") => state = In::Ancestor,
            In::Ours | In::Ancestor if marker("=======") => state = In::Theirs,
            In::Theirs if marker(">>>>>>>") => state = In::Outside,
            In::Outside | In::Ours => line += 1,
            In::Theirs => {
                if let Some(hunk) = hunks.last_mut() {
                    hunk.theirs += 1;
                }
            }
            In::Ancestor => {}
        }
    }
    hunks
}

/// A file the session changed against where it branched from its base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// Relative to the worktree.
    pub path: String,
    /// `A` added, `M` modified, `D` deleted, `R` renamed (to `path`).
    pub status: String,
    pub added: u64,
    pub removed: u64,
}

/// Everything the session changed, committed or not (untracked files
/// included), with line counts (a binary file counts none).
pub fn changed_files(tree: Tree<'_>, base: &str) -> Result<Vec<Changed>, WorktreeError> {
    let fork = git_at(tree, ["merge-base", base, "HEAD"]).output()?;
    let fork = fork.trim();
    let mut files = name_status(&diff_since(tree, fork, "--name-status")?);
    count_lines(&mut files, &diff_since(tree, fork, "--numstat")?);
    let untracked = git_at(tree, ["ls-files", "--others", "--exclude-standard", "-z"]).output()?;
    for name in untracked.split('\0').filter(|f| !f.is_empty()) {
        files.push(Changed {
            path: name.to_string(),
            status: "A".into(),
            added: lines_of(&tree.path.join(name)),
            removed: 0,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// `git diff FORMAT -z` of the worktree against `fork`, renames found, no
/// external diff or text conversion.
fn diff_since(tree: Tree<'_>, fork: &str, format: &str) -> Result<String, WorktreeError> {
    let args = [
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        format,
        "-z",
        "--find-renames",
        fork,
    ];
    Ok(git_at(tree, args).output()?)
}

/// The files of a `--name-status -z` listing (a rename by its new name).
fn name_status(listing: &str) -> Vec<Changed> {
    let mut files = Vec::new();
    let mut fields = listing.split('\0').filter(|f| !f.is_empty());
    while let Some(code) = fields.next() {
        let letter = code.chars().next().unwrap_or('M');
        if letter == 'R' || letter == 'C' {
            fields.next();
        }
        let Some(name) = fields.next() else { break };
        files.push(Changed {
            path: name.to_string(),
            status: letter.to_string(),
            added: 0,
            removed: 0,
        });
    }
    files
}

/// Lines added and removed per file, from a `--numstat -z` listing.
fn count_lines(files: &mut [Changed], numstat: &str) {
    let mut fields = numstat.split('\0').filter(|f| !f.is_empty());
    while let Some(entry) = fields.next() {
        let mut parts = entry.splitn(3, '\t');
        let (added, removed, name) = (parts.next(), parts.next(), parts.next().unwrap_or_default());
        // A rename: an empty name, then the old and the new one.
        let name = if name.is_empty() {
            fields.next();
            fields.next().unwrap_or_default()
        } else {
            name
        };
        if let Some(file) = files.iter_mut().find(|f| f.path == name) {
            file.added = added.and_then(|n| n.parse().ok()).unwrap_or(0);
            file.removed = removed.and_then(|n| n.parse().ok()).unwrap_or(0);
        }
    }
}

/// Most bytes of an untracked file read to count its lines.
const COUNT_AT_MOST: u64 = 8 << 20;

/// The lines of an untracked file: a regular file only (one that is not is
/// never opened: opening a FIFO lets its writer through; a link is not
/// followed out), judged again by what was opened, its first
/// [`COUNT_AT_MOST`] bytes.
fn lines_of(path: &std::path::Path) -> u64 {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file()) {
        return 0;
    }
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let Ok(file) = opened else { return 0 };
    if !file.metadata().is_ok_and(|m| m.file_type().is_file()) {
        return 0;
    }
    let mut bytes = Vec::new();
    let _ = file.take(COUNT_AT_MOST).read_to_end(&mut bytes);
    bytes.iter().filter(|&&c| c == b'\n').count() as u64
}

/// A file as it was where the session branched from its base; `None` when
/// it did not exist there (or is not text).
pub fn base_file(tree: Tree<'_>, base: &str, file: &str) -> Result<Option<String>, WorktreeError> {
    if file.is_empty() || file.starts_with('/') || file.split('/').any(|part| part == "..") {
        return Ok(None);
    }
    let fork = git_at(tree, ["merge-base", base, "HEAD"]).output()?;
    match git_at(tree, ["show", "--no-textconv", &format!("{}:{file}", fork.trim())]).output() {
        Ok(text) => Ok(Some(text)),
        Err(_) => Ok(None),
    }
}

/// How a rebase went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rebased {
    /// The branch now sits on its base; its new tip.
    Done(String),
    /// Stopped: resolve these in the worktree, then continue (or abort).
    Stopped(Vec<Hunk>),
}

/// Rebase the worktree's branch onto `base`; on conflict, stop there.
pub fn rebase(tree: Tree<'_>, base: &str) -> Result<Rebased, WorktreeError> {
    if super::is_dirty(tree)? {
        return Err(WorktreeError::WorktreeDirty(tree.path.display().to_string()));
    }
    if git_at(tree, ["rebase", "--quiet", base]).run().is_err() {
        return stopped(tree);
    }
    Ok(Rebased::Done(head(tree)?))
}

/// Go on with a stopped rebase once the conflicts are resolved (no markers
/// left in the conflicted files, which are then added for the user).
pub fn rebase_continue(tree: Tree<'_>) -> Result<Rebased, WorktreeError> {
    plain_rebase(tree)?;
    let conflicted = conflicted_files(tree)?;
    let left: Vec<Hunk> = conflicted
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(tree.path.join(file)).unwrap_or_default();
            marked_hunks(file, &text, MarkerSide::Marked)
        })
        .collect();
    if !left.is_empty() {
        return Err(WorktreeError::Unresolved(
            left.iter().map(|h| format!("{}:{}", h.path, h.line)).collect(),
        ));
    }
    if !conflicted.is_empty() {
        git_at(tree, ["add", "--"]).args(&conflicted).run()?;
    }
    if git_at(tree, ["rebase", "--continue"]).run().is_err() {
        return stopped(tree);
    }
    Ok(Rebased::Done(head(tree)?))
}

pub fn rebase_abort(tree: Tree<'_>) -> Result<(), WorktreeError> {
    git_at(tree, ["rebase", "--abort"]).run()?;
    Ok(())
}

/// The rebase under way is one lulu would have started: a merge-backend
/// rebase whose remaining steps are all `pick` (an `exec` line, a custom
/// strategy or an `am` rebase, which the agent can plant in the worktree's
/// git dir, would run a program when continued).
fn plain_rebase(tree: Tree<'_>) -> Result<(), WorktreeError> {
    let dir = tree.git_dir()?;
    let refuse = |why: &str| {
        Err(WorktreeError::ForeignRebase(format!(
            "{}: {why}; lulu will not continue it (look at it, then continue or abort it with git)",
            tree.path.display()
        )))
    };
    if dir.join("rebase-apply").exists() {
        return refuse("the rebase under way is not lulu's (git am)");
    }
    let merge = dir.join("rebase-merge");
    if let Ok(strategy) = std::fs::read_to_string(merge.join("strategy"))
        && !matches!(strategy.trim(), "ort" | "recursive" | "")
    {
        return refuse("the rebase under way uses a merge strategy of its own");
    }
    let todo = std::fs::read_to_string(merge.join("git-rebase-todo")).unwrap_or_default();
    let planted = todo
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .find(|line| !matches!(line.split_whitespace().next(), Some("pick" | "p")));
    if let Some(line) = planted {
        let step: String = line.chars().take(40).collect();
        return refuse(&format!("its remaining steps are not lulu's ({step})"));
    }
    Ok(())
}

fn stopped(tree: Tree<'_>) -> Result<Rebased, WorktreeError> {
    let files = conflicted_files(tree)?;
    if files.is_empty() {
        // Not a conflict: something else stopped it; put everything back.
        let _ = git_at(tree, ["rebase", "--abort"]).run();
        return Err(WorktreeError::RebaseFailed(tree.path.display().to_string()));
    }
    let hunks = files
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(tree.path.join(file)).unwrap_or_default();
            marked_hunks(file, &text, MarkerSide::Marked)
        })
        .collect();
    Ok(Rebased::Stopped(hunks))
}

fn conflicted_files(tree: Tree<'_>) -> Result<Vec<String>, WorktreeError> {
    let out = git_at(tree, ["diff", "--no-ext-diff", "--name-only", "--diff-filter=U"]).output()?;
    Ok(out.lines().map(str::to_string).collect())
}

fn head(tree: Tree<'_>) -> Result<String, WorktreeError> {
    Ok(git_at(tree, ["rev-parse", "HEAD"]).output()?.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_are_numbered_in_the_sessions_version() {
        let text = "a\n<<<<<<< lulu/x\nmine 1\nmine 2\n=======\ntheirs\n>>>>>>> main\nb\n<<<<<<< lulu/x\nm\n=======\n>>>>>>> main\n";
        let ours = marked_hunks("f", text, MarkerSide::Ours);
        assert_eq!(
            ours,
            vec![
                Hunk {
                    path: "f".into(),
                    line: 2,
                    theirs: 1
                },
                Hunk {
                    path: "f".into(),
                    line: 5,
                    theirs: 0
                }
            ],
            "a, mine 1, mine 2, b: the second hunk is the session's line 5"
        );
        let marked = marked_hunks("f", text, MarkerSide::Marked);
        assert_eq!((marked[0].line, marked[1].line), (2, 9), "where the markers are");
        assert!(marked_hunks("f", "<<<<<<<<< not a marker\n", MarkerSide::Ours).is_empty());
    }
}

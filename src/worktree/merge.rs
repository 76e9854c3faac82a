//! Landing a session's branch on its base in the main worktree (merge,
//! squash or rebase), and on conflict putting everything back as it was.

use std::path::Path;

use git2::{BranchType, Repository};

use super::git::{Tree, git, git_at};
use super::{Strategy, WorktreeError, ahead, history, is_dirty};

/// Land `branch` on `base` in the main worktree. On conflict: abort, leave
/// `base` exactly where it was, and name the files.
pub fn merge(
    repo_dir: &Path,
    path: &Path,
    branch: &str,
    base: &str,
    strategy: Strategy,
    message: Option<&str>,
) -> Result<String, WorktreeError> {
    let before = ready(repo_dir, path, branch, base)?;
    land(repo_dir, path, branch, base, strategy, message, &before)?;
    Ok(git(repo_dir, ["rev-parse", "HEAD"]).output()?.trim().to_string())
}

/// The checks before landing: `base` is a branch checked out in a clean main
/// worktree and `branch` has commits it lacks. The base's commit id.
fn ready(repo_dir: &Path, path: &Path, branch: &str, base: &str) -> Result<String, WorktreeError> {
    let repo = Repository::open(repo_dir)?;
    if repo.find_branch(base, BranchType::Local).is_err() {
        return Err(WorktreeError::DetachedBase(base.to_string()));
    }
    let head = repo.head()?;
    let current = head.shorthand().unwrap_or("a detached HEAD").to_string();
    if !head.is_branch() || current != base {
        return Err(WorktreeError::WrongBranch {
            current,
            base: base.to_string(),
        });
    }
    if !git(
        repo_dir,
        [
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=all",
            "--ignore-submodules=all",
        ],
    )
    .output()?
    .is_empty()
    {
        return Err(WorktreeError::MainDirty(repo_dir.display().to_string()));
    }
    if ahead(repo_dir, branch, base)? == 0 {
        return Err(WorktreeError::NothingToMerge {
            branch: branch.to_string(),
            base: base.to_string(),
            uncommitted: is_dirty(Tree { repo: repo_dir, path }).unwrap_or(false),
        });
    }
    Ok(head.peel_to_commit()?.id().to_string())
}

/// Land by `strategy`; on conflict put `base` back at `before` and name
/// the conflicted files and hunks.
fn land(
    repo_dir: &Path,
    path: &Path,
    branch: &str,
    base: &str,
    strategy: Strategy,
    message: Option<&str>,
    before: &str,
) -> Result<(), WorktreeError> {
    let conflict = |files: Vec<String>| WorktreeError::Conflict {
        branch: branch.to_string(),
        base: base.to_string(),
        hunks: history::conflict_hunks(repo_dir, branch, base).unwrap_or_default(),
        files,
    };
    match strategy {
        Strategy::Merge => {
            let message = message.map_or_else(|| format!("Merge {branch} (lulu)"), str::to_string);
            if git(repo_dir, ["merge", "--no-ff", "--no-edit", "-m", &message, branch])
                .run()
                .is_err()
            {
                let files = conflicted(repo_dir)?;
                git(repo_dir, ["merge", "--abort"]).run()?;
                return Err(conflict(files));
            }
        }
        Strategy::Squash => {
            if git(repo_dir, ["merge", "--squash", branch]).run().is_err() {
                let files = conflicted(repo_dir)?;
                // No MERGE_HEAD after --squash; the tree was clean before.
                git(repo_dir, ["reset", "--hard", "--quiet", before]).run()?;
                return Err(conflict(files));
            }
            let message = match message {
                Some(message) => message.to_string(),
                None => history::squash_message(repo_dir, branch, base)?,
            };
            git(repo_dir, ["commit", "--quiet", "-m", &message]).run()?;
        }
        Strategy::Rebase => {
            let tree = Tree { repo: repo_dir, path };
            if is_dirty(tree)? {
                return Err(WorktreeError::WorktreeDirty(path.display().to_string()));
            }
            if git_at(tree, ["rebase", "--quiet", base]).run().is_err() {
                let files = git_at(tree, ["diff", "--no-ext-diff", "--name-only", "--diff-filter=U"]).output()?;
                let files = files.lines().map(str::to_string).collect();
                git_at(tree, ["rebase", "--abort"]).run()?;
                return Err(conflict(files));
            }
            git(repo_dir, ["merge", "--ff-only", "--quiet", branch]).run()?;
        }
    }
    Ok(())
}

fn conflicted(dir: &Path) -> Result<Vec<String>, WorktreeError> {
    let out = git(dir, ["diff", "--name-only", "--diff-filter=U"]).output()?;
    Ok(out.lines().map(str::to_string).collect())
}

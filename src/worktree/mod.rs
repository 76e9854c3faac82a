//! One branch and linked worktree per session: create, measure, diff, merge
//! back, remove, reconcile. Blocking (git2 and the `git` CLI): call it from
//! `spawn_blocking`. libgit2 answers questions (is this a repo, is it dirty,
//! how far ahead); the `git` CLI does what libgit2 lacks (worktree add and
//! remove, merges with real conflict handling), always as argv.

pub mod activity;
pub mod files;
pub mod forge;
mod git;
pub mod history;
mod merge;
pub mod push;
pub mod repo_config;
pub mod setup;

use std::path::{Path, PathBuf};

use git2::{BranchType, Repository};

pub use git::{GitError, OwnedTree, Tree};
use git::{git, git_at};
pub use merge::merge;

#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    /// `worktree=on` was asked for outside a repository.
    #[error("{0} is not inside a git repository; run without worktree=on, or `git init` it first")]
    NotARepo(String),
    #[error("{0} is a bare repository; start the session in a clone with a working tree")]
    Bare(String),
    #[error("the repository at {0} has no commits yet; commit something first")]
    NoCommits(String),
    #[error("base {0:?} is not a branch, tag or commit in this repository")]
    UnknownBase(String),
    #[error("branch {0} already exists; pick another name= or delete it (git branch -D {0})")]
    BranchExists(String),
    #[error("{0} already exists; pick another name= or remove it")]
    PathExists(String),
    #[error("{0:?} cannot be a branch name; use letters, digits, '-', '_' and '.'")]
    BadName(String),
    #[error("the main worktree at {0} has uncommitted changes; commit or stash them first")]
    MainDirty(String),
    #[error("the main worktree is on {current}, not {base}; check out {base} first")]
    WrongBranch { current: String, base: String },
    #[error("the session's base {0} is a detached commit, not a branch: merge it by hand")]
    DetachedBase(String),
    #[error("the worktree {0} has uncommitted changes; commit them, or use ! to discard them")]
    WorktreeDirty(String),
    #[error("branch {branch} has {count} commit(s) not on {base}; merge it first, or use ! to drop them")]
    Unmerged { branch: String, base: String, count: usize },
    #[error(
        "nothing to merge: {branch} has no commits beyond {base}{}",
        if *.uncommitted { "; its worktree has uncommitted changes: commit them there first" } else { "" }
    )]
    NothingToMerge {
        branch: String,
        base: String,
        /// The session's worktree holds work that is not committed (only
        /// commits are merged).
        uncommitted: bool,
    },
    /// The merge stopped on conflicts and was aborted; the base is unchanged.
    #[error("merge of {branch} conflicts in {}; aborted, {base} is unchanged", .files.join(", "))]
    Conflict {
        branch: String,
        base: String,
        files: Vec<String>,
        /// Where, in the session's version of each file.
        hunks: Vec<history::Hunk>,
    },
    #[error("conflict markers are still in {}; resolve them, then continue", .0.join(", "))]
    Unresolved(Vec<String>),
    #[error("the rebase in {0} stopped for a reason other than a conflict and was undone; see git status there")]
    RebaseFailed(String),
    /// A rebase lulu would not have started is under way (planted steps).
    #[error("{0}")]
    ForeignRebase(String),
    #[error("branch {0} is gone, so the session cannot be restored in it; start it anew")]
    BranchGone(String),
    #[error("invalid worktree.copy glob {0:?}: {1}")]
    BadCopyGlob(String, String),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("git: {0}")]
    Lib(#[from] git2::Error),
}

/// A session's worktree, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    /// The main worktree's top directory.
    pub repo: PathBuf,
    pub path: PathBuf,
    pub branch: String,
    /// The branch the session started from (what merges land on), or the
    /// commit id when HEAD was detached.
    pub base: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Merge,
    Squash,
    Rebase,
}

impl Strategy {
    pub fn parse(raw: &str) -> Option<Strategy> {
        Some(match raw {
            "merge" => Strategy::Merge,
            "squash" => Strategy::Squash,
            "rebase" => Strategy::Rebase,
            _ => return None,
        })
    }
}

/// The repository `cwd` is in, as its main worktree's top directory; `None`
/// outside any repository.
pub fn discover(cwd: &Path) -> Result<Option<PathBuf>, WorktreeError> {
    let repo = match Repository::discover(cwd) {
        Ok(repo) => repo,
        Err(err) if err.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    if repo.is_bare() {
        return Err(WorktreeError::Bare(cwd.display().to_string()));
    }
    // From a linked worktree, go to the main one: merges land there.
    let common = repo.commondir().to_path_buf();
    let main = Repository::open(common.parent().unwrap_or(&common))
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf))
        .or_else(|| repo.workdir().map(Path::to_path_buf));
    Ok(main.map(|p| p.canonicalize().unwrap_or(p)))
}

/// The branch name template when the user sets none.
pub const DEFAULT_BRANCH: &str = "lulu/{name}";

/// A session's branch from `template` (`worktree.branch`): `{name}`,
/// `{agent}` and `{date}` (YYYY-MM-DD) filled; it must hold `{name}` (so
/// names keep branches apart) and make a valid branch name.
pub fn branch_name(template: &str, name: &str, agent: &str) -> Result<String, String> {
    if !template.contains("{name}") {
        return Err(format!("{template:?} must contain {{name}}, e.g. 'agent/{{name}}'"));
    }
    let date = chrono::Local::now().format("%Y-%m-%d").to_string();
    let branch = template
        .replace("{name}", name)
        .replace("{agent}", agent)
        .replace("{date}", &date);
    if branch.contains(['{', '}']) || !git2::Reference::is_valid_name(&format!("refs/heads/{branch}")) {
        return Err(format!(
            "{template:?} does not make a valid branch name (placeholders: {{name}}, {{agent}}, {{date}})"
        ));
    }
    Ok(branch)
}

/// Branch `branch` from `base` (default: HEAD) in a new worktree at
/// `<root>/<name>` (default root: `<repo>/.lulu/worktrees`).
pub fn create(
    repo_dir: &Path,
    name: &str,
    branch: &str,
    base: Option<&str>,
    root: Option<&Path>,
) -> Result<Created, WorktreeError> {
    let repo = Repository::open(repo_dir)?;
    if repo.head().is_err() || repo.head()?.peel_to_commit().is_err() {
        return Err(WorktreeError::NoCommits(repo_dir.display().to_string()));
    }
    let branch = branch.to_string();
    if !git2::Reference::is_valid_name(&format!("refs/heads/{branch}")) {
        return Err(WorktreeError::BadName(name.to_string()));
    }
    if repo.find_branch(&branch, BranchType::Local).is_ok() {
        return Err(WorktreeError::BranchExists(branch));
    }
    let (base_name, base_commit) = match base {
        Some(base) => {
            let commit = repo
                .revparse_single(base)
                .and_then(|o| o.peel_to_commit())
                .map_err(|_| WorktreeError::UnknownBase(base.to_string()))?;
            // A branch name stays a name (merges land on it); anything else
            // is pinned to its commit.
            let name = if repo.find_branch(base, BranchType::Local).is_ok() {
                base.to_string()
            } else {
                commit.id().to_string()
            };
            (name, commit.id().to_string())
        }
        None => {
            let head = repo.head()?;
            let commit = head.peel_to_commit()?.id().to_string();
            let name = if head.is_branch() {
                head.shorthand().unwrap_or(&commit).to_string()
            } else {
                commit.clone()
            };
            (name, commit)
        }
    };
    let root = root.map_or_else(|| repo_dir.join(".lulu").join("worktrees"), Path::to_path_buf);
    let path = root.join(name);
    if path.exists() {
        return Err(WorktreeError::PathExists(path.display().to_string()));
    }
    exclude_lulu_dir(&repo)?;
    std::fs::create_dir_all(&root).map_err(|err| GitError::io(&root, err))?;
    git(repo_dir, ["worktree", "add", "--quiet", "-b", &branch])
        .arg(&path)
        .arg(&base_commit)
        .run()?;
    Ok(Created {
        repo: repo_dir.to_path_buf(),
        path,
        branch,
        base: base_name,
    })
}

/// Copy the main worktree's untracked (and ignored) files that match `globs`
/// (relative to the repository root, e.g. `.env`, `config/*.local`) into a
/// new worktree. Returns the copied paths, relative.
pub fn copy_untracked(repo_dir: &Path, dest: &Path, globs: &[String]) -> Result<Vec<String>, WorktreeError> {
    if globs.is_empty() {
        return Ok(Vec::new());
    }
    let mut set = globset::GlobSetBuilder::new();
    for pattern in globs {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|err| WorktreeError::BadCopyGlob(pattern.clone(), err.kind().to_string()))?;
        set.add(glob);
    }
    let set = set
        .build()
        .map_err(|err| WorktreeError::BadCopyGlob(String::new(), err.to_string()))?;
    let listed = git(repo_dir, ["ls-files", "--others", "-z"]).output()?;
    let mut copied = Vec::new();
    for rel in listed.split('\0').filter(|f| !f.is_empty() && !f.starts_with(".lulu/")) {
        if !set.is_match(rel) {
            continue;
        }
        let target = dest.join(rel);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|err| GitError::io(dir, err))?;
        }
        std::fs::copy(repo_dir.join(rel), &target).map_err(|err| GitError::io(&target, err))?;
        copied.push(rel.to_string());
    }
    Ok(copied)
}

/// A restored session's worktree: its branch must still exist; its
/// directory is used as it is, or checked out again if it went away.
pub fn reopen(
    repo_dir: &Path,
    name: &str,
    branch: &str,
    base: &str,
    root: Option<&Path>,
) -> Result<Created, WorktreeError> {
    let repo = Repository::open(repo_dir)?;
    let branch = branch.to_string();
    if repo.find_branch(&branch, BranchType::Local).is_err() {
        return Err(WorktreeError::BranchGone(branch));
    }
    let root = root.map_or_else(|| repo_dir.join(".lulu").join("worktrees"), Path::to_path_buf);
    let path = root.join(name);
    if !path.exists() {
        git(repo_dir, ["worktree", "prune"]).run()?;
        std::fs::create_dir_all(&root).map_err(|err| GitError::io(&root, err))?;
        git(repo_dir, ["worktree", "add", "--quiet"])
            .arg(&path)
            .arg(&branch)
            .run()?;
    }
    Ok(Created {
        repo: repo_dir.to_path_buf(),
        path,
        branch,
        base: base.to_string(),
    })
}

/// `/.lulu/` in `.git/info/exclude`, so worktrees never show in `git status`
/// and the user's tracked `.gitignore` is left alone.
fn exclude_lulu_dir(repo: &Repository) -> Result<(), WorktreeError> {
    let info = repo.commondir().join("info");
    let exclude = info.join("exclude");
    let current = std::fs::read_to_string(&exclude).unwrap_or_default();
    if current.lines().any(|l| l.trim() == "/.lulu/") {
        return Ok(());
    }
    std::fs::create_dir_all(&info).map_err(|err| GitError::io(&info, err))?;
    let mut text = current;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# lulu's session worktrees\n/.lulu/\n");
    std::fs::write(&exclude, text).map_err(|err| GitError::io(&exclude, err))?;
    Ok(())
}

/// Commits on `branch` not yet on `base`.
pub fn ahead(repo_dir: &Path, branch: &str, base: &str) -> Result<usize, WorktreeError> {
    let repo = Repository::open(repo_dir)?;
    let tip = repo.revparse_single(branch)?.peel_to_commit()?.id();
    let base = repo.revparse_single(base)?.peel_to_commit()?.id();
    Ok(repo.graph_ahead_behind(tip, base)?.0)
}

/// Is everything on `branch` already in `base`? True for a branch merged
/// the ordinary way (no commits ahead) and for a squash-merged one (merging
/// it again would change nothing).
pub fn is_merged(repo_dir: &Path, branch: &str, base: &str) -> Result<bool, WorktreeError> {
    if ahead(repo_dir, branch, base)? == 0 {
        return Ok(true);
    }
    let merged = match git(repo_dir, ["merge-tree", "--write-tree", base, branch]).output() {
        Ok(out) => out.lines().next().unwrap_or_default().trim().to_string(),
        // Conflicts (exit 1) mean there is something left to merge.
        Err(_) => return Ok(false),
    };
    let base_tree = git(repo_dir, ["rev-parse", &format!("{base}^{{tree}}")]).output()?;
    Ok(merged == base_tree.trim())
}

/// Does the worktree at `path` have uncommitted changes (untracked files
/// included)?
pub fn is_dirty(tree: Tree<'_>) -> Result<bool, WorktreeError> {
    let out = git_at(
        tree,
        [
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=all",
            "--ignore-submodules=all",
        ],
    )
    .output()?;
    Ok(!out.is_empty())
}

/// The session's changes against where it branched from its base: commits,
/// uncommitted edits and new untracked files, as one unified diff.
pub fn diff(tree: Tree<'_>, base: &str) -> Result<String, WorktreeError> {
    let fork = git_at(tree, ["merge-base", base, "HEAD"]).output()?;
    let mut text = git_at(
        tree,
        ["diff", "--no-color", "--no-ext-diff", "--no-textconv", fork.trim()],
    )
    .output()?;
    let untracked = git_at(tree, ["ls-files", "--others", "--exclude-standard", "-z"]).output()?;
    for file in untracked.split('\0').filter(|f| !f.is_empty()) {
        // `git diff --no-index` exits 1 when the files differ, as they do.
        text.push_str(
            &git_at(
                tree,
                [
                    "diff",
                    "--no-color",
                    "--no-ext-diff",
                    "--no-textconv",
                    "--no-index",
                    "--",
                    "/dev/null",
                    file,
                ],
            )
            .output_allow_status(1)?,
        );
    }
    Ok(text)
}

/// Remove the worktree and its branch. Refuses a dirty worktree or unmerged
/// commits unless `force`.
pub fn remove(repo_dir: &Path, path: &Path, branch: &str, base: &str, force: bool) -> Result<(), WorktreeError> {
    if path.exists() && !force && is_dirty(Tree { repo: repo_dir, path })? {
        return Err(WorktreeError::WorktreeDirty(path.display().to_string()));
    }
    if !force && !is_merged(repo_dir, branch, base)? {
        return Err(WorktreeError::Unmerged {
            branch: branch.to_string(),
            base: base.to_string(),
            count: ahead(repo_dir, branch, base).unwrap_or(0),
        });
    }
    if path.exists() {
        git(repo_dir, ["worktree", "remove", "--force"]).arg(path).run()?;
    } else {
        git(repo_dir, ["worktree", "prune"]).run()?;
    }
    let repo = Repository::open(repo_dir)?;
    if let Ok(mut b) = repo.find_branch(branch, BranchType::Local) {
        b.delete()?;
    }
    Ok(())
}

/// The worktrees git has registered for the repository, main one included.
pub fn registered(repo_dir: &Path) -> Result<Vec<PathBuf>, WorktreeError> {
    let out = git(repo_dir, ["worktree", "list", "--porcelain", "-z"]).output()?;
    Ok(out
        .split('\0')
        .filter_map(|field| field.strip_prefix("worktree "))
        .map(PathBuf::from)
        .collect())
}

/// Forget worktrees whose directories vanished (`git worktree prune`).
/// Never touches a directory that still exists.
pub fn prune(repo_dir: &Path) -> Result<(), WorktreeError> {
    git(repo_dir, ["worktree", "prune"]).run()?;
    Ok(())
}

#[cfg(test)]
mod tests;

//! What happened on the sessions' branches since the last look: the tips of
//! `refs/heads/lulu/*` (and the bases they come from) read from the
//! repository's refs, compared with the previous reading. Blocking (git2):
//! call it off the async runtime.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{BranchType, Oid, Repository};
use serde::Serialize;

use super::WorktreeError;

/// Branch tips at one moment: name -> commit.
pub type Tips = BTreeMap<String, Oid>;

/// One thing that happened on a branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Happening {
    /// `commit`, `created`, `deleted`, `rewritten` (a rebase or reset),
    /// `merged` (the branch's tip reached its base).
    pub kind: &'static str,
    pub branch: String,
    /// The commit (full hex), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Its subject, or what happened in words.
    pub subject: String,
    /// Files the commit changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<usize>,
}

/// Most commits reported for one branch at once (a big rebase or fetch).
const MAX_COMMITS: usize = 50;

/// Whether `name` is a session's branch: one of `ours`, or under lulu's
/// default prefix (`lulu/`).
fn is_ours(name: &str, ours: &[String]) -> bool {
    name.starts_with("lulu/") || ours.iter().any(|b| b == name)
}

/// The tips of the sessions' branches (`ours`, and `lulu/*`) and of
/// `bases` in the repository.
pub fn tips(repo_dir: &Path, bases: &[String], ours: &[String]) -> Result<Tips, WorktreeError> {
    let repo = Repository::open(repo_dir)?;
    let mut tips = Tips::new();
    for branch in repo.branches(Some(BranchType::Local))? {
        let (branch, _) = branch?;
        let Some(name) = branch.name()?.map(str::to_string) else {
            continue;
        };
        if (is_ours(&name, ours) || bases.contains(&name))
            && let Some(oid) = branch.get().target()
        {
            tips.insert(name, oid);
        }
    }
    Ok(tips)
}

/// What changed from `before` to `after`, oldest first. `bases`: which
/// branches are bases (their own commits are not reported, but a lulu
/// branch whose tip they now contain is reported merged).
pub fn changes(
    repo_dir: &Path,
    before: &Tips,
    after: &Tips,
    bases: &[String],
    ours: &[String],
) -> Result<Vec<Happening>, WorktreeError> {
    let repo = Repository::open(repo_dir)?;
    let mut out = Vec::new();
    for (name, &tip) in after {
        if bases.contains(name) {
            continue;
        }
        match before.get(name) {
            None => out.push(Happening::said(
                "created",
                name,
                Some(tip),
                format!("branch {name} created"),
            )),
            Some(&old) if old == tip => {}
            Some(&old) if repo.graph_descendant_of(tip, old).unwrap_or(false) => {
                out.extend(new_commits(&repo, name, old, tip)?);
            }
            Some(_) => out.push(Happening::said(
                "rewritten",
                name,
                Some(tip),
                format!("{name} rewritten (rebased or reset)"),
            )),
        }
    }
    for name in before.keys().filter(|n| !after.contains_key(*n) && !bases.contains(n)) {
        out.push(Happening::said("deleted", name, None, format!("branch {name} deleted")));
    }
    out.extend(merges(&repo, before, after, bases, ours));
    Ok(out)
}

impl Happening {
    /// What happened, in words.
    fn said(kind: &'static str, branch: &str, commit: Option<Oid>, subject: String) -> Happening {
        Happening {
            kind,
            branch: branch.to_string(),
            commit: commit.map(|c| c.to_string()),
            subject,
            files: None,
        }
    }
}

/// The commits from `old` to `tip` (a fast-forward), oldest first, at most
/// [`MAX_COMMITS`].
fn new_commits(repo: &Repository, branch: &str, old: Oid, tip: Oid) -> Result<Vec<Happening>, WorktreeError> {
    let mut walk = repo.revwalk()?;
    walk.push(tip)?;
    walk.hide(old)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    let mut out = Vec::new();
    for oid in walk.take(MAX_COMMITS) {
        let oid = oid?;
        let commit = repo.find_commit(oid)?;
        let subject = String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned();
        out.push(Happening {
            files: Some(files_changed(repo, &commit)),
            ..Happening::said("commit", branch, Some(oid), subject)
        });
    }
    Ok(out)
}

/// A base that moved onto a lulu branch's tip: that branch was merged.
fn merges(repo: &Repository, before: &Tips, after: &Tips, bases: &[String], ours: &[String]) -> Vec<Happening> {
    let mut out = Vec::new();
    for base in bases {
        let (Some(&old), Some(&new)) = (before.get(base), after.get(base)) else {
            continue;
        };
        if old == new {
            continue;
        }
        for (name, &tip) in after.iter().filter(|(n, _)| is_ours(n, ours)) {
            let was_in = old == tip || repo.graph_descendant_of(old, tip).unwrap_or(false);
            let now_in = new == tip || repo.graph_descendant_of(new, tip).unwrap_or(false);
            if now_in && !was_in {
                out.push(Happening::said(
                    "merged",
                    name,
                    Some(new),
                    format!("{name} merged into {base}"),
                ));
            }
        }
    }
    out
}

fn files_changed(repo: &Repository, commit: &git2::Commit<'_>) -> usize {
    let tree = commit.tree().ok();
    let parent = commit.parent(0).ok().and_then(|p| p.tree().ok());
    repo.diff_tree_to_tree(parent.as_ref(), tree.as_ref(), None)
        .map(|d| d.deltas().len())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn commits_branches_and_merges_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q", "-b", "main"]);
        git(dir, &["config", "user.email", "t@l"]);
        git(dir, &["config", "user.name", "T"]);
        std::fs::write(dir.join("a"), "a\n").unwrap();
        git(dir, &["add", "."]);
        git(dir, &["commit", "-qm", "init"]);
        let bases = vec!["main".to_string()];
        let t0 = tips(dir, &bases, &[]).unwrap();
        git(dir, &["branch", "lulu/x"]);
        let t1 = tips(dir, &bases, &[]).unwrap();
        let created = changes(dir, &t0, &t1, &bases, &[]).unwrap();
        assert_eq!(created.iter().map(|h| h.kind).collect::<Vec<_>>(), ["created"]);

        git(dir, &["checkout", "-q", "lulu/x"]);
        std::fs::write(dir.join("b"), "b\n").unwrap();
        std::fs::write(dir.join("c"), "c\n").unwrap();
        git(dir, &["add", "."]);
        git(dir, &["commit", "-qm", "add b and c"]);
        let t2 = tips(dir, &bases, &[]).unwrap();
        let commits = changes(dir, &t1, &t2, &bases, &[]).unwrap();
        assert_eq!(commits.len(), 1);
        assert_eq!(
            (commits[0].kind, commits[0].subject.as_str(), commits[0].files),
            ("commit", "add b and c", Some(2))
        );

        git(dir, &["checkout", "-q", "main"]);
        git(dir, &["merge", "-q", "--no-ff", "-m", "merge x", "lulu/x"]);
        let t3 = tips(dir, &bases, &[]).unwrap();
        let merged = changes(dir, &t2, &t3, &bases, &[]).unwrap();
        assert_eq!(
            merged.iter().map(|h| (h.kind, h.branch.as_str())).collect::<Vec<_>>(),
            [("merged", "lulu/x")]
        );

        git(dir, &["branch", "-q", "-D", "lulu/x"]);
        let t4 = tips(dir, &bases, &[]).unwrap();
        let deleted = changes(dir, &t3, &t4, &bases, &[]).unwrap();
        assert_eq!(deleted.iter().map(|h| h.kind).collect::<Vec<_>>(), ["deleted"]);
    }
}

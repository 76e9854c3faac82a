//! Real repositories in temp dirs, driven through the module and checked
//! with plain `git`.

use std::path::{Path, PathBuf};

use super::*;

fn sh(dir: &Path, args: &[&str]) -> String {
    git(dir, args)
        .output()
        .unwrap_or_else(|err| panic!("git {args:?}: {err}"))
}

/// A repository with one commit on `main`, in a directory whose name has a
/// space and non-ASCII letters.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my répo");
    std::fs::create_dir(&dir).unwrap();
    sh(&dir, &["init", "--quiet", "--initial-branch=main"]);
    sh(&dir, &["config", "user.name", "Test"]);
    sh(&dir, &["config", "user.email", "test@localhost"]);
    std::fs::write(dir.join("shared.txt"), "one\n").unwrap();
    sh(&dir, &["add", "."]);
    sh(&dir, &["commit", "--quiet", "-m", "initial"]);
    let dir = dir.canonicalize().unwrap();
    (tmp, dir)
}

fn commit_file(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
    sh(dir, &["add", file]);
    sh(dir, &["commit", "--quiet", "-m", &format!("write {file}")]);
}

#[test]
fn create_branches_from_head_and_keeps_status_clean() {
    let (_tmp, repo) = repo();
    assert_eq!(discover(&repo).unwrap(), Some(repo.clone()));
    let created = create(&repo, "alpha", "lulu/alpha", None, None).unwrap();
    assert_eq!(created.branch, "lulu/alpha");
    assert_eq!(created.base, "main");
    assert_eq!(created.path, repo.join(".lulu/worktrees/alpha"));
    assert_eq!(
        sh(&created.path, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "lulu/alpha"
    );
    // From inside the worktree, discover finds the main worktree.
    assert_eq!(discover(&created.path).unwrap(), Some(repo.clone()));
    assert_eq!(sh(&repo, &["status", "--porcelain"]), "", "main worktree stays clean");
    let exclude = std::fs::read_to_string(repo.join(".git/info/exclude")).unwrap();
    assert_eq!(exclude.matches("/.lulu/").count(), 1);
    create(&repo, "beta", "lulu/beta", None, None).unwrap();
    let exclude = std::fs::read_to_string(repo.join(".git/info/exclude")).unwrap();
    assert_eq!(exclude.matches("/.lulu/").count(), 1, "added once");
    assert!(!repo.join(".gitignore").exists(), "tracked ignore file untouched");
}

#[test]
fn two_sessions_diff_merge_and_squash() {
    let (_tmp, repo) = repo();
    let a = create(&repo, "a", "lulu/a", None, None).unwrap();
    let b = create(&repo, "b", "lulu/b", None, None).unwrap();
    commit_file(&a.path, "a.txt", "from a\n");
    commit_file(&b.path, "b.txt", "from b\n");
    std::fs::write(a.path.join("wip.txt"), "not committed\n").unwrap();
    assert_eq!(ahead(&repo, &a.branch, &a.base).unwrap(), 1);

    let diff_a = diff(
        Tree {
            repo: &repo,
            path: &a.path,
        },
        &a.base,
    )
    .unwrap();
    assert!(diff_a.contains("+from a"), "{diff_a}");
    assert!(diff_a.contains("+not committed"), "untracked files count: {diff_a}");
    assert!(!diff_a.contains("from b"), "only this session's change: {diff_a}");

    std::fs::remove_file(a.path.join("wip.txt")).unwrap();
    merge(&repo, &a.path, &a.branch, &a.base, Strategy::Squash, None).unwrap();
    merge(&repo, &b.path, &b.branch, &b.base, Strategy::Merge, None).unwrap();
    assert_eq!(std::fs::read_to_string(repo.join("a.txt")).unwrap(), "from a\n");
    assert_eq!(std::fs::read_to_string(repo.join("b.txt")).unwrap(), "from b\n");
    let log = sh(&repo, &["log", "--format=%s"]);
    assert!(log.contains("write a.txt"), "the session's own message: {log}");
    assert!(log.contains("Merge lulu/b (lulu)"), "{log}");
    assert_eq!(sh(&repo, &["status", "--porcelain"]), "");
    // Merged: removal no longer refuses.
    remove(&repo, &a.path, &a.branch, &a.base, false).unwrap();
    assert!(!a.path.exists());
    assert!(sh(&repo, &["branch", "--list", "lulu/a"]).is_empty());
}

#[test]
fn conflicts_abort_and_leave_the_base_unchanged() {
    for strategy in [Strategy::Merge, Strategy::Squash, Strategy::Rebase] {
        let (_tmp, repo) = repo();
        let s = create(&repo, "c", "lulu/c", None, None).unwrap();
        commit_file(&s.path, "shared.txt", "session\n");
        commit_file(&repo, "shared.txt", "main\n");
        let before = sh(&repo, &["rev-parse", "HEAD"]);
        let err = merge(&repo, &s.path, &s.branch, &s.base, strategy, None).unwrap_err();
        match &err {
            WorktreeError::Conflict { files, hunks, .. } => {
                assert_eq!(files, &["shared.txt"], "{strategy:?}");
                assert_eq!(
                    hunks,
                    &[history::Hunk {
                        path: "shared.txt".into(),
                        line: 1,
                        theirs: 1
                    }],
                    "{strategy:?}"
                );
            }
            other => panic!("{strategy:?}: {other}"),
        }
        assert!(
            err.to_string()
                .contains("conflicts in shared.txt; aborted, main is unchanged"),
            "{err}"
        );
        assert_eq!(sh(&repo, &["rev-parse", "HEAD"]), before, "{strategy:?}: base moved");
        assert_eq!(
            sh(&repo, &["status", "--porcelain"]),
            "",
            "{strategy:?}: main left dirty"
        );
        assert_eq!(
            sh(&s.path, &["status", "--porcelain"]),
            "",
            "{strategy:?}: worktree left mid-rebase"
        );
    }
}

#[test]
fn rebase_fast_forwards_the_base() {
    let (_tmp, repo) = repo();
    let s = create(&repo, "r", "lulu/r", None, None).unwrap();
    commit_file(&s.path, "r.txt", "r\n");
    commit_file(&repo, "other.txt", "o\n");
    merge(&repo, &s.path, &s.branch, &s.base, Strategy::Rebase, None).unwrap();
    let log = sh(&repo, &["log", "--format=%s"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["write r.txt", "write other.txt", "initial"]
    );
}

#[test]
fn merge_refuses_what_it_should() {
    let (_tmp, repo) = repo();
    let s = create(&repo, "m", "lulu/m", None, None).unwrap();
    let err = merge(&repo, &s.path, &s.branch, &s.base, Strategy::Merge, None).unwrap_err();
    assert!(
        matches!(err, WorktreeError::NothingToMerge { uncommitted: false, .. }),
        "{err}"
    );
    // Work left uncommitted in the worktree is named: only commits merge.
    std::fs::write(s.path.join("loose.txt"), "not committed\n").unwrap();
    let err = merge(&repo, &s.path, &s.branch, &s.base, Strategy::Merge, None).unwrap_err();
    assert!(
        err.to_string().contains("uncommitted changes: commit them there first"),
        "{err}"
    );
    std::fs::remove_file(s.path.join("loose.txt")).unwrap();
    commit_file(&s.path, "m.txt", "m\n");
    std::fs::write(repo.join("shared.txt"), "dirty\n").unwrap();
    let err = merge(&repo, &s.path, &s.branch, &s.base, Strategy::Merge, None).unwrap_err();
    assert!(
        err.to_string()
            .contains("has uncommitted changes; commit or stash them first"),
        "{err}"
    );
    sh(&repo, &["checkout", "--quiet", "--", "shared.txt"]);
    sh(&repo, &["checkout", "--quiet", "-b", "elsewhere"]);
    let err = merge(&repo, &s.path, &s.branch, &s.base, Strategy::Merge, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the main worktree is on elsewhere, not main; check out main first"
    );
}

#[test]
fn remove_refuses_dirty_or_unmerged_unless_forced() {
    let (_tmp, repo) = repo();
    let s = create(&repo, "d", "lulu/d", None, None).unwrap();
    std::fs::write(s.path.join("new.txt"), "x\n").unwrap();
    let err = remove(&repo, &s.path, &s.branch, &s.base, false).unwrap_err();
    assert!(matches!(err, WorktreeError::WorktreeDirty(_)), "{err}");
    sh(&s.path, &["add", "."]);
    sh(&s.path, &["commit", "--quiet", "-m", "x"]);
    let err = remove(&repo, &s.path, &s.branch, &s.base, false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "branch lulu/d has 1 commit(s) not on main; merge it first, or use ! to drop them"
    );
    remove(&repo, &s.path, &s.branch, &s.base, true).unwrap();
    assert!(!s.path.exists());
    assert!(sh(&repo, &["branch", "--list", "lulu/d"]).is_empty());
}

#[test]
fn bad_input_gets_clear_errors() {
    let (tmp, repo) = repo();
    let plain = tmp.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    assert_eq!(discover(&plain).unwrap(), None);

    let bare = tmp.path().join("bare.git");
    sh(tmp.path(), &["init", "--quiet", "--bare", bare.to_str().unwrap()]);
    assert!(matches!(discover(&bare), Err(WorktreeError::Bare(_))));

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    sh(&empty, &["init", "--quiet"]);
    let err = create(&empty, "x", "lulu/x", None, None).unwrap_err();
    assert!(err.to_string().contains("has no commits yet"), "{err}");

    let err = create(&repo, "x", "lulu/x", Some("no-such-branch"), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "base \"no-such-branch\" is not a branch, tag or commit in this repository"
    );

    create(&repo, "taken", "lulu/taken", None, None).unwrap();
    let err = create(&repo, "taken", "lulu/taken", None, None).unwrap_err();
    assert!(err.to_string().starts_with("branch lulu/taken already exists"), "{err}");

    sh(&repo, &["branch", "lulu/only-branch"]);
    let err = create(&repo, "only-branch", "lulu/only-branch", None, None).unwrap_err();
    assert!(matches!(err, WorktreeError::BranchExists(_)), "{err}");

    std::fs::create_dir_all(repo.join(".lulu/worktrees/squatter")).unwrap();
    let err = create(&repo, "squatter", "lulu/squatter", None, None).unwrap_err();
    assert!(matches!(err, WorktreeError::PathExists(_)), "{err}");

    let err = create(&repo, "a..b", "lulu/a..b", None, None).unwrap_err();
    assert!(matches!(err, WorktreeError::BadName(_)), "{err}");

    // Detached HEAD: the base is the commit; merging needs a branch.
    let head = sh(&repo, &["rev-parse", "HEAD"]).trim().to_string();
    sh(&repo, &["checkout", "--quiet", "--detach"]);
    let s = create(&repo, "detached", "lulu/detached", None, None).unwrap();
    assert_eq!(s.base, head);
    commit_file(&s.path, "d.txt", "d\n");
    let err = merge(&repo, &s.path, &s.branch, &s.base, Strategy::Merge, None).unwrap_err();
    assert!(matches!(err, WorktreeError::DetachedBase(_)), "{err}");

    // A base given as a branch stays a branch; a tag is pinned to its commit.
    sh(&repo, &["checkout", "--quiet", "main"]);
    sh(&repo, &["tag", "v1"]);
    assert_eq!(
        create(&repo, "from-main", "lulu/from-main", Some("main"), None)
            .unwrap()
            .base,
        "main"
    );
    assert_eq!(
        create(&repo, "from-tag", "lulu/from-tag", Some("v1"), None)
            .unwrap()
            .base,
        head
    );
}

#[test]
fn worktree_root_can_move_and_prune_forgets_vanished_dirs() {
    let (tmp, repo) = repo();
    let root = tmp.path().join("elsewhere");
    let s = create(&repo, "moved", "lulu/moved", None, Some(&root)).unwrap();
    assert_eq!(s.path, root.join("moved"));
    std::fs::remove_dir_all(&s.path).unwrap();
    prune(&repo).unwrap();
    let list = sh(&repo, &["worktree", "list", "--porcelain"]);
    assert!(!list.contains("elsewhere/moved"), "{list}");
    // The branch and its commits stay; only the registration went.
    assert!(!sh(&repo, &["branch", "--list", "lulu/moved"]).is_empty());
}

#[test]
fn copy_brings_untracked_files_that_match() {
    let (_tmp, repo) = repo();
    std::fs::write(repo.join(".gitignore"), ".env\n.env.*\n").unwrap();
    sh(&repo, &["add", ".gitignore"]);
    sh(&repo, &["commit", "--quiet", "-m", "ignore"]);
    std::fs::write(repo.join(".env"), "SECRET=1\n").unwrap();
    std::fs::write(repo.join(".env.local"), "LOCAL=1\n").unwrap();
    std::fs::create_dir_all(repo.join("config")).unwrap();
    std::fs::write(repo.join("config/dev.local"), "x\n").unwrap();
    std::fs::write(repo.join("scratch.txt"), "not asked for\n").unwrap();
    let s = create(&repo, "copy", "lulu/copy", None, None).unwrap();
    let globs = vec![".env".to_string(), ".env.*".to_string(), "config/*.local".to_string()];
    let mut copied = copy_untracked(&repo, &s.path, &globs).unwrap();
    copied.sort();
    assert_eq!(copied, [".env", ".env.local", "config/dev.local"]);
    assert_eq!(std::fs::read_to_string(s.path.join(".env")).unwrap(), "SECRET=1\n");
    assert!(!s.path.join("scratch.txt").exists());
    let err = copy_untracked(&repo, &s.path, &["[".to_string()]).unwrap_err();
    assert!(err.to_string().starts_with("invalid worktree.copy glob \"[\""), "{err}");
}

#[test]
fn reopen_reuses_or_rechecks_out_a_sessions_branch() {
    let (_tmp, repo) = repo();
    let s = create(&repo, "back", "lulu/back", None, None).unwrap();
    commit_file(&s.path, "kept.txt", "kept\n");
    let again = reopen(&repo, "back", "lulu/back", "main", None).unwrap();
    assert_eq!(again, s, "an existing worktree is used as it is");
    std::fs::remove_dir_all(&s.path).unwrap();
    let again = reopen(&repo, "back", "lulu/back", "main", None).unwrap();
    assert_eq!(
        std::fs::read_to_string(again.path.join("kept.txt")).unwrap(),
        "kept\n",
        "checked out again"
    );
    let err = reopen(&repo, "never", "lulu/never", "main", None).unwrap_err();
    assert!(err.to_string().starts_with("branch lulu/never is gone"), "{err}");
}

/// Everything a worktree's agent can plant that a git run would execute:
/// a rewritten `.git` file pointing at a git dir of its own (fsmonitor,
/// external diff, pager, hooks in its config), hooks under a relative
/// `core.hooksPath` of the main repository (husky's way), and a textconv
/// driver named in the worktree's `.gitattributes`. lulu's diff, review,
/// dirtiness, rebase and merge run none of them.
#[test]
fn lulu_git_runs_none_of_the_repository_programs() {
    let (tmp, repo) = repo();
    let marker = tmp.path().join("ran");
    let plant = |name: &str| {
        let script = tmp.path().join(name);
        std::fs::write(&script, format!("#!/bin/sh\necho {name} >> '{}'\n", marker.display())).unwrap();
        std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&script).unwrap().permissions(), 0o755);
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        script.display().to_string()
    };
    // The user's own config: a relative hooks path and a textconv driver.
    sh(&repo, &["config", "core.hooksPath", ".githooks"]);
    sh(&repo, &["config", "diff.planted.textconv", &plant("textconv")]);
    let created = create(&repo, "p", "lulu/p", None, None).unwrap();
    let wt = &created.path;
    commit_file(wt, "a.txt", "one\n");
    // The agent's plants, in the worktree.
    std::fs::create_dir_all(wt.join(".githooks")).unwrap();
    for hook in [
        "pre-rebase",
        "post-rewrite",
        "pre-commit",
        "post-checkout",
        "reference-transaction",
        "pre-merge-commit",
        "post-merge",
        "fsmonitor-watchman",
    ] {
        let script = plant(hook);
        std::fs::copy(&script, wt.join(".githooks").join(hook)).unwrap();
    }
    std::fs::write(wt.join(".gitattributes"), "* diff=planted\n").unwrap();
    std::fs::write(wt.join("a.txt"), "two\n").unwrap();
    let fake = tmp.path().join("fake-gitdir");
    sh(tmp.path(), &["init", "--quiet", fake.to_str().unwrap()]);
    let fake_git = fake.join(".git");
    let config = format!(
        "[core]\n\tfsmonitor = {}\n\tpager = {}\n[diff]\n\texternal = {}\n",
        plant("fsmonitor"),
        plant("pager"),
        plant("external")
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(fake_git.join("config"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, config.as_bytes()))
        .unwrap();
    let real_dot_git = std::fs::read_to_string(wt.join(".git")).unwrap();
    std::fs::write(wt.join(".git"), format!("gitdir: {}\n", fake_git.display())).unwrap();

    let tree = Tree { repo: &repo, path: wt };
    let text = diff(tree, "main").unwrap();
    assert!(
        text.contains("+two"),
        "the diff is the session's, from lulu's records: {text}"
    );
    assert!(is_dirty(tree).unwrap());
    let files = history::changed_files(tree, "main").unwrap();
    assert!(files.iter().any(|f| f.path == "a.txt"), "{files:?}");
    history::base_file(tree, "main", "shared.txt").unwrap();
    // Clean the worktree's edits (not its plants' effects) and land it.
    std::fs::write(wt.join(".git"), &real_dot_git).unwrap();
    sh(wt, &["-c", "core.hooksPath=/dev/null", "checkout", "--", "a.txt"]);
    std::fs::remove_file(wt.join(".gitattributes")).unwrap();
    std::fs::remove_dir_all(wt.join(".githooks")).unwrap();
    std::fs::write(wt.join(".git"), format!("gitdir: {}\n", fake_git.display())).unwrap();
    commit_file(&repo, "main.txt", "main\n");
    assert!(matches!(history::rebase(tree, "main"), Ok(history::Rebased::Done(_))));
    merge(&repo, wt, "lulu/p", "main", Strategy::Merge, None).unwrap();
    assert!(
        !marker.exists(),
        "ran: {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
}

#[test]
fn a_worktree_the_repository_does_not_list_is_refused() {
    let (tmp, repo) = repo();
    let other = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&other).unwrap();
    let err = diff(
        Tree {
            repo: &repo,
            path: &other,
        },
        "main",
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a worktree"), "{err}");
}

/// A nested repository the agent made and added (a gitlink), whose own
/// config names a clean filter: lulu's status and diff never enter it.
#[test]
fn a_nested_repository_is_never_entered() {
    let (tmp, repo) = repo();
    let marker = tmp.path().join("filtered");
    let created = create(&repo, "n", "lulu/n", None, None).unwrap();
    let wt = &created.path;
    let sub = wt.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    sh(&sub, &["init", "--quiet"]);
    sh(&sub, &["config", "user.name", "T"]);
    sh(&sub, &["config", "user.email", "t@l"]);
    sh(
        &sub,
        &[
            "config",
            "filter.evil.clean",
            &format!("touch '{}'; cat", marker.display()),
        ],
    );
    std::fs::write(sub.join(".gitattributes"), "* filter=evil\n").unwrap();
    std::fs::write(sub.join("f"), "one\n").unwrap();
    sh(&sub, &["-c", "filter.evil.clean=cat", "add", "."]);
    sh(&sub, &["-c", "filter.evil.clean=cat", "commit", "--quiet", "-m", "sub"]);
    sh(wt, &["add", "sub"]);
    std::fs::write(sub.join("f"), "two\n").unwrap();
    assert!(!marker.exists(), "the set-up ran the filter");
    let tree = Tree { repo: &repo, path: wt };
    is_dirty(tree).unwrap();
    assert!(!marker.exists(), "status ran the filter");
    diff(tree, "main").unwrap();
    assert!(!marker.exists(), "diff ran the filter");
    history::changed_files(tree, "main").unwrap();
    assert!(!marker.exists(), "the nested repository's filter ran");
}

/// Steps planted in the worktree's rebase state (an `exec` line) are
/// never run by `:LuluRebase continue`.
#[test]
fn a_planted_rebase_is_not_continued() {
    let (tmp, repo) = repo();
    let marker = tmp.path().join("exec-ran");
    let created = create(&repo, "r", "lulu/r", None, None).unwrap();
    let wt = &created.path;
    commit_file(wt, "a.txt", "a\n");
    commit_file(wt, "b.txt", "b\n");
    let editor = format!("sed -i '1i break\\nexec touch {}'", marker.display());
    std::process::Command::new("git")
        .args(["-c", "core.hooksPath=/dev/null", "rebase", "-i", "HEAD~1"])
        .env("GIT_SEQUENCE_EDITOR", &editor)
        .current_dir(wt)
        .output()
        .unwrap();
    let err = history::rebase_continue(Tree { repo: &repo, path: wt }).unwrap_err();
    assert!(err.to_string().contains("not lulu's"), "{err}");
    assert!(!marker.exists(), "the planted exec ran");
}

#[test]
fn branch_names_from_the_template() {
    assert_eq!(branch_name(DEFAULT_BRANCH, "fix", "claude").unwrap(), "lulu/fix");
    assert_eq!(
        branch_name("agent/{agent}/{name}", "fix", "codex").unwrap(),
        "agent/codex/fix"
    );
    let dated = branch_name("{date}-{name}", "fix", "x").unwrap();
    assert!(
        dated.ends_with("-fix") && dated.len() == "2026-12-07-fix".len(),
        "{dated}"
    );
    assert!(
        branch_name("agent/fixed", "fix", "x")
            .unwrap_err()
            .contains("must contain {name}")
    );
    assert!(branch_name("a..{name}", "fix", "x").is_err());
    assert!(branch_name("{name}/{nope}", "fix", "x").is_err());
}

#[test]
fn untracked_files_are_counted_only_when_regular_and_inside() {
    let (_tmp, repo) = repo();
    let created = create(&repo, "count", "lulu/count", None, None).unwrap();
    let dir = created.path.clone();
    std::fs::write(dir.join("three.txt"), "a\nb\nc\n").unwrap();
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), "secret\n".repeat(50)).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.join("out")).unwrap();
    let fifo = std::ffi::CString::new(dir.join("pipe").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let tree = Tree {
        repo: &repo,
        path: &dir,
    };
    let files = history::changed_files(tree, "main").unwrap();
    let lines = |name: &str| files.iter().find(|f| f.path == name).map(|f| f.added);
    assert_eq!(lines("three.txt"), Some(3), "{files:?}");
    // The link is listed, but what it leads to is not read.
    assert_eq!(lines("out"), Some(0), "{files:?}");
    // A FIFO is never opened (its writer would be let through).
    assert!(matches!(lines("pipe"), None | Some(0)), "{files:?}");
}

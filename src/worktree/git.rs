//! Running the `git` CLI: always argv (never a shell string), always with
//! `-C <dir>`, stderr kept for the error message, and never a program the
//! repository configures: no fsmonitor, no hooks (whatever `core.hooksPath`
//! says; a relative one would run the worktree's files), no pager, no
//! editor, and no external diff or textconv where a command could use them.
//! A session's worktree is reached through [`Tree`]: its git directory is
//! the one the main repository lists for that path (`.git/worktrees/<n>`,
//! found by its `gitdir` file), never the worktree's own `.git` file, which
//! the agent can rewrite.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git` is not installed.
    #[error("git not found on PATH ({0}); install git")]
    Missing(std::io::Error),
    /// git ran and failed.
    #[error("git {args} failed: {stderr}")]
    Failed { args: String, stderr: String },
    /// The main repository lists no worktree at this path.
    #[error("{path} is not a worktree that {repo} lists (git worktree list)")]
    Unlisted { path: String, repo: String },
    /// A file lulu itself reads or writes in the repository.
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl GitError {
    pub fn io(path: &Path, source: std::io::Error) -> GitError {
        GitError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

pub struct Git {
    cmd: Command,
    args: Vec<String>,
    /// Set when the git directory could not be found: every run fails so.
    unplaced: Option<String>,
}

/// Settings every git lulu runs is given (they beat any config file).
const SAFE: &[&str] = &[
    "core.fsmonitor=false",
    // A nested repository (a submodule, or one the agent made and added)
    // is never entered: git would run its own config's filters there.
    "diff.ignoreSubmodules=all",
    "status.submoduleSummary=false",
    "submodule.recurse=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.editor=true",
    "sequence.editor=true",
    "protocol.ext.allow=never",
    "uploadpack.packObjectsHook=",
];
/// What a git command takes from the environment that could point it at
/// another repository or run a program.
const UNSET: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_EXEC_PATH",
    "GIT_CONFIG",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_PARAMETERS",
];

/// A session's worktree of the main repository `repo`.
#[derive(Debug, Clone, Copy)]
pub struct Tree<'a> {
    pub repo: &'a Path,
    pub path: &'a Path,
}

/// A [`Tree`] that owns its paths (to move into a job).
#[derive(Debug, Clone)]
pub struct OwnedTree {
    pub repo: std::path::PathBuf,
    pub path: std::path::PathBuf,
}

impl OwnedTree {
    pub fn tree(&self) -> Tree<'_> {
        Tree {
            repo: &self.repo,
            path: &self.path,
        }
    }
}

impl Tree<'_> {
    /// The worktree's git directory, as the main repository records it.
    pub fn git_dir(&self) -> Result<std::path::PathBuf, GitError> {
        let common = common_dir(self.repo)?;
        let want = same_place(&self.path.join(".git"));
        let listed = common.join("worktrees");
        for entry in std::fs::read_dir(&listed).into_iter().flatten().flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path().join("gitdir")) else {
                continue;
            };
            if same_place(Path::new(text.trim())) == want {
                return Ok(entry.path());
            }
        }
        Err(GitError::Unlisted {
            path: self.path.display().to_string(),
            repo: self.repo.display().to_string(),
        })
    }
}

/// The main repository's git directory: its `.git` directory, or where a
/// `.git` file of the user's own repository points.
fn common_dir(repo: &Path) -> Result<std::path::PathBuf, GitError> {
    let dot = repo.join(".git");
    let meta = std::fs::symlink_metadata(&dot).map_err(|err| GitError::io(&dot, err))?;
    if meta.is_dir() {
        return Ok(dot);
    }
    let text = std::fs::read_to_string(&dot).map_err(|err| GitError::io(&dot, err))?;
    let target = text.trim().strip_prefix("gitdir:").map(str::trim).unwrap_or_default();
    let dir = repo.join(target);
    // A linked worktree's git dir names the common one in `commondir`.
    match std::fs::read_to_string(dir.join("commondir")) {
        Ok(common) => Ok(dir.join(common.trim())),
        Err(_) => Ok(dir),
    }
}

fn same_place(path: &Path) -> std::path::PathBuf {
    let parent = path
        .parent()
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.to_path_buf()));
    match (parent, path.file_name()) {
        (Some(parent), Some(name)) => parent.join(name),
        _ => path.to_path_buf(),
    }
}

/// `git` in a session's worktree, its git directory from lulu's records.
pub fn git_at<I, S>(tree: Tree<'_>, args: I) -> Git
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut git = git(tree.path, std::iter::empty::<&str>());
    match tree.git_dir() {
        Ok(dir) => {
            git.cmd.arg("--git-dir").arg(dir).arg("--work-tree").arg(tree.path);
        }
        Err(err) => git.unplaced = Some(err.to_string()),
    }
    git.args(args)
}

/// `git -C dir args...`
pub fn git<I, S>(dir: &Path, args: I) -> Git
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir);
    for setting in SAFE {
        cmd.arg("-c").arg(setting);
    }
    for name in UNSET {
        cmd.env_remove(name);
    }
    // Never wait on an editor or a credential prompt.
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_EDITOR", "true")
        .env("GIT_SEQUENCE_EDITOR", "true")
        // A status must not take the index lock the agent's own git needs.
        .env("GIT_OPTIONAL_LOCKS", "0");
    let mut git = Git {
        cmd,
        args: Vec::new(),
        unplaced: None,
    };
    for arg in args {
        git = git.arg(arg);
    }
    git
}

impl Git {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Git {
        self.args.push(arg.as_ref().to_string_lossy().into_owned());
        self.cmd.arg(arg);
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Git {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    /// Run it: whether it succeeded, its stdout and its whole stderr.
    pub fn capture(mut self) -> Result<(bool, String, String), GitError> {
        if let Some(stderr) = self.unplaced.take() {
            return Err(GitError::Failed {
                args: self.args.join(" "),
                stderr,
            });
        }
        let out = self.cmd.output().map_err(GitError::Missing)?;
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        Ok((out.status.success(), text(&out.stdout), text(&out.stderr)))
    }

    pub fn run(self) -> Result<(), GitError> {
        self.output().map(drop)
    }

    pub fn output(self) -> Result<String, GitError> {
        self.output_allow_status(0)
    }

    /// Stdout, accepting exit code `also_ok` as success too.
    pub fn output_allow_status(mut self, also_ok: i32) -> Result<String, GitError> {
        if let Some(stderr) = self.unplaced.take() {
            return Err(GitError::Failed {
                args: self.args.join(" "),
                stderr,
            });
        }
        let out = self.cmd.output().map_err(GitError::Missing)?;
        match out.status.code() {
            Some(0) => {}
            Some(code) if code == also_ok => {}
            _ => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let stderr = stderr.trim();
                return Err(GitError::Failed {
                    args: self.args.join(" "),
                    stderr: if stderr.is_empty() {
                        format!("exit status {}", out.status)
                    } else {
                        stderr.lines().last().unwrap_or(stderr).to_string()
                    },
                });
            }
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

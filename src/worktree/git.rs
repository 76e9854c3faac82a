//! Running the `git` CLI: always argv (never a shell string), always with
//! `-C <dir>`, stderr kept for the error message.

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
}

/// `git -C dir args...`
pub fn git<I, S>(dir: &Path, args: I) -> Git
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir);
    // Never wait on an editor or a credential prompt.
    cmd.env("GIT_TERMINAL_PROMPT", "0").env("GIT_EDITOR", "true");
    let mut git = Git { cmd, args: Vec::new() };
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

    pub fn run(self) -> Result<(), GitError> {
        self.output().map(drop)
    }

    pub fn output(self) -> Result<String, GitError> {
        self.output_allow_status(0)
    }

    /// Stdout, accepting exit code `also_ok` as success too.
    pub fn output_allow_status(mut self, also_ok: i32) -> Result<String, GitError> {
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

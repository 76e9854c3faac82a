//! Sandboxed sessions (`sandbox = 'bwrap'`): the session's whole process
//! tree runs under bubblewrap, in its own mount, PID and IPC namespaces
//! (and network namespace when `network = false`).
//!
//! What the sandbox sees, from the least to the most specific path (a
//! deeper path's rule wins over its parent's, so `rw = { '~/.cache/x' }`
//! opens one directory of a hidden `~/.cache`):
//! - the whole system read-only, a fresh `/dev`, `/proc` (its own
//!   processes only: no `/proc/PID/root` way out) and a private `/tmp`;
//! - the home read-only, `hide` replaced by empty ones (directories) or
//!   `/dev/null` (files);
//! - read-write: the session's directory (its worktree or cwd), the parts
//!   repository's git directory a worktree commits into (never its
//!   `config` or `hooks`, which would run code in the user's next git
//!   command),
//!   the agent's own state (`~/.claude`, `~/.codex`, `~/.gemini`), lulu's
//!   files for this session, and `rw`;
//! - lulu's own files (the store, every session's logs and files, the
//!   runtime directory with the editor's control socket, Neovim's sockets)
//!   hidden, but for the session's hook socket, bound back alone: the
//!   agent can ask, it cannot answer.
//!
//! A socket on a read-only mount still accepts connections, which is why
//! lulu's runtime directory is replaced, not made read-only.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What every sandbox starts from (and what the probe tries): the system
/// read-only, a fresh `/dev`, and a `/proc` of its own PID namespace.
const BASE: &[&str] = &[
    "--unshare-pid",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
];

/// The tool that confines a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Bwrap,
}

/// What a start asks for (the editor has expanded `~`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sandbox {
    pub backend: Backend,
    /// Extra paths the session may read (under a hidden or private one).
    #[serde(default)]
    pub ro: Vec<String>,
    /// Extra paths the session may write.
    #[serde(default)]
    pub rw: Vec<String>,
    /// Paths the session must not see.
    #[serde(default)]
    pub hide: Vec<String>,
    /// `false`: a network namespace of its own, with no way out (the
    /// agent's model API then needs a proxy on a path it can reach).
    #[serde(default = "network_default")]
    pub network: bool,
}

fn network_default() -> bool {
    true
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SandboxError {
    #[error("sandbox.{key} path {path:?} must be absolute (or start with ~/)")]
    Relative { key: &'static str, path: String },
    #[error("sandbox.{key} path {path} is inside lulu's own files ({inside}), which a sandbox never sees")]
    LulusOwn {
        key: &'static str,
        path: String,
        inside: String,
    },
    #[error(
        "sandbox = 'bwrap' needs bubblewrap, which is not on PATH: install it (Debian/Ubuntu: apt install bubblewrap)"
    )]
    NoBwrap,
}

/// What lulu knows about a session that the sandbox must let through or
/// keep out.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub home: Option<PathBuf>,
    /// Where the agent starts (inside `writable`).
    pub run_dir: PathBuf,
    /// The worktree, or the cwd of a session that runs in place.
    pub writable: PathBuf,
    /// The repository lulu made the worktree in: its git directory takes
    /// the worktree's commits. Never read from the worktree's own `.git`
    /// file, which the agent can rewrite between two runs.
    pub repo: Option<PathBuf>,
    /// The session's branch (`lulu/<name>`), from lulu's records: its ref
    /// is what a commit in the worktree moves.
    pub branch: Option<String>,
    /// The agent's own state (its adapter's [`crate::adapter::Adapter::state_paths`]).
    pub agent_state: Vec<PathBuf>,
    /// lulu's files for this session (settings, hook config).
    pub session_dir: Option<PathBuf>,
    /// lulu's private places: data (the store), state (logs, all sessions'
    /// files), the runtime directory (sockets).
    pub private: Vec<PathBuf>,
    /// The session's hook socket, bound back inside the hidden runtime dir.
    pub hook_socket: Option<PathBuf>,
    /// Programs the session runs (lulu itself for hooks, the agent's
    /// command): each stays readable with what it needs to run.
    pub programs: Vec<PathBuf>,
    /// `$XDG_RUNTIME_DIR`: Neovim's and other programs' sockets.
    pub runtime_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Access {
    Read,
    Write,
    Hide,
}

impl Sandbox {
    /// `~/x` as `<home>/x` in every list: an editor on another machine
    /// cannot know this one's home.
    pub fn expand_home(&mut self, home: &Path) {
        for path in self.ro.iter_mut().chain(self.rw.iter_mut()).chain(self.hide.iter_mut()) {
            if let Some(expanded) = expand_home(path, home) {
                *path = expanded;
            }
        }
    }

    /// Reject what can be told wrong before anything starts: relative
    /// paths, paths into lulu's `private` places, no bubblewrap. Reads the
    /// filesystem (links, PATH).
    pub fn check(&self, private: &[PathBuf]) -> Result<(), SandboxError> {
        for (key, list) in [("ro", &self.ro), ("rw", &self.rw), ("hide", &self.hide)] {
            for path in list {
                if !Path::new(path).is_absolute() {
                    return Err(SandboxError::Relative {
                        key,
                        path: path.clone(),
                    });
                }
                if key == "hide" {
                    continue;
                }
                let path = real(Path::new(path));
                if let Some(own) = private.iter().find(|own| path.starts_with(real(own))) {
                    return Err(SandboxError::LulusOwn {
                        key,
                        path: path.display().to_string(),
                        inside: own.display().to_string(),
                    });
                }
            }
        }
        find_on_path("bwrap").map(|_| ()).ok_or(SandboxError::NoBwrap)
    }

    /// The argv that runs `argv` in this sandbox: `bwrap` and its mounts,
    /// then `--`, then `argv`. Reads the filesystem (what exists, a
    /// worktree's git files): call off the async runtime.
    pub fn wrap(&self, ctx: &Context, argv: Vec<String>) -> Result<Vec<String>, SandboxError> {
        self.check(&ctx.private)?;
        let bwrap = find_on_path("bwrap").ok_or(SandboxError::NoBwrap)?;
        let mut out = vec![bwrap.to_string_lossy().into_owned()];
        out.extend(["--die-with-parent", "--unshare-ipc"].map(String::from));
        out.extend(BASE.iter().map(|a| a.to_string()));
        out.extend(["--tmpfs", "/tmp"].map(String::from));
        if !self.network {
            out.push("--unshare-net".into());
        }
        for (path, access) in self.mounts(ctx) {
            let p = path.to_string_lossy().into_owned();
            match access {
                Access::Read => out.extend(["--ro-bind".into(), p.clone(), p]),
                Access::Write => out.extend(["--bind".into(), p.clone(), p]),
                Access::Hide if path.is_dir() => out.extend(["--tmpfs".into(), p]),
                Access::Hide => out.extend(["--ro-bind".into(), "/dev/null".into(), p]),
            }
        }
        if let Some(socket) = ctx.hook_socket.as_ref().filter(|s| s.exists()) {
            let p = socket.to_string_lossy().into_owned();
            out.extend(["--bind".into(), p.clone(), p]);
        }
        out.extend([
            "--chdir".into(),
            ctx.run_dir.to_string_lossy().into_owned(),
            "--".into(),
        ]);
        out.extend(argv);
        Ok(out)
    }

    /// Every mount after the base (`/` read-only, private `/tmp`), least
    /// specific first; of one path, the strongest (hide over write over
    /// read). Only paths that exist (bwrap cannot bind what is not there),
    /// each where it really leads.
    fn mounts(&self, ctx: &Context) -> Vec<(PathBuf, Access)> {
        let mut wanted: Vec<(PathBuf, Access)> = Vec::new();
        // Where each path really leads: a mount follows symlinks, and a
        // link to a hidden place must not open it.
        let mut add = |path: &Path, access| {
            if let Ok(path) = std::fs::canonicalize(path) {
                wanted.push((path, access));
            }
        };
        if let Some(home) = &ctx.home {
            // A home under /tmp would vanish with the private /tmp.
            add(home, Access::Read);
        }
        if let Some(runtime) = &ctx.runtime_dir {
            add(runtime, Access::Hide);
        }
        for program in &ctx.programs {
            if let Some(root) = program_root(program) {
                add(&root, Access::Read);
            }
        }
        for path in &self.ro {
            add(Path::new(path), Access::Read);
        }
        for path in &self.hide {
            add(Path::new(path), Access::Hide);
        }
        for path in &ctx.private {
            add(path, Access::Hide);
        }
        for path in &ctx.agent_state {
            add(path, Access::Write);
        }
        for path in &self.rw {
            add(Path::new(path), Access::Write);
        }
        if let Some(repo) = ctx.repo.as_deref() {
            for (path, access) in git_mounts(repo, &ctx.writable, ctx.branch.as_deref()) {
                add(&path, access);
            }
        }
        add(&ctx.writable, Access::Write);
        if let Some(dir) = &ctx.session_dir {
            add(dir, Access::Write);
        }
        // Deeper paths later; of one path the strongest kept.
        wanted.sort_by(|(a, x), (b, y)| depth(a).cmp(&depth(b)).then(a.cmp(b)).then(y.cmp(x)));
        wanted.dedup_by(|later, earlier| later.0 == earlier.0);
        wanted
    }
}

/// What a commit in a worktree of `repo` may write of the main
/// repository's git directory, the rest of which is read-only (its
/// `config`, hooks, `info/`, other branches, the main index and HEAD):
/// `objects/`, the directory of lulu's branch refs and their logs, and the
/// worktree's own admin directory (`worktrees/<n>`: HEAD, index, logs,
/// rebase state) but for `commondir`, `gitdir` and `config.worktree`,
/// which say where git looks and stay read-only, as does the worktree's
/// `.git` file. The admin directory is the one the main repository lists
/// for the worktree's path (never what its `.git` file says). Only a
/// `.git` that is a real directory: one that is a file or a link (a
/// separate git dir) is not followed, and the session then cannot commit.
fn git_mounts(repo: &Path, worktree: &Path, branch: Option<&str>) -> Vec<(PathBuf, Access)> {
    let common = repo.join(".git");
    if !std::fs::symlink_metadata(&common).is_ok_and(|m| m.is_dir()) {
        return Vec::new();
    }
    // Mount points must exist (a directory made inside the sandbox would
    // outlive it).
    let _ = std::fs::create_dir(common.join("hooks"));
    let _ = std::fs::create_dir_all(common.join("objects/info"));
    // `objects/info` names alternate object stores: read-only, so git
    // never looks in a store the agent chose.
    let mut out = vec![
        (common.clone(), Access::Read),
        (common.join("objects"), Access::Write),
        (common.join("objects/info"), Access::Read),
    ];
    if let Some((dir, _)) = branch.and_then(|b| b.rsplit_once('/')) {
        for refs in [
            common.join("refs/heads").join(dir),
            common.join("logs/refs/heads").join(dir),
        ] {
            let _ = std::fs::create_dir_all(&refs);
            out.push((refs, Access::Write));
        }
    }
    let tree = crate::worktree::Tree { repo, path: worktree };
    if let Ok(admin) = tree.git_dir() {
        out.push((admin.clone(), Access::Write));
        for pinned in ["commondir", "gitdir", "config.worktree"] {
            out.push((admin.join(pinned), Access::Read));
        }
        out.push((worktree.join(".git"), Access::Read));
    }
    out
}

/// What a program needs to run, where a private `/tmp` or a hidden path
/// may cover it: its directory, or for a Node.js CLI (`.bin/claude`, a
/// link into its package) the whole `node_modules` it was installed in.
fn program_root(program: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(program).ok()?;
    real.ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "node_modules"))
        .or_else(|| real.parent())
        .map(Path::to_path_buf)
}

/// Where `path` really leads; for a path that does not exist (yet), its
/// lexical form.
fn real(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normal(path))
}

/// `a/./b/../c` as `a/c`, without touching the filesystem.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `~` or `~/rest` under `home`; `None` for any other path.
pub fn expand_home(path: &str, home: &Path) -> Option<String> {
    if path == "~" {
        return Some(home.display().to_string());
    }
    path.strip_prefix("~/")
        .map(|rest| home.join(rest).display().to_string())
}

fn depth(path: &Path) -> usize {
    path.components().count()
}

pub fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether sandboxes work on this machine, in one line (for `:checkhealth
/// lulu`): `Ok` names bwrap's version; `Err` names the problem and the fix.
pub fn probe() -> Result<String, String> {
    let Some(bwrap) = find_on_path("bwrap") else {
        return Err(SandboxError::NoBwrap.to_string());
    };
    let run = std::process::Command::new(&bwrap)
        .args(BASE)
        .arg("true")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output();
    match run {
        Ok(out) if out.status.success() => {
            let version = std::process::Command::new(&bwrap)
                .arg("--version")
                .output()
                .ok()
                .map(|v| String::from_utf8_lossy(&v.stdout).trim().to_string())
                .unwrap_or_default();
            Ok(format!("{version} at {} works (sandbox = 'bwrap')", bwrap.display()))
        }
        Ok(out) => Err(format!(
            "bwrap cannot make a sandbox here: {} (user namespaces may be off: sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu an AppArmor profile for bwrap)",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(err) => Err(format!("cannot run {}: {err}", bwrap.display())),
    }
}

#[cfg(test)]
mod tests;

//! Pushing a session's branch. The remote's URL is read from the
//! repository's config and checked (a transport lulu knows; never an
//! option); then the network step runs from a private scratch repository
//! that borrows the repository's objects (`objects/info/alternates`), so
//! none of the repository's config applies to it (no `remote.<url>`
//! section, `insteadOf`, `core.gitProxy`, `http.*`, credential helper):
//! only the user's own global and system config does, and lulu's pins (no
//! hooks, `ssh` as the ssh command, no askpass, no signing). A local
//! remote must be a plain bare repository (no alternates, no worktrees),
//! and its receive-pack runs with hooks, fsmonitor, checkouts and
//! alternate-ref commands off. The upstream is recorded only once the push
//! succeeded: a failed push changes nothing here.

use std::path::Path;

use super::git::git;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PushError {
    #[error("no remote {0:?} in this repository; add it with git remote add {0} URL")]
    NoRemote(String),
    #[error("{0:?} is not a remote name lulu pushes to (letters, digits, '.', '_', '-')")]
    BadName(String),
    #[error("remote {remote} has a URL lulu does not push to ({why}); push it yourself")]
    BadUrl { remote: String, why: String },
    #[error("the session's worktree has a detached HEAD; check out {0} in it first")]
    Detached(String),
    #[error("{remote} has commits {branch} lacks: :LuluRebase onto them, or :LuluPush! to overwrite (with lease)")]
    Rejected { remote: String, branch: String },
    #[error("{remote} refused the credentials: set them up (gh auth login, an ssh key) and push again")]
    Auth { remote: String },
    #[error("git push to {remote} failed: {detail}")]
    Failed { remote: String, detail: String },
}

/// A transport lulu pushes over.
#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    /// https, http, ssh, git: a server's.
    Network,
    /// A path on this machine (`/srv/x.git`, `file://`).
    Local,
}

/// What lulu makes of a remote's URL.
pub fn transport(url: &str) -> Result<Transport, String> {
    if url.is_empty() || url.starts_with('-') || url.contains(['\n', '\0']) {
        return Err("empty, or an option".into());
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return match scheme {
            "https" | "http" | "ssh" | "git+ssh" | "ssh+git" => Ok(Transport::Network),
            // Unauthenticated, and `core.gitProxy` runs a program for it.
            "git" => Err("the git:// transport (read-only, unauthenticated)".into()),
            "file" => Ok(Transport::Local),
            other => Err(format!("the {other}:// transport")),
        };
    }
    if url.contains("::") {
        return Err("a remote helper (transport::address)".into());
    }
    if url.starts_with('/') || url.starts_with("./") || url.starts_with("../") {
        return Ok(Transport::Local);
    }
    // scp-like `user@host:path` (a colon before any slash).
    match (url.find(':'), url.find('/')) {
        (Some(colon), slash) if slash.is_none_or(|s| colon < s) => Ok(Transport::Network),
        _ => Ok(Transport::Local),
    }
}

/// The remote's push URL (`pushurl`, else `url`).
pub fn remote_url(repo: &Path, remote: &str) -> Result<String, PushError> {
    let valid = !remote.is_empty()
        && !remote.starts_with(['-', '.'])
        && remote.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !valid {
        return Err(PushError::BadName(remote.to_string()));
    }
    for key in ["pushurl", "url"] {
        let got = git(repo, ["config", "--get", &format!("remote.{remote}.{key}")]).output_allow_status(1);
        if let Ok(url) = got
            && !url.trim().is_empty()
        {
            return Ok(url.trim().to_string());
        }
    }
    Err(PushError::NoRemote(remote.to_string()))
}

/// The remote's fetch URL (`url`): the forge its requests go to.
pub fn fetch_url(repo: &Path, remote: &str) -> Result<String, PushError> {
    remote_url(repo, remote)?;
    git(repo, ["config", "--get", &format!("remote.{remote}.url")])
        .output_allow_status(1)
        .ok()
        .map(|url| url.trim().to_string())
        .filter(|url| !url.is_empty())
        .ok_or_else(|| PushError::NoRemote(remote.to_string()))
}

/// A local remote's receive-pack: hooks, fsmonitor, a checkout of the
/// pushed branch, alternate-ref commands and gc all off.
const LOCAL_RECEIVE_PACK: &str = "git -c core.hooksPath=/dev/null -c core.fsmonitor=false \
     -c receive.denyCurrentBranch=refuse -c core.alternateRefsCommand=true -c receive.autogc=false \
     -c receive.procReceiveRefs= receive-pack";
/// A local remote's upload-pack (the lease's look).
const LOCAL_UPLOAD_PACK: &str =
    "git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c core.alternateRefsCommand=true upload-pack";

/// Push `branch` to `remote` (force: with a lease on what the remote has
/// now). Returns the URL it went to.
pub fn push(repo: &Path, worktree: &Path, branch: &str, remote: &str, force: bool) -> Result<String, PushError> {
    let url = remote_url(repo, remote)?;
    let failed = |detail: String| PushError::Failed {
        remote: remote.to_string(),
        detail,
    };
    let bad_url = |why: String| PushError::BadUrl {
        remote: remote.to_string(),
        why,
    };
    let kind = transport(&url).map_err(bad_url)?;
    if kind == Transport::Local {
        plain_bare(repo, &url).map_err(bad_url)?;
    }
    let tree = super::git::Tree { repo, path: worktree };
    let head = super::git::git_at(tree, ["symbolic-ref", "-q", "HEAD"]).output_allow_status(1);
    if head.map(|h| h.trim().is_empty()).unwrap_or(true) {
        return Err(PushError::Detached(branch.to_string()));
    }
    let commit = git(
        repo,
        ["rev-parse", "--verify", &format!("refs/heads/{branch}^{{commit}}")],
    )
    .output()
    .map_err(|e| failed(e.to_string()))?;
    let scratch = Scratch::borrowing(repo).map_err(failed)?;
    let mut args = scratch_args(&scratch.0);
    args.extend(["push".to_string(), "--porcelain".to_string()]);
    if force {
        // The lease: what the remote has now (nothing: it must have none).
        let now = remote_has(&scratch.0, &url, branch).map_err(failed)?;
        args.push(format!("--force-with-lease=refs/heads/{branch}:{now}"));
    }
    if kind == Transport::Local {
        args.push(format!("--receive-pack={LOCAL_RECEIVE_PACK}"));
    }
    args.extend([
        "--".to_string(),
        url.clone(),
        format!("{}:refs/heads/{branch}", commit.trim()),
    ]);
    let (ok, out, err) = git(&scratch.0, &args).capture().map_err(|e| failed(e.to_string()))?;
    if !ok {
        return Err(classify(remote, branch, &format!("{out}\n{err}")));
    }
    record_upstream(repo, branch, remote);
    Ok(url)
}

/// `--git-dir` of the scratch repository, then the pins.
fn scratch_args(scratch: &Path) -> Vec<String> {
    let mut args = vec!["--git-dir".to_string(), scratch.to_string_lossy().into_owned()];
    args.extend(pinned());
    args
}

/// A private bare repository with no config of the user's repository, its
/// objects borrowed; removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn borrowing(repo: &Path) -> Result<Scratch, String> {
        let objects = git(repo, ["rev-parse", "--git-common-dir"])
            .output()
            .map(|dir| {
                let dir = std::path::PathBuf::from(dir.trim());
                if dir.is_absolute() { dir } else { repo.join(dir) }.join("objects")
            })
            .map_err(|e| e.to_string())?;
        let dir = std::env::temp_dir().join(format!("lulu-push-{}", crate::private::token()));
        crate::private::dir(&dir, crate::private::Links::Refuse).map_err(|e| e.to_string())?;
        let scratch = Scratch(dir);
        git(
            &scratch.0,
            ["--git-dir", &scratch.0.to_string_lossy(), "init", "--bare", "--quiet"],
        )
        .run()
        .map_err(|e| e.to_string())?;
        let alternates = scratch.0.join("objects/info/alternates");
        std::fs::write(&alternates, format!("{}\n", objects.display())).map_err(|e| e.to_string())?;
        Ok(scratch)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A local remote must be a plain bare repository: its own config says
/// bare, it borrows no objects, and it has no worktrees to check out into.
fn plain_bare(repo: &Path, url: &str) -> Result<(), String> {
    let path = url.strip_prefix("file://").unwrap_or(url);
    let dir = if Path::new(path).is_absolute() {
        Path::new(path).to_path_buf()
    } else {
        repo.join(path)
    };
    let bare = git(
        repo,
        [
            "config",
            "--file",
            &dir.join("config").to_string_lossy(),
            "--get",
            "core.bare",
        ],
    )
    .output_allow_status(1)
    .map(|v| v.trim() == "true")
    .unwrap_or(false);
    if !bare {
        return Err(format!("{} is not a bare repository", dir.display()));
    }
    if dir.join("objects/info/alternates").exists() || dir.join("worktrees").exists() {
        return Err(format!("{} borrows objects or has worktrees", dir.display()));
    }
    Ok(())
}

/// The settings every push or look at a remote runs with (see the top).
fn pinned() -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    for setting in [
        "core.sshCommand=ssh",
        "core.askPass=",
        "push.gpgSign=false",
        "push.recurseSubmodules=no",
        "protocol.allow=never",
        "protocol.https.allow=always",
        "protocol.http.allow=always",
        "protocol.ssh.allow=always",
        "protocol.git.allow=always",
        "protocol.file.allow=always",
    ] {
        args.extend(["-c".to_string(), setting.to_string()]);
    }
    args
}

/// The commit the remote's `branch` is at now ("" when it has none).
fn remote_has(scratch: &Path, url: &str, branch: &str) -> Result<String, String> {
    let mut args = scratch_args(scratch);
    args.push("ls-remote".to_string());
    if transport(url) == Ok(Transport::Local) {
        args.push(format!("--upload-pack={LOCAL_UPLOAD_PACK}"));
    }
    args.extend(["--", url, &format!("refs/heads/{branch}")].map(str::to_string));
    let (ok, out, err) = git(scratch, &args).capture().map_err(|e| e.to_string())?;
    if !ok {
        return Err(err.lines().last().unwrap_or("ls-remote failed").to_string());
    }
    Ok(out.split_whitespace().next().unwrap_or("").to_string())
}

fn classify(remote: &str, branch: &str, text: &str) -> PushError {
    let has = |needle: &str| text.contains(needle);
    if has("[rejected]") || has("non-fast-forward") || has("fetch first") || has("stale info") {
        return PushError::Rejected {
            remote: remote.to_string(),
            branch: branch.to_string(),
        };
    }
    if has("Authentication failed") || has("Permission denied") || has("could not read Username") || has("403") {
        return PushError::Auth {
            remote: remote.to_string(),
        };
    }
    let detail = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("hint:"))
        .unwrap_or("no output")
        .to_string();
    PushError::Failed {
        remote: remote.to_string(),
        detail,
    }
}

/// `branch.<b>.remote` and `.merge`, as `push -u` sets them, and the
/// remote-tracking ref (a push by URL updates none).
fn record_upstream(repo: &Path, branch: &str, remote: &str) {
    let _ = git(repo, ["config", &format!("branch.{branch}.remote"), remote]).run();
    let _ = git(
        repo,
        [
            "config",
            &format!("branch.{branch}.merge"),
            &format!("refs/heads/{branch}"),
        ],
    )
    .run();
    let _ = git(
        repo,
        [
            "update-ref",
            &format!("refs/remotes/{remote}/{branch}"),
            &format!("refs/heads/{branch}"),
        ],
    )
    .run();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_lulu_pushes_over_and_those_it_refuses() {
        for url in ["https://github.com/o/r.git", "ssh://git@h/r", "git@github.com:o/r.git"] {
            assert_eq!(transport(url), Ok(Transport::Network), "{url}");
        }
        for url in ["/srv/r.git", "file:///srv/r.git", "../r.git", "./r"] {
            assert_eq!(transport(url), Ok(Transport::Local), "{url}");
        }
        for url in [
            "git://h/r",
            "ext::sh -c evil",
            "fd::3",
            "-oProxyCommand=x",
            "",
            "svn::x",
            "gopher://h/r",
        ] {
            assert!(transport(url).is_err(), "{url}");
        }
    }
}

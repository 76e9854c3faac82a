//! Pushing a session's branch. The remote's URL is read from the
//! repository's config and checked (a transport lulu knows; never an
//! option), then pushed to *by URL*, so that no `remote.*` setting (a
//! `receivepack` program) applies, with every setting that could run a
//! program pinned: no hooks (and none of a local remote's own: its
//! receive-pack runs with hooks off), `ssh` as the ssh command, no askpass,
//! no signing, only the user's own credential helpers (global and system
//! config), not the repository's. The upstream is recorded only once the
//! push succeeded: a failed push changes nothing here.

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
            "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git" => Ok(Transport::Network),
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

/// The user's own credential helpers (global and system config only).
fn own_helpers(repo: &Path) -> Vec<String> {
    let mut helpers = Vec::new();
    for scope in ["--system", "--global"] {
        if let Ok(out) = git(repo, ["config", scope, "--get-all", "credential.helper"]).output_allow_status(1) {
            helpers.extend(out.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string));
        }
    }
    helpers
}

/// Push `branch` to `remote` (force: with a lease on what the remote had).
pub fn push(repo: &Path, worktree: &Path, branch: &str, remote: &str, force: bool) -> Result<(), PushError> {
    let url = remote_url(repo, remote)?;
    let kind = transport(&url).map_err(|why| PushError::BadUrl {
        remote: remote.to_string(),
        why,
    })?;
    let tree = super::git::Tree { repo, path: worktree };
    let head = super::git::git_at(tree, ["symbolic-ref", "-q", "HEAD"]).output_allow_status(1);
    if head.map(|h| h.trim().is_empty()).unwrap_or(true) {
        return Err(PushError::Detached(branch.to_string()));
    }
    let mut args = pinned(repo);
    args.extend(["push".to_string(), "--porcelain".to_string()]);
    if force {
        // The lease: what the remote has now (nothing: it must have none).
        let now = remote_has(repo, &url, branch).map_err(|detail| PushError::Failed {
            remote: remote.to_string(),
            detail,
        })?;
        args.push(format!("--force-with-lease=refs/heads/{branch}:{now}"));
    }
    if kind == Transport::Local {
        args.push("--receive-pack=git -c core.hooksPath=/dev/null receive-pack".to_string());
    }
    args.extend([
        "--".to_string(),
        url,
        format!("refs/heads/{branch}:refs/heads/{branch}"),
    ]);
    let (ok, out, err) = git(repo, &args).capture().map_err(|e| PushError::Failed {
        remote: remote.to_string(),
        detail: e.to_string(),
    })?;
    if !ok {
        return Err(classify(remote, branch, &format!("{out}\n{err}")));
    }
    record_upstream(repo, branch, remote);
    Ok(())
}

/// The settings every push or look at a remote runs with (see the top).
fn pinned(repo: &Path) -> Vec<String> {
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
        "credential.helper=",
    ] {
        args.extend(["-c".to_string(), setting.to_string()]);
    }
    for helper in own_helpers(repo) {
        args.extend(["-c".to_string(), format!("credential.helper={helper}")]);
    }
    args
}

/// The commit the remote's `branch` is at now ("" when it has none).
fn remote_has(repo: &Path, url: &str, branch: &str) -> Result<String, String> {
    let mut args = pinned(repo);
    if transport(url) == Ok(Transport::Local) {
        args.push("-c".to_string());
        args.push("uploadpack.packObjectsHook=".to_string());
    }
    args.extend(["ls-remote", "--", url, &format!("refs/heads/{branch}")].map(str::to_string));
    let (ok, out, err) = git(repo, &args).capture().map_err(|e| e.to_string())?;
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
        for url in [
            "https://github.com/o/r.git",
            "ssh://git@h/r",
            "git@github.com:o/r.git",
            "git://h/r",
        ] {
            assert_eq!(transport(url), Ok(Transport::Network), "{url}");
        }
        for url in ["/srv/r.git", "file:///srv/r.git", "../r.git", "./r"] {
            assert_eq!(transport(url), Ok(Transport::Local), "{url}");
        }
        for url in [
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

//! Opening a pull request (GitHub, `gh`) or merge request (GitLab,
//! `glab`) for a pushed branch. The forge and the repository are read from
//! the remote's URL; the CLI is run with every choice on its command line
//! (`--repo`, `--head`, `--base`, title and body) from a directory outside
//! the repository, so it reads nothing of the repository's own config, and
//! with no prompt.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, PartialEq)]
pub enum Forge {
    GitHub,
    GitLab,
}

impl Forge {
    pub fn cli(&self) -> &'static str {
        match self {
            Forge::GitHub => "gh",
            Forge::GitLab => "glab",
        }
    }

    fn install(&self) -> &'static str {
        match self {
            Forge::GitHub => "install gh (https://cli.github.com) and run gh auth login",
            Forge::GitLab => "install glab (https://gitlab.com/gitlab-org/cli) and run glab auth login",
        }
    }
}

/// The forge, host and repository path of a remote URL, when lulu knows
/// it: github.com with exactly `owner/repo`, or a host named `gitlab…`.
/// (Another GitHub host is not guessed at: gh would send it an enterprise
/// token.)
pub fn parse(url: &str) -> Option<(Forge, String, String)> {
    let (authority, path) = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/')?,
        // scp-like `[user@]host:path`
        None => url.split_once(':')?,
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = host.split(':').next()?.to_ascii_lowercase();
    let path = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .trim_end_matches(".git");
    let segments: Vec<&str> = path.split('/').collect();
    let valid = segments.len() >= 2
        && segments.iter().all(|s| {
            !s.is_empty()
                && !s.starts_with(['-', '.'])
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        });
    if !valid || host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c)) {
        return None;
    }
    let forge = match host.as_str() {
        "github.com" if segments.len() == 2 => Forge::GitHub,
        h if h.contains("gitlab") => Forge::GitLab,
        _ => return None,
    };
    Some((forge, host, path.to_string()))
}

/// What opening the request came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Opened {
    /// Its URL, and whether it existed already.
    Url { url: String, existed: bool },
    /// No CLI for the forge (or no forge lulu knows): what to do instead.
    Cannot(String),
}

pub struct Request<'a> {
    pub url: &'a str,
    pub branch: &'a str,
    pub base: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// Where the CLI runs (outside the repository), and `$PATH`.
    pub dir: &'a Path,
    pub path_var: Option<&'a str>,
}

/// Open the pull (merge) request. `Err`: the CLI failed, with its words.
pub fn open(req: &Request<'_>) -> Result<Opened, String> {
    let Some((forge, host, repo)) = parse(req.url) else {
        return Ok(Opened::Cannot(format!(
            "{} is not a GitHub or GitLab remote: open the request on its forge",
            req.url
        )));
    };
    let Some(cli) = find(forge.cli(), req.path_var) else {
        return Ok(Opened::Cannot(forge.install().to_string()));
    };
    let args = cli_args(&forge, &host, repo, req);
    let out = Command::new(&cli)
        .args(&args)
        .current_dir(req.dir)
        .env("GH_PROMPT_DISABLED", "1")
        .env("GH_NO_UPDATE_NOTIFIER", "1")
        .env("NO_COLOR", "1")
        .env("GLAB_NO_PROMPT", "1")
        .env_remove("GH_ENTERPRISE_TOKEN")
        .env_remove("GITHUB_ENTERPRISE_TOKEN")
        .env_remove("GH_HOST")
        .output()
        .map_err(|err| format!("cannot run {}: {err}", cli.display()))?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let url = |text: &str| {
        text.split_whitespace()
            .find(|w| w.starts_with("https://"))
            .map(str::to_string)
    };
    if out.status.success() {
        return url(&stdout)
            .or_else(|| url(&stderr))
            .map(|url| Opened::Url { url, existed: false })
            .ok_or_else(|| format!("{} said nothing of the request's URL", forge.cli()));
    }
    if stderr.contains("already exists")
        && let Some(url) = url(&stderr).or_else(|| url(&stdout))
    {
        return Ok(Opened::Url { url, existed: true });
    }
    let last = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no output");
    Err(format!("{} failed: {last}", forge.cli()))
}

/// The CLI's arguments: every choice on its command line.
fn cli_args(forge: &Forge, host: &str, repo: String, req: &Request<'_>) -> Vec<String> {
    // glab takes a full URL (a bare path would go to gitlab.com).
    let repo = match forge {
        Forge::GitHub => repo,
        Forge::GitLab => format!("https://{host}/{repo}"),
    };
    let args = match forge {
        Forge::GitHub => vec![
            "pr", "create", "--repo", &repo, "--head", req.branch, "--base", req.base, "--title", req.title, "--body",
            req.body,
        ],
        Forge::GitLab => vec![
            "mr",
            "create",
            "--repo",
            &repo,
            "--source-branch",
            req.branch,
            "--target-branch",
            req.base,
            "--title",
            req.title,
            "--description",
            req.body,
            "--yes",
        ],
    };
    args.into_iter().map(str::to_string).collect()
}

/// `name` on `$PATH`.
pub fn find(name: &str, path_var: Option<&str>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path_var?)
        .map(|dir| dir.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forges_from_remote_urls() {
        let gh = |h: &str, r: &str| Some((Forge::GitHub, h.to_string(), r.to_string()));
        assert_eq!(parse("https://github.com/o/r.git"), gh("github.com", "o/r"));
        assert_eq!(parse("git@github.com:o/r.git"), gh("github.com", "o/r"));
        assert_eq!(parse("ssh://git@github.com/o/r"), gh("github.com", "o/r"));
        assert_eq!(
            parse("https://gitlab.example.com/g/sub/p.git"),
            Some((Forge::GitLab, "gitlab.example.com".into(), "g/sub/p".into()))
        );
        for none in [
            "/srv/r.git",
            "https://example.com/o/r",
            "git@github.com:-o/r",
            "https://github.com/o",
        ] {
            assert_eq!(parse(none), None, "{none}");
        }
    }
}

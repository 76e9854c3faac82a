//! `.lulu.json` at a repository's root: per-repository `copy` and `setup`
//! for new worktrees. It can run commands, so lulu honours it only once the
//! user has trusted that exact content (`:LuluTrust`, keyed by its SHA-256,
//! as direnv does).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

pub const FILE: &str = ".lulu.json";

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// Globs of untracked files to copy into each new worktree.
    #[serde(default)]
    pub copy: Option<Vec<String>>,
    /// argv to run in each new worktree before the agent.
    #[serde(default)]
    pub setup: Option<Vec<String>>,
}

/// The file's path, content hash and parsed content, if the repository has
/// one.
pub struct Found {
    pub path: PathBuf,
    pub sha256: String,
    pub parsed: Result<RepoConfig, String>,
}

pub fn find(repo_dir: &Path) -> Option<Found> {
    let path = repo_dir.join(FILE);
    let bytes = std::fs::read(&path).ok()?;
    let sha256 = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let parsed = serde_json::from_slice(&bytes).map_err(|err| format!("{}: {err}", path.display()));
    Some(Found { path, sha256, parsed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_parses_and_hashes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(find(dir.path()).is_none());
        std::fs::write(dir.path().join(FILE), r#"{"copy": [".env"], "setup": ["npm", "ci"]}"#).unwrap();
        let found = find(dir.path()).unwrap();
        assert_eq!(found.sha256.len(), 64);
        assert_eq!(
            found.parsed.unwrap(),
            RepoConfig {
                copy: Some(vec![".env".into()]),
                setup: Some(vec!["npm".into(), "ci".into()]),
            }
        );
        std::fs::write(dir.path().join(FILE), r#"{"setup": "npm ci"}"#).unwrap();
        let again = find(dir.path()).unwrap();
        assert_ne!(again.sha256, found.sha256);
        assert!(again.parsed.unwrap_err().contains("invalid type"));
    }
}

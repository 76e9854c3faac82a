//! `lulu launch <spec>`: how a pre-warmed shell becomes an agent. The host
//! types `exec '<lulu>' launch '<spec>'` into the idle shell; the spec file
//! (0600, in lulu's state dir, removed on read) carries the directory,
//! environment (with the session's hook token) and argv, so none of it is
//! typed into a terminal or built into a shell string.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchSpec {
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    pub argv: Vec<String>,
}

impl LaunchSpec {
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        file.write_all(&serde_json::to_vec(self).map_err(std::io::Error::other)?)
    }
}

/// Read (and remove) the spec, then become its program. Returns only on
/// failure.
pub fn run(path: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let _ = std::fs::remove_file(path);
    let spec: LaunchSpec = serde_json::from_slice(&bytes).context("malformed launch spec")?;
    let Some(program) = spec.argv.first() else {
        bail!("launch spec has an empty argv");
    };
    // Wipe the idle shell's prompt and the typed exec line from the screen.
    print!("\x1b[H\x1b[2J");
    let _ = std::io::stdout().flush();
    let err = Command::new(program)
        .args(&spec.argv[1..])
        .current_dir(&spec.cwd)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .exec();
    Err(err).with_context(|| format!("cannot start {program}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_files_are_private_and_single_use() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("launch.json");
        let spec = LaunchSpec {
            cwd: dir.path().to_path_buf(),
            env: vec![("LULU_TOKEN".into(), "secret".into())],
            argv: vec!["/nonexistent/agent".into()],
        };
        spec.write(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(spec.write(&path).is_err(), "never overwrites");
        let err = run(&path).unwrap_err();
        assert!(err.to_string().contains("cannot start /nonexistent/agent"), "{err}");
        assert!(!path.exists(), "removed on read");
    }
}

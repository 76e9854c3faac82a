//! The file services an ACP client offers its agent (`fs/read_text_file`,
//! `fs/write_text_file`), fenced to the session: a path is judged by where
//! it really leads (symlinks resolved), only regular files, bounded sizes.
//! A path that leads outside the session is not refused here: the caller
//! asks (as a path rule would), then calls [`read`] or [`write`] again with
//! `outside_allowed`.

use std::path::{Path, PathBuf};

/// Largest file read or written for an agent.
pub const MAX_FILE: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FsError {
    #[error("{0} leads outside the session")]
    Outside(PathBuf),
    #[error("{0} is not an absolute path")]
    Relative(String),
    #[error("{path} is not a regular file")]
    NotFile { path: PathBuf },
    #[error("{path} is larger than {max} bytes", max = MAX_FILE)]
    TooLarge { path: PathBuf },
    #[error("{path} is not UTF-8 text")]
    NotText { path: PathBuf },
    /// ACP's "resource not found" (agents take it for a new file).
    #[error("Resource not found: {0}")]
    Missing(PathBuf),
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> FsError + '_ {
    move |err| match err.kind() {
        std::io::ErrorKind::NotFound => FsError::Missing(path.to_path_buf()),
        _ => FsError::Io {
            path: path.to_path_buf(),
            message: err.to_string(),
        },
    }
}

impl FsError {
    /// The JSON-RPC error code: ACP's -32002 for a missing file.
    pub fn code(&self) -> i64 {
        match self {
            FsError::Missing(_) => -32002,
            _ => super::wire::REFUSED,
        }
    }
}

/// Where `raw` really leads: the file's own path with every directory
/// above it resolved (a missing file's directory must exist), and the
/// file itself if it is a symlink.
pub fn resolve(raw: &str) -> Result<PathBuf, FsError> {
    let path = Path::new(raw);
    if !path.is_absolute() {
        return Err(FsError::Relative(raw.chars().take(200).collect()));
    }
    if let Ok(real) = path.canonicalize() {
        return Ok(real);
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(FsError::Relative(raw.to_string()));
    };
    if path.symlink_metadata().is_ok() {
        // A dangling symlink: where it leads cannot be said.
        return Err(FsError::NotFile {
            path: path.to_path_buf(),
        });
    }
    let dir = parent.canonicalize().map_err(io(parent))?;
    Ok(dir.join(name))
}

/// Is `real` (resolved) inside `root` (resolved)?
pub fn inside(real: &Path, root: &Path) -> bool {
    real.starts_with(root)
}

/// Read a text file, optionally from a line (1-based) for `limit` lines.
pub fn read(
    real: &Path,
    root: &Path,
    outside_allowed: bool,
    line: Option<u64>,
    limit: Option<u64>,
) -> Result<String, FsError> {
    if !outside_allowed && !inside(real, root) {
        return Err(FsError::Outside(real.to_path_buf()));
    }
    let meta = std::fs::metadata(real).map_err(io(real))?;
    if !meta.is_file() {
        return Err(FsError::NotFile {
            path: real.to_path_buf(),
        });
    }
    if meta.len() > MAX_FILE {
        return Err(FsError::TooLarge {
            path: real.to_path_buf(),
        });
    }
    let bytes = std::fs::read(real).map_err(io(real))?;
    let text = String::from_utf8(bytes).map_err(|_| FsError::NotText {
        path: real.to_path_buf(),
    })?;
    if line.is_none() && limit.is_none() {
        return Ok(text);
    }
    let skip = line.unwrap_or(1).saturating_sub(1) as usize;
    let take = limit.map_or(usize::MAX, |l| l as usize);
    Ok(text.split_inclusive('\n').skip(skip).take(take).collect())
}

/// Write a text file (made if missing): only a regular file, never through
/// a symlink, at most [`MAX_FILE`] bytes.
pub fn write(real: &Path, root: &Path, outside_allowed: bool, content: &str) -> Result<(), FsError> {
    if !outside_allowed && !inside(real, root) {
        return Err(FsError::Outside(real.to_path_buf()));
    }
    if content.len() as u64 > MAX_FILE {
        return Err(FsError::TooLarge {
            path: real.to_path_buf(),
        });
    }
    match std::fs::symlink_metadata(real) {
        Ok(meta) if !meta.is_file() => {
            return Err(FsError::NotFile {
                path: real.to_path_buf(),
            });
        }
        _ => {}
    }
    std::fs::write(real, content).map_err(io(real))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_judged_where_they_lead() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root").canonicalize().ok();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        let root = root.unwrap_or_else(|| dir.path().join("root").canonicalize().unwrap());
        std::fs::write(root.join("a.txt"), "one\ntwo\nthree\n").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone"), root.join("dangling")).unwrap();

        let at = |rel: &str| resolve(root.join(rel).to_str().unwrap());
        assert_eq!(
            read(&at("a.txt").unwrap(), &root, false, Some(2), Some(1)).unwrap(),
            "two\n"
        );
        let link = at("link").unwrap();
        assert!(matches!(
            read(&link, &root, false, None, None),
            Err(FsError::Outside(_))
        ));
        assert_eq!(read(&link, &root, true, None, None).unwrap(), "s");
        assert!(matches!(at("dangling"), Err(FsError::NotFile { .. })));
        assert!(matches!(at("../root/../secret").map(|p| inside(&p, &root)), Ok(false)));
        assert!(matches!(resolve("relative/x"), Err(FsError::Relative(_))));
        assert!(matches!(
            read(&root, &root, false, None, None),
            Err(FsError::NotFile { .. })
        ));

        let new = at("new.txt").unwrap();
        write(&new, &root, false, "hi").unwrap();
        assert_eq!(std::fs::read_to_string(root.join("new.txt")).unwrap(), "hi");
        assert!(matches!(write(&link, &root, false, "x"), Err(FsError::Outside(_))));
        let big = "x".repeat(MAX_FILE as usize + 1);
        assert!(matches!(write(&new, &root, false, &big), Err(FsError::TooLarge { .. })));
        assert!(at("missing-dir/x").is_err());
    }
}

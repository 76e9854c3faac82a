//! A worktree's files read and written for a review in an editor that
//! cannot reach them itself (a remote host's). Each path is judged by where
//! it really leads: a link out of the worktree is refused, so a review
//! never reads or writes anything but the session's own files.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Largest file a review reads or writes through the host.
pub const MAX_REVIEW_FILE: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0} leads outside the session's worktree")]
    Outside(String),
    #[error("{0} is larger than 4 MiB; open it on its host")]
    TooLarge(String),
    #[error("{0} is not text (UTF-8)")]
    NotText(String),
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
}

/// Where `file` (relative, no `..`: checked by the protocol) really is
/// under `worktree`, or why not. A file that does not exist yet is judged
/// by its directory.
fn inside(worktree: &Path, file: &str) -> Result<PathBuf, FileError> {
    let io = |what, source| FileError::Io {
        what,
        path: file.to_string(),
        source,
    };
    let root = worktree.canonicalize().map_err(|e| io("find the worktree of", e))?;
    let path = root.join(file);
    let real = match path.canonicalize() {
        Ok(real) => real,
        Err(_) => {
            let dir = path.parent().unwrap_or(&root);
            let dir = dir.canonicalize().map_err(|e| io("find the directory of", e))?;
            dir.join(path.file_name().unwrap_or_default())
        }
    };
    if real.starts_with(&root) && !real.starts_with(root.join(".git")) {
        Ok(real)
    } else {
        Err(FileError::Outside(file.to_string()))
    }
}

/// The file now, `None` if it is gone (deleted by the session).
pub fn read(worktree: &Path, file: &str) -> Result<Option<String>, FileError> {
    let path = inside(worktree, file)?;
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(FileError::Io {
                what: "read",
                path: file.into(),
                source,
            });
        }
    };
    if meta.len() > MAX_REVIEW_FILE as u64 {
        return Err(FileError::TooLarge(file.into()));
    }
    let bytes = std::fs::read(&path).map_err(|source| FileError::Io {
        what: "read",
        path: file.into(),
        source,
    })?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| FileError::NotText(file.into()))
}

/// Replace the file with `content`, whole or not at all (a new file beside
/// it, renamed over it), keeping its permissions.
pub fn write(worktree: &Path, file: &str, content: &[u8]) -> Result<(), FileError> {
    let path = inside(worktree, file)?;
    let io = |what, source| FileError::Io {
        what,
        path: file.to_string(),
        source,
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let staged = path.with_file_name(format!(".{name}.lulu-{}", crate::private::token()));
    let result = (|| {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staged)
            .map_err(|e| io("write", e))?;
        out.write_all(content).map_err(|e| io("write", e))?;
        if let Ok(meta) = std::fs::metadata(&path) {
            let _ = out.set_permissions(meta.permissions());
        }
        std::fs::rename(&staged, &path).map_err(|e| io("replace", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&staged);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_inside_only() {
        let dir = tempfile::tempdir().unwrap();
        let worktree = dir.path().join("wt");
        std::fs::create_dir_all(worktree.join("src")).unwrap();
        std::fs::write(worktree.join("src/a.txt"), "one\n").unwrap();
        std::fs::write(dir.path().join("secret"), "no").unwrap();
        assert_eq!(read(&worktree, "src/a.txt").unwrap().as_deref(), Some("one\n"));
        assert_eq!(read(&worktree, "src/gone.txt").unwrap(), None);
        write(&worktree, "src/a.txt", b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(worktree.join("src/a.txt")).unwrap(), "two\n");
        write(&worktree, "src/new.txt", b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(worktree.join("src/new.txt")).unwrap(), "new\n");
        // A link out of the worktree is judged by where it leads.
        std::os::unix::fs::symlink(dir.path().join("secret"), worktree.join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path(), worktree.join("up")).unwrap();
        assert!(matches!(read(&worktree, "link"), Err(FileError::Outside(_))));
        assert!(matches!(
            write(&worktree, "up/secret", b"x"),
            Err(FileError::Outside(_))
        ));
        assert_eq!(std::fs::read_to_string(dir.path().join("secret")).unwrap(), "no");
        std::fs::write(worktree.join("bin"), [0xff, 0xfe]).unwrap();
        assert!(matches!(read(&worktree, "bin"), Err(FileError::NotText(_))));
    }
}

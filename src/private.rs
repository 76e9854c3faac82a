//! lulu's files are private whatever the umask: every directory it makes is
//! 0700 and every file 0600 (logs hold every byte an agent printed; the
//! database holds rules and history; settings files name the hook). An
//! existing one with group or other bits is tightened, and said so once. A
//! directory or lock file owned by another user is refused.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum PrivateError {
    #[error("{} is owned by another user (uid {owner}); remove it or fix its owner", path.display())]
    NotOwned { path: PathBuf, owner: u32 },
    #[error("{} is not a directory; remove it", path.display())]
    NotDir { path: PathBuf },
    #[error("{} is a symlink; lulu keeps its sockets only in a real directory: remove it", path.display())]
    Symlink { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl From<PrivateError> for std::io::Error {
    fn from(err: PrivateError) -> std::io::Error {
        match err {
            PrivateError::Io { source, .. } => source,
            other => std::io::Error::new(std::io::ErrorKind::PermissionDenied, other.to_string()),
        }
    }
}

/// Whether a symlink may stand for the directory: fine for data and state
/// (moved to another disk, say), never for the socket directory, which may
/// sit in a shared `/tmp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    Follow,
    Refuse,
}

/// Existing files and directories that lulu made private, not yet told.
static TIGHTENED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// What was tightened since the last call (for one notice to the user).
pub fn take_tightened() -> Vec<PathBuf> {
    TIGHTENED
        .lock()
        .map(|mut list| std::mem::take(&mut *list))
        .unwrap_or_default()
}

fn uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PrivateError + '_ {
    move |source| PrivateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Make `path` (and any missing parents) with mode 0700, or check and
/// tighten the one that is there.
pub fn dir(path: &Path, links: Links) -> Result<(), PrivateError> {
    if std::fs::symlink_metadata(path).is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(io(path))?;
    }
    let link = std::fs::symlink_metadata(path).map_err(io(path))?;
    if link.file_type().is_symlink() && links == Links::Refuse {
        return Err(PrivateError::Symlink { path: path.into() });
    }
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if !meta.is_dir() {
        return Err(PrivateError::NotDir { path: path.into() });
    }
    if meta.uid() != uid() {
        return Err(PrivateError::NotOwned {
            path: path.into(),
            owner: meta.uid(),
        });
    }
    tighten_to(path, &meta, 0o700)
}

fn tighten_to(path: &Path, meta: &std::fs::Metadata, mode: u32) -> Result<(), PrivateError> {
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io(path))?;
        tracing::warn!(path = %path.display(), was = format!("{:o}", meta.mode() & 0o777), "made private");
        if let Ok(mut list) = TIGHTENED.lock() {
            list.push(path.to_path_buf());
        }
    }
    Ok(())
}

/// An existing file with group or other bits made 0600 (a missing one is
/// fine: nothing to do).
pub fn tighten(path: &Path) -> Result<(), PrivateError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => tighten_to(path, &meta, 0o600),
        _ => Ok(()),
    }
}

/// Open (creating it 0600 if needed) for appending; an existing file is
/// tightened.
pub fn append(path: &Path) -> Result<File, PrivateError> {
    open(path, OpenOptions::new().create(true).append(true))
}

/// Open with `options`: 0600 when created, never through a symlink,
/// refused when another user owns it, and tightened when it was there with
/// group or other bits.
fn open(path: &Path, options: &mut OpenOptions) -> Result<File, PrivateError> {
    let file = options
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(io(path))?;
    let meta = file.metadata().map_err(io(path))?;
    if meta.uid() != uid() {
        return Err(PrivateError::NotOwned {
            path: path.into(),
            owner: meta.uid(),
        });
    }
    tighten_to(path, &meta, 0o600)?;
    Ok(file)
}

/// Write `bytes` as the whole of `path`, 0600 (never through a symlink).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), PrivateError> {
    let mut file = open(path, OpenOptions::new().create(true).write(true).truncate(true))?;
    file.write_all(bytes).map_err(io(path))
}

/// A lock or pid file: opened without following a symlink (a planted link
/// would make lulu truncate its target), 0600, and ours.
pub fn lock_file(path: &Path) -> Result<File, PrivateError> {
    open(
        path,
        OpenOptions::new().create(true).truncate(false).read(true).write(true),
    )
}

/// A fresh per-session token: 16 random bytes as hex.
pub fn token() -> String {
    let mut raw = [0u8; 16];
    if getrandom::fill(&mut raw).is_err() {
        // Without an OS RNG, mix the clock and pid: weaker, still unguessable
        // by a process that cannot read our memory or environment.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            ^ u128::from(std::process::id()) << 64;
        raw = seed.to_le_bytes();
    }
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().mode() & 0o777
    }

    #[test]
    fn made_private_whatever_was_there() {
        let tmp = tempfile::tempdir().unwrap();
        let nested = tmp.path().join("a/b/c");
        dir(&nested, Links::Follow).unwrap();
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&tmp.path().join("a")), 0o700);

        let lax = tmp.path().join("lax");
        std::fs::create_dir(&lax).unwrap();
        std::fs::set_permissions(&lax, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir(&lax, Links::Follow).unwrap();
        assert_eq!(mode(&lax), 0o700);

        let file = lax.join("f.log");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(append(&file).unwrap());
        assert_eq!(mode(&file), 0o600);
        write(&lax.join("new.json"), b"{}").unwrap();
        assert_eq!(mode(&lax.join("new.json")), 0o600);
        let told = take_tightened();
        assert!(told.contains(&lax) && told.contains(&file), "{told:?}");
    }

    #[test]
    fn symlinks_are_not_followed_where_they_could_be_planted() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("victim");
        std::fs::write(&target, "precious").unwrap();
        let lock = tmp.path().join("daemon.lock");
        std::os::unix::fs::symlink(&target, &lock).unwrap();
        assert!(lock_file(&lock).is_err());
        assert!(write(&lock, b"").is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");

        let real = tmp.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(dir(&link, Links::Refuse), Err(PrivateError::Symlink { .. })));
        dir(&link, Links::Follow).unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(dir(&file, Links::Follow), Err(PrivateError::NotDir { .. })));
    }
}

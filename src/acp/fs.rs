//! The file services an ACP client offers its agent (`fs/read_text_file`,
//! `fs/write_text_file`), fenced to the session's root by the kernel: a
//! path inside is opened with `openat2(RESOLVE_BENEATH)` from a descriptor
//! of the root (a symlink or a directory swapped in mid-way cannot lead
//! out), then judged by what was opened (`fstat`: a regular file, one link,
//! bounded size), and read or written through that descriptor only.
//! Anything else is not served here: a path outside the root, through
//! `..` or `.git`, to a file with other links, or one the kernel refuses
//! to open beneath the root is [`FsError::Outside`]: the caller asks the
//! user, then calls [`read_allowed`] / [`write_allowed`].

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Largest file read or written for an agent.
pub const MAX_FILE: u64 = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FsError {
    #[error("{0} is outside the session")]
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

impl FsError {
    /// The JSON-RPC error code: ACP's -32002 for a missing file.
    pub fn code(&self) -> i64 {
        match self {
            FsError::Missing(_) => -32002,
            _ => super::wire::REFUSED,
        }
    }

    fn io(path: &Path, err: std::io::Error) -> FsError {
        match err.kind() {
            std::io::ErrorKind::NotFound => FsError::Missing(path.to_path_buf()),
            _ => FsError::Io {
                path: path.to_path_buf(),
                message: err.to_string(),
            },
        }
    }
}

/// The session's root, open.
pub struct Fence {
    root: PathBuf,
    dir: OwnedFd,
}

impl Fence {
    pub fn open(root: &Path) -> std::io::Result<Fence> {
        let root = root.canonicalize()?;
        let dir = open_path(None, &root, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, false)?;
        Ok(Fence { root, dir })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `raw` below the root, as a relative path, if it names one plainly:
    /// absolute, under the root, no `..`, no `.git`.
    pub fn below(&self, raw: &str) -> Result<PathBuf, FsError> {
        let path = Path::new(raw);
        if !path.is_absolute() || raw.contains('\0') {
            return Err(FsError::Relative(raw.chars().take(200).collect()));
        }
        let outside = || FsError::Outside(path.to_path_buf());
        let rel = path.strip_prefix(&self.root).map_err(|_| outside())?;
        let mut clean = PathBuf::new();
        for part in rel.components() {
            match part {
                Component::Normal(name) if name != ".git" => clean.push(name),
                Component::CurDir => {}
                _ => return Err(outside()),
            }
        }
        if clean.as_os_str().is_empty() {
            return Err(FsError::NotFile {
                path: path.to_path_buf(),
            });
        }
        Ok(clean)
    }

    /// Read a text file inside the root, optionally from a line (1-based)
    /// for `limit` lines.
    pub fn read(&self, raw: &str, line: Option<u64>, limit: Option<u64>) -> Result<String, FsError> {
        let rel = self.below(raw)?;
        let shown = self.root.join(&rel);
        let fd = open_path(
            Some(&self.dir),
            &rel,
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
            true,
        )
        .map_err(|err| self.refused(&shown, err))?;
        read_fd(fd, &shown, true, line, limit)
    }

    /// Write a text file inside the root (made if missing): only a regular
    /// file with no other link, never through a symlink.
    pub fn write(&self, raw: &str, content: &str) -> Result<(), FsError> {
        let rel = self.below(raw)?;
        let shown = self.root.join(&rel);
        if content.len() as u64 > MAX_FILE {
            return Err(FsError::TooLarge { path: shown });
        }
        let (parent, name) = (
            rel.parent().unwrap_or(Path::new("")),
            rel.file_name().unwrap_or_default(),
        );
        let dir = if parent.as_os_str().is_empty() {
            self.dir.try_clone().map_err(|err| FsError::io(&shown, err))?
        } else {
            open_path(
                Some(&self.dir),
                parent,
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
                true,
            )
            .map_err(|err| self.refused(&shown, err))?
        };
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
        let fd = openat(&dir, Path::new(name), flags).map_err(|err| self.refused(&shown, err))?;
        write_fd(fd, &shown, true, content)
    }

    /// The kernel would not open it beneath the root (a link out): outside.
    fn refused(&self, shown: &Path, err: std::io::Error) -> FsError {
        match err.raw_os_error() {
            Some(libc::EXDEV | libc::ELOOP) => FsError::Outside(shown.to_path_buf()),
            _ => FsError::io(shown, err),
        }
    }
}

/// Read a file the user allowed (outside the root): it must still be a
/// regular file, bounded; the last component is not followed.
pub fn read_allowed(path: &Path, line: Option<u64>, limit: Option<u64>) -> Result<String, FsError> {
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let fd = open_path(None, path, flags, false).map_err(|err| FsError::io(path, err))?;
    read_fd(fd, path, false, line, limit)
}

/// Write a file the user allowed (outside the root).
pub fn write_allowed(path: &Path, content: &str) -> Result<(), FsError> {
    if content.len() as u64 > MAX_FILE {
        return Err(FsError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
    let fd = open_path(None, path, flags, false).map_err(|err| FsError::io(path, err))?;
    write_fd(fd, path, false, content)
}

/// What was opened must be a regular file, and (`beneath`) one with a
/// single link: another link could be a door to a file outside.
fn check_opened(file: &std::fs::File, path: &Path, beneath: bool) -> Result<u64, FsError> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().map_err(|err| FsError::io(path, err))?;
    if !meta.is_file() {
        return Err(FsError::NotFile {
            path: path.to_path_buf(),
        });
    }
    if beneath && meta.nlink() > 1 {
        return Err(FsError::Outside(path.to_path_buf()));
    }
    Ok(meta.len())
}

fn read_fd(fd: OwnedFd, path: &Path, beneath: bool, line: Option<u64>, limit: Option<u64>) -> Result<String, FsError> {
    let file = std::fs::File::from(fd);
    if check_opened(&file, path, beneath)? > MAX_FILE {
        return Err(FsError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| FsError::io(path, err))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(FsError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| FsError::NotText {
        path: path.to_path_buf(),
    })?;
    if line.is_none() && limit.is_none() {
        return Ok(text);
    }
    let skip = usize::try_from(line.unwrap_or(1).saturating_sub(1)).unwrap_or(usize::MAX);
    let take = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    Ok(text.split_inclusive('\n').skip(skip).take(take).collect())
}

fn write_fd(fd: OwnedFd, path: &Path, beneath: bool, content: &str) -> Result<(), FsError> {
    let mut file = std::fs::File::from(fd);
    check_opened(&file, path, beneath)?;
    file.set_len(0).map_err(|err| FsError::io(path, err))?;
    file.write_all(content.as_bytes()).map_err(|err| FsError::io(path, err))
}

/// `openat2` from `dir` (or an absolute path), beneath it when `beneath`.
fn open_path(dir: Option<&OwnedFd>, path: &Path, flags: i32, beneath: bool) -> std::io::Result<OwnedFd> {
    let name =
        CString::new(path.as_os_str().as_bytes()).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: a zeroed open_how is its documented default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.mode = if flags & libc::O_CREAT != 0 { 0o644 } else { 0 };
    if beneath {
        how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    }
    let at = dir.map_or(libc::AT_FDCWD, AsRawFd::as_raw_fd);
    // SAFETY: openat2 with a valid NUL-terminated path and a sized open_how.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            at,
            name.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a new descriptor the kernel just gave us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// `openat` of one name in a directory already open.
fn openat(dir: &OwnedFd, name: &Path, flags: i32) -> std::io::Result<OwnedFd> {
    open_path(Some(dir), name, flags, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_judged_where_they_lead() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        let fence = Fence::open(&dir.path().join("root")).unwrap();
        let root = fence.root().to_path_buf();
        let at = |rel: &str| root.join(rel).to_string_lossy().into_owned();
        std::fs::write(root.join("a.txt"), "one\ntwo\nthree\n").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("dirlink")).unwrap();
        std::os::unix::fs::symlink("a.txt", root.join("inner")).unwrap();
        std::fs::hard_link(dir.path().join("secret"), root.join("hard")).unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();

        assert_eq!(fence.read(&at("a.txt"), Some(2), Some(1)).unwrap(), "two\n");
        assert_eq!(
            fence.read(&at("inner"), None, None).unwrap(),
            "one\ntwo\nthree\n",
            "a link that stays inside"
        );
        for outside in [
            "link",
            "dirlink/secret",
            "hard",
            "../secret",
            ".git/config",
            "x/../a.txt",
        ] {
            assert!(
                matches!(fence.read(&at(outside), None, None), Err(FsError::Outside(_))),
                "{outside}"
            );
        }
        assert!(matches!(fence.write(&at("link"), "x"), Err(FsError::Outside(_))));
        assert!(matches!(fence.write(&at("dirlink/new"), "x"), Err(FsError::Outside(_))));
        assert!(matches!(fence.write(&at("hard"), "x"), Err(FsError::Outside(_))));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("secret")).unwrap(),
            "s",
            "untouched"
        );
        assert!(matches!(
            fence.read("relative/x", None, None),
            Err(FsError::Relative(_))
        ));
        assert!(matches!(
            fence.read(&at("missing"), None, None),
            Err(FsError::Missing(_))
        ));
        assert!(matches!(
            fence.read(&at("no/such/dir"), None, None),
            Err(FsError::Missing(_))
        ));

        fence.write(&at("new.txt"), "hi").unwrap();
        fence.write(&at("a.txt"), "short").unwrap();
        assert_eq!(std::fs::read_to_string(root.join("a.txt")).unwrap(), "short");
        let big = "x".repeat(MAX_FILE as usize + 1);
        assert!(matches!(
            fence.write(&at("new.txt"), &big),
            Err(FsError::TooLarge { .. })
        ));
        assert_eq!(read_allowed(&dir.path().join("secret"), None, None).unwrap(), "s");
    }

    #[test]
    fn a_fifo_or_a_device_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fence = Fence::open(dir.path()).unwrap();
        let fifo = fence.root().join("fifo");
        let name = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: mkfifo with a valid path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        std::os::unix::fs::symlink("/dev/zero", fence.root().join("zero")).unwrap();
        let at = |rel: &str| fence.root().join(rel).to_string_lossy().into_owned();
        assert!(matches!(
            fence.read(&at("fifo"), None, None),
            Err(FsError::NotFile { .. })
        ));
        // No reader: the open fails at once (ENXIO), it never waits.
        assert!(fence.write(&at("fifo"), "x").is_err());
        assert!(matches!(fence.read(&at("zero"), None, None), Err(FsError::Outside(_))));
        assert!(matches!(
            read_allowed(Path::new("/dev/zero"), None, None),
            Err(FsError::NotFile { .. })
        ));
    }
}

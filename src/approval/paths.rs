//! Where a path a tool names really leads.
//!
//! Text says little: `etc_link/passwd` is `/etc/passwd` when `etc_link` is a
//! symlink to `/etc`, and `src/../../x` leaves the tree. So a path is taken
//! the way the kernel (and a tool that makes missing directories) would
//! take it: relative to the agent's directory, `~` expanded, then one
//! component at a time: an existing one asked of the file system (which
//! follows every symlink in it), a missing one made up as a real directory
//! would be, and `..` taken from wherever the walk really is, so a `..`
//! after a missing component comes back to a real directory and the walk
//! goes on through the links below it.
//!
//! Some places are never vouched for whatever a glob says: a path with a
//! `.git` component (git runs what its config there names), a device,
//! FIFO or socket, a regular file with another hard link (its other name
//! may be anywhere), `/proc`, `/sys` and `/dev` but `/dev/null`, and a link
//! that leads nowhere (writing there makes its target, wherever it is).
//! A file can still change between the question and the write: the
//! verdict is about the path as it is when asked.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Names whose files tell an agent what it may run (its project settings,
/// the MCP servers it starts): writing one is granting it more, so no glob
/// vouches for them (a deny or ask rule still may name them).
const CONTROL: &[&str] = &[".claude", ".gemini", ".codex", ".mcp.json"];

/// A path judged against the session root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Inside the root: the path relative to it.
    Inside(PathBuf),
    /// Anywhere else: its real absolute form.
    Outside(PathBuf),
    /// A place no glob may allow (see the header), with why.
    Doubt { path: PathBuf, why: String },
}

impl Resolved {
    fn doubt(path: impl Into<PathBuf>, why: &str) -> Resolved {
        Resolved::Doubt {
            path: path.into(),
            why: why.to_string(),
        }
    }
}

/// Judge `raw` (as the tool gave it) for an agent in `cwd` whose session is
/// rooted at `root`.
pub fn resolve(raw: &str, cwd: &Path, root: &Path) -> Resolved {
    let Some(abs) = absolute(raw, cwd) else {
        return Resolved::doubt(raw, "a path lulu cannot place (`~user`)");
    };
    let real = match walk(&abs) {
        Ok(real) => real,
        Err(why) => return Resolved::doubt(lexical(&abs), why),
    };
    if real.components().any(|c| c.as_os_str().eq_ignore_ascii_case(".git")) {
        return Resolved::doubt(real, "a path inside a .git directory");
    }
    if let Some(name) = real
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .find(|name| CONTROL.iter().any(|control| name.eq_ignore_ascii_case(control)))
    {
        return Resolved::doubt(real.clone(), &format!("{name} tells an agent what it may do"));
    }
    if let Some(why) = special(&real) {
        return Resolved::doubt(real, why);
    }
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| lexical(root));
    match real.strip_prefix(&real_root) {
        Ok(rel) => Resolved::Inside(rel.to_path_buf()),
        Err(_) => Resolved::Outside(real),
    }
}

/// `raw` made absolute: `~` and `~/x` from `$HOME`, relative paths from `cwd`.
/// `None` for `~user`, which lulu does not look up.
fn absolute(raw: &str, cwd: &Path) -> Option<PathBuf> {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    if raw == "~" {
        return home();
    }
    if let Some(rest) = raw.strip_prefix("~/") {
        return Some(home()?.join(rest));
    }
    if raw.starts_with('~') {
        return None;
    }
    Some(cwd.join(raw))
}

/// How many symlinks one path may pass through (the kernel's limit).
const MAX_LINKS: usize = 40;

/// The real location of absolute `path`, which need not exist, one
/// component at a time, following each symlink as the kernel does (its
/// target read and walked in turn), so no step through `/proc`, `/sys` or
/// `/dev` (`/proc/self/root`, `/dev/fd/..`) goes unseen.
fn walk(path: &Path) -> Result<PathBuf, &'static str> {
    let mut out = PathBuf::from("/");
    let mut todo: Vec<std::ffi::OsString> = Vec::new();
    push_parts(&mut todo, path);
    let mut links = 0;
    let mut through_system = false;
    while let Some(name) = todo.pop() {
        match name.to_str() {
            Some("/") => out = PathBuf::from("/"),
            Some(".") => {}
            // `out` is always real, so its parent is where `..` leads.
            Some("..") => {
                out.pop();
            }
            _ => {
                let next = out.join(&name);
                match std::fs::symlink_metadata(&next) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        links += 1;
                        if links > MAX_LINKS {
                            return Err("a path through too many links");
                        }
                        let target = std::fs::read_link(&next).map_err(|_| "a link lulu cannot read")?;
                        push_parts(&mut todo, &target);
                    }
                    Ok(_) => out = next,
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => out = next,
                    Err(_) => return Err("a path lulu cannot follow"),
                }
            }
        }
        through_system |= system(&out);
    }
    if through_system && out != Path::new("/dev/null") {
        return Err("a path through /proc, /sys or /dev");
    }
    Ok(out)
}

/// Queue `path`'s components to walk next (last first, as a stack).
fn push_parts(todo: &mut Vec<std::ffi::OsString>, path: &Path) {
    for part in path.components().rev() {
        todo.push(match part {
            Component::RootDir | Component::Prefix(_) => "/".into(),
            Component::CurDir => ".".into(),
            Component::ParentDir => "..".into(),
            Component::Normal(name) => name.to_os_string(),
        });
    }
}

/// The kernel's trees, where a name is a window on something else.
fn system(path: &Path) -> bool {
    ["/proc", "/sys", "/dev"].iter().any(|top| path.starts_with(top))
}

/// Why an existing (real) path is never vouched for, if it is not a plain
/// directory or a regular file of one name outside the kernel's trees.
fn special(real: &Path) -> Option<&'static str> {
    if real == Path::new("/dev/null") {
        return None;
    }
    let meta = std::fs::metadata(real).ok()?;
    if !meta.is_file() && !meta.is_dir() {
        return Some("not a regular file (a device, FIFO or socket)");
    }
    if meta.is_file() && meta.nlink() > 1 {
        return Some("a file with other hard links");
    }
    None
}

/// Resolve `.` and `..` by text alone.
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_judged_by_where_they_lead() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc_link")).unwrap();
        std::os::unix::fs::symlink(root.join("src"), root.join("src_link")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/target", root.join("dangling")).unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("src").join("up")).unwrap();
        let inside = |rel: &str| Resolved::Inside(PathBuf::from(rel));
        let cases: Vec<(&str, Resolved)> = vec![
            ("src/main.rs", inside("src/main.rs")),
            ("./src/../README.md", inside("README.md")),
            ("new/dir/file", inside("new/dir/file")),
            ("src_link/lib.rs", inside("src/lib.rs")),
            ("etc_link/passwd", Resolved::Outside(PathBuf::from("/etc/passwd"))),
            ("../outside/x", Resolved::Outside(outside.join("x"))),
            ("src/up/x", Resolved::Outside(outside.join("x"))),
            // `up` leads outside; `..` from there is the outside's parent,
            // whose `root/x` is inside again.
            ("src/up/../root/x", inside("x")),
            (
                "src/up/../../x",
                Resolved::Outside(dir.path().parent().unwrap().join("x")),
            ),
            ("/etc/hosts", Resolved::Outside(PathBuf::from("/etc/hosts"))),
            ("new/../src_link/x", inside("src/x")),
            ("nothere/../src/up/.bashrc", Resolved::Outside(outside.join(".bashrc"))),
            ("a/b/../../../outside/y", Resolved::Outside(outside.join("y"))),
        ];
        for (raw, want) in cases {
            assert_eq!(resolve(raw, &root, &root), want, "{raw}");
        }
        let home = std::env::var("HOME").unwrap();
        assert!(matches!(resolve("~/.bashrc", &root, &root), Resolved::Outside(p) if p.starts_with(&home)));
    }

    #[test]
    fn some_places_are_never_vouched_for() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        std::fs::hard_link(dir.path().join("secret"), root.join("alias")).unwrap();
        std::fs::write(root.join("plain"), "x").unwrap();
        std::os::unix::fs::symlink("/nonexistent/target", root.join("dangling")).unwrap();
        std::os::unix::fs::symlink("/proc", root.join("proc_link")).unwrap();
        let fifo = std::ffi::CString::new(root.join("fifo").to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        for raw in [
            ".git/config",
            "sub/.git/hooks/pre-commit",
            "x/../.GIT/config",
            "alias",
            "fifo",
            "/dev/zero",
            "/proc/self/environ",
            "/sys/kernel/x",
            "/proc/self/root/etc",
            "/dev/fd/../../../etc/passwd",
            "proc_link/self/cwd",
            "~nobody/x",
        ] {
            assert!(
                matches!(resolve(raw, &root, &root), Resolved::Doubt { .. }),
                "{raw}: {:?}",
                resolve(raw, &root, &root)
            );
        }
        assert_eq!(resolve("plain", &root, &root), Resolved::Inside(PathBuf::from("plain")));
        // A link to nowhere: writing there makes its target, judged as such.
        assert_eq!(
            resolve("dangling/x", &root, &root),
            Resolved::Outside(PathBuf::from("/nonexistent/target/x"))
        );
        assert_eq!(
            resolve("/dev/null", &root, &root),
            Resolved::Outside(PathBuf::from("/dev/null"))
        );
    }
}

//! Where a path a tool names really leads.
//!
//! Text says little: `etc_link/passwd` is `/etc/passwd` when `etc_link` is a
//! symlink to `/etc`, and `src/../../x` leaves the tree. So a path is taken
//! the way the kernel would take it: relative to the agent's directory, `~`
//! expanded, then the longest prefix that exists is asked of the file
//! system (which follows every symlink and `..` in it) and only the part
//! that does not exist yet is resolved by text.

use std::path::{Component, Path, PathBuf};

/// A path judged against the session root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Inside the root: the path relative to it.
    Inside(PathBuf),
    /// Anywhere else, or where it cannot be told (a dangling symlink, `~user`):
    /// the best absolute form known.
    Outside(PathBuf),
}

/// Judge `raw` (as the tool gave it) for an agent in `cwd` whose session is
/// rooted at `root`.
pub fn resolve(raw: &str, cwd: &Path, root: &Path) -> Resolved {
    let Some(abs) = absolute(raw, cwd) else {
        return Resolved::Outside(PathBuf::from(raw));
    };
    let real_root = real(root).unwrap_or_else(|| lexical(root));
    match real(&abs) {
        Some(path) => match path.strip_prefix(&real_root) {
            Ok(rel) => Resolved::Inside(rel.to_path_buf()),
            Err(_) => Resolved::Outside(path),
        },
        None => Resolved::Outside(lexical(&abs)),
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

/// The real location of `path`, which need not exist: the longest existing
/// prefix canonicalised, the rest resolved by text. `None` when the prefix
/// ends in a symlink that leads nowhere (writing there would create its
/// target, wherever that is).
fn real(path: &Path) -> Option<PathBuf> {
    let parts: Vec<Component<'_>> = path.components().collect();
    let mut existing = PathBuf::new();
    let mut split = parts.len();
    for (index, part) in parts.iter().enumerate() {
        let next = existing.join(part);
        if std::fs::symlink_metadata(&next).is_err() {
            split = index;
            break;
        }
        existing = next;
    }
    let mut out = std::fs::canonicalize(&existing).ok()?;
    for part in &parts[split..] {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
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
            ("dangling", Resolved::Outside(root.join("dangling"))),
            ("~nobody/x", Resolved::Outside(PathBuf::from("~nobody/x"))),
        ];
        for (raw, want) in cases {
            assert_eq!(resolve(raw, &root, &root), want, "{raw}");
        }
        let home = std::env::var("HOME").unwrap();
        assert!(matches!(resolve("~/.bashrc", &root, &root), Resolved::Outside(p) if p.starts_with(&home)));
    }
}

//! What a git command does beyond its options (`git.rs` has read them),
//! each vouched for only in a shape known to be harmless: where it makes a
//! repository or writes patches, whether it opens an editor (the user's
//! `$EDITOR` or `core.editor`, on a file git chose: a program the command
//! does not show), and which repository it talks to (a local one runs its
//! own hooks: `git push ./repo` runs `./repo/hooks/post-receive`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::Parsed;
use crate::approval::shell::Context;

/// Why `git`, run in `ctx`, is in doubt for what it does, if it is.
pub(super) fn doubt(git: &Parsed<'_>, ctx: &Context<'_>) -> Option<String> {
    made_here(git)
        .or_else(|| editor(git))
        .or_else(|| repository(git, ctx))
        .or_else(|| in_a_bare_repository(ctx))
        .map(|why| format!("`git {}` {why}", git.name))
}

/// git run in (or under) a directory that looks like a git directory (a
/// `HEAD`, file or link, beside `objects/` or `refs/`), or under one that
/// holds a `.git` of its own below the session's root, takes that for its
/// repository and runs what its `config` names: one the agent may have
/// written (`git clone` of a `.git.git` makes `.git`, `cp -r` and `ln -s`
/// too). From the root, git goes into a repository embedded in the index
/// (`git status` runs in it): one whose `.git` is a directory is the
/// agent's (a real submodule's is a file into `.git/modules`).
fn in_a_bare_repository(ctx: &Context<'_>) -> Option<&'static str> {
    let looks_bare = |dir: &Path| {
        dir.join("HEAD").symlink_metadata().is_ok() && (dir.join("objects").is_dir() || dir.join("refs").is_dir())
    };
    let mut dir = Some(ctx.cwd);
    while let Some(here) = dir {
        if looks_bare(here) {
            return Some("runs in a directory git takes for a bare repository (its config names programs)");
        }
        if here == ctx.root {
            break;
        }
        if here.join(".git").symlink_metadata().is_ok() {
            return Some("runs under a .git of the session's own making (its config names programs)");
        }
        dir = here.parent().filter(|parent| parent.starts_with(ctx.root));
    }
    embedded(ctx.root).then_some("goes into a repository embedded in the index (its config names programs)")
}

/// Whether the index of the repository at `root` holds a gitlink whose
/// `.git` is not a file (an embedded repository, not a submodule). Read
/// with libgit2, which runs nothing the repository configures. This runs
/// on the supervisor's loop with each git command judged, so an index's
/// gitlinks are kept until it changes (one `stat` a call),
/// and an index is parsed only when a gitlink's mode bytes are in it (20
/// ms for 40,000 entries). An index that cannot be parsed, or a split
/// index (its shared part is not read), counts as one that embeds (fail
/// closed).
fn embedded(root: &Path) -> bool {
    let links = match known_links(root) {
        Some(links) => links,
        None => match read_links(root) {
            Ok(links) => links,
            Err(()) => return true,
        },
    };
    let Ok(repo) = git2::Repository::discover(root) else {
        return false;
    };
    let (Some(top), modules) = (repo.workdir(), repo.commondir().join("modules")) else {
        return !links.is_empty();
    };
    links
        .iter()
        .any(|link| !submodule(&top.join(link).join(".git"), &modules))
}

/// Whether a gitlink's `.git` is absent or a real submodule's: a gitfile
/// that leads into the superproject's own `modules/` (anything else, a
/// directory or a gitfile the agent pointed elsewhere, is embedded).
fn submodule(dot_git: &Path, modules: &Path) -> bool {
    let Ok(meta) = dot_git.symlink_metadata() else {
        return true;
    };
    if !meta.is_file() {
        return false;
    }
    let Some(target) = std::fs::read_to_string(dot_git)
        .ok()
        .and_then(|text| text.strip_prefix("gitdir: ").map(|t| t.trim_end().to_string()))
    else {
        return false;
    };
    let base = dot_git.parent().unwrap_or(dot_git);
    let (Ok(real), Ok(modules)) = (base.join(target).canonicalize(), modules.canonicalize()) else {
        return false;
    };
    real.starts_with(modules)
}

/// One repository's index as last read: where, its stamp, its gitlinks.
struct Seen {
    root: PathBuf,
    index: PathBuf,
    stamp: Stamp,
    links: Vec<PathBuf>,
}

/// What changes whenever an index file does: its inode (git writes a new
/// file and renames it), size, and change time (which `touch -d` cannot
/// set back, unlike the modification time).
type Stamp = (u64, u64, i64, i64);

static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

fn stamp(index: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    index
        .metadata()
        .ok()
        .map(|meta| (meta.ino(), meta.len(), meta.ctime(), meta.ctime_nsec()))
}

/// Whether the git directory holds a split index's shared part.
fn shared_index(git_dir: &Path) -> bool {
    std::fs::read_dir(git_dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("sharedindex."))
    })
}

/// The gitlinks kept for `root`, if its index has not changed since.
fn known_links(root: &Path) -> Option<Vec<PathBuf>> {
    let seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    let kept = seen.iter().find(|s| s.root == root)?;
    (stamp(&kept.index) == Some(kept.stamp)).then(|| kept.links.clone())
}

/// The gitlinks of `root`'s index, read now and kept; none without a
/// repository or an index; `Err` when the index cannot be parsed.
fn read_links(root: &Path) -> Result<Vec<PathBuf>, ()> {
    let Ok(repo) = git2::Repository::discover(root) else {
        return Ok(Vec::new());
    };
    let index = repo.path().join("index");
    let (Some(stamp), Ok(bytes)) = (stamp(&index), std::fs::read(&index)) else {
        return Ok(Vec::new());
    };
    // A split index keeps most entries in a shared file libgit2 does not
    // read: lulu cannot tell what it holds.
    if memchr::memmem::find(&bytes, b"link").is_some() && shared_index(repo.path()) {
        return Err(());
    }
    // A gitlink's mode (0o160000) is these four bytes in the file.
    let links = if memchr::memmem::find(&bytes, &[0, 0, 0xE0, 0]).is_none() {
        Vec::new()
    } else {
        let parsed = repo.index().map_err(|_| ())?;
        parsed
            .iter()
            .filter(|entry| entry.mode == 0o160000)
            .map(|entry| PathBuf::from(String::from_utf8_lossy(&entry.path).as_ref()))
            .collect()
    };
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    seen.retain(|s| s.root != root);
    if seen.len() >= 64 {
        seen.remove(0);
    }
    seen.push(Seen {
        root: root.to_path_buf(),
        index,
        stamp,
        links: links.clone(),
    });
    Ok(links)
}

/// `init` and `clone` only into the directory git names itself (one they
/// are given may be outside the session, or lead there through a link);
/// `format-patch` only to its output (the files it writes are named from
/// commit subjects and `--suffix`, and may follow a link).
fn made_here(git: &Parsed<'_>) -> Option<&'static str> {
    match git.name {
        "init" if !git.positionals.is_empty() => Some("into a directory it names may write outside the session"),
        "clone" if git.positionals.len() > 1 => Some("into a directory it names may write outside the session"),
        // git names the clone after the URL's last part less `.git`: a
        // `.git.git` becomes `.git`, a repository git then takes as its own.
        "clone"
            if git
                .positionals
                .first()
                .is_none_or(|url| clone_name(url).is_none_or(|n| n.starts_with('.'))) =>
        {
            Some("makes a directory git may take as a repository's (.git): name a URL whose last part is plain")
        }
        "format-patch" if !git.has("--stdout", None) => Some("writes files named from commit subjects (use --stdout)"),
        _ => None,
    }
}

/// Commands that open an editor unless told their message (or told not
/// to edit it).
fn editor(git: &Parsed<'_>) -> Option<&'static str> {
    let message = git.has("--message", Some('m'));
    let opens = match git.name {
        "commit" => {
            let fixup = git
                .long
                .iter()
                .any(|(name, value)| *name == "--fixup" && value.is_some_and(|v| !v.contains(':')));
            !(message || git.has("--reuse-message", Some('C')) || git.has("--no-edit", None) || fixup)
        }
        "tag" => git.has("--annotate", Some('a')) && !message,
        "notes" => matches!(git.action, "add" | "append") && !(message || git.has("--reuse-message", Some('C'))),
        "revert" => {
            !["--no-edit", "--no-commit", "--abort", "--quit", "--skip"]
                .iter()
                .any(|option| git.has(option, None))
                && !git.has("--no-commit", Some('n'))
        }
        "merge" => {
            !(message
                || ["--no-edit", "--ff-only", "--squash", "--abort", "--quit", "--no-commit"]
                    .iter()
                    .any(|option| git.has(option, None)))
        }
        "pull" => {
            git.long
                .iter()
                .any(|(name, value)| *name == "--rebase" && value.is_some_and(|v| v.starts_with('i')))
                || git.letters_with_value('r').any(|value| value.starts_with('i'))
        }
        "rebase" => git.has("--edit-todo", None) || git.has("--continue", None),
        "cherry-pick" => git.has("--continue", None),
        _ => false,
    };
    // `-p` hunks offer `e`, which opens the editor on a hunk.
    let patch = matches!(git.name, "add" | "checkout" | "reset" | "stash" | "commit" | "restore")
        && git.has("--patch", Some('p'));
    (opens || patch).then_some("opens an editor (give it its message, or --no-edit; no -p)")
}

/// `push`, `fetch` and `pull` only to a remote by name or by a network
/// URL; `remote add`/`set-url` only a network URL (a local repository runs
/// its hooks and config). A name is a path to git when no remote has it
/// and `name` or `name.git` is there, from the directory it runs in or the
/// top of the work tree: any such name is a doubt. Every repository it is
/// given counts: `--repo=`, each of `fetch --multiple`'s.
fn repository(git: &Parsed<'_>, ctx: &Context<'_>) -> Option<&'static str> {
    let mut words: Vec<&str> = match git.name {
        "fetch" if git.has("--multiple", None) => git.positionals.clone(),
        "push" | "fetch" | "pull" => git.positionals.first().copied().into_iter().collect(),
        "remote" if matches!(git.action, "add" | "set-url") => {
            let url = git.positionals.get(2).copied();
            return url.filter(|url| !network(url)).map(|_| LOCAL);
        }
        _ => return None,
    };
    if git.name == "push" {
        words.extend(
            git.long
                .iter()
                .filter(|(name, _)| *name == "--repo")
                .filter_map(|(_, value)| *value),
        );
    }
    let local = |word: &&str| {
        if network(word) {
            return false;
        }
        let path_like = word.contains(['/', ':']) || word.starts_with(['.', '~']);
        let there = [ctx.cwd, ctx.root].iter().any(|dir| {
            [word.to_string(), format!("{word}.git")]
                .iter()
                .any(|name| dir.join(name).symlink_metadata().is_ok())
        });
        path_like || there
    };
    words.iter().any(local).then_some(LOCAL)
}

const LOCAL: &str = "talks to a repository on this machine (its hooks and config run): name a remote or a network URL";

/// The directory `git clone URL` makes: the URL's last part, less a
/// trailing `/`, `.git` or `/.git`.
fn clone_name(url: &str) -> Option<&str> {
    let trimmed = url.trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/.git").unwrap_or(trimmed);
    let trimmed = trimmed.trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next()?;
    let name = last.strip_suffix(".git").unwrap_or(last);
    (!name.is_empty()).then_some(name)
}

/// `https://…`, `ssh://…`, `git://…` or scp's `host:path`.
fn network(url: &str) -> bool {
    if url.contains("::") {
        return false;
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return matches!(scheme, "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git");
    }
    match url.split_once(':') {
        Some((host, _)) => !host.is_empty() && !host.contains('/') && !host.starts_with(['.', '~', '-']),
        None => false,
    }
}

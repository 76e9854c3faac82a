//! What a git command does beyond its options (`git.rs` has read them),
//! each vouched for only in a shape known to be harmless: where it makes a
//! repository or writes patches, whether it opens an editor (the user's
//! `$EDITOR` or `core.editor`, on a file git chose: a program the command
//! does not show), and which repository it talks to (a local one runs its
//! own hooks: `git push ./repo` runs `./repo/hooks/post-receive`).

use std::path::Path;

use super::Parsed;

/// Why `git`, run in `cwd`, is in doubt for what it does, if it is.
pub(super) fn doubt(git: &Parsed<'_>, cwd: &Path) -> Option<String> {
    made_here(git)
        .or_else(|| editor(git))
        .or_else(|| repository(git, cwd))
        .map(|why| format!("`git {}` {why}", git.name))
}

/// `init` and `clone` only into the directory git names itself (one they
/// are given may be outside the session, or lead there through a link);
/// `format-patch` only to its output (the files it writes are named from
/// commit subjects and `--suffix`, and may follow a link).
fn made_here(git: &Parsed<'_>) -> Option<&'static str> {
    match git.name {
        "init" if !git.positionals.is_empty() => Some("into a directory it names may write outside the session"),
        "clone" if git.positionals.len() > 1 => Some("into a directory it names may write outside the session"),
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
        "rebase" => git.has("--edit-todo", None),
        _ => false,
    };
    opens.then_some("opens an editor (give it its message, or --no-edit)")
}

/// `push`, `fetch` and `pull` only to a remote by name or by a network
/// URL; `remote add`/`set-url` only a network URL (a local repository runs
/// its hooks; a bare name that is a file or directory here is one).
fn repository(git: &Parsed<'_>, cwd: &Path) -> Option<&'static str> {
    let (word, named) = match git.name {
        "push" | "fetch" | "pull" => (git.positionals.first()?, true),
        "remote" if matches!(git.action, "add" | "set-url") => (git.positionals.get(2)?, false),
        _ => return None,
    };
    if network(word) {
        return None;
    }
    let path_like = word.contains(['/', ':']) || word.starts_with(['.', '~']);
    let here = cwd.join(word).symlink_metadata().is_ok();
    if !named || path_like || here {
        return Some("talks to a repository on this machine (its hooks run): name a remote or a network URL");
    }
    None
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

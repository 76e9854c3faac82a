//! git's options, read against a positive table (`git.json`, written by
//! `scripts/git-options` from git's own usage, less the options that run
//! a program, write outside the work tree or point git at another
//! repository): before the subcommand only the global options listed,
//! after it only that subcommand's options, spelled exactly (git takes any
//! unique abbreviation of a long option, so `--upload-p` is `--upload-pack`:
//! an abbreviation is a doubt), and for a subcommand with actions (`stash
//! list`, `worktree add`) only the actions listed. Words after `--` are
//! paths; `init` and `clone` into a directory they name are doubts (it may
//! be outside the session). An option that takes a value takes the next word when none is
//! attached; a value that starts with `-` is a doubt (lulu would otherwise
//! read an option as a value where git does not).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

const SHIPPED: &str = include_str!("git.json");

#[derive(Debug, Default, Deserialize)]
struct Table {
    global: BTreeSet<String>,
    subcommands: BTreeMap<String, Subcommand>,
}

#[derive(Debug, Default, Deserialize)]
struct Subcommand {
    /// `--name`, or `--name=` for one that takes a value.
    long: BTreeSet<String>,
    /// Letters that stand alone in a cluster.
    short: String,
    /// Letters that take a value: the rest of the cluster, or the next word.
    short_value: String,
    /// Letters that take an optional value, attached only.
    short_optional: String,
    /// The only actions vouched for (`""`: none given).
    #[serde(default)]
    actions: Option<Vec<String>>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(SHIPPED).unwrap_or_else(|err| {
            // Built from a file in the source tree, checked by a test: an
            // empty table leaves every option in doubt.
            tracing::error!("git.json: {err}");
            Table::default()
        })
    })
}

/// Why git's `args` (after the program) cannot be vouched for, if they
/// cannot. A subcommand missing from the table is left to the program
/// table's subcommand list.
pub(super) fn doubt(args: &[String]) -> Option<String> {
    let table = table();
    let mut at = 0;
    while let Some(word) = args.get(at).filter(|w| w.starts_with('-')) {
        if !table.global.contains(word) {
            return Some(format!("`git {word}` is not an option lulu knows before a subcommand"));
        }
        at += 1;
    }
    let name = args.get(at)?;
    let sub = table.subcommands.get(name)?;
    let rest = &args[at + 1..];
    if let Some(actions) = &sub.actions {
        let action = rest.iter().find(|w| !w.starts_with('-')).map_or("", String::as_str);
        if !actions.iter().any(|a| a == action) {
            let shown = if action.is_empty() { "with no action" } else { action };
            return Some(format!("`git {name} {shown}` is not an action lulu vouches for"));
        }
    }
    options(name, sub, rest)
}

/// Every option word of `rest` (up to `--`) against the subcommand's row.
fn options(name: &str, sub: &Subcommand, rest: &[String]) -> Option<String> {
    let unknown = |word: &str| {
        Some(format!(
            "`git {name} {word}` is not an option lulu knows (spell it out in full)"
        ))
    };
    let mut words = rest.iter();
    let mut positional = 0;
    while let Some(word) = words.next() {
        if word == "--" {
            positional += words.len();
            break;
        }
        if word == "-" || !word.starts_with('-') {
            positional += 1;
            continue;
        }
        let takes_next = if let Some(long) = word.strip_prefix("--") {
            match long.split_once('=') {
                Some((option, _)) => {
                    let (flag, valued) = (format!("--{option}"), format!("--{option}="));
                    if !sub.long.contains(&valued) && !sub.long.contains(&flag) {
                        return unknown(word);
                    }
                    false
                }
                None if sub.long.contains(word.as_str()) => false,
                None if sub.long.contains(&format!("{word}=")) => true,
                None => return unknown(word),
            }
        } else {
            match cluster(sub, &word[1..]) {
                Ok(takes_next) => takes_next,
                Err(letter) => return unknown(&format!("-{letter}")),
            }
        };
        if takes_next && let Some(value) = words.next().filter(|v| v.starts_with('-')) {
            return Some(format!(
                "`git {name} {word} {value}`: a value that starts with `-` could be read as an option"
            ));
        }
    }
    // Where `init` and `clone` make a repository: named, it may be outside
    // the session (or lead there through a link).
    let made_here = match name {
        "init" => positional == 0,
        "clone" => positional <= 1,
        _ => true,
    };
    (!made_here).then(|| format!("`git {name}` into a directory it names may write outside the session"))
}

/// A cluster of short options (`-am`, `-n5`, `-U3`): whether its last
/// letter takes the next word as its value, or the first letter not in the
/// row.
fn cluster(sub: &Subcommand, letters: &str) -> Result<bool, char> {
    if !letters.is_empty() && letters.bytes().all(|b| b.is_ascii_digit()) {
        // `-5`: a count (log and friends).
        return Ok(false);
    }
    for (at, letter) in letters.char_indices() {
        if sub.short_value.contains(letter) {
            return Ok(at + letter.len_utf8() == letters.len());
        }
        if sub.short_optional.contains(letter) {
            return Ok(false);
        }
        if !sub.short.contains(letter) {
            return Err(letter);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doubt_of(line: &str) -> Option<String> {
        let words: Vec<String> = line.split(' ').skip(1).map(str::to_string).collect();
        doubt(&words)
    }

    #[test]
    fn the_shipped_table_reads_and_knows_every_subcommand_of_the_program_table() {
        let table: Table = serde_json::from_str(SHIPPED).expect("git.json parses");
        assert!(table.subcommands.len() >= 60);
        let programs: serde_json::Value = serde_json::from_str(include_str!("programs.json")).unwrap();
        for sub in programs["git"]["subcommands"].as_array().unwrap() {
            assert!(
                table.subcommands.contains_key(sub.as_str().unwrap()),
                "{sub} missing from git.json"
            );
        }
    }

    #[test]
    fn what_agents_run_is_vouched_for() {
        for line in [
            "git status --short",
            "git log --oneline -5",
            "git log -n 3 --format=%H --author x",
            "git log --since 2.days -p -S needle -- src",
            "git diff --stat HEAD~1 -- src/main.rs",
            "git diff --cached --name-only",
            "git show HEAD:src/main.rs",
            "git commit -am message",
            "git commit -m message --no-verify",
            "git add -A",
            "git grep -n foo",
            "git rev-parse --show-toplevel",
            "git rev-parse --abbrev-ref HEAD",
            "git stash list",
            "git stash -u",
            "git stash push -m wip",
            "git branch -D old",
            "git checkout -b feature",
            "git --no-pager log -1",
            "git rebase main",
            "git push -u origin feature",
            "git fetch --all --prune",
            "git blame -L 10,20 src/lib.rs",
            "git worktree list",
            "git remote -v",
            "git log -- --output=x",
            "git clone file:///r/src",
            "git init",
        ] {
            assert_eq!(doubt_of(line), None, "{line}");
        }
    }

    #[test]
    fn anything_else_is_a_doubt() {
        for line in [
            "git --bare diff a b",
            "git --ba log",
            "git -C /tmp status",
            "git -c core.pager=sh log",
            "git --exec-path=/tmp log",
            "git clone -u'sh<x.sh' file:///r/src dst",
            "git clone --upload-pack=sh file:///r dst",
            "git clone --upload-p=sh file:///r dst",
            "git clone --template=/tmp/t file:///r dst",
            "git format-patch -o /tmp/out -1",
            "git format-patch --output-directory=/tmp/out -1",
            "git format-patch --output-d=/tmp/out -1",
            "git log --output=/tmp/x",
            "git log --out=/tmp/x",
            "git diff --ext-diff",
            "git log -p --textconv",
            "git grep -Ocmd x",
            "git grep --open-files-in-pager=cmd x",
            "git rebase -x cmd main",
            "git rebase -i main",
            "git rebase --exec=cmd main",
            "git merge -s ours x",
            "git fetch --upload-pack=x",
            "git push --receive-pack=x",
            "git push --exec=x",
            "git commit -e -m x",
            "git tag -s v1 -m x",
            "git apply --unsafe-paths p",
            "git apply --build-fake-ancestor=/tmp/i p",
            "git log --since -x",
            "git commit -m -x",
            "git worktree add /tmp/x",
            "git maintenance start",
            "git stash frobnicate",
            "git log --no-such-option",
            "git status -Q",
            "git clone file:///r/src /home/u/.config/x",
            "git init /tmp/x",
            "git init -- /tmp/x",
        ] {
            assert!(doubt_of(line).is_some(), "{line} should be in doubt");
        }
    }
}

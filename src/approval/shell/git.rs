//! git's options, read against a positive table (`git.json`, written by
//! `scripts/git-options` from git's own usage, less the options that run
//! a program, write outside the work tree or point git at another
//! repository): before the subcommand only the global options listed,
//! after it only that subcommand's options, spelled exactly (git takes any
//! unique abbreviation of a long option, so `--upload-p` is `--upload-pack`:
//! an abbreviation is a doubt), and for a subcommand with actions (`stash
//! list`, `worktree list`) only the actions listed. Words after `--` are
//! paths. An option that takes a value takes the next word when none is
//! attached; a value that starts with `-` is a doubt (lulu would otherwise
//! read an option as a value where git does not). What the command then
//! does (where it writes, which repository it talks to, whether it opens
//! an editor) is judged in `git/effects.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

mod effects;

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

/// A git command's words as git reads them.
pub(super) struct Parsed<'a> {
    pub name: &'a str,
    /// The action (`stash list`), when the subcommand takes one.
    pub action: &'a str,
    /// Words that are neither options nor their values (the action too).
    pub positionals: Vec<&'a str>,
    /// Long options as written, with the value given with `=` or after.
    pub long: Vec<(&'a str, Option<&'a str>)>,
    /// Short options, each with what is attached after it in its cluster
    /// (empty for a letter that takes no value).
    pub letters: Vec<(char, &'a str)>,
}

impl Parsed<'_> {
    /// A long option by name, or a short one by letter (an option letter
    /// of a cluster, not its value's).
    pub fn has(&self, long: &str, letter: Option<char>) -> bool {
        self.long.iter().any(|(name, _)| *name == long)
            || letter.is_some_and(|l| self.letters.iter().any(|(c, _)| *c == l))
    }

    /// The values attached to `letter` in clusters (`-ri`: `i`).
    pub fn letters_with_value(&self, letter: char) -> impl Iterator<Item = &str> {
        self.letters.iter().filter(move |(c, _)| *c == letter).map(|(_, v)| *v)
    }
}

/// Why git's `args` (after the program), run in `ctx`, cannot be vouched
/// for, if they cannot. A subcommand missing from the table is left to the
/// program table's subcommand list.
pub(super) fn doubt(args: &[String], ctx: &super::Context<'_>) -> Option<String> {
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
    let action = rest.iter().find(|w| !w.starts_with('-')).map_or("", String::as_str);
    if let Some(actions) = &sub.actions
        && !actions.iter().any(|a| a == action)
    {
        let shown = if action.is_empty() { "with no action" } else { action };
        return Some(format!("`git {name} {shown}` is not an action lulu vouches for"));
    }
    let mut parsed = match parse(name, sub, rest) {
        Ok(parsed) => parsed,
        Err(why) => return Some(why),
    };
    parsed.action = if sub.actions.is_some() { action } else { "" };
    effects::doubt(&parsed, ctx)
}

/// Every option word of `rest` (up to `--`) against the subcommand's row:
/// the words as git reads them, or why one is not vouched for.
fn parse<'a>(name: &'a str, sub: &Subcommand, rest: &'a [String]) -> Result<Parsed<'a>, String> {
    let unknown = |word: &str| format!("`git {name} {word}` is not an option lulu knows (spell it out in full)");
    let mut parsed = Parsed {
        name,
        action: "",
        positionals: Vec::new(),
        long: Vec::new(),
        letters: Vec::new(),
    };
    let mut words = rest.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            parsed.positionals.extend(words.by_ref().map(String::as_str));
            break;
        }
        if word == "-" || !word.starts_with('-') {
            parsed.positionals.push(word);
            continue;
        }
        let takes_next = if let Some(long) = word.strip_prefix("--") {
            match long.split_once('=') {
                Some((option, value)) => {
                    let (flag, valued) = (format!("--{option}"), format!("--{option}="));
                    if !sub.long.contains(&valued) && !sub.long.contains(&flag) {
                        return Err(unknown(word));
                    }
                    parsed.long.push((&word[..option.len() + 2], Some(value)));
                    false
                }
                None if sub.long.contains(word.as_str()) => {
                    parsed.long.push((word, None));
                    false
                }
                None if sub.long.contains(&format!("{word}=")) => {
                    parsed.long.push((word, None));
                    true
                }
                None => return Err(unknown(word)),
            }
        } else {
            cluster(sub, &word[1..], &mut parsed.letters).map_err(|letter| unknown(&format!("-{letter}")))?
        };
        if takes_next && let Some(value) = words.next() {
            if value.starts_with('-') {
                return Err(format!(
                    "`git {name} {word} {value}`: a value that starts with `-` could be read as an option"
                ));
            }
            if let Some((_, slot @ None)) = parsed.long.last_mut().filter(|(w, _)| *w == word) {
                *slot = Some(value);
            }
        }
    }
    Ok(parsed)
}

/// A cluster of short options (`-am`, `-n5`, `-U3`), its letters pushed to
/// `out`: whether its last letter takes the next word as its value, or the
/// first letter not in the row.
fn cluster<'a>(sub: &Subcommand, letters: &'a str, out: &mut Vec<(char, &'a str)>) -> Result<bool, char> {
    if !letters.is_empty() && letters.bytes().all(|b| b.is_ascii_digit()) {
        // `-5`: a count (log and friends).
        return Ok(false);
    }
    for (at, letter) in letters.char_indices() {
        let attached = &letters[at + letter.len_utf8()..];
        if sub.short_value.contains(letter) || sub.short_optional.contains(letter) {
            out.push((letter, attached));
            return Ok(attached.is_empty() && sub.short_value.contains(letter));
        }
        if !sub.short.contains(letter) {
            return Err(letter);
        }
        out.push((letter, ""));
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doubt_of(line: &str) -> Option<String> {
        let words: Vec<String> = line.split(' ').skip(1).map(str::to_string).collect();
        let nowhere = std::path::Path::new("/nonexistent");
        doubt(
            &words,
            &super::super::Context {
                cwd: nowhere,
                root: nowhere,
            },
        )
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
            "git commit --amend --no-edit",
            "git commit --fixup=HEAD~2",
            "git tag v1",
            "git tag -a v1 -m release",
            "git revert --no-edit HEAD",
            "git merge --ff-only main",
            "git merge --no-edit main",
            "git pull --rebase",
            "git pull -r",
            "git notes add -m note",
            "git format-patch --stdout -1",
            "git remote add up https://example.com/r.git",
            "git remote add up git@example.com:r.git",
            "git push git@example.com:r.git main",
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
            "git commit",
            "git commit --amend",
            "git commit -a",
            "git commit --fixup=reword:HEAD",
            "git tag -a v1",
            "git revert HEAD",
            "git merge main",
            "git merge --continue",
            "git notes add",
            "git pull --rebase=interactive",
            "git pull --rebase=i",
            "git pull -ri",
            "git rebase --edit-todo",
            "git format-patch -1",
            "git format-patch --suffix=/../../x -1",
            "git push ./evil HEAD:x",
            "git push /tmp/other HEAD:x",
            "git push file:///tmp/other HEAD:x",
            "git fetch ../elsewhere",
            "git push ext::sh HEAD",
            "git remote add evil ./evil",
            "git remote add evil evil",
            "git remote set-url origin /tmp/r",
        ] {
            assert!(doubt_of(line).is_some(), "{line} should be in doubt");
        }
    }
}

//! What an allowed program may be told: the table of options and script
//! forms that make a program run code or write files (`programs.json`,
//! shipped; a user's `$XDG_CONFIG_HOME/lulu/programs.json` adds rows and
//! flags, never removes any). A simple command with a matching word is in
//! doubt even when a rule matches it. sed and awk scripts are read by a
//! positive check of their own (`scripts.rs`), git's options by the
//! positive table of its own (`git.rs`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::scripts;

const SHIPPED: &str = include_str!("programs.json");

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file is not a table of this shape.
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
}

/// One program's row.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Row {
    #[serde(default)]
    runs: bool,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    short: String,
    #[serde(default)]
    bundled: bool,
    #[serde(default)]
    script: Option<String>,
    #[serde(default)]
    subcommands: Option<Vec<String>>,
    /// Its `NAME=value` arguments set variables that change what it reads
    /// or runs (make's `MAKEFILES`, `.SHELLFLAGS`, `$(shell …)`): each one
    /// is a doubt.
    #[serde(default)]
    assignments: bool,
    /// Operands (words that are not options) it may be given at most: the
    /// one past it is an output file (`uniq in out`, `xxd in out`).
    #[serde(default)]
    operands: Option<usize>,
}

/// The table, by program name.
#[derive(Debug, Clone, Default)]
pub struct ProgramTable {
    rows: BTreeMap<String, Row>,
}

/// The shipped table with the user's additions (read once).
pub(super) fn table() -> &'static ProgramTable {
    static TABLE: OnceLock<ProgramTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = ProgramTable::parse(SHIPPED, "programs.json").unwrap_or_default();
        if let Some(path) = user_table_path()
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            match ProgramTable::parse(&text, &path.display().to_string()) {
                Ok(extra) => table.extend(extra),
                Err(err) => tracing::warn!("{err}"),
            }
        }
        table
    })
}

fn user_table_path() -> Option<std::path::PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".config")))?;
    Some(config.join("lulu").join("programs.json"))
}

impl ProgramTable {
    pub fn parse(text: &str, path: &str) -> Result<ProgramTable, TableError> {
        let mut raw: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|err| TableError::Parse {
                path: path.to_string(),
                message: err.to_string(),
            })?;
        raw.remove("_");
        let mut rows = BTreeMap::new();
        for (name, value) in raw {
            let row: Row = serde_json::from_value(value).map_err(|err| TableError::Parse {
                path: path.to_string(),
                message: format!("{name}: {err}"),
            })?;
            rows.insert(name, row);
        }
        Ok(ProgramTable { rows })
    }

    /// Add `other`'s rows: a program's flags and letters are joined, and a
    /// program that runs code in either runs code. Subcommand lists are
    /// narrowed to what both allow.
    pub fn extend(&mut self, other: ProgramTable) {
        for (name, add) in other.rows {
            let row = self.rows.entry(name).or_default();
            row.runs |= add.runs;
            row.flags.extend(add.flags);
            row.short.push_str(&add.short);
            row.bundled |= add.bundled;
            row.assignments |= add.assignments;
            row.operands = match (row.operands, add.operands) {
                (Some(mine), Some(theirs)) => Some(mine.min(theirs)),
                (mine, theirs) => mine.or(theirs),
            };
            row.script = row.script.take().or(add.script);
            row.subcommands = match (row.subcommands.take(), add.subcommands) {
                (Some(mine), Some(theirs)) => Some(mine.into_iter().filter(|s| theirs.contains(s)).collect()),
                (mine, theirs) => mine.or(theirs),
            };
        }
    }

    /// Why `words` (program first) cannot be vouched for, if a row says so.
    /// The program is found by its name, whatever path it is given by
    /// (`/usr/bin/find`).
    pub fn doubt(&self, words: &[String], ctx: &super::Context<'_>) -> Option<String> {
        let program = words.first()?;
        let name = program.rsplit('/').next().unwrap_or(program);
        let row = self.rows.get(name)?;
        let args = &words[1..];
        if row.runs {
            return Some(format!("`{name}` runs code the analysis cannot see"));
        }
        // Every word is read, `--` or not: find takes its expression after
        // one, and a program may take an option anywhere.
        for (index, arg) in args.iter().enumerate() {
            if let Some(flag) = row.flags.iter().find(|flag| matches_flag(arg, flag)) {
                return Some(format!("`{name} {flag}` can run code or write files"));
            }
            let cluster = match arg.strip_prefix('-') {
                Some(rest) if !rest.starts_with('-') => Some(rest),
                None if index == 0 && row.bundled => Some(arg.as_str()),
                _ => None,
            };
            // A letter counts inside any cluster (`-bf` is `-b -f`): the
            // row's `short` ones, and every `-x` among its flags.
            let flagged = |l: &char| {
                row.short.contains(*l)
                    || row.flags.iter().any(|f| {
                        f.strip_prefix('-')
                            .is_some_and(|rest| rest.len() == l.len_utf8() && rest.starts_with(*l))
                    })
            };
            if let Some(letter) = cluster.and_then(|c| c.chars().find(flagged)) {
                return Some(format!("`{name} -{letter}` can run code or write files"));
            }
        }
        if let Some(why) = arguments_doubt(name, row, args) {
            return Some(why);
        }
        if let Some(allowed) = &row.subcommands {
            let sub = args.iter().find(|a| !a.starts_with('-'));
            match sub {
                Some(sub) if allowed.iter().any(|s| s == sub) => {}
                Some(sub) => {
                    return Some(format!(
                        "`{name} {sub}` is not a subcommand lulu knows (an alias runs anything)"
                    ));
                }
                None => {}
            }
        }
        if name == "git"
            && let Some(why) = super::git::doubt(args, ctx)
        {
            return Some(why);
        }
        match row.script.as_deref() {
            Some("sed") => scripts::sed_doubt(args),
            Some("awk") => scripts::awk_doubt(args),
            _ => None,
        }
    }

    /// Does `program` read a script from its arguments (sed, awk)? A
    /// glob there could expand to a script the agent wrote as a file name.
    pub fn reads_script(&self, program: &str) -> bool {
        let name = program.rsplit('/').next().unwrap_or(program);
        self.rows.get(name).is_some_and(|row| row.script.is_some())
    }
}

/// A row's limits on its arguments: no `NAME=value` where assignments
/// change what it runs, no operand past its most.
fn arguments_doubt(name: &str, row: &Row, args: &[String]) -> Option<String> {
    if row.assignments
        && let Some(word) = args.iter().find(|a| {
            a.split_once('=')
                .is_some_and(|(name, _)| !name.is_empty() && !name.starts_with('-') && !name.contains('/'))
        })
    {
        return Some(format!(
            "`{name} {word}` sets a variable that changes what it reads or runs"
        ));
    }
    if let Some(most) = row.operands {
        let operands = args.iter().filter(|a| !a.starts_with('-') || a.as_str() == "-").count();
        if operands > most {
            return Some(format!("`{name}` with more than {most} operand writes the one past it"));
        }
    }
    None
}

/// Programs that never add, remove or rename a directory entry, whatever
/// they are told (writing a file's bytes, as `tee` and `sort -o` do, makes
/// no link): a redirect after them leads where it led when it was judged.
/// Found by bare name only. Not user-extensible: it widens what is allowed.
const LEAVE_TREE: &[&str] = &[
    "echo", "printf", "cat", "true", "false", ":", "pwd", "ls", "head", "tail", "wc", "grep", "egrep", "fgrep", "rg",
    "test", "[", "diff", "cmp", "stat", "file", "date", "which", "type", "basename", "dirname", "realpath", "readlink",
    "cut", "tr", "nl", "od", "sleep", "id", "whoami", "uname", "du", "df", "sort", "jq", "sed", "awk", "tee", "cd",
    "column", "fold", "rev", "paste", "comm", "join", "expr", "seq", "yes",
];
/// git's subcommands that only read (the work tree and the index alike).
const GIT_READS: &[&str] = &[
    "status",
    "log",
    "diff",
    "show",
    "grep",
    "blame",
    "annotate",
    "rev-parse",
    "rev-list",
    "ls-files",
    "ls-tree",
    "cat-file",
    "describe",
    "shortlog",
    "merge-base",
    "for-each-ref",
    "show-ref",
    "show-branch",
    "count-objects",
    "diff-tree",
    "diff-files",
    "diff-index",
    "cherry",
    "version",
    "check-ignore",
    "check-attr",
    "var",
];

/// Whether a simple command (program first) leaves the file tree's shape
/// as it is ([`LEAVE_TREE`], git's reading subcommands).
pub(super) fn leaves_tree(words: &[String]) -> bool {
    match words.first().map(String::as_str) {
        Some("git") => {
            let sub = words[1..].iter().find(|w| !w.starts_with('-'));
            sub.is_some_and(|sub| GIT_READS.contains(&sub.as_str()))
        }
        Some(program) => LEAVE_TREE.contains(&program),
        None => true,
    }
}

/// `--flag` and `--flag=…`, and any abbreviation of it (getopt_long and
/// git take a unique prefix: `--expr`, `--open=`); `-f` and `-fVALUE`;
/// `-flag` (find's) exactly; a bare word (a make variable, a subcommand)
/// and `WORD=…`.
fn matches_flag(arg: &str, flag: &str) -> bool {
    if arg == flag {
        return true;
    }
    if flag.starts_with("--") {
        let name = arg.split_once('=').map_or(arg, |(name, _)| name);
        return name.len() > 2 && name.starts_with("--") && flag.starts_with(name);
    }
    if !flag.starts_with('-') {
        return arg.strip_prefix(flag).is_some_and(|rest| rest.starts_with('='));
    }
    if flag.len() == 2 {
        return arg.starts_with(flag) && !arg.starts_with("--");
    }
    arg.strip_prefix(flag).is_some_and(|rest| rest.starts_with('='))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn doubt(line: &str) -> Option<String> {
        let words: Vec<String> = line.split(' ').map(str::to_string).collect();
        let nowhere = Path::new("/nonexistent");
        table().doubt(
            &words,
            &crate::approval::shell::Context {
                cwd: nowhere,
                root: nowhere,
            },
        )
    }

    /// One row per entry of the table, and a harmless neighbour for each.
    #[test]
    fn each_row_of_the_table_is_read() {
        let doubtful = [
            "find . -exec rm {} ;",
            "find . -execdir x ;",
            "find . -ok x ;",
            "find . -okdir x ;",
            "find . -delete",
            "find . -fprint /tmp/f",
            "find . -fprint0 /home/u/.bashrc",
            "find . -fprintf f %p",
            "find . -fls f",
            "git -c core.pager=x log",
            "git -C /tmp status",
            "git --config-env=core.pager=X log",
            "git --exec-path=/tmp log",
            "git --git-dir=/tmp/x status",
            "git --work-tree=/tmp status",
            "git log --output=/home/u/.bashrc",
            "git grep -Ocmd x",
            "git grep --open-files-in-pager=cmd x",
            "git diff --ext-diff",
            "git log --textconv",
            "git fetch --upload-pack=x",
            "git push --receive-pack=x",
            "git rebase -x cmd main",
            "git rebase --exec=cmd main",
            "git lg",
            "git config core.fsmonitor x",
            "git difftool",
            "sed -i s/a/b/ f",
            "sed -ni p f",
            "sed --in-place -n p f",
            "sed -f script f",
            "sed -n 1e\u{20}cmd f",
            "sed -n w\u{20}/tmp/f f",
            "sed -n s/a/b/w\u{20}/tmp/f f",
            "sed -n s/a/b/e f",
            "awk BEGIN{system(\"x\")}",
            "awk {print>\"/tmp/f\"}",
            "awk {print|\"sh\"}",
            "awk {\"cmd\"|getline}",
            "awk -f prog.awk",
            "gawk -l ext",
            "awk -o/tmp/f BEGIN{}",
            "awk -e BEGIN{} -e BEGIN{system(c)}",
            "awk BEGIN{for(print>f;0;);}",
            "sort -o /tmp/f x",
            "sort --compress-program=sh x",
            "sort -So x",
            "tar -t -M -f z",
            "tar -tMf z",
            "npm test -C /tmp/outside",
            "npm test --logs-dir=/tmp/x",
            "tar -tf a.tar --checkpoint-action=exec=x",
            "tar -t -I cmd -f a",
            "tar -tf a --use-compress-program=cmd",
            "tar -tf a --to-command=cmd",
            "tar -xf a.tar",
            "tar xf a.tar",
            "tar -cf out.tar .",
            "rg --pre=cmd x",
            "npm test --script-shell=/tmp/evil",
            "npm exec x",
            "make SHELL=/tmp/x",
            "make -f other.mk",
            "cargo --config target.x.runner=sh build",
            "python3 -c x",
            "node -e x",
            "perl -e x",
            "perl -i -pe s/a/b/ f",
            "ruby -e x",
            "xargs rm",
            "env rm",
            "nice rm",
            "timeout 1 rm",
            "nohup x",
            "command x",
            "builtin x",
            "exec x",
            "less f",
            "printf -v x y",
            "/usr/bin/find . -delete",
        ];
        for line in doubtful {
            assert!(doubt(line).is_some(), "{line:?} should be in doubt");
        }
        let clear = [
            "find . -name *.rs",
            "find . -type f -newer x",
            "git log --oneline -5",
            "git diff HEAD~1",
            "git status",
            "git grep -n foo",
            "git show HEAD:src/main.rs",
            "sed -n 1,5p f",
            "sed -n /foo/p f",
            "sed s/a/b/g f",
            "sed -n -e 1p -e $p f",
            "awk {print $1}",
            "awk $3>100",
            "tar -tf a.tar",
            "tar tvf a.tar",
            "rg -n foo",
            "npm test",
            "npm run build",
            "make test",
            "cargo test --release",
            "python3 script.py",
            "ls -la",
            "grep -rn x src",
        ];
        for line in clear {
            assert_eq!(doubt(line), None, "{line:?}");
        }
    }

    #[test]
    fn a_user_table_adds_and_never_removes() {
        let mut table = ProgramTable::parse(SHIPPED, "shipped").unwrap();
        let extra =
            ProgramTable::parse(r#"{"find": {"flags": ["-newer"]}, "mytool": {"runs": true}}"#, "user").unwrap();
        table.extend(extra);
        let words = |line: &str| line.split(' ').map(str::to_string).collect::<Vec<_>>();
        let root = Path::new("/nonexistent");
        let ctx = crate::approval::shell::Context { cwd: root, root };
        assert!(table.doubt(&words("find . -newer x"), &ctx).is_some());
        assert!(
            table.doubt(&words("find . -delete"), &ctx).is_some(),
            "the shipped flags stay"
        );
        assert!(table.doubt(&words("mytool"), &ctx).is_some());
        let err = ProgramTable::parse(r#"{"x": {"rnus": true}}"#, "user").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}

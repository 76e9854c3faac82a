//! An independent attack on the judge after `Rule::matches` and the
//! grammar's `command` were split up. Each test is a shape that got past
//! the judge (proven against bash, dash or zsh) or one it already refused,
//! kept as regressions; a finding not fixed yet is kept as
//! `#[ignore = "finding: …"]` (none now).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::shell::{Context, Dialect, analyze};
use super::*;

const ALL: [Dialect; 4] = [Dialect::Bash, Dialect::Posix, Dialect::Zsh, Dialect::BashOrZsh];

fn allow_command(id: i64, regex: &str) -> Rule {
    let spec = RuleSpec {
        tool: Some("Bash".into()),
        command: Some(regex.into()),
        ..RuleSpec::new(Action::Allow)
    };
    Rule::new(id, spec).unwrap()
}

/// The verdict on a Bash command run in `root` (the session's root).
fn bash(rules: &[Rule], root: &Path, command: &str) -> Action {
    let input = json!({ "command": command });
    let call = ToolCall {
        agent: "claude",
        tool: "Bash",
        input: &input,
        cwd: root,
        root,
    };
    evaluate(rules, &call).action
}

fn session() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    dir
}

fn doubt_of(source: &str, root: &Path, dialect: Dialect) -> Option<String> {
    let ctx = Context { cwd: root, root };
    analyze(source, &ctx, dialect).doubt
}

/// Shapes that look close to a vouched-for one but are not: in doubt under
/// every dialect.
#[test]
fn near_misses_are_in_doubt_everywhere() {
    let dir = session();
    let root = dir.path();
    for source in [
        // Brace expansion at the head of a command: a parse error.
        "{sh,-c,id} npm test",
        "{rm,-rf,x}",
        // A named descriptor in the middle of a command: words after it.
        "echo x {HOME}>/dev/null y",
        // Here-documents: two on a line, commands after one, a pipe or a
        // word after one, no end.
        "cat <<'EOF' <<'EOG'\nEOF\nrm x\nEOG",
        "cat <<'EOF'; rm x\nbody\nEOF",
        "cat <<'EOF' | sh\nid\nEOF",
        "cat <<'EOF' && sh\nid\nEOF",
        "cat <<'EOF' x\nbody\nEOF",
        "cat <<'EOF'\nx",
        // Redirections: moves, `>&word`, other descriptors, quoted `~`,
        // `..`, a case-folded `.git` or agent directory, /dev by another
        // spelling, bash's network paths.
        "ls >&2-",
        "ls 2>&1-",
        "ls >& out",
        "ls 3>/etc/passwd",
        "ls > '~/.bashrc'",
        "ls > src/../../x",
        "echo x >> .GIT/config",
        "echo x > .Claude/settings.json",
        "ls > /dev//null",
        "ls > /dev/tcp/127.0.0.1/80",
        "ls > /dev/stdout",
        // Globs that may start with a dash; homes lulu does not know.
        "ls [-]*",
        "rg foo ''-*",
        "ls ~+",
        "ls ~-/x",
        "ls ~root",
        // A `#` after `;`, control bytes, a lone `$`, an escaped `$(`.
        "ls;#x\nrm y",
        "ls\u{b}-la",
        "ls\u{c}",
        "ls\u{1b}",
        "echo \"$\"",
        "echo \\$(id)",
        // zsh's disowning background jobs.
        "ls &|",
        "ls &!",
        // Directory changes.
        "cd ''~",
        "pushd src && echo x > y",
        // Table rows, spelled tightly.
        "git -C. status",
        "git clone --upload-pack=x file:///r d",
        "sort -o/tmp/x in",
        "sed -n p f \"-\"*",
    ] {
        for dialect in ALL {
            assert!(
                doubt_of(source, root, dialect).is_some(),
                "{source:?} under {dialect:?} was vouched for"
            );
        }
    }
}

/// What zsh reads otherwise, in doubt for zsh and for "bash or zsh".
#[test]
fn zsh_readings_are_in_doubt_for_zsh() {
    let dir = session();
    for source in ["''=ls", "echo ''=ls", "=ls -la", "echo a#b", "echo x^y", "ls > =x"] {
        for dialect in [Dialect::Zsh, Dialect::BashOrZsh] {
            assert!(
                doubt_of(source, dir.path(), dialect).is_some(),
                "{source:?} under {dialect:?}"
            );
        }
    }
}

/// A redirection is judged where it really leads: through a link to
/// outside, to a FIFO, to a file with another name.
#[test]
fn redirections_through_what_exists_are_in_doubt() {
    let dir = session();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
    std::os::unix::fs::symlink("/proc/self", root.join("me")).unwrap();
    std::fs::write(dir.path().join("secret"), "x").unwrap();
    std::fs::hard_link(dir.path().join("secret"), root.join("alias")).unwrap();
    let fifo = std::ffi::CString::new(root.join("fifo").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let rules = [allow_command(1, "^echo( |$)")];
    assert_eq!(bash(&rules, &root, "echo x > fine"), Action::Allow);
    for source in [
        "echo x >> up/.bashrc",
        "echo x > nothere/../up/x",
        "echo x > me/cwd/x",
        "echo x > alias",
        "echo x > fifo",
        "echo x > u\\p/.bashrc",
        "echo x > 'up'/.bashrc",
    ] {
        assert_eq!(bash(&rules, &root, source), Action::Ask, "{source:?}");
    }
}

/// Hostile sizes and nestings: no panic, an answer in bounded time, and
/// never vouched for.
#[test]
fn hostile_sizes_do_not_panic() {
    let dir = session();
    let cases = [
        "$(".repeat(20_000),
        format!("{}{}", "(".repeat(30_000), ")".repeat(30_000)),
        "{ ".repeat(20_000),
        "`".repeat(60_000),
        "[[ ".repeat(20_000),
        format!("ls {}", "${".repeat(20_000)),
        "a=".repeat(30_000),
        format!("\"{}", "$(\"".repeat(15_000)),
        "if ".repeat(20_000),
        format!("ls {}", "\\ ".repeat(30_000)),
        format!("{}x", "cat <<'EOF' ".repeat(5_000)),
        format!("ls {}", "\u{1}".repeat(60_000)),
        format!("ls {}", "é".repeat(40_000)),
        format!("{}\n", "ls\0".repeat(100)),
    ];
    for source in &cases {
        for dialect in ALL {
            let start = Instant::now();
            let got = doubt_of(source, dir.path(), dialect);
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{dialect:?} took {:?}",
                start.elapsed()
            );
            assert!(got.is_some(), "{dialect:?}: {}", &source[..40.min(source.len())]);
        }
    }
    // Long but plain: answered quickly either way.
    for source in [
        format!("echo {}b", "a|".repeat(30_000)),
        format!("ls {}", "'a'".repeat(20_000)),
        format!("cat <<'EOF'\n{}EOF", "x\n".repeat(30_000)),
        format!("echo {{{}", "😀".repeat(16_000)),
    ] {
        let start = Instant::now();
        doubt_of(&source, dir.path(), Dialect::BashOrZsh);
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}

/// The documented rule still allows what it names and nothing else, with
/// the refactored `fits_*`: a path rule never matches a command, an argv
/// rule never a regex's reading, a doubt never allows.
#[test]
fn split_matching_keeps_its_conditions() {
    let dir = session();
    let root = dir.path();
    let documented = [allow_command(1, "^(ls|git status)( |$)")];
    assert_eq!(bash(&documented, root, "ls -la && git status"), Action::Allow);
    for source in [
        "ls && rm -rf ~",
        "ls $(rm -rf ~)",
        "ls > /etc/passwd",
        "git status; PATH=/x ls",
        "ls{,}",
        "git status -c x",
        "ls 'a b'",
        "ls a\\ b",
        "ls ''",
        "git status\u{a0}x",
    ] {
        assert_ne!(bash(&documented, root, source), Action::Allow, "{source:?}");
    }
    let path_rule = Rule::new(
        2,
        RuleSpec {
            path: Some("**".into()),
            ..RuleSpec::new(Action::Allow)
        },
    )
    .unwrap();
    assert_eq!(bash(std::slice::from_ref(&path_rule), root, "ls"), Action::Ask);
    let argv_rule = Rule::new(
        3,
        RuleSpec {
            argv: Some(vec!["rm".into(), "a b".into()]),
            ..RuleSpec::new(Action::Allow)
        },
    )
    .unwrap();
    assert_eq!(bash(std::slice::from_ref(&argv_rule), root, "rm 'a b'"), Action::Allow);
    assert_eq!(bash(std::slice::from_ref(&argv_rule), root, "rm a b"), Action::Ask);
    assert_eq!(
        bash(std::slice::from_ref(&argv_rule), root, "rm 'a b' > /etc/x"),
        Action::Ask
    );
    // A tool-wide allow still never allows what is in doubt.
    let wide = Rule::new(
        4,
        RuleSpec {
            tool: Some("Bash".into()),
            ..RuleSpec::new(Action::Allow)
        },
    )
    .unwrap();
    assert_eq!(bash(std::slice::from_ref(&wide), root, "ls $(id)"), Action::Ask);
    assert_eq!(bash(std::slice::from_ref(&wide), root, "{sh,-c,id}"), Action::Ask);
}

// ---- Findings: ways past the judge. ----
//
// Each finding collects every case that got through and asserts there
// are none.

/// The commands `rules` allow.
fn allowed<'a>(rules: &[Rule], root: &Path, sources: &[&'a str]) -> Vec<&'a str> {
    sources
        .iter()
        .copied()
        .filter(|source| bash(rules, root, source) == Action::Allow)
        .collect()
}

/// The commands the judge vouches for under `dialects`.
fn vouched<'a>(root: &Path, sources: &[&'a str], dialects: &[Dialect]) -> Vec<(&'a str, Dialect)> {
    let mut out = Vec::new();
    for source in sources {
        for dialect in dialects {
            if doubt_of(source, root, *dialect).is_none() {
                out.push((*source, *dialect));
            }
        }
    }
    out
}

/// bash and zsh read `{NAME}>file` as "open file on a new descriptor and
/// put its number in NAME". After a builtin (`echo`) that assignment stays:
/// `HOME` becomes `11` (bash) or `12` (zsh), and `git status` then reads
/// `./11/.gitconfig`, a file inside the session any path rule lets the
/// agent write: `[core] fsmonitor = "…"` runs. Proven with bash 5.2 and
/// zsh 5.9. The judge reads `{HOME}` as echo's argument: the trailing
/// redirect is a sibling of the command (`redirected_statement`), and the
/// "words run together" check lives only in `command()`.
#[test]
fn a_named_descriptor_assigns_home() {
    let dir = session();
    let rules = [allow_command(1, "^(echo|ls|git status)( |$)")];
    let sources = [
        "echo x {HOME}>/dev/null; git status",
        "echo x {HOME}>>/dev/null && git status",
        "echo x {HOME}</dev/null; git status",
        "echo {PATH}>/dev/null; ls",
    ];
    let dialects = [Dialect::Bash, Dialect::Zsh, Dialect::BashOrZsh];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
    assert_eq!(vouched(dir.path(), &sources, &dialects), []);
}

/// `glob_is_anchored` takes a quoted first character as literal, so a
/// quoted or escaped dash passes: `"-"*` and `\-*` expand to every file
/// whose name starts with `-`. With a file `-delete` (any allowed write
/// makes one), `find src "-"*` is `find src -delete` (run in bash and zsh:
/// `src` is gone). The table reads `-*`, not `-delete`.
#[test]
fn a_quoted_dash_glob_expands_to_options() {
    let dir = session();
    let rules = [allow_command(1, "^(find|rg|ls) ")];
    let sources = [
        "find src \"-\"*",
        "find src \\-*",
        "find src '-'*",
        "rg x \"-\"?*",
        "ls \"-\"[a-z]*",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
    assert_eq!(vouched(dir.path(), &sources, &ALL), []);
}

/// `program()` checks a program word for globs and dialect, not for brace
/// expansion (`argument()` does). `sed{,X}` runs `sed sedX`, and the
/// table looks up a program named `sed{,X}`: no row, no script check.
/// `sed{,'eid>PWNED'ee} in.txt` is `sed 'sedeid>PWNEDee' in.txt`, an
/// `s` command delimited by `e` with the `e` flag: with a line `d` in
/// in.txt it runs `id>PWNED` (bash and zsh). Any rule with no word end
/// after the name (`^sed\b`, `^sed`) allows it; the words it reads are
/// not the argv either (`ls{,}` is `ls ls`).
#[test]
fn brace_expansion_in_the_program() {
    let dir = session();
    let rules = [allow_command(1, r"^sed\b"), allow_command(2, "^ls")];
    let sources = ["sed{,'eid>PWNED'ee} in.txt", "ls{,}", "ls{,-la}"];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
    assert_eq!(vouched(dir.path(), &sources, &ALL), []);
}

/// A redirect is resolved against the file system before the script runs;
/// an earlier command of the same script can make a link on its way.
/// `git apply` of a patch with `new file mode 120000` makes `lnk ->
/// /home/u`; `>> lnk/.bashrc` then writes there (run: the file outside
/// got the line). Only `cd` is tracked between commands.
#[test]
fn a_link_made_earlier_in_the_script() {
    let dir = session();
    let rules = [allow_command(1, "^(git apply|echo|ln|cat|git status) ")];
    let sources = [
        "git apply x.patch && echo pwned >> lnk/.bashrc",
        "git apply x.patch; echo pwned > lnk/x",
        // A link made beside it in a pipeline, or over a file that exists.
        "echo pwned > lnk/x | git apply x.patch",
        "ln -sf /home/u/.bashrc in.txt; echo pwned >> in.txt",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
    // After commands that make no link, a redirect stays judged as it was.
    let fine = [
        "echo a > out.txt && cat out.txt > copy.txt",
        "git status --short > status.txt",
        "echo a | cat - > out.txt",
        "git apply x.patch > /dev/null",
    ];
    assert_eq!(allowed(&rules, dir.path(), &fine), fine);
}

/// Table gaps for a `^git ` rule (the subcommand list is there for one):
/// (Fixed by the positive table `shell/git.json`: only options git lists
/// for the subcommand, spelled out, less those that run or write.)
/// `--bare` (any prefix) makes the working directory the git directory, an
/// explicit one, so `safe.bareRepository=explicit` allows it: with the
/// agent's `HEAD`, `objects/`, `refs/`, `config` in the session root,
/// `git --bare diff A B` ran `diff.external` from `./config` (git 2.47).
/// `git clone -u CMD file://…` runs CMD (`-u` is clone's
/// `--upload-pack`). `format-patch -o` writes anywhere.
#[test]
fn git_options_missing_from_the_table() {
    let dir = session();
    let rules = [allow_command(1, "^git ")];
    let sources = [
        "git --bare diff 7898192 6178079",
        "git --ba log",
        "git clone -u'sh<x.sh' file:///r/src dst",
        "git format-patch -o /tmp/out -1",
        "git format-patch --output-directory=/tmp/out -1",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
}

/// Programs that run other programs or evaluate a word as code, missing
/// from the table (each run: it printed): zsh's precommand modifiers
/// `noglob`, `nocorrect` and `-`; bash's `jobs -x CMD` and `compgen -C
/// CMD`; bash's `test -v 'a[$(CMD)]'` and zsh's `print -v 'a[$(CMD)]'`
/// (an array subscript is arithmetic, with substitutions). A rule that
/// reads past the program (`npm test` unanchored) then allows `sh -c`.
#[test]
fn runners_missing_from_the_table() {
    let dir = session();
    let rules = [allow_command(1, "npm test$"), allow_command(2, "^(test|print) -")];
    let sources = [
        "noglob sh -c id npm test",
        "nocorrect sh -c id npm test",
        "- sh -c id npm test",
        "jobs -x sh -c id npm test",
        "compgen -C id npm test",
        "test -v 'a[$(id)]'",
        "print -v 'a[$(id)]' x",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
}

/// Words the judge reads otherwise than a shell passes them: bash expands
/// `~` after `=` (and `:`) in a word shaped like an assignment (`echo
/// a=~/x` prints `a=/root/x`; dash and zsh print `a=~/x`), and zsh
/// expands `''~/x` to the home where bash and dash keep `~/x`.
#[test]
fn tildes_the_judge_reads_otherwise() {
    let dir = session();
    let sources = ["echo a=~/x", "echo x=a:~/w", "echo ''~/x"];
    assert_eq!(vouched(dir.path(), &sources, &[Dialect::BashOrZsh]), []);
    assert_eq!(vouched(dir.path(), &sources[..2], &[Dialect::Bash]), []);
}

/// awk's `#` comment is not skipped by the brace count: `{ # }` closes
/// the action to the judge, so a `print > f` after it is "a pattern".
/// (The program holds a newline, so a regex rule never allows it; an argv
/// or tool-wide rule would.)
#[test]
fn awk_comments_hide_a_brace() {
    let dir = session();
    let sources = [
        "awk -v f=/tmp/x '{ # }\nprint > f }'",
        "awk -v f=/tmp/x '{ # \"\nprint \"id\" > f }'",
    ];
    assert_eq!(vouched(dir.path(), &sources, &ALL), []);
}

/// zsh's `chdir` is `cd`: not tracked, so git and relative redirects
/// after it are judged in the old directory.
#[test]
fn zsh_chdir_changes_directory() {
    let dir = session();
    let sources = ["chdir /tmp && git status", "chdir / && echo x > etc/x"];
    assert_eq!(vouched(dir.path(), &sources, &[Dialect::Zsh, Dialect::BashOrZsh]), []);
}

// ---- The second attack (after git's positive table): four findings. ----

/// A bare repository the agent built inside the session (`mkdir`,
/// `echo … > HEAD`, `printf … > hooks/post-receive`, `chmod`: each vouched for),
/// then `git push ./evil …` ran its hook (`safe.bareRepository=explicit`
/// counts a path given to push as explicit); through a remote added with
/// that path too, and a bare name that is a directory here is a path to
/// git when no remote has that name.
#[test]
fn git_push_to_a_path_runs_its_hooks() {
    let dir = session();
    std::fs::create_dir_all(dir.path().join("evil/hooks")).unwrap();
    let steps = [
        "mkdir -p evil/objects evil/refs evil/hooks",
        "echo 'ref: refs/heads/main' > evil/HEAD",
        "printf '#!/bin/sh\\nid > /tmp/pp/HOOK_RAN\\n' > evil/hooks/post-receive",
    ];
    assert_eq!(vouched(dir.path(), &steps, &ALL).len(), steps.len() * ALL.len());
    let rules = [allow_command(1, "^git (push|remote|fetch) ")];
    let sources = [
        "git push ./evil HEAD:refs/heads/x",
        "git push evil HEAD:refs/heads/x",
        "git push /tmp/other-repo HEAD:refs/heads/x",
        "git remote add evil ./evil",
        "git fetch ../other",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
    assert_eq!(vouched(dir.path(), &sources, &ALL), []);
    let fine = [
        "git push origin HEAD:refs/heads/x",
        "git push https://example.com/r.git main",
    ];
    assert_eq!(allowed(&rules, dir.path(), &fine), fine);
}

/// `format-patch --suffix=/../../PWNED` wrote outside the session (git
/// joins the subject and the suffix unchecked); its patch files follow a
/// link of the same name too.
#[test]
fn format_patch_writes_where_its_names_lead() {
    let dir = session();
    std::fs::create_dir_all(dir.path().join("0001-b")).unwrap();
    let rules = [allow_command(1, "^git ")];
    let sources = [
        "git format-patch --suffix=/../../PWNED -1",
        "git format-patch --suffix /../../PWNED -1",
        "git format-patch -1",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
    assert_eq!(vouched(dir.path(), &sources, &ALL), []);
}

/// The table drops `-e`/`-i` for the editor they open, but git opens it
/// without them too (run with GIT_EDITOR/GIT_SEQUENCE_EDITOR logging:
/// `pull --rebase=interactive` edited git-rebase-todo, `commit`
/// COMMIT_EDITMSG, `tag -a` TAG_EDITMSG).
#[test]
fn git_opens_the_editor_without_edit_options() {
    let dir = session();
    let rules = [allow_command(1, "^git ")];
    let sources = [
        "git pull --rebase=interactive",
        "git pull --rebase=i",
        "git pull -ri",
        "git commit",
        "git commit --amend",
        "git commit --fixup=reword:HEAD",
        "git tag -a v1",
        "git revert HEAD",
        "git notes add",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
}

/// gawk takes clusters: `-bf prog.awk` is `-b -f prog.awk` and runs the
/// file's `system()` (run: it wrote `uid=0`); `-bE` too. The table saw
/// `-f` only at a word's start.
#[test]
fn awk_option_clusters_read_a_program_file() {
    let dir = session();
    let rules = [allow_command(1, "^g?awk ")];
    let sources = [
        "gawk -bf prog.awk",
        "gawk -bfprog.awk",
        "awk -bf prog.awk",
        "gawk -bE prog.awk",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
    assert_eq!(vouched(dir.path(), &sources, &ALL), []);
}

// ---- The third attack: eight findings, each proven by running it. ----

fn bash_in(rules: &[Rule], root: &Path, cwd: &Path, input: serde_json::Value) -> Action {
    let call = ToolCall {
        agent: "claude",
        tool: "Bash",
        input: &input,
        cwd,
        root,
    };
    evaluate(rules, &call).action
}

/// A bare repository the agent can write with vouched commands, named
/// `evil.git` (no `.git` component): with an alternates file, git's
/// receive-pack runs its `core.alternateRefsCommand` (run: it wrote
/// `uid=0`).
fn build_evil(root: &Path) {
    for step in [
        "mkdir -p evil.git/objects/info evil.git/refs",
        "echo 'ref: refs/heads/main' > evil.git/HEAD",
        "echo ../../.git/objects > evil.git/objects/info/alternates",
    ] {
        assert_eq!(vouched(root, &[step], &ALL).len(), ALL.len(), "{step}");
    }
    std::fs::create_dir_all(root.join("evil.git/objects/info")).unwrap();
    std::fs::create_dir_all(root.join("evil.git/refs")).unwrap();
    std::fs::write(root.join("evil.git/HEAD"), "ref: refs/heads/main\n").unwrap();
}

/// git tries `name.git` when `name` is no remote and no directory.
#[test]
fn git_push_to_a_name_reaches_name_dot_git() {
    let dir = session();
    build_evil(dir.path());
    let rules = [allow_command(1, "^git (push|fetch|pull) ")];
    let sources = [
        "git push evil HEAD:refs/heads/x",
        "git push --all evil",
        "git pull evil main",
        "git fetch evil",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
}

/// The repository by `--repo=`, or among `fetch --multiple`'s.
#[test]
fn git_repository_given_other_ways() {
    let dir = session();
    build_evil(dir.path());
    let rules = [allow_command(1, "^git (push|fetch) ")];
    let sources = [
        "git push --all --repo=./evil.git",
        "git push --repo ./evil.git --all",
        "git push --repo=/tmp/other --all",
        "git fetch --multiple origin ./evil.git",
        "git fetch --multiple origin /tmp/other",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
}

/// git reads a relative repository from the top of the work tree.
#[test]
fn git_push_from_a_subdirectory() {
    let dir = session();
    build_evil(dir.path());
    let sub = dir.path().join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let rules = [allow_command(1, "^git push ")];
    let input = json!({"command": "git push evil.git HEAD:refs/heads/x"});
    assert_eq!(bash_in(&rules, dir.path(), &sub, input), Action::Ask);
}

/// Run inside the bare repository (the call's own directory): git takes it
/// for one and runs its config's `core.sshCommand` (run: it wrote `uid=0`).
#[test]
fn git_run_inside_a_bare_repository_the_agent_wrote() {
    let dir = session();
    build_evil(dir.path());
    let rules = [allow_command(1, "^git fetch ")];
    let command = json!({"command": "git fetch git@example.com:r.git"});
    let inside = dir.path().join("evil.git");
    assert_eq!(bash_in(&rules, dir.path(), &inside, command.clone()), Action::Ask);
    std::fs::create_dir_all(inside.join("refs/deeper")).unwrap();
    assert_eq!(
        bash_in(&rules, dir.path(), &inside.join("refs/deeper"), command),
        Action::Ask
    );
}

/// GNU sed ends a label at a blank and reads the rest as a command (run:
/// `:x e id` ran id; `bx w FILE` created FILE while compiling).
#[test]
fn sed_label_ends_at_a_blank() {
    let dir = session();
    let sources = [
        "sed -n ':x e id' in.txt",
        "sed -n ':x w /tmp/pp/W' in.txt",
        "sed -n 'bx w /tmp/pp/W' in.txt",
        "sed -n 't x e id' in.txt",
    ];
    assert_eq!(vouched(dir.path(), &sources, &ALL), []);
    assert_eq!(
        vouched(
            dir.path(),
            &["sed ':a;N;ba' in.txt", "sed -n 'b end' in.txt"],
            &[Dialect::Bash]
        )
        .len(),
        2
    );
}

/// make's `MAKEFILES=` reads a makefile (what `-f` does) and
/// `.SHELLFLAGS=` runs code (both run).
#[test]
fn make_variables_that_read_or_run() {
    let dir = session();
    let rules = [allow_command(1, "^make ")];
    let sources = [
        "make test MAKEFILES=evil.mk",
        "make MAKEFILES=evil.mk",
        "make test .SHELLFLAGS=-c",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
}

/// `node --env-file=f` reads `NODE_OPTIONS="--require ./hook.js"` from f
/// (run: the hook ran).
#[test]
fn node_env_file_requires() {
    let dir = session();
    let rules = [allow_command(1, "^node ")];
    let sources = ["node --env-file=envf empty.js", "node --env-file envf empty.js"];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
}

/// `rebase --continue` edits COMMIT_EDITMSG; `-p`'s `e` edits a hunk
/// (run with a logging GIT_EDITOR).
#[test]
fn git_opens_the_editor_still() {
    let dir = session();
    let rules = [allow_command(1, "^(git|echo) ")];
    let sources = [
        "git rebase --continue",
        "echo e | git add -p",
        "echo e | git checkout -p",
        "echo e | git reset -p",
        "echo e | git stash -p",
        "echo e | git commit -p -m x",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
}

// ---- The fourth attack: four findings, each proven by running it. ----

/// `git clone file://R/.git.git` in `sub` makes `sub/.git` (git strips
/// `.git` from the name) out of files the agent wrote, `cp -r` or `ln -s`
/// too; git in `sub` then runs its config's `core.fsmonitor` (run: it
/// wrote `uid=`), and from the root `git status` goes into `sub` once it is
/// in the index as an embedded repository.
#[test]
fn git_finds_a_dot_git_the_agent_made() {
    let dir = session();
    let root = dir.path();
    let repo = git2::Repository::init(root).unwrap();
    let rules = [allow_command(1, "^(git|mkdir|echo) ")];
    let run = |cwd: &Path, command: &str| bash_in(&rules, root, cwd, json!({ "command": command }));
    let sub = root.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    assert_eq!(run(&sub, "git clone file:///r/.git.git"), Action::Ask);
    assert_eq!(run(&sub, "git clone https://example.com/x/.git.git/"), Action::Ask);
    assert_eq!(run(&sub, "git clone https://example.com/x/y.git"), Action::Allow);
    // Made another way (cp -r, ln -s): git in it, or under it.
    let fake = sub.join(".git");
    std::fs::create_dir_all(fake.join("objects")).unwrap();
    std::fs::create_dir_all(fake.join("refs/heads")).unwrap();
    std::fs::write(fake.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::create_dir_all(sub.join("deeper")).unwrap();
    assert_eq!(run(&sub, "git status"), Action::Ask);
    assert_eq!(run(&sub.join("deeper"), "git status"), Action::Ask);
    // From the root: clean until `sub` is in the index as a gitlink.
    assert_eq!(run(root, "git status"), Action::Allow);
    let mut index = repo.index().unwrap();
    let entry = git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o160000,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: git2::Oid::from_str("ae223884663bd76cd7e5dcdfb969978b4f5aedfe").unwrap(),
        flags: 3,
        flags_extended: 0,
        path: b"sub".to_vec(),
    };
    index.add(&entry).unwrap();
    index.write().unwrap();
    assert_eq!(run(root, "git status"), Action::Ask);
    assert_eq!(run(root, "git diff"), Action::Ask);
}

/// A bare repository whose `HEAD` is a link (made by `git apply` of a
/// `120000` patch): git takes it without reading it (run: its
/// `core.sshCommand` ran).
#[test]
fn a_bare_repository_whose_head_is_a_link() {
    let dir = session();
    let root = dir.path();
    let rules = [allow_command(1, "^git ")];
    let evil = root.join("evil.git");
    std::fs::create_dir_all(evil.join("objects")).unwrap();
    std::fs::create_dir_all(evil.join("refs")).unwrap();
    std::os::unix::fs::symlink("refs/heads/main", evil.join("HEAD")).unwrap();
    let input = json!({ "command": "git fetch git@example.com:r.git" });
    assert_eq!(bash_in(&rules, root, &evil, input), Action::Ask);
}

/// Programs that read, told a file to write (run: each wrote outside).
#[test]
fn reading_programs_that_write() {
    let dir = session();
    let rules = [allow_command(1, "^(uniq|xxd|shuf|iconv|sdiff|csplit) ")];
    let sources = [
        "uniq in.txt /tmp/outside/.bashrc",
        "uniq -c in.txt ../x",
        "xxd -r -p in.hex /tmp/outside/y",
        "xxd in.txt /tmp/outside/y",
        "shuf -o /tmp/outside/s in.txt",
        "iconv -f utf8 -t utf8 -o /tmp/outside/i in.txt",
        "sdiff -o /tmp/outside/d a b",
        "csplit -f /tmp/outside/c in.txt 1",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
    let fine = ["uniq -c in.txt", "xxd in.txt"];
    assert_eq!(allowed(&rules, dir.path(), &fine), fine);
}

/// `wget --use-askpass=CMD` runs CMD (run: it wrote `uid=0`, no network
/// needed); `-O` writes anywhere.
#[test]
fn wget_askpass_runs() {
    let dir = session();
    let rules = [allow_command(1, "^(wget|curl) ")];
    let sources = [
        "wget --use-askpass=./x.sh http://127.0.0.1:1/ -O /dev/null",
        "wget -O /tmp/outside/x http://127.0.0.1:1/",
        "curl -o /tmp/outside/x http://127.0.0.1:1/",
        "curl -K cfg http://127.0.0.1:1/",
    ];
    assert_eq!(allowed(&rules, dir.path(), &sources), [] as [&str; 0]);
}

/// A split index keeps its entries in `.git/sharedindex.*`, which libgit2
/// does not read: a gitlink there would not be seen, so such a repository
/// is in doubt for git.
#[test]
fn a_split_index_is_not_read_so_git_asks() {
    let dir = session();
    let root = dir.path();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "core.hooksPath=/dev/null",
            ])
            .args(args)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    std::fs::write(root.join("a.txt"), "a\n").unwrap();
    git(&["add", "a.txt"]);
    git(&["commit", "-qm", "a"]);
    let rules = [allow_command(1, "^git ")];
    let status = json!({ "command": "git status" });
    assert_eq!(bash_in(&rules, root, root, status.clone()), Action::Allow);
    git(&["update-index", "--split-index"]);
    assert_eq!(bash_in(&rules, root, root, status), Action::Ask);
}

// ---- A fifth attack (on the index check): two findings. ----

fn add_gitlink(repo: &git2::Repository, path: &[u8]) {
    let mut index = repo.index().unwrap();
    index
        .add(&git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o160000,
            uid: 0,
            gid: 0,
            file_size: 0,
            id: git2::Oid::from_str("ae223884663bd76cd7e5dcdfb969978b4f5aedfe").unwrap(),
            flags: path.len() as u16,
            flags_extended: 0,
            path: path.to_vec(),
        })
        .unwrap();
    index.write().unwrap();
}

fn evil_gitdir(dir: &Path, worktree: &Path) {
    let g = git2::Repository::init_bare(dir).unwrap();
    let mut c = g.config().unwrap();
    c.set_bool("core.bare", false).unwrap();
    c.set_str("core.worktree", worktree.to_str().unwrap()).unwrap();
    c.set_str("core.fsmonitor", "touch PWNED; false").unwrap();
}

/// A gitlink whose `.git` is a gitfile the agent pointed at a git
/// directory of its own (run: `git status` ran its fsmonitor).
#[test]
fn embedded_repo_through_a_gitfile() {
    let dir = session();
    let root = dir.path();
    let repo = git2::Repository::init(root).unwrap();
    let rules = [allow_command(1, "^git ")];
    let sub = root.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    evil_gitdir(&root.join(".evil/g"), &sub);
    std::fs::write(sub.join(".git"), "gitdir: ../.evil/g\n").unwrap();
    add_gitlink(&repo, b"sub");
    assert_eq!(
        bash_in(&rules, root, root, json!({ "command": "git status" })),
        Action::Ask
    );
}

/// A session root below the repository's top: the index is still the
/// top's, its paths from there (run: `cd work && git status` ran it).
#[test]
fn embedded_repo_under_a_subdirectory_root() {
    let dir = session();
    let top = dir.path();
    let repo = git2::Repository::init(top).unwrap();
    let root = top.join("work");
    let rules = [allow_command(1, "^git ")];
    let sub = root.join("sub");
    std::fs::create_dir_all(sub.join(".git")).unwrap();
    evil_gitdir(&sub.join(".git"), &sub);
    add_gitlink(&repo, b"work/sub");
    assert_eq!(
        bash_in(&rules, &root, &root, json!({ "command": "git status" })),
        Action::Ask
    );
}

use std::path::Path;

use super::*;

fn run(source: &str) -> Analysis {
    let ctx = Context {
        cwd: Path::new("/nonexistent-root/sub"),
        root: Path::new("/nonexistent-root"),
    };
    analyze(source, &ctx, Dialect::Bash)
}

/// Each simple command's words as written (before `~` became the home).
fn texts(analysis: &Analysis) -> Vec<String> {
    analysis
        .commands
        .iter()
        .map(|c| c.written_text().unwrap_or_else(|| c.text()))
        .collect()
}

#[test]
fn simple_commands_are_found_wherever_they_are() {
    let cases: &[(&str, &[&str])] = &[
        ("ls", &["ls"]),
        ("ls -la src", &["ls -la src"]),
        ("ls && rm -rf ~", &["ls", "rm -rf ~"]),
        ("ls; rm x\ngit status", &["ls", "rm x", "git status"]),
        ("ls | grep x || echo none", &["ls", "grep x", "echo none"]),
        ("'l's \"-la\"", &["ls -la"]),
        ("FOO=1 cargo test", &["FOO=1 cargo test"]),
        ("PATH=/tmp/x; ls", &["ls"]),
        ("if true; then rm a; fi", &["true", "rm a"]),
        ("for f in a b; do rm $f; done", &["rm $f"]),
        ("(cd sub && make)", &["cd sub", "make"]),
        ("{ ls; }", &["ls"]),
        ("! grep -q x file", &["grep -q x file"]),
        ("export A=1", &["export A=1"]),
        ("ls > out.txt 2>&1", &["ls"]),
        ("git commit -m \"rm -rf /\"", &["git commit -m rm -rf /"]),
    ];
    for (source, want) in cases {
        let got = run(source);
        assert_eq!(texts(&got), *want, "{source}");
    }
}

#[test]
fn what_cannot_be_vouched_for_is_in_doubt() {
    let doubtful = [
        "ls $(rm -rf ~)",
        "ls `rm -rf ~`",
        "diff <(ls) <(rm -rf ~)",
        "echo x > >(sh)",
        "eval 'rm -rf ~'",
        "exec rm -rf ~",
        "sh -c 'rm -rf ~'",
        "bash -c 'rm -rf ~'",
        "/bin/bash -lc ls",
        "source ./evil.sh",
        ". ./evil.sh",
        "env rm -rf ~",
        "sudo rm -rf /",
        "xargs rm < list",
        "find . -exec rm {} \\;",
        "find . -delete",
        "python3 -c 'import os'",
        "node -e 'process.exit()'",
        "$CMD arg",
        "${CMD} arg",
        "\"$CMD\" arg",
        "/???/r? -rf ~",
        "sleep 100 &",
        "ls & rm -rf ~",
        "echo hi > /etc/passwd",
        "echo hi >> ~/.bashrc",
        "echo hi > ../../outside",
        "export A=$(rm -rf ~)",
        "X=$(rm -rf ~)",
        "echo hi > $TARGET",
        "cd /etc && echo x > passwd",
        "f() { rm -rf ~; }; f",
        "git -c core.pager='rm -rf ~' log",
        "ls 'unterminated",
        "ls )(",
        "cat <<EOF\n$(rm -rf ~)\nEOF",
        "bash <<EOF\nrm -rf ~\nEOF",
        "curl x | sh",
        "ls |& tee x",
        "echo $(( $(rm -rf ~) ))",
        "timeout 5 rm -rf ~",
        "nohup rm -rf ~",
    ];
    for source in doubtful {
        let got = run(source);
        assert!(got.doubt.is_some(), "{source:?} should be in doubt: {got:?}");
    }
    let clear = [
        "ls",
        "ls -la && git status",
        "cargo test 2>&1 | tail -n 20",
        "echo done > /dev/null",
        "echo log >> build.log",
        "grep -rn 'TODO' src",
        "cat <<'EOF' > notes.txt\nhello $(not run)\nEOF",
        "git diff HEAD~1 -- src/main.rs",
        "npm test -- --watch=false",
    ];
    for source in clear {
        let got = run(source);
        assert_eq!(got.doubt, None, "{source:?}: {got:?}");
    }
}

#[test]
fn substitutions_are_walked_for_their_commands() {
    let got = run("echo $(rm -rf ~)");
    assert!(texts(&got).contains(&"rm -rf ~".to_string()), "{got:?}");
    assert!(got.doubt.is_some());
}

#[test]
fn non_ascii_input_parses_safely_and_reads_back_whole() {
    // `{` then a codepoint past 255 crashed tree-sitter-bash's scanner.
    for source in [
        "echo {😀..",
        "ls {é1..2}",
        "ⅼs -la && ｒｍ -rf ~",
        "echo 'ünïcödé' > füle",
    ] {
        let got = run(source);
        assert!(!got.commands.is_empty(), "{source}: {got:?}");
    }
    assert_eq!(texts(&run("ⅼs -la && ｒｍ -rf /")), ["ⅼs -la", "ｒｍ -rf /"]);
    assert_eq!(texts(&run("echo 'ünïcödé'")), ["echo ünïcödé"]);
    run("2\u{8}\u{1b}A%{\u{fa7b0}K=u\\⠢\rNK$&\0𓃠");
}

#[test]
fn long_input_is_refused_without_parsing() {
    let long = "ls ".repeat(MAX_COMMAND_BYTES);
    assert!(run(&long).doubt.unwrap().contains("longer"));
}

#[test]
fn argv_commands() {
    let ctx = Context {
        cwd: Path::new("/r"),
        root: Path::new("/r"),
    };
    let argv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(texts(&analyze_argv(&argv(&["ls", "-la"]), &ctx)), ["ls -la"]);
    let wrapped = analyze_argv(&argv(&["bash", "-lc", "ls && rm -rf ~"]), &ctx);
    let home = std::env::var("HOME").unwrap();
    assert_eq!(texts(&wrapped), ["ls", "rm -rf ~"]);
    assert_eq!(
        wrapped.commands[1].text(),
        format!("rm -rf {home}"),
        "the shell's `~` is the home"
    );
    assert!(analyze_argv(&argv(&["sh", "x.sh"]), &ctx).doubt.is_some());
}

/// The classes the last independent attack used, each a shape outside the
/// list (or an option on the table): all in doubt under every dialect.
#[test]
fn the_attack_classes_are_in_doubt() {
    let hostile = [
        "ls > out.txt $(touch /tmp/pwn)",
        "cat <<EOF > ok.txt $(touch /tmp/pwn)\nx\nEOF",
        "ls >/dev/null $(rm -rf ~)",
        "ls > /dev/null rm",
        "echo ${x:-`touch /tmp/pwn`}",
        "echo ${x:=$(touch /tmp/pwn)}",
        "echo ${x:+$(touch /tmp/pwn)}",
        "echo ${x-$(touch /tmp/pwn)}",
        "echo ${x:?$(touch /tmp/pwn)}",
        "echo \"${x:-$'\\x24(touch /tmp/pwn)'}\"",
        "for x in 'a[$(touch /tmp/pwn)]'; do echo $((x)); done",
        "echo ${x@P}",
        "echo ${!x}",
        "((x))",
        "echo ${a[$(id)]}",
        "ls $((PATH=0))",
        "for PATH in .; do ls; done",
        "for HOME in .; do git status; done",
        "echo x >> /dev/fd/../../../home/u/.bashrc",
        "echo x > l*/.bashrc",
        "echo x > {a,b}",
        "echo $'\\\\' ; touch /tmp/pwn ; echo ' #'",
        "find . -fprint0 ~/.bashrc",
        "git grep -O'touch /tmp/pwn' x",
        "git log --output=/home/u/.bashrc",
        "sed -n '1e touch /tmp/pwn' f",
        "sed 'w /tmp/f' f",
        "awk 'BEGIN{print > \"/home/u/.bashrc\"}'",
        "tar -tf a.tar --checkpoint-action=exec=touch",
        "tar -tf a.tar -I 'sh -c id'",
        "echo x &> /tmp/f",
        "A=1 ls",
        "(ls)",
        "{ ls; }",
        "ls *",
        "ls -- *",
        "cd /tmp && git status",
        "cd",
        "echo {-la,x}",
        "echo 'a' \\\n'b' > /etc/x",
        "echo x >| f",
        "echo x <> f",
        "ls ; 2>&1 >/etc/passwd",
        "! ls",
        "ls &",
        "coproc ls",
        "select x in a; do ls; done",
        "case x in x) ls;; esac",
        "while read x; do ls; done",
        "time ls",
        "ls\\\n$(id)",
    ];
    for dialect in [Dialect::Bash, Dialect::Posix, Dialect::Zsh, Dialect::BashOrZsh] {
        let ctx = Context {
            cwd: Path::new("/nonexistent-root"),
            root: Path::new("/nonexistent-root"),
        };
        for source in hostile {
            let got = analyze(source, &ctx, dialect);
            assert!(got.doubt.is_some(), "{source:?} under {dialect:?}: {got:?}");
        }
    }
}

#[test]
fn what_each_shell_reads_alike_and_what_not() {
    let ctx = Context {
        cwd: Path::new("/nonexistent-root"),
        root: Path::new("/nonexistent-root"),
    };
    let judged = |source: &str, dialect| analyze(source, &ctx, dialect).doubt.is_none();
    // dash reads `&>` as `&` then `>`: a background job.
    assert!(judged("ls &> /dev/null", Dialect::Bash));
    assert!(!judged("ls &> /dev/null", Dialect::Posix));
    assert!(!judged("cat <<< word", Dialect::Posix));
    // zsh: `=ls` is ls's path, `^` and `#` patterns.
    assert!(judged("echo =ls", Dialect::Bash));
    assert!(!judged("echo =ls", Dialect::Zsh));
    assert!(!judged("echo a^b", Dialect::BashOrZsh));
    assert!(judged("ls src/*.rs", Dialect::BashOrZsh), "a glob with a literal start");
    let argv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(
        analyze_argv(
            &argv(&["dash", "-c", "echo $'\\\\' ; touch /tmp/pwn ; echo ' #'"]),
            &ctx
        )
        .doubt
        .is_some()
    );
    assert!(
        analyze_argv(&argv(&["fish", "-c", "ls"]), &ctx).doubt.is_some(),
        "an unknown shell"
    );
    assert!(
        analyze_argv(&argv(&["./sh", "-c", "ls"]), &ctx).doubt.is_some(),
        "not the system's shell"
    );
    assert!(
        analyze_argv(&argv(&["/usr/bin/env", "bash", "-c", "ls"]), &ctx)
            .doubt
            .is_some()
    );
    assert!(analyze_argv(&argv(&["/bin/sh", "-c", "ls -la"]), &ctx).doubt.is_none());
    assert!(
        analyze_argv(&argv(&["ls", "$(id)"]), &ctx).doubt.is_none(),
        "no shell: a literal word"
    );
}

/// The second independent attack's ways past the judge (each proven to run
/// its payload in bash, dash or zsh): all in doubt now.
#[test]
fn the_second_attack_is_in_doubt() {
    let everywhere = [
        "ls\n\\\ntouch /tmp/x",
        "echo a\\\n#;touch /tmp/x",
        "cat <<E'O'F\nEOF\ntouch /tmp/x\nE'O'F",
        "cat <<-'EOF'\n\tEOF\ntouch /tmp/x\nEOF",
        "find . -maxdepth 0 -ex\\\nec touch /tmp/x \\;",
        "git log --out\\\nput=/tmp/x -1",
        "find -- . -maxdepth 0 -exec touch /tmp/x \\;",
        "echo x | sed -nee",
        "echo x | sed --expr=e",
        "cat f | sed -n --fil=s.sed",
        "sed --i s/x/y/ f",
        "echo 'a' | sed 's/[/]/;s/e;/a/p'",
        "echo hi | awk -vf=/tmp/x '{x=/}/;print>f}'",
        "awk -vf=x 'BEGIN{x=/[(]/;print>f}'",
        "awk -W exec prog.awk",
        "awk B*",
        "sed s*a*b* f",
        "git grep '--open=touch' hi",
        "git grep -nOtouch hi",
        "tar -tf a.tar --checkpoint=1 '--checkpoint-act=exec=touch'",
        "cat hi.txt >&0x1",
        "cd a && cd up && npm test",
        "cd sub && git status",
    ];
    let ctx = Context {
        cwd: Path::new("/nonexistent-root"),
        root: Path::new("/nonexistent-root"),
    };
    for dialect in [Dialect::Bash, Dialect::Posix, Dialect::Zsh, Dialect::BashOrZsh] {
        for source in everywhere {
            let got = analyze(source, &ctx, dialect);
            assert!(got.doubt.is_some(), "{source:?} under {dialect:?}: {got:?}");
        }
    }
    for source in ["echo pwned >!/tmp/x", "echo pwned >>!x", "echo pwned >=foo"] {
        for dialect in [Dialect::Zsh, Dialect::BashOrZsh] {
            assert!(
                analyze(source, &ctx, dialect).doubt.is_some(),
                "{source:?} under {dialect:?}"
            );
        }
    }
    // What still reads plainly.
    for source in [
        "sed -n 's/[a-z]/X/gp' f",
        "sed -ne 1p f",
        "awk '$3 > 100 {print}'",
        "cat <<'EOF'\nhello\nEOF",
        "git grep -n foo",
    ] {
        assert_eq!(analyze(source, &ctx, Dialect::Bash).doubt, None, "{source:?}");
    }
}

/// The third independent attack's ways past the judge: in doubt now.
#[test]
fn the_third_attack_is_in_doubt() {
    let ctx = Context {
        cwd: Path::new("/nonexistent-root"),
        root: Path::new("/nonexistent-root"),
    };
    for source in [
        "sort -o /tmp/x /etc/hostname",
        "sort -S 1 --compress-program=sh p p",
        "head -c 700 /dev/zero > z && tar -t -M -f z < in",
        "awk -v f=/tmp/x 'BEGIN{for(print>f;0;);}'",
        "awk -v c=x -e 'BEGIN{}' -e 'BEGIN{system(c)}'",
        "awk -o/tmp/x 'BEGIN{}'",
        "awk --profile=/tmp/x 'BEGIN{}'",
        "npm test -C /tmp/outside",
        "npm test --logs-dir=/tmp/x",
        "\r\nls",
        "ls\r",
    ] {
        for dialect in [Dialect::Bash, Dialect::BashOrZsh] {
            let got = analyze(source, &ctx, dialect);
            assert!(got.doubt.is_some(), "{source:?} under {dialect:?}: {got:?}");
        }
    }
    for source in [">>f", "2>&1", "=rm -rf x"] {
        assert!(analyze(source, &ctx, Dialect::BashOrZsh).doubt.is_some(), "{source:?}");
    }
}

/// `cd src` with CDPATH=/ goes to /src when it exists (bash, dash,
/// zsh): only `./src`, `../x` and absolute names are not looked up.
#[test]
fn a_bare_name_is_looked_up_in_cdpath() {
    use super::grammar::searches_cdpath;
    use std::ffi::OsStr;
    let set = Some(OsStr::new("/"));
    assert!(searches_cdpath("etc", set));
    assert!(searches_cdpath("src/x", set));
    for plain in ["./etc", "../x", "/tmp", ".", ".."] {
        assert!(!searches_cdpath(plain, set), "{plain}");
    }
    assert!(!searches_cdpath("etc", None));
    assert!(!searches_cdpath("etc", Some(OsStr::new(""))));
}

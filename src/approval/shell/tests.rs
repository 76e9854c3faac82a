use std::path::Path;

use super::*;

fn run(source: &str) -> Analysis {
    let ctx = Context {
        cwd: Path::new("/nonexistent-root/sub"),
        root: Path::new("/nonexistent-root"),
    };
    analyze(source, &ctx)
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
        ("PATH=/tmp/x; ls", &["PATH=/tmp/x", "ls"]),
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
        assert_eq!(got.commands, *want, "{source}");
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
        "ls $HOME",
    ];
    for source in clear {
        let got = run(source);
        assert_eq!(got.doubt, None, "{source:?}: {got:?}");
    }
}

#[test]
fn substitutions_are_walked_for_their_commands() {
    let got = run("echo $(rm -rf ~)");
    assert!(got.commands.contains(&"rm -rf ~".to_string()), "{got:?}");
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
    assert_eq!(run("ⅼs -la && ｒｍ -rf ~").commands, ["ⅼs -la", "ｒｍ -rf ~"]);
    assert_eq!(run("echo 'ünïcödé'").commands, ["echo ünïcödé"]);
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
    assert_eq!(analyze_argv(&argv(&["ls", "-la"]), &ctx).commands, ["ls -la"]);
    let wrapped = analyze_argv(&argv(&["bash", "-lc", "ls && rm -rf ~"]), &ctx);
    assert_eq!(wrapped.commands, ["ls", "rm -rf ~"]);
    assert!(analyze_argv(&argv(&["sh", "x.sh"]), &ctx).doubt.is_some());
}

use std::path::Path;

use serde_json::json;

use super::*;

fn spec(action: Action) -> RuleSpec {
    RuleSpec::new(action)
}

fn rule(id: i64, action: Action, edit: impl FnOnce(&mut RuleSpec)) -> Rule {
    let mut s = spec(action);
    edit(&mut s);
    Rule::new(id, s).unwrap()
}

fn verdict(rules: &[Rule], tool: &str, input: serde_json::Value) -> (Action, Option<i64>) {
    let call = ToolCall {
        agent: "claude",
        tool,
        input: &input,
        cwd: Path::new("/repo/sub"),
        root: Path::new("/repo"),
    };
    let v = evaluate(rules, &call);
    (v.action, v.rule)
}

#[test]
fn first_match_wins_and_no_match_is_ask() {
    let rules = [
        rule(1, Action::Deny, |s| s.command = Some(r"rm\s+-rf".into())),
        rule(2, Action::Allow, |s| s.tool = Some("Bash".into())),
        rule(3, Action::Deny, |s| s.tool = Some("Bash".into())),
    ];
    let cases = [
        ("Bash", json!({"command": "rm -rf build"}), (Action::Deny, Some(1))),
        ("Bash", json!({"command": "ls"}), (Action::Allow, Some(2))),
        ("Write", json!({"file_path": "a"}), (Action::Ask, None)),
    ];
    for (tool, input, want) in cases {
        assert_eq!(verdict(&rules, tool, input.clone()), want, "{tool} {input}");
    }
}

#[test]
fn each_condition_kind() {
    let cases: Vec<(Rule, &str, serde_json::Value, bool)> = vec![
        (
            rule(1, Action::Allow, |s| s.tool = Some("Bash".into())),
            "Bash",
            json!({}),
            true,
        ),
        (
            rule(1, Action::Allow, |s| s.tool = Some("Bash".into())),
            "BashOutput",
            json!({}),
            false,
        ),
        (
            rule(1, Action::Allow, |s| s.tool = Some("/^(Edit|Write)$/".into())),
            "Write",
            json!({}),
            true,
        ),
        (
            rule(1, Action::Allow, |s| s.tool = Some("/^(Edit|Write)$/".into())),
            "Read",
            json!({}),
            false,
        ),
        (
            rule(1, Action::Allow, |s| s.command = Some("^git (status|diff)".into())),
            "Bash",
            json!({"command": "git diff HEAD"}),
            true,
        ),
        (
            rule(1, Action::Allow, |s| s.command = Some("^git status".into())),
            "Bash",
            json!({"command": "echo; git status"}),
            false,
        ),
        (
            rule(1, Action::Allow, |s| s.command = Some("x".into())),
            "Write",
            json!({"file_path": "x"}),
            false,
        ),
        (
            rule(1, Action::Allow, |s| s.cwd = Some("/repo/**".into())),
            "Bash",
            json!({}),
            true,
        ),
        (
            rule(1, Action::Allow, |s| s.cwd = Some("/other/**".into())),
            "Bash",
            json!({}),
            false,
        ),
        (
            rule(1, Action::Allow, |s| s.agent = Some("claude".into())),
            "Bash",
            json!({}),
            true,
        ),
        (
            rule(1, Action::Allow, |s| s.agent = Some("codex".into())),
            "Bash",
            json!({}),
            false,
        ),
        (
            rule(1, Action::Allow, |s| {
                s.tool = Some("Bash".into());
                s.scope = Some("/repo".into());
            }),
            "Bash",
            json!({}),
            true,
        ),
        (
            rule(1, Action::Allow, |s| {
                s.tool = Some("Bash".into());
                s.scope = Some("/elsewhere".into());
            }),
            "Bash",
            json!({}),
            false,
        ),
        // All conditions must hold.
        (
            rule(1, Action::Allow, |s| {
                s.tool = Some("Bash".into());
                s.command = Some("^ls".into());
            }),
            "Bash",
            json!({"command": "pwd"}),
            false,
        ),
    ];
    for (rule, tool, input, hit) in cases {
        let want = if hit { Action::Allow } else { Action::Ask };
        assert_eq!(
            verdict(std::slice::from_ref(&rule), tool, input.clone()).0,
            want,
            "{:?} {tool} {input}",
            rule.spec
        );
    }
}

#[test]
fn path_globs_are_relative_to_the_session_root() {
    let cases = [
        // `*` stays within a directory, `**` crosses them.
        ("src/*.rs", "/repo/src/main.rs", true),
        ("src/*.rs", "/repo/src/deep/x.rs", false),
        ("src/**/*.rs", "/repo/src/deep/x.rs", true),
        ("src/**", "/repo/src/a/b/c", true),
        // Relative input paths resolve against the hook's cwd (/repo/sub).
        ("sub/notes.md", "notes.md", true),
        // Dotfiles are ordinary names to the glob.
        ("*.env", "/repo/.env", true),
        (".github/**", "/repo/.github/workflows/ci.yml", true),
        // `..` escapes are resolved before matching.
        ("src/**", "/repo/src/../secrets/key", false),
        ("secrets/*", "/repo/src/../secrets/key", true),
        // Outside the root an allow rule never matches, whatever the glob.
        ("**", "/etc/passwd", false),
        ("**", "../../etc/passwd", false),
        ("**", "/repo-other/x", false),
    ];
    for (pattern, file, hit) in cases {
        let r = rule(7, Action::Allow, |s| s.path = Some(pattern.into()));
        let got = verdict(&[r], "Write", json!({"file_path": file})).0;
        assert_eq!(got == Action::Allow, hit, "{pattern} vs {file}");
    }
    // A deny rule may name a path outside the root.
    let r = rule(8, Action::Deny, |s| s.path = Some("/etc/**".into()));
    assert_eq!(
        verdict(&[r], "Read", json!({"file_path": "../../etc/passwd"})).0,
        Action::Deny
    );
    // A tool without a path never matches a path rule.
    let r = rule(9, Action::Allow, |s| s.path = Some("**".into()));
    assert_eq!(verdict(&[r], "Bash", json!({"command": "ls"})).0, Action::Ask);
}

#[test]
fn invalid_patterns_are_refused_with_the_parser_message() {
    let cases: Vec<(RuleSpec, &str)> = vec![
        (
            RuleSpec {
                path: Some("src/[".into()),
                ..spec(Action::Allow)
            },
            "invalid path glob \"src/[\": unclosed character class",
        ),
        (
            RuleSpec {
                cwd: Some("{a".into()),
                ..spec(Action::Allow)
            },
            "invalid cwd glob \"{a\": unclosed alternate group",
        ),
        (
            RuleSpec {
                command: Some("(".into()),
                ..spec(Action::Allow)
            },
            "invalid command regex \"(\": error: unclosed group",
        ),
        (
            RuleSpec {
                tool: Some("/[/".into()),
                ..spec(Action::Allow)
            },
            "invalid tool regex \"[\"",
        ),
        (spec(Action::Allow), "a rule needs at least one of"),
    ];
    for (s, want) in cases {
        let err = Rule::new(1, s).unwrap_err().to_string();
        assert!(err.starts_with(want), "{err:?} does not start with {want:?}");
    }
}

#[test]
fn summaries_are_one_short_line() {
    let cases = [
        (
            "Bash",
            json!({"command": "rm -rf build\necho done"}),
            "rm -rf build ⏎ echo done",
        ),
        (
            "Edit",
            json!({"file_path": "a.rs", "old_string": "x\ny", "new_string": "z"}),
            "a.rs (-2 +1 lines)",
        ),
        (
            "Write",
            json!({"file_path": "b.md", "content": "1\n2\n3\n"}),
            "b.md (3 lines)",
        ),
        (
            "WebFetch",
            json!({"url": "https://example.com"}),
            "{\"url\":\"https://example.com\"}",
        ),
        ("Thing", json!({}), "Thing"),
    ];
    for (tool, input, want) in cases {
        assert_eq!(summarize(tool, &input), want);
    }
    let long = summarize("Bash", &json!({"command": "x".repeat(500)}));
    assert_eq!(long.chars().count(), 201);
}

#[test]
fn always_keeps_word_boundaries() {
    let asked = json!({"command": "rm -f 'notes old.txt'"});
    let call = ToolCall {
        agent: "claude",
        tool: "Bash",
        input: &asked,
        cwd: Path::new("/repo"),
        root: Path::new("/repo"),
    };
    let specs = always_rules(&[], &call, Action::Allow).unwrap();
    assert_eq!(specs.len(), 1);
    assert_eq!(
        specs[0].argv.as_deref(),
        Some(&["rm".to_string(), "-f".into(), "notes old.txt".into()][..])
    );
    assert_eq!(specs[0].describe(), "Bash `rm -f 'notes old.txt'`");
    let rules = [Rule::new(1, specs[0].clone()).unwrap()];
    assert_eq!(verdict(&rules, "Bash", asked.clone()), (Action::Allow, Some(1)));
    assert_eq!(
        verdict(&rules, "Bash", json!({"command": "rm -f notes old.txt"})),
        (Action::Ask, None),
        "two files are not the one asked about"
    );
    assert_eq!(
        verdict(&rules, "Bash", json!({"command": "rm -f \"notes old.txt\""})),
        (Action::Allow, Some(1))
    );
}

#[test]
fn a_regex_never_allows_words_that_join_ambiguously() {
    let rules = [
        rule(1, Action::Allow, |s| s.command = Some("^echo a b$".into())),
        rule(2, Action::Deny, |s| s.command = Some("^rm a b$".into())),
    ];
    assert_eq!(
        verdict(&rules, "Bash", json!({"command": "echo a b"})),
        (Action::Allow, Some(1))
    );
    assert_eq!(
        verdict(&rules, "Bash", json!({"command": "echo 'a b'"})),
        (Action::Ask, None)
    );
    assert_eq!(
        verdict(&rules, "Bash", json!({"command": "rm 'a b'"})),
        (Action::Deny, Some(2)),
        "a deny still reads it"
    );
}

#[test]
fn file_tools_never_allow_what_a_glob_cannot_vouch_for() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::os::unix::fs::symlink(dir.path(), root.join("lnk")).unwrap();
    let rules = [rule(1, Action::Allow, |s| s.path = Some("**".into()))];
    let judge = |raw: &str| {
        let input = json!({"file_path": raw});
        let call = ToolCall {
            agent: "claude",
            tool: "Write",
            input: &input,
            cwd: &root,
            root: &root,
        };
        evaluate(&rules, &call).action
    };
    assert_eq!(judge("src/new.rs"), Action::Allow);
    for raw in [
        "nothere/../lnk/.bashrc",
        ".git/config",
        "/dev/zero",
        "/proc/self/environ",
    ] {
        assert_eq!(judge(raw), Action::Ask, "{raw}");
    }
}

#[test]
fn always_deny_names_only_what_no_rule_allows() {
    let rules = [rule(1, Action::Allow, |s| s.command = Some("^ls( |$)".into()))];
    let asked = json!({"command": "ls && rm -rf build"});
    let call = ToolCall {
        agent: "claude",
        tool: "Bash",
        input: &asked,
        cwd: Path::new("/repo"),
        root: Path::new("/repo"),
    };
    let specs = always_rules(&rules, &call, Action::Deny).unwrap();
    assert_eq!(specs.len(), 1);
    assert_eq!(specs[0].describe(), "Bash `rm -rf build`");
    let both = always_rules(&[], &call, Action::Deny).unwrap();
    assert_eq!(both.len(), 2, "with no allow rule, each part");
}

#[test]
fn a_command_is_judged_where_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git/hooks")).unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    let rules = [rule(1, Action::Allow, |s| s.command = Some("^(echo|ls)( |$)".into()))];
    let judge = |input: serde_json::Value| {
        let call = ToolCall {
            agent: "gemini",
            tool: "run_shell_command",
            input: &input,
            cwd: root,
            root,
        };
        evaluate(&rules, &call).action
    };
    assert_eq!(
        judge(json!({"command": "echo x > y", "dir_path": "src"})),
        Action::Allow
    );
    for input in [
        json!({"command": "echo pwned > hooks/pre-commit", "dir_path": ".git"}),
        json!({"command": "echo {} > settings.json", "dir_path": ".gemini"}),
        json!({"command": "echo x > y", "dir_path": "/tmp"}),
        json!({"command": "ls", "workdir": "../.."}),
        json!({"command": "ls", "dir_path": ["src"]}),
    ] {
        assert_eq!(judge(input.clone()), Action::Ask, "{input}");
    }
    // Files named by a pattern lulu does not resolve never stay inside.
    for input in [json!({"include": [".git/config"]}), json!({"pattern": "/etc/*"})] {
        let call = ToolCall {
            agent: "gemini",
            tool: "glob",
            input: &input,
            cwd: root,
            root,
        };
        assert!(call.has_patterns(), "{input}");
    }
}

#[test]
fn a_patch_is_read_as_codex_reads_it() {
    let rules = [rule(1, Action::Allow, |s| s.path = Some("**".into()))];
    let judge = |patch: &str| verdict(&rules, "apply_patch", json!({ "input": patch })).0;
    assert_eq!(
        judge("*** Begin Patch\n*** Add File: ok.txt\n+x\n*** End Patch"),
        Action::Allow
    );
    for hidden in [
        "*** Begin Patch\n*** Add File: ok.txt\n+x\n *** Add File: /root/.bashrc\n+y\n*** End Patch",
        "*** Begin Patch\n\t*** Delete File: /etc/passwd\n*** End Patch",
        "*** Begin Patch\n*** Weird: x\n*** End Patch",
    ] {
        assert_eq!(judge(hidden), Action::Ask, "{hidden:?}");
    }
}

#[test]
fn an_agent_s_own_settings_are_never_written_by_a_glob() {
    let dir = tempfile::tempdir().unwrap();
    let rules = [rule(1, Action::Allow, |s| s.path = Some("**".into()))];
    for raw in [
        ".claude/settings.local.json",
        "sub/.gemini/settings.json",
        ".codex/config.toml",
        ".mcp.json",
    ] {
        let input = json!({"file_path": raw});
        let call = ToolCall {
            agent: "claude",
            tool: "Write",
            input: &input,
            cwd: dir.path(),
            root: dir.path(),
        };
        assert_eq!(evaluate(&rules, &call).action, Action::Ask, "{raw}");
    }
}

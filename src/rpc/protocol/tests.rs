use super::*;

fn s(v: &str) -> Value {
    Value::from(v)
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(pairs.iter().map(|(k, v)| (s(k), v.clone())).collect())
}

#[test]
fn decodes_well_formed_requests() {
    let cases: Vec<(&str, Vec<Value>, Request)> = vec![
        (SESSION_LIST, vec![], Request::List),
        (SESSION_GET, vec![s("alpha")], Request::Get("alpha".into())),
        (SESSION_CHAT, vec![s("alpha")], Request::Chat("alpha".into())),
        (
            COMMENT_REMOVE,
            vec![s("b"), Value::from(7)],
            Request::RemoveComment {
                session: "b".into(),
                id: 7,
            },
        ),
        (
            SESSION_SEND,
            vec![s("a"), s("ls -la")],
            Request::Send {
                session: "a".into(),
                text: "ls -la".into(),
            },
        ),
        (
            SESSION_WRITE,
            vec![s("a"), Value::Binary(vec![0, 255, 27])],
            Request::Write {
                session: "a".into(),
                bytes: vec![0, 255, 27],
            },
        ),
        (
            SESSION_RESIZE,
            vec![s("a"), Value::from(120), Value::from(40)],
            Request::Resize {
                session: "a".into(),
                cols: 120,
                rows: 40,
            },
        ),
        (
            SESSION_STOP,
            vec![s("a"), map(&[("force", Value::from(true))])],
            Request::Stop {
                session: "a".into(),
                force: true,
            },
        ),
        (
            SESSION_DELETE,
            vec![s("a")],
            Request::Delete {
                session: "a".into(),
                force: false,
            },
        ),
        (
            SESSION_START,
            vec![map(&[
                ("agent", s("shell")),
                ("args", Value::Array(vec![s("-c"), s("exit 3")])),
                ("env", Value::Array(vec![])),
                ("cols", Value::from(100)),
            ])],
            Request::Start(Box::new(StartOpts {
                agent: Some("shell".into()),
                args: vec!["-c".into(), "exit 3".into()],
                cols: Some(100),
                ..StartOpts::default()
            })),
        ),
        (SESSION_START, vec![], Request::Start(Box::default())),
        (
            SESSION_ATTACH,
            vec![s("a"), Value::from(3), Value::from(120), Value::from(40)],
            Request::Attach {
                session: "a".into(),
                chan: 3,
                size: Some((120, 40)),
                opts: AttachOpts::default(),
            },
        ),
        (
            SESSION_ATTACH,
            vec![
                s("a"),
                Value::from(3),
                Value::from(120),
                Value::from(40),
                map(&[
                    ("resume", Value::from(true)),
                    ("scrollback", Value::from(5000)),
                    ("fg", s("#e0e2ea")),
                    ("bg", s("not a colour")),
                ]),
            ],
            Request::Attach {
                session: "a".into(),
                chan: 3,
                size: Some((120, 40)),
                opts: AttachOpts {
                    resume: true,
                    scrollback: Some(5000),
                    fg: Some((0xe0, 0xe2, 0xea)),
                    bg: None,
                    queries: None,
                },
            },
        ),
        (
            SESSION_ATTACH,
            vec![s("a"), Value::from(3)],
            Request::Attach {
                session: "a".into(),
                chan: 3,
                size: None,
                opts: AttachOpts::default(),
            },
        ),
        (
            SESSION_SCREEN,
            vec![s("a"), Value::from(12)],
            Request::Screen {
                session: "a".into(),
                rows: 12,
            },
        ),
        (
            SESSION_WATCH,
            vec![s("a"), Value::from(10)],
            Request::Watch {
                session: Some("a".into()),
                rows: 10,
            },
        ),
        (
            SESSION_WATCH,
            vec![],
            Request::Watch {
                session: None,
                rows: MAX_SCREEN_ROWS,
            },
        ),
    ];
    for (method, args, want) in cases {
        assert_eq!(decode(method, args), Ok(want), "{method}");
    }
}

#[test]
fn malformed_arguments_say_what_is_wrong() {
    let huge = "x".repeat(10 * 1024 * 1024);
    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        ("lulu.nope", vec![], "unknown method 'lulu.nope'"),
        (
            SESSION_GET,
            vec![],
            "lulu.session_get takes (session), got 0 argument(s)",
        ),
        (
            SESSION_GET,
            vec![Value::from(7)],
            "session must be a name or id string, got a number",
        ),
        (SESSION_GET, vec![s("")], "session must be 1-256 bytes"),
        (SESSION_GET, vec![s(&huge)], "session must be 1-256 bytes"),
        (SESSION_GET, vec![s("a\0b")], "session must be 1-256 bytes with no NUL"),
        (
            SESSION_RESIZE,
            vec![s("a"), Value::from(-1), Value::from(2)],
            "cols must be an integer in 1..=65535, got -1",
        ),
        (
            SESSION_RESIZE,
            vec![s("a"), s("wide"), Value::from(2)],
            "cols must be an integer in 1..=65535, got a string",
        ),
        (SESSION_START, vec![map(&[("agnet", s("x"))])], "unknown field `agnet`"),
        (SESSION_START, vec![map(&[("args", s("x"))])], "options are invalid"),
        (SESSION_START, vec![s("shell")], "options must be a table, got a string"),
        (
            SESSION_SEND,
            vec![s("a"), Value::Binary(vec![0xff])],
            "text is not valid UTF-8",
        ),
        (
            SESSION_STOP,
            vec![s("a"), map(&[("force", s("yes"))])],
            "options are invalid",
        ),
        (SESSION_ATTACH, vec![s("a"), Value::Nil], "channel must be an integer"),
        (
            APPROVAL_DECIDE,
            vec![Value::from(1), s("maybe")],
            "decision must be allow, deny",
        ),
        (
            APPROVAL_DECIDE,
            vec![Value::from(1), s("deny"), map(&[("content", s("x"))])],
            "content goes only with allow (once)",
        ),
        (APPROVAL_REVIEW, vec![s("one")], "approval id must be an integer"),
        (
            SESSION_REBASE,
            vec![s("a"), s("sideways")],
            "step must be start, continue or abort",
        ),
        (
            REVIEW_FILES,
            vec![Value::from(1)],
            "session must be a name or id string",
        ),
        (
            REVIEW_BASE,
            vec![s("a"), s("../../etc/passwd")],
            "path must be relative to the worktree",
        ),
        (
            COMMENT_ADD,
            vec![
                s("a"),
                map(&[
                    ("path", s("f")),
                    ("line", Value::from(3)),
                    ("end_line", Value::from(2)),
                    ("text", s("x")),
                ]),
            ],
            "needs line >= 1 and end_line >= line",
        ),
        (COMMENT_LIST, vec![], "takes (session), got 0"),
        (COMMENT_CLEAR, vec![Value::Nil], "session must be a name or id string"),
        (COMMENT_REMOVE, vec![s("b"), s("x")], "comment id"),
        (TEMPLATE_SAVE, vec![s("a b"), map(&[])], "name may hold only letters"),
        (TEMPLATE_LIST, vec![s("x")], "takes no arguments"),
        (ACTIVITY_LIST, vec![s("x")], "takes no arguments"),
        (
            SESSION_REBASE,
            vec![s("a"), s("sideways")],
            "step must be start, continue or abort",
        ),
        (
            RULE_ADD,
            vec![map(&[("action", s("perhaps"))])],
            "rule is invalid: unknown variant `perhaps`",
        ),
        (
            RULE_ADD,
            vec![map(&[("action", s("allow")), ("colour", s("red"))])],
            "unknown field `colour`",
        ),
        (RULE_ADD, vec![s("allow")], "rule must be a table"),
        (
            RULE_MOVE,
            vec![Value::from(1), Value::from(-2)],
            "index must be an integer in 0..",
        ),
        (
            SESSION_MERGE,
            vec![s("a"), s("octopus")],
            "strategy must be merge, squash or rebase",
        ),
        (
            SESSION_START,
            vec![Value::Map(vec![(s("cwd"), Value::Binary(vec![b'/', 0xff, 0xfe]))])],
            "options are invalid: they hold bytes that are not valid UTF-8",
        ),
        (
            REPO_TRUST,
            vec![Value::Binary(vec![0xff])],
            "directory is not valid UTF-8",
        ),
        (HELLO, vec![s("hi")], "options must be a table"),
        (SESSION_LIST, vec![Value::from(1)], "takes no arguments"),
        (SESSION_SEND, vec![s("a")], "takes (session, text)"),
        (SESSION_WRITE, vec![s("a"), Value::from(5)], "bytes must be a string"),
        (
            SESSION_DELETE,
            vec![s("a"), map(&[("force", Value::from(1))])],
            "options are invalid",
        ),
        (SESSION_DETACH, vec![s("a"), s("b")], "channel must be an integer"),
        (
            SESSION_DIFF,
            vec![Value::Nil],
            "session must be a name or id string, got nil",
        ),
        (SESSION_DETAIL, vec![], "takes (session)"),
        (
            SESSION_CHAT,
            vec![Value::from(2)],
            "session must be a name or id string",
        ),
        (
            SESSION_PUSH,
            vec![s("a"), map(&[("branch", s("x"))])],
            "unknown field `branch`",
        ),
        (SESSION_PR, vec![s("a")], "takes (session, {title, body[, remote]})"),
        (PR_DRAFT, vec![], "takes (session)"),
        (
            APPROVAL_LIST,
            vec![map(&[("history", s("yes"))])],
            "options are invalid",
        ),
        (RULE_LIST, vec![Value::from(1)], "takes no arguments"),
        (RULE_REMOVE, vec![s("one")], "rule id must be an integer"),
        (WORKTREE_USAGE, vec![Value::Nil], "takes no arguments"),
        (
            WORKTREE_PRUNE,
            vec![map(&[("dry", Value::from(true))])],
            "unknown field `dry`",
        ),
        (POOL_STATUS, vec![Value::Nil], "takes no arguments"),
        (AGENT_INFO, vec![Value::Nil], "takes no arguments"),
        (SNAPSHOT_SAVE, vec![s("x"), s("all")], "sessions must be a list"),
        (
            SNAPSHOT_GET,
            vec![Value::from(3)],
            "session must be a name or id string",
        ),
        (SNAPSHOT_LIST, vec![Value::Nil], "takes no arguments"),
        (DAEMON_STATUS, vec![Value::Nil], "takes no arguments"),
        (DAEMON_STOP, vec![s("now")], "takes no arguments"),
        (
            SESSION_ATTACH,
            vec![s("a"), Value::from(3), Value::from(0), Value::from(40)],
            "cols must be an integer in 1..=65535",
        ),
        (SESSION_SCREEN, vec![s("a"), s("all")], "rows must be an integer"),
        (
            REVIEW_READ,
            vec![s("a"), s("/etc/passwd")],
            "path must be relative to the worktree",
        ),
        (
            REVIEW_WRITE,
            vec![s("a"), s("f.txt"), Value::Binary(vec![0; MAX_REVIEW_FILE + 1])],
            "content is larger than 4 MiB",
        ),
        (
            SESSION_WATCH,
            vec![Value::from(1)],
            "session must be a name or id string",
        ),
        (
            CALL,
            vec![Value::from(1), s(SESSION_LIST)],
            "must be sent as a notification",
        ),
    ];
    // Every method has a bad-input case.
    let all = METHODS;
    for method in all {
        assert!(
            cases.iter().any(|(m, _, _)| m == method),
            "no bad-input case for {method}"
        );
    }
    for (method, args, want) in cases {
        let err = decode(method, args).unwrap_err().to_string();
        assert!(err.contains(want), "{method}: {err:?} lacks {want:?}");
    }
}

#[test]
fn the_lua_side_names_the_same_methods_and_handles_every_event() {
    let rpc = include_str!("../../../lua/lulu/rpc.lua");
    let table = &rpc[rpc.find("M.methods = {").expect("rpc.lua has M.methods")..];
    let table = &table[..table.find("\n}").expect("the table ends")];
    let lua: Vec<&str> = table.lines().filter_map(|l| l.split('\'').nth(1)).collect();
    for name in &lua {
        assert!(
            METHODS.contains(name),
            "rpc.lua names {name}, which the host does not have"
        );
    }
    for name in METHODS {
        assert!(lua.contains(name), "the host has {name}, which rpc.lua does not name");
    }
    let events = include_str!("../../../lua/lulu/events.lua");
    for event in Event::ALL {
        assert!(
            events.contains(&format!("function H.handlers.{}(", event.name())),
            "events.lua has no handler for the host's '{}' event",
            event.name()
        );
    }
}

#[test]
fn records_encode_without_nil_fields() {
    #[derive(Serialize)]
    struct R {
        #[serde(skip_serializing_if = "Option::is_none")]
        a: Option<i64>,
        b: i64,
    }
    assert_eq!(to_value(&R { a: None, b: 1 }), map(&[("b", Value::from(1))]));
}

#[test]
fn every_method_in_the_table_is_decoded_and_no_other() {
    for method in METHODS {
        // Wrong arguments or right, a method of the table is never unknown.
        for values in [vec![], vec![Value::from("s"), Value::from(1), Value::from(2)]] {
            let decoded = decode(method, values);
            assert!(
                !matches!(decoded, Err(ProtocolError::UnknownMethod(_))),
                "{method} is in METHODS but not decoded"
            );
        }
    }
    assert_eq!(
        decode("lulu.no_such_method", vec![]),
        Err(ProtocolError::UnknownMethod("lulu.no_such_method".into()))
    );
}

#[test]
fn a_call_carries_its_ticket_and_a_request_and_is_never_one_itself() {
    let args = vec![
        Value::from(7),
        Value::from(SESSION_GET),
        Value::Array(vec![Value::from("s")]),
    ];
    let want = Call {
        ticket: 7,
        method: SESSION_GET.to_string(),
        args: vec![Value::from("s")],
    };
    assert_eq!(call(args), Ok(want));
    let bare = call(vec![Value::from(1), Value::from(SESSION_LIST)]).map(|c| c.args);
    assert_eq!(bare, Ok(vec![]));
    // What is wrong comes back with the ticket, when there was one.
    assert_eq!(call(vec![Value::from("x")]).unwrap_err().ticket, None);
    assert_eq!(call(vec![Value::from(-1)]).unwrap_err().ticket, None);
    let bad_args = call(vec![Value::from(3), Value::from(SESSION_GET), Value::from("s")]).unwrap_err();
    assert_eq!(bad_args.ticket, Some(3));
    assert!(
        bad_args.error.to_string().contains("args must be a list"),
        "{}",
        bad_args.error
    );
    let extra = vec![Value::from(3), Value::from(SESSION_LIST), Value::Nil, Value::Nil];
    assert_eq!(call(extra).unwrap_err().ticket, Some(3));
    // A call inside a call (or sent as a request) is refused, not unwrapped.
    let nested = decode(CALL, vec![Value::from(1), Value::from(SESSION_LIST)]).unwrap_err();
    assert!(nested.to_string().contains("notification"), "{nested}");
}

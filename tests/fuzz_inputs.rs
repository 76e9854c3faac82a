//! Property tests over what comes from outside: RPC arguments of any shape
//! and size, and rules with any patterns. Nothing may panic; bad input is an
//! error value.

use lulu::approval::{self, Action, Rule, RuleSpec, ToolCall};
use lulu::rpc::protocol;
use proptest::prelude::*;
use rmpv::Value;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Value::Binary),
        // Invalid UTF-8 inside a msgpack str.
        proptest::collection::vec(any::<u8>(), 0..16)
            .prop_map(|b| Value::String(rmpv::Utf8String::from(String::from_utf8_lossy(&b).into_owned()))),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((".{0,12}".prop_map(Value::from), inner), 0..6).prop_map(Value::Map),
        ]
    })
}

const METHODS: &[&str] = &[
    protocol::HELLO,
    protocol::SESSION_START,
    protocol::SESSION_LIST,
    protocol::SESSION_GET,
    protocol::SESSION_SEND,
    protocol::SESSION_WRITE,
    protocol::SESSION_RESIZE,
    protocol::SESSION_STOP,
    protocol::SESSION_DELETE,
    protocol::SESSION_ATTACH,
    protocol::SESSION_DETACH,
    protocol::SESSION_DIFF,
    protocol::SESSION_DETAIL,
    protocol::SESSION_MERGE,
    protocol::REPO_TRUST,
    protocol::APPROVAL_LIST,
    protocol::APPROVAL_DECIDE,
    protocol::RULE_LIST,
    protocol::RULE_ADD,
    protocol::RULE_REMOVE,
    protocol::RULE_MOVE,
    protocol::WORKTREE_USAGE,
    protocol::WORKTREE_PRUNE,
    protocol::POOL_STATUS,
    protocol::AGENT_INFO,
    "lulu.nope",
    "",
    protocol::DAEMON_STATUS,
    protocol::DAEMON_STOP,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn any_arguments_decode_or_error(method in prop::sample::select(METHODS), args in proptest::collection::vec(value(), 0..5)) {
        match protocol::decode(method, args) {
            Ok(_) => {}
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }

    /// Shell syntax soup (with non-ASCII thrown in): the analysis never
    /// crashes, and what it cannot vouch for is never allowed.
    #[test]
    fn any_shell_command_is_judged_without_crashing(
        source in r#"([a-z0-9 ;&|<>(){}$`'"\\\n.~*?!#=\[\]-]|[\u{80}-\u{10ffff}]){0,60}"#,
    ) {
        let rule = Rule::new(1, RuleSpec { command: Some(".*".into()), ..RuleSpec::new(Action::Allow) }).unwrap();
        let input = serde_json::json!({ "command": source });
        let call = ToolCall {
            agent: "claude",
            tool: "Bash",
            input: &input,
            cwd: std::path::Path::new("/repo/sub"),
            root: std::path::Path::new("/repo"),
        };
        let verdict = approval::evaluate(&[rule], &call);
        let parts = call.parts();
        if parts.doubt.is_some() {
            prop_assert_eq!(verdict.action, Action::Ask);
        }
    }

    #[test]
    fn any_rule_compiles_or_errors_and_evaluates_without_panicking(
        tool in proptest::option::of(".{0,20}"),
        path in proptest::option::of(".{0,20}"),
        command in proptest::option::of(".{0,20}"),
        cwd in proptest::option::of(".{0,20}"),
        file in ".{0,40}",
        shell in ".{0,40}",
    ) {
        let spec = RuleSpec { tool, path, command, cwd, ..RuleSpec::new(Action::Allow) };
        if let Ok(rule) = Rule::new(1, spec) {
            let input = serde_json::json!({ "file_path": file, "command": shell });
            let call = ToolCall {
                agent: "claude",
                tool: "Bash",
                input: &input,
                cwd: std::path::Path::new("/repo/sub"),
                root: std::path::Path::new("/repo"),
            };
            let verdict = approval::evaluate(&[rule], &call);
            prop_assert!(matches!(verdict.action, Action::Allow | Action::Ask));
        }
    }
}

use super::super::approval_input::TOOL_USES_KEPT;
use serde_json::json;

use super::*;

#[test]
fn a_parked_input_keeps_what_rules_need_and_excerpts_the_rest() {
    let big = "x".repeat(1 << 20);
    let kept = excerpt(json!({
        "command": "ls -la",
        "file_path": "src/a.rs",
        "content": big,
        "edits": [{ "old_string": big, "new_string": "y" }],
        "patch": format!("*** Update File: a\n{big}\n*** Add File: b"),
    }));
    assert_eq!(kept["command"], "ls -la");
    assert_eq!(kept["file_path"], "src/a.rs");
    assert_eq!(kept["patch"], "*** Update File: a\n*** Add File: b");
    assert!(kept["content"].as_str().unwrap().contains("(1048576 bytes, sha256 "));
    assert!(
        kept["edits"][0]["old_string"].as_str().unwrap().len() < 5000,
        "cut however deep"
    );
    assert!(kept.to_string().len() < 16 * 1024);
    let long_command = excerpt(json!({ "command": big }));
    assert!(long_command.get("command").is_none(), "beyond the analysis: dropped");
}

#[test]
fn a_permission_request_pairs_with_its_tool_call_once() {
    let (a, b) = (SessionId::from_stored("a".into()), SessionId::from_stored("b".into()));
    let mut recent = RecentToolUses::default();
    recent.remember(&a, "Bash", &json!({"command": "ls"}), "t1");
    recent.remember(&b, "Bash", &json!({"command": "rm x"}), "t2");
    recent.remember(&a, "Bash", &json!({"command": "rm x"}), "t3");
    // Codex repeats the input with a description added.
    let asked = json!({"command": "rm x", "description": "May I?"});
    assert_eq!(recent.pair(&a, "Bash", &asked).as_deref(), Some("t3"));
    assert_eq!(recent.pair(&a, "Bash", &asked), None, "taken once");
    assert_eq!(recent.pair(&a, "Edit", &json!({"command": "ls"})), None, "another tool");
    assert_eq!(recent.pair(&b, "Bash", &asked).as_deref(), Some("t2"));
    assert_eq!(
        recent.pair(&a, "Bash", &json!({"command": "ls -l"})),
        None,
        "another input"
    );
    for n in 0..TOOL_USES_KEPT + 5 {
        recent.remember(&a, "Bash", &json!({ "n": n }), &n.to_string());
    }
    assert_eq!(recent.0.len(), TOOL_USES_KEPT, "bounded");
    assert_eq!(
        recent.pair(&a, "Bash", &json!({"command": "ls"})),
        None,
        "the oldest went first"
    );
}

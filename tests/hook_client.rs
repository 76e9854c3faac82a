//! `lulu hook <agent>` as the agents run it: a process with the hook JSON
//! on stdin. When it cannot get a decision it must leave the agent to its
//! own flow, except where "no opinion" would let a tool run: a Gemini
//! session that lulu runs in yolo mode, whose tool hook then answers "ask".

use std::io::Write;
use std::process::{Command, Stdio};

fn hook(agent: &str, env: &[(&str, &str)], payload: &str) -> (String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lulu"));
    cmd.args(["hook", agent])
        .env_remove("LULU_SOCKET")
        .env_remove("LULU_SESSION")
        .env_remove("LULU_TOKEN")
        .env_remove("LULU_GEMINI_YOLO")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("lulu runs");
    child.stdin.take().unwrap().write_all(payload.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "a hook always exits 0: {out:?}");
    (
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

const BEFORE_TOOL: &str = r#"{"hook_event_name":"BeforeTool","session_id":"s","cwd":"/","tool_name":"run_shell_command","tool_input":{"command":"rm -rf ~"}}"#;

#[test]
fn a_yolo_gemini_tool_hook_with_no_decision_asks() {
    let gone = [
        ("LULU_GEMINI_YOLO", "1"),
        ("LULU_SOCKET", "/nonexistent/lulu/hook.sock"),
        ("LULU_SESSION", "deadbeef"),
        ("LULU_TOKEN", "t"),
    ];
    let (out, err) = hook("gemini", &gone, BEFORE_TOOL);
    assert_eq!(out, r#"{"decision":"ask"}"#, "the host is unreachable");
    assert_eq!(err, "", "nothing on stderr, which gemini would read as an allow");
    let (out, _) = hook("gemini", &[("LULU_GEMINI_YOLO", "1")], BEFORE_TOOL);
    assert_eq!(out, r#"{"decision":"ask"}"#, "not a lulu session");
    let (out, _) = hook("gemini", &[("LULU_GEMINI_YOLO", "1")], "not json");
    assert_eq!(out, "", "not a tool hook: no answer to give");
    let notification = r#"{"hook_event_name":"Notification","notification_type":"ToolPermission"}"#;
    assert_eq!(
        hook("gemini", &gone, notification).0,
        "",
        "events with no decision stay quiet"
    );
}

#[test]
fn elsewhere_no_decision_leaves_the_agent_to_its_own_dialog() {
    let gone = [
        ("LULU_SOCKET", "/nonexistent/lulu/hook.sock"),
        ("LULU_SESSION", "deadbeef"),
        ("LULU_TOKEN", "t"),
    ];
    assert_eq!(hook("gemini", &gone, BEFORE_TOOL).0, "", "gemini in its own mode");
    let request = r#"{"hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"ls"}}"#;
    let (out, err) = hook("claude", &gone, request);
    assert_eq!(out, "");
    assert!(err.contains("host unreachable"), "{err}");
}

use super::*;
use crate::model::{SessionId, SessionRecord, Status};

pub(crate) fn record(name: &str, status: Status, created_at: &str) -> SessionRecord {
    SessionRecord {
        kind: crate::model::SessionKind::Terminal,
        pr_url: None,
        id: SessionId::random(),
        name: name.into(),
        agent: "shell".into(),
        status,
        failure_reason: None,
        exit_code: None,
        pid: Some(42),
        pid_start: None,
        cwd: "/tmp".into(),
        argv: vec!["/bin/sh".into(), "-c".into(), "echo 'hi there'".into()],
        args: vec!["--flag".into()],
        worktree: None,
        branch: None,
        base: None,
        repo: Some("/repo".into()),
        ahead: None,
        merged: false,
        dirty: false,
        created_at: created_at.into(),
        updated_at: created_at.into(),
        last_activity_at: created_at.into(),
        cost_usd: None,
        pending_approvals: 0,
        waiting: false,
        waiting_source: None,
        tokens: None,
        usage: Default::default(),
        conversation: None,
        restarting: None,
        limits: None,
        memory: None,
        sandbox: None,
    }
}

#[test]
fn sessions_round_trip_newest_first() {
    let store = Store::open_in_memory().unwrap();
    let old = record("old", Status::Completed, "2026-01-01T00:00:00.000Z");
    let new = record("new", Status::Running, "2026-01-02T00:00:00.000Z");
    store.insert_session(&old).unwrap();
    store.insert_session(&new).unwrap();
    let all = store.sessions().unwrap();
    assert_eq!(all, vec![new.clone(), old]);

    let mut ended = new.clone();
    ended.status = Status::Failed;
    ended.failure_reason = Some("exited with code 3".into());
    ended.exit_code = Some(3);
    store.update_session(&ended).unwrap();
    assert_eq!(store.session(&new.id).unwrap(), Some(ended));
}

#[test]
fn usage_and_conversation_are_kept_and_priced_again_when_read() {
    let store = Store::open_in_memory().unwrap();
    let mut s = record("a", Status::Running, "2026-01-01T00:00:00.000Z");
    store.insert_session(&s).unwrap();
    let mut tally = crate::cost::Tally::default();
    tally.feed(
        br#"{"requestId":"r","message":{"id":"m","model":"claude-opus-5-5","usage":{"input_tokens":1000,"output_tokens":100}}}
"#,
    );
    s.usage = tally.usage.clone();
    s.conversation = Some("6f1c0d3e-claude-session".into());
    s.price(&crate::cost::Prices::default());
    store.update_session(&s).unwrap();
    let mut back = store.session(&s.id).unwrap().unwrap();
    assert_eq!(back.usage, s.usage);
    assert_eq!(back.conversation, s.conversation);
    assert_eq!(back.cost_usd, None, "priced by whoever reads it");
    back.price(&crate::cost::Prices::default());
    assert_eq!(back.cost_usd, s.cost_usd);
    assert!(back.cost_usd.unwrap() > 0.0);
    assert_eq!(back.tokens.unwrap().input, 1000);
}

#[test]
fn names_are_unique() {
    let store = Store::open_in_memory().unwrap();
    store
        .insert_session(&record("a", Status::Running, "2026-01-01T00:00:00.000Z"))
        .unwrap();
    let err = store
        .insert_session(&record("a", Status::Running, "2026-01-01T00:00:00.000Z"))
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
}

#[test]
fn reconcile_fails_only_live_sessions_and_records_why() {
    let store = Store::open_in_memory().unwrap();
    let live = record("live", Status::Running, "2026-01-01T00:00:00.000Z");
    let done = record("done", Status::Completed, "2026-01-01T00:00:00.000Z");
    store.insert_session(&live).unwrap();
    store.insert_session(&done).unwrap();
    let failed = store.fail_live_sessions("host exited").unwrap();
    assert_eq!(
        failed,
        vec![LeftBehind {
            id: live.id.clone(),
            pid: Some(42),
            pid_start: None
        }]
    );
    let got = store.session(&live.id).unwrap().unwrap();
    assert_eq!(got.status, Status::Failed);
    assert_eq!(got.failure_reason.as_deref(), Some("host exited"));
    assert_eq!(store.session(&done.id).unwrap().unwrap().status, Status::Completed);
    assert_eq!(
        store
            .history(&live.id)
            .unwrap()
            .into_iter()
            .map(|(_, k, d)| (k, d))
            .collect::<Vec<_>>(),
        vec![("failed".into(), "host exited".into())]
    );
}

#[test]
fn delete_removes_row_and_events() {
    let store = Store::open_in_memory().unwrap();
    let s = record("x", Status::Completed, "2026-01-01T00:00:00.000Z");
    store.insert_session(&s).unwrap();
    store.add_event(&s.id, "started", "").unwrap();
    store.delete_session(&s.id).unwrap();
    assert_eq!(store.session(&s.id).unwrap(), None);
    assert!(store.history(&s.id).unwrap().is_empty());
}

#[test]
fn file_store_reopens_and_refuses_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/lulu.db");
    let s = record("x", Status::Running, "2026-01-01T00:00:00.000Z");
    Store::open(&path).unwrap().insert_session(&s).unwrap();
    assert_eq!(Store::open(&path).unwrap().sessions().unwrap().len(), 1);

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42u8; 8192]).unwrap();
    let err = Store::open(&garbage).err().unwrap();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("move it aside"), "{err}");
    let (store, notices) = Store::open_or_recover(&garbage).unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let backup = dir
        .path()
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("damaged"))
        .expect("moved aside");
    assert!(notices[0].contains(&*backup.to_string_lossy()), "{notices:?}");
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        vec![0x42u8; 8192],
        "the damaged file is kept"
    );
    assert!(store.sessions().unwrap().is_empty(), "a fresh store");
    let (_, again) = Store::open_or_recover(&garbage).unwrap();
    assert!(again.is_empty(), "a healthy store is left alone");
}

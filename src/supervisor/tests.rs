//! The supervisor with a real PTY and an in-memory store, and no editor: a
//! peer whose writes go nowhere stands in for the connection.

use std::time::Duration;

use super::*;
use crate::api::{HostConfig, Payload, StartOpts};
use crate::model::Status;

struct Fixture {
    handle: SupervisorHandle,
    store: Store,
    peer: Peer,
    client: ClientId,
    _dir: tempfile::TempDir,
}

async fn fixture(max_sessions: Option<usize>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    let store = Store::open_in_memory().unwrap();
    let settings = Settings {
        state_dir: dir.path().to_path_buf(),
        data_dir: dir.path().join("data"),
        hook_socket: None,
        exe: PathBuf::from("/nonexistent/lulu"),
        path_var: std::env::var("PATH").ok(),
        shell_var: Some("/bin/sh".into()),
        daemon: None,
    };
    let (handle, _task) = Supervisor::spawn(store.clone(), settings, Vec::new(), Vec::new(), Vec::new());
    let fixture = Fixture {
        handle,
        store,
        peer: Peer::nowhere(),
        client: ClientId::next(),
        _dir: dir,
    };
    let hello = Hello {
        version: VERSION.into(),
        tag: None,
        config: HostConfig {
            max_sessions,
            // The pool execs the lulu binary, which unit tests do not have;
            // the Lua specs cover it.
            pool_size: Some(0),
            ..HostConfig::default()
        },
    };
    fixture.request(Request::Hello(Box::new(hello))).await.unwrap();
    fixture
}

impl Fixture {
    async fn request(&self, request: Request) -> anyhow::Result<Payload> {
        self.handle.request(self.client, self.peer.clone(), request).await
    }

    async fn start(&self, script: &str) -> anyhow::Result<SessionRecord> {
        // Outside any repository: these tests are about processes, and a
        // session started in a repository would get a worktree in it.
        let opts = StartOpts {
            agent: Some("shell".into()),
            args: vec!["-c".into(), script.into()],
            cwd: Some(self._dir.path().to_string_lossy().into_owned()),
            ..StartOpts::default()
        };
        let value = self.request(Request::Start(Box::new(opts))).await?;
        Ok(record(value))
    }

    async fn get(&self, session: &str) -> SessionRecord {
        record(self.request(Request::Get(session.into())).await.unwrap())
    }

    async fn wait_for(&self, session: &str, status: Status) -> SessionRecord {
        for _ in 0..500 {
            let r = self.get(session).await;
            if r.status == status {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{session} never reached {status:?}: {:?}", self.get(session).await);
    }
}

fn record(value: Payload) -> SessionRecord {
    serde_json::from_value(value.into_inner()).unwrap()
}

#[tokio::test]
async fn exits_become_statuses_in_memory_and_in_the_store() {
    let f = fixture(None).await;
    let cases = [
        ("exit 0", Status::Completed, None),
        ("exit 3", Status::Failed, Some("exited with code 3")),
        ("kill -TERM $$", Status::Failed, Some("killed by signal 15")),
    ];
    for (script, status, reason) in cases {
        let started = f.start(script).await.unwrap();
        assert_eq!(started.status, Status::Starting);
        let ended = f.wait_for(started.id.as_str(), status).await;
        assert_eq!(ended.failure_reason.as_deref(), reason, "{script}");
        let id = started.id.clone();
        // Through the store's queue: after the writes before it.
        let stored = f.store.run(move |s| s.session(&id)).await.unwrap().unwrap();
        assert_eq!(stored.status, status, "{script}: stored");
        assert_eq!(stored.exit_code, ended.exit_code, "{script}: stored exit code");
    }
}

#[tokio::test]
async fn the_limit_counts_live_sessions_only() {
    let f = fixture(Some(2)).await;
    let a = f.start("sleep 30").await.unwrap();
    f.start("sleep 30").await.unwrap();
    let err = f.start("sleep 30").await.unwrap_err();
    assert_eq!(err.to_string(), "max sessions reached (2); stop one first");
    assert_eq!(
        crate::errors::wire_message(&err),
        "[max_sessions] max sessions reached (2); stop one first"
    );
    f.request(Request::Stop {
        session: a.name.clone(),
        force: true,
    })
    .await
    .unwrap();
    f.wait_for(&a.name, Status::Completed).await;
    f.start("sleep 30").await.expect("a slot is free again");
    f.handle.shutdown().await;
}

#[tokio::test]
async fn a_missing_agent_leaves_no_row() {
    let f = fixture(None).await;
    let opts = StartOpts {
        agent: Some("claude".into()),
        cwd: Some(f._dir.path().to_string_lossy().into_owned()),
        ..StartOpts::default()
    };
    // Unless this machine has claude installed, which the test cannot undo.
    if let Err(err) = f.request(Request::Start(Box::new(opts))).await {
        assert!(err.to_string().contains("claude not found on PATH"), "{err}");
        assert!(f.store.run(|s| s.sessions()).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn delete_of_a_live_session_answers_once_it_is_gone() {
    let f = fixture(None).await;
    let s = f.start("trap '' HUP TERM; sleep 30").await.unwrap();
    let pid = s.pid.unwrap() as i32;
    f.request(Request::Delete {
        session: s.name.clone(),
        force: true,
    })
    .await
    .unwrap();
    // SAFETY: probing a pid with signal 0.
    assert_ne!(unsafe { libc::kill(pid, 0) }, 0, "process reaped before the reply");
    let id = s.id.clone();
    assert!(f.store.run(move |st| st.session(&id)).await.unwrap().is_none());
    let err = f.request(Request::Get(s.name.clone())).await.unwrap_err();
    assert!(err.to_string().starts_with("no session named"), "{err}");
}

#[tokio::test]
async fn shutdown_stops_everything_and_records_it() {
    let f = fixture(None).await;
    let polite = f.start("sleep 30").await.unwrap();
    let stubborn = f.start("trap '' HUP TERM; while :; do sleep 1; done").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    f.handle.shutdown().await;
    assert!(started.elapsed() < session_grace() + Duration::from_secs(2));
    for s in [polite, stubborn] {
        let id = s.id.clone();
        let stored = f.store.run(move |st| st.session(&id)).await.unwrap().unwrap();
        assert_eq!(stored.status, Status::Completed, "{}", s.name);
        // SAFETY: probing a pid with signal 0.
        assert_ne!(unsafe { libc::kill(s.pid.unwrap() as i32, 0) }, 0, "{} reaped", s.name);
    }
    let err = f.start("exit 0").await.unwrap_err();
    assert!(err.to_string().contains("shutting down"), "{err}");
}

#[tokio::test]
async fn input_reaches_the_pty_and_ended_sessions_refuse_it() {
    let f = fixture(None).await;
    let s = f.start("read line; test \"$line\" = ping && exit 7").await.unwrap();
    f.request(Request::Send {
        session: s.name.clone(),
        text: "ping".into(),
    })
    .await
    .unwrap();
    let ended = f.wait_for(&s.name, Status::Failed).await;
    assert_eq!(ended.exit_code, Some(7));
    let err = f
        .request(Request::Write {
            session: s.name.clone(),
            bytes: b"x".to_vec(),
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has ended (failed)"), "{err}");
}

#[tokio::test]
async fn a_panicking_session_task_fails_that_session_only() {
    let f = fixture(None).await;
    let doomed = f.start("sleep 30").await.unwrap();
    let fine = f.start("sleep 30").await.unwrap();
    f.wait_for(doomed.id.as_str(), Status::Running).await;
    f.handle.panic_session(&doomed.id);
    let failed = f.wait_for(doomed.id.as_str(), Status::Failed).await;
    assert!(
        failed
            .failure_reason
            .as_deref()
            .unwrap_or_default()
            .starts_with("lulu lost this session"),
        "{failed:?}"
    );
    // Its process is gone; the other session is untouched.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // SAFETY: probing a pid with signal 0.
    assert_ne!(unsafe { libc::kill(doomed.pid.unwrap() as i32, 0) }, 0, "killed");
    assert_eq!(f.get(fine.id.as_str()).await.status, Status::Running);
    f.request(Request::Send {
        session: fine.name.clone(),
        text: "still fine".into(),
    })
    .await
    .unwrap();
    f.handle.shutdown().await;
}

//! The only module that touches `portable-pty`.
//!
//! A spawned process gets three OS threads, because every PTY call blocks:
//! a reader (master -> bounded channel, also appending to the session log),
//! a writer (queued input -> master), and a waiter (`waitpid`, which also
//! reaps). The async side sees channels only.

mod log;
mod output;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};
use tokio::sync::oneshot;

use crate::model::ExitKind;
pub use log::{LogHandle, OutputLog, read_tail};
pub use output::{AHEAD, Ended, Output, OutputSender};

/// How much one `read` on the master may return. The kernel hands out at most
/// a few KiB per read on Linux; the session task coalesces further.
const READ_CHUNK: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PtyError {
    /// `openpty` failed (out of PTYs, or no /dev/ptmx).
    #[error("could not open a pty: {0:#}")]
    Open(anyhow::Error),
    /// fork/exec of the program failed.
    #[error("could not start {program}: {source:#}")]
    Spawn { program: String, source: anyhow::Error },
    /// The program started but portable-pty gave no pid for it.
    #[error("{0} started without a process id")]
    NoPid(String),
    /// Cloning the master's reader or writer failed.
    #[error("could not attach to the pty: {0:#}")]
    Attach(anyhow::Error),
    /// Changing the window size failed.
    #[error("could not resize the pty: {0:#}")]
    Resize(anyhow::Error),
    /// Starting one of the session's IO threads failed.
    #[error("could not start a pty thread: {0}")]
    Thread(#[from] std::io::Error),
}

pub struct SpawnSpec {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    pub cols: u16,
    pub rows: u16,
    pub log: OutputLog,
}

/// Something to do on the PTY's input side, in order.
#[derive(Debug)]
pub enum Input {
    Bytes(Vec<u8>),
    /// Wait before the next write: agent TUIs treat text and Enter that arrive
    /// in one burst as a paste and do not submit it.
    Pause(Duration),
}

/// What a live process hands to its session task.
pub struct Spawned {
    pub pid: u32,
    /// Output in arrival order; closes at EOF (every writer of the slave gone).
    pub output: Output,
    /// Fires once the process has exited and been reaped.
    pub exit: oneshot::Receiver<ExitKind>,
    pub control: PtyControl,
    pub log: LogHandle,
}

/// Input, resize and signals for one process. Cheap to clone.
#[derive(Clone)]
pub struct PtyControl {
    pid: u32,
    input: std::sync::mpsc::Sender<Input>,
    master: Arc<Mutex<Box<dyn MasterPty + Send>>>,
    /// The PTY's size, `cols << 16 | rows`: the session's screen model
    /// follows it.
    size: Arc<AtomicU32>,
    /// Told of every input, so that a flooded terminal shows the effect of
    /// a keystroke (Ctrl-C) at once rather than at its next frame.
    typed: Arc<tokio::sync::Notify>,
}

impl PtyControl {
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Queue input. Returns false once the writer thread is gone (the process
    /// exited), which callers treat as "nothing to write to".
    pub fn write(&self, input: Input) -> bool {
        let sent = self.input.send(input).is_ok();
        self.typed.notify_waiters();
        sent
    }

    /// Notified on each [`PtyControl::write`].
    pub fn typed(&self) -> Arc<tokio::sync::Notify> {
        self.typed.clone()
    }

    pub fn resize(&self, cols: u16, rows: u16) -> Result<(), PtyError> {
        let master = self
            .master
            .lock()
            .map_err(|_| PtyError::Resize(anyhow::anyhow!("pty lock poisoned")))?;
        let size = size(cols, rows);
        master.resize(size).map_err(PtyError::Resize)?;
        self.size
            .store(u32::from(size.cols) << 16 | u32::from(size.rows), Ordering::Release);
        Ok(())
    }

    /// The PTY's size, as (cols, rows).
    pub fn size(&self) -> (u16, u16) {
        let packed = self.size.load(Ordering::Acquire);
        ((packed >> 16) as u16, packed as u16)
    }

    /// Signal the process group the program leads (it is a session leader in
    /// its PTY), so that its children hear it too; fall back to the pid alone.
    pub fn signal(&self, signal: i32) {
        let Ok(pid) = libc::pid_t::try_from(self.pid) else {
            return;
        };
        // SAFETY: kill(2) with a pid we spawned; no memory is shared.
        unsafe {
            if libc::kill(-pid, signal) != 0 {
                libc::kill(pid, signal);
            }
        }
    }
}

fn size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows: rows.max(1),
        cols: cols.max(1),
        pixel_width: 0,
        pixel_height: 0,
    }
}

/// Whether a variable of lulu's own environment passes to a session.
///
/// lulu's own variables (a lulu running inside a lulu session, the log level)
/// are not the agent's: each session gets its own. The CI markers declare a
/// non-interactive run, which a session in a PTY never is: gemini 0.61, for
/// one, takes `CI=true` or `GITHUB_ACTIONS=true` to mean headless and exits
/// asking for stdin. `NVIM` (and the older `NVIM_LISTEN_ADDRESS`) would
/// let anything the agent runs drive the editor, and so answer its own
/// approvals: only an editor decides. The agent's configured `env` can
/// still set any of them.
fn inherited(key: &str) -> bool {
    const CI_MARKERS: [&str; 3] = ["CI", "CONTINUOUS_INTEGRATION", "GITHUB_ACTIONS"];
    const EDITOR_HANDLES: [&str; 2] = ["NVIM", "NVIM_LISTEN_ADDRESS"];
    !(key.starts_with("LULU_") || CI_MARKERS.contains(&key) || EDITOR_HANDLES.contains(&key))
}

/// Start `spec.argv` in a fresh PTY. Blocking (openpty, fork, exec): call it
/// from `spawn_blocking`.
pub fn spawn(spec: SpawnSpec) -> Result<Spawned, PtyError> {
    let program = spec.argv.first().cloned().unwrap_or_default();
    let pair = native_pty_system()
        .openpty(size(spec.cols, spec.rows))
        .map_err(PtyError::Open)?;

    let mut cmd = CommandBuilder::from_argv(spec.argv.iter().map(Into::into).collect());
    cmd.cwd(&spec.cwd);
    for (key, _) in std::env::vars_os() {
        if !inherited(&key.to_string_lossy()) {
            cmd.env_remove(&key);
        }
    }
    for (key, value) in &spec.env {
        cmd.env(key, value);
    }
    let child = pair.slave.spawn_command(cmd).map_err(|source| PtyError::Spawn {
        program: program.clone(),
        source,
    })?;
    // Keeping the slave open here would keep the reader from ever seeing EOF.
    drop(pair.slave);
    let pid = child.process_id().ok_or(PtyError::NoPid(program))?;
    // We reap with waitpid ourselves to learn the exact signal number; the
    // std Child handle is only a pid and never waits when dropped.
    drop(child);

    let reader = pair.master.try_clone_reader().map_err(PtyError::Attach)?;
    let writer = pair.master.take_writer().map_err(PtyError::Attach)?;

    let (out_tx, out_rx) = output::queue(output::AHEAD);
    let (in_tx, in_rx) = std::sync::mpsc::channel();
    let (exit_tx, exit_rx) = oneshot::channel();

    let log = spec.log.handle();
    let thread = |name: &str| std::thread::Builder::new().name(format!("{name}-{pid}"));
    thread("pty-read").spawn(move || read_loop(reader, out_tx, spec.log))?;
    thread("pty-write").spawn(move || write_loop(writer, in_rx))?;
    thread("pty-wait").spawn(move || {
        let _ = exit_tx.send(wait_for_exit(pid));
    })?;

    Ok(Spawned {
        pid,
        output: out_rx,
        exit: exit_rx,
        log,
        control: PtyControl {
            pid,
            input: in_tx,
            master: Arc::new(Mutex::new(pair.master)),
            size: Arc::new(AtomicU32::new(
                u32::from(spec.cols.max(1)) << 16 | u32::from(spec.rows.max(1)),
            )),
            typed: Arc::default(),
        },
    })
}

fn read_loop(mut reader: Box<dyn Read + Send>, out: OutputSender, mut log: OutputLog) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => {
                tracing::debug!(%err, "pty read ended");
                break;
            }
        };
        log.append(&buf[..n]);
        if out.send_blocking(buf[..n].to_vec()).is_err() {
            // The session task is gone; keep draining so the program is not
            // left blocked on a full PTY while it is being stopped.
            continue;
        }
    }
}

fn write_loop(mut writer: Box<dyn Write + Send>, input: std::sync::mpsc::Receiver<Input>) {
    while let Ok(item) = input.recv() {
        match item {
            Input::Bytes(bytes) => {
                if writer.write_all(&bytes).and_then(|()| writer.flush()).is_err() {
                    break;
                }
            }
            Input::Pause(pause) => std::thread::sleep(pause),
        }
    }
}

fn wait_for_exit(pid: u32) -> ExitKind {
    let pid = pid as libc::pid_t;
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: waitpid on our own child with a valid out-pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            // ECHILD: someone else reaped it. Report it as a failure rather
            // than inventing a clean exit.
            tracing::warn!(pid, %err, "waitpid failed");
            return ExitKind::Code(-1);
        }
    }
    if libc::WIFSIGNALED(status) {
        ExitKind::Signal(libc::WTERMSIG(status))
    } else {
        ExitKind::Code(libc::WEXITSTATUS(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_do_not_inherit_lulus_own_the_editors_handle_or_non_interactive_markers() {
        for key in [
            "LULU_TOKEN",
            "LULU_LOG",
            "CI",
            "CONTINUOUS_INTEGRATION",
            "GITHUB_ACTIONS",
            "NVIM",
            "NVIM_LISTEN_ADDRESS",
        ] {
            assert!(!inherited(key), "{key}");
        }
        for key in ["PATH", "HOME", "CI_TOKEN", "CIRCLE", "NVIM_APPNAME", "ci"] {
            assert!(inherited(key), "{key}");
        }
    }

    fn spec(argv: &[&str], dir: &std::path::Path) -> SpawnSpec {
        SpawnSpec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            cwd: dir.to_path_buf(),
            env: vec![("LULU_TEST".into(), "yes".into())],
            cols: 80,
            rows: 24,
            log: OutputLog::open(dir.join("out.log"), 1 << 20),
        }
    }

    async fn collect(spawned: &mut Spawned) -> Vec<u8> {
        let mut all = Vec::new();
        while let Some(chunk) = spawned.output.recv().await {
            all.extend_from_slice(&chunk);
        }
        all
    }

    #[tokio::test]
    async fn runs_in_cwd_with_env_and_reports_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let mut spawned = spawn(spec(&["/bin/sh", "-c", "pwd; echo $LULU_TEST; exit 3"], dir.path())).unwrap();
        let out = String::from_utf8_lossy(&collect(&mut spawned).await).to_string();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        assert!(out.contains(real.to_str().unwrap()), "{out}");
        assert!(out.contains("yes"), "{out}");
        assert_eq!((&mut spawned.exit).await.unwrap(), ExitKind::Code(3));
        let logged = std::fs::read_to_string(dir.path().join("out.log")).unwrap();
        assert_eq!(logged, out);
    }

    #[tokio::test]
    async fn signal_reaches_the_process_and_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut spawned = spawn(spec(&["/bin/sh", "-c", "sleep 30"], dir.path())).unwrap();
        spawned.control.signal(libc::SIGKILL);
        let exit = tokio::time::timeout(Duration::from_secs(5), &mut spawned.exit)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(exit, ExitKind::Signal(9));
    }

    #[tokio::test]
    async fn input_is_echoed_and_size_is_applied() {
        let dir = tempfile::tempdir().unwrap();
        let mut spawned = spawn(spec(
            &["/bin/sh", "-c", "read line; stty size; echo got:$line"],
            dir.path(),
        ))
        .unwrap();
        spawned.control.resize(101, 33).unwrap();
        spawned.control.write(Input::Bytes(b"hello\r".to_vec()));
        let out = String::from_utf8_lossy(&collect(&mut spawned).await).to_string();
        assert!(out.contains("33 101"), "{out}");
        assert!(out.contains("got:hello"), "{out}");
    }
}

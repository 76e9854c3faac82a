//! `lulu daemon`: the host, detached from any editor, so sessions outlive
//! Neovim. It serves the same msgpack-RPC as `lulu host`, to any number of
//! editors (and `lulu` shell commands) at once, over a Unix socket in the
//! private directory the hook bridge uses. One daemon per user: a lock file
//! (held for the daemon's life) says which.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};

use crate::host::{self, Core};
use crate::paths::Dirs;
use crate::supervisor::{DaemonLink, Occupancy};

/// Default seconds with no live session and no client before the daemon
/// exits by itself.
pub const DEFAULT_IDLE_EXIT: u64 = 600;
/// How long `lulu daemon` waits for a new daemon to answer.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub fn socket_path() -> PathBuf {
    crate::hook::socket_dir().join("lulu.sock")
}

fn lock_path() -> PathBuf {
    crate::hook::socket_dir().join("daemon.lock")
}

/// The running daemon's pid, if one holds the lock.
pub fn running_pid() -> Option<u32> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(lock_path())
        .ok()?;
    // SAFETY: flock on a descriptor we own.
    let free = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if free {
        // Nobody holds it; ours closes with the file.
        return None;
    }
    let mut pid = String::new();
    file.read_to_string(&mut pid).ok()?;
    pid.trim().parse().ok()
}

/// `lulu daemon`: start one in the background unless one runs; return once
/// it answers on its socket, saying which happened.
pub fn start(dirs: &Dirs, idle_exit: u64) -> anyhow::Result<String> {
    let socket = socket_path();
    if let Some(pid) = running_pid() {
        return Ok(format!(
            "lulu daemon already running (pid {pid}) on {}",
            socket.display()
        ));
    }
    let exe = std::env::current_exe().context("cannot find the lulu binary's path")?;
    let mut command = std::process::Command::new(exe);
    command
        .arg("daemon")
        .arg("--foreground")
        .arg("--idle-exit")
        .arg(idle_exit.to_string())
        .arg("--data-dir")
        .arg(&dirs.data)
        .arg("--state-dir")
        .arg(&dirs.state)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: setsid is async-signal-safe; it detaches the daemon from the
    // caller's session and process group (no SIGHUP when a terminal closes).
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = command.spawn().context("cannot start the daemon")?;
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if std::os::unix::net::UnixStream::connect(&socket).is_ok() && running_pid().is_some() {
            // Dropping the handle neither waits nor kills: it outlives us.
            return Ok(format!("lulu daemon started on {}", socket.display()));
        }
        if let Ok(Some(status)) = child.try_wait() {
            bail!(
                "the daemon exited at once ({status}); see {}",
                dirs.state.join("daemon.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!(
        "the daemon did not answer on {} within {}s; see {}",
        socket.display(),
        START_TIMEOUT.as_secs(),
        dirs.state.join("daemon.log").display()
    )
}

/// `lulu daemon --stop`: ask it to end (its sessions stop as the host's do)
/// and wait until it has.
pub fn stop() -> anyhow::Result<()> {
    let Some(pid) = running_pid() else {
        println!("no lulu daemon is running");
        return Ok(());
    };
    // SAFETY: a plain kill(2) of the pid the lock file names.
    if unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) } != 0 {
        bail!(
            "cannot signal the daemon (pid {pid}): {}",
            std::io::Error::last_os_error()
        );
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if running_pid().is_none() {
            println!("lulu daemon (pid {pid}) stopped");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("the daemon (pid {pid}) did not stop within 15s")
}

/// `lulu daemon --status`.
/// `lulu daemon --status --json`: what an editor needs to find the daemon
/// and tell whether it runs this build, from the binary itself.
pub fn status_json() -> anyhow::Result<()> {
    let pid = running_pid();
    let said = serde_json::json!({
        "running": pid.is_some(),
        "pid": pid,
        "socket": socket_path(),
        "build": crate::identity::build_id(),
        "version": crate::supervisor::VERSION,
    });
    println!("{said}");
    Ok(())
}

pub fn status() -> anyhow::Result<()> {
    match running_pid() {
        Some(pid) => println!("lulu daemon running (pid {pid}) on {}", socket_path().display()),
        None => println!("no lulu daemon is running"),
    }
    Ok(())
}

/// Make the private directory and take the daemon lock (before the async
/// runtime starts: this may wait a little), or say who holds it. Held for
/// as long as the returned file lives.
pub fn lock() -> anyhow::Result<File> {
    crate::private::dir(&crate::hook::socket_dir(), crate::private::Links::Refuse)?;
    let path = lock_path();
    let mut file = crate::private::lock_file(&path)?;
    // `running_pid` probes by taking the lock for an instant: a few short
    // retries tell such a probe from a daemon that holds it.
    let mut tries = 0;
    // SAFETY: flock on a descriptor we own.
    while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        tries += 1;
        if tries == 10 {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            bail!("another lulu daemon is running (pid {})", pid.trim());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    file.flush()?;
    Ok(file)
}

/// The daemon itself (`lulu daemon --foreground`), holding `lock`.
pub async fn run(dirs: Dirs, idle_exit: Duration, _lock: File) -> anyhow::Result<()> {
    let socket = socket_path();
    let listener = crate::ipc::listen_private(&socket)?;
    let _socket_file = RemoveOnDrop(socket.clone());

    let (stop_tx, mut stop_rx) = tokio::sync::mpsc::unbounded_channel();
    let link = DaemonLink {
        stop: stop_tx,
        socket: socket.clone(),
        log: dirs.state.join("daemon.log"),
    };
    let core = Core::start(&dirs, Some(link)).await?;
    tracing::info!(pid = std::process::id(), socket = %socket.display(), "daemon listening");

    let supervisor = core.supervisor.clone();
    let accept = tokio::spawn(accept_loop(listener, supervisor.clone()));
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut idle_since: Option<Instant> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let occupied = supervisor
                    .occupancy()
                    .await
                    .is_none_or(|o| o != Occupancy { live_sessions: 0, clients: 0 });
                if occupied {
                    idle_since = None;
                } else if idle_since.get_or_insert_with(Instant::now).elapsed() >= idle_exit {
                    tracing::info!(secs = idle_exit.as_secs(), "idle: no session and no editor; exiting");
                    break;
                }
            }
            _ = stop_rx.recv() => { tracing::info!("asked to stop"); break; }
            _ = term.recv() => { tracing::info!("SIGTERM"); break; }
            _ = hup.recv() => { tracing::info!("SIGHUP"); break; }
            _ = int.recv() => { tracing::info!("SIGINT"); break; }
        }
    }
    accept.abort();
    core.shutdown().await;
    tracing::info!("daemon exiting");
    Ok(())
}

async fn accept_loop(listener: UnixListener, supervisor: crate::supervisor::SupervisorHandle) {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let mut accept = crate::ipc::Acceptor::new("editor", MAX_EDITOR_CONNECTIONS);
    loop {
        let Some((stream, slot)) = accept.next(&listener).await else {
            continue;
        };
        if !crate::ipc::from_this_user(&stream, uid, "editor") {
            continue;
        }
        if let Err(err) = connection(stream, supervisor.clone(), slot) {
            tracing::warn!("cannot serve a connection: {err:#}");
        }
    }
}

/// Editors and `lulu` shell commands connected at once. Each is served by
/// a task and a writer thread (3 descriptors); past the cap new connections
/// are closed at once.
pub const MAX_EDITOR_CONNECTIONS: usize = 64;

/// One editor: reads on the runtime, writes from the `Outgoing` thread on a
/// blocking clone of the socket.
fn connection(
    stream: tokio::net::UnixStream,
    supervisor: crate::supervisor::SupervisorHandle,
    slot: crate::ipc::Slot,
) -> anyhow::Result<()> {
    // Without a pid the caller can never make an editor-only request.
    let peer_pid = stream
        .peer_cred()
        .ok()
        .and_then(|cred| cred.pid())
        .and_then(|pid| u32::try_from(pid).ok())
        .or(Some(u32::MAX));
    let std_stream = stream.into_std()?;
    // A clone shares the non-blocking flag the reader needs.
    let writer = PollingWriter(std_stream.try_clone()?);
    let closer = std_stream.try_clone()?;
    let reader = tokio::net::UnixStream::from_std(std_stream)?;
    let (client, io) = host::serve(reader, writer, supervisor.clone(), peer_pid)?;
    tracing::info!(?client, "editor connected");
    tokio::spawn(async move {
        let _ = io.await;
        supervisor.client_gone(client);
        // Ends the writer thread too, whatever it was doing.
        let _ = closer.shutdown(std::net::Shutdown::Both);
        drop(slot);
    });
    Ok(())
}

/// Writes to a non-blocking socket from a plain thread: when the socket is
/// full, wait in poll(2) until it drains (the editor reads on).
pub(crate) struct PollingWriter(pub(crate) std::os::unix::net::UnixStream);

impl Write for PollingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        loop {
            match self.0.write(buf) {
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                    let mut fd = libc::pollfd {
                        fd: self.0.as_raw_fd(),
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd; a timeout so a vanished peer
                    // is noticed by the next write's error.
                    unsafe { libc::poll(&mut fd, 1, 1000) };
                }
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

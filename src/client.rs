//! `lulu start|stop|send|attach` from a plain shell: a msgpack-RPC client of
//! the daemon (started when none runs), so the sessions a Neovim sees can be
//! driven, and joined, from any terminal (over ssh, say).
//!
//! `attach` shows a session the way Neovim does: it registers a terminal
//! "channel" and receives the same `nvim_chan_send` notifications (and
//! answers the acknowledging `nvim_get_current_buf` requests) that an editor
//! would, writing the bytes to this terminal.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
use nvim_rs::{Handler, Neovim};
use rmpv::Value;
use tokio_util::compat::TokioAsyncReadCompatExt;

use crate::daemon;
use crate::outer::{OuterFilter, Passthrough};
use crate::paths::Dirs;
use crate::rpc::protocol;
use crate::rpc::{Nvim, Outgoing};

/// The terminal channel number an attached shell registers (any will do: it
/// only names this connection's one terminal).
const ATTACH_CHAN: i64 = 1;
/// Ctrl-\ then `d` leaves an attached session running.
const DETACH_PREFIX: u8 = 0x1c;

/// Answers what the daemon asks of an editor; in `attach`, writes terminal
/// output to stdout.
#[derive(Clone)]
struct ShellHandler {
    /// In `attach`: what of the output may reach this terminal.
    output: Option<Arc<Mutex<OuterFilter>>>,
}

#[async_trait]
impl Handler for ShellHandler {
    type Writer = Outgoing;

    async fn handle_request(&self, name: String, _args: Vec<Value>, _nvim: Nvim) -> Result<Value, Value> {
        match name.as_str() {
            // The acknowledgement of a chunk of output.
            "nvim_get_current_buf" => Ok(Value::from(0)),
            _ => Err(Value::from(format!("{name} is not supported by a shell client"))),
        }
    }

    async fn handle_notify(&self, name: String, args: Vec<Value>, _nvim: Nvim) {
        if let Some(filter) = &self.output
            && name == "nvim_chan_send"
            && let Some(Value::Binary(bytes)) = args.get(1)
        {
            let shown = filter.lock().unwrap_or_else(|p| p.into_inner()).filter(bytes);
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&shown);
            let _ = out.flush();
        }
    }
}

struct Connection {
    nvim: Nvim,
    out: Outgoing,
    /// Turns true when the daemon closes the connection (a refusal, say):
    /// nvim-rs would leave a call waiting forever.
    closed: tokio::sync::watch::Receiver<bool>,
}

impl Connection {
    async fn call(&self, method: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        let mut closed = self.closed.clone();
        tokio::select! {
            answer = self.nvim.call(method, args) => match answer {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(err)) => bail!("{}", error_text(&err)),
                Err(err) => bail!("lost the daemon: {err}"),
            },
            _ = closed.wait_for(|closed| *closed) => {
                bail!("the daemon closed the connection (see its log: daemon.log in lulu's state dir)")
            }
        }
    }

    fn notify(&self, method: &str, args: Vec<Value>) {
        self.out.notify(method, args);
    }
}

/// `[code, message]` as the host sends errors: the message.
fn error_text(err: &Value) -> String {
    match err {
        // A shell has no Vim commands to hint at: the code goes too.
        Value::Array(parts) if parts.len() == 2 => {
            crate::errors::strip_code(parts[1].as_str().unwrap_or("error")).to_string()
        }
        other => other.to_string(),
    }
}

/// Connect to the daemon, starting it when none answers.
async fn connect(dirs: &Dirs, output: Option<Arc<Mutex<OuterFilter>>>) -> anyhow::Result<Connection> {
    let socket = daemon::socket_path();
    let stream = match std::os::unix::net::UnixStream::connect(&socket) {
        Ok(stream) => stream,
        Err(_) => {
            let dirs = dirs.clone();
            let said = tokio::task::spawn_blocking(move || daemon::start(&dirs, daemon::DEFAULT_IDLE_EXIT)).await??;
            eprintln!("lulu: {said}");
            std::os::unix::net::UnixStream::connect(&socket)
                .with_context(|| format!("cannot connect to {}", socket.display()))?
        }
    };
    stream.set_nonblocking(true)?;
    let writer = daemon::PollingWriter(stream.try_clone()?);
    let reader = tokio::net::UnixStream::from_std(stream)?;
    let out = Outgoing::spawn(writer)?;
    let (nvim, io) = Neovim::new(reader.compat(), out.clone(), ShellHandler { output });
    let (closed_tx, closed) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = io.await;
        let _ = closed_tx.send(true);
    });
    Ok(Connection { nvim, out, closed })
}

/// What `lulu start` asks for.
pub struct StartArgs {
    pub agent: Option<String>,
    pub name: Option<String>,
    pub cwd: Option<std::path::PathBuf>,
    pub args: Vec<String>,
}

fn map(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(pairs.into_iter().map(|(k, v)| (Value::from(k), v)).collect())
}

fn field<'a>(record: &'a Value, key: &str) -> Option<&'a Value> {
    record
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

fn text(record: &Value, key: &str) -> String {
    field(record, key).and_then(Value::as_str).unwrap_or("").to_string()
}

pub fn run<F, T>(f: F) -> anyhow::Result<T>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(f);
    runtime.shutdown_background();
    result
}

pub async fn start(dirs: &Dirs, args: StartArgs) -> anyhow::Result<()> {
    let conn = connect(dirs, None).await?;
    let cwd = match args.cwd {
        Some(dir) => dir,
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let cwd = cwd
        .canonicalize()
        .with_context(|| format!("{} is not a directory", cwd.display()))?;
    let (cols, rows) = terminal_size().unwrap_or((120, 40));
    let mut opts = vec![
        ("agent", Value::from(args.agent.unwrap_or_else(|| "shell".into()))),
        ("cwd", Value::from(cwd.to_string_lossy().as_ref())),
        ("args", Value::Array(args.args.into_iter().map(Value::from).collect())),
        ("cols", Value::from(cols)),
        ("rows", Value::from(rows)),
    ];
    if let Some(name) = args.name {
        opts.push(("name", Value::from(name)));
    }
    let record = conn.call(protocol::SESSION_START, vec![map(opts)]).await?;
    let place = field(&record, "worktree")
        .and_then(Value::as_str)
        .map_or_else(|| text(&record, "cwd"), str::to_string);
    println!(
        "started {} ({} {}) in {place}",
        text(&record, "name"),
        text(&record, "agent"),
        text(&record, "id")
    );
    Ok(())
}

/// The daemon's live view of the sessions, when one runs (never starts one).
pub async fn list_live(dirs: &Dirs) -> Option<Vec<crate::model::SessionRecord>> {
    daemon::running_pid()?;
    let conn = connect(dirs, None).await.ok()?;
    let value = conn.call(protocol::SESSION_LIST, vec![]).await.ok()?;
    let json = serde_json::to_value(&value).ok()?;
    serde_json::from_value(json).ok()
}

pub async fn stop(dirs: &Dirs, session: &str) -> anyhow::Result<()> {
    let conn = connect(dirs, None).await?;
    conn.call(protocol::SESSION_STOP, vec![Value::from(session)]).await?;
    println!("stopping {session}");
    Ok(())
}

pub async fn send(dirs: &Dirs, session: &str, text: &str) -> anyhow::Result<()> {
    let conn = connect(dirs, None).await?;
    conn.call(protocol::SESSION_SEND, vec![Value::from(session), Value::from(text)])
        .await?;
    Ok(())
}

/// Join this terminal to a session until Ctrl-\ d (it keeps running) or
/// until it ends.
pub async fn attach(dirs: &Dirs, session: &str, allow: Passthrough) -> anyhow::Result<()> {
    let filter = Arc::new(Mutex::new(OuterFilter::new(allow)));
    let conn = connect(dirs, Some(filter.clone())).await?;
    let record = conn.call(protocol::SESSION_GET, vec![Value::from(session)]).await?;
    let id = text(&record, "id");
    let name = text(&record, "name");
    if !matches!(text(&record, "status").as_str(), "starting" | "running") {
        bail!(
            "session '{name}' has ended ({}); start a new one",
            text(&record, "status")
        );
    }
    let raw = RawMode::enter()?;
    print!("\x1b[H\x1b[2J");
    let _ = std::io::stdout().flush();
    resize(&conn, &id);
    let chan = Value::from(ATTACH_CHAN);
    let attach = vec![
        Value::from(id.as_str()),
        chan,
        Value::Nil,
        Value::Nil,
        map(vec![("queries", Value::from(false))]),
    ];
    conn.call(protocol::SESSION_ATTACH, attach).await?;
    let outcome = relay(&conn, &id, &name).await?;
    // Let the last output land before the terminal goes back to normal.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let restore = filter.lock().unwrap_or_else(|p| p.into_inner()).restore();
    let _ = std::io::stdout().write_all(&restore);
    drop(raw);
    println!("\r\n[lulu: {outcome}]");
    Ok(())
}

/// Tell the session this terminal's size.
fn resize(conn: &Connection, id: &str) {
    if let Some((cols, rows)) = terminal_size() {
        conn.notify(
            protocol::SESSION_RESIZE,
            vec![Value::from(id), Value::from(cols), Value::from(rows)],
        );
    }
}

/// Keys to the session and size changes, until the detach keys or its end:
/// what to say when it is over.
async fn relay(conn: &Connection, id: &str, name: &str) -> anyhow::Result<String> {
    let mut keys = read_keys();
    let mut winch = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())?;
    let mut check = tokio::time::interval(Duration::from_millis(500));
    let mut detach_keys = DetachKeys::default();
    Ok(loop {
        tokio::select! {
            Some(bytes) = keys.recv() => {
                let (forward, detach) = detach_keys.filter(&bytes);
                if !forward.is_empty() {
                    conn.notify(protocol::SESSION_WRITE, vec![Value::from(id), Value::Binary(forward)]);
                }
                if detach {
                    conn.notify(protocol::SESSION_DETACH, vec![Value::from(id), Value::from(ATTACH_CHAN)]);
                    break format!("detached from {name}; it keeps running (lulu attach {name})");
                }
            }
            _ = winch.recv() => resize(conn, id),
            _ = check.tick() => {
                match conn.call(protocol::SESSION_GET, vec![Value::from(id)]).await {
                    Ok(now) if matches!(text(&now, "status").as_str(), "starting" | "running") => {}
                    Ok(now) => break format!("{name} ended: {}", text(&now, "status")),
                    Err(err) => break format!("{err:#}"),
                }
            }
        }
    })
}

/// Keystrokes, from a plain thread (stdin is blocking).
fn read_keys() -> tokio::sync::mpsc::UnboundedReceiver<Vec<u8>> {
    let (keys_tx, keys) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || keys_tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    keys
}

/// The detach chord (the prefix, then `d`) taken out of typed keys; the
/// prefix twice types it once, the prefix and any other key types both.
#[derive(Default)]
struct DetachKeys {
    /// The last key read was the prefix.
    prefix: bool,
}

impl DetachKeys {
    /// What to pass on, and whether the chord was typed (keys after it
    /// are dropped: the terminal is leaving).
    fn filter(&mut self, bytes: &[u8]) -> (Vec<u8>, bool) {
        let mut forward = Vec::with_capacity(bytes.len() + 1);
        for &b in bytes {
            if self.prefix {
                self.prefix = false;
                if b == b'd' {
                    return (forward, true);
                }
                forward.push(DETACH_PREFIX);
                if b != DETACH_PREFIX {
                    forward.push(b);
                }
            } else if b == DETACH_PREFIX {
                self.prefix = true;
            } else {
                forward.push(b);
            }
        }
        (forward, false)
    }
}

fn terminal_size() -> Option<(u16, u16)> {
    // SAFETY: TIOCGWINSZ fills a winsize we own.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(std::io::stdout().as_raw_fd(), libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0 && size.ws_row > 0).then_some((size.ws_col, size.ws_row))
}

/// The terminal in raw mode for as long as this lives.
struct RawMode(Option<libc::termios>);

impl RawMode {
    fn enter() -> anyhow::Result<RawMode> {
        let fd = std::io::stdin().as_raw_fd();
        // SAFETY: isatty on our stdin.
        if unsafe { libc::isatty(fd) } == 0 {
            return Ok(RawMode(None));
        }
        // SAFETY: tcgetattr/cfmakeraw/tcsetattr on a termios we own.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut saved) != 0 {
                bail!("cannot read the terminal mode: {}", std::io::Error::last_os_error());
            }
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            if libc::tcsetattr(fd, libc::TCSANOW, &raw) != 0 {
                bail!("cannot set raw mode: {}", std::io::Error::last_os_error());
            }
            Ok(RawMode(Some(saved)))
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = self.0 {
            // SAFETY: restoring the mode read in `enter`.
            unsafe {
                libc::tcsetattr(std::io::stdin().as_raw_fd(), libc::TCSANOW, &saved);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detach_chord_is_taken_out_even_across_reads() {
        let mut keys = DetachKeys::default();
        assert_eq!(keys.filter(b"ls\r"), (b"ls\r".to_vec(), false));
        // The prefix alone waits for the next key.
        assert_eq!(keys.filter(&[b'a', DETACH_PREFIX]), (b"a".to_vec(), false));
        assert_eq!(keys.filter(b"dzz"), (Vec::new(), true));
    }

    #[test]
    fn the_prefix_twice_or_before_another_key_is_typed() {
        let mut keys = DetachKeys::default();
        assert_eq!(
            keys.filter(&[DETACH_PREFIX, DETACH_PREFIX]),
            (vec![DETACH_PREFIX], false)
        );
        assert_eq!(keys.filter(&[DETACH_PREFIX, b'x']), (vec![DETACH_PREFIX, b'x'], false));
        assert!(!keys.prefix);
    }
}

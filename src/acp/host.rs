//! The ACP client's line to lulu's host: the session's hook socket (the
//! same socket, token and checks as `lulu hook`). Events (the
//! conversation's entries, turns, usage) go in order from one thread,
//! entries gathered for [`BATCH`] so a stream of chunks is a few messages;
//! questions go one connection each and wait for their answer.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::chat::Entry;
use crate::hook::{ENV_SESSION, ENV_SOCKET, ENV_TIMEOUT, ENV_TOKEN, HookReply, HookRequest};

/// How long entries gather before they go.
const BATCH: Duration = Duration::from_millis(30);
/// Most entry bytes one message carries.
const BATCH_BYTES: usize = 512 * 1024;
/// The agent name the host knows ACP events by (its adapter).
pub const AGENT: &str = "acp";

/// Where the host is, from the session's environment.
#[derive(Clone)]
pub struct Host {
    socket: String,
    session: String,
    token: String,
    timeout: Duration,
}

pub enum Event {
    Entry(Entry),
    /// A hook-like event: `{hook_event_name, ...}`.
    Say(Value),
    /// Send what is gathered and answer (the process is about to end).
    Flush(mpsc::Sender<()>),
}

impl Host {
    /// `None`: not started by lulu (no host to ask).
    pub fn from_env() -> Option<Host> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Some(Host {
            socket: var(ENV_SOCKET)?,
            session: var(ENV_SESSION)?,
            token: var(ENV_TOKEN)?,
            timeout: var(ENV_TIMEOUT)
                .and_then(|t| t.parse().ok())
                .map_or(Duration::from_secs(610), Duration::from_secs),
        })
    }

    fn request(&self, payload: Value) -> HookRequest {
        HookRequest {
            session: self.session.clone(),
            token: self.token.clone(),
            agent: AGENT.to_string(),
            payload,
        }
    }

    /// Connect and send `payload`; the stream, to read the answer from.
    pub fn open(&self, payload: Value) -> std::io::Result<UnixStream> {
        let mut stream = UnixStream::connect(&self.socket)?;
        stream.set_read_timeout(Some(self.timeout))?;
        let mut line = serde_json::to_vec(&self.request(payload))?;
        line.push(b'\n');
        stream.write_all(&line)?;
        Ok(stream)
    }

    /// The host's answer on `stream` (blocking).
    pub fn answer(stream: &UnixStream) -> Result<HookReply, String> {
        let mut line = String::new();
        BufReader::new(stream)
            .read_line(&mut line)
            .map_err(|err| format!("no answer from lulu: {err}"))?;
        serde_json::from_str(&line).map_err(|_| "lulu went away before it answered".to_string())
    }

    fn tell(&self, payload: Value) {
        match self.open(payload) {
            Ok(stream) => {
                let _ = Host::answer(&stream);
            }
            Err(err) => eprintln!("lulu acp: cannot reach the host: {err}"),
        }
    }

    /// The events thread: tell the host each event, in order.
    pub fn serve(self, events: mpsc::Receiver<Event>) {
        let mut gathered: Vec<Entry> = Vec::new();
        let mut weight = 0usize;
        let mut since: Option<Instant> = None;
        loop {
            let wait = since.map_or(Duration::from_secs(3600), |t| BATCH.saturating_sub(t.elapsed()));
            let next = events.recv_timeout(wait);
            let due = since.is_some_and(|t| t.elapsed() >= BATCH) || weight >= BATCH_BYTES;
            let flush_now = due || !matches!(next, Ok(Event::Entry(_)) | Err(mpsc::RecvTimeoutError::Timeout));
            if flush_now && !gathered.is_empty() {
                self.tell(json!({"hook_event_name": "Chat", "entries": std::mem::take(&mut gathered)}));
                (weight, since) = (0, None);
            }
            match next {
                Ok(Event::Entry(entry)) => {
                    weight += entry.weight();
                    Entry::merge_into(&mut gathered, entry);
                    since.get_or_insert_with(Instant::now);
                }
                Ok(Event::Say(payload)) => self.tell(payload),
                Ok(Event::Flush(done)) => {
                    let _ = done.send(());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    }
}

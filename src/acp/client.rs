//! The ACP client's loop: one thread owns the agent's stdin and every
//! piece of state; the agent's output, the user's keys and the host's
//! answers reach it through one queue ([`Heard`]). It starts the agent's
//! session, sends prompts one turn at a time, shows and reports what the
//! agent says, and serves the agent's requests: permission questions go to
//! lulu's rules and dialog, file reads and writes stay inside the session
//! unless the user allows more, and anything else is refused.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc;

use serde_json::{Value, json};

use super::agent::{self as process, Agent, Heard};
use super::ask::Question;
use super::chat::{self, Entry};
use super::fs::Fence;
use super::host::{self, Host};
use super::keys::Keys;
use super::render;
use super::wire::{self, Incoming};

/// Malformed lines tolerated before the agent is taken for broken.
const MAX_MALFORMED: u32 = 1000;
/// Tool calls whose kind and title are remembered (for their updates).
const MAX_TOOLS: usize = 512;
/// Questions of the agent waiting at once; past it, refused.
pub(super) const MAX_ASKS: usize = 8;
/// Notes about malformed lines shown (the rest only counted).
const MALFORMED_NOTES: u32 = 3;

pub struct Opts {
    /// The session's root (its worktree): what the agent's files stay in.
    pub root: PathBuf,
    /// The agent's adapter vouches that an `execute` call's title is its
    /// command (decided by lulu from the configured program).
    pub vouch_title: bool,
    /// The agent's id of a conversation to load.
    pub load: Option<String>,
    pub argv: Vec<String>,
}

/// One of lulu's own requests to the agent, awaiting its response.
pub(super) enum Sent {
    Initialize,
    NewSession,
    Load,
    Prompt,
}

/// One of the agent's requests, waiting for the user (through the host).
pub(super) struct Ask {
    pub(super) id: Value,
    pub(super) params: Value,
    pub(super) what: Asked,
    /// The connection to the host, to withdraw the question.
    pub(super) stream: Option<std::os::unix::net::UnixStream>,
}

pub(super) enum Asked {
    Permission(Question),
    Read(PathBuf, Option<u64>, Option<u64>),
    Write(PathBuf, String),
}

pub struct Client {
    pub(super) root: PathBuf,
    pub(super) fence: Fence,
    pub(super) vouch_title: bool,
    pub(super) load: Option<String>,
    pub(super) agent: Agent,
    pub(super) tx: mpsc::SyncSender<Heard>,
    pub(super) host: Option<Host>,
    pub(super) events: Option<mpsc::SyncSender<host::Event>>,
    pub(super) next_id: u64,
    pub(super) sent: HashMap<u64, Sent>,
    pub(super) session: Option<String>,
    pub(super) agent_name: String,
    pub(super) can_load: bool,
    pub(super) turn: bool,
    pub(super) prompts: VecDeque<String>,
    pub(super) asks: HashMap<u64, Ask>,
    pub(super) next_ask: u64,
    /// Content the user accepted for a file, by its path below the root,
    /// with its call's id: what lulu writes, whatever the agent sends,
    /// until the call ends.
    pub(super) accepted: HashMap<PathBuf, (String, String)>,
    pub(super) keys: Keys,
    pub(super) malformed: u32,
    pub(super) last: Option<Entry>,
    /// This turn's tool cards, to show their updates whole.
    pub(super) cards: Vec<Entry>,
    /// A deny's reason was sent as a prompt since the user's last prompt.
    pub(super) told_why: bool,
}

/// Run the client until the agent ends; the exit code to leave with.
pub fn run(opts: Opts) -> i32 {
    let fence = match Fence::open(&opts.root) {
        Ok(fence) => fence,
        Err(err) => {
            render::show(&render::clean(&format!(
                "lulu: cannot open the session's root: {err}\n"
            )));
            return 2;
        }
    };
    let (tx, rx) = mpsc::sync_channel(process::QUEUE);
    let agent = match Agent::spawn(&opts.argv, tx.clone()) {
        Ok(agent) => agent,
        Err(err) => {
            render::show(&render::clean(&format!(
                "lulu: cannot start {}: {err}\n",
                opts.argv.join(" ")
            )));
            return 127;
        }
    };
    process::raw_terminal();
    process::read_keys(tx.clone());
    let host = Host::from_env();
    let events = host.clone().map(|host| {
        let (events, queue) = mpsc::sync_channel(64);
        std::thread::spawn(move || host.serve(queue));
        events
    });
    let mut client = Client {
        root: fence.root().to_path_buf(),
        fence,
        vouch_title: opts.vouch_title,
        load: opts.load,
        agent,
        tx,
        host,
        events,
        next_id: 0,
        sent: HashMap::new(),
        session: None,
        agent_name: String::new(),
        can_load: false,
        turn: false,
        prompts: VecDeque::new(),
        asks: HashMap::new(),
        next_ask: 0,
        accepted: HashMap::new(),
        keys: Keys::default(),
        malformed: 0,
        last: None,
        cards: Vec::new(),
        told_why: false,
    };
    client.main(rx)
}

impl Client {
    fn main(&mut self, rx: mpsc::Receiver<Heard>) -> i32 {
        let version = env!("CARGO_PKG_VERSION");
        self.request(
            Sent::Initialize,
            "initialize",
            json!({"protocolVersion": 1,
                   "clientCapabilities": {"fs": {"readTextFile": true, "writeTextFile": true}, "terminal": false},
                   "clientInfo": {"name": "lulu", "title": "lulu", "version": version}}),
        );
        let (mut broken, mut exited) = (None, None);
        while let Ok(heard) = rx.recv() {
            match heard {
                Heard::Agent(message) => broken = self.on_message(message),
                Heard::AgentExited(status) => {
                    exited = Some(status);
                    break;
                }
                Heard::AgentClosed | Heard::KeysClosed => break,
                Heard::Keys(bytes) => self.on_keys(&bytes),
                Heard::Answered { ask, reply } => self.on_answer(ask, reply),
            }
            if broken.is_some() {
                break;
            }
        }
        let status = match exited {
            Some(status) => status,
            None => self.stop_agent(&rx, broken.is_some()),
        };
        self.end(broken, status)
    }

    /// End the agent: its stdin closed, then SIGTERM, then SIGKILL, a
    /// second each (at once when it is `broken`); its exit status.
    fn stop_agent(&mut self, rx: &mpsc::Receiver<Heard>, broken: bool) -> Option<std::process::ExitStatus> {
        self.agent.stdin = None;
        let steps: &[Option<bool>] = if broken {
            &[Some(true)]
        } else {
            &[None, Some(false), Some(true)]
        };
        for step in steps {
            if let Some(hard) = step {
                self.agent.signal(*hard);
            }
            let until = std::time::Instant::now() + std::time::Duration::from_secs(1);
            while let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
                match rx.recv_timeout(left) {
                    Ok(Heard::AgentExited(status)) => return status,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
        None
    }

    /// The agent ended (or is ended): say why, and leave with its code.
    fn end(&mut self, broken: Option<String>, status: Option<std::process::ExitStatus>) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        let code = match (&broken, status) {
            (Some(_), _) => 2,
            (None, Some(status)) => status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
            (None, None) => 1,
        };
        let signal = status.and_then(|s| s.signal());
        let why = broken.unwrap_or_else(|| match (code, signal) {
            (0, _) => "the agent exited".to_string(),
            (_, Some(signal)) => format!("the agent was ended by signal {signal}"),
            (code, None) => format!("the agent exited with status {code}: {}", self.agent.stderr_tail()),
        });
        self.push(Entry::Note { text: why });
        if let Some(events) = self.events.take() {
            let (done, wait) = mpsc::channel();
            let _ = events.send(host::Event::Flush(done));
            let _ = wait.recv_timeout(std::time::Duration::from_secs(2));
        }
        process::end_leftovers();
        code
    }

    pub(super) fn send(&mut self, message: &Value) {
        if let Some(stdin) = self.agent.stdin.as_mut() {
            let _ = wire::send(stdin, message);
        }
    }

    pub(super) fn request(&mut self, what: Sent, method: &str, params: Value) {
        self.next_id += 1;
        self.sent.insert(self.next_id, what);
        let message = wire::request(self.next_id, method, params);
        self.send(&message);
    }

    /// Add an entry to the conversation: shown, and told to the host.
    pub(super) fn push(&mut self, entry: Entry) {
        let continued = matches!(
            (&self.last, &entry),
            (Some(Entry::Agent { .. }), Entry::Agent { .. }) | (Some(Entry::Thought { .. }), Entry::Thought { .. })
        );
        render::show(&render::line(&self.titled(&entry), continued));
        self.last = Some(entry.clone());
        if let Some(events) = &self.events {
            let _ = events.send(host::Event::Entry(entry));
        }
    }

    /// A tool update as shown: its card, merged as the host merges it.
    fn titled(&mut self, entry: &Entry) -> Entry {
        if !matches!(entry, Entry::Tool { .. }) {
            return entry.clone();
        }
        if self.cards.len() >= MAX_TOOLS {
            self.cards.clear();
        }
        let at = Entry::merge_into(&mut self.cards, entry.clone());
        self.cards[at].clone()
    }

    pub(super) fn say(&self, payload: Value) {
        if let Some(events) = &self.events {
            let _ = events.send(host::Event::Say(payload));
        }
    }

    pub(super) fn note(&mut self, text: impl Into<String>) {
        self.push(Entry::Note { text: text.into() });
    }

    fn on_message(&mut self, message: Incoming) -> Option<String> {
        match message {
            Incoming::Response { id, outcome } => self.on_response(id, outcome),
            Incoming::Notification { method, params } => {
                self.on_notification(&method, &params);
                None
            }
            Incoming::Request { id, method, params } => {
                self.on_request(id, &method, params);
                None
            }
            Incoming::Malformed(why) => self.on_malformed(why),
            Incoming::TooLong(bytes) => {
                self.note(format!(
                    "dropped a message of {bytes} bytes from the agent (over {} bytes)",
                    wire::MAX_LINE
                ));
                None
            }
        }
    }

    fn on_malformed(&mut self, why: String) -> Option<String> {
        self.malformed += 1;
        if self.malformed <= MALFORMED_NOTES {
            self.note(format!("ignored a line from the agent: {why}"));
        }
        (self.malformed > MAX_MALFORMED).then(|| {
            format!(
                "the agent sent {} lines that are not ACP; it was stopped",
                self.malformed
            )
        })
    }

    fn on_response(&mut self, id: u64, outcome: Result<Value, String>) -> Option<String> {
        let Some(what) = self.sent.remove(&id) else {
            return self.on_malformed(format!("a response to {id}, which lulu did not ask"));
        };
        match (what, outcome) {
            (Sent::Initialize, Ok(result)) => self.initialized(&result),
            (Sent::Initialize, Err(err)) => return Some(format!("the agent refused to start ACP: {err}")),
            (Sent::NewSession | Sent::Load, Ok(result)) => self.session_ready(&result),
            (Sent::Load, Err(err)) => {
                // The conversation is gone on the agent's side: a new one.
                self.note(format!(
                    "the agent could not load the conversation ({err}); a new one starts"
                ));
                self.session = None;
                let cwd = std::env::current_dir().unwrap_or_else(|_| self.root.clone());
                self.request(Sent::NewSession, "session/new", json!({"cwd": cwd, "mcpServers": []}));
            }
            (Sent::NewSession, Err(err)) => {
                return Some(format!("the agent could not start a session: {err}"));
            }
            (Sent::Prompt, result) => self.turn_ended(result),
        }
        None
    }

    fn initialized(&mut self, result: &Value) {
        let version = result.get("protocolVersion").and_then(Value::as_u64);
        if version != Some(1) {
            self.note(format!("the agent speaks ACP version {version:?}; lulu speaks 1"));
        }
        self.agent_name = result
            .pointer("/agentInfo/name")
            .and_then(Value::as_str)
            .map(|n| chat::cut(n, 100).to_string())
            .unwrap_or_default();
        self.can_load = result
            .pointer("/agentCapabilities/loadSession")
            .and_then(Value::as_bool)
            == Some(true);
        let cwd = std::env::current_dir().unwrap_or_else(|_| self.root.clone());
        match self.load.clone() {
            Some(id) if self.can_load => {
                self.session = Some(id.clone());
                self.request(
                    Sent::Load,
                    "session/load",
                    json!({"sessionId": id, "cwd": cwd, "mcpServers": []}),
                );
            }
            load => {
                if load.is_some() {
                    self.note("this agent cannot load a conversation; a new one starts");
                }
                self.request(Sent::NewSession, "session/new", json!({"cwd": cwd, "mcpServers": []}));
            }
        }
    }

    fn session_ready(&mut self, result: &Value) {
        if let Some(id) = result.get("sessionId").and_then(Value::as_str) {
            self.session = Some(chat::cut(id, 128).to_string());
        }
        let Some(id) = self.session.clone() else {
            self.note("the agent started a session with no id");
            return;
        };
        self.say(json!({"hook_event_name": "SessionStart", "session_id": id}));
        render::show(&render::clean(&format!("\nlulu: {} is ready\n", self.label())));
        self.say(json!({"hook_event_name": "Stop", "stop_reason": "ready"}));
        self.next_prompt();
    }

    fn label(&self) -> String {
        if self.agent_name.is_empty() {
            "the agent".into()
        } else {
            self.agent_name.clone()
        }
    }
}

//! The agent's process: started with pipes, its output read on threads of
//! its own into the client's one queue (bounded: a flood waits in the
//! agent's own pipe), its exit seen by a waiter thread (a child it forked
//! that keeps the pipe open does not hide it), the tail of its stderr kept
//! for the note that says why it ended.

use std::io::BufReader;
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};

use super::wire::{self, Incoming};

/// What the client's loop hears.
pub enum Heard {
    Agent(Incoming),
    /// The agent's stdout closed.
    AgentClosed,
    /// The agent's process ended.
    AgentExited(Option<ExitStatus>),
    Keys(Vec<u8>),
    /// A question's answer (or why there is none).
    Answered {
        ask: u64,
        reply: Result<crate::hook::HookReply, String>,
    },
    /// The user's terminal closed.
    KeysClosed,
}

/// Messages waiting for the loop, at most (each up to 8 MiB).
pub const QUEUE: usize = 16;
/// Bytes of the agent's stderr kept.
const STDERR_TAIL: usize = 2048;

pub struct Agent {
    pub pid: u32,
    pub stdin: Option<ChildStdin>,
    pub stderr: Arc<Mutex<Vec<u8>>>,
}

impl Agent {
    pub fn spawn(argv: &[String], tx: mpsc::SyncSender<Heard>) -> std::io::Result<Agent> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| std::io::Error::other("no agent command"))?;
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout"))?;
        let stderr_pipe = child.stderr.take().ok_or_else(|| std::io::Error::other("no stderr"))?;
        let pid = child.id();
        let reader = tx.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::with_capacity(64 * 1024, stdout);
            let mut buf = Vec::new();
            while let Ok(Some(message)) = wire::read_line(&mut lines, &mut buf) {
                if reader.send(Heard::Agent(message)).is_err() {
                    return;
                }
            }
            let _ = reader.send(Heard::AgentClosed);
        });
        std::thread::spawn(move || {
            let status = child.wait().ok();
            let _ = tx.send(Heard::AgentExited(status));
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let tail = stderr.clone();
        std::thread::spawn(move || keep_tail(stderr_pipe, &tail));
        Ok(Agent { pid, stdin, stderr })
    }

    /// Ask it to stop: SIGTERM (its stdin closed first), SIGKILL if `hard`.
    pub fn signal(&mut self, hard: bool) {
        self.stdin = None;
        let signal = if hard { libc::SIGKILL } else { libc::SIGTERM };
        // SAFETY: signalling our own child by its pid (not yet reaped: the
        // waiter thread reports that first).
        unsafe { libc::kill(self.pid as i32, signal) };
    }

    /// The last lines of its stderr, one line.
    pub fn stderr_tail(&self) -> String {
        let bytes = self.stderr.lock().map(|b| b.clone()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
        super::chat::cut(&tail, 500).to_string()
    }
}

/// What is left of the session's process group when the client ends (a
/// child the agent forked): ended too, when the client leads the group
/// (as lulu starts it: the session's terminal's leader).
pub fn end_leftovers() {
    // SAFETY: plain process-group calls on this process.
    unsafe {
        if libc::getpgrp() == libc::getpid() as libc::pid_t {
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
            libc::killpg(libc::getpgrp(), libc::SIGTERM);
        }
    }
}

fn keep_tail(mut pipe: impl std::io::Read, tail: &Mutex<Vec<u8>>) {
    let mut chunk = [0u8; 4096];
    while let Ok(n) = pipe.read(&mut chunk) {
        if n == 0 {
            break;
        }
        if let Ok(mut kept) = tail.lock() {
            kept.extend_from_slice(&chunk[..n]);
            let over = kept.len().saturating_sub(STDERR_TAIL);
            kept.drain(..over);
        }
    }
}

/// Read the user's keys (the session's terminal) into the queue.
pub fn read_keys(tx: mpsc::SyncSender<Heard>) {
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin().lock();
        let mut chunk = [0u8; 4096];
        loop {
            match stdin.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(Heard::Keys(chunk[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Heard::KeysClosed);
    });
}

/// Raw mode for the session's terminal, when it is one: keys arrive as
/// typed (Ctrl-C a byte, not a signal), nothing echoed.
pub fn raw_terminal() {
    // SAFETY: termios calls on fd 0 with a zeroed struct tcgetattr fills.
    unsafe {
        let mut attrs: libc::termios = std::mem::zeroed();
        if libc::isatty(0) == 1 && libc::tcgetattr(0, &mut attrs) == 0 {
            libc::cfmakeraw(&mut attrs);
            libc::tcsetattr(0, libc::TCSANOW, &attrs);
        }
    }
}

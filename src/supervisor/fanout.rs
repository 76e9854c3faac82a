//! A session's output, fanned out to every terminal channel that shows it
//! (one per attached editor and buffer), each through its own task and
//! queue, so one slow editor never holds up the others.
//!
//! Every chunk goes through the session's screen model first
//! ([`crate::screen`]); a terminal that attaches is painted from the model
//! at its size, and while no terminal shows the session, the model answers
//! the program's terminal queries.
//!
//! Back-pressure: the session reads on only while its fastest terminal has
//! less than [`HIGH_WATER`] queued. So with one editor nothing is dropped
//! and the program runs at the editor's pace, as in `:terminal`; a terminal
//! that falls behind by more than [`RESYNC_AFTER`] is resynced instead:
//! what it has queued is dropped, nothing more is queued for it, and when
//! its task gets to it, it is repainted from the model as the model is then.
//! The model lives behind a lock taken for each chunk, so that a repaint and
//! the output that follows it meet exactly.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rmpv::Value;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::model::SessionId;
use crate::pty::{Input, PtyControl};
use crate::rpc::{ClientId, Peer};
use crate::screen::Screen;

/// Output chunks a terminal channel may have in flight (written, not yet
/// acknowledged). Two keep the editor busy while the next chunk is on its
/// way, and bound what it can have queued from one session.
const IN_FLIGHT: usize = 2;
/// Bytes queued for the fastest terminal before the session stops reading.
const HIGH_WATER: usize = 256 * 1024;
/// Beyond this backlog a terminal is repainted from the model.
const RESYNC_AFTER: usize = 2 * 1024 * 1024;
/// Puts a terminal that has shown the stream back to a fresh one's state
/// before a repaint: the primary screen, default modes and pen, cleared
/// screen and scrollback.
const RESET: &[u8] = b"\x1b[?1049l\x1b[0m\x1b[r\x1b[?1l\x1b>\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1005l\x1b[?1004l\x1b[4l\x1b[?25h\x1b[?7h\x1b[H\x1b[2J\x1b[3J";

/// A session's screen model, shared by its task, its terminals' tasks and
/// the readers of its preview.
pub type SharedScreen = Arc<Mutex<Screen>>;

enum Out {
    Bytes(Vec<u8>),
    /// Reset the terminal and paint the model as it is now.
    Repaint,
    /// Answer once everything queued before this has reached the terminal.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// What a terminal's task and the session share.
struct Shared {
    /// Bytes queued and not yet written.
    backlog: AtomicUsize,
    /// A repaint is queued: drop plain output until it comes, queue none.
    resyncing: AtomicBool,
    /// The connection is gone.
    dead: AtomicBool,
}

/// One terminal channel showing the session.
pub struct Terminal {
    pub client: ClientId,
    pub chan: i64,
    tx: mpsc::UnboundedSender<Out>,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// All the terminals of one session, and its screen.
pub struct Fanout {
    session: SessionId,
    screen: SharedScreen,
    /// Where the model's answers go, and the size it follows.
    control: PtyControl,
    terminals: Vec<Terminal>,
    /// Woken whenever a terminal makes progress.
    progress: Arc<Notify>,
}

impl Fanout {
    pub fn new(session: SessionId, screen: SharedScreen, control: PtyControl) -> Fanout {
        Fanout {
            session,
            screen,
            control,
            terminals: Vec::new(),
            progress: Arc::new(Notify::new()),
        }
    }

    /// The model, locked and at the PTY's size.
    fn screen(&self) -> MutexGuard<'_, Screen> {
        let mut screen = lock(&self.screen);
        let (cols, rows) = self.control.size();
        screen.resize(cols, rows);
        screen
    }

    /// Show the session in `chan` of `client`: the model painted, then what
    /// follows.
    pub fn attach(&mut self, client: ClientId, peer: Peer, chan: i64) {
        self.detach(client, chan);
        let shared = Arc::new(Shared {
            backlog: AtomicUsize::new(0),
            resyncing: AtomicBool::new(false),
            dead: AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let screen = self.screen.clone();
        let task = tokio::spawn(forward(peer, chan, rx, screen, shared.clone(), self.progress.clone()));
        let terminal = Terminal {
            client,
            chan,
            tx,
            shared,
            task,
        };
        // Under the lock, as a chunk is pushed: nothing between the
        // snapshot and the stream is lost or doubled.
        let snapshot = self.screen().snapshot();
        if !snapshot.is_empty() {
            terminal.queue(snapshot);
        }
        self.terminals.push(terminal);
    }

    pub fn detach(&mut self, client: ClientId, chan: i64) {
        self.terminals.retain(|t| !(t.client == client && t.chan == chan));
    }

    pub fn detach_client(&mut self, client: ClientId) {
        self.terminals.retain(|t| t.client != client);
    }

    /// Parse `bytes` into the model and queue them for every terminal (but
    /// those too far behind, which are resynced); then wait while even the
    /// fastest terminal has [`HIGH_WATER`] queued. With no terminal, the
    /// model's answers to the program's queries go back to it.
    pub async fn push(&mut self, bytes: Vec<u8>) {
        self.drop_dead();
        {
            let mut screen = self.screen();
            let replies = screen.feed(&bytes);
            if self.terminals.is_empty() && !replies.is_empty() {
                self.control.write(Input::Bytes(replies));
            }
            let count = self.terminals.len();
            let mut bytes = Some(bytes);
            for (index, terminal) in self.terminals.iter().enumerate() {
                if terminal.shared.resyncing.load(Ordering::Acquire) {
                    continue;
                }
                let behind = terminal.shared.backlog.load(Ordering::Acquire);
                if behind > RESYNC_AFTER {
                    tracing::info!(session = %self.session, chan = terminal.chan, behind, "terminal fell behind; repainting it from the model");
                    terminal.shared.resyncing.store(true, Ordering::Release);
                    let _ = terminal.tx.send(Out::Repaint);
                    continue;
                }
                // Usually one terminal: it gets the buffer itself, not a copy.
                let chunk = if index + 1 == count {
                    bytes.take().unwrap_or_default()
                } else {
                    bytes.clone().unwrap_or_default()
                };
                terminal.queue(chunk);
            }
        }
        let progress = self.progress.clone();
        loop {
            let notified = progress.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.drop_dead();
            let fastest = self
                .terminals
                .iter()
                .filter(|t| !t.shared.resyncing.load(Ordering::Acquire))
                .map(|t| t.shared.backlog.load(Ordering::Acquire))
                .min()
                .unwrap_or(0);
            if fastest < HIGH_WATER {
                return;
            }
            notified.await;
        }
    }

    /// Wait until everything queued has reached every live terminal.
    pub async fn flush(&mut self) {
        self.drop_dead();
        let mut waits = Vec::new();
        for terminal in &self.terminals {
            let (done, rx) = tokio::sync::oneshot::channel();
            if terminal.tx.send(Out::Flush(done)).is_ok() {
                waits.push(rx);
            }
        }
        for wait in waits {
            let _ = wait.await;
        }
    }

    fn drop_dead(&mut self) {
        let session = &self.session;
        self.terminals.retain(|t| {
            let dead = t.shared.dead.load(Ordering::Acquire);
            if dead {
                tracing::info!(session = %session, chan = t.chan, "editor connection lost; detaching");
            }
            !dead
        });
    }
}

impl Terminal {
    fn queue(&self, bytes: Vec<u8>) {
        self.shared.backlog.fetch_add(bytes.len(), Ordering::AcqRel);
        let len = bytes.len();
        if self.tx.send(Out::Bytes(bytes)).is_err() {
            self.shared.backlog.fetch_sub(len, Ordering::AcqRel);
        }
    }
}

pub fn lock(screen: &Mutex<Screen>) -> MutexGuard<'_, Screen> {
    // A panic while holding it cannot leave the model in a state that
    // matters more than losing the session's screen altogether.
    screen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One terminal's task: write its queue in order, at most [`IN_FLIGHT`]
/// chunks unacknowledged, within the editor's output window.
async fn forward(
    peer: Peer,
    chan: i64,
    mut rx: mpsc::UnboundedReceiver<Out>,
    screen: SharedScreen,
    shared: Arc<Shared>,
    progress: Arc<Notify>,
) {
    let mut acks: VecDeque<JoinHandle<bool>> = VecDeque::new();
    while let Some(out) = rx.recv().await {
        let bytes = match out {
            Out::Bytes(bytes) if shared.resyncing.load(Ordering::Acquire) => {
                shared.backlog.fetch_sub(bytes.len(), Ordering::AcqRel);
                progress.notify_waiters();
                continue;
            }
            Out::Bytes(bytes) => bytes,
            Out::Repaint => {
                // Under the lock: output pushed after this snapshot is queued
                // after it, output before it is in it.
                let mut screen = lock(&screen);
                shared.resyncing.store(false, Ordering::Release);
                let mut bytes = RESET.to_vec();
                bytes.extend_from_slice(&screen.snapshot());
                shared.backlog.fetch_add(bytes.len(), Ordering::AcqRel);
                bytes
            }
            Out::Flush(done) => {
                while let Some(ack) = acks.pop_front() {
                    if !ack.await.unwrap_or(false) {
                        break;
                    }
                }
                let _ = done.send(());
                continue;
            }
        };
        let len = bytes.len();
        let sent = send(&peer, chan, bytes, &mut acks).await;
        shared.backlog.fetch_sub(len, Ordering::AcqRel);
        progress.notify_waiters();
        if !sent {
            break;
        }
    }
    shared.dead.store(true, Ordering::Release);
    progress.notify_waiters();
}

/// Queue `bytes` for the terminal, first waiting while [`IN_FLIGHT`] chunks
/// are unacknowledged. False when the connection is gone.
async fn send(peer: &Peer, chan: i64, bytes: Vec<u8>, acks: &mut VecDeque<JoinHandle<bool>>) -> bool {
    while acks.len() >= IN_FLIGHT {
        let Some(ack) = acks.pop_front() else { break };
        if !ack.await.unwrap_or(false) {
            return false;
        }
    }
    let Some(permit) = peer.out.reserve(bytes.len()).await else {
        return false;
    };
    if !peer
        .out
        .notify("nvim_chan_send", vec![Value::from(chan), Value::Binary(bytes)])
    {
        return false;
    }
    // The editor handles a channel's messages in order, so the reply to a
    // request queued after the chunk means the chunk is in the buffer.
    let nvim = peer.nvim.clone();
    acks.push_back(tokio::spawn(async move {
        let acked = matches!(nvim.call("nvim_get_current_buf", vec![]).await, Ok(Ok(_)));
        drop(permit);
        acked
    }));
    true
}

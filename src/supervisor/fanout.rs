//! A session's output, fanned out to every terminal channel that shows it
//! (one per attached editor and buffer), each through its own task and
//! queue, so one slow editor never holds up the others.
//!
//! Back-pressure: the session reads on only while its fastest terminal has
//! less than [`HIGH_WATER`] queued. So with one editor nothing is dropped
//! and the program runs at the editor's pace, as in `:terminal`; a terminal
//! that falls behind by more than the session's scrollback is resynced
//! instead: what it has queued is dropped, nothing more is queued for it,
//! and when its task gets to it, it is repainted from the ring as the ring
//! is then. The ring (the scrollback) lives here, behind a lock, so that a
//! repaint and the output that follows it meet exactly.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rmpv::Value;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::model::SessionId;
use crate::ring::Ring;
use crate::rpc::{ClientId, Peer};

/// Output chunks a terminal channel may have in flight (written, not yet
/// acknowledged). Two keep the editor busy while the next chunk is on its
/// way, and bound what it can have queued from one session.
const IN_FLIGHT: usize = 2;
/// Bytes queued for the fastest terminal before the session stops reading.
const HIGH_WATER: usize = 256 * 1024;
/// Clears the screen and scrollback before a repaint from the ring.
const REPAINT: &[u8] = b"\x1b[H\x1b[2J\x1b[3J";

enum Out {
    Bytes(Vec<u8>),
    /// Clear the terminal and paint the ring as it is now.
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

/// All the terminals of one session, and its scrollback.
pub struct Fanout {
    session: SessionId,
    ring: Arc<Mutex<Ring>>,
    terminals: Vec<Terminal>,
    /// Woken whenever a terminal makes progress.
    progress: Arc<Notify>,
    /// Beyond this backlog a terminal is resynced from the ring.
    resync_after: usize,
}

impl Fanout {
    pub fn new(session: SessionId, scrollback: usize) -> Fanout {
        Fanout {
            session,
            ring: Arc::new(Mutex::new(Ring::new(scrollback))),
            terminals: Vec::new(),
            progress: Arc::new(Notify::new()),
            resync_after: scrollback.max(HIGH_WATER * 2),
        }
    }

    /// Show the session in `chan` of `client`: the scrollback, then what
    /// follows.
    pub fn attach(&mut self, client: ClientId, peer: Peer, chan: i64) {
        self.detach(client, chan);
        let shared = Arc::new(Shared {
            backlog: AtomicUsize::new(0),
            resyncing: AtomicBool::new(false),
            dead: AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let ring = self.ring.clone();
        let task = tokio::spawn(forward(peer, chan, rx, ring, shared.clone(), self.progress.clone()));
        let terminal = Terminal {
            client,
            chan,
            tx,
            shared,
            task,
        };
        let replay = lock(&self.ring).contents();
        if !replay.is_empty() {
            terminal.queue(replay);
        }
        self.terminals.push(terminal);
    }

    pub fn detach(&mut self, client: ClientId, chan: i64) {
        self.terminals.retain(|t| !(t.client == client && t.chan == chan));
    }

    pub fn detach_client(&mut self, client: ClientId) {
        self.terminals.retain(|t| t.client != client);
    }

    /// Keep `bytes` in the scrollback and queue them for every terminal
    /// (but those too far behind, which are resynced); then wait while even
    /// the fastest terminal has [`HIGH_WATER`] queued.
    pub async fn push(&mut self, bytes: Vec<u8>) {
        self.drop_dead();
        {
            let mut ring = lock(&self.ring);
            ring.push(&bytes);
            let count = self.terminals.len();
            let mut bytes = Some(bytes);
            for (index, terminal) in self.terminals.iter().enumerate() {
                if terminal.shared.resyncing.load(Ordering::Acquire) {
                    continue;
                }
                let behind = terminal.shared.backlog.load(Ordering::Acquire);
                if behind > self.resync_after {
                    tracing::info!(session = %self.session, chan = terminal.chan, behind, "terminal fell behind; repainting it from the ring");
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

fn lock(ring: &Mutex<Ring>) -> MutexGuard<'_, Ring> {
    // A panic while holding it cannot leave the ring half-written in a way
    // that matters more than losing the session's output altogether.
    ring.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One terminal's task: write its queue in order, at most [`IN_FLIGHT`]
/// chunks unacknowledged, within the editor's output window.
async fn forward(
    peer: Peer,
    chan: i64,
    mut rx: mpsc::UnboundedReceiver<Out>,
    ring: Arc<Mutex<Ring>>,
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
                let ring = lock(&ring);
                shared.resyncing.store(false, Ordering::Release);
                let mut bytes = REPAINT.to_vec();
                bytes.extend_from_slice(&ring.contents());
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

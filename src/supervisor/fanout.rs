//! A session's output, fanned out to every terminal channel that shows it
//! (one per attached editor and buffer), each through its own task and
//! queue, so one slow editor never holds up the others.
//!
//! Every chunk goes through the session's screen model first
//! ([`crate::screen`]); a terminal that attaches is painted from the model
//! at its size, and while no terminal shows the session, the model answers
//! the program's terminal queries.
//!
//! A terminal that keeps up gets the byte stream untouched. One that falls
//! behind by more than its buffer can keep (its scrollback and screen, in
//! lines, or [`RESYNC_AFTER`] bytes) is caught up instead: what it has
//! queued is dropped, nothing more is queued for it, and when its task gets
//! to it, it gets the rows that scrolled off since the last chunk it was
//! sent and the screen as the model is then ([`Screen::catch_up`]); then
//! the stream resumes. So a flood never holds the program back to the
//! editor's pace, and the buffer ends as the whole stream would have left
//! it. A terminal whose scrollback is longer than the model's history
//! cannot be caught up without losing rows: for it the session reads on
//! only while it has less than [`HIGH_WATER`] queued, as in `:terminal`.
//! The model lives behind a lock taken for each chunk, so that a repaint
//! and the output that follows it meet exactly.
//!
//! A terminal detached while its buffer is hidden is remembered with the
//! last point of the stream it was sent; attached again with `resume`, it
//! is caught up from there (what changed, not the whole history).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rmpv::Value;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::model::SessionId;
use crate::pty::{Input, PtyControl};
use crate::rpc::protocol::AttachOpts;
use crate::rpc::{ClientId, Peer};
use crate::screen::{MODES_OFF, Mark, Screen};

/// Output chunks a terminal channel may have in flight (written, not yet
/// acknowledged). Two keep the editor busy while the next chunk is on its
/// way, and bound what it can have queued from one session.
const IN_FLIGHT: usize = 2;
/// Bytes queued for a terminal that cannot be caught up before the session
/// stops reading.
const HIGH_WATER: usize = 256 * 1024;
/// Beyond this backlog any terminal is caught up from the model.
const RESYNC_AFTER: usize = 2 * 1024 * 1024;
/// Terminals remembered after a detach, per session.
const PARKED: usize = 16;
/// A flooded terminal is shown a frame this often...
const FRAME: std::time::Duration = std::time::Duration::from_millis(40);
/// ...until fewer rows than this scroll off in a [`FRAME`]'s time: then it
/// is caught up and streams again.
const CALM_ROWS: u64 = 1000;
/// After a keystroke into a flooded session, frames come this often for
/// [`TYPED_FOR`], so what the key did (Ctrl-C, the prompt back) shows at
/// once, not at the next [`FRAME`].
const TYPED_FRAME: std::time::Duration = std::time::Duration::from_millis(5);
const TYPED_FOR: std::time::Duration = std::time::Duration::from_millis(150);
/// A paint is written in pieces this big, so the editor serves other
/// requests between them.
const PAINT_PIECE: usize = 64 * 1024;
/// Bytes of answers to terminal queries sent to a program per second at
/// most: one that floods queries and never reads its input must not grow
/// its PTY's input queue without bound.
const ANSWERS_PER_SECOND: usize = 16 * 1024;

/// What is left of this second's [`ANSWERS_PER_SECOND`].
struct AnswerBudget {
    since: std::time::Instant,
    spent: usize,
}

impl AnswerBudget {
    fn take(&mut self, bytes: usize) -> bool {
        if self.since.elapsed() >= std::time::Duration::from_secs(1) {
            self.since = std::time::Instant::now();
            self.spent = 0;
        }
        self.spent += bytes;
        self.spent <= ANSWERS_PER_SECOND
    }
}

/// A session's screen model, shared by its task, its terminals' tasks and
/// the readers of its preview.
pub type SharedScreen = Arc<Mutex<Screen>>;

enum Out {
    /// A chunk of the stream, its line count, and where the stream is
    /// after it.
    Bytes(Vec<u8>, usize, Mark),
    /// Catch the terminal up from the model as it is now.
    CatchUp,
    /// Answer once everything queued before this has reached the terminal.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// What a terminal's task and the session share.
struct Shared {
    /// Bytes and lines queued and not yet written.
    backlog: AtomicUsize,
    backlog_lines: AtomicUsize,
    /// A catch-up is queued: drop plain output until it comes, queue none.
    resyncing: AtomicBool,
    /// The connection is gone.
    dead: AtomicBool,
    /// Where the stream was after the last bytes handed to the editor.
    sent: Mutex<Mark>,
}

impl Shared {
    fn sent(&self) -> Mark {
        *self.sent.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One terminal channel showing the session.
pub struct Terminal {
    pub client: ClientId,
    pub chan: i64,
    tx: mpsc::UnboundedSender<Out>,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
    /// Lines behind past which it is caught up; `None`: it keeps more than
    /// the model does, so it is never caught up by lines.
    catch_up_after: Option<usize>,
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
    /// Detached terminals and the last point of the stream each was sent.
    parked: VecDeque<(ClientId, i64, Mark)>,
    answers: AnswerBudget,
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
            parked: VecDeque::new(),
            answers: AnswerBudget {
                since: std::time::Instant::now(),
                spent: 0,
            },
            progress: Arc::new(Notify::new()),
        }
    }

    /// The model, locked and at the PTY's size.
    fn screen(&self) -> MutexGuard<'_, Screen> {
        sized(&self.screen, &self.control)
    }

    /// Show the session in `chan` of `client`: the model painted (or, for a
    /// terminal that showed it before, caught up), then what follows.
    pub fn attach(&mut self, client: ClientId, peer: Peer, chan: i64, opts: AttachOpts) {
        self.detach(client, chan);
        let parked = self
            .parked
            .iter()
            .position(|&(c, ch, _)| c == client && ch == chan)
            .and_then(|at| self.parked.remove(at))
            .map(|(_, _, mark)| mark);
        // Under the lock, as a chunk is pushed: nothing between the paint
        // and the stream is lost or doubled.
        let (paint, mark, catch_up_after) = {
            let mut screen = self.screen();
            if let (Some(fg), Some(bg)) = (opts.fg, opts.bg) {
                screen.set_colours(fg, bg);
            }
            let paint = match (opts.resume, parked) {
                (true, Some(since)) => screen.catch_up(since),
                // A terminal with content, but nothing known of it: wiped.
                (true, None) => {
                    let mut bytes = MODES_OFF.to_vec();
                    bytes.extend_from_slice(b"\x1b[3J");
                    bytes.extend_from_slice(&screen.snapshot());
                    bytes
                }
                (false, _) => screen.snapshot(),
            };
            let limit = screen.history_limit();
            let keeps = opts.scrollback.unwrap_or(limit);
            let (_, rows) = screen.size();
            let after = (keeps <= limit).then_some(keeps + usize::from(rows));
            (paint, screen.mark(), after)
        };
        let shared = Arc::new(Shared {
            backlog: AtomicUsize::new(0),
            backlog_lines: AtomicUsize::new(0),
            resyncing: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            sent: Mutex::new(parked.unwrap_or_default()),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let screen = self.screen.clone();
        let typed = self.control.typed();
        let task = tokio::spawn(forward(
            peer,
            chan,
            rx,
            screen,
            shared.clone(),
            self.progress.clone(),
            typed,
        ));
        let terminal = Terminal {
            client,
            chan,
            tx,
            shared,
            task,
            catch_up_after,
        };
        terminal.queue(paint, mark);
        self.terminals.push(terminal);
    }

    /// Stop showing the session in `chan`; remember how far it got.
    pub fn detach(&mut self, client: ClientId, chan: i64) {
        if let Some(at) = self.terminals.iter().position(|t| t.client == client && t.chan == chan) {
            let terminal = self.terminals.remove(at);
            if self.parked.len() >= PARKED {
                self.parked.pop_front();
            }
            self.parked.push_back((client, chan, terminal.shared.sent()));
        }
    }

    pub fn detach_client(&mut self, client: ClientId) {
        self.terminals.retain(|t| t.client != client);
        self.parked.retain(|&(c, _, _)| c != client);
    }

    /// Parse `bytes` into the model and queue them for every terminal (but
    /// those too far behind, which are caught up); then wait while a
    /// terminal that cannot be caught up has [`HIGH_WATER`] queued. With no
    /// terminal, the model's answers to the program's queries go back to
    /// it.
    pub async fn push(&mut self, bytes: Vec<u8>) {
        self.drop_dead();
        {
            let mut screen = sized(&self.screen, &self.control);
            if self.terminals.is_empty() {
                let replies = screen.feed(&bytes);
                if !replies.is_empty() {
                    if self.answers.take(replies.len()) {
                        self.control.write(Input::Bytes(replies));
                    } else {
                        tracing::debug!(session = %self.session, "too many terminal queries; not answering");
                    }
                }
            } else {
                screen.feed_shown(&bytes);
            }
            let mark = screen.mark();
            let count = self.terminals.len();
            let mut bytes = Some(bytes);
            for (index, terminal) in self.terminals.iter().enumerate() {
                if terminal.shared.resyncing.load(Ordering::Acquire) {
                    continue;
                }
                let behind = terminal.shared.backlog.load(Ordering::Acquire);
                let lines = terminal.shared.backlog_lines.load(Ordering::Acquire);
                if behind > RESYNC_AFTER || terminal.catch_up_after.is_some_and(|after| lines > after) {
                    tracing::info!(session = %self.session, chan = terminal.chan, behind, lines, "terminal fell behind; catching it up from the model");
                    terminal.shared.resyncing.store(true, Ordering::Release);
                    let _ = terminal.tx.send(Out::CatchUp);
                    continue;
                }
                // Usually one terminal: it gets the buffer itself, not a copy.
                let chunk = if index + 1 == count {
                    bytes.take().unwrap_or_default()
                } else {
                    bytes.clone().unwrap_or_default()
                };
                terminal.queue(chunk, mark);
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
                .filter(|t| t.catch_up_after.is_none() && !t.shared.resyncing.load(Ordering::Acquire))
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
    fn queue(&self, bytes: Vec<u8>, mark: Mark) {
        if bytes.is_empty() {
            return;
        }
        let (len, lines) = (bytes.len(), memchr::memchr_iter(b'\n', &bytes).count());
        self.shared.backlog.fetch_add(len, Ordering::AcqRel);
        self.shared.backlog_lines.fetch_add(lines, Ordering::AcqRel);
        if self.tx.send(Out::Bytes(bytes, lines, mark)).is_err() {
            self.shared.backlog.fetch_sub(len, Ordering::AcqRel);
            self.shared.backlog_lines.fetch_sub(lines, Ordering::AcqRel);
        }
    }
}

/// `screen`, locked and at the size of the PTY `control` drives.
fn sized<'a>(screen: &'a SharedScreen, control: &PtyControl) -> MutexGuard<'a, Screen> {
    let mut screen = lock(screen);
    let (cols, rows) = control.size();
    screen.resize(cols, rows);
    screen
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
    typed: Arc<Notify>,
) {
    let mut acks: VecDeque<JoinHandle<bool>> = VecDeque::new();
    while let Some(out) = rx.recv().await {
        let (bytes, lines, mark) = match out {
            Out::Bytes(bytes, lines, _) if shared.resyncing.load(Ordering::Acquire) => {
                shared.backlog.fetch_sub(bytes.len(), Ordering::AcqRel);
                shared.backlog_lines.fetch_sub(lines, Ordering::AcqRel);
                progress.notify_waiters();
                continue;
            }
            Out::Bytes(bytes, lines, mark) => (bytes, lines, mark),
            Out::CatchUp => {
                if !flooded(&peer, chan, &screen, &shared, &typed, &mut acks).await {
                    break;
                }
                progress.notify_waiters();
                continue;
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
        // (A stream chunk is one piece; a paint on attach may be many.)
        let sent = if len <= PAINT_PIECE {
            send(&peer, chan, bytes, &mut acks).await
        } else {
            let mut all = true;
            for piece in bytes.chunks(PAINT_PIECE) {
                if !send(&peer, chan, piece.to_vec(), &mut acks).await {
                    all = false;
                    break;
                }
            }
            all
        };
        if sent {
            *shared.sent.lock().unwrap_or_else(|p| p.into_inner()) = mark;
        }
        shared.backlog.fetch_sub(len, Ordering::AcqRel);
        shared.backlog_lines.fetch_sub(lines, Ordering::AcqRel);
        progress.notify_waiters();
        if !sent {
            break;
        }
    }
    shared.dead.store(true, Ordering::Release);
    progress.notify_waiters();
}

/// A terminal that fell behind: a frame of the screen every [`FRAME`] while
/// the output floods on, then, once it calms down, the rows that scrolled
/// off since the terminal's last chunk and the screen, and the stream
/// resumes (see [`Screen::catch_up`]). False when the connection is gone.
async fn flooded(
    peer: &Peer,
    chan: i64,
    screen: &SharedScreen,
    shared: &Shared,
    typed: &Notify,
    acks: &mut VecDeque<JoinHandle<bool>>,
) -> bool {
    let mut last: Option<(Mark, std::time::Instant)> = None;
    let mut quick_until = None;
    // Calm once: one more frame first, so the screen as it is now (the
    // prompt back after a Ctrl-C) shows before the catch-up's rows do.
    let mut framed_calm = false;
    loop {
        let (bytes, caught_up) = {
            // Under the lock: output pushed after this is queued after it,
            // output before it is in it.
            let mut screen = lock(screen);
            let now = screen.mark();
            let at = std::time::Instant::now();
            // Calm: fewer than CALM_ROWS a FRAME, however long it was.
            let calm = last.is_some_and(|(mark, then)| {
                let elapsed = at.duration_since(then).as_micros().max(1);
                u128::from(now.rows_since(mark)) * FRAME.as_micros() < u128::from(CALM_ROWS) * elapsed
            });
            last = Some((now, at));
            let catch_up = calm && framed_calm;
            framed_calm = calm;
            if catch_up {
                shared.resyncing.store(false, Ordering::Release);
                (screen.catch_up(shared.sent()), Some(now))
            } else {
                (screen.frame(), None)
            }
        };
        for piece in bytes.chunks(PAINT_PIECE) {
            if !send(peer, chan, piece.to_vec(), acks).await {
                return false;
            }
        }
        if let Some(mark) = caught_up {
            *shared.sent.lock().unwrap_or_else(|p| p.into_inner()) = mark;
            return true;
        }
        let quick = framed_calm || quick_until.is_some_and(|until| std::time::Instant::now() < until);
        tokio::select! {
            () = tokio::time::sleep(if quick { TYPED_FRAME } else { FRAME }) => {}
            () = typed.notified() => {
                quick_until = Some(std::time::Instant::now() + TYPED_FOR);
                // The program's answer to the key, then the frame.
                tokio::time::sleep(TYPED_FRAME).await;
            }
        }
    }
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

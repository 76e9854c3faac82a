//! One terminal channel that shows a session: its own task writes the
//! stream to the editor in order, within the editor's output window, and
//! paints frames and a catch-up from the model when it falls behind (see
//! the parent module).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use super::flow::{Flow, QUICK};
use super::{SharedScreen, sized};
use crate::api::{ClientId, Peer};
use crate::pty::PtyControl;
use crate::screen::Mark;

/// Output chunks a terminal channel may have in flight (written, not yet
/// acknowledged). Two keep the editor busy while the next chunk is on its
/// way, and bound what it can have queued from one session.
const IN_FLIGHT: usize = 2;
/// A flooded terminal is shown a frame this often...
const FRAME: Duration = Duration::from_millis(40);
/// Between frames a flooded terminal looks this often whether the flood is
/// over (an atomic read while it is not; see [`Flow`]).
const LOOK: Duration = Duration::from_millis(QUICK / 2);
/// ...until fewer rows than this scroll off in a [`FRAME`]'s time: then it
/// is caught up and streams again.
const CALM_ROWS: u64 = 1000;
/// After a keystroke into a flooded session, frames come this often for
/// [`TYPED_FOR`], so what the key did (Ctrl-C, the prompt back) shows at
/// once, not at the next [`FRAME`].
const TYPED_FRAME: Duration = Duration::from_millis(5);
/// Neovim shows what a terminal received this long after (its refresh
/// timer): the calm frame waits it out before the catch-up comes.
const SHOWN: Duration = Duration::from_millis(11);
const TYPED_FOR: Duration = Duration::from_millis(150);
/// A paint is written in pieces this big, so the editor serves other
/// requests between them.
const PAINT_PIECE: usize = 64 * 1024;
pub(super) enum Out {
    /// A chunk of the stream, its line count, and where the stream is
    /// after it.
    Bytes(Vec<u8>, usize, Mark),
    /// Catch the terminal up from the model as it is now.
    CatchUp,
    /// Answer once everything queued before this has reached the terminal.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// What a terminal's task and the session share.
pub(super) struct Shared {
    /// Bytes and lines queued and not yet written.
    pub backlog: AtomicUsize,
    pub backlog_lines: AtomicUsize,
    /// A catch-up is queued: drop plain output until it comes, queue none.
    pub resyncing: AtomicBool,
    /// The connection is gone.
    pub dead: AtomicBool,
    /// Where the stream was after the last bytes handed to the editor.
    sent: Mutex<Mark>,
}

impl Shared {
    pub fn sent(&self) -> Mark {
        *self.sent.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One terminal channel showing the session.
pub struct Terminal {
    pub client: ClientId,
    pub chan: i64,
    pub(super) tx: mpsc::UnboundedSender<Out>,
    pub(super) shared: Arc<Shared>,
    task: JoinHandle<()>,
    /// Lines behind past which it is caught up; `None`: it keeps more than
    /// the model does, so it is never caught up by lines.
    pub(super) catch_up_after: Option<usize>,
    /// It answers the program's terminal queries itself.
    pub(super) answers: bool,
}

/// What every terminal of a session reads from it: the model, and how its
/// output flows.
#[derive(Clone)]
pub(super) struct Source {
    pub screen: SharedScreen,
    /// The session's PTY: the size its frames and catch-ups are painted at.
    pub control: PtyControl,
    /// Woken whenever a terminal makes progress.
    pub progress: Arc<Notify>,
    pub flow: Arc<Flow>,
    /// Woken by a keystroke into the session.
    pub typed: Arc<Notify>,
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Terminal {
    /// Show the session in `chan` of `peer`, a terminal that has shown the
    /// stream up to `sent`.
    pub(super) fn start(
        client: ClientId,
        peer: Peer,
        chan: i64,
        source: Source,
        sent: Mark,
        catch_up_after: Option<usize>,
    ) -> Terminal {
        let shared = Arc::new(Shared {
            backlog: AtomicUsize::new(0),
            backlog_lines: AtomicUsize::new(0),
            resyncing: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            sent: Mutex::new(sent),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(forward(peer, chan, rx, source, shared.clone()));
        Terminal {
            client,
            chan,
            tx,
            shared,
            task,
            catch_up_after,
            answers: true,
        }
    }

    pub(super) fn queue(&self, bytes: Vec<u8>, lines: usize, mark: Mark) {
        if bytes.is_empty() {
            return;
        }
        let len = bytes.len();
        self.shared.backlog.fetch_add(len, Ordering::AcqRel);
        self.shared.backlog_lines.fetch_add(lines, Ordering::AcqRel);
        if self.tx.send(Out::Bytes(bytes, lines, mark)).is_err() {
            self.shared.backlog.fetch_sub(len, Ordering::AcqRel);
            self.shared.backlog_lines.fetch_sub(lines, Ordering::AcqRel);
        }
    }
}

/// One terminal's task: write its queue in order, at most [`IN_FLIGHT`]
/// chunks unacknowledged, within the editor's output window.
async fn forward(peer: Peer, chan: i64, mut rx: mpsc::UnboundedReceiver<Out>, source: Source, shared: Arc<Shared>) {
    let progress = &source.progress;
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
                if !flooded(&peer, chan, &source, &shared, &mut acks).await {
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
/// resumes (see [`Screen::catch_up`]). Between frames it looks every
/// [`LOOK`] whether the flood is over, so the history follows its end
/// within the flow's window. False when the connection is gone.
async fn flooded(
    peer: &Peer,
    chan: i64,
    source: &Source,
    shared: &Shared,
    acks: &mut VecDeque<JoinHandle<bool>>,
) -> bool {
    let Source {
        screen,
        control,
        flow,
        typed,
        ..
    } = source;
    let mut last: Option<(Mark, Instant)> = None;
    let mut quick_until: Option<Instant> = None;
    let mut next_frame = Instant::now();
    // Calm once: one more frame first, so the screen as it is now (the
    // prompt back after a Ctrl-C) shows before the catch-up's rows do.
    let mut framed_calm = false;
    loop {
        let at = Instant::now();
        let quick = framed_calm || quick_until.is_some_and(|until| at < until);
        let due = quick || at >= next_frame;
        // A look between frames while the flood is still taken in costs an
        // atomic read: no lock, no paint.
        if due || !flow.flooding() {
            let (bytes, caught_up) = look(screen, control, flow, shared, &mut last, &mut framed_calm, due);
            for piece in bytes.chunks(PAINT_PIECE) {
                if !send(peer, chan, piece.to_vec(), acks).await {
                    return false;
                }
            }
            if let Some(mark) = caught_up {
                *shared.sent.lock().unwrap_or_else(|p| p.into_inner()) = mark;
                flow.caught_up();
                return true;
            }
            if !bytes.is_empty() {
                next_frame = at + FRAME;
            }
            if framed_calm && !bytes.is_empty() && !shown(acks).await {
                return false;
            }
        }
        let quick = framed_calm || quick_until.is_some_and(|until| Instant::now() < until);
        let wait = if quick {
            TYPED_FRAME
        } else {
            next_frame.saturating_duration_since(Instant::now()).min(LOOK)
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = typed.notified() => {
                quick_until = Some(Instant::now() + TYPED_FOR);
                // The program's answer to the key, then the frame.
                tokio::time::sleep(TYPED_FRAME).await;
            }
        }
    }
}

/// Wait until what was sent is in the buffer and Neovim has shown it (the
/// calm frame, before the catch-up clears its screen). False when the
/// connection is gone.
async fn shown(acks: &mut VecDeque<JoinHandle<bool>>) -> bool {
    while let Some(ack) = acks.pop_front() {
        if !ack.await.unwrap_or(false) {
            return false;
        }
    }
    tokio::time::sleep(SHOWN).await;
    true
}

/// One look at a flooded session's model: the catch-up once it has been
/// calm twice in a row (`framed_calm` the first time), else a frame when
/// one is `due` or it is calm, else nothing. Under the lock: output pushed
/// after this is queued after it, output before it is in it.
fn look(
    screen: &SharedScreen,
    control: &PtyControl,
    flow: &Flow,
    shared: &Shared,
    last: &mut Option<(Mark, Instant)>,
    framed_calm: &mut bool,
    due: bool,
) -> (Vec<u8>, Option<Mark>) {
    // At the PTY's size as it is now: the session may not have taken
    // output in since a resize (its flood waits for a parser), and a frame
    // taller than the terminal would scroll its top rows into the buffer's
    // scrollback.
    let mut screen = sized(screen, control);
    let now = screen.mark();
    let at = Instant::now();
    // Calm: no flood being taken in, and fewer than CALM_ROWS a FRAME
    // since the last look, however long ago it was.
    let calm = !flow.flooding()
        && last.is_some_and(|(mark, then)| {
            let elapsed = at.duration_since(then).as_micros().max(1);
            u128::from(now.rows_since(mark)) * FRAME.as_micros() < u128::from(CALM_ROWS) * elapsed
        });
    *last = Some((now, at));
    let catch_up = calm && *framed_calm;
    *framed_calm = calm;
    if catch_up {
        shared.resyncing.store(false, Ordering::Release);
        (screen.catch_up(shared.sent()), Some(now))
    } else if due || calm {
        (screen.frame(), None)
    } else {
        (Vec::new(), None)
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
    let Some(permit) = peer.link.reserve(bytes.len()).await else {
        return false;
    };
    if !peer.link.chan_send(chan, bytes) {
        return false;
    }
    // Handled in order: once what is queued after the chunk is, the chunk
    // is in the buffer.
    let handled = peer.link.handled();
    acks.push_back(tokio::spawn(async move {
        let acked = handled.await;
        drop(permit);
        acked
    }));
    true
}

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
//! When the program outruns the session, the session takes what queued up
//! whole (up to [`crate::pty::AHEAD`]), and the model skips what no
//! terminal could keep of it (`screen::skip`); such a batch is parsed off
//! the runtime's threads, and host-wide one at a time per spare core
//! ([`parsers::PARSERS`]), so a dozen floods leave the supervisor and the editor
//! their share.
//!
//! A terminal that attaches during a flood starts as a flooded one: frames
//! of the screen, and its history with the catch-up once the flood calms
//! (painting ten thousand rows that the flood scrolls away again would
//! only keep the editor busy). A flood waiting for its parser's turn does
//! not hold up the session's commands (an attach, a stop).
//!
//! A terminal detached while its buffer is hidden is remembered with the
//! last point of the stream it was sent; attached again with `resume`, it
//! is caught up from there (what changed, not the whole history).

mod flow;
mod parsers;
mod terminal;

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::api::AttachOpts;
use crate::api::{ClientId, Peer};
use crate::model::SessionId;
use crate::pty::{Input, PtyControl};
use crate::screen::{MODES_OFF, Mark, Screen};
use flow::Flow;
pub use parsers::ParseTurn;
use parsers::cpu_bound;
use terminal::{Out, Source, Terminal};

/// Bytes queued for a terminal that cannot be caught up before the session
/// stops reading.
const HIGH_WATER: usize = 256 * 1024;
/// Beyond this backlog any terminal is caught up from the model (one that
/// cannot be caught up without losing rows too: its editor has stalled).
const RESYNC_AFTER: usize = 2 * 1024 * 1024;
/// Terminals remembered after a detach, per session.
const PARKED: usize = 16;
/// A batch the session's own coalescing fills means the program prints
/// faster than the session reads: a flood.
const FLOOD_BATCH: usize = super::session_task::BATCH_BYTES;
/// Output parsed on the runtime's own thread at most; a bigger batch waits
/// its turn among [`parsers::PARSERS`] and is parsed with the thread handed over
/// (see [`cpu_bound`]).
const INLINE_PARSE: usize = 256 * 1024;
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
    /// What its terminals read from it.
    source: Source,
}

impl Fanout {
    pub fn new(session: SessionId, screen: SharedScreen, control: PtyControl) -> Fanout {
        let typed = control.typed();
        Fanout {
            session,
            screen: screen.clone(),
            control: control.clone(),
            terminals: Vec::new(),
            parked: VecDeque::new(),
            answers: AnswerBudget {
                since: std::time::Instant::now(),
                spent: 0,
            },
            source: Source {
                screen,
                control,
                progress: Arc::new(Notify::new()),
                flow: Arc::new(Flow::new()),
                typed,
            },
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
            let limit = screen.history_limit();
            let keeps = opts.scrollback.unwrap_or(limit);
            let (_, rows) = screen.size();
            let after = (keeps <= limit).then_some(keeps + usize::from(rows));
            // A terminal that can be caught up, attached during a flood: it
            // starts flooded (frames of the screen), and its history comes
            // with the catch-up once the flood calms, rather than megabytes
            // of rows that the flood scrolls away again (a dozen panes of a
            // grid opened over a dozen floods).
            if after.is_some() && parked.is_none() && self.source.flow.flooded_lately(screen.mark()) {
                drop(screen);
                tracing::info!(session = %self.session, chan, "attached during a flood; its history comes once it calms");
                let mut terminal = Terminal::start(client, peer, chan, self.source.clone(), Mark::UNSEEN, after);
                terminal.answers = opts.queries.unwrap_or(true);
                terminal.shared.resyncing.store(true, Ordering::Release);
                let _ = terminal.tx.send(Out::CatchUp);
                self.terminals.push(terminal);
                return;
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
            (paint, screen.mark(), after)
        };
        let sent = parked.unwrap_or_default();
        let mut terminal = Terminal::start(client, peer, chan, self.source.clone(), sent, catch_up_after);
        terminal.answers = opts.queries.unwrap_or(true);
        let lines = memchr::memchr_iter(b'\n', &paint).count();
        terminal.queue(paint, lines, mark);
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

    /// A batch of `len` bytes waits its turn among [`parsers::PARSERS`] before
    /// [`Fanout::push`] takes it: this resolves when the turn comes. (The
    /// session serves its commands meanwhile.) A flood's batch counts as
    /// being taken in from now: a terminal is not caught up while the
    /// flood only waits for its turn.
    pub fn turn_for(&self, len: usize) -> Option<impl Future<Output = ParseTurn> + use<>> {
        if len >= FLOOD_BATCH {
            self.source.flow.parsing(true);
        }
        // (The semaphore is never closed.)
        (len > INLINE_PARSE).then_some(async { ParseTurn::take().await })
    }

    /// Parse `bytes` into the model and queue them for every terminal (but
    /// those too far behind, which are caught up); then wait while a
    /// terminal that cannot be caught up has [`HIGH_WATER`] queued. With no
    /// terminal, the model's answers to the program's queries go back to
    /// it. A batch that needs a parser's turn ([`Fanout::turn_for`]) comes
    /// with it.
    pub async fn push(&mut self, bytes: Vec<u8>, turn: Option<ParseTurn>) {
        self.drop_dead();
        let flood = bytes.len() >= FLOOD_BATCH;
        if flood {
            self.source.flow.parsing(true);
        }
        if bytes.len() > INLINE_PARSE {
            let _turn = match turn {
                Some(turn) => turn,
                None => ParseTurn::take().await,
            };
            cpu_bound(|| self.take_in(bytes));
        } else {
            self.take_in(bytes);
        }
        if flood {
            self.source.flow.parsing(false);
        }
        self.wait_for_room().await;
    }

    /// Parse `bytes` into the model and queue them (see [`Fanout::push`]).
    fn take_in(&mut self, bytes: Vec<u8>) {
        {
            let mut screen = sized(&self.screen, &self.control);
            // With no terminal that answers (none, or `lulu attach` only),
            // the model answers.
            if self.terminals.iter().all(|t| !t.answers) {
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
            self.source.flow.took_in(mark);
            let count = self.terminals.len();
            let (len, chunk_lines) = (bytes.len(), memchr::memchr_iter(b'\n', &bytes).count());
            let mut bytes = Some(bytes);
            for (index, terminal) in self.terminals.iter().enumerate() {
                if terminal.shared.resyncing.load(Ordering::Acquire) {
                    continue;
                }
                // Behind, counting this chunk: a flood's batch (megabytes,
                // once the session itself fell behind the program) goes
                // straight to a catch-up rather than through the editor.
                let behind = terminal.shared.backlog.load(Ordering::Acquire);
                let lines = terminal.shared.backlog_lines.load(Ordering::Acquire);
                let too_far = match terminal.catch_up_after {
                    Some(after) => behind + len > RESYNC_AFTER || lines + chunk_lines > after,
                    None => behind > RESYNC_AFTER,
                };
                if too_far {
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
                terminal.queue(chunk, chunk_lines, mark);
            }
        }
    }

    /// Wait while a terminal that cannot be caught up has [`HIGH_WATER`]
    /// queued.
    async fn wait_for_room(&mut self) {
        let progress = self.source.progress.clone();
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

    /// The most output the session should hand [`Fanout::push`] at once: a
    /// flood's whole backlog, unless a terminal that cannot be caught up
    /// without losing rows shows the session (it is fed the stream at its
    /// own pace, and a megabyte batch would put it past [`RESYNC_AFTER`]).
    pub fn batch_limit(&self) -> usize {
        if self.terminals.iter().any(|t| t.catch_up_after.is_none()) {
            super::session_task::BATCH_BYTES
        } else {
            crate::pty::AHEAD
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

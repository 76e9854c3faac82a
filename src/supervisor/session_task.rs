//! One task per live session: it owns the session's output (ring, and the
//! terminal channels that show it) and its stop timer. Its failures end only
//! this session; it talks to the supervisor through [`SessionEvent`]s.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep, sleep_until, timeout_at};

use super::fanout::{Fanout, SharedScreen};
use crate::api::AttachOpts;
use crate::api::{ClientId, Peer};
use crate::model::{ExitKind, SessionId};
use crate::pty::{Ended, Input, Output, PtyControl, Spawned};
use crate::screen::status::{Signs, Verdict};

mod reports;
use reports::{ScreenReading, Told};

/// Coalesce output up to this many bytes...
pub(super) const BATCH_BYTES: usize = 64 * 1024;
/// ...or for this long after the first byte, whichever comes first.
const BATCH_WINDOW: Duration = Duration::from_millis(4);
/// Output goes out as it is read (a keystroke's echo, a prompt, a
/// program's frame) until a burst (output with no pause of
/// [`QUIET_SPELL`]) has brought more than [`BURST_BYTES`]: from then on,
/// until the next pause, it is gathered (a flood).
const QUIET_SPELL: Duration = Duration::from_millis(30);
const BURST_BYTES: usize = 16 * 1024;
/// After the process exits, keep reading while output still arrives; a
/// grandchild that holds the PTY open must not keep the session live.
const EXIT_DRAIN_IDLE: Duration = Duration::from_millis(500);
/// How long a stop waits for the process before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// A process that has printed nothing yet counts as running after this.
const QUIET_START: Duration = Duration::from_millis(500);
/// Activity is reported at most this often.
const ACTIVITY_EVERY: Duration = Duration::from_secs(1);
/// How often the screen is read for what it says about the agent.
const SCREEN_EVERY: Duration = Duration::from_millis(250);
/// A screen that drew something and then held this long: the program
/// waits for input (a template's prompt can be typed).
const READY_QUIET: Duration = Duration::from_millis(600);
/// Output that stopped this long ago: the model gives back what it took
/// for it ([`crate::screen::Screen::compact`]).
const COMPACT_QUIET: Duration = Duration::from_secs(2);

pub enum SessionCmd {
    /// Show this session in a terminal channel of `client`: paint the
    /// screen model, then stream.
    Attach {
        client: ClientId,
        peer: Peer,
        chan: i64,
        opts: AttachOpts,
    },
    Detach {
        client: ClientId,
        chan: i64,
    },
    /// Every terminal of an editor that went away.
    DetachClient {
        client: ClientId,
    },
    /// SIGHUP and SIGTERM now, SIGKILL after [`STOP_GRACE`] (or at once).
    Stop {
        force: bool,
    },
    /// Reset the shell (Ctrl-C, `cd ~`, clear) and, once its prompt shows
    /// again, hand its PTY back for the pool; `None` when it does not come
    /// back within [`RECYCLE_WAIT`] (it is then stopped as usual).
    Recycle {
        /// Where the shell's output goes from the reset on (the pool's log;
        /// the session's log and screen keep what it showed).
        log: std::path::PathBuf,
        reply: oneshot::Sender<Option<Spawned>>,
    },
    /// Tests: make the task panic, to prove a panic fails only its session.
    #[cfg(test)]
    Panic,
}

/// How long a recycled shell may take to show its prompt again.
pub const RECYCLE_WAIT: Duration = Duration::from_secs(2);
/// Output that stops for this long after the reset is the prompt, drawn.
const PROMPT_QUIET: Duration = Duration::from_millis(300);

#[derive(Debug)]
pub enum SessionEvent {
    /// First output, or a quiet program still alive after a moment: it is up.
    Running(SessionId),
    Activity(SessionId),
    /// Every byte the program wrote has reached every attached channel.
    Exited(SessionId, ExitKind),
    /// The session's own task panicked (a lulu bug): it fails alone.
    Crashed(SessionId, String),
    /// What its screen has shown for a while (see [`crate::screen::status`]).
    Screen(SessionId, Verdict),
    /// Its screen drew and then held still: it waits for input (once).
    Ready(SessionId),
}

pub struct SessionTask {
    pub id: SessionId,
    pub spawned: Spawned,
    pub commands: mpsc::UnboundedReceiver<SessionCmd>,
    pub events: mpsc::UnboundedSender<SessionEvent>,
    pub screen: SharedScreen,
    /// What the agent's screen looks like when it waits or works.
    pub signs: Signs,
}

impl SessionTask {
    pub async fn run(self) {
        let quiet_start = Instant::now() + QUIET_START;
        let mut read_screen = tokio::time::interval(SCREEN_EVERY);
        read_screen.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut run = Run::new(self);
        while run.output_open || run.exit.is_none() {
            let (exit, told) = (run.exit.is_some(), &run.told);
            tokio::select! {
                Some(cmd) = run.task.commands.recv() => {
                    if let Some(reply) = run.command(cmd).await {
                        tracing::info!(session = %run.task.id, "shell reset; its pty goes back to the pool");
                        let _ = reply.send(Some(run.task.spawned));
                        return;
                    }
                }
                chunk = run.task.spawned.output.recv(), if run.output_open => run.output(chunk).await,
                status = &mut run.task.spawned.exit, if !exit => {
                    // A dropped sender means the waiter thread died; report it
                    // as a failure instead of waiting forever.
                    run.exit = Some(status.unwrap_or(ExitKind::Code(-1)));
                }
                _ = read_screen.tick(), if !run.task.signs.is_empty() && !exit => run.read_screen(),
                () = sleep_until(told.last_output.unwrap_or_else(Instant::now) + READY_QUIET),
                    if !told.ready && told.last_output.is_some() && !exit => run.told.ready(),
                () = sleep_until(quiet_start), if !told.running && !exit => run.told.running(),
                () = sleep_until(told.last_output.unwrap_or_else(Instant::now) + COMPACT_QUIET),
                    if !run.compacted && told.last_output.is_some() && !exit => run.compact(),
                () = sleep(EXIT_DRAIN_IDLE), if exit && run.output_open => {
                    tracing::info!(session = %run.task.id, "exited but its pty stays open; not waiting for it");
                    run.output_open = false;
                }
                () = sleep_until(run.kill_at.unwrap_or_else(Instant::now)), if run.kill_at.is_some() && !exit => {
                    tracing::info!(session = %run.task.id, "did not stop in time; SIGKILL");
                    run.task.spawned.control.signal(libc::SIGKILL);
                    run.kill_at = None;
                }
            }
        }
        run.finish().await;
    }
}

/// A session task's state while its program runs.
struct Run {
    task: SessionTask,
    fanout: Fanout,
    reading: ScreenReading,
    exit: Option<ExitKind>,
    output_open: bool,
    kill_at: Option<Instant>,
    told: Told,
    /// When the last output was read, and the bytes of its burst so far.
    burst: (Instant, usize),
    /// The model was compacted since the last output.
    compacted: bool,
}

impl Run {
    fn new(task: SessionTask) -> Run {
        let fanout = Fanout::new(task.id.clone(), task.screen.clone(), task.spawned.control.clone());
        let told = Told::new(task.id.clone(), task.events.clone());
        Run {
            task,
            fanout,
            reading: ScreenReading::default(),
            exit: None,
            output_open: true,
            kill_at: None,
            told,
            burst: (Instant::now(), 0),
            compacted: false,
        }
    }

    /// Serve a command; `Some(reply)` when a recycled shell is ready to go
    /// back to the pool (the caller hands over the PTY).
    async fn command(&mut self, cmd: SessionCmd) -> Option<oneshot::Sender<Option<Spawned>>> {
        let SessionCmd::Recycle { log: pool_log, reply } = cmd else {
            handle(cmd, &self.task.spawned.control, &mut self.fanout, &mut self.kill_at);
            return None;
        };
        let pty = &mut self.task.spawned;
        if self.exit.is_none() && recycled(&mut self.fanout, &pty.log, &pool_log, &pty.control, &mut pty.output).await {
            return Some(reply);
        }
        let _ = reply.send(None);
        None
    }

    /// Output read from the PTY (`None`: it closed) to the terminals and
    /// the screen; a flood's bytes gathered into batches.
    async fn output(&mut self, chunk: Option<Vec<u8>>) {
        let Some(mut batch) = chunk else {
            self.output_open = false;
            return;
        };
        if self.burst.0.elapsed() >= QUIET_SPELL {
            self.burst.1 = 0;
        }
        let quiet = self.burst.1 < BURST_BYTES;
        let pty = &mut self.task.spawned;
        self.output_open = coalesce(&mut pty.output, &mut batch, self.fanout.batch_limit(), quiet).await;
        self.burst = (Instant::now(), self.burst.1 + batch.len());
        let (commands, fanout) = (&mut self.task.commands, &mut self.fanout);
        pass_on(batch, commands, &pty.control, fanout, &mut self.kill_at).await;
        self.told.output();
        self.compacted = false;
    }

    /// Quiet for a while: the model and the allocator give memory back.
    fn compact(&mut self) {
        self.compacted = true;
        if self.task.screen.lock().unwrap_or_else(|p| p.into_inner()).compact() {
            crate::memory::give_back();
        }
    }

    fn read_screen(&mut self) {
        if let Some(verdict) = self.reading.read(&self.task.screen, &self.task.signs) {
            let _ = self
                .task
                .events
                .send(SessionEvent::Screen(self.task.id.clone(), verdict));
        }
    }

    /// Every byte is in every terminal before the status turns terminal.
    async fn finish(mut self) {
        self.fanout.flush().await;
        let exit = self.exit.unwrap_or(ExitKind::Code(-1));
        tracing::info!(session = %self.task.id, ?exit, "session ended");
        let _ = self.task.events.send(SessionEvent::Exited(self.task.id, exit));
        attach_until_forgotten(self.task.commands, self.fanout).await;
    }
}

/// A batch of output to every terminal and the screen. While a flood waits
/// for its turn to be parsed, commands (keys, resizes, attaches) are
/// served.
async fn pass_on(
    batch: Vec<u8>,
    commands: &mut mpsc::UnboundedReceiver<SessionCmd>,
    control: &PtyControl,
    fanout: &mut Fanout,
    kill_at: &mut Option<Instant>,
) {
    let flooding = batch.len() >= BATCH_BYTES;
    let turn = match fanout.turn_for(batch.len()) {
        Some(turn) => Some(serving(turn, commands, control, fanout, kill_at).await),
        None => None,
    };
    fanout.push(batch, turn).await;
    if flooding {
        // More is queued already: let the other tasks on this thread run
        // before taking it.
        tokio::task::yield_now().await;
    }
}

/// A pool shell given back: everything so far to its terminals, then its
/// output goes to the pool's log while the shell is reset. False (and the
/// session's own log again) if the reset did not take.
async fn recycled(
    fanout: &mut Fanout,
    log: &crate::pty::LogHandle,
    pool_log: &std::path::Path,
    control: &PtyControl,
    output: &mut Output,
) -> bool {
    fanout.flush().await;
    let own_log = log.path();
    log.switch_to(pool_log);
    if reset_shell(control, output).await {
        fanout.flush().await;
        return true;
    }
    log.switch_to(&own_log);
    let _ = std::fs::remove_file(pool_log);
    false
}

/// Until the supervisor has taken the exit in (and lets go of our
/// commands), a terminal may still attach: it gets the whole output.
async fn attach_until_forgotten(mut commands: mpsc::UnboundedReceiver<SessionCmd>, mut fanout: Fanout) {
    while let Some(cmd) = commands.recv().await {
        if let SessionCmd::Attach {
            client,
            peer,
            chan,
            opts,
        } = cmd
        {
            fanout.attach(client, peer, chan, opts);
            fanout.flush().await;
        }
    }
}

/// Wait for `turn` (a flood's batch waiting to be parsed, its turn among
/// a dozen), serving the session's commands meanwhile: a terminal that
/// attaches, a stop, never wait behind the other sessions' floods. (A
/// terminal attached meanwhile is painted from the model before the batch
/// is in it, and then gets the batch: nothing lost or doubled.)
async fn serving<T>(
    turn: impl Future<Output = T>,
    commands: &mut mpsc::UnboundedReceiver<SessionCmd>,
    control: &PtyControl,
    fanout: &mut Fanout,
    kill_at: &mut Option<Instant>,
) -> T {
    tokio::pin!(turn);
    loop {
        tokio::select! {
            biased;
            ready = &mut turn => return ready,
            Some(cmd) = commands.recv() => handle(cmd, control, fanout, kill_at),
        }
    }
}

fn handle(cmd: SessionCmd, control: &PtyControl, fanout: &mut Fanout, kill_at: &mut Option<Instant>) {
    match cmd {
        SessionCmd::Attach {
            client,
            peer,
            chan,
            opts,
        } => fanout.attach(client, peer, chan, opts),
        SessionCmd::Detach { client, chan } => fanout.detach(client, chan),
        SessionCmd::DetachClient { client } => fanout.detach_client(client),
        #[cfg(test)]
        SessionCmd::Panic => panic!("a test asked this session task to panic"),
        // Handled by the loop, which owns the output.
        SessionCmd::Recycle { reply, .. } => {
            let _ = reply.send(None);
        }
        SessionCmd::Stop { force } => {
            if force {
                control.signal(libc::SIGKILL);
            } else {
                control.signal(libc::SIGHUP);
                control.signal(libc::SIGTERM);
                kill_at.get_or_insert_with(|| Instant::now() + STOP_GRACE);
            }
        }
    }
}

/// Interrupt what runs, go home, clear; true once output came and then
/// held still (its prompt), within [`RECYCLE_WAIT`].
async fn reset_shell(control: &PtyControl, output: &mut Output) -> bool {
    control.write(Input::Bytes(b"\x03".to_vec()));
    control.write(Input::Pause(Duration::from_millis(50)));
    // The leading space keeps it out of the shell's history.
    control.write(Input::Bytes(format!(" cd ~ && {}\r", super::pool::CLEAR).into_bytes()));
    let deadline = Instant::now() + RECYCLE_WAIT;
    let mut seen = false;
    loop {
        let wait = if seen {
            PROMPT_QUIET
        } else {
            deadline.saturating_duration_since(Instant::now())
        };
        match tokio::time::timeout(wait, output.recv()).await {
            Ok(Some(_)) => {
                // The reset's own output is the pool's, not the session's.
                seen = true;
                if Instant::now() >= deadline {
                    return false;
                }
            }
            Ok(None) => return false,
            Err(_) => return seen,
        }
    }
}

/// Gather more output into `batch`: all that is queued already, up to
/// `limit` (a flood that outran the session is taken whole, so the screen
/// model can skip the rows no terminal could keep), then, while it is
/// under [`BATCH_BYTES`], what arrives within the window. Returns false
/// once the output has ended.
async fn coalesce(output: &mut Output, batch: &mut Vec<u8>, limit: usize, quiet: bool) -> bool {
    let deadline = Instant::now() + BATCH_WINDOW;
    loop {
        while batch.len() < limit {
            match output.try_recv() {
                Ok(Some(more)) => batch.extend_from_slice(&more),
                Ok(None) => break,
                Err(Ended) => return false,
            }
        }
        // Unless a flood is on, what is there goes now: no timer either (a
        // timer elapses on the next millisecond's tick at the soonest).
        if quiet || batch.len() >= BATCH_BYTES {
            return true;
        }
        match timeout_at(deadline, output.recv()).await {
            Ok(Some(more)) => batch.extend_from_slice(&more),
            Ok(None) => return false,
            Err(_) => return true,
        }
    }
}

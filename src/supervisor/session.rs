//! One task per live session: it owns the session's output (ring, and the
//! terminal channels that show it) and its stop timer. Its failures end only
//! this session; it talks to the supervisor through [`SessionEvent`]s.

use std::collections::VecDeque;
use std::time::Duration;

use rmpv::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout_at};

use crate::model::{ExitKind, SessionId};
use crate::pty::{PtyControl, Spawned};
use crate::ring::Ring;
use crate::rpc::{ClientId, Peer};

/// Coalesce output up to this many bytes...
const BATCH_BYTES: usize = 64 * 1024;
/// ...or for this long after the first byte, whichever comes first.
const BATCH_WINDOW: Duration = Duration::from_millis(4);
/// After the process exits, keep reading while output still arrives; a
/// grandchild that holds the PTY open must not keep the session live.
const EXIT_DRAIN_IDLE: Duration = Duration::from_millis(500);
/// How long a stop waits for the process before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// A process that has printed nothing yet counts as running after this.
const QUIET_START: Duration = Duration::from_millis(500);
/// Activity is reported at most this often.
const ACTIVITY_EVERY: Duration = Duration::from_secs(1);
/// Output chunks a terminal channel may have in flight (written, not yet
/// acknowledged). Two keep the editor busy while the next chunk is on its
/// way, and bound what it can have queued from one session.
const IN_FLIGHT: usize = 2;

pub enum SessionCmd {
    /// Show this session in a terminal channel of `client`: replay the ring,
    /// then stream.
    Attach {
        client: ClientId,
        peer: Peer,
        chan: i64,
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
    /// Tests: make the task panic, to prove a panic fails only its session.
    #[cfg(test)]
    Panic,
}

#[derive(Debug)]
pub enum SessionEvent {
    /// First output, or a quiet program still alive after a moment: it is up.
    Running(SessionId),
    Activity(SessionId),
    /// Every byte the program wrote has reached every attached channel.
    Exited(SessionId, ExitKind),
    /// The session's own task panicked (a lulu bug): it fails alone.
    Crashed(SessionId, String),
}

/// A terminal channel showing this session, with the acknowledgements of
/// its in-flight chunks, oldest first.
struct Attachment {
    client: ClientId,
    peer: Peer,
    chan: i64,
    acks: VecDeque<JoinHandle<bool>>,
}

impl Attachment {
    /// Queue `bytes` for the terminal, first waiting while [`IN_FLIGHT`]
    /// chunks are unacknowledged. False when the connection is gone.
    async fn send(&mut self, bytes: Vec<u8>) -> bool {
        while self.acks.len() >= IN_FLIGHT {
            if !self.wait_oldest().await {
                return false;
            }
        }
        let Some(permit) = self.peer.out.reserve(bytes.len()).await else {
            return false;
        };
        let args = vec![Value::from(self.chan), Value::Binary(bytes)];
        if !self.peer.out.notify("nvim_chan_send", args) {
            return false;
        }
        // The editor handles a channel's messages in order, so the reply to a
        // request queued after the chunk means the chunk is in the buffer.
        let nvim = self.peer.nvim.clone();
        self.acks.push_back(tokio::spawn(async move {
            let acked = matches!(nvim.call("nvim_get_current_buf", vec![]).await, Ok(Ok(_)));
            drop(permit);
            acked
        }));
        true
    }

    async fn wait_oldest(&mut self) -> bool {
        match self.acks.pop_front() {
            Some(ack) => ack.await.unwrap_or(false),
            None => true,
        }
    }

    /// Wait until everything sent has reached the terminal.
    async fn flush(&mut self) -> bool {
        while !self.acks.is_empty() {
            if !self.wait_oldest().await {
                return false;
            }
        }
        true
    }
}

pub struct SessionTask {
    pub id: SessionId,
    pub spawned: Spawned,
    pub commands: mpsc::UnboundedReceiver<SessionCmd>,
    pub events: mpsc::UnboundedSender<SessionEvent>,
    pub scrollback: usize,
}

impl SessionTask {
    pub async fn run(self) {
        let SessionTask {
            id,
            spawned,
            mut commands,
            events,
            scrollback,
        } = self;
        let Spawned {
            mut output,
            exit: mut exit_rx,
            control,
            ..
        } = spawned;
        let mut ring = Ring::new(scrollback);
        let mut attached: Vec<Attachment> = Vec::new();
        let mut exit: Option<ExitKind> = None;
        let mut output_open = true;
        let mut kill_at: Option<Instant> = None;
        let mut reported_running = false;
        let quiet_start = Instant::now() + QUIET_START;
        let mut last_activity = Instant::now() - ACTIVITY_EVERY;

        while output_open || exit.is_none() {
            tokio::select! {
                Some(cmd) = commands.recv() => {
                    handle(cmd, &id, &control, &ring, &mut attached, &mut kill_at).await;
                }
                chunk = output.recv(), if output_open => {
                    let Some(mut batch) = chunk else {
                        output_open = false;
                        continue;
                    };
                    output_open = coalesce(&mut output, &mut batch).await;
                    ring.push(&batch);
                    push(&id, &mut attached, batch).await;
                    if !reported_running {
                        reported_running = true;
                        let _ = events.send(SessionEvent::Running(id.clone()));
                    }
                    if last_activity.elapsed() >= ACTIVITY_EVERY {
                        last_activity = Instant::now();
                        let _ = events.send(SessionEvent::Activity(id.clone()));
                    }
                }
                status = &mut exit_rx, if exit.is_none() => {
                    // A dropped sender means the waiter thread died; report it
                    // as a failure instead of waiting forever.
                    exit = Some(status.unwrap_or(ExitKind::Code(-1)));
                }
                () = sleep_until(quiet_start), if !reported_running && exit.is_none() => {
                    reported_running = true;
                    let _ = events.send(SessionEvent::Running(id.clone()));
                }
                () = sleep(EXIT_DRAIN_IDLE), if exit.is_some() && output_open => {
                    tracing::info!(session = %id, "exited but its pty stays open; not waiting for it");
                    output_open = false;
                }
                () = sleep_until(kill_at.unwrap_or_else(Instant::now)), if kill_at.is_some() && exit.is_none() => {
                    tracing::info!(session = %id, "did not stop in time; SIGKILL");
                    control.signal(libc::SIGKILL);
                    kill_at = None;
                }
            }
        }
        // Every byte is in every terminal before the status turns terminal.
        for a in &mut attached {
            a.flush().await;
        }
        let exit = exit.unwrap_or(ExitKind::Code(-1));
        tracing::info!(session = %id, ?exit, "session ended");
        let _ = events.send(SessionEvent::Exited(id, exit));
    }
}

async fn handle(
    cmd: SessionCmd,
    id: &SessionId,
    control: &PtyControl,
    ring: &Ring,
    attached: &mut Vec<Attachment>,
    kill_at: &mut Option<Instant>,
) {
    match cmd {
        SessionCmd::Attach { client, peer, chan } => {
            attached.retain(|a| !(a.client == client && a.chan == chan));
            let mut fresh = vec![Attachment {
                client,
                peer,
                chan,
                acks: VecDeque::new(),
            }];
            let replay = ring.contents();
            if !replay.is_empty() {
                push(id, &mut fresh, replay).await;
            }
            attached.append(&mut fresh);
        }
        SessionCmd::Detach { client, chan } => {
            attached.retain(|a| !(a.client == client && a.chan == chan));
        }
        SessionCmd::DetachClient { client } => {
            attached.retain(|a| a.client != client);
        }
        #[cfg(test)]
        SessionCmd::Panic => panic!("a test asked this session task to panic"),
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

/// Gather more output into `batch` until it is big enough or the window
/// closes. Returns false once the output channel has closed.
async fn coalesce(output: &mut mpsc::Receiver<Vec<u8>>, batch: &mut Vec<u8>) -> bool {
    let deadline = Instant::now() + BATCH_WINDOW;
    while batch.len() < BATCH_BYTES {
        match output.try_recv() {
            Ok(more) => {
                batch.extend_from_slice(&more);
                continue;
            }
            Err(mpsc::error::TryRecvError::Disconnected) => return false,
            Err(mpsc::error::TryRecvError::Empty) => {}
        }
        match timeout_at(deadline, output.recv()).await {
            Ok(Some(more)) => batch.extend_from_slice(&more),
            Ok(None) => return false,
            Err(_) => break,
        }
    }
    true
}

/// Write `bytes` to every attached terminal channel, within each one's
/// in-flight budget: that wait is the back-pressure that bounds the editor's
/// memory. A channel whose connection is gone is dropped; a wiped buffer
/// detaches itself (the editor sends `session_detach`).
async fn push(id: &SessionId, attached: &mut Vec<Attachment>, bytes: Vec<u8>) {
    let mut index = 0;
    let mut bytes = Some(bytes);
    while index < attached.len() {
        // Usually one terminal: it gets the buffer itself, not a copy.
        let chunk = if index + 1 == attached.len() {
            bytes.take().unwrap_or_default()
        } else {
            bytes.clone().unwrap_or_default()
        };
        if attached[index].send(chunk).await {
            index += 1;
        } else {
            tracing::info!(session = %id, chan = attached[index].chan, "editor connection lost; detaching");
            attached.remove(index);
        }
    }
}

//! The supervisor's handle: what the RPC connections, the hook bridge and
//! the daemon hold to reach it. Requests and notifications go through its
//! channel; keystrokes, typed lines, resizes and screen reads go straight
//! to the live session's controls, never queued behind the loop.

use super::*;

/// What everyone else holds to talk to the supervisor.
#[derive(Clone)]
pub struct SupervisorHandle {
    pub(super) tx: mpsc::UnboundedSender<Command>,
    /// Live sessions' PTY controls: input and resizes go straight there.
    pub(super) controls: controls::Controls,
}

impl SupervisorHandle {
    pub async fn request(&self, client: ClientId, peer: Peer, request: Request) -> anyhow::Result<Payload> {
        self.ask(client, peer, request).await
    }

    /// The request is queued now (so requests reach the supervisor in the
    /// order they are asked); the future waits for its answer.
    pub fn ask(
        &self,
        client: ClientId,
        peer: Peer,
        request: Request,
    ) -> impl std::future::Future<Output = anyhow::Result<Payload>> + Send + 'static {
        let (reply, rx) = oneshot::channel();
        let sent = self
            .tx
            .send(Command::Request {
                client,
                peer,
                request: Box::new(request),
                reply: Some(reply),
            })
            .is_ok();
        async move {
            if !sent {
                return Err(anyhow!("lulu host is shutting down"));
            }
            rx.await.map_err(|_| anyhow!("lulu host is shutting down"))?
        }
    }

    /// The hook server's way in: its questions become commands.
    pub fn questions(&self) -> crate::hook::questions::Questions {
        crate::hook::questions::Questions::new(self.clone())
    }

    /// Tests: make a session's task panic.
    #[cfg(test)]
    pub(crate) fn panic_session(&self, session: &SessionId) {
        let _ = self.tx.send(Command::PanicSession(session.clone()));
    }

    /// Keystrokes, a typed line or a resize for a live session, applied at
    /// once on the caller's task (never queued behind the supervisor's
    /// work); a keystroke's bytes go to the PTY as they came, not copied.
    /// The request back when it is not one, or the session is not live (the
    /// supervisor then answers, with the reason).
    pub fn direct(&self, request: Request) -> Result<anyhow::Result<Payload>, Request> {
        let session = match &request {
            Request::Write { session, .. }
            | Request::Send { session, .. }
            | Request::Resize { session, .. }
            | Request::Screen { session, .. } => session,
            _ => return Err(request),
        };
        let Some(handle) = self.controls.get(session) else {
            return Err(request);
        };
        let result = match request {
            Request::Write { bytes, .. } => {
                handle.control.write(Input::Bytes(bytes));
                Ok(Payload::NIL)
            }
            Request::Send { text, .. } => {
                handle.send(&text);
                Ok(Payload::NIL)
            }
            Request::Resize { cols, rows, .. } => {
                return Ok(handle
                    .control
                    .resize(cols, rows)
                    .context("resize failed")
                    .map(|()| Payload::NIL));
            }
            Request::Screen { rows, .. } => {
                let mut screen = fanout::lock(&handle.screen);
                let (cols, height) = handle.control.size();
                screen.resize(cols, height);
                return Ok(Ok(Payload::of(&screen.text(rows))));
            }
            other => return Err(other),
        };
        // Typing clears "waiting" and counts as activity: the supervisor's
        // business, but nobody waits for it.
        let _ = self.tx.send(Command::Typed(handle.id));
        Ok(result)
    }

    /// An attach to a live session sizes its PTY here, in the order its
    /// connection sent it (as a resize is), not later from the
    /// supervisor's queue, where a resize the editor sent after it would
    /// be overtaken by it. (The session's task paints at the PTY's size
    /// when it takes the attach in.)
    pub fn size_first(&self, request: &mut Request) {
        if let Request::Attach { session, size, .. } = request
            && let Some((cols, rows)) = *size
            && let Some(handle) = self.controls.get(session)
            && handle.control.resize(cols, rows).is_ok()
        {
            *size = None;
        }
    }

    pub fn notify(&self, client: ClientId, peer: Peer, request: Request) {
        let _ = self.tx.send(Command::Request {
            client,
            peer,
            request: Box::new(request),
            reply: None,
        });
    }

    /// Stop every session (SIGHUP, SIGKILL after the grace period), record
    /// how they ended, and return once all are reaped.
    pub async fn shutdown(&self) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Command::Shutdown(done)).is_ok() {
            let _ = rx.await;
        }
    }
}

impl crate::hook::questions::Answerer for SupervisorHandle {
    fn take(&self, question: crate::hook::questions::Question) {
        let command = match question {
            crate::hook::questions::Question::Ask { ticket, request, reply } => {
                Command::Hook { ticket, request, reply }
            }
            crate::hook::questions::Question::Gone(ticket) => Command::HookGone(ticket),
        };
        let _ = self.tx.send(command);
    }
}

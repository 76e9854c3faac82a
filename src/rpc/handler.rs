//! The nvim-rs `Handler`: decode, forward to the supervisor, reply. It never
//! does the work itself, because nvim-rs reads nothing else until a
//! notification handler returns.

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::{self, BoxFuture, FutureExt};
use nvim_rs::Handler;
use rmpv::Value;

use super::framing::{InFlight, MAX_IN_FLIGHT};
use super::protocol::{self, ErrorCode, Request};
use super::{Caller, ClientId, Connection, Nvim, Outgoing, Peer};
use crate::supervisor::SupervisorHandle;

#[derive(Clone)]
pub struct RpcHandler {
    client: ClientId,
    out: Outgoing,
    supervisor: SupervisorHandle,
    /// The connected process (`None` on stdio: the editor that started us).
    peer_pid: Option<u32>,
    /// Requests being served for this connection (counted in by the reader).
    in_flight: Arc<InFlight>,
    /// This editor's preview of a session's screen (`session_watch`).
    watch: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
    /// What the editor calls this host (its hello's `tag`).
    tag: Arc<std::sync::Mutex<Option<Arc<str>>>>,
    /// Room for calls being served (requests sent as notifications).
    calls: Arc<tokio::sync::Semaphore>,
}

impl RpcHandler {
    pub fn new(
        client: ClientId,
        out: Outgoing,
        supervisor: SupervisorHandle,
        peer_pid: Option<u32>,
        in_flight: Arc<InFlight>,
    ) -> RpcHandler {
        RpcHandler {
            client,
            out,
            supervisor,
            peer_pid,
            in_flight,
            watch: Arc::default(),
            tag: Arc::default(),
            calls: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// Watch `session`'s screen instead of whatever was watched.
    fn watch(&self, nvim: Nvim, request: &Request) -> bool {
        let Request::Watch { session, rows } = request else {
            return false;
        };
        let mut watch = self.watch.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = watch.take() {
            old.abort();
        }
        if let Some(session) = session {
            let peer = self.peer(nvim, request);
            *watch = Some(self.supervisor.watch(self.client, peer, session.clone(), *rows));
        }
        true
    }

    fn peer(&self, nvim: Nvim, request: &Request) -> Peer {
        let tag = {
            let mut tag = self.tag.lock().unwrap_or_else(|p| p.into_inner());
            if let Request::Hello(hello) = request {
                *tag = hello.tag.as_deref().filter(|t| t.len() <= 64).map(Arc::from);
            }
            tag.clone()
        };
        // Only requests that an editor alone may make pay for the look-up.
        let ancestry = match self.peer_pid {
            Some(pid) if request.editor_only() => crate::proctree::ancestry(pid).into(),
            _ => Default::default(),
        };
        Connection {
            nvim,
            out: self.out.clone(),
            tag,
        }
        .peer(Caller {
            pid: self.peer_pid,
            ancestry,
        })
    }
}

/// Counts a request out when its handling ends, however it ends.
struct Done<'a>(&'a InFlight);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.done();
    }
}

#[async_trait]
impl Handler for RpcHandler {
    type Writer = Outgoing;

    async fn handle_request(&self, name: String, args: Vec<Value>, nvim: Nvim) -> Result<Value, Value> {
        let _done = Done(&self.in_flight);
        self.begin(name, args, nvim).await
    }

    async fn handle_notify(&self, name: String, args: Vec<Value>, nvim: Nvim) {
        if name == "nvim_error_event" {
            // Neovim's answer to a notification of ours that failed.
            tracing::warn!(?args, "editor reported an error");
            return;
        }
        if name == protocol::CALL {
            return self.call(args, nvim).await;
        }
        // Keystrokes and resizes arrive as notifications: nobody waits for
        // them, so errors (a session that just ended) are only logged.
        match protocol::decode(&name, args) {
            Ok(mut request) => {
                self.supervisor.size_first(&mut request);
                let Err(request) = self.supervisor.direct(request) else {
                    return;
                };
                if self.watch(nvim.clone(), &request) {
                    return;
                }
                let peer = self.peer(nvim, &request);
                self.supervisor.notify(self.client, peer, request);
            }
            Err(err) => tracing::info!(method = %name, %err, "bad notification"),
        }
    }
}

impl RpcHandler {
    /// A request's answer, or its error as `[code, message]`: decided, or
    /// queued for the supervisor, now (so a connection's requests reach it
    /// in the order they came); the future waits for the answer.
    fn begin(&self, name: String, args: Vec<Value>, nvim: Nvim) -> BoxFuture<'static, Result<Value, Value>> {
        let failed = |err: anyhow::Error| protocol::error_value(ErrorCode::Failed, &crate::errors::wire_message(&err));
        let mut request = match protocol::decode(&name, args) {
            Ok(request) => request,
            Err(err) => {
                tracing::info!(method = %name, %err, "bad request");
                return future::ready(Err(protocol::error_value(ErrorCode::BadRequest, &err.to_string()))).boxed();
            }
        };
        self.supervisor.size_first(&mut request);
        let request = match self.supervisor.direct(request) {
            Ok(result) => return future::ready(result.map(protocol::from_payload).map_err(failed)).boxed(),
            Err(request) => request,
        };
        if self.watch(nvim.clone(), &request) {
            return future::ready(Ok(Value::Nil)).boxed();
        }
        let peer = self.peer(nvim, &request);
        let answer = self.supervisor.ask(self.client, peer, request);
        async move { answer.await.map(protocol::from_payload).map_err(failed) }.boxed()
    }

    /// A request sent as a notification ([`protocol::CALL`]): served like a
    /// request, its answer sent back as a `reply` event with its ticket, so
    /// the editor never waits for it. At most [`MAX_IN_FLIGHT`] per
    /// connection: the next waits here, and the connection's reading with
    /// it, as a request beyond the limit would.
    async fn call(&self, args: Vec<Value>, nvim: Nvim) {
        let protocol::Call { ticket, method, args } = match protocol::call(args) {
            Ok(call) => call,
            Err(protocol::BadCall { ticket, error }) => {
                tracing::info!(%error, "bad call");
                if let Some(ticket) = ticket {
                    let error = protocol::error_value(ErrorCode::BadRequest, &error.to_string());
                    self.reply(&nvim, ticket, Err(error));
                }
                return;
            }
        };
        let Ok(permit) = self.calls.clone().acquire_owned().await else {
            return;
        };
        // Begun here, in the order the calls came; answered when it is.
        let answer = self.begin(method, args, nvim.clone());
        let this = self.clone();
        tokio::spawn(async move {
            let answer = answer.await;
            this.reply(&nvim, ticket, answer);
            drop(permit);
        });
    }

    fn reply(&self, nvim: &Nvim, ticket: u64, answer: Result<Value, Value>) {
        let field = match answer {
            Ok(result) => ("result", result),
            // `[code, message]`: the message (it carries its code).
            Err(Value::Array(mut error)) if error.len() == 2 => ("error", error.remove(1)),
            Err(other) => ("error", other),
        };
        let payload = Value::Map(vec![
            (Value::from("ticket"), Value::from(ticket)),
            (Value::from(field.0), field.1),
        ]);
        let tag = self.tag.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let connection = Connection {
            nvim: nvim.clone(),
            out: self.out.clone(),
            tag,
        };
        connection.emit_value(protocol::Event::Reply, payload);
    }
}

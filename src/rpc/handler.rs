//! The nvim-rs `Handler`: decode, forward to the supervisor, reply. It never
//! does the work itself, because nvim-rs reads nothing else until a
//! notification handler returns.

use std::sync::Arc;

use async_trait::async_trait;
use nvim_rs::Handler;
use rmpv::Value;

use super::framing::InFlight;
use super::protocol::{self, ErrorCode, Request};
use super::{Caller, ClientId, Nvim, Outgoing, Peer};
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
        Peer {
            nvim,
            out: self.out.clone(),
            caller: Caller {
                pid: self.peer_pid,
                ancestry,
            },
            tag,
        }
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
        let mut request = protocol::decode(&name, args).map_err(|err| {
            tracing::info!(method = %name, %err, "bad request");
            protocol::error_value(ErrorCode::BadRequest, &err.to_string())
        })?;
        self.supervisor.size_first(&mut request);
        if self.watch(nvim.clone(), &request) {
            return Ok(Value::Nil);
        }
        if let Some(result) = self.supervisor.direct(&request) {
            return result.map_err(|err| protocol::error_value(ErrorCode::Failed, &crate::errors::wire_message(&err)));
        }
        let peer = self.peer(nvim, &request);
        self.supervisor
            .request(self.client, peer, request)
            .await
            .map_err(|err| protocol::error_value(ErrorCode::Failed, &crate::errors::wire_message(&err)))
    }

    async fn handle_notify(&self, name: String, args: Vec<Value>, nvim: Nvim) {
        if name == "nvim_error_event" {
            // Neovim's answer to a notification of ours that failed.
            tracing::warn!(?args, "editor reported an error");
            return;
        }
        // Keystrokes and resizes arrive as notifications: nobody waits for
        // them, so errors (a session that just ended) are only logged.
        match protocol::decode(&name, args) {
            Ok(mut request) => {
                self.supervisor.size_first(&mut request);
                if self.watch(nvim.clone(), &request) || self.supervisor.direct(&request).is_some() {
                    return;
                }
                let peer = self.peer(nvim, &request);
                self.supervisor.notify(self.client, peer, request);
            }
            Err(err) => tracing::info!(method = %name, %err, "bad notification"),
        }
    }
}

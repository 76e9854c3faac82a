//! The msgpack-RPC side: decoding requests ([`protocol`]), answering them
//! ([`handler`]), and one [`Client`] per connected editor.
//!
//! The handler serves any byte stream: today Neovim's stdio, later a daemon
//! socket. Everything that belongs to one connection (its event queue, which
//! terminal channels it shows) lives in its `Client`, apart from sessions.

pub mod framing;
pub mod handler;
pub mod outgoing;
pub mod protocol;

use std::sync::Arc;

use nvim_rs::Neovim;
use rmpv::Value;

pub use crate::api::{Caller, Client, ClientId, Peer};
use crate::api::{Event, Link, Payload, Pending};
pub use outgoing::Outgoing;

/// Every transport writes through an [`Outgoing`] queue, so every connection
/// has this one type.
pub type Nvim = Neovim<Outgoing>;

/// One connection's link, as the core sends through it: requests (which
/// wait for the editor's reply) through `nvim`, notifications through
/// `out`, both on the same ordered queue.
pub struct Connection {
    pub nvim: Nvim,
    pub out: Outgoing,
    /// The name the editor gave this host in its hello (a remote host's
    /// name in its config), sent back with every event so that an editor
    /// with several hosts knows whose it is.
    pub tag: Option<Arc<str>>,
}

/// Lua code run for every event; `...` is `(name, payload)`.
pub const DISPATCH: &str = "require('lulu.events').dispatch(...)";

impl Connection {
    /// The connection as a [`Peer`] serving a request from `caller`.
    pub fn peer(self, caller: Caller) -> Peer {
        Peer {
            link: Arc::new(self),
            caller,
        }
    }
}

impl Link for Connection {
    fn chan_send(&self, chan: i64, bytes: Vec<u8>) -> bool {
        self.out
            .notify("nvim_chan_send", vec![Value::from(chan), Value::Binary(bytes)])
    }

    fn reserve(&self, bytes: usize) -> Pending<Option<tokio::sync::OwnedSemaphorePermit>> {
        let out = self.out.clone();
        Box::pin(async move { out.reserve(bytes).await })
    }

    fn handled(&self) -> Pending<bool> {
        // The editor handles a channel's messages in order, so the reply to
        // a request queued after them means they are handled.
        let nvim = self.nvim.clone();
        Box::pin(async move { matches!(nvim.call("nvim_get_current_buf", vec![]).await, Ok(Ok(_))) })
    }

    fn emit(&self, event: Event, payload: Payload) -> bool {
        self.emit_value(event, protocol::from_payload(payload))
    }
}

impl Connection {
    /// An event whose payload is already encoded.
    pub fn emit_value(&self, event: Event, payload: Value) -> bool {
        let mut args = vec![Value::from(event.name()), payload];
        if let Some(tag) = &self.tag {
            args.push(Value::from(&**tag));
        }
        let args = Value::Array(args);
        self.out.notify("nvim_exec_lua", vec![Value::from(DISPATCH), args])
    }
}

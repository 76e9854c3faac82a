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
pub mod reply;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nvim_rs::Neovim;
use rmpv::Value;

pub use outgoing::Outgoing;

/// Every transport writes through an [`Outgoing`] queue, so every connection
/// has this one type.
pub type Nvim = Neovim<Outgoing>;

/// One connection, as the rest of the host uses it: requests (which wait for
/// the editor's reply) through `nvim`, notifications through `out`, both on
/// the same ordered queue.
#[derive(Clone)]
pub struct Peer {
    pub nvim: Nvim,
    pub out: Outgoing,
    /// Who sent the request being served.
    pub caller: Caller,
    /// The name the editor gave this host in its hello (a remote host's
    /// name in its config), sent back with every event so that an editor
    /// with several hosts knows whose it is.
    pub tag: Option<Arc<str>>,
}

/// The process at the other end of a connection, for the requests only an
/// editor may make (answering approvals, changing rules).
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// From `SO_PEERCRED`; `None` for the editor on stdio that started an
    /// embedded host (its parent: trusted).
    pub pid: Option<u32>,
    /// The caller and its ancestors, read when the request needs them.
    pub ancestry: std::sync::Arc<[crate::proctree::ProcIds]>,
}

impl Caller {
    /// How a decision by this caller is recorded.
    pub fn describe(&self, client: ClientId) -> String {
        match self.pid {
            Some(pid) => format!("user (editor {}, pid {pid})", client.0),
            None => format!("user (editor {})", client.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientId(u64);

impl ClientId {
    pub fn next() -> ClientId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ClientId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Lua code run for every event; `...` is `(name, payload)`.
pub const DISPATCH: &str = "require('lulu.events').dispatch(...)";

/// One connected editor.
#[derive(Clone)]
pub struct Client {
    pub id: ClientId,
    pub peer: Peer,
}

impl Client {
    /// Events are notifications: they reach the editor in the order they were
    /// emitted, after any output queued before them.
    /// False once the connection is gone.
    pub fn emit(&self, event: protocol::Event, payload: Value) -> bool {
        let mut args = vec![Value::from(event.name()), payload];
        if let Some(tag) = &self.peer.tag {
            args.push(Value::from(&**tag));
        }
        let args = Value::Array(args);
        self.peer.out.notify("nvim_exec_lua", vec![Value::from(DISPATCH), args])
    }
}

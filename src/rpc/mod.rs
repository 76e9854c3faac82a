//! The msgpack-RPC side: decoding requests ([`protocol`]), answering them
//! ([`handler`]), and one [`Client`] per connected editor.
//!
//! The handler serves any byte stream: today Neovim's stdio, later a daemon
//! socket. Everything that belongs to one connection (its event queue, which
//! terminal channels it shows) lives in its `Client`, apart from sessions.

pub mod handler;
pub mod protocol;

use std::sync::atomic::{AtomicU64, Ordering};

use nvim_rs::Neovim;
use rmpv::Value;
use tokio::sync::mpsc;

/// The write half of one connection, type-erased so every transport yields
/// the same `Nvim` type.
pub type Writer = Box<dyn futures::io::AsyncWrite + Send + Unpin>;
pub type Nvim = Neovim<Writer>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientId(u64);

impl ClientId {
    pub fn next() -> ClientId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ClientId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Lua code run for every event; `...` is `(name, payload)`.
const DISPATCH: &str = "return require('lulu.events').dispatch(...)";

/// One connected editor.
#[derive(Clone)]
pub struct Client {
    pub id: ClientId,
    pub nvim: Nvim,
    events: mpsc::UnboundedSender<(&'static str, Value)>,
}

impl Client {
    /// Start the client's event pump: events reach the editor one at a time,
    /// in the order they were emitted (each waits for the previous reply).
    pub fn new(id: ClientId, nvim: Nvim) -> Client {
        let (tx, mut rx) = mpsc::unbounded_channel::<(&'static str, Value)>();
        let pump = nvim.clone();
        tokio::spawn(async move {
            while let Some((name, payload)) = rx.recv().await {
                let args = Value::Array(vec![Value::from(name), payload]);
                match pump
                    .call("nvim_exec_lua", vec![Value::from(DISPATCH), args])
                    .await
                {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => tracing::warn!(event = name, %err, "editor rejected event"),
                    // The connection is gone; the handler notices and says so.
                    Err(_) => break,
                }
            }
        });
        Client {
            id,
            nvim,
            events: tx,
        }
    }

    pub fn emit(&self, name: &'static str, payload: Value) {
        let _ = self.events.send((name, payload));
    }
}

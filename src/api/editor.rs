//! An editor as the core sees it: who it is ([`ClientId`], [`Caller`]) and
//! what can be sent to it ([`Link`]: terminal output, within its window,
//! and events). `rpc/` implements the link over msgpack-RPC; the core never
//! sees the wire.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::OwnedSemaphorePermit;

use super::{Event, Payload};

/// A future the link returns (boxed: the trait is used as an object).
pub type Pending<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the core may send one connected editor.
pub trait Link: Send + Sync {
    /// Queue terminal output for the editor's channel `chan`. False once
    /// the connection is gone.
    fn chan_send(&self, chan: i64, bytes: Vec<u8>) -> bool;
    /// Room for `bytes` of terminal output in what the editor may have
    /// queued (its output window); `None` once the connection is gone.
    fn reserve(&self, bytes: usize) -> Pending<Option<OwnedSemaphorePermit>>;
    /// Resolves once the editor has handled everything queued before it:
    /// true, or false when the connection is gone.
    fn handled(&self) -> Pending<bool>;
    /// Queue an event, after anything queued before it. False once the
    /// connection is gone.
    fn emit(&self, event: Event, payload: Payload) -> bool;
}

/// One connection, as the core uses it: where to send, and who asked.
#[derive(Clone)]
pub struct Peer {
    pub link: Arc<dyn Link>,
    /// Who sent the request being served.
    pub caller: Caller,
}

/// The process at the other end of a connection, for the requests only an
/// editor may make (answering approvals, changing rules).
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// From `SO_PEERCRED`; `None` for the editor on stdio that started an
    /// embedded host (its parent: trusted).
    pub pid: Option<u32>,
    /// The caller and its ancestors, read when the request needs them.
    pub ancestry: Arc<[crate::proctree::ProcIds]>,
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

/// One connected editor.
#[derive(Clone)]
pub struct Client {
    pub id: ClientId,
    pub peer: Peer,
}

impl Client {
    /// Events are notifications: they reach the editor in the order they
    /// were emitted, after any output queued before them. False once the
    /// connection is gone.
    pub fn emit(&self, event: Event, payload: Payload) -> bool {
        self.peer.link.emit(event, payload)
    }
}

/// A link to no editor: what it is sent goes nowhere (the supervisor's
/// own tests; a request that no editor made).
pub struct Nowhere;

impl Link for Nowhere {
    fn chan_send(&self, _chan: i64, _bytes: Vec<u8>) -> bool {
        true
    }

    fn reserve(&self, _bytes: usize) -> Pending<Option<OwnedSemaphorePermit>> {
        Box::pin(async { Arc::new(tokio::sync::Semaphore::new(1)).try_acquire_owned().ok() })
    }

    fn handled(&self) -> Pending<bool> {
        Box::pin(async { true })
    }

    fn emit(&self, _event: Event, _payload: Payload) -> bool {
        true
    }
}

impl Peer {
    /// A peer that is no editor.
    pub fn nowhere() -> Peer {
        Peer {
            link: Arc::new(Nowhere),
            caller: Caller::default(),
        }
    }
}

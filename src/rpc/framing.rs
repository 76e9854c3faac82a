//! Message boundaries, found before anything is decoded, so that a client
//! cannot make the host hold or parse more than a bounded message.
//!
//! nvim-rs decodes from the start of its buffer after every read until a
//! message is whole, so one 100 MB string costs minutes, and an array of
//! millions of nils becomes millions of `Value`s. [`Framed`] sits in front
//! of it: a streaming scan of the msgpack structure (one counter of values
//! still to come, no decoding) passes on only whole messages, refuses one
//! over [`MAX_MESSAGE_BYTES`] or [`MAX_MESSAGE_VALUES`] without keeping its
//! bytes (a request gets an error reply naming the limit), and goes on with
//! the next message.
//!
//! It is also where a connection's requests are held back: once
//! [`MAX_IN_FLIGHT`] of them are being served, no more are passed on (and so
//! no more read from the socket) until one is answered. A client that
//! pipelines requests faster than they are served fills its own socket, not
//! the host's memory.

use std::pin::Pin;
use std::task::{Context, Poll};

use rmpv::Value;
use tokio::io::{AsyncRead, ReadBuf};

use super::Outgoing;

mod scan;
use scan::{Scan, Step};

/// Largest message a client may send (a paste, a saved set of sessions).
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Most values (of any kind, nested) in one message.
pub const MAX_MESSAGE_VALUES: u64 = 64 * 1024;
/// How much is read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Requests one connection may have in flight; the next waits, unread.
pub const MAX_IN_FLIGHT: usize = 256;

/// The requests of one connection being served, shared by the reader (which
/// counts them in) and the handler (which counts them out).
#[derive(Default)]
pub struct InFlight {
    count: std::sync::atomic::AtomicUsize,
    waker: futures::task::AtomicWaker,
}

impl InFlight {
    /// A request has been answered: let the reader pass on the next.
    pub fn done(&self) {
        self.count.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        self.waker.wake();
    }

    pub fn count(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// The read half of a connection, passing on whole messages only.
pub struct Framed<R> {
    inner: R,
    /// Where error replies to refused requests go.
    out: Outgoing,
    /// Whole messages not yet passed on (and whether each is a request),
    /// and how far into the first one nvim-rs has read.
    ready: std::collections::VecDeque<(Vec<u8>, bool)>,
    ready_at: usize,
    in_flight: std::sync::Arc<InFlight>,
    /// The message being received.
    current: Vec<u8>,
    /// The start of a marker whose header was cut off by a read.
    carry: Vec<u8>,
    scan: Scan,
    chunk: Box<[u8]>,
}

impl<R> Framed<R> {
    pub fn new(inner: R, out: Outgoing, in_flight: std::sync::Arc<InFlight>) -> Framed<R> {
        Framed {
            inner,
            out,
            ready: Default::default(),
            ready_at: 0,
            in_flight,
            current: Vec::new(),
            carry: Vec::new(),
            scan: Scan::default(),
            chunk: vec![0; READ_CHUNK].into_boxed_slice(),
        }
    }

    /// Sort newly read bytes into whole messages.
    fn take_in(&mut self, fresh: &[u8]) -> std::io::Result<()> {
        let mut joined = std::mem::take(&mut self.carry);
        let mut data = if joined.is_empty() {
            fresh
        } else {
            joined.extend_from_slice(fresh);
            &joined[..]
        };
        while !data.is_empty() {
            let step = self
                .scan
                .feed(data)
                .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidData, why))?;
            let (n, whole) = match step {
                Step::Partial(n) => (n, false),
                Step::Whole(n) => (n, true),
            };
            match self.scan.refused {
                None => self.current.extend_from_slice(&data[..n]),
                Some(limit) => {
                    // Over a limit: keep nothing of it, only find where it
                    // ends; say so as soon as the request's id is known.
                    self.current = Vec::new();
                    if !self.scan.told && (self.scan.msgid.is_some() || whole) {
                        self.scan.told = true;
                        self.refuse(&self.scan, limit);
                    }
                }
            }
            data = &data[n..];
            if !whole && !data.is_empty() {
                // At most a marker and its 8-byte header.
                self.carry = data.to_vec();
                break;
            }
            if whole {
                let scan = std::mem::take(&mut self.scan);
                if scan.refused.is_none() {
                    let request = scan.head.first() == Some(&0);
                    self.ready.push_back((std::mem::take(&mut self.current), request));
                }
            }
        }
        Ok(())
    }

    fn refuse(&self, scan: &Scan, limit: &str) {
        let what = match limit {
            "bytes" => format!("message too large (the limit is {} MiB)", MAX_MESSAGE_BYTES >> 20),
            _ => format!("message has too many values (the limit is {MAX_MESSAGE_VALUES})"),
        };
        tracing::warn!(bytes = scan.len, values = scan.values, "refused: {what}");
        if let Some(msgid) = scan.msgid {
            let error = super::protocol::error_value(super::protocol::ErrorCode::BadRequest, &what);
            let reply = Value::Array(vec![Value::from(1), Value::from(msgid), error, Value::Nil]);
            let mut bytes = Vec::new();
            if rmpv::encode::write_value(&mut bytes, &reply).is_ok() {
                self.out.send_raw(bytes);
            }
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Framed<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        loop {
            if let Some((message, request)) = this.ready.front() {
                if *request && this.ready_at == 0 {
                    // A new request: only with room in flight.
                    if this.in_flight.count() >= MAX_IN_FLIGHT {
                        this.in_flight.waker.register(cx.waker());
                        if this.in_flight.count() >= MAX_IN_FLIGHT {
                            return Poll::Pending;
                        }
                    }
                    this.in_flight.count.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                }
                let n = buf.remaining().min(message.len() - this.ready_at);
                buf.put_slice(&message[this.ready_at..this.ready_at + n]);
                this.ready_at += n;
                if this.ready_at == message.len() {
                    this.ready.pop_front();
                    this.ready_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let mut read = ReadBuf::new(&mut this.chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Ready(Ok(())) => {
                    let n = read.filled().len();
                    if n == 0 {
                        // EOF (a message cut short is dropped with it).
                        return Poll::Ready(Ok(()));
                    }
                    // Lent out for the scan (no copy of each read).
                    let chunk = std::mem::take(&mut this.chunk);
                    let taken = this.take_in(&chunk[..n]);
                    this.chunk = chunk;
                    taken?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

/// Whole messages out of a byte stream, for a reader that is not nvim-rs
/// (`lulu link`): the same scan and the same bounds, but a message over a
/// bound is an error (the stream is not to be trusted further).
#[derive(Debug, Default)]
pub struct Splitter {
    scan: Scan,
    current: Vec<u8>,
    carry: Vec<u8>,
}

impl Splitter {
    /// Feed newly read bytes; the messages they complete.
    pub fn feed(&mut self, fresh: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let mut joined = std::mem::take(&mut self.carry);
        joined.extend_from_slice(fresh);
        let mut data = &joined[..];
        let mut out = Vec::new();
        while !data.is_empty() {
            let (n, whole) = match self.scan.feed(data)? {
                Step::Partial(n) => (n, false),
                Step::Whole(n) => (n, true),
            };
            if let Some(limit) = self.scan.refused {
                return Err(format!("a message over the {limit} limit"));
            }
            self.current.extend_from_slice(&data[..n]);
            data = &data[n..];
            if !whole && !data.is_empty() {
                self.carry = data.to_vec();
                break;
            }
            if whole {
                self.scan = Scan::default();
                out.push(std::mem::take(&mut self.current));
            }
        }
        Ok(out)
    }
}

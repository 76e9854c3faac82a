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

/// Where the scan of the current message stands.
#[derive(Debug, Default)]
struct Scan {
    /// Bytes of the current message seen so far.
    len: usize,
    /// The first byte of the message has been seen.
    started: bool,
    /// Values still to read before the message is whole.
    remaining: u64,
    /// Values in the message so far.
    values: u64,
    /// Payload bytes of a str/bin/ext still to skip.
    skip: usize,
    /// The message is over a limit: its bytes are dropped as they come.
    refused: Option<&'static str>,
    /// Its request id, once read, for the error reply.
    msgid: Option<u64>,
    /// The refusal was said (as soon as it was known).
    told: bool,
    /// The first values of the message (kind, msgid), to find the id.
    head: Vec<u64>,
}

/// What one byte-chunk scan found.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// `n` more bytes belong to the current message, which is not whole;
    /// bytes after them (a marker whose header is cut off) are to be fed
    /// again with what follows.
    Partial(usize),
    /// The message ends after `n` more bytes.
    Whole(usize),
}

/// A msgpack marker: how many more header bytes it needs, and what follows.
enum Marker {
    /// A value with no payload; `children` values follow inside it.
    Value {
        header: usize,
        children: u64,
    },
    /// A str/bin/ext: `len_bytes` of big-endian length after the marker
    /// (plus `extra` for an ext's type byte).
    Sized {
        len_bytes: usize,
        extra: usize,
    },
    /// A fixstr/fixext: known payload.
    Fixed {
        payload: usize,
    },
    /// Array/map with a big-endian count of `len_bytes`; `per` values per count.
    Container {
        len_bytes: usize,
        per: u64,
    },
    Invalid,
}

fn marker(byte: u8) -> Marker {
    match byte {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => Marker::Value { header: 0, children: 0 },
        0x80..=0x8f => Marker::Value {
            header: 0,
            children: u64::from(byte & 0x0f) * 2,
        },
        0x90..=0x9f => Marker::Value {
            header: 0,
            children: u64::from(byte & 0x0f),
        },
        0xa0..=0xbf => Marker::Fixed {
            payload: usize::from(byte & 0x1f),
        },
        0xc4 | 0xd9 => Marker::Sized { len_bytes: 1, extra: 0 },
        0xc5 | 0xda => Marker::Sized { len_bytes: 2, extra: 0 },
        0xc6 | 0xdb => Marker::Sized { len_bytes: 4, extra: 0 },
        0xc7 => Marker::Sized { len_bytes: 1, extra: 1 },
        0xc8 => Marker::Sized { len_bytes: 2, extra: 1 },
        0xc9 => Marker::Sized { len_bytes: 4, extra: 1 },
        0xca | 0xce | 0xd2 => Marker::Value { header: 4, children: 0 },
        0xcb | 0xcf | 0xd3 => Marker::Value { header: 8, children: 0 },
        0xcc | 0xd0 => Marker::Value { header: 1, children: 0 },
        0xcd | 0xd1 => Marker::Value { header: 2, children: 0 },
        0xd4 => Marker::Fixed { payload: 2 },
        0xd5 => Marker::Fixed { payload: 3 },
        0xd6 => Marker::Fixed { payload: 5 },
        0xd7 => Marker::Fixed { payload: 9 },
        0xd8 => Marker::Fixed { payload: 17 },
        0xdc => Marker::Container { len_bytes: 2, per: 1 },
        0xdd => Marker::Container { len_bytes: 4, per: 1 },
        0xde => Marker::Container { len_bytes: 2, per: 2 },
        0xdf => Marker::Container { len_bytes: 4, per: 2 },
        0xc1 => Marker::Invalid,
    }
}

fn big_endian(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, b| (acc << 8) | u64::from(*b))
}

impl Scan {
    /// Scan `data` (bytes after the `len` already seen of this message).
    /// `Err` only for bytes that are not msgpack at all.
    fn feed(&mut self, data: &[u8]) -> Result<Step, &'static str> {
        let mut at = 0;
        if !self.started {
            self.started = true;
            self.remaining = 1;
        }
        loop {
            if self.skip > 0 {
                let n = self.skip.min(data.len() - at);
                self.skip -= n;
                at += n;
                if self.skip > 0 {
                    return Ok(self.partial(at));
                }
                if self.remaining == 0 {
                    return Ok(self.whole(at));
                }
            }
            let Some(&byte) = data.get(at) else {
                return Ok(self.partial(at));
            };
            let rest = &data[at + 1..];
            let (header, payload, children) = match marker(byte) {
                Marker::Invalid => return Err("not msgpack (0xc1)"),
                Marker::Value { header, children } => (header, 0, children),
                Marker::Fixed { payload } => (0, payload, 0),
                Marker::Sized { len_bytes, extra } => {
                    if rest.len() < len_bytes {
                        return Ok(self.partial(at));
                    }
                    let len = usize::try_from(big_endian(&rest[..len_bytes])).unwrap_or(usize::MAX);
                    (len_bytes, len.saturating_add(extra), 0)
                }
                Marker::Container { len_bytes, per } => {
                    if rest.len() < len_bytes {
                        return Ok(self.partial(at));
                    }
                    (len_bytes, 0, big_endian(&rest[..len_bytes]).saturating_mul(per))
                }
            };
            if rest.len() < header {
                return Ok(self.partial(at));
            }
            // The message's first values are [kind, msgid, ...]: keep the id.
            if self.head.len() < 2 && self.values >= 1 {
                self.head.push(match byte {
                    0x00..=0x7f => u64::from(byte),
                    0xcc..=0xcf => big_endian(&rest[..header]),
                    _ => u64::MAX,
                });
                if self.head.len() == 2 && self.head[0] == 0 {
                    self.msgid = Some(self.head[1]);
                }
            }
            self.values += 1;
            self.remaining = self.remaining - 1 + children;
            if self.values.saturating_add(self.remaining) > MAX_MESSAGE_VALUES {
                self.refused.get_or_insert("values");
            }
            at += 1 + header;
            self.skip = payload;
            if self.skip == 0 && self.remaining == 0 {
                return Ok(self.whole(at));
            }
        }
    }

    fn partial(&mut self, n: usize) -> Step {
        self.len += n;
        if self.len > MAX_MESSAGE_BYTES {
            self.refused.get_or_insert("bytes");
        }
        Step::Partial(n)
    }

    fn whole(&mut self, n: usize) -> Step {
        self.len += n;
        if self.len > MAX_MESSAGE_BYTES {
            self.refused.get_or_insert("bytes");
        }
        Step::Whole(n)
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
mod tests {
    use super::*;

    fn encode(value: &Value) -> Vec<u8> {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, value).unwrap();
        bytes
    }

    /// Whole messages found in `bytes` fed `step` bytes at a time.
    fn split(bytes: &[u8], step: usize) -> Vec<usize> {
        let mut scan = Scan::default();
        let mut ends = Vec::new();
        let mut total = 0;
        let mut carry = Vec::new();
        for chunk in bytes.chunks(step) {
            carry.extend_from_slice(chunk);
            let joined = std::mem::take(&mut carry);
            let mut data = &joined[..];
            while !data.is_empty() {
                match scan.feed(data).unwrap() {
                    Step::Partial(n) => {
                        total += n;
                        data = &data[n..];
                        carry = data.to_vec();
                        break;
                    }
                    Step::Whole(n) => {
                        total += n;
                        data = &data[n..];
                        ends.push(total);
                        scan = Scan::default();
                    }
                }
            }
        }
        ends
    }

    #[test]
    fn boundaries_are_found_however_the_bytes_arrive() {
        let messages = [
            Value::Array(vec![
                Value::from(0),
                Value::from(7),
                Value::from("lulu.session_list"),
                Value::Array(vec![]),
            ]),
            Value::Array(vec![
                Value::from(2),
                Value::from("lulu.session_write"),
                Value::Array(vec![Value::from("s"), Value::Binary(vec![1; 70_000])]),
            ]),
            Value::Map(vec![
                (Value::from(-3), Value::F64(1.5)),
                (Value::from("x".repeat(300)), Value::Ext(5, vec![0; 20])),
                (Value::from(u64::MAX), Value::Ext(1, vec![0; 4])),
                (Value::Nil, Value::Array(vec![Value::Boolean(true); 20])),
            ]),
        ];
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for m in &messages {
            bytes.extend(encode(m));
            ends.push(bytes.len());
        }
        for step in [1, 2, 3, 7, 64, 4096, bytes.len()] {
            assert_eq!(split(&bytes, step), ends, "step {step}");
        }
    }

    #[test]
    fn limits_are_found_without_keeping_the_bytes() {
        let big = encode(&Value::Array(vec![
            Value::from(0),
            Value::from(42),
            Value::from("lulu.session_send"),
            Value::Array(vec![Value::from("s"), Value::from("x".repeat(MAX_MESSAGE_BYTES + 1))]),
        ]));
        let mut scan = Scan::default();
        let mut data = &big[..];
        while let Step::Partial(n) = scan.feed(&data[..data.len().min(65536)]).unwrap() {
            data = &data[n..];
        }
        assert_eq!(scan.refused, Some("bytes"));
        assert_eq!(scan.msgid, Some(42));

        let nils = encode(&Value::Array(vec![Value::Nil; MAX_MESSAGE_VALUES as usize]));
        let mut scan = Scan::default();
        assert!(matches!(scan.feed(&nils).unwrap(), Step::Whole(_)));
        assert_eq!(scan.refused, Some("values"));
        // A header that promises billions of values is refused at once.
        let mut scan = Scan::default();
        assert!(matches!(
            scan.feed(&[0xdd, 0xff, 0xff, 0xff, 0xff]).unwrap(),
            Step::Partial(5)
        ));
        assert_eq!(scan.refused, Some("values"));
    }

    #[test]
    fn a_long_payload_split_across_reads_ends_its_message() {
        let first = encode(&Value::Array(vec![Value::from(0), Value::Binary(vec![7; 200_000])]));
        let second = encode(&Value::Array(vec![Value::from(1)]));
        let mut bytes = first.clone();
        bytes.extend(&second);
        assert_eq!(split(&bytes, 65536), [first.len(), bytes.len()]);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(Scan::default().feed(&[0xc1]).is_err());
    }
}

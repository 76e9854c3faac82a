//! The streaming scan of msgpack's structure that finds where a message
//! ends: one counter of values still to come, nothing decoded.

use super::{MAX_MESSAGE_BYTES, MAX_MESSAGE_VALUES};

/// Where the scan of the current message stands.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// Bytes of the current message seen so far.
    pub(super) len: usize,
    /// The first byte of the message has been seen.
    started: bool,
    /// Values still to read before the message is whole.
    remaining: u64,
    /// Values in the message so far.
    pub(super) values: u64,
    /// Payload bytes of a str/bin/ext still to skip.
    skip: usize,
    /// The message is over a limit: its bytes are dropped as they come.
    pub(super) refused: Option<&'static str>,
    /// Its request id, once read, for the error reply.
    pub(super) msgid: Option<u64>,
    /// The refusal was said (as soon as it was known).
    pub(super) told: bool,
    /// The first values of the message (kind, msgid), to find the id.
    pub(super) head: Vec<u64>,
}

/// What one byte-chunk scan found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
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

/// `(header bytes, payload bytes, child values)` of the value whose marker
/// is `byte`, `rest` the bytes after it; `None` while its header is cut off.
fn sizes(byte: u8, rest: &[u8]) -> Result<Option<(usize, usize, u64)>, &'static str> {
    let (header, payload, children) = match marker(byte) {
        Marker::Invalid => return Err("not msgpack (0xc1)"),
        Marker::Value { header, children } => (header, 0, children),
        Marker::Fixed { payload } => (0, payload, 0),
        Marker::Sized { len_bytes, extra } => {
            if rest.len() < len_bytes {
                return Ok(None);
            }
            let len = usize::try_from(big_endian(&rest[..len_bytes])).unwrap_or(usize::MAX);
            (len_bytes, len.saturating_add(extra), 0)
        }
        Marker::Container { len_bytes, per } => {
            if rest.len() < len_bytes {
                return Ok(None);
            }
            (len_bytes, 0, big_endian(&rest[..len_bytes]).saturating_mul(per))
        }
    };
    Ok((rest.len() >= header).then_some((header, payload, children)))
}

impl Scan {
    /// Scan `data` (bytes after the `len` already seen of this message).
    /// `Err` only for bytes that are not msgpack at all.
    pub(super) fn feed(&mut self, data: &[u8]) -> Result<Step, &'static str> {
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
            let Some((header, payload, children)) = sizes(byte, rest)? else {
                return Ok(self.partial(at));
            };
            self.keep_head(byte, &rest[..header]);
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

    /// The message's first values are [kind, msgid, ...]: keep the id.
    /// `header` holds the bytes after the marker `byte`.
    fn keep_head(&mut self, byte: u8, header: &[u8]) {
        if self.head.len() < 2 && self.values >= 1 {
            self.head.push(match byte {
                0x00..=0x7f => u64::from(byte),
                0xcc..=0xcf => big_endian(header),
                _ => u64::MAX,
            });
            if self.head.len() == 2 && self.head[0] == 0 {
                self.msgid = Some(self.head[1]);
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

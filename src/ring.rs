//! A session's scrollback ring: the newest `capacity` bytes of output, kept so
//! a terminal buffer opened late (or re-opened) can be replayed.

use std::collections::VecDeque;

pub struct Ring {
    bytes: VecDeque<u8>,
    capacity: usize,
    /// Whether older bytes have been dropped, i.e. the front is mid-stream.
    wrapped: bool,
}

impl Ring {
    pub fn new(capacity: usize) -> Ring {
        Ring {
            bytes: VecDeque::new(),
            capacity: capacity.max(1),
            wrapped: false,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        if chunk.len() >= self.capacity {
            self.bytes.clear();
            self.bytes.extend(&chunk[chunk.len() - self.capacity..]);
            self.wrapped = true;
            return;
        }
        let overflow = (self.bytes.len() + chunk.len()).saturating_sub(self.capacity);
        if overflow > 0 {
            self.bytes.drain(..overflow);
            self.wrapped = true;
        }
        self.bytes.extend(chunk);
    }

    /// The kept bytes, starting after the first line break once the ring has
    /// wrapped, so a replay does not begin inside an escape sequence or a
    /// half line.
    pub fn contents(&self) -> Vec<u8> {
        let (a, b) = self.bytes.as_slices();
        let mut all = Vec::with_capacity(self.bytes.len());
        all.extend_from_slice(a);
        all.extend_from_slice(b);
        if self.wrapped
            && let Some(pos) = all.iter().position(|&b| b == b'\n')
        {
            all.drain(..=pos);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_bytes() {
        let cases: &[(&[&[u8]], &[u8])] = &[
            (&[b"abc"], b"abc"),
            (&[b"abc", b"def"], b"cdef"),
            (&[b"abcdefgh"], b"efgh"),
            (&[b"ab", b"", b"cd"], b"abcd"),
            (&[b"x\nab", b"cdefg"], b"defg"),
        ];
        for (chunks, want) in cases {
            let mut ring = Ring::new(4);
            for c in *chunks {
                ring.push(c);
            }
            assert_eq!(ring.contents(), *want, "{chunks:?}");
        }
    }

    #[test]
    fn replay_of_a_full_ring_starts_at_a_line() {
        let mut ring = Ring::new(8);
        ring.push(b"0123\nabc\n");
        assert_eq!(ring.contents(), b"abc\n");
    }
}

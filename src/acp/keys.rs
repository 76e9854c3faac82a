//! What the user types into an ACP session's terminal (raw mode): text up
//! to Enter is a prompt; a bracketed paste keeps its newlines; Ctrl-C
//! cancels the turn; Backspace takes back a character; other control
//! sequences (arrows, focus reports) are skipped whole.

/// What a keystroke means.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Prompt(String),
    Cancel,
}

/// Longest prompt kept (past it, more text is dropped).
pub const MAX_PROMPT: usize = 1024 * 1024;

#[derive(Default)]
pub struct Keys {
    line: Vec<u8>,
    /// Inside `ESC [ 200 ~ ... ESC [ 201 ~`.
    pasting: bool,
    /// Bytes of an escape sequence being read.
    escape: Option<Vec<u8>>,
}

impl Keys {
    /// Feed bytes; returns what they completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Key> {
        let mut out = Vec::new();
        for &byte in bytes {
            if let Some(seq) = self.escape.as_mut() {
                seq.push(byte);
                if let Some(done) = escape_done(seq) {
                    let seq = self.escape.take().unwrap_or_default();
                    if done {
                        self.on_escape(&seq);
                    }
                }
                continue;
            }
            match byte {
                0x1b => self.escape = Some(vec![byte]),
                0x03 => {
                    self.line.clear();
                    out.push(Key::Cancel);
                }
                b'\r' | b'\n' if self.pasting => self.push(b'\n'),
                b'\r' | b'\n' => {
                    let text = String::from_utf8_lossy(&self.line).trim().to_string();
                    self.line.clear();
                    if !text.is_empty() {
                        out.push(Key::Prompt(text));
                    }
                }
                0x7f | 0x08 => self.backspace(),
                b'\t' => self.push(b'\t'),
                c if c < 0x20 => {}
                c => self.push(c),
            }
        }
        out
    }

    fn push(&mut self, byte: u8) {
        if self.line.len() < MAX_PROMPT {
            self.line.push(byte);
        }
    }

    fn backspace(&mut self) {
        // A whole UTF-8 character.
        while let Some(byte) = self.line.pop() {
            if byte & 0xc0 != 0x80 {
                break;
            }
        }
    }

    fn on_escape(&mut self, seq: &[u8]) {
        match seq {
            b"\x1b[200~" => self.pasting = true,
            b"\x1b[201~" => self.pasting = false,
            _ => {}
        }
    }
}

/// `Some(true)`: a whole sequence; `Some(false)`: one to drop (too long);
/// `None`: read on.
fn escape_done(seq: &[u8]) -> Option<bool> {
    if seq.len() > 32 {
        return Some(false);
    }
    match seq {
        [0x1b] => None,
        [0x1b, b'[' | b'O', rest @ ..] => rest.last().filter(|b| (0x40..=0x7e).contains(*b)).map(|_| true),
        [0x1b, _] => Some(true),
        _ => Some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_pastes_cancel_and_editing() {
        let mut keys = Keys::default();
        assert_eq!(keys.feed(b"hel"), vec![]);
        assert_eq!(keys.feed(b"lo\x7f\x7fp\r"), vec![Key::Prompt("help".into())]);
        assert_eq!(
            keys.feed(b"\x1b[200~one\ntwo\x1b[201~\r"),
            vec![Key::Prompt("one\ntwo".into())]
        );
        assert_eq!(keys.feed(b"x\x1b[Ay\x1bOB\x03"), vec![Key::Cancel]);
        assert_eq!(keys.feed("é\x7fa\r".as_bytes()), vec![Key::Prompt("a".into())]);
        assert_eq!(keys.feed(b"\r\r"), vec![]);
    }
}

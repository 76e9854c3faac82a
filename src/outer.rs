//! What of a session's output reaches the user's own terminal in
//! `lulu attach`: a positive filter, as tmux is (which draws its panes
//! itself and forwards no query, link, clipboard write or title). The
//! output (the host's paint of its screen model, then the stream) is
//! parsed with vte and written again with only the shapes that draw:
//! text, the usual C0 controls, SGR, cursor motion, erasing, inserting and
//! deleting, scroll regions, charsets, tab stops, and a few display modes
//! (cursor keys, autowrap, cursor visibility and blink, the alternate
//! screen, bracketed paste, synchronized updates, insert mode). Nothing
//! else passes: no OSC (clipboard, links, titles, colours, notifications)
//! unless the user opts in per kind, never a clipboard read; no DCS, APC,
//! PM or SOS string; no query (DA, DSR, XTGETTCAP, window reports); no
//! mouse, focus or keyboard-protocol mode; no C1 control; no reset.
//! [`OuterFilter::restore`] undoes, at detach, every mode that passed.

use vte::{Params, Parser, Perform};

/// OSC kinds the user let through (`lulu attach --allow clipboard,links,title`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Passthrough {
    /// OSC 52 writes (never a read).
    pub clipboard: bool,
    /// OSC 8 hyperlinks.
    pub links: bool,
    /// OSC 0, 1, 2 titles.
    pub title: bool,
}

impl Passthrough {
    /// `clipboard,links,title` (any of them), as the flag gives it.
    pub fn parse(list: &str) -> Result<Passthrough, String> {
        let mut allow = Passthrough::default();
        for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "clipboard" => allow.clipboard = true,
                "links" => allow.links = true,
                "title" => allow.title = true,
                other => return Err(format!("--allow takes clipboard, links or title, not {other:?}")),
            }
        }
        Ok(allow)
    }
}

/// DEC private modes that only change how the screen is drawn (or, for
/// bracketed paste, how a paste reaches the session).
const DEC_MODES: &[u16] = &[1, 7, 12, 25, 47, 1047, 1048, 1049, 2004, 2026];
/// CSI finals that draw, with no private marker and no intermediate.
const DRAWING: &str = "@ABCDEFGHIJKLMPSTXZ`abdefgmr";

/// The filter for one attach.
pub struct OuterFilter {
    parser: Parser,
    sink: Sink,
}

struct Sink {
    out: Vec<u8>,
    allow: Passthrough,
    /// Private modes set by what passed (to undo at detach).
    set: Vec<u16>,
}

impl OuterFilter {
    pub fn new(allow: Passthrough) -> OuterFilter {
        OuterFilter {
            parser: Parser::new(),
            sink: Sink {
                out: Vec::new(),
                allow,
                set: Vec::new(),
            },
        }
    }

    /// What of `bytes` may reach the terminal (a sequence cut between two
    /// chunks is finished with the next).
    pub fn filter(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.parser.advance(&mut self.sink, bytes);
        std::mem::take(&mut self.sink.out)
    }

    /// What puts the terminal back as it was: every mode that passed reset,
    /// plain colours, the cursor shown.
    pub fn restore(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for mode in self.sink.set.iter().rev() {
            out.extend_from_slice(format!("\x1b[?{mode}l").as_bytes());
        }
        out.extend_from_slice(b"\x1b[0m\x1b[r\x1b[?25h");
        out
    }
}

impl Sink {
    fn csi(&mut self, params: &Params, intermediates: &[u8], action: char) {
        let (markers, trailing): (Vec<u8>, Vec<u8>) = intermediates.iter().partition(|b| (0x3c..=0x3f).contains(*b));
        let groups: Vec<&[u16]> = params.iter().collect();
        match (markers.as_slice(), trailing.as_slice(), action) {
            ([], [], a) if DRAWING.contains(a) => self.write_csi(&markers, &groups, &trailing, action),
            // Insert/replace mode only, of the ANSI modes.
            ([], [], 'h' | 'l') => {
                let kept: Vec<&[u16]> = groups.iter().copied().filter(|g| g == &[4]).collect();
                if !kept.is_empty() {
                    self.write_csi(&[], &kept, &[], action);
                }
            }
            // Save and restore the cursor, bare (with arguments, `u` is a
            // keyboard protocol).
            ([], [], 's' | 'u') if groups.is_empty() || groups == [&[0][..]] => self.write_csi(&[], &[], &[], action),
            // Cursor shape.
            ([], [b' '], 'q') => self.write_csi(&[], &groups, &trailing, action),
            ([b'?'], [], 'h' | 'l') => {
                let kept: Vec<&[u16]> = groups
                    .iter()
                    .copied()
                    .filter(|g| g.len() == 1 && DEC_MODES.contains(&g[0]))
                    .collect();
                for group in &kept {
                    if action == 'h' && !self.set.contains(&group[0]) {
                        self.set.push(group[0]);
                    }
                }
                if !kept.is_empty() {
                    self.write_csi(&markers, &kept, &[], action);
                }
            }
            _ => {}
        }
    }

    fn write_csi(&mut self, markers: &[u8], groups: &[&[u16]], trailing: &[u8], action: char) {
        self.out.extend_from_slice(b"\x1b[");
        self.out.extend_from_slice(markers);
        for (i, group) in groups.iter().enumerate() {
            if i > 0 {
                self.out.push(b';');
            }
            for (j, value) in group.iter().enumerate() {
                if j > 0 {
                    self.out.push(b':');
                }
                self.out.extend_from_slice(value.to_string().as_bytes());
            }
        }
        self.out.extend_from_slice(trailing);
        let mut utf8 = [0; 4];
        self.out.extend_from_slice(action.encode_utf8(&mut utf8).as_bytes());
    }

    fn osc(&mut self, params: &[&[u8]], bell: bool) {
        let kind = params.first().copied().unwrap_or_default();
        let allowed = match kind {
            b"52" => self.allow.clipboard && params.get(2).is_some_and(|data| *data != b"?"),
            b"8" => self.allow.links,
            b"0" | b"1" | b"2" => self.allow.title,
            _ => false,
        };
        // The parts may not hold a control (vte ends the string at one).
        if !allowed || params.iter().any(|p| p.iter().any(|b| *b < 0x20 || *b == 0x7f)) {
            return;
        }
        self.out.extend_from_slice(b"\x1b]");
        self.out.extend_from_slice(&params.join(&b';'));
        self.out.extend_from_slice(if bell { b"\x07" } else { b"\x1b\\" });
    }
}

impl Perform for Sink {
    fn print(&mut self, c: char) {
        // vte hands C1 controls (as UTF-8) to `print` only if they are
        // characters; none is drawn.
        if !c.is_control() {
            let mut utf8 = [0; 4];
            self.out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
    }

    fn execute(&mut self, byte: u8) {
        // BEL, BS, HT, LF, VT, FF, CR, SO, SI.
        if matches!(byte, 0x07..=0x0f) {
            self.out.push(byte);
        }
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], ignore: bool, action: char) {
        if !ignore {
            self.csi(params, intermediates, action);
        }
    }

    fn esc_dispatch(&mut self, intermediates: &[u8], ignore: bool, byte: u8) {
        let keep = !ignore
            && match intermediates {
                [] => matches!(byte, b'7' | b'8' | b'D' | b'E' | b'H' | b'M' | b'=' | b'>'),
                [b'(' | b')'] => matches!(byte, b'B' | b'0' | b'A'),
                [b'#'] => byte == b'8',
                _ => false,
            };
        if keep {
            self.out.push(0x1b);
            self.out.extend_from_slice(intermediates);
            self.out.push(byte);
        }
    }

    fn osc_dispatch(&mut self, params: &[&[u8]], bell_terminated: bool) {
        self.osc(params, bell_terminated);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(bytes: &[u8]) -> Vec<u8> {
        OuterFilter::new(Passthrough::default()).filter(bytes)
    }

    #[test]
    fn what_draws_passes_as_it_was() {
        let drawing: &[&[u8]] = &[
            b"hello world\r\n",
            "h\u{e9}llo \u{2603}".as_bytes(),
            b"\x1b[1;31mred\x1b[0m",
            b"\x1b[38:2:1:2:3mx",
            b"\x1b[10;20H\x1b[2J\x1b[0K\x1b[3A\x1b[2B",
            b"\x1b[5;20r\x1b[2L\x1b[3M\x1b[4P\x1b[5@\x1b[6X",
            b"\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[?1h",
            b"\x1b7\x1b8\x1bM\x1b(0qqq\x1b(B",
            b"\x1b[s\x1b[u",
            b"\x1b[2 q",
            b"\x1b[4h",
            b"\x07\x08\t",
        ];
        for bytes in drawing {
            assert_eq!(through(bytes), bytes.to_vec(), "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn what_does_not_draw_never_reaches_the_terminal() {
        let hostile: &[&[u8]] = &[
            b"\x1b]52;c;ZXZpbA==\x07",
            b"\x1b]52;c;?\x1b\\",
            b"\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\",
            b"\x1b]0;title\x07",
            b"\x1b]2;title\x1b\\",
            b"\x1b]11;?\x07",
            b"\x1b]777;notify;a;b\x07",
            b"\x1bP+q544e\x1b\\",
            b"\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\",
            b"\x1b_Gf=100;AAAA\x1b\\",
            b"\x1b^pm\x1b\\",
            b"\x1b[c",
            b"\x1b[>0c",
            b"\x1b[6n",
            b"\x1b[5n",
            b"\x1b[>q",
            b"\x1b[14t",
            b"\x1b[8;100;100t",
            b"\x1b[?1000h",
            b"\x1b[?1006h",
            b"\x1b[?1004h",
            b"\x1b[?2004$p",
            b"\x1b[>1u",
            b"\x1b[=1;1u",
            b"\x1b[<u",
            b"\x1b[>4;2m",
            b"\x1b[20h",
            b"\x1bc",
            b"\x1b[!p",
            "\u{9b}6n".as_bytes(),
            "\u{9d}52;c;ZXZpbA==\u{9c}".as_bytes(),
            b"\x9b6n",
            b"\x1b]52;c;ZXZpbA==",
        ];
        for bytes in hostile {
            let out = through(bytes);
            assert!(
                !out.contains(&0x1b)
                    && !out
                        .iter()
                        .any(|b| (0x80..=0x9f).contains(b) && std::str::from_utf8(&out).is_err()),
                "{:?} gave {:?}",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&out)
            );
            assert!(
                !String::from_utf8_lossy(&out)
                    .chars()
                    .any(|c| ('\u{80}'..='\u{9f}').contains(&c))
            );
        }
        // A missing parameter is written as its default.
        assert_eq!(through(b"\x1b[K\x1b[m"), b"\x1b[0K\x1b[0m");
        // A mixed sequence keeps only its harmless modes.
        assert_eq!(through(b"\x1b[?25;1000;1049h"), b"\x1b[?25;1049h");
    }

    #[test]
    fn a_sequence_cut_between_reads_is_judged_whole() {
        let mut filter = OuterFilter::new(Passthrough::default());
        let mut out = filter.filter(b"a\x1b]52;c;ZX");
        out.extend(filter.filter(b"ZpbA==\x07b\x1b[3"));
        out.extend(filter.filter(b"1mc"));
        assert_eq!(out, b"ab\x1b[31mc");
    }

    #[test]
    fn the_user_may_let_kinds_through_and_modes_are_undone() {
        let allow = Passthrough::parse("clipboard,links").unwrap();
        let mut filter = OuterFilter::new(allow);
        assert_eq!(filter.filter(b"\x1b]52;c;ZXZpbA==\x07"), b"\x1b]52;c;ZXZpbA==\x07");
        assert_eq!(filter.filter(b"\x1b]52;c;?\x07"), b"", "never a read of the clipboard");
        assert_eq!(filter.filter(b"\x1b]0;t\x07"), b"", "titles were not let through");
        filter.filter(b"\x1b[?1049h\x1b[?2004h");
        assert_eq!(filter.restore(), b"\x1b[?2004l\x1b[?1049l\x1b[0m\x1b[r\x1b[?25h");
        assert!(Passthrough::parse("mouse").is_err());
    }
}

//! Output that no terminal could keep. When a flood arrives faster than the
//! model parses it, the host hands the model large batches; in a batch with
//! more lines after some point than the history and the screen can hold,
//! the rows printed before that point all scroll out of the history before
//! the batch ends, so painting them (or even parsing their text) changes
//! nothing that is kept. [`plan`] finds such a stretch, and only where it
//! can prove that parsing it would leave no lasting state behind:
//!
//! - it holds nothing but text, `CR`, `LF`, `VT`, `FF`, `TAB`, `BS`, `BEL`
//!   and plain SGR sequences (`ESC [` digits, `;`, `:` then `m`), so no mode,
//!   title, charset, tab stop or scroll region changes inside it;
//! - the parser is at rest where it begins (a mirror of vte's states,
//!   [`Parser`], follows every byte the model is fed);
//! - the pen where parsing resumes is the same as if it had been parsed:
//!   either the stretch holds no SGR, or an SGR reset comes after it;
//! - its last printed character is parsed after all, since `REP` repeats it;
//! - after it come a `CR`, then at least `need` line feeds: the column and
//!   the wrap flag are the same in both runs after the first, and the
//!   `need` line feeds (the caller asks for the screen's rows twice plus
//!   the history's) bring the cursor to the bottom and scroll every row
//!   printed before out of the history.
//!
//! The caller checks the terminal's side: the primary screen, a scroll
//! region of the whole screen, no synchronized update being gathered.

/// A stretch shorter than this is parsed: finding it costs a scan, and a
/// small skip saves little.
const MIN_SKIP: usize = 256 * 1024;
/// Longest SGR sequence taken as one; a longer one ends the stretch.
const MAX_SGR: usize = 64;

const ESC: u8 = 0x1b;
const CAN: u8 = 0x18;
const SUB: u8 = 0x1a;

/// vte's parser states, as coarse as knowing whether it is at rest needs.
/// Where vte might be at rest but this cannot tell, it says it is not (a
/// DCS string that 0x9C may have ended), which only costs a skip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Parser {
    #[default]
    Ground,
    Escape,
    EscapeIntermediate,
    Csi,
    Osc,
    /// DCS, SOS, PM or APC: only ESC, CAN or SUB end it.
    Text,
}

impl Parser {
    fn step(self, byte: u8) -> Parser {
        use Parser::*;
        match (self, byte) {
            (_, CAN | SUB) => Ground,
            (_, ESC) => Escape,
            (Ground, _) => Ground,
            (Escape, b'[') => Csi,
            (Escape, b']') => Osc,
            (Escape, b'P' | b'X' | b'^' | b'_') => Text,
            (Escape, 0x20..=0x2f) => EscapeIntermediate,
            (Escape | EscapeIntermediate, 0x30..=0x7e) => Ground,
            (Csi, 0x40..=0x7e) => Ground,
            (Osc, 0x07) => Ground,
            (state, _) => state,
        }
    }

    /// The state after `bytes`. ESC, CAN and SUB lead to one state from
    /// any, so only what follows the last of them is followed.
    pub(super) fn after(self, bytes: &[u8]) -> Parser {
        match memchr::memrchr3(ESC, CAN, SUB, bytes) {
            Some(last) => self.step(bytes[last]).walk(&bytes[last + 1..]),
            None => self.walk(bytes),
        }
    }

    fn walk(mut self, bytes: &[u8]) -> Parser {
        let mut at = 0;
        while at < bytes.len() {
            if self == Parser::Ground {
                match memchr::memchr3(ESC, CAN, SUB, &bytes[at..]) {
                    Some(next) => at += next,
                    None => return self,
                }
            }
            self = self.step(bytes[at]);
            at += 1;
        }
        self
    }
}

/// `bytes[start..resume]` need not be parsed; it holds `lines` line feeds.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Cut {
    pub start: usize,
    pub resume: usize,
    pub lines: u64,
}

/// The stretch of `bytes` (fed to a parser in state `parser`) whose parse
/// would leave nothing behind once the rest is parsed, with at least `need`
/// line feeds after it (see the module comment); `None` when there is none
/// worth skipping.
pub(super) fn plan(bytes: &[u8], need: usize, parser: Parser) -> Option<Cut> {
    if bytes.len() < MIN_SKIP || need == 0 {
        return None;
    }
    let last_kept_lf = memchr::memrchr_iter(b'\n', bytes).nth(need - 1)?;
    let carriage = memchr::memrchr(b'\r', &bytes[..last_kept_lf])?;
    let run = quiet_run(&bytes[..carriage], parser)?;
    let last_text = run.last_text?;
    // The pen is the same where parsing resumes if no SGR came before,
    // or if a reset comes after.
    let pen_known = match (run.first_sgr, run.last_reset) {
        (None, _) => last_text,
        (Some(_), Some(reset)) => reset,
        (Some(sgr), None) => sgr,
    };
    let resume = last_text.min(pen_known);
    if resume.saturating_sub(run.start) < MIN_SKIP {
        return None;
    }
    let lines = memchr::memchr_iter(b'\n', &bytes[run.start..resume]).count() as u64;
    Some(Cut {
        start: run.start,
        resume,
        lines,
    })
}

/// The quiet run that ends a stretch of bytes: the longest tail holding
/// only what the module comment allows, from where the parser is at rest.
#[derive(Debug)]
struct Run {
    start: usize,
    /// Where its first SGR sequence begins.
    first_sgr: Option<usize>,
    /// Where its last SGR reset (`ESC [ m`, `ESC [ 0 m`) begins.
    last_reset: Option<usize>,
    /// Its last printable ASCII byte outside a sequence (what follows it
    /// is ASCII controls, SGR, or the rest of a UTF-8 character).
    last_text: Option<usize>,
}

fn quiet_run(bytes: &[u8], mut parser: Parser) -> Option<Run> {
    let mut run: Option<Run> = None;
    let mut at = 0;
    while at < bytes.len() {
        if parser != Parser::Ground {
            parser = parser.step(bytes[at]);
            at += 1;
            continue;
        }
        // The text up to the next ESC, checked in one pass (most of a
        // flood), byte by byte only when something in it is not quiet.
        let gap_end = memchr::memchr(ESC, &bytes[at..]).map_or(bytes.len(), |n| at + n);
        let gap = &bytes[at..gap_end];
        if gap.iter().fold(true, |all, &byte| all & quiet(byte)) {
            let here = run.get_or_insert_with(|| Run::at(at));
            if let Some(text) = gap.iter().rposition(|byte| (0x20..=0x7e).contains(byte)) {
                here.last_text = Some(at + text);
            }
        } else {
            for (offset, &byte) in gap.iter().enumerate() {
                if !quiet(byte) {
                    // Parsed, and the run starts again after it.
                    run = None;
                    continue;
                }
                let here = run.get_or_insert_with(|| Run::at(at + offset));
                if (0x20..=0x7e).contains(&byte) {
                    here.last_text = Some(at + offset);
                }
            }
        }
        at = gap_end;
        if at == bytes.len() {
            break;
        }
        let here = run.get_or_insert_with(|| Run::at(at));
        match sgr_len(&bytes[at..]) {
            Some(len) => {
                here.first_sgr.get_or_insert(at);
                if matches!(&bytes[at..at + len], b"\x1b[m" | b"\x1b[0m") {
                    here.last_reset = Some(at);
                }
                at += len;
            }
            None => {
                run = None;
                parser = parser.step(ESC);
                at += 1;
            }
        }
    }
    run
}

impl Run {
    fn at(start: usize) -> Run {
        Run {
            start,
            first_sgr: None,
            last_reset: None,
            last_text: None,
        }
    }
}

/// A byte that, outside a sequence, only prints or moves the cursor. Bytes
/// from 0x80 are UTF-8 (a C1 control decoded from it is a no-op here, as
/// it is for alacritty); SO and SI switch charsets, CAN and SUB have
/// effects of their own, so they end the stretch.
fn quiet(byte: u8) -> bool {
    matches!(byte, 0x20..=0x7e | 0x80..=0xff | b'\n' | b'\r' | b'\t' | 0x08 | 0x07 | 0x0b | 0x0c)
}

/// The length of the plain SGR sequence `bytes` begins with.
fn sgr_len(bytes: &[u8]) -> Option<usize> {
    let body = bytes.strip_prefix(b"\x1b[")?;
    let params = body
        .iter()
        .take(MAX_SGR)
        .position(|&b| !(b.is_ascii_digit() || b == b';' || b == b':'))?;
    (body[params] == b'm').then_some(params + 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize, prefix: &str) -> String {
        (0..n).map(|i| format!("\x1b[31m{prefix}{i}\x1b[0m tail\r\n")).collect()
    }

    fn cut(text: &str) -> Option<Cut> {
        plan(text.as_bytes(), 10_100, Parser::Ground)
    }

    #[test]
    fn a_long_flood_skips_all_but_what_the_history_keeps() {
        let text = lines(40_000, "row ");
        let cut = cut(&text).expect("a cut");
        assert_eq!(cut.start, 0);
        // It resumes at the last reset before the kept lines, so the pen
        // is known, and the text after it is parsed (REP repeats it).
        assert!(text[cut.resume..].starts_with("\x1b[0m tail\r\n"));
        let after = memchr::memchr_iter(b'\n', &text.as_bytes()[cut.resume..]).count();
        assert!((10_100..10_110).contains(&after), "{after} lines after");
        assert_eq!(cut.lines as usize + after, 40_000);
    }

    #[test]
    fn plain_text_with_no_sgr_resumes_at_its_last_text() {
        let text: String = (0..60_000).map(|i| format!("y {i}\r\n")).collect();
        let cut = cut(&text).expect("a cut");
        assert_eq!(cut.start, 0);
        assert!(
            text[cut.resume..].starts_with(char::is_numeric),
            "{:?}",
            &text[cut.resume..][..8]
        );
    }

    #[test]
    fn colours_never_reset_are_parsed_from_the_first() {
        let mut text: String = (0..30_000).map(|i| format!("plain {i}\r\n")).collect();
        let first = text.len();
        text.extend((0..30_000).map(|i| format!("\x1b[3{}mrow {i}\r\n", i % 8)));
        assert_eq!(cut(&text).expect("a cut").resume, first);
        let text: String = (0..40_000).map(|i| format!("\x1b[3{}mrow {i}\r\n", i % 8)).collect();
        assert_eq!(cut(&text), None);
    }

    #[test]
    fn too_few_lines_after_any_point_skips_nothing() {
        assert_eq!(cut(&lines(9_000, "row ")), None);
    }

    #[test]
    fn a_mode_change_starts_the_stretch_after_it() {
        let mut text = lines(20_000, "a ");
        text.push_str("\x1b[?1049h\x1b[?1049l");
        let resume = text.len();
        text.push_str(&lines(30_000, "b "));
        assert_eq!(cut(&text).expect("a cut").start, resume);
    }

    #[test]
    fn what_only_looks_like_text_inside_a_sequence_is_not_skipped() {
        // Text inside an OSC, a DCS and a CSI, opened before the batch or
        // inside it: the stretch starts where each has ended.
        for (before, opener, inside, closer) in [
            (Parser::Osc, "", "1049 text, no sequence yet\r\n", "\x07"),
            (Parser::Text, "", "1049 text, no sequence yet\r\n", "\x1b\\"),
            (Parser::Ground, "\x1bP", "1049 text, no sequence yet\r\n", "\x1b\\"),
            (Parser::Ground, "\x1b]0;", "1049 text, no sequence yet\r\n", "\x07"),
            (Parser::Csi, "", "?1049;12\r\n", "h"),
            (Parser::Escape, "", "\r\n", "c"),
        ] {
            let mut text = format!("{opener}{inside}{closer}");
            let after = text.len();
            text.push_str(&lines(30_000, "row "));
            let cut = plan(text.as_bytes(), 10_100, before).expect("a cut");
            assert_eq!(cut.start, after, "{before:?} {opener:?}");
        }
    }

    #[test]
    fn other_sequences_and_controls_end_the_stretch() {
        for breaker in [
            "\x1b[5;1H",
            "\x1b]0;title\x07",
            "\x0e",
            "\x1b(0",
            "\x1b[>4;1m",
            "\x18",
            "\x1b[2b",
        ] {
            let mut text = lines(30_000, "a ");
            text.push_str(breaker);
            let resume = text.len();
            text.push_str(&lines(12_000, "b "));
            let cut = cut(&text);
            assert!(
                cut.as_ref().is_none_or(|cut| cut.start >= resume),
                "{breaker:?}: {cut:?}"
            );
        }
    }

    #[test]
    fn no_carriage_return_before_the_kept_lines_means_no_cut() {
        // Bare line feeds keep the column, so nothing converges.
        let text: String = (0..40_000).map(|i| format!("\x1b[0mrow {i}\n")).collect();
        assert_eq!(cut(&text), None);
    }

    #[test]
    fn the_parser_mirror_follows_sequences_across_inputs() {
        let parser = Parser::Ground.after(b"text \x1b]0;tit");
        assert_eq!(parser, Parser::Osc);
        assert_eq!(parser.after(b"le\x07more"), Parser::Ground);
        assert_eq!(Parser::Ground.after(b"\x1b[1;3"), Parser::Csi);
        assert_eq!(Parser::Ground.after(b"\x1b[1;3\r\n"), Parser::Csi);
        assert_eq!(Parser::Ground.after(b"\x1b[1;3m"), Parser::Ground);
        assert_eq!(Parser::Ground.after(b"\x1bPq#0;2\x07x"), Parser::Text);
        assert_eq!(Parser::Ground.after(b"\x1bPq\x1b\\"), Parser::Ground);
        assert_eq!(Parser::Ground.after(b"\x1b(0"), Parser::Ground);
        assert_eq!(Parser::Ground.after(b"\x1b("), Parser::EscapeIntermediate);
        assert_eq!(Parser::Csi.after(b"\x18"), Parser::Ground);
    }

    #[test]
    fn the_mirror_from_the_last_escape_agrees_with_every_byte_followed() {
        let pieces: [&[u8]; 9] = [
            b"text ",
            b"\x1b[1;3",
            b"1m",
            b"\x1b]0;t",
            b"\x07",
            b"\x1bP",
            b"\x18",
            b"\x1b(",
            b"B",
        ];
        let mut seed = 7_u32;
        for _ in 0..2_000 {
            let mut bytes = Vec::new();
            for _ in 0..6 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                bytes.extend_from_slice(pieces[(seed >> 16) as usize % pieces.len()]);
            }
            for start in [Parser::Ground, Parser::Osc, Parser::Csi, Parser::Text] {
                assert_eq!(start.after(&bytes), start.walk(&bytes), "{start:?} {bytes:?}");
            }
        }
    }

    #[test]
    fn sgr_lengths() {
        assert_eq!(sgr_len(b"\x1b[m"), Some(3));
        assert_eq!(sgr_len(b"\x1b[1;38:2:1:2:3mX"), Some(15));
        assert_eq!(sgr_len(b"\x1b[1;2H"), None);
        assert_eq!(sgr_len(b"\x1b[?25m"), None);
        assert_eq!(sgr_len(b"\x1b[12"), None);
        let long = format!("\x1b[{}m", "1;".repeat(40));
        assert_eq!(sgr_len(long.as_bytes()), None);
    }
}

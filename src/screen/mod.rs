//! A session's terminal, kept by the host: every byte the program prints is
//! parsed into a screen grid (alacritty_terminal), with its modes, cursor
//! and title, and the rows that scroll off the top are kept, compactly, as
//! the bytes that paint them. From it a terminal that attaches late is
//! painted at the model's size ([`Screen::snapshot`]), the list shows a
//! preview ([`Screen::lines`]), and queries the program sends while no
//! terminal shows it are answered (the replies [`Screen::feed`] returns).
//!
//! Why alacritty_terminal: measured on recorded Claude Code, Codex and
//! Gemini sessions and a 32 MiB SGR flood (docs/ARCHITECTURE.md), it parses
//! 80–100 MiB/s against vt100's 35–87 and avt's 41–60, tracks every mode a
//! TUI sets (bracketed paste, mouse, focus, application keys, synchronized
//! updates), reflows on resize, and answers the standard queries itself.
//! Its cells are 24 bytes; its own scrollback would cost ~3 KB per 120
//! column row, so rows leave its grid as soon as they scroll off and are
//! kept here painted (~1.2 bytes per cell of text).

mod serialize;
pub mod status;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use alacritty_terminal::event::{Event, EventListener};
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::{Config, Term, TermMode};
use alacritty_terminal::vte::ansi::{Processor, Rgb, Timeout};

use serialize::Pen;

/// Rows the grid may hold past the screen before they are taken out; input
/// is fed in pieces no longer than this, and a row needs at least one byte.
const DRAIN_EVERY: usize = 1024;
/// The colours a program asking (OSC 10/11) is told, until an editor that
/// attaches says its own (Neovim's default dark scheme).
const DEFAULT_FG: Rgb = Rgb {
    r: 0xe0,
    g: 0xe2,
    b: 0xea,
};
const DEFAULT_BG: Rgb = Rgb {
    r: 0x14,
    g: 0x16,
    b: 0x1b,
};
/// Longest OSC string (a title, a hyperlink, a colour query) let through:
/// the parser buffers one whole, with no limit of its own, so a program
/// that opens one and never ends it would grow the host without bound.
const MAX_OSC: usize = 64 * 1024;

/// Sequences the model treats specially, after `ESC [`.
const MARKERS: [(&[u8], Marker); 5] = [
    (b"?1049h", Marker::AltEnter),
    (b"?1047h", Marker::AltEnter),
    (b"?47h", Marker::AltEnter),
    (b"2J", Marker::ClearScreen),
    (b"3J", Marker::ClearScrollback),
];

#[derive(Clone, Copy)]
enum Marker {
    /// The primary screen is kept as it was just before (the grid hides it
    /// while the alternate one is shown).
    AltEnter,
    ClearScreen,
    ClearScrollback,
}

/// What the terminal model sends back: replies to the program's queries, and
/// the title. Shared with the [`Screen`], since the model keeps its listener
/// to itself.
struct Heard {
    replies: Vec<u8>,
    title: Option<String>,
    colours: (Rgb, Rgb),
}

#[derive(Clone)]
struct Listener(Arc<Mutex<Heard>>);

impl Listener {
    fn heard(&self) -> MutexGuard<'_, Heard> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl EventListener for Listener {
    fn send_event(&self, event: Event) {
        let mut heard = self.heard();
        match event {
            Event::PtyWrite(text) => heard.replies.extend_from_slice(text.as_bytes()),
            Event::ColorRequest(index, format) => {
                // Indexed as alacritty's colours: the palette, then
                // foreground (OSC 10), background (11), cursor (12).
                let rgb = match index {
                    256 | 258 => heard.colours.0,
                    257 => heard.colours.1,
                    index => palette(index),
                };
                heard.replies.extend_from_slice(format(rgb).as_bytes());
            }
            Event::Title(title) => heard.title = Some(title),
            Event::ResetTitle => heard.title = None,
            _ => {}
        }
    }
}

/// The model's size.
struct Size {
    cols: usize,
    rows: usize,
}

impl Dimensions for Size {
    fn total_lines(&self) -> usize {
        self.rows
    }
    fn screen_lines(&self) -> usize {
        self.rows
    }
    fn columns(&self) -> usize {
        self.cols
    }
}

/// The largest model kept, whatever size a client asks the PTY to be: a
/// grid costs 24 bytes a cell, and 65535 x 65535 is a size an RPC can name.
const MAX_COLS: u16 = 1000;
const MAX_ROWS: u16 = 500;

fn size(cols: u16, rows: u16) -> Size {
    Size {
        cols: usize::from(cols.clamp(1, MAX_COLS)),
        rows: usize::from(rows.clamp(1, MAX_ROWS)),
    }
}

/// A row that scrolled off the top: the bytes that paint it, and whether
/// its text runs on into the next row (a soft wrap).
struct Stored {
    painted: Box<[u8]>,
    wrapped: bool,
}

/// The primary screen as it was when the alternate screen was entered.
struct Frozen {
    rows: Vec<Stored>,
    cursor: (usize, usize),
}

pub struct Screen {
    term: Term<Listener>,
    heard: Listener,
    parser: Processor,
    history: VecDeque<Stored>,
    history_bytes: usize,
    history_limit: usize,
    /// Where the stream is: rows ever pushed into the history, and how
    /// often the history was cleared. A terminal that has shown the stream
    /// up to a mark can be caught up from it ([`Screen::catch_up`]).
    mark: Mark,
    frozen: Option<Frozen>,
    /// Bumped by every change, so a preview can skip unchanged screens.
    generation: u64,
    /// Bytes of an OSC string still open at the end of the last input.
    osc_open: Option<usize>,
}

/// A point in a session's output stream (see [`Screen::catch_up`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    rows: u64,
    cleared: u64,
}

impl Mark {
    /// Rows that have scrolled into the history since `earlier`.
    pub fn rows_since(&self, earlier: Mark) -> u64 {
        if self.cleared == earlier.cleared {
            self.rows.saturating_sub(earlier.rows)
        } else {
            u64::MAX
        }
    }
}

/// Puts a terminal that has shown the stream back in its primary screen
/// with default modes and pen, before it is painted again.
pub const MODES_OFF: &[u8] = b"\x1b[?1049l\x1b[0m\x1b[r\x1b[?1l\x1b>\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1005l\x1b[?1004l\x1b[4l\x1b[?25h\x1b[?7h";

/// The screen as plain text, for a preview or `K`.
#[derive(Debug, Default, serde::Serialize)]
pub struct Text {
    pub lines: Vec<String>,
    pub cursor: (usize, usize),
    pub alternate: bool,
    pub title: Option<String>,
    pub generation: u64,
}

impl Screen {
    /// An empty screen of `cols` x `rows` that keeps `history` rows of
    /// scrollback.
    pub fn new(cols: u16, rows: u16, history: usize) -> Screen {
        let config = Config {
            scrolling_history: DRAIN_EVERY,
            ..Config::default()
        };
        let heard = Listener(Arc::new(Mutex::new(Heard {
            replies: Vec::new(),
            title: None,
            colours: (DEFAULT_FG, DEFAULT_BG),
        })));
        Screen {
            term: Term::new(config, &size(cols, rows), heard.clone()),
            heard,
            parser: Processor::new(),
            history: VecDeque::new(),
            history_bytes: 0,
            history_limit: history,
            mark: Mark::default(),
            frozen: None,
            generation: 0,
            osc_open: None,
        }
    }

    pub fn size(&self) -> (u16, u16) {
        let cols = u16::try_from(self.term.columns()).unwrap_or(u16::MAX);
        let rows = u16::try_from(self.term.screen_lines()).unwrap_or(u16::MAX);
        (cols, rows)
    }

    pub fn resize(&mut self, cols: u16, rows: u16) {
        if self.size() == (cols.clamp(1, MAX_COLS), rows.clamp(1, MAX_ROWS)) {
            return;
        }
        self.term.resize(size(cols, rows));
        self.drain_history();
        self.generation += 1;
    }

    /// The colours to report to a program that asks (OSC 10 and 11).
    pub fn set_colours(&mut self, fg: (u8, u8, u8), bg: (u8, u8, u8)) {
        let rgb = |(r, g, b)| Rgb { r, g, b };
        self.heard.heard().colours = (rgb(fg), rgb(bg));
    }

    /// Parse `bytes`, as the terminal that answers the program: returns
    /// what a terminal would reply to the queries among them (device
    /// attributes, cursor position, colours, version), for a session no
    /// real terminal shows.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.parse(bytes);
        let mut replies = std::mem::take(&mut self.heard.heard().replies);
        extra_answers(bytes, &mut replies);
        replies
    }

    /// Parse `bytes` while a real terminal shows the session (and answers
    /// it): the model's own replies are dropped, and the input is not
    /// searched for the queries it leaves to [`extra_answers`].
    pub fn feed_shown(&mut self, bytes: &[u8]) {
        self.parse(bytes);
        self.heard.heard().replies.clear();
    }

    fn parse(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        loop {
            let marker = next_marker(rest);
            let cut = marker.map_or(rest.len(), |(at, _, _)| at);
            for piece in rest[..cut].chunks(DRAIN_EVERY) {
                self.parser.advance(&mut self.term, piece);
                self.drain_history();
            }
            let Some((at, len, marker)) = marker else { break };
            let sequence = &rest[at..at + len];
            match marker {
                Marker::AltEnter => {
                    if !self.alternate() {
                        self.freeze_primary();
                    }
                    self.parser.advance(&mut self.term, sequence);
                    self.drain_history();
                }
                // alacritty keeps a cleared screen in its scrollback; Neovim's
                // terminal (what the stream would have built) does not.
                Marker::ClearScreen => {
                    self.settle();
                    self.parser.advance(&mut self.term, sequence);
                    self.term.grid_mut().clear_history();
                }
                Marker::ClearScrollback => {
                    self.parser.advance(&mut self.term, sequence);
                    self.history.clear();
                    self.history_bytes = 0;
                    self.mark.cleared += 1;
                }
            }
            rest = &rest[at + len..];
        }
        if self.track_osc(bytes) > MAX_OSC {
            // BEL ends it, as any terminal would take it.
            self.parser.advance(&mut self.term, b"\x07");
            self.osc_open = None;
        }
        self.generation += 1;
    }

    /// Follow OSC strings across inputs (`ESC ]` up to BEL, ESC or CAN);
    /// returns the length of one still open, 0 when none is.
    fn track_osc(&mut self, bytes: &[u8]) -> usize {
        let mut rest = bytes;
        loop {
            if let Some(open) = self.osc_open.as_mut() {
                match memchr::memchr3(0x07, 0x1b, 0x18, rest) {
                    Some(end) => {
                        self.osc_open = None;
                        rest = &rest[end..];
                    }
                    None => {
                        *open += rest.len();
                        return *open;
                    }
                }
            }
            match memchr::memmem::find(rest, b"\x1b]") {
                Some(start) => {
                    self.osc_open = Some(0);
                    rest = &rest[start + 2..];
                }
                None => return 0,
            }
        }
    }

    fn alternate(&self) -> bool {
        self.term.mode().contains(TermMode::ALT_SCREEN)
    }

    fn freeze_primary(&mut self) {
        self.settle();
        let cols = self.term.columns();
        let grid = self.term.grid();
        let rows = (0..self.term.screen_lines())
            .map(|line| paint(&grid[Line(line as i32)], cols))
            .collect();
        let cursor = (grid.cursor.point.line.0.max(0) as usize, grid.cursor.point.column.0);
        self.frozen = Some(Frozen { rows, cursor });
    }

    /// Take the rows that scrolled into the grid's history into ours.
    fn drain_history(&mut self) {
        let grid = self.term.grid();
        let count = grid.history_size();
        if count == 0 {
            return;
        }
        let cols = self.term.columns();
        for back in (1..=count).rev() {
            let stored = paint(&grid[Line(-(back as i32))], cols);
            self.history_bytes += stored.painted.len();
            self.history.push_back(stored);
            self.mark.rows += 1;
        }
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.history_bytes -= old.painted.len();
            }
        }
        self.term.grid_mut().clear_history();
    }

    /// Apply a synchronized update still being gathered: a snapshot must
    /// hold every byte parsed so far, or the stream that follows it would
    /// begin halfway through a frame.
    fn settle(&mut self) {
        if self.parser.sync_bytes_count() > 0 || self.parser.sync_timeout().pending_timeout() {
            self.parser.stop_sync(&mut self.term);
            self.drain_history();
        }
    }

    /// The bytes that paint a terminal of the model's size (fresh, or in its
    /// primary screen with default modes) into the model's state: scrollback, screen (both screens when the alternate
    /// one is shown), cursor, modes, pen and title.
    pub fn snapshot(&mut self) -> Vec<u8> {
        self.paint(0)
    }

    /// Where the stream is now.
    pub fn mark(&self) -> Mark {
        self.mark
    }

    /// The bytes that bring a terminal that showed the stream up to `since`
    /// to the state the whole stream would have left it in: back to its
    /// primary screen and default modes, the screen cleared (which keeps
    /// its scrollback), then the rows that scrolled off since, the screen
    /// and its state. Nothing else of its scrollback is touched, so this
    /// costs what changed, not what the history holds. A history cleared
    /// since is cleared in the terminal too, and painted whole.
    pub fn catch_up(&mut self, since: Mark) -> Vec<u8> {
        let mut out = MODES_OFF.to_vec();
        if since.cleared != self.mark.cleared || since.rows > self.mark.rows {
            out.extend_from_slice(b"\x1b[3J");
            out.extend_from_slice(&self.paint(0));
            return out;
        }
        let new = usize::try_from(self.mark.rows - since.rows).unwrap_or(usize::MAX);
        let skip = self.history.len().saturating_sub(new);
        out.extend_from_slice(&self.paint(skip));
        out
    }

    /// The screen and its state alone, over a terminal's screen (which
    /// keeps its scrollback as it was): a frame while the terminal is
    /// flooded, before [`Screen::catch_up`] brings its scrollback up too.
    pub fn frame(&mut self) -> Vec<u8> {
        let mut out = MODES_OFF.to_vec();
        let skip = self.history.len();
        out.extend_from_slice(&self.paint(skip));
        out
    }

    /// Paint from the top of a cleared screen: the history from row `skip`
    /// on, then the screen and its state.
    fn paint(&mut self, skip: usize) -> Vec<u8> {
        self.settle();
        let mut out = Vec::with_capacity(self.history_bytes + 16 * 1024);
        // From the top of a clear screen, whatever the terminal showed.
        out.extend_from_slice(b"\x1b[H\x1b[2J");
        for row in self.history.iter().skip(skip) {
            out.extend_from_slice(&row.painted);
            if !row.wrapped {
                out.extend_from_slice(b"\r\n");
            }
        }
        let cols = self.term.columns();
        let lines = self.term.screen_lines();
        let grid = self.term.grid();
        let live: Vec<Stored>;
        let (primary, primary_cursor) = match (&self.frozen, self.alternate()) {
            (Some(frozen), true) => (&frozen.rows, frozen.cursor),
            _ => {
                live = (0..lines).map(|line| paint(&grid[Line(line as i32)], cols)).collect();
                (&live, cursor_of(&self.term))
            }
        };
        for (index, row) in primary.iter().enumerate() {
            out.extend_from_slice(&row.painted);
            if !row.wrapped && index + 1 < primary.len() {
                out.extend_from_slice(b"\r\n");
            }
        }
        if self.alternate() {
            cup(&mut out, primary_cursor);
            out.extend_from_slice(b"\x1b[?1049h");
            for line in 0..lines {
                cup(&mut out, (line, 0));
                out.extend_from_slice(&paint(&grid[Line(line as i32)], cols).painted);
            }
        }
        cup(&mut out, cursor_of(&self.term));
        modes(*self.term.mode(), &mut out);
        let pen = Pen::of(&grid.cursor.template);
        if pen != Pen::DEFAULT {
            pen.write(&mut out);
        }
        if let Some(title) = self.heard.heard().title.as_deref() {
            out.extend_from_slice(b"\x1b]2;");
            out.extend(title.bytes().filter(|b| !b.is_ascii_control()));
            out.extend_from_slice(b"\x07");
        }
        out
    }

    /// The screen as text, its last `max` non-blank-trailing rows.
    pub fn text(&mut self, max: usize) -> Text {
        self.settle();
        let cols = self.term.columns();
        let grid = self.term.grid();
        let mut lines: Vec<String> = (0..self.term.screen_lines())
            .map(|line| serialize::text(&grid[Line(line as i32)], cols))
            .collect();
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        let skip = lines.len().saturating_sub(max);
        let cursor = cursor_of(&self.term);
        Text {
            lines: lines.split_off(skip),
            cursor: (cursor.0.saturating_sub(skip), cursor.1),
            alternate: self.alternate(),
            title: self.heard.heard().title.clone(),
            generation: self.generation,
        }
    }

    /// The scrollback's last `max` rows as text (oldest first).
    #[cfg(test)]
    pub fn history_text(&self, max: usize) -> Vec<String> {
        let skip = self.history.len().saturating_sub(max);
        self.history
            .iter()
            .skip(skip)
            .map(|row| serialize::plain(&row.painted))
            .collect()
    }

    /// Rows of history kept at most.
    pub fn history_limit(&self) -> usize {
        self.history_limit
    }

    #[cfg(test)]
    pub fn history_rows(&self) -> usize {
        self.history.len()
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }
}

fn paint(row: &alacritty_terminal::grid::Row<alacritty_terminal::term::cell::Cell>, cols: usize) -> Stored {
    let mut painted = Vec::with_capacity(cols);
    let wrapped = serialize::row(row, cols, &mut painted);
    Stored {
        painted: painted.into_boxed_slice(),
        wrapped,
    }
}

fn cursor_of(term: &Term<Listener>) -> (usize, usize) {
    let point = term.grid().cursor.point;
    (
        point.line.0.max(0) as usize,
        point.column.0.min(Column(term.columns()).0),
    )
}

fn cup(out: &mut Vec<u8>, (line, col): (usize, usize)) {
    out.extend_from_slice(format!("\x1b[{};{}H", line + 1, col + 1).as_bytes());
}

/// The modes a fresh terminal must be put in to behave like the model.
fn modes(mode: TermMode, out: &mut Vec<u8>) {
    let set = [
        (TermMode::APP_CURSOR, "\x1b[?1h"),
        (TermMode::APP_KEYPAD, "\x1b="),
        (TermMode::BRACKETED_PASTE, "\x1b[?2004h"),
        (TermMode::MOUSE_REPORT_CLICK, "\x1b[?1000h"),
        (TermMode::MOUSE_DRAG, "\x1b[?1002h"),
        (TermMode::MOUSE_MOTION, "\x1b[?1003h"),
        (TermMode::SGR_MOUSE, "\x1b[?1006h"),
        (TermMode::UTF8_MOUSE, "\x1b[?1005h"),
        (TermMode::FOCUS_IN_OUT, "\x1b[?1004h"),
        (TermMode::INSERT, "\x1b[4h"),
    ];
    for (flag, code) in set {
        if mode.contains(flag) {
            out.extend_from_slice(code.as_bytes());
        }
    }
    if !mode.contains(TermMode::SHOW_CURSOR) {
        out.extend_from_slice(b"\x1b[?25l");
    }
    if !mode.contains(TermMode::LINE_WRAP) {
        out.extend_from_slice(b"\x1b[?7l");
    }
}

/// The next of [`MARKERS`]: where it starts, its length, what it is.
fn next_marker(bytes: &[u8]) -> Option<(usize, usize, Marker)> {
    memchr::memmem::find_iter(bytes, b"\x1b[").find_map(|at| {
        let after = &bytes[at + 2..];
        MARKERS
            .iter()
            .find(|(seq, _)| after.starts_with(seq))
            .map(|&(seq, marker)| (at, seq.len() + 2, marker))
    })
}

/// Queries alacritty_terminal leaves unanswered: XTVERSION, and the kitty
/// keyboard flags (none: lulu's terminal is whatever the editor's is, and
/// the plain encoding is what every terminal understands).
fn extra_answers(bytes: &[u8], replies: &mut Vec<u8>) {
    let queries: [(&[u8], &[u8]); 3] = [
        (b"\x1b[>q", b"\x1bP>|lulu(0.1)\x1b\\"),
        (b"\x1b[>0q", b"\x1bP>|lulu(0.1)\x1b\\"),
        (b"\x1b[?u", b"\x1b[?0u"),
    ];
    for (query, answer) in queries {
        for _ in memchr::memmem::find_iter(bytes, query) {
            replies.extend_from_slice(answer);
        }
    }
}

/// xterm's 256-colour palette, for OSC 4 queries.
fn palette(index: usize) -> Rgb {
    const BASE: [(u8, u8, u8); 16] = [
        (0x00, 0x00, 0x00),
        (0xcd, 0x00, 0x00),
        (0x00, 0xcd, 0x00),
        (0xcd, 0xcd, 0x00),
        (0x00, 0x00, 0xee),
        (0xcd, 0x00, 0xcd),
        (0x00, 0xcd, 0xcd),
        (0xe5, 0xe5, 0xe5),
        (0x7f, 0x7f, 0x7f),
        (0xff, 0x00, 0x00),
        (0x00, 0xff, 0x00),
        (0xff, 0xff, 0x00),
        (0x5c, 0x5c, 0xff),
        (0xff, 0x00, 0xff),
        (0x00, 0xff, 0xff),
        (0xff, 0xff, 0xff),
    ];
    let (r, g, b) = match index {
        0..=15 => BASE[index],
        16..=231 => {
            let level = |v: usize| if v == 0 { 0 } else { (55 + v * 40) as u8 };
            let i = index - 16;
            (level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        232..=255 => {
            let v = (8 + (index - 232) * 10) as u8;
            (v, v, v)
        }
        _ => (DEFAULT_FG.r, DEFAULT_FG.g, DEFAULT_FG.b),
    };
    Rgb { r, g, b }
}

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

mod answers;
#[cfg(test)]
mod flood_tests;
mod grow;
mod paint;
mod parse;
mod serialize;
mod skip;
pub mod status;
#[cfg(test)]
mod tests;
mod written;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::{Config, Term};
use alacritty_terminal::vte::ansi::{Processor, Rgb};

use answers::{DEFAULT_BG, DEFAULT_FG, Heard, Listener, extra_answers};

/// Rows the grid may hold past the screen before they are taken out; input
/// is fed in pieces no longer than this, and a row needs at least one byte.
const DRAIN_EVERY: usize = 1024;
/// The history's bound in bytes, per row it may keep: rows of plain or
/// lightly coloured text take a tenth of this, so only rows painted cell by
/// cell in colours of their own (which could otherwise grow a session's
/// history to hundreds of megabytes) make it keep fewer rows.
const ROW_BYTES: usize = 1024;
/// Rows that must scroll between two compactions ([`Screen::compact`]).
const COMPACT_ROWS: u64 = 256;
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
    /// Cells up to its last one that shows (what it needs of a row).
    width: u16,
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
    /// Where the parser is after the bytes fed so far (see [`skip`]).
    rest: skip::Parser,
    /// Bytes left unparsed because nothing they printed could be kept.
    skipped: u64,
    /// `mark.rows` when the model was last compacted.
    compacted_at: u64,
}

/// A point in a session's output stream (see [`Screen::catch_up`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    rows: u64,
    cleared: u64,
}

impl Mark {
    /// Where a terminal that has been shown nothing stands: caught up from
    /// here, it is painted the whole history.
    pub const UNSEEN: Mark = Mark {
        rows: u64::MAX,
        cleared: 0,
    };

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
            rest: skip::Parser::Ground,
            skipped: 0,
            compacted_at: 0,
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
        let before = self.term.screen_lines();
        self.term.resize(size(cols, rows));
        self.drain_history();
        self.pull_back(self.term.screen_lines().saturating_sub(before));
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

    /// Where the stream is now.
    pub fn mark(&self) -> Mark {
        self.mark
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

    /// Give back what output made the model take and no longer needs: the
    /// grid's cache of rows (alacritty keeps up to a thousand spare rows of
    /// 24-byte cells once its history has grown) and the history's spare
    /// room. Called once the session has been quiet for a moment; only
    /// after [`COMPACT_ROWS`] rows scrolled since the last time, so a
    /// program that prints a line now and then does not have a thousand
    /// rows allocated again for each. True when it did.
    pub fn compact(&mut self) -> bool {
        if self.mark.rows.saturating_sub(self.compacted_at) < COMPACT_ROWS {
            return false;
        }
        self.compacted_at = self.mark.rows;
        self.term.grid_mut().truncate();
        self.history.shrink_to_fit();
        true
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

    /// Bytes the model never had to parse (floods whose rows could not
    /// have been kept).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

fn cursor_of(term: &Term<Listener>) -> (usize, usize) {
    let point = term.grid().cursor.point;
    (
        point.line.0.max(0) as usize,
        point.column.0.min(Column(term.columns()).0),
    )
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

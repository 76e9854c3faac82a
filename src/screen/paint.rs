//! The model painted back into a terminal: a snapshot for a fresh one, a
//! catch-up for one that fell behind, a frame of the screen alone; and the
//! pieces they are made of.

use alacritty_terminal::grid::{Dimensions, Row};
use alacritty_terminal::index::Line;
use alacritty_terminal::term::TermMode;
use alacritty_terminal::term::cell::Cell;

use super::serialize::{self, Pen};
use super::{MODES_OFF, Mark, Screen, Stored, cursor_of};

impl Screen {
    /// The bytes that paint a terminal of the model's size (fresh, or in its
    /// primary screen with default modes) into the model's state: scrollback, screen (both screens when the alternate
    /// one is shown), cursor, modes, pen and title.
    pub fn snapshot(&mut self) -> Vec<u8> {
        self.paint(0, false)
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
            out.extend_from_slice(&self.paint(0, false));
            return out;
        }
        let new = usize::try_from(self.mark.rows - since.rows).unwrap_or(usize::MAX);
        let skip = self.history.len().saturating_sub(new);
        out.extend_from_slice(&self.paint(skip, false));
        out
    }

    /// The screen and its state alone, over a terminal's screen (which
    /// keeps its scrollback as it was): a frame while the terminal is
    /// flooded, before [`Screen::catch_up`] brings its scrollback up too.
    /// Each row is put in its place rather than after a line feed, so a
    /// frame never scrolls a row into the terminal's scrollback, even when
    /// the terminal has just become shorter than the model.
    pub fn frame(&mut self) -> Vec<u8> {
        let mut out = MODES_OFF.to_vec();
        let skip = self.history.len();
        out.extend_from_slice(&self.paint(skip, true));
        out
    }

    /// Paint from the top of a cleared screen: the history from row `skip`
    /// on, then the screen (its rows `placed` by cursor moves, or after
    /// line feeds, which scroll the history into the scrollback), and its
    /// state.
    pub(super) fn paint(&mut self, skip: usize, placed: bool) -> Vec<u8> {
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
                live = (0..lines)
                    .map(|line| painted_row(&grid[Line(line as i32)], cols))
                    .collect();
                (&live, cursor_of(&self.term))
            }
        };
        for (index, row) in primary.iter().enumerate() {
            if placed {
                cup(&mut out, (index, 0));
            }
            out.extend_from_slice(&row.painted);
            if !placed && !row.wrapped && index + 1 < primary.len() {
                out.extend_from_slice(b"\r\n");
            }
        }
        if self.alternate() {
            cup(&mut out, primary_cursor);
            out.extend_from_slice(b"\x1b[?1049h");
            for line in 0..lines {
                cup(&mut out, (line, 0));
                out.extend_from_slice(&painted_row(&grid[Line(line as i32)], cols).painted);
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
}

pub(super) fn painted_row(row: &Row<Cell>, cols: usize) -> Stored {
    let mut painted = Vec::with_capacity(cols);
    let (wrapped, width) = serialize::row(row, cols, &mut painted);
    Stored {
        painted: painted.into_boxed_slice(),
        wrapped,
        width: u16::try_from(width).unwrap_or(u16::MAX),
    }
}

pub(super) fn cup(out: &mut Vec<u8>, (line, col): (usize, usize)) {
    out.extend_from_slice(format!("\x1b[{};{}H", line + 1, col + 1).as_bytes());
}

/// The modes a fresh terminal must be put in to behave like the model.
pub(super) fn modes(mode: TermMode, out: &mut Vec<u8>) {
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

//! A screen that grows taller takes back the rows that scrolled off last,
//! as tmux and Neovim's own terminal do: the prompt stays at the bottom
//! and the rows above it fill the new space, rather than the screen
//! keeping its rows at the top over a band of blank ones.
//!
//! alacritty would pull them from its own scrollback, but the model keeps
//! its history itself ([`super::Stored`] rows), so they are put back here:
//! the screen moves down over the blank rows below its last written one,
//! and the freed rows at the top are painted from the newest stored rows
//! (each parsed into a row of its own, so no state of the live terminal,
//! its pen or character set, touches them).

use alacritty_terminal::Term;
use alacritty_terminal::event::VoidListener;
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::Config;
use alacritty_terminal::term::cell::Flags;
use alacritty_terminal::vte::ansi::Processor;

use super::written::Tap;
use super::{Screen, size};

impl Screen {
    /// After the screen grew by `grown` rows: take back up to that many of
    /// the newest history rows, those that fit one row at this width (a
    /// row that wrapped, or is wider, stays in the history, and so do the
    /// rows before it).
    pub(super) fn pull_back(&mut self, grown: usize) {
        if grown == 0 || self.alternate() || self.frozen.is_some() {
            return;
        }
        let lines = self.term.screen_lines();
        let cols = self.term.columns();
        let grid = self.term.grid();
        let cursor = usize::try_from(grid.cursor.point.line.0).unwrap_or(0);
        let room = (cursor + 1..lines)
            .rev()
            .take_while(|&line| grid[Line(line as i32)].is_clear())
            .count();
        let take = self
            .history
            .iter()
            .rev()
            .take(grown.min(room))
            .take_while(|row| !row.wrapped && usize::from(row.width) <= cols)
            .count();
        if take == 0 {
            return;
        }
        let rows: Vec<_> = self.history.drain(self.history.len() - take..).collect();
        let freed: usize = rows.iter().map(|row| row.painted.len()).sum();
        self.history_bytes -= freed;
        self.mark.rows = self.mark.rows.saturating_sub(take as u64);
        let grid = self.term.grid_mut();
        grid.scroll_down(&(Line(0)..Line(lines as i32)), take);
        grid.cursor.point.line += take;
        grid.saved_cursor.point.line += take;
        let mut scratch = Term::new(Config::default(), &size(cols as u16, 1), VoidListener);
        let mut parser: Processor = Processor::new();
        for (line, row) in rows.iter().enumerate() {
            scratch.grid_mut().cursor.point.column = Column(0);
            scratch.grid_mut().cursor.input_needs_wrap = false;
            parser.advance(&mut Tap(&mut scratch), b"\x1b[2K");
            parser.advance(&mut Tap(&mut scratch), &row.painted);
            let mut painted = scratch.grid()[Line(0)].clone();
            // (Not a wrapped row: the row after it starts a line.)
            painted[Column(cols - 1)].flags.remove(Flags::WRAPLINE);
            self.term.grid_mut()[Line(line as i32)] = painted;
        }
    }
}

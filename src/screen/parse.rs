//! Bytes into the model: the sequences it treats itself ([`MARKERS`]),
//! floods it need not parse ([`super::skip`]), OSC strings it bounds, and
//! the rows that scroll off taken into its history.

use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::Line;
use alacritty_terminal::term::TermMode;
use alacritty_terminal::vte::ansi::{Handler, NamedPrivateMode, Timeout};

use super::paint::painted_row;
use super::written::Tap;
use super::{DRAIN_EVERY, Frozen, MAX_OSC, Marker, ROW_BYTES, Screen, next_marker, skip};

impl Screen {
    pub(super) fn parse(&mut self, bytes: &[u8]) {
        let need = self.history_limit + 2 * self.term.screen_lines();
        match skip::plan(bytes, need, self.rest) {
            Some(cut) => {
                self.parse_run(&bytes[..cut.start]);
                if self.may_skip() {
                    // All the stretch leaves is its rows, counted as
                    // scrolled off.
                    self.mark.rows += cut.lines;
                    self.skipped += (cut.resume - cut.start) as u64;
                    self.parse_run(&bytes[cut.resume..]);
                } else {
                    self.parse_run(&bytes[cut.start..]);
                }
            }
            None => self.parse_run(bytes),
        }
        self.rest = self.rest.after(bytes);
        if self.track_osc(bytes) > MAX_OSC {
            // BEL ends it, as any terminal would take it.
            self.parser.advance(&mut Tap(&mut self.term), b"\x07");
            self.rest = self.rest.after(b"\x07");
            self.osc_open = None;
        }
        self.generation += 1;
    }

    /// Whether a stretch [`skip::plan`] found may go unparsed: what it
    /// proves of the bytes holds only if every line feed at the bottom of
    /// the screen scrolls a row into the history, and nothing is being
    /// gathered for a synchronized update.
    pub(super) fn may_skip(&mut self) -> bool {
        !self.alternate()
            && self.parser.sync_bytes_count() == 0
            && !self.parser.sync_timeout().pending_timeout()
            && self.scrolls_whole_screen()
    }

    /// Whether the scroll region is the whole screen. alacritty keeps it to
    /// itself; in origin mode the cursor's home is the region's top and
    /// its lowest line the region's bottom, so the cursor is sent to both
    /// and then put back as it was.
    pub(super) fn scrolls_whole_screen(&mut self) -> bool {
        let lines = self.term.screen_lines();
        let cursor = self.term.grid().cursor.clone();
        let origin = self.term.mode().contains(TermMode::ORIGIN);
        if !origin {
            self.term.set_private_mode(NamedPrivateMode::Origin.into());
        }
        self.term.goto(0, 0);
        let top = self.term.grid().cursor.point.line;
        self.term.goto(i32::try_from(lines).unwrap_or(i32::MAX), 0);
        let bottom = self.term.grid().cursor.point.line;
        if !origin {
            self.term.unset_private_mode(NamedPrivateMode::Origin.into());
        }
        self.term.grid_mut().cursor = cursor;
        top == Line(0) && bottom == Line(lines as i32 - 1)
    }

    /// Parse `bytes` whole, minding the sequences of [`MARKERS`].
    pub(super) fn parse_run(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        loop {
            let marker = next_marker(rest);
            let cut = marker.map_or(rest.len(), |(at, _, _)| at);
            for piece in rest[..cut].chunks(DRAIN_EVERY) {
                self.parser.advance(&mut Tap(&mut self.term), piece);
                self.drain_history();
            }
            let Some((at, len, marker)) = marker else { break };
            let sequence = &rest[at..at + len];
            match marker {
                Marker::AltEnter => {
                    if !self.alternate() {
                        self.freeze_primary();
                    }
                    self.parser.advance(&mut Tap(&mut self.term), sequence);
                    self.drain_history();
                }
                // alacritty keeps a cleared screen in its scrollback; Neovim's
                // terminal (what the stream would have built) does not.
                Marker::ClearScreen => {
                    self.settle();
                    self.parser.advance(&mut Tap(&mut self.term), sequence);
                    self.term.grid_mut().clear_history();
                }
                Marker::ClearScrollback => {
                    self.parser.advance(&mut Tap(&mut self.term), sequence);
                    self.history.clear();
                    self.history_bytes = 0;
                    self.mark.cleared += 1;
                }
            }
            rest = &rest[at + len..];
        }
    }

    /// Follow OSC strings across inputs (`ESC ]` up to BEL, ESC or CAN);
    /// returns the length of one still open, 0 when none is.
    pub(super) fn track_osc(&mut self, bytes: &[u8]) -> usize {
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

    pub(super) fn alternate(&self) -> bool {
        self.term.mode().contains(TermMode::ALT_SCREEN)
    }

    pub(super) fn freeze_primary(&mut self) {
        self.settle();
        let cols = self.term.columns();
        let grid = self.term.grid();
        let rows = (0..self.term.screen_lines())
            .map(|line| painted_row(&grid[Line(line as i32)], cols))
            .collect();
        let cursor = (grid.cursor.point.line.0.max(0) as usize, grid.cursor.point.column.0);
        self.frozen = Some(Frozen { rows, cursor });
    }

    /// Take the rows that scrolled into the grid's history into ours.
    pub(super) fn drain_history(&mut self) {
        let grid = self.term.grid();
        let count = grid.history_size();
        if count == 0 {
            return;
        }
        let cols = self.term.columns();
        for back in (1..=count).rev() {
            let stored = painted_row(&grid[Line(-(back as i32))], cols);
            self.history_bytes += stored.painted.len();
            self.history.push_back(stored);
            self.mark.rows += 1;
        }
        let most_bytes = self.history_limit.saturating_mul(ROW_BYTES);
        while self.history.len() > self.history_limit || self.history_bytes > most_bytes {
            if let Some(old) = self.history.pop_front() {
                self.history_bytes -= old.painted.len();
            }
        }
        self.term.grid_mut().clear_history();
    }

    /// Apply a synchronized update still being gathered: a snapshot must
    /// hold every byte parsed so far, or the stream that follows it would
    /// begin halfway through a frame.
    pub(super) fn settle(&mut self) {
        if self.parser.sync_bytes_count() > 0 || self.parser.sync_timeout().pending_timeout() {
            self.parser.stop_sync(&mut Tap(&mut self.term));
            self.drain_history();
        }
    }
}

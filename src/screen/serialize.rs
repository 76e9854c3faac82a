//! A grid row as the bytes that paint it: text with SGR attributes, starting
//! from the default pen and ending back at it, so rows can be stored apart
//! and painted in any order.

use alacritty_terminal::grid::Row;
use alacritty_terminal::index::Column;
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::vte::ansi::{Color, NamedColor};

use super::written::WRITTEN_SPACE;

/// The attributes a cell is painted with (colours and the flags SGR sets).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Pen {
    fg: Color,
    bg: Color,
    flags: Flags,
}

const SGR_FLAGS: Flags = Flags::BOLD
    .union(Flags::DIM)
    .union(Flags::ITALIC)
    .union(Flags::INVERSE)
    .union(Flags::HIDDEN)
    .union(Flags::STRIKEOUT)
    .union(Flags::ALL_UNDERLINES);

impl Pen {
    pub(super) const DEFAULT: Pen = Pen {
        fg: Color::Named(NamedColor::Foreground),
        bg: Color::Named(NamedColor::Background),
        flags: Flags::empty(),
    };

    pub(super) fn of(cell: &Cell) -> Pen {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            flags: cell.flags & SGR_FLAGS,
        }
    }

    /// `ESC[0;…m`: the whole pen, from a reset.
    pub(super) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\x1b[0");
        let flags = [
            (Flags::BOLD, ";1"),
            (Flags::DIM, ";2"),
            (Flags::ITALIC, ";3"),
            (Flags::UNDERLINE, ";4"),
            (Flags::DOUBLE_UNDERLINE, ";21"),
            (Flags::UNDERCURL, ";4:3"),
            (Flags::DOTTED_UNDERLINE, ";4:4"),
            (Flags::DASHED_UNDERLINE, ";4:5"),
            (Flags::INVERSE, ";7"),
            (Flags::HIDDEN, ";8"),
            (Flags::STRIKEOUT, ";9"),
        ];
        for (flag, code) in flags {
            if self.flags.contains(flag) {
                out.extend_from_slice(code.as_bytes());
            }
        }
        colour(out, self.fg, 30);
        colour(out, self.bg, 40);
        out.push(b'm');
    }
}

/// `;38;5;n`-style parameters for a colour; `base` 30 (foreground) or 40.
/// (No formatting machinery: this runs for every pen change of every row
/// that scrolls off.)
fn colour(out: &mut Vec<u8>, colour: Color, base: u8) {
    let indexed = match colour {
        Color::Named(NamedColor::Foreground | NamedColor::Background | NamedColor::Cursor) => return,
        Color::Named(NamedColor::BrightForeground | NamedColor::DimForeground) => return,
        Color::Named(named) => {
            let index = named as usize;
            let dim = NamedColor::DimBlack as usize;
            let index = if (dim..dim + 8).contains(&index) {
                index - dim
            } else {
                index
            };
            u8::try_from(index).unwrap_or(7)
        }
        Color::Indexed(index) => index,
        Color::Spec(rgb) => {
            out.push(b';');
            number(out, base + 8);
            out.extend_from_slice(b";2;");
            number(out, rgb.r);
            out.push(b';');
            number(out, rgb.g);
            out.push(b';');
            number(out, rgb.b);
            return;
        }
    };
    out.push(b';');
    match indexed {
        0..=7 => number(out, base + indexed),
        8..=15 => number(out, base + 60 + indexed - 8),
        _ => {
            number(out, base + 8);
            out.extend_from_slice(b";5;");
            number(out, indexed);
        }
    }
}

/// `n` in decimal.
fn number(out: &mut Vec<u8>, n: u8) {
    if n >= 100 {
        out.push(b'0' + n / 100);
    }
    if n >= 10 {
        out.push(b'0' + (n / 10) % 10);
    }
    out.push(b'0' + n % 10);
}

/// Paint `row` (its first `cols` cells) into `out`. A soft-wrapped row is
/// painted to its last column, so the text runs on into the next row; any
/// other row stops at its last visible cell. Returns whether it wrapped,
/// and how many cells it painted.
///
/// Every row that scrolls off is painted once, so this is on the flood
/// path: plain slices, ASCII written as bytes, pens compared field by field.
pub(super) fn row(row: &Row<Cell>, cols: usize, out: &mut Vec<u8>) -> (bool, usize) {
    let all = &row[..];
    let cells = &all[..cols.min(all.len())];
    let wrapped = cells.last().is_some_and(|cell| cell.flags.contains(Flags::WRAPLINE));
    let end = if wrapped {
        cells.len()
    } else {
        cells.iter().rposition(visible).map_or(0, |at| at + 1)
    };
    let mut pen = Pen::DEFAULT;
    let mut buf = [0u8; 4];
    for cell in &cells[..end] {
        // The half of a wide character, and the padding a wide character
        // that did not fit left at the end of a row: a terminal of any
        // width makes its own.
        if cell
            .flags
            .intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
        {
            continue;
        }
        if cell.fg != pen.fg || cell.bg != pen.bg || (cell.flags & SGR_FLAGS) != pen.flags {
            pen = Pen::of(cell);
            pen.write(out);
        }
        let c = cell.c;
        if c.is_ascii_graphic() || c == ' ' {
            out.push(c as u8);
        } else if c == WRITTEN_SPACE {
            // Written: a terminal keeps it, trailing or not.
            out.push(b' ');
        } else {
            let c = if c < ' ' { ' ' } else { c };
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        if cell.extra.is_some()
            && let Some(marks) = cell.zerowidth()
        {
            for mark in marks {
                out.extend_from_slice(mark.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    if pen != Pen::DEFAULT {
        out.extend_from_slice(b"\x1b[0m");
    }
    (wrapped, end)
}

/// Whether a cell shows anything (text, a space the program wrote, or a
/// background or line). A tab
/// leaves `\t` in the cell it starts at (alacritty keeps it for copying),
/// which shows as blank.
fn visible(cell: &Cell) -> bool {
    (cell.c != ' ' && cell.c != '\t' && !cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER))
        || cell.bg != Pen::DEFAULT.bg
        || cell
            .flags
            .intersects(Flags::INVERSE | Flags::ALL_UNDERLINES | Flags::STRIKEOUT)
}

/// The row's text, no attributes, trailing blanks dropped.
pub(super) fn text(row: &Row<Cell>, cols: usize) -> String {
    let cols = cols.min(row.len());
    let mut text = String::with_capacity(cols);
    for col in 0..cols {
        let cell = &row[Column(col)];
        if cell
            .flags
            .intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
        {
            continue;
        }
        text.push(if cell.c < ' ' || cell.c == WRITTEN_SPACE {
            ' '
        } else {
            cell.c
        });
        if let Some(marks) = cell.zerowidth() {
            text.extend(marks);
        }
    }
    text.truncate(text.trim_end().len());
    text
}

/// Strip what a painted row must not carry into another terminal's state:
/// nothing but SGR and text is ever written by [`row`], so this only drops
/// the SGR, for a plain-text view of a stored row.
#[cfg(test)]
pub(super) fn plain(painted: &[u8]) -> String {
    let mut text = Vec::with_capacity(painted.len());
    let mut at = 0;
    while at < painted.len() {
        if painted[at] == 0x1b {
            // Always `ESC [ params m`.
            at += painted[at..]
                .iter()
                .position(|&b| b == b'm')
                .map_or(painted.len(), |end| end + 1);
            continue;
        }
        text.push(painted[at]);
        at += 1;
    }
    String::from_utf8_lossy(&text).into_owned()
}

//! Floods: fed in big batches (rows skipped, never parsed), a screen ends
//! exactly as the stream would have left it.

use alacritty_terminal::term::TermMode;

use super::*;

/// A flood with what a build log holds: colours, bold, tabs, wide
/// characters, combining marks, backspaces, bells, lines longer than the
/// screen, lines with no reset at their end.
fn busy_flood(lines: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..lines {
        let line = match i % 7 {
            0 => format!(
                "\x1b[3{}m{i:06}\x1b[0m compiling crate\t{}\r\n",
                i % 8,
                "x".repeat(i % 50)
            ),
            1 => format!("\x1b[1;38;5;{}mwarning\x1b[m: 漢字 wide é\u{301} {i}\r\n", i % 256),
            2 => format!("{}\r\n", "long line that wraps past the edge ".repeat(4)),
            3 => format!("progress {i}\x08\x08\x07 done\r\n"),
            4 => format!("\x1b[4;48;2;10;20;{}munderlined {i}\r\n", i % 256),
            5 => format!("\x1b[0mplain {i}\x0b\r"),
            _ => format!("\x1b[0m\x1b[32m  {i} ok\x1b[0m\r\n"),
        };
        out.extend_from_slice(line.as_bytes());
    }
    out
}

/// Feed `input` in `piece`-sized reads; returns the screen and its full
/// painting (history, screen, cursor, modes, pen).
fn fed(input: &[u8], piece: usize, cols: u16, rows: u16, history: usize) -> (Screen, Vec<u8>) {
    let mut screen = Screen::new(cols, rows, history);
    for read in input.chunks(piece) {
        screen.feed_shown(read);
    }
    let painted = screen.snapshot();
    (screen, painted)
}

#[test]
fn a_flood_fed_in_big_batches_skips_rows_and_ends_exactly_as_one_fed_whole() {
    let mut input = b"\x1b]2;building\x07\x1b[?2004h\x1b[2;5H$ make\r\n".to_vec();
    input.extend(busy_flood(30_000));
    input.extend_from_slice(b"\x1b[1;31mfinal \x1b[4mpen");
    let (slow, expected) = fed(&input, 4096, 80, 24, 2_000);
    assert_eq!(slow.skipped(), 0, "4 KiB reads are never skipped");
    for batch in [input.len(), 1 << 20, 700_000] {
        let (mut fast, painted) = fed(&input, batch, 80, 24, 2_000);
        assert!(fast.skipped() > 0, "batches of {batch} skipped nothing");
        assert_eq!(painted, expected, "batches of {batch}");
        let (mut slow, _) = fed(&input, 4096, 80, 24, 2_000);
        assert_eq!(fast.text(24).lines, slow.text(24).lines);
        assert_eq!(fast.text(24).title, slow.text(24).title);
    }
}

#[test]
fn a_skipped_flood_catches_a_terminal_up_as_the_stream_would() {
    let input = busy_flood(30_000);
    let mut screen = Screen::new(80, 24, 2_000);
    screen.feed_shown(b"before\r\n");
    let mark = screen.mark();
    screen.feed_shown(&input);
    assert!(screen.skipped() > 0);
    // A terminal that showed "before" and then missed the flood.
    let mut terminal = Screen::new(80, 24, 2_000);
    terminal.feed(b"before\r\n");
    terminal.feed(&screen.catch_up(mark));
    let (mut whole, _) = fed(&[b"before\r\n".as_slice(), &input].concat(), 4096, 80, 24, 2_000);
    let (got, want) = (terminal.history_text(2_000), whole.history_text(2_000));
    let first = got.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(
        first.map(|at| (&got[at], &want[at])),
        None,
        "rows {} vs {}",
        got.len(),
        want.len()
    );
    assert_eq!(got.len(), want.len());
    assert_eq!(terminal.text(24).lines, whole.text(24).lines);
}

#[test]
fn no_skip_where_the_stream_could_keep_what_it_prints() {
    let flood = busy_flood(30_000);
    // A scroll region (lines do not reach the history), the alternate
    // screen, a synchronized update being gathered: each is parsed whole,
    // and still ends as the stream would.
    for before in ["\x1b[1;20r", "\x1b[5;24r", "\x1b[?1049h", "\x1b[?2026h"] {
        let mut input = before.as_bytes().to_vec();
        input.extend_from_slice(&flood);
        let (_, expected) = fed(&input, 4096, 80, 24, 2_000);
        let (fast, painted) = fed(&input, input.len(), 80, 24, 2_000);
        assert_eq!(fast.skipped(), 0, "{before:?}");
        assert_eq!(painted, expected, "{before:?}");
    }
}

#[test]
fn the_scroll_region_probe_leaves_the_cursor_and_modes_as_they_were() {
    let mut screen = Screen::new(40, 10, 100);
    screen.feed(b"\x1b[3;8r\x1b[5;7Hab\x1b7");
    let before = screen.snapshot();
    assert!(!screen.scrolls_whole_screen());
    assert_eq!(screen.snapshot(), before);
    screen.feed(b"\x1b[r\x1b[?6h\x1b[2;3H");
    let before = screen.snapshot();
    assert!(screen.scrolls_whole_screen());
    assert_eq!(screen.snapshot(), before);
    assert!(screen.term.mode().contains(TermMode::ORIGIN));
}

#[test]
fn a_repeat_after_a_skipped_flood_repeats_what_the_stream_printed_last() {
    // REP (`CSI b`) prints the last printed character again: here the Q
    // at the end of the skipped stretch, on a row the history keeps.
    let mut input = busy_flood(20_000);
    input.extend_from_slice(b"\x1b[33mQ\x1b[0m\r\n");
    input.extend_from_slice(&b"\r\n".repeat(2_100));
    input.extend_from_slice(b"\x1b[5b");
    let (_, expected) = fed(&input, 4096, 80, 24, 2_000);
    let (mut fast, painted) = fed(&input, input.len(), 80, 24, 2_000);
    assert!(fast.skipped() > 0);
    assert_eq!(fast.text(24).lines.last().map(String::as_str), Some("QQQQQ"));
    assert_eq!(painted, expected);
}

#[test]
fn plain_floods_and_floods_broken_by_sequences_end_as_the_stream_would() {
    // `yes` (no SGR at all), and floods cut by titles, cursor moves, an
    // unfinished CSI split across reads, and colours never reset, at
    // places a small generator picks.
    let mut seed = 0x2545_f491_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let breakers: [&[u8]; 6] = [
        b"\x1b]2;t\x07",
        b"\x1b[3;1H",
        b"\x1b[1;3",
        b"\x1b[31m",
        b"\x1b[0m",
        b"\x1b[?25l",
    ];
    let mut skipped = 0;
    for round in 0..4 {
        let mut input = Vec::new();
        for line in 0..120_000 {
            if next(40_000) == 0 {
                input.extend_from_slice(breakers[next(breakers.len() as u64) as usize]);
            }
            if round % 2 == 0 {
                input.extend_from_slice(format!("y {line}\r\n").as_bytes());
            } else {
                input.extend_from_slice(format!("\x1b[3{}m{line}\x1b[0m ok\r\n", line % 8).as_bytes());
            }
        }
        let (mut slow, expected) = fed(&input, 4096, 80, 24, 2_000);
        let batch = 300_000 + next(700_000) as usize;
        let (mut fast, painted) = fed(&input, batch, 80, 24, 2_000);
        skipped += u64::from(fast.skipped() > 0);
        assert_eq!(painted, expected, "round {round}, batches of {batch}");
        assert_eq!(fast.text(24).title, slow.text(24).title);
    }
    assert!(skipped >= 2, "{skipped} of 4 rounds skipped");
}

#[test]
fn yes_fed_in_big_batches_skips_and_ends_as_the_stream_would() {
    let mut input = b"$ yes\r\n".to_vec();
    input.extend(b"y\r\n".repeat(200_000));
    input.extend_from_slice(b"^C\r\n$ ");
    let (_, expected) = fed(&input, 4096, 80, 24, 2_000);
    let (fast, painted) = fed(&input, 512 * 1024, 80, 24, 2_000);
    assert!(fast.skipped() > 0);
    assert_eq!(painted, expected);
}

#[test]
fn a_frame_never_scrolls_a_row_into_a_shorter_terminal() {
    let mut model = Screen::new(20, 6, 100);
    for i in 0..30 {
        model.feed(format!("row {i}\r\n").as_bytes());
    }
    model.feed(b"prompt> ");
    // The terminal the frame lands in has just become a row shorter.
    let mut terminal = Screen::new(20, 5, 100);
    for _ in 0..3 {
        terminal.feed(&model.frame());
    }
    assert_eq!(terminal.history_rows(), 0, "nothing scrolled into its scrollback");
    assert_eq!(terminal.text(5).lines.last().map(String::as_str), Some("prompt>"));
    // Of the same size, it shows the model's screen exactly.
    let mut same = Screen::new(20, 6, 100);
    same.feed(&model.frame());
    assert_eq!(same.text(6).lines, model.text(6).lines);
    assert_eq!(same.text(6).cursor, model.text(6).cursor);
}

#[test]
fn rows_painted_cell_by_cell_are_kept_within_a_bound_in_bytes() {
    // 200 columns, each cell a colour of its own: ~4 KB a painted row.
    let mut screen = Screen::new(200, 3, 100);
    let row: String = (0..200).map(|c| format!("\x1b[38;2;{c};{};7mx", 255 - c)).collect();
    for _ in 0..300 {
        screen.feed(format!("{row}\r\n").as_bytes());
    }
    assert!(
        screen.history_bytes <= 100 * ROW_BYTES,
        "{} bytes kept",
        screen.history_bytes
    );
    assert!(
        screen.history_rows() < 100 && screen.history_rows() > 10,
        "{} rows",
        screen.history_rows()
    );
    // Plain rows keep their count.
    let mut plain = Screen::new(200, 3, 100);
    for i in 0..300 {
        plain.feed(format!("{i} {}\r\n", "y".repeat(190)).as_bytes());
    }
    assert_eq!(plain.history_rows(), 100);
}

#[test]
fn compact_gives_the_grid_cache_back_and_keeps_every_row() {
    let mut screen = Screen::new(80, 24, 5000);
    for i in 0..3000 {
        screen.feed(format!("row {i}\r\n").as_bytes());
    }
    let before = (screen.history_text(5000), screen.text(24).lines);
    assert!(screen.compact());
    assert_eq!((screen.history_text(5000), screen.text(24).lines), before);
    screen.feed(b"after\r\n");
    assert_eq!(screen.history_text(1), ["row 2977"]);
    // A line now and then does not make it compact (and allocate) again.
    assert!(!screen.compact());
    for i in 0..300 {
        screen.feed(format!("more {i}\r\n").as_bytes());
    }
    assert!(screen.compact());
}

use alacritty_terminal::term::TermMode;

use super::serialize::Pen;

use super::*;

/// Paint `screen`'s snapshot into a fresh model of the same size: the two
/// must show the same text, scrollback included.
fn repainted(screen: &mut Screen) -> Screen {
    let (cols, rows) = screen.size();
    let mut copy = Screen::new(cols, rows, screen.history_limit);
    copy.feed(&screen.snapshot());
    copy
}

fn all_text(screen: &mut Screen) -> Vec<String> {
    let mut text = screen.history_text(usize::MAX);
    text.extend(screen.text(usize::MAX).lines);
    text
}

#[test]
fn text_lines_and_cursor() {
    let mut screen = Screen::new(20, 5, 100);
    screen.feed(b"one\r\ntwo\r\nthree");
    let text = screen.text(10);
    assert_eq!(text.lines, ["one", "two", "three"]);
    assert_eq!(text.cursor, (2, 5));
    assert!(!text.alternate);
    assert_eq!(screen.text(2).lines, ["two", "three"]);
}

#[test]
fn rows_that_scroll_off_are_kept_up_to_the_limit() {
    let mut screen = Screen::new(10, 3, 50);
    for i in 0..200 {
        screen.feed(format!("line {i}\r\n").as_bytes());
    }
    assert_eq!(screen.history_rows(), 50);
    let history = screen.history_text(2);
    assert_eq!(history, ["line 196", "line 197"]);
    assert_eq!(screen.text(3).lines, ["line 198", "line 199"]);
}

#[test]
fn a_snapshot_repaints_the_same_text_and_cursor() {
    let mut screen = Screen::new(30, 6, 100);
    for i in 0..40 {
        screen.feed(format!("\x1b[3{}mrow {i}\x1b[0m with text\r\n", i % 8).as_bytes());
    }
    screen.feed(b"$ \x1b[1mprompt\x1b[0m");
    let mut copy = repainted(&mut screen);
    assert_eq!(all_text(&mut copy), all_text(&mut screen));
    assert_eq!(copy.text(6).cursor, screen.text(6).cursor);
}

#[test]
fn soft_wrapped_lines_stay_one_line_at_another_width() {
    let mut screen = Screen::new(10, 4, 100);
    screen.feed(b"abcdefghijklmnopqrstuvwxyz\r\nnext\r\n");
    let snapshot = screen.snapshot();
    let mut wide = Screen::new(40, 4, 100);
    wide.feed(&snapshot);
    assert_eq!(wide.text(4).lines, ["abcdefghijklmnopqrstuvwxyz", "next"]);
}

#[test]
fn resize_keeps_every_line() {
    // The repro: a narrow window and back, then a repaint.
    let mut screen = Screen::new(80, 10, 100);
    screen.feed(b"$ echo one\r\none\r\n$ echo two\r\ntwo\r\n$ echo three\r\nthree\r\n$ ");
    screen.resize(25, 10);
    screen.resize(200, 10);
    let mut copy = repainted(&mut screen);
    let text = all_text(&mut copy).join("\n");
    for word in ["one", "two", "three"] {
        assert!(text.contains(&format!("\n{word}\n")), "{word} in {text:?}");
    }
}

#[test]
fn the_alternate_screen_and_the_primary_under_it_are_repainted() {
    let mut screen = Screen::new(20, 4, 100);
    screen.feed(b"shell line\r\n$ less file");
    screen.feed(b"\x1b[?1049h\x1b[H\x1b[2Jpage one\r\npage two\x1b[?2004h\x1b[?1h");
    let mut copy = repainted(&mut screen);
    let text = copy.text(4);
    assert!(text.alternate);
    assert_eq!(text.lines, ["page one", "page two"]);
    assert!(copy.term.mode().contains(TermMode::BRACKETED_PASTE));
    assert!(copy.term.mode().contains(TermMode::APP_CURSOR));
    // Leaving it shows the shell again, in both.
    screen.feed(b"\x1b[?1049l");
    copy.feed(b"\x1b[?1049l");
    assert_eq!(copy.text(4).lines, ["shell line", "$ less file"]);
    assert_eq!(copy.text(4).lines, screen.text(4).lines);
}

#[test]
fn attributes_survive_a_repaint() {
    let mut screen = Screen::new(40, 3, 10);
    screen.feed(b"\x1b[1;31mred\x1b[0m \x1b[38;5;200mpink\x1b[0m \x1b[48;2;1;2;3mrgb\x1b[0m \x1b[7minv\x1b[0m");
    let copy = repainted(&mut screen);
    let cells = |s: &Screen| {
        let row = &s.term.grid()[Line(0)];
        (0..20)
            .map(|c| (row[Column(c)].c, Pen::of(&row[Column(c)])))
            .collect::<Vec<_>>()
    };
    assert!(cells(&copy) == cells(&screen));
}

#[test]
fn wide_characters_and_marks() {
    let mut screen = Screen::new(10, 2, 10);
    screen.feed("日本語 e\u{301}!".as_bytes());
    assert_eq!(screen.text(2).lines, ["日本語 e\u{301}!"]);
    let mut copy = repainted(&mut screen);
    assert_eq!(copy.text(2).lines, screen.text(2).lines);
}

#[test]
fn queries_are_answered_by_the_model() {
    let mut screen = Screen::new(80, 24, 10);
    screen.feed(b"abc");
    let replies = screen.feed(b"\x1b[c\x1b[6n\x1b]11;?\x07\x1b[>q\x1b[?u");
    let replies = String::from_utf8_lossy(&replies).into_owned();
    assert!(replies.contains("\x1b[?6c"), "{replies:?}");
    assert!(replies.contains("\x1b[1;4R"), "{replies:?}");
    assert!(replies.contains("]11;rgb:1414/1616/1b1b"), "{replies:?}");
    assert!(replies.contains("\x1bP>|lulu"), "{replies:?}");
    assert!(replies.contains("\x1b[?0u"), "{replies:?}");
    // Asked once, answered once.
    assert!(screen.feed(b"more text").is_empty());
}

#[test]
fn a_synchronized_update_in_progress_is_in_the_snapshot() {
    let mut screen = Screen::new(20, 3, 10);
    screen.feed(b"\x1b[?2026hhalf a frame");
    let mut copy = repainted(&mut screen);
    assert_eq!(copy.text(3).lines, ["half a frame"]);
}

#[test]
fn the_title_is_kept() {
    let mut screen = Screen::new(20, 3, 10);
    screen.feed(b"\x1b]0;my title\x07x");
    assert_eq!(screen.text(3).title.as_deref(), Some("my title"));
    let snapshot = String::from_utf8_lossy(&screen.snapshot()).into_owned();
    assert!(snapshot.contains("\x1b]2;my title\x07"));
}

#[test]
fn hostile_input_never_panics() {
    let mut screen = Screen::new(5, 2, 3);
    let inputs: [&[u8]; 6] = [
        b"\x1b[99999;99999H\x1b[99999S\x1b[99999T",
        b"\xff\xfe\xc3",
        b"\x1b[?1049h\x1b[?1049h\x1b[?47h\x1b[?1049l\x1b[?1049l",
        b"\x1b]2;\x1b\\",
        b"\x1b[1000000000000000000000m",
        b"\x1b[?1049",
    ];
    for input in inputs {
        screen.feed(input);
        screen.resize(1, 1);
        screen.snapshot();
        screen.resize(300, 100);
        screen.snapshot();
    }
}

#[test]
fn a_cleared_screen_is_not_kept_as_scrollback_but_scrolled_rows_are() {
    let mut screen = Screen::new(20, 3, 100);
    screen.feed(b"$ exec agent\r\n\x1b[H\x1b[2Jagent says hi\r\n");
    assert!(screen.history_text(10).is_empty(), "{:?}", screen.history_text(10));
    screen.feed(b"a\r\nb\r\nc\r\n");
    assert_eq!(screen.history_text(10), ["agent says hi", "a"]);
    screen.feed(b"\x1b[3J");
    assert!(screen.history_text(10).is_empty());
}

#[test]
fn a_clear_inside_a_synchronized_frame_is_not_kept_as_scrollback() {
    let mut screen = Screen::new(20, 3, 100);
    screen.feed(b"old frame\r\n\x1b[?2026h\x1b[H\x1b[2Jnew frame\x1b[?2026l");
    assert!(screen.history_text(10).is_empty(), "{:?}", screen.history_text(10));
    assert_eq!(screen.text(3).lines, ["new frame"]);
}

#[test]
fn a_catch_up_sends_what_changed_and_ends_where_the_stream_would() {
    // The terminal saw the stream up to a mark; it is caught up from there.
    let mut screen = Screen::new(20, 4, 100);
    let mut terminal = Screen::new(20, 4, 100);
    let first = b"one\r\ntwo\r\nthree\r\nfour\r\nfive\r\n".to_vec();
    screen.feed(&first);
    terminal.feed(&first);
    let mark = screen.mark();
    for i in 0..30 {
        screen.feed(format!("more {i}\r\n").as_bytes());
    }
    screen.feed(b"\x1b[?2004h$ ");
    let bytes = screen.catch_up(mark);
    terminal.feed(&bytes);
    assert_eq!(all_text(&mut terminal), all_text(&mut screen));
    assert!(terminal.term.mode().contains(TermMode::BRACKETED_PASTE));
    // Nothing new: only the screen is painted, not the history.
    let mark = screen.mark();
    let quiet = screen.catch_up(mark);
    assert!(quiet.len() < 300, "{} bytes", quiet.len());
    terminal.feed(&quiet);
    assert_eq!(all_text(&mut terminal), all_text(&mut screen));
}

#[test]
fn a_catch_up_across_a_cleared_history_repaints_it_whole() {
    let mut screen = Screen::new(20, 3, 100);
    let mut terminal = Screen::new(20, 3, 100);
    let first = b"a\r\nb\r\nc\r\nd\r\n".to_vec();
    screen.feed(&first);
    terminal.feed(&first);
    let mark = screen.mark();
    screen.feed(b"\x1b[3J\x1b[H\x1b[2Jfresh\r\n");
    terminal.feed(&screen.catch_up(mark));
    assert_eq!(all_text(&mut terminal), all_text(&mut screen));
}

#[test]
fn an_osc_string_that_never_ends_is_cut_off() {
    let mut screen = Screen::new(20, 3, 10);
    screen.feed(b"\x1b]0;");
    let junk = vec![b'a'; 32 * 1024];
    for _ in 0..8 {
        screen.feed(&junk);
    }
    // Ended by the host once too long (so the parser holds no more of it):
    // it became the title, cut short, and what follows is text again.
    let title = screen.text(3).title.unwrap_or_default();
    assert!(
        !title.is_empty() && title.len() <= MAX_OSC + junk.len(),
        "{}",
        title.len()
    );
    screen.feed(b"\x1b[H\x1b[2Jvisible");
    assert_eq!(screen.text(3).lines, ["visible"]);
    // An ordinary title is untouched.
    screen.feed(b"\x1b]2;short\x07");
    assert_eq!(screen.text(3).title.as_deref(), Some("short"));
}

#[test]
fn a_huge_size_is_bounded() {
    let mut screen = Screen::new(u16::MAX, u16::MAX, 10);
    assert_eq!(screen.size(), (MAX_COLS, MAX_ROWS));
    screen.resize(u16::MAX, 2);
    assert_eq!(screen.size(), (MAX_COLS, 2));
}

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

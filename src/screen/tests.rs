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

/// Issue 33's case: a session shown small (a grid pane), then shown
/// again larger: the repaint holds every line once, in order, at every
/// pair of sizes.
#[test]
fn a_resize_then_a_repaint_keeps_every_line_once() {
    let sizes: &[(u16, u16)] = &[(20, 5), (80, 22), (25, 8), (40, 5), (120, 40), (21, 6)];
    for &(c1, r1) in sizes {
        for &(c2, r2) in sizes {
            let mut screen = Screen::new(c1, r1, 1000);
            let mut feed = Vec::new();
            for i in 1..=30 {
                feed.extend_from_slice(format!("$ echo L{i}\r\nL{i}\r\n").as_bytes());
            }
            feed.extend_from_slice(b"$ echo HIDDEN_42; echo SECOND\r\nHIDDEN_42\r\nSECOND\r\n$ ");
            screen.feed(&feed);
            screen.resize(c2, r2);
            let mut copy = repainted(&mut screen);
            let text = all_text(&mut copy);
            let joined = text.join("\n");
            for word in ["L1", "L15", "L30", "HIDDEN_42", "SECOND"] {
                let count = text.iter().filter(|l| l.as_str() == word).count();
                assert_eq!(count, 1, "{word} at {c1}x{r1} -> {c2}x{r2}:\n{joined}");
            }
            let at = |w: &str| text.iter().position(|l| l == w).unwrap();
            assert!(
                at("L30") < at("HIDDEN_42") && at("HIDDEN_42") < at("SECOND"),
                "order at {c1}x{r1} -> {c2}x{r2}"
            );
        }
    }
}

/// Issue 33, 5: a space the program wrote is kept at the end of a line (as
/// Neovim's terminal keeps it); cells it erased or skipped are not.
#[test]
fn trailing_spaces_the_program_wrote_are_kept() {
    let mut screen = Screen::new(40, 6, 100);
    screen.feed(b"the lazy dog \r\nerased\x1b[K\r\nskipped\x1b[5C\r\na b  \x1b[2D\x1b[K\r\n\x1b[44m  \x1b[0m\r\n$ ");
    let painted = String::from_utf8_lossy(&screen.snapshot()).into_owned();
    for (row, want) in [
        ("the lazy dog", "the lazy dog \r\n"),
        ("erased", "erased\r\n"),
        ("skipped", "skipped\r\n"),
        ("a b", "a b\r\n"),
    ] {
        assert!(painted.contains(want), "{row}: {want:?} in {painted:?}");
    }
    // Shown and read as plain spaces, one cell each.
    let text = screen.text(6);
    assert_eq!(text.lines[0], "the lazy dog");
    assert_eq!(text.lines[3], "a b");
    assert_eq!(text.cursor, (5, 2));
    assert!(!painted.contains(super::written::WRITTEN_SPACE));
    // And kept through the scrollback and a repaint into another model.
    screen.feed(b"\r\n\r\n\r\n\r\n\r\n\r\n");
    let mut copy = repainted(&mut screen);
    let again = String::from_utf8_lossy(&copy.snapshot()).into_owned();
    assert!(again.contains("the lazy dog \r\n"), "{again:?}");
    assert!(again.contains("erased\r\n"), "{again:?}");
}

/// A screen that grows takes back its newest history rows, as tmux and
/// Neovim's terminal do: the prompt stays at the bottom, nothing is lost,
/// doubled or padded with blank rows, at every pair of sizes.
#[test]
fn a_taller_screen_takes_back_the_rows_that_scrolled_off() {
    let sizes: &[(u16, u16)] = &[(80, 21), (49, 13), (20, 5), (80, 22), (160, 45), (30, 8)];
    let mut feed = b"$ printf 'BANNER\\n'; seq 1 30\r\nBANNER\r\n".to_vec();
    for i in 1..=30 {
        feed.extend_from_slice(format!("{i}\r\n").as_bytes());
    }
    feed.extend_from_slice(b"$ ");
    for &(c1, r1) in sizes {
        for &(c2, r2) in sizes {
            let mut screen = Screen::new(80, 21, 1000);
            screen.feed(&feed);
            screen.resize(c1, r1);
            screen.resize(c2, r2);
            let case = format!("80x21 -> {c1}x{r1} -> {c2}x{r2}");
            let text = all_text(&mut screen);
            let joined = text.join("\n");
            let numbers: Vec<&str> = text
                .iter()
                .map(String::as_str)
                .filter(|l| l.parse::<u32>().is_ok())
                .collect();
            let want: Vec<String> = (1..=30).map(|i| i.to_string()).collect();
            assert_eq!(numbers, want, "{case}:\n{joined}");
            assert_eq!(
                text.iter().filter(|l| l.as_str() == "BANNER").count(),
                1,
                "{case}:\n{joined}"
            );
            assert_eq!(text.last().map(String::as_str), Some("$"), "{case}:\n{joined}");
            assert!(
                !text.iter().any(String::is_empty),
                "no blank row inserted, {case}:\n{joined}"
            );
            // The prompt on the screen's last row once the screen is full.
            let shown = screen.text(usize::from(r2));
            let (_, rows) = screen.size();
            if text.len() >= usize::from(rows) {
                assert_eq!(
                    shown.cursor.0 + 1,
                    usize::from(rows),
                    "prompt at the bottom, {case}:\n{joined}"
                );
            }
            // And painted into a fresh terminal, the same screen.
            let mut copy = repainted(&mut screen);
            assert_eq!(
                copy.text(usize::MAX).lines,
                screen.text(usize::MAX).lines,
                "{case}: the repaint"
            );
        }
    }
}

/// A wide character that did not fit at the end of a row leaves a padding
/// cell there; painted again at another width, that cell is not a space in
/// the middle of the line.
#[test]
fn the_padding_before_a_wrapped_wide_character_is_not_painted() {
    let mut screen = Screen::new(10, 3, 100);
    screen.feed("abcdefghi中jk\r\n".as_bytes());
    screen.feed(b"1\r\n2\r\n3\r\n4\r\n");
    let mut wide = Screen::new(20, 8, 100);
    wide.feed(&screen.snapshot());
    let text = all_text(&mut wide);
    assert!(text.iter().any(|l| l == "abcdefghi中jk"), "{text:?}");
}

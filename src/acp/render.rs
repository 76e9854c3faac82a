//! The conversation as plain terminal text, for the session's own screen
//! (the list's preview, `lulu attach`, a window of its terminal). The
//! agent's words are printed with every control character but newline and
//! tab taken out: nothing it says can move the cursor or set a mode.

use std::io::Write;

use super::chat::Entry;

/// Text safe to print: controls dropped, newlines as CR LF (raw mode).
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\r\n"),
            '\t' => out.push_str("    "),
            c if c.is_control() || invisible(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Characters that reorder or hide text: bidi controls, line and paragraph
/// separators, zero-width ones.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// What an entry adds to the screen; `continued`: the entry before was the
/// same message (a chunk goes on from where the last one ended).
pub fn line(entry: &Entry, continued: bool) -> String {
    match entry {
        Entry::Agent { text } if continued => clean(text),
        Entry::Agent { text } => format!("\r\n{}", clean(text)),
        Entry::Thought { text } if continued => format!("\x1b[2m{}\x1b[0m", clean(text)),
        Entry::Thought { text } => format!("\r\n\x1b[2m(thinking) {}\x1b[0m", clean(text)),
        Entry::User { text } => format!("\r\n\x1b[1m› {}\x1b[0m\r\n", clean(text)),
        Entry::Tool {
            kind, title, status, ..
        } => format!("\r\n  ⚙ {} {} [{}]", clean(kind), clean(title), clean(status)),
        Entry::Plan { steps } => {
            let mut out = String::from("\r\n  plan:");
            for step in steps {
                let mark = if step.status == "completed" { "x" } else { " " };
                out.push_str(&format!("\r\n   [{mark}] {}", clean(&step.content)));
            }
            out
        }
        Entry::Turn { stop } => format!("\r\n\x1b[2m── {} ──\x1b[0m\r\n", clean(stop)),
        Entry::Note { text } => format!("\r\n\x1b[33mlulu: {}\x1b[0m", clean(text)),
    }
}

/// Print `text` to the terminal (errors ignored: nobody may be looking).
pub fn show(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agents_text_cannot_drive_the_terminal() {
        assert_eq!(clean("a\x1b[2Jb\x07c\nd\u{9b}e"), "a[2Jbc\r\nde");
        assert_eq!(clean("x\u{202e}y\u{2028}z\u{200b}"), "xyz");
        let entry = Entry::Agent {
            text: "hi\x1b]52;c;AAAA\x07".into(),
        };
        assert!(!line(&entry, false).contains('\x1b'));
    }
}

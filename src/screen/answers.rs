//! What the model answers a program that asks a terminal something, and
//! what it hears of the title: alacritty's replies and colour requests
//! through its event listener, and the queries it leaves to us.

use std::sync::{Arc, Mutex, MutexGuard};

use alacritty_terminal::event::{Event, EventListener};
use alacritty_terminal::vte::ansi::Rgb;

/// The colours a program asking (OSC 10/11) is told, until an editor that
/// attaches says its own (Neovim's default dark scheme).
pub(super) const DEFAULT_FG: Rgb = Rgb {
    r: 0xe0,
    g: 0xe2,
    b: 0xea,
};
pub(super) const DEFAULT_BG: Rgb = Rgb {
    r: 0x14,
    g: 0x16,
    b: 0x1b,
};
/// What the terminal model sends back: replies to the program's queries, and
/// the title. Shared with the [`Screen`], since the model keeps its listener
/// to itself.
pub(super) struct Heard {
    pub replies: Vec<u8>,
    pub title: Option<String>,
    pub colours: (Rgb, Rgb),
}

#[derive(Clone)]
pub(super) struct Listener(pub Arc<Mutex<Heard>>);

impl Listener {
    pub(super) fn heard(&self) -> MutexGuard<'_, Heard> {
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

/// Queries alacritty_terminal leaves unanswered: XTVERSION, and the kitty
/// keyboard flags (none: lulu's terminal is whatever the editor's is, and
/// the plain encoding is what every terminal understands).
pub(super) fn extra_answers(bytes: &[u8], replies: &mut Vec<u8>) {
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

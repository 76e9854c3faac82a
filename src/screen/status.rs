//! What an agent's screen says about it: waiting for the user (a permission
//! dialog, its input prompt after a turn), working, or nothing known. Each
//! adapter names the text its TUI shows ([`Signs`]); [`Watch`] debounces
//! what the screen shows, since a TUI redraws through intermediate frames
//! (ccmanager learned to wait before believing a state).

use std::time::{Duration, Instant};

/// Text an agent's screen shows in each state (any one line containing any
/// of these).
#[derive(Debug, Clone, Copy, Default)]
pub struct Signs {
    /// Its permission dialog: it waits for an answer.
    pub dialog: &'static [&'static str],
    /// It is working on a turn.
    pub working: &'static [&'static str],
    /// Its input prompt, with nothing running.
    pub prompt: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Dialog,
    Working,
    Prompt,
    Unknown,
}

impl Signs {
    pub fn is_empty(&self) -> bool {
        self.dialog.is_empty() && self.working.is_empty() && self.prompt.is_empty()
    }

    /// What `lines` (the screen's rows) show. A dialog outranks work (the
    /// agent's spinner keeps turning under its dialog), work the prompt (an
    /// agent at work still draws its input box).
    pub fn read(&self, lines: &[String]) -> Seen {
        let has = |signs: &[&str]| lines.iter().any(|line| signs.iter().any(|sign| line.contains(sign)));
        if has(self.dialog) {
            Seen::Dialog
        } else if has(self.working) {
            Seen::Working
        } else if has(self.prompt) {
            Seen::Prompt
        } else {
            Seen::Unknown
        }
    }
}

/// How long a state must show before it counts.
pub const SETTLE: Duration = Duration::from_millis(1500);

/// A debounced reading of one session's screen.
#[derive(Debug)]
pub struct Watch {
    shown: Seen,
    since: Instant,
    reported: Seen,
    /// Whether the agent has been seen working: its prompt means "your
    /// turn" only after a turn (at start it is just the empty prompt).
    worked: bool,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            shown: Seen::Unknown,
            since: Instant::now(),
            reported: Seen::Unknown,
            worked: false,
        }
    }
}

/// What the supervisor is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It waits for the user (what the screen shows).
    Waiting(&'static str),
    /// It is plainly working.
    Working,
}

impl Watch {
    /// Take in the screen as `seen` at `now`; a verdict when a state has
    /// held for [`SETTLE`] and differs from the last one reported.
    pub fn observe(&mut self, seen: Seen, now: Instant) -> Option<Verdict> {
        if seen != self.shown {
            self.shown = seen;
            self.since = now;
        }
        if now.duration_since(self.since) < SETTLE || self.shown == self.reported {
            return None;
        }
        let verdict = match self.shown {
            Seen::Dialog => Verdict::Waiting("a permission dialog on its screen"),
            Seen::Prompt if self.worked => Verdict::Waiting("its prompt on the screen after a turn"),
            Seen::Working => {
                self.worked = true;
                Verdict::Working
            }
            Seen::Prompt | Seen::Unknown => return None,
        };
        self.reported = self.shown;
        Some(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNS: Signs = Signs {
        dialog: &["Do you want to proceed?"],
        working: &["esc to interrupt"],
        prompt: &["? for shortcuts"],
    };

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn reads_the_strongest_sign() {
        assert_eq!(
            SIGNS.read(&lines("x\nDo you want to proceed?\n esc to interrupt")),
            Seen::Dialog
        );
        assert_eq!(
            SIGNS.read(&lines("✻ Thinking… (esc to interrupt)\n? for shortcuts")),
            Seen::Working
        );
        assert_eq!(SIGNS.read(&lines("> \n? for shortcuts")), Seen::Prompt);
        assert_eq!(SIGNS.read(&lines("hello")), Seen::Unknown);
    }

    #[test]
    fn a_state_counts_once_it_has_held() {
        let t0 = Instant::now();
        let mut watch = Watch::default();
        // The prompt at start is not a wait.
        assert_eq!(watch.observe(Seen::Prompt, t0), None);
        assert_eq!(watch.observe(Seen::Prompt, t0 + SETTLE * 2), None);
        // Work, then a dialog that flickers before it settles.
        assert_eq!(watch.observe(Seen::Working, t0 + SETTLE * 3), None);
        assert_eq!(watch.observe(Seen::Working, t0 + SETTLE * 4), Some(Verdict::Working));
        assert_eq!(watch.observe(Seen::Dialog, t0 + SETTLE * 5), None);
        assert_eq!(watch.observe(Seen::Working, t0 + SETTLE * 5 + SETTLE / 2), None);
        assert_eq!(watch.observe(Seen::Dialog, t0 + SETTLE * 6), None);
        assert_eq!(
            watch.observe(Seen::Dialog, t0 + SETTLE * 7),
            Some(Verdict::Waiting("a permission dialog on its screen"))
        );
        assert_eq!(watch.observe(Seen::Dialog, t0 + SETTLE * 9), None, "said once");
        // After a turn, the prompt means it is the user's turn.
        watch.observe(Seen::Prompt, t0 + SETTLE * 10);
        assert_eq!(
            watch.observe(Seen::Prompt, t0 + SETTLE * 12),
            Some(Verdict::Waiting("its prompt on the screen after a turn"))
        );
    }
}

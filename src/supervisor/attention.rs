//! What agents tell lulu besides permission questions: that they wait for
//! the user (`Notification` and `Stop` hooks), where their transcript is
//! (or, for agents without hooks, where their adapter finds it), and from
//! it, what they have cost so far.

use std::path::{Path, PathBuf};

use super::{Command, Supervisor};
use crate::adapter::HookEvent;
use crate::cost::Tally;
use crate::model::SessionId;
use crate::screen::status::Verdict;

/// Largest piece of a transcript read per tick.
const READ_AT_MOST: u64 = 8 * 1024 * 1024;

impl Supervisor {
    /// What a hook event tells of a session: its transcript, its
    /// conversation, whether it waits for the user.
    pub(super) fn on_hook_event(&mut self, session: &SessionId, event: HookEvent, payload: &serde_json::Value) {
        // A conversation and its usage come from an ACP session's client
        // only: a terminal agent that runs `lulu hook acp` itself must not
        // write its own cost or a chat.
        let acp = self
            .entries
            .get(session)
            .is_some_and(|e| e.record.kind == crate::model::SessionKind::Acp);
        match event {
            HookEvent::Chat | HookEvent::Usage if !acp => return,
            HookEvent::Chat => return self.on_chat(session, payload),
            HookEvent::Usage => return self.on_acp_usage(session, payload),
            HookEvent::Waits => self.chats.save_soon(session),
            _ => {}
        }
        let Some(entry) = self.entries.get_mut(session) else {
            return;
        };
        let Some(live) = entry.live.as_mut() else {
            return;
        };
        if live.transcript.is_none()
            && let Some(format) = crate::adapter::for_agent(&entry.record.agent).transcript()
            && let Some(path) = payload.get("transcript_path").and_then(|p| p.as_str())
            && !path.is_empty()
        {
            live.follow_transcript(PathBuf::from(path), format);
        }
        // Its hooks name the conversation before its transcript does.
        if let Some(id) = payload.get("session_id").and_then(|p| p.as_str())
            && crate::cost::is_conversation_id(id)
            && entry.record.conversation.as_deref() != Some(id)
            && crate::adapter::for_session(&entry.record.agent, entry.record.kind)
                .resume_args(id)
                .is_some()
        {
            entry.record.conversation = Some(id.to_string());
            super::persist_to(&self.store, &entry.record);
        }
        // What the event says of its waiting (its adapter read it).
        if let Some(waiting) = event.waiting()
            && entry.record.waiting != waiting
        {
            entry.record.waiting = waiting;
            entry.record.waiting_source = waiting.then(|| "hook".to_string());
            let record = entry.record.clone();
            self.broadcast_record(&record);
        }
    }

    /// Read what each limited session's cgroup says it uses (a job each).
    pub(super) fn poll_memory(&self) {
        for entry in &self.entries {
            let Some(applied) = entry.live.as_ref().and_then(|l| l.limits.clone()) else {
                continue;
            };
            if applied.dirs.is_empty() {
                continue;
            }
            let (tx, id) = (self.tx.clone(), entry.record.id.clone());
            tokio::task::spawn_blocking(move || {
                if let Some(bytes) = applied.memory_now() {
                    let _ = tx.send(Command::Memory(id, bytes));
                }
            });
        }
    }

    pub(super) fn on_memory(&mut self, id: SessionId, bytes: u64) {
        let Some(entry) = self.entries.get_mut(&id).filter(|e| e.live.is_some()) else {
            return;
        };
        // A change of a MiB or more is worth telling the editors.
        let moved = entry.record.memory.is_none_or(|was| was.abs_diff(bytes) >= 1024 * 1024);
        if moved {
            entry.record.memory = Some(bytes);
            let record = entry.record.clone();
            self.broadcast_record(&record);
        }
    }

    /// Its screen drew and held still: a first prompt waiting for that is
    /// typed now (as `send` types: text, a pause, Enter).
    pub(super) fn on_ready(&mut self, id: &SessionId) {
        let Some(live) = self.entries.get_mut(id).and_then(|e| e.live.as_mut()) else {
            return;
        };
        if let Some(prompt) = live.prompt.take() {
            tracing::info!(session = %id, "ready for input: typing its first prompt");
            super::controls::type_line(&live.control, live.submit_delay, &prompt);
        }
    }

    /// The user typed into the session: it is not waiting any more.
    pub(super) fn clear_waiting(&mut self, session: &str) {
        if let Ok(entry) = self.find_mut(session)
            && entry.record.waiting
        {
            entry.record.waiting = false;
            entry.record.waiting_source = None;
            let record = entry.record.clone();
            self.broadcast_record(&record);
        }
    }

    /// What the session's screen shows, once it has held (its hooks may
    /// say nothing: Gemini has none wired, and Claude Code has builds that
    /// end a turn without a Stop). A wait the screen shows is marked as
    /// the screen's; one the screen contradicts (it plainly works) is
    /// cleared, whoever reported it.
    pub(super) fn on_screen_verdict(&mut self, session: &SessionId, verdict: Verdict) {
        let Some(entry) = self.entries.get_mut(session) else {
            return;
        };
        let (waiting, source) = match verdict {
            Verdict::Waiting(what) => {
                if entry.record.waiting {
                    return;
                }
                tracing::info!(session = %session, what, "waiting, by its screen");
                (true, Some("screen".to_string()))
            }
            Verdict::Working => {
                if !entry.record.waiting {
                    return;
                }
                (false, None)
            }
        };
        entry.record.waiting = waiting;
        entry.record.waiting_source = source;
        let record = entry.record.clone();
        self.broadcast_record(&record);
    }

    /// Read what each live session's transcript gained since last time.
    pub(super) fn poll_transcripts(&mut self) {
        for entry in &mut self.entries {
            let Some(live) = entry.live.as_mut() else {
                continue;
            };
            if live.reading_transcript {
                continue;
            }
            let (tx, id) = (self.tx.clone(), entry.record.id.clone());
            if let Some(path) = live.transcript.clone() {
                let offset = live.tally.as_ref().map_or(0, |t| t.offset);
                live.reading_transcript = true;
                tokio::task::spawn_blocking(move || {
                    let bytes = read_from(&path, offset).unwrap_or_default();
                    let _ = tx.send(Command::Transcript(id, bytes));
                });
            } else if let Some((search, since)) = live.transcript_search.clone() {
                live.reading_transcript = true;
                tokio::task::spawn_blocking(move || {
                    let _ = tx.send(Command::TranscriptFound(id, search.find(since)));
                });
            }
        }
    }

    pub(super) fn on_transcript_found(&mut self, id: SessionId, path: Option<PathBuf>) {
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        let Some(live) = entry.live.as_mut() else {
            return;
        };
        live.reading_transcript = false;
        if let Some(path) = path
            && live.transcript.is_none()
            && let Some(format) = crate::adapter::for_agent(&entry.record.agent).transcript()
        {
            tracing::debug!(session = %id, path = %path.display(), "found the transcript");
            live.follow_transcript(path, format);
        }
    }

    pub(super) fn on_transcript(&mut self, id: SessionId, bytes: Vec<u8>) {
        let prices = self.entries.prices().clone();
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        let Some(live) = entry.live.as_mut() else {
            return;
        };
        live.reading_transcript = false;
        if bytes.is_empty() {
            return;
        }
        let Some(tally) = live.tally.as_mut() else {
            return;
        };
        tally.feed(&bytes);
        let named = tally.conversation.is_some() && entry.record.conversation != tally.conversation;
        if entry.record.usage != tally.usage || named {
            entry.record.usage = tally.usage.clone();
            entry.record.price(&prices);
            if named {
                entry.record.conversation = tally.conversation.clone();
            }
            let record = entry.record.clone();
            // At most once per transcript read (one a second): the store
            // writes it off the loop.
            self.persist(&record);
            self.broadcast_record(&record);
        }
    }
}

impl Supervisor {
    /// A session ended: what its agent wrote last (Claude Code writes its
    /// own cost total as it exits) is read to the end, off the loop.
    pub(super) fn read_last_usage(&self, id: &SessionId, transcript: Option<PathBuf>, tally: Option<Tally>) {
        let (Some(path), Some(mut tally)) = (transcript, tally) else {
            return;
        };
        let (tx, id) = (self.tx.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            // The agent has exited; give its last write a moment to land.
            std::thread::sleep(std::time::Duration::from_millis(200));
            loop {
                let bytes = read_from(&path, tally.offset).unwrap_or_default();
                if bytes.is_empty() {
                    break;
                }
                tally.feed(&bytes);
            }
            let _ = tx.send(Command::LastUsage(id, Box::new(tally)));
        });
    }

    pub(super) fn on_last_usage(&mut self, id: SessionId, tally: Tally) {
        let prices = self.entries.prices().clone();
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        if entry.live.is_some() || entry.record.usage == tally.usage {
            return;
        }
        entry.record.usage = tally.usage;
        if tally.conversation.is_some() {
            entry.record.conversation = tally.conversation;
        }
        entry.record.price(&prices);
        let record = entry.record.clone();
        self.persist(&record);
        self.broadcast_record(&record);
    }
}

impl super::Live {
    /// Read usage from `path` from now on, from its start.
    fn follow_transcript(&mut self, path: PathBuf, format: crate::cost::Format) {
        self.transcript = Some(path);
        self.tally = Some(Tally::new(format));
    }
}

fn read_from(path: &Path, offset: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.take(READ_AT_MOST).read_to_end(&mut bytes)?;
    Ok(bytes)
}

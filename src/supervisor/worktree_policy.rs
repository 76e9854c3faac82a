//! What becomes of the sessions' worktrees, decided without IO: which ones
//! `:LuluPrune` looks at, whether the one session that ended (or merged)
//! loses its worktree under `worktree.cleanup = 'delete_if_merged'`, and
//! when the count and size of all worktrees (the list's footer) are due to
//! be measured again. The git and file-system work these decisions call
//! for runs as jobs (`cleanup.rs`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::api::Payload;

use super::entries::Sessions;
use crate::api::reply::WorktreeUsage;
use crate::model::{SessionId, SessionRecord};

/// How long a computed worktree size is good for.
const USAGE_EVERY: Duration = Duration::from_secs(30);

#[derive(Default)]
pub(super) struct WorktreePolicy {
    /// The last measure of all worktrees, and when it was taken.
    usage: Option<Usage>,
    /// A measure is being taken.
    measuring: bool,
}

struct Usage {
    count: usize,
    bytes: u64,
    at: Instant,
}

impl WorktreePolicy {
    /// `:LuluPrune`'s candidates: every ended session that has a worktree.
    /// (The sessions stay; only merged, clean worktrees and branches go.)
    pub fn prune_candidates(sessions: &Sessions) -> Vec<SessionRecord> {
        sessions
            .iter()
            .filter(|e| e.live.is_none() && e.record.worktree.is_some())
            .map(|e| e.record.clone())
            .collect()
    }

    /// The session `id`, if `delete_if_merged` and it has ended with a
    /// worktree: the one to check for retiring (never a scan of all).
    pub fn retire_candidate(sessions: &Sessions, id: &SessionId, delete_if_merged: bool) -> Option<SessionRecord> {
        let entry = sessions.get(id).filter(|_| delete_if_merged)?;
        (entry.live.is_none() && entry.record.worktree.is_some()).then(|| entry.record.clone())
    }

    /// The worktrees to measure, if a measure is due at `now` and none is
    /// being taken (then one is, until [`WorktreePolicy::measured`]).
    pub fn measure(&mut self, sessions: &Sessions, now: Instant) -> Option<Vec<PathBuf>> {
        let stale = self
            .usage
            .as_ref()
            .is_none_or(|u| now.duration_since(u.at) >= USAGE_EVERY);
        if !stale || self.measuring {
            return None;
        }
        self.measuring = true;
        Some(
            sessions
                .iter()
                .filter_map(|e| e.record.worktree.as_ref().map(PathBuf::from))
                .collect(),
        )
    }

    /// A measure came back: the figure to tell the editors.
    pub fn measured(&mut self, count: usize, bytes: u64, now: Instant) -> Payload {
        self.measuring = false;
        let usage = Usage { count, bytes, at: now };
        let value = usage.value();
        self.usage = Some(usage);
        value
    }

    /// Worktrees went or came: the next ask measures again.
    pub fn outdated(&mut self) {
        self.usage = None;
    }

    /// The last figure (nil before the first measure).
    pub fn usage(&self) -> Payload {
        self.usage.as_ref().map_or(Payload::NIL, Usage::value)
    }
}

impl Usage {
    fn value(&self) -> Payload {
        Payload::of(&WorktreeUsage {
            count: self.count,
            bytes: self.bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;
    use crate::supervisor::live::Entry;

    fn ended(name: &str, worktree: Option<&str>) -> Entry {
        let mut record = crate::store::tests::record(name, Status::Completed, "2026-01-01T00:00:00.000Z");
        record.worktree = worktree.map(String::from);
        Entry { record, live: None }
    }

    #[test]
    fn prune_looks_at_ended_sessions_with_worktrees_only() {
        let sessions = Sessions::new(vec![
            ended("a", Some("/w/a")),
            ended("b", None),
            ended("c", Some("/w/c")),
        ]);
        let names: Vec<String> = WorktreePolicy::prune_candidates(&sessions)
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["a", "c"]);
    }

    #[test]
    fn the_clean_up_decides_for_the_one_session_and_only_under_its_policy() {
        let (a, b) = (ended("a", Some("/w/a")), ended("b", None));
        let (a_id, b_id) = (a.record.id.clone(), b.record.id.clone());
        let sessions = Sessions::new(vec![a, b]);
        assert_eq!(
            WorktreePolicy::retire_candidate(&sessions, &a_id, true).map(|r| r.name),
            Some("a".into())
        );
        assert!(
            WorktreePolicy::retire_candidate(&sessions, &a_id, false).is_none(),
            "keep"
        );
        assert!(
            WorktreePolicy::retire_candidate(&sessions, &b_id, true).is_none(),
            "no worktree"
        );
        let gone = SessionId::random();
        assert!(
            WorktreePolicy::retire_candidate(&sessions, &gone, true).is_none(),
            "deleted meanwhile"
        );
    }

    #[test]
    fn usage_is_measured_once_at_a_time_and_again_when_stale_or_outdated() {
        let sessions = Sessions::new(vec![ended("a", Some("/w/a")), ended("b", None)]);
        let mut policy = WorktreePolicy::default();
        let t0 = Instant::now();
        assert_eq!(policy.usage(), Payload::NIL, "nothing known yet");
        assert_eq!(policy.measure(&sessions, t0), Some(vec![PathBuf::from("/w/a")]));
        assert_eq!(policy.measure(&sessions, t0), None, "one measure at a time");
        let told = policy.measured(1, 4096, t0);
        assert_eq!(told, policy.usage());
        assert_eq!(policy.measure(&sessions, t0 + Duration::from_secs(1)), None, "fresh");
        assert!(policy.measure(&sessions, t0 + USAGE_EVERY).is_some(), "stale");
        policy.measured(1, 4096, t0 + USAGE_EVERY);
        policy.outdated();
        assert!(policy.measure(&sessions, t0 + USAGE_EVERY).is_some(), "outdated");
    }
}

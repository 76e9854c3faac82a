//! The branches desk: what lulu keeps of the sessions' branches between
//! looks. The activity feed (what happened on them, newest first, and each
//! watched repository's last look: its ref files' stamp and tips) and the
//! worktree policy (what a prune looks at, when the worktrees' count and
//! size are due).
//!
//! Owns its fields; the supervisor reaches them only through these methods
//! (`feed.rs` schedules the looks, `cleanup.rs` the measures, as jobs).
//! Invariants: at most one look per repository is under way; the feed
//! keeps the newest [`FEED_LEN`] items, newest first; a look's stamp and
//! tips replace the last only when it is done.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use serde::Serialize;

use super::entries::Sessions;
use super::worktree_policy::WorktreePolicy;
use crate::api::Payload;
use crate::worktree::activity::{Happening, Tips};

/// Items kept for the feed.
pub(super) const FEED_LEN: usize = 500;

/// A repository's ref files as last seen (path, modified, length).
pub(super) type Stamp = Vec<(PathBuf, Option<SystemTime>, u64)>;

/// One item of the feed.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub at: String,
    pub repo: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(flatten)]
    pub what: Happening,
}

/// What the desk knows of one repository.
#[derive(Default)]
struct Watched {
    stamp: Stamp,
    tips: Option<Tips>,
    looking: bool,
}

#[derive(Default)]
pub(super) struct Branches {
    repos: HashMap<PathBuf, Watched>,
    items: VecDeque<Item>,
    policy: WorktreePolicy,
}

impl Branches {
    /// A look at `repo` begins: what it was last seen as; `None` while a
    /// look at it is still under way.
    pub fn begin_look(&mut self, repo: &Path) -> Option<(Stamp, Option<Tips>)> {
        let watched = self.repos.entry(repo.to_path_buf()).or_default();
        if watched.looking {
            return None;
        }
        watched.looking = true;
        Some((watched.stamp.clone(), watched.tips.clone()))
    }

    /// A look at `repo` is done: its stamp, and its tips when they were read.
    pub fn end_look(&mut self, repo: &Path, stamp: Stamp, tips: Option<Tips>) {
        let watched = self.repos.entry(repo.to_path_buf()).or_default();
        watched.looking = false;
        watched.stamp = stamp;
        if let Some(tips) = tips {
            watched.tips = Some(tips);
        }
    }

    /// Something happened: first in the feed.
    pub fn record(&mut self, item: Item) {
        self.items.push_front(item);
        self.items.truncate(FEED_LEN);
    }

    /// The feed, newest first.
    pub fn items(&self) -> &VecDeque<Item> {
        &self.items
    }

    /// The worktrees changed (one removed, one made): measure them again.
    pub fn outdated(&mut self) {
        self.policy.outdated();
    }

    /// The worktrees to measure now, if a measure is due.
    pub fn measure(&mut self, sessions: &Sessions, now: Instant) -> Option<Vec<PathBuf>> {
        self.policy.measure(sessions, now)
    }

    /// A measure is done: the usage as the list's footer shows it.
    pub fn measured(&mut self, count: usize, bytes: u64, now: Instant) -> Payload {
        self.policy.measured(count, bytes, now)
    }

    /// The worktrees' count and size as last measured.
    pub fn usage(&self) -> Payload {
        self.policy.usage()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: usize) -> Item {
        Item {
            at: n.to_string(),
            repo: "/r".into(),
            session: None,
            what: Happening {
                kind: "commit",
                branch: "lulu/a".into(),
                commit: None,
                subject: String::new(),
                files: None,
            },
        }
    }

    #[test]
    fn one_look_at_a_time_and_the_feed_keeps_the_newest() {
        let mut desk = Branches::default();
        let repo = Path::new("/r");
        assert!(desk.begin_look(repo).is_some());
        assert!(desk.begin_look(repo).is_none(), "a look is under way");
        desk.end_look(repo, vec![(PathBuf::from("/r/.git/refs/heads/x"), None, 1)], None);
        let (stamp, tips) = desk.begin_look(repo).unwrap();
        assert_eq!(stamp.len(), 1);
        assert!(tips.is_none());
        for n in 0..FEED_LEN + 3 {
            desk.record(item(n));
        }
        assert_eq!(desk.items().len(), FEED_LEN);
        assert_eq!(
            desk.items().front().unwrap().at,
            (FEED_LEN + 2).to_string(),
            "newest first"
        );
    }
}

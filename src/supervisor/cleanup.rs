//! Worktrees retired and measured, as jobs: `:LuluPrune` over every ended
//! session, the `delete_if_merged` clean-up for the one session that ended
//! or merged, and the count and size of all worktrees for the list's
//! footer. What to do is `WorktreePolicy`'s to say; git and the file
//! system run here, off the loop.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::api::Payload;

use super::worktree_policy::WorktreePolicy;
use super::{Command, Reply, Supervisor, respond};
use crate::api::Event;
use crate::api::reply;
use crate::model::{SessionId, SessionRecord};
use crate::worktree;

impl Supervisor {
    /// `:LuluPrune`: what would go (`dry_run`), or remove it, as a job over
    /// every ended session's worktree. The sessions stay in the list; only
    /// their worktrees and branches go.
    pub(super) fn prune(&mut self, dry_run: bool, reply: Option<Reply>) {
        let candidates = WorktreePolicy::prune_candidates(&self.entries);
        self.retire_job(candidates, !dry_run, reply);
    }

    /// `worktree.cleanup = 'delete_if_merged'`: the one session that ended
    /// loses its worktree if all its work is on its base (a job).
    pub(super) fn apply_cleanup_policy(&mut self, id: &SessionId, delete_if_merged: bool) {
        if let Some(record) = WorktreePolicy::retire_candidate(&self.entries, id, delete_if_merged) {
            self.retire_job(vec![record], true, None);
        }
    }

    /// Of `candidates`, those whose worktrees hold nothing that is not on
    /// their base (clean, and merged or never ahead); removed when `remove`.
    fn retire_job(&self, candidates: Vec<SessionRecord>, remove: bool, reply: Option<Reply>) {
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let mut done = Vec::new();
            for r in candidates {
                let (Some(path), Some(repo), Some(branch), Some(base)) = (&r.worktree, &r.repo, &r.branch, &r.base)
                else {
                    continue;
                };
                let (path, repo) = (Path::new(path), Path::new(repo));
                let clean =
                    !path.exists() || worktree::is_dirty(worktree::Tree { repo, path }).is_ok_and(|dirty| !dirty);
                if !(clean && worktree::is_merged(repo, branch, base).unwrap_or(false)) {
                    continue;
                }
                if remove && let Err(err) = worktree::remove(repo, path, branch, base, false) {
                    tracing::warn!(session = %r.id, "removing a merged worktree failed: {err:#}");
                    continue;
                }
                done.push(r);
            }
            let _ = tx.send(Command::Retired(Box::new(Retired {
                records: done,
                removed: remove,
                reply,
            })));
        });
    }

    pub(super) fn on_retired(&mut self, retired: Retired) {
        let Retired {
            records,
            removed,
            reply,
        } = retired;
        let mut list = Vec::new();
        for record in &records {
            list.push(reply::Retired {
                name: record.name.clone(),
                branch: record.branch.clone().unwrap_or_default(),
                worktree: record.worktree.clone().unwrap_or_default(),
            });
            if !removed {
                continue;
            }
            let id = record.id.clone();
            self.store
                .write(format!("the removed worktree of '{}'", record.name), move |s| {
                    s.clear_worktree(&id)
                });
            self.event(
                &record.id,
                "worktree-removed",
                record.worktree.as_deref().unwrap_or_default(),
            );
            if let Some(entry) = self.entries.get_mut(&record.id) {
                entry.record.worktree = None;
                entry.record.branch = None;
                entry.record.ahead = None;
                let updated = entry.record.clone();
                self.broadcast_record(&updated);
            }
        }
        if removed && !records.is_empty() {
            self.branches.outdated();
            let _ = self.usage();
        }
        respond(reply, Ok(Payload::of(&list)));
    }

    /// Worktree count and size, answered from a cache refreshed in the
    /// background (walking directories is slow); the fresh figure arrives as
    /// a `usage` event.
    pub(super) fn usage(&mut self) -> Payload {
        if let Some(paths) = self.branches.measure(&self.entries, Instant::now()) {
            let tx = self.tx.clone();
            tokio::task::spawn_blocking(move || {
                let existing: Vec<&PathBuf> = paths.iter().filter(|p| p.is_dir()).collect();
                let bytes = existing.iter().map(|p| dir_size(p)).sum();
                let _ = tx.send(Command::Usage(existing.len(), bytes));
            });
        }
        self.branches.usage()
    }

    pub(super) fn on_usage(&mut self, count: usize, bytes: u64) {
        let usage = self.branches.measured(count, bytes, Instant::now());
        self.editors.emit(Event::Usage, usage);
    }
}

/// Bytes under `dir`, not following symlinks.
fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => stack.push(entry.path()),
                Ok(meta) if meta.is_file() => total += meta.len(),
                _ => {}
            }
        }
    }
    total
}

/// A prune or clean-up job's outcome.
pub(super) struct Retired {
    records: Vec<SessionRecord>,
    removed: bool,
    reply: Option<Reply>,
}

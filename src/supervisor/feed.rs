//! The git activity feed: what happens on the sessions' branches (commits,
//! branches created or deleted, merges, rebases), newest first, for
//! `:LuluActivity` and each session's history.
//!
//! Watched cheaply: each second a job stats the branch ref files of each
//! repository (a few `stat` calls); only when they changed are the tips read
//! and compared (git2). The loop only schedules and records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::api::Payload;

use super::branches::{Item, Stamp};
use super::{Command, Supervisor};
use crate::api::Event;
use crate::model::now;
use crate::worktree::activity::{self, Happening, Tips};

/// A look at one repository, done off the loop.
pub(super) struct Look {
    repo: PathBuf,
    stamp: Stamp,
    /// `None`: the refs did not change (nothing read).
    tips: Option<Tips>,
    happenings: Vec<Happening>,
}

impl Supervisor {
    /// Each second: look at every repository with a session branch in it.
    pub(super) fn watch_branches(&mut self) {
        let mut repos: BTreeMap<PathBuf, (Vec<String>, Vec<String>)> = BTreeMap::new();
        for entry in &self.entries {
            if let (Some(repo), Some(base), Some(branch)) =
                (&entry.record.repo, &entry.record.base, &entry.record.branch)
            {
                let (bases, ours) = repos.entry(PathBuf::from(repo)).or_default();
                if !bases.contains(base) {
                    bases.push(base.clone());
                }
                if !ours.contains(branch) {
                    ours.push(branch.clone());
                }
            }
        }
        for (repo, (bases, ours)) in repos {
            let Some((before_stamp, before_tips)) = self.branches.begin_look(&repo) else {
                continue;
            };
            let tx = self.tx.clone();
            tokio::task::spawn_blocking(move || {
                let look = look(&repo, &bases, &ours, before_stamp, before_tips);
                let _ = tx.send(Command::Looked(Box::new(look)));
            });
        }
    }

    pub(super) fn on_looked(&mut self, look: Look) {
        let Look {
            repo,
            stamp,
            tips,
            happenings,
        } = look;
        self.branches.end_look(&repo, stamp, tips);
        for what in happenings {
            let session = self
                .entries
                .iter()
                .rev()
                .find(|e| e.record.branch.as_deref() == Some(what.branch.as_str()) && e.record.repo.is_some())
                .map(|e| (e.record.id.clone(), e.record.name.clone()));
            if let Some((id, _)) = &session {
                let short = what.commit.as_deref().map(|c| &c[..c.len().min(10)]).unwrap_or("");
                let files = what
                    .files
                    .map(|n| format!(" ({n} file{})", if n == 1 { "" } else { "s" }))
                    .unwrap_or_default();
                self.event(id, "git", &format!("{} {short} {}{files}", what.kind, what.subject));
            }
            let item = Item {
                at: now(),
                repo: repo.to_string_lossy().into_owned(),
                session: session.map(|(_, name)| name),
                what,
            };
            self.editors.emit(Event::Activity, Payload::of(&item));
            self.branches.record(item);
        }
    }

    /// Something lulu itself did to a branch (a squash merge leaves no trace
    /// in the refs that says "merged"; a conflict none at all).
    pub(super) fn tell_activity(
        &mut self,
        record: &crate::model::SessionRecord,
        kind: &'static str,
        subject: String,
        commit: Option<String>,
    ) {
        let (Some(repo), Some(branch)) = (&record.repo, &record.branch) else {
            return;
        };
        let item = Item {
            at: now(),
            repo: repo.clone(),
            session: Some(record.name.clone()),
            what: Happening {
                kind,
                branch: branch.clone(),
                commit,
                subject,
                files: None,
            },
        };
        self.editors.emit(Event::Activity, Payload::of(&item));
        self.branches.record(item);
    }

    /// `activity_list`: the feed, newest first.
    pub(super) fn activity(&self) -> Payload {
        Payload::of(self.branches.items())
    }
}

/// Stat the refs; read and compare the tips only when they changed.
fn look(
    repo: &Path,
    bases: &[String],
    ours: &[String],
    before_stamp: Vec<(PathBuf, Option<SystemTime>, u64)>,
    before: Option<Tips>,
) -> Look {
    let watched: Vec<String> = bases.iter().chain(ours).cloned().collect();
    let stamp = ref_stamp(repo, &watched);
    if before.is_some() && stamp == before_stamp {
        return Look {
            repo: repo.to_path_buf(),
            stamp,
            tips: None,
            happenings: Vec::new(),
        };
    }
    let tips = activity::tips(repo, bases, ours).ok();
    let happenings = match (&before, &tips) {
        (Some(before), Some(after)) => activity::changes(repo, before, after, bases, ours).unwrap_or_default(),
        // The first look only learns where things are.
        _ => Vec::new(),
    };
    Look {
        repo: repo.to_path_buf(),
        stamp,
        tips,
        happenings,
    }
}

/// The files a branch move touches: the loose refs of lulu's branches and
/// of the bases, and `packed-refs`.
fn ref_stamp(repo: &Path, bases: &[String]) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let git = repo.join(".git");
    let mut files = vec![git.join("packed-refs")];
    files.extend(bases.iter().map(|b| git.join("refs/heads").join(b)));
    let mut dirs = vec![git.join("refs/heads/lulu")];
    files.push(dirs[0].clone());
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path.clone());
            }
            files.push(path);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            let len = meta.map_or(0, |m| m.len());
            (path, modified, len)
        })
        .collect()
}

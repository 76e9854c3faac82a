//! Landing a session's work: its branch merged onto its base, or rebased
//! onto it in its worktree (stopped at conflicts, continued or aborted).
//! The git work is a job; its outcome comes back as a command.

use std::path::PathBuf;

use crate::api::Payload;
use anyhow::anyhow;

use super::worktrees::worktree_of;
use super::{Command, Reply, Supervisor, respond};
use crate::api::RebaseStep;
use crate::api::reply::{Conflicted, Landed};
use crate::model::SessionRecord;
use crate::worktree::history::{self, Rebased};
use crate::worktree::{self, Strategy, WorktreeError};

impl Supervisor {
    /// Land the session's branch on its base, as a job. A conflict is an
    /// answer, not an error: `{ ok = false, conflicts = { {path, line,
    /// theirs} }, files, message }`. An ended session's worktree then goes
    /// if `retire` (the merging editor's `worktree.cleanup`).
    pub(super) fn merge(
        &mut self,
        session: &str,
        strategy: Strategy,
        message: Option<String>,
        retire: bool,
        reply: Option<Reply>,
    ) {
        let job = (|| {
            let record = self.find(session)?.record.clone();
            let (path, base) = worktree_of(&record)?;
            let repo = PathBuf::from(
                record
                    .repo
                    .clone()
                    .ok_or_else(|| anyhow!("session {} has no repository", record.name))?,
            );
            anyhow::Ok((record, path, base, repo))
        })();
        let (record, path, base, repo) = match job {
            Ok(job) => job,
            Err(err) => return respond(reply, Err(err)),
        };
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let branch = record.branch.clone().unwrap_or_default();
            let result = worktree::merge(&repo, &path.path, &branch, &base, strategy, message.as_deref());
            let done = GitDone {
                record,
                result,
                reply,
                retire,
            };
            let _ = tx.send(Command::Merged(Box::new(done)));
        });
    }

    pub(super) fn on_merged(&mut self, done: GitDone<String>) {
        let GitDone {
            record,
            result,
            reply,
            retire,
        } = done;
        self.refresh_ahead(&record.id);
        let answer = match result {
            Ok(commit) => {
                self.event(&record.id, "merged", &commit);
                let base = record.base.clone().unwrap_or_default();
                let branch = record.branch.clone().unwrap_or_default();
                self.tell_activity(
                    &record,
                    "merged",
                    format!("{branch} merged into {base} by lulu"),
                    Some(commit.clone()),
                );
                let ended = self.find(record.id.as_str()).is_ok_and(|e| e.live.is_none());
                if ended {
                    self.apply_cleanup_policy(&record.id, retire);
                }
                Ok(Payload::of(&Landed::at(Some(commit))))
            }
            Err(WorktreeError::Conflict { files, hunks, .. }) => {
                let message = format!(
                    "merge of {} conflicts in {}; aborted, {} is unchanged (rebase {} to resolve them in its worktree)",
                    record.branch.as_deref().unwrap_or_default(),
                    files.join(", "),
                    record.base.as_deref().unwrap_or_default(),
                    record.name
                );
                self.tell_activity(&record, "conflict", message.clone(), None);
                Ok(conflict_answer(message, &files, &hunks))
            }
            Err(err) => Err(err.into()),
        };
        respond(reply, answer);
    }

    /// `:LuluRebase`: the session's branch onto its base, in its worktree
    /// (a job); stopped at conflicts, continued or aborted later.
    pub(super) fn rebase(&mut self, session: &str, step: RebaseStep, reply: Option<Reply>) {
        let found = self
            .find(session)
            .map(|e| e.record.clone())
            .and_then(|record| Ok((worktree_of(&record)?, record)));
        let ((path, base), record) = match found {
            Ok(found) => found,
            Err(err) => return respond(reply, Err(err)),
        };
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let result = match step {
                RebaseStep::Start => history::rebase(path.tree(), &base),
                RebaseStep::Continue => history::rebase_continue(path.tree()),
                RebaseStep::Abort => history::rebase_abort(path.tree()).map(|()| Rebased::Done(String::new())),
            };
            let done = GitDone {
                record,
                result,
                reply,
                retire: false,
            };
            let _ = tx.send(Command::Rebased(Box::new(done)));
        });
    }

    pub(super) fn on_rebased(&mut self, done: GitDone<Rebased>) {
        let GitDone {
            record, result, reply, ..
        } = done;
        self.refresh_ahead(&record.id);
        let answer = match result {
            Ok(Rebased::Done(head)) if head.is_empty() => Ok(Payload::of(&Landed::at(None))),
            Ok(Rebased::Done(head)) => {
                self.event(&record.id, "rebased", &head);
                Ok(Payload::of(&Landed::at(Some(head))))
            }
            Ok(Rebased::Stopped(hunks)) => {
                let mut files: Vec<String> = hunks.iter().map(|h| h.path.clone()).collect();
                files.dedup();
                let message = format!(
                    "rebase of {} onto {} stopped at conflicts in {}: resolve them in its worktree, then continue the rebase of {} (or abort it)",
                    record.branch.as_deref().unwrap_or_default(),
                    record.base.as_deref().unwrap_or_default(),
                    files.join(", "),
                    record.name
                );
                Ok(conflict_answer(message, &files, &hunks))
            }
            Err(err) => Err(err.into()),
        };
        respond(reply, answer);
    }
}

/// A git job's outcome, for the loop.
pub(super) struct GitDone<T> {
    record: SessionRecord,
    result: Result<T, WorktreeError>,
    reply: Option<Reply>,
    /// A merge of an ended session: retire its worktree once landed.
    retire: bool,
}

fn conflict_answer(message: String, files: &[String], hunks: &[history::Hunk]) -> Payload {
    Payload::of(&Conflicted {
        ok: false,
        message,
        files,
        conflicts: hunks,
    })
}

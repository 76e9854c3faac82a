//! From a reviewed session to its branch on the forge: a push (`:LuluPush`),
//! a pull request's draft (its commits and review comments) and the
//! request itself (`:LuluPR`: push, then `gh`/`glab`), each a job; the
//! request's URL is kept with the session.

use std::path::PathBuf;

use anyhow::anyhow;
use serde::Serialize;

use super::worktrees::worktree_of;
use super::{Command, Reply, Supervisor, answer_later, respond};
use crate::api::Payload;
use crate::model::{SessionId, SessionRecord};
use crate::worktree::{forge, history, push};

/// What a push or a pull request came to.
#[derive(Debug, Clone, Serialize)]
pub struct Pushed {
    pub remote: String,
    pub branch: String,
    /// Where it went (the remote's push URL).
    pub to: String,
    /// The pull (merge) request's URL, and whether it was there already.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub existed: bool,
    /// Why no request was opened (no gh, no forge lulu knows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// A pull request's draft, for the user to edit.
#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub title: String,
    pub body: String,
}

/// What the job needs of a session.
struct Branch {
    record: SessionRecord,
    repo: PathBuf,
    worktree: PathBuf,
    branch: String,
    base: String,
}

impl Supervisor {
    fn pushable(&self, session: &str) -> anyhow::Result<Branch> {
        let record = self.find(session)?.record.clone();
        let (tree, base) = worktree_of(&record)?;
        let branch = record
            .branch
            .clone()
            .ok_or_else(|| anyhow!("session {} has no branch", record.name))?;
        Ok(Branch {
            record,
            repo: tree.repo,
            worktree: tree.path,
            branch,
            base,
        })
    }

    /// `session_push`: push the session's branch (a job).
    pub(super) fn push(&self, session: &str, remote: String, force: bool, reply: Option<Reply>) {
        let b = match self.pushable(session) {
            Ok(b) => b,
            Err(err) => return respond(reply, Err(err)),
        };
        answer_later(reply, async move {
            let pushed = tokio::task::spawn_blocking(move || {
                let to = push::push(&b.repo, &b.worktree, &b.branch, &remote, force)?;
                anyhow::Ok(Pushed {
                    remote,
                    branch: b.branch,
                    to,
                    url: None,
                    existed: false,
                    hint: None,
                })
            })
            .await??;
            Ok(Payload::of(&pushed))
        });
    }

    /// `pr_draft`: a title and body from the session's commits and review.
    pub(super) fn pr_draft(&self, session: &str, reply: Option<Reply>) {
        let b = match self.pushable(session) {
            Ok(b) => b,
            Err(err) => return respond(reply, Err(err)),
        };
        let store = self.store.clone();
        answer_later(reply, async move {
            let id = b.record.id.clone();
            let comments = store.run(move |s| s.comments(&id)).await.unwrap_or_default();
            let draft = tokio::task::spawn_blocking(move || {
                let message = history::squash_message(&b.repo, &b.branch, &b.base)?;
                anyhow::Ok(draft(&b.record, &message, &comments))
            })
            .await??;
            Ok(Payload::of(&draft))
        });
    }

    /// `session_pr`: push, then open the request; its URL kept.
    pub(super) fn open_pr(&self, session: &str, remote: String, title: String, body: String, reply: Option<Reply>) {
        let b = match self.pushable(session) {
            Ok(b) => b,
            Err(err) => return respond(reply, Err(err)),
        };
        let (tx, dir) = (self.tx.clone(), self.settings.state_dir.clone());
        let path_var = self.settings.path_var.clone();
        tokio::task::spawn_blocking(move || {
            let result = pull_request(&b, &remote, &title, &body, &dir, path_var.as_deref());
            let _ = tx.send(Command::PrOpened(b.record.id.clone(), Box::new(result), reply));
        });
    }

    pub(super) fn on_pr_opened(&mut self, id: SessionId, result: anyhow::Result<Pushed>, reply: Option<Reply>) {
        if let Ok(Pushed { url: Some(url), .. }) = &result
            && let Some(entry) = self.entries.get_mut(&id)
        {
            entry.record.pr_url = Some(url.clone());
            let record = entry.record.clone();
            self.persist(&record);
            self.broadcast_record(&record);
        }
        respond(reply, result.map(|pushed| Payload::of(&pushed)));
    }
}

fn pull_request(
    b: &Branch,
    remote: &str,
    title: &str,
    body: &str,
    dir: &std::path::Path,
    path_var: Option<&str>,
) -> anyhow::Result<Pushed> {
    if title.trim().is_empty() {
        anyhow::bail!("the pull request needs a title (the first line of the draft)");
    }
    let to = push::push(&b.repo, &b.worktree, &b.branch, remote, false)?;
    let url = push::fetch_url(&b.repo, remote)?;
    let request = forge::Request {
        url: &url,
        branch: &b.branch,
        base: &b.base,
        title,
        body,
        dir,
        path_var,
    };
    let pushed = |url, existed, hint| Pushed {
        remote: remote.to_string(),
        branch: b.branch.clone(),
        to: to.clone(),
        url,
        existed,
        hint,
    };
    match forge::open(&request) {
        Ok(forge::Opened::Url { url, existed }) => Ok(pushed(Some(url), existed, None)),
        Ok(forge::Opened::Cannot(hint)) => Ok(pushed(None, false, Some(hint))),
        // The push stands: say so with why the request did not open.
        Err(why) => Err(anyhow!("{} pushed to {remote}, but {why}", b.branch)),
    }
}

/// The draft: the first commit's subject (else the session's name), then
/// the commits' messages and the review's comments.
fn draft(record: &SessionRecord, message: &str, comments: &[crate::store::Comment]) -> Draft {
    let mut lines = message.lines();
    let subject = lines.next().unwrap_or_default().trim();
    let title = if subject.is_empty() || subject.starts_with("Squash ") {
        record.name.clone()
    } else {
        subject.to_string()
    };
    let mut body = lines.collect::<Vec<_>>().join("\n").trim().to_string();
    if body.is_empty() && !subject.starts_with("Squash ") {
        body = message.trim().to_string();
    }
    if !comments.is_empty() {
        body.push_str("\n\nReview comments:\n");
        for c in comments {
            body.push_str(&format!("- {}:{}: {}\n", c.path, c.line, c.text.replace('\n', " ")));
        }
    }
    body.push_str(&format!(
        "\n\n(from lulu session {}, agent {})",
        record.name, record.agent
    ));
    Draft {
        title,
        body: body.trim().to_string(),
    }
}

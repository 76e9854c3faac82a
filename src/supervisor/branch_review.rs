//! Reviewing a session's branch: the files it changed with their line
//! counts, each file as it was at the fork, and the comments the user
//! writes on them until they are sent to the agent. Git and the store run
//! as jobs; the loop only finds the session.

use crate::api::Payload;

use super::{Reply, Supervisor, answer_later, respond};
use crate::model::SessionId;
use crate::store::Comment;
use crate::worktree::{OwnedTree, history};

impl Supervisor {
    /// The session's worktree and base, or why it has none.
    fn branch_of(&self, session: &str) -> anyhow::Result<(OwnedTree, String)> {
        super::worktrees::worktree_of(&self.find(session)?.record)
    }

    pub(super) fn review_files(&self, session: &str, reply: Option<Reply>) {
        let found = self.branch_of(session);
        answer_later(reply, async move {
            let (tree, base) = found?;
            let files = tokio::task::spawn_blocking(move || history::changed_files(tree.tree(), &base)).await??;
            Ok(Payload::of(&files))
        });
    }

    pub(super) fn review_base(&self, session: &str, file: String, reply: Option<Reply>) {
        let found = self.branch_of(session);
        answer_later(reply, async move {
            let (tree, base) = found?;
            let text = tokio::task::spawn_blocking(move || history::base_file(tree.tree(), &base, &file)).await??;
            Ok(text.map_or(Payload::NIL, Payload::from))
        });
    }

    pub(super) fn review_read(&self, session: &str, file: String, reply: Option<Reply>) {
        let found = self.branch_of(session);
        answer_later(reply, async move {
            let (tree, _) = found?;
            let text = tokio::task::spawn_blocking(move || crate::worktree::files::read(&tree.path, &file)).await??;
            Ok(text.map_or(Payload::NIL, Payload::from))
        });
    }

    pub(super) fn review_write(&self, session: &str, file: String, content: Vec<u8>, reply: Option<Reply>) {
        let found = self.branch_of(session);
        answer_later(reply, async move {
            let (tree, _) = found?;
            tokio::task::spawn_blocking(move || crate::worktree::files::write(&tree.path, &file, &content)).await??;
            Ok(Payload::NIL)
        });
    }

    fn session_id(&self, session: &str) -> anyhow::Result<SessionId> {
        Ok(self.find(session)?.record.id.clone())
    }

    pub(super) fn add_comment(&self, session: &str, comment: Comment, reply: Option<Reply>) {
        let id = match self.session_id(session) {
            Ok(id) => id,
            Err(err) => return respond(reply, Err(err)),
        };
        let store = self.store.clone();
        answer_later(reply, async move {
            if !store.run(move |s| s.add_comment(&id, &comment)).await? {
                anyhow::bail!(
                    "this session has {} review comments already; send them (gS) first",
                    crate::store::MAX_COMMENTS
                );
            }
            Ok(Payload::NIL)
        });
    }

    pub(super) fn comments(&self, session: &str, reply: Option<Reply>) {
        let id = self.session_id(session);
        let store = self.store.clone();
        answer_later(reply, async move {
            let id = id?;
            let comments = store.run(move |s| s.comments(&id)).await?;
            Ok(Payload::of(&comments))
        });
    }

    pub(super) fn remove_comment(&self, session: &str, comment: i64, reply: Option<Reply>) {
        let id = self.session_id(session);
        let store = self.store.clone();
        answer_later(reply, async move {
            let id = id?;
            if !store.run(move |s| s.remove_comment(&id, comment)).await? {
                anyhow::bail!("no comment {comment} on this session (sent, or removed already)");
            }
            Ok(Payload::NIL)
        });
    }

    pub(super) fn clear_comments(&self, session: &str, reply: Option<Reply>) {
        let id = self.session_id(session);
        let store = self.store.clone();
        answer_later(reply, async move {
            let id = id?;
            store.run(move |s| s.clear_comments(&id)).await?;
            Ok(Payload::NIL)
        });
    }
}

//! Sessions' worktrees in the supervisor: made at start, measured while the
//! session runs (`ahead`), diffed, removed with the session (merging back
//! is landing.rs).
//! All git work runs on blocking threads.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::api::Payload;
use anyhow::{Context, anyhow, bail};

use super::{Command, Reply, Supervisor};
use crate::api::reply::Trusted;
use crate::model::{SessionId, SessionRecord};
use crate::worktree::{self, Created, OwnedTree, Tree, WorktreeError, repo_config};

/// How often a busy session's `ahead` count is refreshed.
const AHEAD_EVERY: Duration = Duration::from_secs(5);

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WorktreeError> + Send + 'static,
) -> anyhow::Result<T> {
    Ok(tokio::task::spawn_blocking(f).await.context("git task failed")??)
}

/// What making a new session's worktree needs, taken from the supervisor
/// when the start begins (the work itself runs in the start's job).
pub(super) struct WorktreeJob {
    pub root: Option<PathBuf>,
    /// The branch name template (`worktree.branch`) and the agent it names.
    pub branch: String,
    pub agent: String,
    pub copy: Vec<String>,
    pub setup: Option<Vec<String>>,
    pub store: crate::store::Store,
    /// Where notices go (an untrusted `.lulu.json`).
    pub notices: tokio::sync::mpsc::UnboundedSender<Command>,
}

impl WorktreeJob {
    /// The worktree a new session runs in, or `None` to run in `cwd`.
    /// `explicit`: the user asked for one (`worktree=on` or `base=`), so a
    /// directory outside any repository is an error rather than a fallback.
    pub(super) async fn make(
        &self,
        cwd: &Path,
        name: &str,
        base: Option<String>,
        explicit: bool,
        reuse: bool,
    ) -> anyhow::Result<Option<(Created, Option<Vec<String>>)>> {
        let dir = cwd.to_path_buf();
        let Some(repo) = blocking(move || worktree::discover(&dir)).await? else {
            if explicit {
                return Err(WorktreeError::NotARepo(cwd.display().to_string()).into());
            }
            return Ok(None);
        };
        let (copy, setup) = self.repo_settings(&repo).await;
        let name = name.to_string();
        let root = self.root.clone();
        let branch = worktree::branch_name(&self.branch, &name, &self.agent)
            .map_err(|err| anyhow::anyhow!("worktree.branch: {err}"))?;
        let created = blocking(move || {
            if reuse {
                let saved = base.clone().unwrap_or_else(|| "HEAD".into());
                match worktree::reopen(&repo, &name, &branch, &saved, root.as_deref()) {
                    Err(WorktreeError::BranchGone(_)) => {}
                    other => return other,
                }
            }
            let created = worktree::create(&repo, &name, &branch, base.as_deref(), root.as_deref())?;
            let copied = worktree::copy_untracked(&created.repo, &created.path, &copy)?;
            if !copied.is_empty() {
                tracing::info!(files = ?copied, "copied into the new worktree");
            }
            Ok(created)
        })
        .await?;
        tracing::info!(branch = %created.branch, path = %created.path.display(), "worktree created");
        Ok(Some((created, setup)))
    }

    fn notice(&self, message: String) {
        let _ = self.notices.send(Command::Notice(message));
    }

    /// `copy` and `setup` for new worktrees of `repo`: its `.lulu.json` when
    /// the user trusts that exact content, else the options from setup().
    async fn repo_settings(&self, repo: &Path) -> (Vec<String>, Option<Vec<String>>) {
        let defaults = (self.copy.clone(), self.setup.clone());
        let dir = repo.to_path_buf();
        let Some(found) = tokio::task::spawn_blocking(move || repo_config::find(&dir))
            .await
            .ok()
            .flatten()
        else {
            return defaults;
        };
        let path = found.path.to_string_lossy().into_owned();
        let (key, hash) = (path.clone(), found.sha256.clone());
        let trusted = self
            .store
            .run(move |s| s.is_trusted(&key, &hash))
            .await
            .unwrap_or(false);
        if !trusted {
            self.notice(format!(
                "[untrusted] {path} is new or changed and not trusted, so this session starts without it: review it, then trust it"
            ));
            return defaults;
        }
        match found.parsed {
            Ok(config) => (config.copy.unwrap_or(defaults.0), config.setup.or(defaults.1)),
            Err(err) => {
                self.notice(format!("{err} (starting without it)"));
                defaults
            }
        }
    }
}

impl Supervisor {
    /// Restoring a session: an ended one of the same name makes way (its
    /// row and log go; its branch and worktree are reused). Returns what
    /// its agent had used, for a session that resumes its conversation.
    pub(super) fn replace_ended(&mut self, name: &str) -> anyhow::Result<Option<crate::cost::Usage>> {
        let Some(entry) = self.entries.by_name(name) else {
            return Ok(None);
        };
        if entry.live.is_some() {
            bail!("session '{name}' is running; stop it before restoring over it");
        }
        let (id, usage) = (entry.record.id.clone(), entry.record.usage.clone());
        self.forget(&id);
        Ok(Some(usage))
    }

    /// `:LuluTrust`: trust the `.lulu.json` of the repository at `cwd`, as
    /// it is now.
    /// `:LuluTrust` (a job: git and the file are read off the loop).
    pub(super) fn trust(&self, cwd: String, reply: Option<Reply>) {
        let store = self.store.clone();
        super::answer_later(reply, async move {
            let dir = PathBuf::from(&cwd);
            let repo = blocking(move || worktree::discover(&dir))
                .await?
                .ok_or_else(|| WorktreeError::NotARepo(cwd.clone()))?;
            let dir = repo.clone();
            let found = tokio::task::spawn_blocking(move || repo_config::find(&dir))
                .await
                .context("reading .lulu.json failed")?
                .ok_or_else(|| anyhow!("no {} in {}", repo_config::FILE, repo.display()))?;
            if let Err(err) = &found.parsed {
                bail!("{err}; fix it before trusting it");
            }
            let path = found.path.to_string_lossy().into_owned();
            let (key, hash) = (path.clone(), found.sha256.clone());
            store.write(format!("the trust of {path}"), move |s| s.trust_file(&key, &hash));
            tracing::info!(%path, sha256 = %found.sha256, "trusted");
            Ok(Payload::of(&Trusted {
                path,
                sha256: found.sha256,
            }))
        });
    }

    /// `:LuluDiff` (a job).
    pub(super) fn diff(&self, session: &str, reply: Option<Reply>) {
        let found = self
            .find(session)
            .map(|e| e.record.clone())
            .and_then(|record| worktree_of(&record));
        super::answer_later(reply, async move {
            let (tree, base) = found?;
            let text = blocking(move || worktree::diff(tree.tree(), &base)).await?;
            Ok(Payload::from(text))
        });
    }

    /// Recount `ahead` off the supervisor's task; the answer comes back as a
    /// command.
    pub(super) fn refresh_ahead(&mut self, id: &SessionId) {
        let Some(entry) = self.entries.get_mut(id) else {
            return;
        };
        let (Some(repo), Some(branch), Some(base)) = (
            entry.record.repo.clone(),
            entry.record.branch.clone(),
            entry.record.base.clone(),
        ) else {
            return;
        };
        let path = entry.record.worktree.clone().map(PathBuf::from);
        if let Some(live) = entry.live.as_mut() {
            live.ahead_checked = Some(Instant::now());
        }
        let tx = self.tx.clone();
        let id = id.clone();
        tokio::task::spawn_blocking(move || {
            let repo = Path::new(&repo);
            let Ok(ahead) = worktree::ahead(repo, &branch, &base) else {
                return;
            };
            // A squash-merged branch is still "ahead" by its commits, though
            // nothing of it is left to land.
            let merged = ahead > 0 && worktree::is_merged(repo, &branch, &base).unwrap_or(false);
            let dirty =
                path.is_some_and(|p| p.exists() && worktree::is_dirty(Tree { repo, path: &p }).unwrap_or(false));
            let state = BranchState {
                ahead: if merged { 0 } else { ahead as i64 },
                merged,
                dirty,
            };
            let _ = tx.send(Command::Branch(id, state));
        });
    }

    /// Activity: recount now and then.
    pub(super) fn maybe_refresh_ahead(&mut self, id: &SessionId) {
        let due = self
            .entries
            .get(id)
            .and_then(|e| e.live.as_ref())
            .is_some_and(|live| live.ahead_checked.is_none_or(|at| at.elapsed() >= AHEAD_EVERY));
        if due {
            self.refresh_ahead(id);
        }
    }

    pub(super) fn on_branch(&mut self, id: SessionId, state: BranchState) {
        if let Some(entry) = self.entries.get_mut(&id) {
            let r = &mut entry.record;
            if r.ahead != Some(state.ahead) || r.merged != state.merged || r.dirty != state.dirty {
                (r.ahead, r.merged, r.dirty) = (Some(state.ahead), state.merged, state.dirty);
                let record = entry.record.clone();
                self.broadcast_record(&record);
            }
        }
    }
}

/// The session's worktree (with the repository that lists it, from lulu's
/// records) and its base.
pub(super) fn worktree_of(record: &SessionRecord) -> anyhow::Result<(OwnedTree, String)> {
    match (&record.worktree, &record.base, &record.repo) {
        (Some(path), Some(base), Some(repo)) => Ok((
            OwnedTree {
                repo: PathBuf::from(repo),
                path: PathBuf::from(path),
            },
            base.clone(),
        )),
        _ => bail!(
            "session '{}' has no worktree and branch of its own (started with worktree=off)",
            record.name
        ),
    }
}

/// Where a session's branch stands against its base, and its worktree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BranchState {
    ahead: i64,
    merged: bool,
    dirty: bool,
}

/// What `remove_worktree` would refuse, checked before a live session is
/// stopped for nothing. Blocking (git).
pub(super) fn removable(record: &SessionRecord, force: bool) -> anyhow::Result<()> {
    if force || record.worktree.is_none() {
        return Ok(());
    }
    let (tree, base) = worktree_of(record)?;
    let repo = tree.repo.clone();
    let branch = record.branch.clone().unwrap_or_default();
    if tree.path.exists() && worktree::is_dirty(tree.tree())? {
        return Err(WorktreeError::WorktreeDirty(tree.path.display().to_string()).into());
    }
    if !worktree::is_merged(&repo, &branch, &base)? {
        return Err(WorktreeError::Unmerged {
            count: worktree::ahead(&repo, &branch, &base).unwrap_or(0),
            branch,
            base,
        }
        .into());
    }
    Ok(())
}

/// Remove a session's worktree and branch (refused when dirty or
/// unmerged, unless `force`). Blocking (git).
pub(super) fn remove_worktree(record: &SessionRecord, force: bool) -> anyhow::Result<()> {
    if record.worktree.is_none() {
        return Ok(());
    }
    let (tree, base) = worktree_of(record)?;
    let branch = record.branch.clone().unwrap_or_default();
    Ok(worktree::remove(&tree.repo, &tree.path, &branch, &base, force)?)
}

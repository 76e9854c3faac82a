//! A file tool's question as a change to review in Neovim: its whole input
//! is kept on disk while it waits (the parked question keeps an excerpt
//! only), the review shows the file now and after, and an accepted version
//! (maybe edited by the user) becomes the input the agent runs. Every read
//! and write is a job off the loop.

use std::path::{Path, PathBuf};

use crate::api::Payload;
use anyhow::{Context, anyhow, bail};

use super::approvals::PendingView;
use super::{Command, Reply, Supervisor, respond, session_dir};
use crate::approval::Action;
use crate::edit_review::{self, FileChange};

/// Largest file shown in a review (and read to make the accepted input).
const MAX_REVIEWED: u64 = 16 * 1024 * 1024;
/// Largest tool input kept for a review: 16 parked questions of 12
/// sessions stay within 768 MiB of disk; a larger change is answered as it
/// is, without a diff.
const MAX_SPILLED: usize = 4 * 1024 * 1024;

/// A parked question's whole input on disk; removed when the question goes.
/// `written` turns true once the job that writes it is done: a review
/// opened the instant the question is announced waits for it.
#[derive(Debug)]
pub(crate) struct Spill(PathBuf, tokio::sync::watch::Receiver<bool>);

/// How long a review waits for its question's input to be written.
const SPILL_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Drop for Spill {
    fn drop(&mut self) {
        let path = std::mem::take(&mut self.0);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(move || std::fs::remove_file(path));
            }
            Err(_) => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// What a review job needs of a pending question.
struct Parked {
    spill: PathBuf,
    written: tokio::sync::watch::Receiver<bool>,
    agent: String,
    adapter: &'static dyn crate::adapter::Adapter,
    tool: String,
    cwd: String,
    session_name: String,
}

impl Supervisor {
    /// The adapter of the session `id` (its agent's, or ACP's).
    fn adapter_of(&self, id: &crate::model::SessionId, agent: &str) -> &'static dyn crate::adapter::Adapter {
        let kind = self.entries.get(id).map(|e| e.record.kind).unwrap_or_default();
        crate::adapter::for_session(agent, kind)
    }

    /// A file tool's question: mark it reviewable and keep its whole input
    /// (written by a job; the review reads it later).
    /// A file that is not a regular file (a device, FIFO or socket, a
    /// `/proc` or `/sys` entry, a path through them) opens no review: the
    /// question says why instead.
    pub(super) fn spill_for_review(
        &self,
        view: &mut PendingView,
        input: &serde_json::Value,
        path_doubt: Option<String>,
    ) -> Option<Spill> {
        let adapter = self.adapter_of(&view.session_id, &view.agent);
        crate::adapter::file_change(adapter, &view.tool, input)?;
        if let Some(why) = path_doubt {
            view.doubt.get_or_insert_with(|| format!("no review: {why}"));
            return None;
        }
        let path = session_dir(&self.settings.state_dir, &view.session_id).join(format!("review-{}.json", view.id));
        let bytes = serde_json::to_vec(input).ok().filter(|b| b.len() <= MAX_SPILLED)?;
        let target = path.clone();
        let (done, written) = tokio::sync::watch::channel(false);
        tokio::task::spawn_blocking(move || {
            let wrote = (|| {
                if let Some(dir) = target.parent() {
                    crate::private::dir(dir, crate::private::Links::Follow)?;
                }
                crate::private::write(&target, &bytes)
            })();
            if let Err(err) = &wrote {
                tracing::warn!(path = %target.display(), "keeping a question for review failed: {err}");
            }
            let _ = done.send(true);
        });
        view.review = true;
        view.editable = adapter.takes_edited_input();
        Some(Spill(path, written))
    }

    fn parked(&self, id: i64) -> anyhow::Result<Parked> {
        let pending = self
            .asks
            .get(id)
            .ok_or_else(|| anyhow!("approval {id} is no longer pending (answered, withdrawn or expired)"))?;
        let spill = pending
            .spill
            .as_ref()
            .ok_or_else(|| anyhow!("approval {id} ({}) is not a file change to review", pending.view.tool))?;
        Ok(Parked {
            spill: spill.0.clone(),
            written: spill.1.clone(),
            agent: pending.view.agent.clone(),
            adapter: self.adapter_of(&pending.view.session_id, &pending.view.agent),
            tool: pending.view.tool.clone(),
            cwd: pending.cwd.clone(),
            session_name: pending.view.session_name.clone(),
        })
    }

    /// `approval_review`: the file now and after the change (a job).
    pub(super) fn review(&self, id: i64, reply: Option<Reply>) {
        let parked = self.parked(id);
        super::answer_later(reply, async move {
            let parked = parked?;
            let session = parked.session_name.clone();
            let (tool, editable) = (parked.tool.clone(), parked.adapter.takes_edited_input());
            let root = PathBuf::from(&parked.cwd);
            let (change, path, current) = blocking_read(parked).await?;
            let proposed = change.apply(current.as_deref())?;
            let shown = path.strip_prefix(&root).unwrap_or(&path).to_string_lossy().into_owned();
            Ok(Payload::of(&crate::api::reply::Review {
                id,
                session_name: session,
                tool,
                path: path.to_string_lossy().into_owned(),
                shown,
                current,
                proposed,
                editable,
            }))
        });
    }

    /// An allow with the user's version of the file: the input that makes
    /// it is worked out by a job, then the question is settled.
    pub(super) fn decide_reviewed(&self, id: i64, content: String, by: String, reply: Option<Reply>) {
        let parked = match self.parked(id) {
            Ok(parked) => parked,
            Err(err) => return respond(reply, Err(err)),
        };
        if !parked.adapter.takes_edited_input() {
            let err = anyhow!(
                "{} cannot run an edited version; allow it as it is, or deny it",
                parked.agent
            );
            return respond(reply, Err(err));
        }
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let (adapter, tool) = (parked.adapter, parked.tool.clone());
            let (spill, written) = (parked.spill.clone(), parked.written.clone());
            let result = async {
                let (_, _, current) = blocking_read(parked).await?;
                let input = read_input(&spill, written).await?;
                let shape = adapter
                    .file_tool(&tool)
                    .ok_or_else(|| anyhow!("{tool} is not a file change lulu can show"))?;
                Ok(edit_review::accepted_input(
                    shape,
                    &input,
                    current.as_deref(),
                    &content,
                )?)
            }
            .await;
            let _ = tx.send(Command::Reviewed { id, result, by, reply });
        });
    }

    pub(super) fn on_reviewed(
        &mut self,
        id: i64,
        result: anyhow::Result<Option<serde_json::Value>>,
        by: String,
        reply: Option<Reply>,
    ) {
        let settled = result.and_then(|updated| {
            let by = if updated.is_some() {
                format!("{by} (reviewed, edited)")
            } else {
                format!("{by} (reviewed)")
            };
            self.settle(id, Action::Allow, &by, None, updated)?;
            Ok(Payload::NIL)
        });
        respond(reply, settled);
    }
}

/// The change and the file it changes, as it is now (`None`: no such file).
async fn blocking_read(parked: Parked) -> anyhow::Result<(FileChange, PathBuf, Option<String>)> {
    let input = read_input(&parked.spill, parked.written.clone()).await?;
    let change = crate::adapter::file_change(parked.adapter, &parked.tool, &input)
        .ok_or_else(|| anyhow!("{} is not a file change lulu can show", parked.tool))?;
    let path = Path::new(&parked.cwd).join(change.path());
    let target = path.clone();
    let current = tokio::task::spawn_blocking(move || read_current(&target))
        .await
        .context("reading the file failed")??;
    Ok((change, path, current))
}

async fn read_input(
    spill: &Path,
    mut written: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<serde_json::Value> {
    // The job that writes it may not be done yet (a review opened the
    // instant its question came).
    let _ = tokio::time::timeout(SPILL_WAIT, written.wait_for(|done| *done)).await;
    let spill = spill.to_path_buf();
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(&spill))
        .await
        .context("reading the question failed")?
        .context("the question's input is gone (it was answered, or the session ended)")?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// The file as it is now, from a regular file only, read up to the limit
/// by reading (a `/proc` file or a device says its size is 0).
fn read_current(path: &Path) -> anyhow::Result<Option<String>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking: opening a FIFO must not wait for a writer.
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
    };
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!(
            "{} is not a regular file (a device, FIFO or socket): no review; answer it as it is",
            path.display()
        );
    }
    let mut bytes = Vec::new();
    file.take(MAX_REVIEWED + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_REVIEWED {
        bail!(
            "{} is over 16 MiB, too large to review; answer it as it is",
            path.display()
        );
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| anyhow!("{} is not text (UTF-8); answer it as it is", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_read_and_only_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("a.txt");
        std::fs::write(&text, "hello\n").unwrap();
        assert_eq!(read_current(&text).unwrap().as_deref(), Some("hello\n"));
        assert_eq!(read_current(&dir.path().join("none")).unwrap(), None);
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Neither blocks (no writer on the FIFO) nor reads forever (/dev/zero).
        for special in [fifo.as_path(), Path::new("/dev/zero"), Path::new("/dev/null")] {
            let err = read_current(special).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{}: {err}", special.display());
        }
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; MAX_REVIEWED as usize + 1]).unwrap();
        assert!(read_current(&big).unwrap_err().to_string().contains("too large"));
    }
}

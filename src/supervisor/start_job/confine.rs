//! The sandbox and the limits around a new session's argv: what the
//! sandbox lets through (and never lulu's own files), and the cgroups or
//! rlimits made before it runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use super::super::session_dir;
use super::StartJob;
use crate::adapter;
use crate::hook;
use crate::model::SessionId;
use crate::private::{self, Links};

impl StartJob {
    /// A configured sandbox can be made, and opens none of lulu's own files.
    pub(super) async fn check_sandbox(&self) -> anyhow::Result<()> {
        let Some(sandbox) = self.opts.sandbox.clone() else {
            return Ok(());
        };
        let private = self.private_dirs();
        tokio::task::spawn_blocking(move || sandbox.check(&private))
            .await
            .context("the sandbox task failed")?
            .map_err(anyhow::Error::from)
    }

    /// The agent's argv inside its sandbox (`context`: what it lets
    /// through), and that inside its limits (joining a cgroup needs the
    /// real /sys); the limits as applied.
    pub(super) async fn confine(
        &self,
        id: &SessionId,
        context: Option<crate::sandbox::Context>,
        mut argv: Vec<String>,
    ) -> anyhow::Result<(Vec<String>, Option<crate::limits::Applied>)> {
        if let (Some(sandbox), Some(context)) = (self.opts.sandbox.clone(), context) {
            argv = sandboxed(sandbox, context, argv).await?;
        }
        let Some(limits) = self.opts.limits.clone().filter(|l| !l.is_empty()) else {
            return Ok((argv, None));
        };
        let applied = limited(id.to_string(), limits).await?;
        let mut wrapped = vec![self.exe.to_string_lossy().into_owned()];
        wrapped.extend(applied.exec_args());
        wrapped.push("--".into());
        wrapped.append(&mut argv);
        Ok((wrapped, Some(applied)))
    }

    /// lulu's own places, which no sandbox sees: the store, every session's
    /// logs and files, the sockets.
    fn private_dirs(&self) -> Vec<PathBuf> {
        vec![self.data_dir.clone(), self.state_dir.clone(), hook::socket_dir()]
    }

    /// What the sandbox of session `id` lets through and keeps out.
    pub(super) fn sandbox_context(
        &self,
        id: &SessionId,
        run_dir: &Path,
        worktree: Option<&crate::worktree::Created>,
        env: &[(String, String)],
        adapter: &dyn adapter::Adapter,
    ) -> crate::sandbox::Context {
        let home = adapter::session_var(env, "HOME").map(PathBuf::from);
        let agent_state = home
            .as_deref()
            .map(|home| adapter.state_paths(home, env))
            .unwrap_or_default();
        let command = self.resolved.argv.first().map(PathBuf::from).and_then(|cmd| {
            if cmd.is_absolute() {
                Some(cmd)
            } else {
                crate::sandbox::find_on_path(&cmd.to_string_lossy())
            }
        });
        crate::sandbox::Context {
            home,
            run_dir: run_dir.to_path_buf(),
            writable: worktree.map_or_else(|| self.cwd.clone(), |w| w.path.clone()),
            repo: worktree.map(|w| w.repo.clone()),
            branch: worktree.map(|w| w.branch.clone()),
            agent_state,
            session_dir: Some(session_dir(&self.state_dir, id)),
            private: self.private_dirs(),
            hook_socket: self.hook_socket.clone(),
            programs: std::iter::once(self.exe.clone()).chain(command).collect(),
            runtime_dir: std::env::var_os("XDG_RUNTIME_DIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// `argv` as it runs in `sandbox`, with what the sandbox binds made first.
async fn sandboxed(
    sandbox: crate::sandbox::Sandbox,
    context: crate::sandbox::Context,
    argv: Vec<String>,
) -> anyhow::Result<Vec<String>> {
    tokio::task::spawn_blocking(move || {
        if let Some(dir) = &context.session_dir {
            private::dir(dir, Links::Follow).map_err(|err| anyhow!("cannot make {}: {err}", dir.display()))?;
        }
        // The agent would make its state directory itself, but cannot in
        // a read-only home.
        for dir in context.agent_state.iter().filter(|p| p.extension().is_none()) {
            let _ = std::fs::create_dir_all(dir);
        }
        sandbox.wrap(&context, argv).map_err(anyhow::Error::from)
    })
    .await
    .context("the sandbox task failed")?
}

/// The session's cgroups (or rlimits) made, for `lulu limits-exec`.
async fn limited(session: String, limits: crate::limits::Limits) -> anyhow::Result<crate::limits::Applied> {
    tokio::task::spawn_blocking(move || {
        static MECHANISM: std::sync::OnceLock<crate::limits::Mechanism> = std::sync::OnceLock::new();
        MECHANISM
            .get_or_init(crate::limits::Mechanism::detect)
            .prepare(&session, &limits)
    })
    .await
    .context("the limits task failed")?
    .map_err(anyhow::Error::from)
}

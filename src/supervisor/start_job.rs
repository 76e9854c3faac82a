//! Step 2 of a start, off the supervisor's loop: the worktree, the agent's
//! wiring, the store row, the sandbox and limits around its argv, and the
//! PTY (a warm shell's, or a new one). Everything it needs came in the
//! [`StartJob`]; what it made goes back in a [`Launched`].

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, anyhow};

use super::pool::{self, Claim};
use super::start::{Launched, StartFailure, StartJob};
use super::{LOG_CAP, log_path, names, session_dir};
use crate::adapter::{self, WireContext, Wiring};
use crate::hook;
use crate::launch::LaunchSpec;
use crate::model::{SessionId, SessionRecord, Status, now};
use crate::private::token as new_token;
use crate::private::{self, Links};
use crate::pty::{self, OutputLog, SpawnSpec, Spawned};
use crate::worktree::WorktreeError;

mod confine;

impl StartJob {
    /// Step 2, off the loop.
    pub(super) async fn run(mut self) -> Result<Launched, StartFailure> {
        let (worktree, setup, run_dir) = self.prepare().await.map_err(StartFailure::before_row)?;
        let id = SessionId::random();
        let token = new_token();
        let adapter = adapter::for_agent(&self.agent);
        let mut wiring = self.wire(&id, adapter).await.map_err(StartFailure::before_row)?;
        // Right after the command: codex's resume is a subcommand.
        if let Some(resume) = self.opts.resume.as_deref().and_then(|id| adapter.resume_args(id)) {
            let at = self.resolved.cmd_len;
            self.resolved.argv.splice(at..at, resume);
        }
        self.through_acp_client(worktree.as_ref(), &run_dir);
        let mut record = self.row(&id, &run_dir, worktree.as_ref());
        self.store_row(&record);

        let own_env = self.opts.env.is_empty();
        let env = self.environment(&id, &record.name, &token, std::mem::take(&mut wiring.env));
        let transcript_search = adapter
            .transcript_search(&run_dir, &env, self.opts.resume.as_deref())
            .map(|search| (search, SystemTime::now()));
        let failed = |error| StartFailure {
            record: Some(record.clone()),
            error,
        };
        let argv = self.argv(&id, setup.as_ref()).await;
        let context =
            (self.opts.sandbox.as_ref()).map(|_| self.sandbox_context(&id, &run_dir, worktree.as_ref(), &env, adapter));
        let (argv, limits) = self.confine(&id, context, argv).await.map_err(failed)?;
        let plain_shell = record.agent == "shell"
            && self.opts.args.is_empty()
            && own_env
            && setup.is_none()
            && limits.is_none()
            && argv == self.pool_argv;
        match self.spawn(&id, &record.name, run_dir, env, argv, plain_shell).await {
            Ok(spawned) => {
                record.pid = Some(i64::from(spawned.pid));
                record.pid_start = crate::proctree::start_time(spawned.pid).map(|t| t as i64);
                Ok(Launched {
                    record,
                    spawned,
                    token,
                    transcript_search,
                    asks_through: wiring.asks_through,
                    limits,
                    plain_shell,
                })
            }
            Err(reason) => Err(StartFailure {
                record: Some(record),
                error: anyhow!("{reason}"),
            }),
        }
    }

    /// The checks, then the worktree (the first change: after it, a
    /// failure leaves a failed row that still names the worktree, so
    /// `:LuluDelete` cleans it up), its setup command and where the agent
    /// runs. (A name lulu picked may have changed to dodge a leftover
    /// branch.)
    async fn prepare(&mut self) -> anyhow::Result<(Option<crate::worktree::Created>, Option<Vec<String>>, PathBuf)> {
        self.check_sandbox().await?;
        let (worktree, setup) = match self.worktree().await? {
            Some((created, setup)) => (Some(created), setup),
            None => (None, None),
        };
        let run_dir = self.run_dir(worktree.as_ref());
        Ok((worktree, setup, run_dir))
    }

    /// The new session's row, written by the store's thread.
    fn store_row(&self, record: &SessionRecord) {
        let row = record.clone();
        self.worktrees
            .store
            .write(format!("the new session '{}'", record.name), move |s| {
                s.insert_session(&row)
            });
    }

    /// Where the agent starts: where the user was, inside the new worktree.
    fn run_dir(&self, worktree: Option<&crate::worktree::Created>) -> PathBuf {
        match worktree {
            Some(created) => {
                let here = self.cwd.canonicalize().unwrap_or(self.cwd.clone());
                here.strip_prefix(&created.repo)
                    .ok()
                    .filter(|rel| !rel.as_os_str().is_empty())
                    .map(|rel| created.path.join(rel))
                    .filter(|dir| dir.is_dir())
                    .unwrap_or_else(|| created.path.clone())
            }
            None => self.cwd.clone(),
        }
    }

    /// The agent's adapter wires it to lulu (hooks need the bridge): its
    /// flags go right after the command.
    async fn wire(&mut self, id: &SessionId, adapter: &'static dyn adapter::Adapter) -> anyhow::Result<Wiring> {
        if self.hook_socket.is_none() {
            return Ok(Wiring::default());
        }
        let dir = session_dir(&self.state_dir, id);
        let (exe, timeout) = (self.exe.clone(), self.approval_timeout.as_secs());
        let session_env: Vec<(String, String)> = self
            .resolved
            .env
            .iter()
            .cloned()
            .chain(self.opts.env.iter().map(|(k, v)| (k.clone(), v.clone())))
            .collect();
        let user_args = self.opts.args.clone();
        let mut wiring = tokio::task::spawn_blocking(move || {
            adapter.wire(&WireContext {
                session_dir: &dir,
                exe: &exe,
                approval_timeout_secs: timeout,
                env: &session_env,
                user_args: &user_args,
            })
        })
        .await
        .context("wiring task failed")
        .and_then(|wired| wired.with_context(|| format!("cannot wire {} to lulu", self.agent)))?;
        let at = self.resolved.cmd_len;
        self.resolved.argv.splice(at..at, std::mem::take(&mut wiring.args));
        Ok(wiring)
    }

    /// An ACP agent runs as the child of `lulu acp`, the session's client:
    /// `lulu acp --root ROOT [--load ID] -- AGENT...`.
    fn through_acp_client(&mut self, worktree: Option<&crate::worktree::Created>, run_dir: &Path) {
        if self.resolved.kind != crate::model::SessionKind::Acp {
            return;
        }
        let root = worktree.map_or_else(|| run_dir.to_path_buf(), |w| w.path.clone());
        let mut client = vec![
            self.exe.to_string_lossy().into_owned(),
            "acp".to_string(),
            "--root".to_string(),
            root.to_string_lossy().into_owned(),
        ];
        if let Some(id) = &self.opts.resume {
            client.extend(["--load".to_string(), id.clone()]);
        }
        if adapter::acp_title_is_command(self.resolved.argv.first().map_or("", String::as_str)) {
            client.push("--vouch-title".to_string());
        }
        client.push("--".to_string());
        self.resolved.cmd_len += client.len();
        self.resolved.argv.splice(0..0, client);
    }

    /// The new session's record, as it is stored before its process runs.
    fn row(&mut self, id: &SessionId, run_dir: &Path, worktree: Option<&crate::worktree::Created>) -> SessionRecord {
        let at = now();
        SessionRecord {
            id: id.clone(),
            name: self.name.clone(),
            agent: self.agent.clone(),
            kind: self.resolved.kind,
            status: Status::Starting,
            failure_reason: None,
            exit_code: None,
            pid: None,
            pid_start: None,
            cwd: run_dir.to_string_lossy().into_owned(),
            argv: self.resolved.argv.clone(),
            args: self.opts.args.clone(),
            worktree: worktree.map(|w| w.path.to_string_lossy().into_owned()),
            branch: worktree.map(|w| w.branch.clone()),
            base: worktree.map(|w| w.base.clone()),
            repo: worktree.map(|w| w.repo.to_string_lossy().into_owned()),
            ahead: worktree.map(|_| 0),
            merged: false,
            dirty: false,
            created_at: self.asked_at.clone(),
            updated_at: at.clone(),
            last_activity_at: at,
            cost_usd: None,
            pending_approvals: 0,
            waiting: false,
            waiting_source: None,
            tokens: None,
            usage: std::mem::take(&mut self.carried),
            conversation: self.opts.resume.clone(),
            pr_url: None,
            restarting: None,
            limits: self.opts.limits.clone().filter(|l| !l.is_empty()),
            memory: None,
            sandbox: self.opts.sandbox.clone(),
        }
    }

    /// The session's environment: its agent's, the start's, then what
    /// lulu's wiring needs (which wins), then the terminal's and lulu's own.
    fn environment(
        &mut self,
        id: &SessionId,
        name: &str,
        token: &str,
        wired: Vec<(String, String)>,
    ) -> Vec<(String, String)> {
        let mut env = std::mem::take(&mut self.resolved.env);
        env.extend(std::mem::take(&mut self.opts.env));
        env.extend(wired);
        env.push(("TERM".into(), "xterm-256color".into()));
        env.push(("COLORTERM".into(), "truecolor".into()));
        env.push((hook::ENV_SESSION.into(), id.to_string()));
        env.extend(git_guard());
        env.push(("LULU_SESSION_NAME".into(), name.to_string()));
        if let Some(socket) = &self.hook_socket {
            env.push((hook::ENV_SOCKET.into(), socket.to_string_lossy().into_owned()));
            env.push((hook::ENV_TOKEN.into(), token.to_string()));
            let wait = self.approval_timeout.as_secs() + 10;
            env.push((hook::ENV_TIMEOUT.into(), wait.to_string()));
        }
        env
    }

    async fn worktree(&mut self) -> anyhow::Result<Option<(crate::worktree::Created, Option<Vec<String>>)>> {
        if !self.use_worktree {
            return Ok(None);
        }
        let explicit = self.opts.worktree == Some(true) || self.opts.base.is_some();
        let mut tried = vec![self.name.clone()];
        loop {
            match self
                .worktrees
                .make(&self.cwd, &self.name, self.opts.base.clone(), explicit, self.opts.reuse)
                .await
            {
                // A name we picked ourselves may clash with a branch or
                // directory left from earlier; pick another.
                Err(err)
                    if self.opts.name.is_none()
                        && tried.len() < 5
                        && matches!(
                            err.downcast_ref::<WorktreeError>(),
                            Some(WorktreeError::BranchExists(_) | WorktreeError::PathExists(_))
                        ) =>
                {
                    self.name = names::pick(|c| tried.iter().any(|t| t == c) || self.taken.iter().any(|t| t == c));
                    tried.push(self.name.clone());
                }
                other => return other,
            }
        }
    }

    /// The argv to run: a new worktree's setup runs first, in the same PTY
    /// (`lulu exec`).
    async fn argv(&self, id: &SessionId, setup: Option<&Vec<String>>) -> Vec<String> {
        let Some(setup) = setup else {
            return self.resolved.argv.clone();
        };
        let report = session_dir(&self.state_dir, id).join("setup-failed.json");
        if let Some(dir) = report.parent().map(Path::to_path_buf) {
            let _ = tokio::task::spawn_blocking(move || private::dir(&dir, Links::Follow)).await;
        }
        let mut wrapped = vec![
            self.exe.to_string_lossy().into_owned(),
            "exec".into(),
            "--setup".into(),
            serde_json::to_string(setup).unwrap_or_default(),
            "--report".into(),
            report.to_string_lossy().into_owned(),
            "--".into(),
        ];
        wrapped.extend(self.resolved.argv.iter().cloned());
        wrapped
    }

    /// A plain shell session takes a warm shell as it is; anything else has
    /// the warm shell exec it (see pool.rs). No idle shell: spawn.
    async fn spawn(
        &mut self,
        id: &SessionId,
        name: &str,
        run_dir: PathBuf,
        env: Vec<(String, String)>,
        argv: Vec<String>,
        plain_shell: bool,
    ) -> Result<Spawned, String> {
        let (cols, rows) = (self.opts.cols.unwrap_or(80), self.opts.rows.unwrap_or(24));
        if let Some(idle) = self.idle.take() {
            let launch = (!plain_shell).then(|| LaunchSpec {
                cwd: run_dir.clone(),
                env: env.clone(),
                argv: argv.clone(),
            });
            let claim = Claim {
                id,
                name,
                cwd: &run_dir,
                cols,
                rows,
                launch,
            };
            return pool::claim(&self.state_dir, &self.exe, idle, claim)
                .await
                .map_err(|err| format!("{err:#}"));
        }
        let spec = SpawnSpec {
            argv,
            cwd: run_dir,
            env,
            cols,
            rows,
            log: OutputLog::open(log_path(&self.state_dir, id), LOG_CAP),
        };
        match tokio::task::spawn_blocking(move || pty::spawn(spec)).await {
            Ok(result) => result.map_err(|err| err.to_string()),
            Err(err) => Err(format!("spawn task failed: {err}")),
        }
    }
}

/// git settings every session's processes run with (added after any the
/// user's environment gives, as `GIT_CONFIG_COUNT` entries): no implicit
/// bare repository (a directory the agent wrote as `HEAD`, `objects/`,
/// `refs/` and a `config` would otherwise be one, its config obeyed by a
/// `git log` a rule allows), and no `ext::` transport.
fn git_guard() -> Vec<(String, String)> {
    let start: usize = std::env::var("GIT_CONFIG_COUNT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let settings = [("safe.bareRepository", "explicit"), ("protocol.ext.allow", "never")];
    let mut env = Vec::new();
    for (i, (key, value)) in settings.iter().enumerate() {
        env.push((format!("GIT_CONFIG_KEY_{}", start + i), key.to_string()));
        env.push((format!("GIT_CONFIG_VALUE_{}", start + i), value.to_string()));
    }
    env.push(("GIT_CONFIG_COUNT".into(), (start + settings.len()).to_string()));
    env
}

//! Starting a session, in three steps so that the supervisor's loop never
//! waits on git, the file system or a fork:
//! 1. on the loop: the checks (limit, name, cwd, agent on PATH); the name
//!    and a slot under `max_sessions` are reserved, a warm shell taken;
//! 2. a job ([`StartJob::run`]): the worktree, the agent's wiring, the
//!    store row, the PTY;
//! 3. on the loop again ([`Supervisor::on_started`]): the session task,
//!    its record and events, the reply.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::{Context, anyhow, bail};
use tokio::sync::mpsc;

use super::pool::{self, Claim, Idle};
use super::session::{SessionEvent, SessionTask};
use super::worktrees::WorktreeJob;
use super::{Command, Entry, LOG_CAP, Live, Reply, SessionOptions, Supervisor, log_path, names, respond, session_dir};
use crate::adapter::{self, TranscriptSearch, WireContext, Wiring};
use crate::agent::Resolved;
use crate::hook::{self, new_token};
use crate::launch::LaunchSpec;
use crate::model::{SessionId, SessionRecord, Status, now};
use crate::private::{self, Links};
use crate::pty::{self, OutputLog, SpawnSpec, Spawned};
use crate::rpc::protocol::{self, StartOpts};
use crate::screen::Screen;
use crate::worktree::WorktreeError;

/// Everything the slow part of a start needs, taken off the supervisor.
struct StartJob {
    opts: StartOpts,
    agent: String,
    name: String,
    cwd: PathBuf,
    resolved: Resolved,
    use_worktree: bool,
    /// Names taken when the start began, for a picked name that clashes.
    taken: Vec<String>,
    worktrees: WorktreeJob,
    state_dir: PathBuf,
    data_dir: PathBuf,
    exe: PathBuf,
    hook_socket: Option<PathBuf>,
    approval_timeout: Duration,
    /// A warm shell to become the session, if one was ready.
    idle: Option<Idle>,
    pool_argv: Vec<String>,
    /// Resuming: what the replaced session's agent had used, shown until
    /// the agent's transcript (which holds the earlier turns) is read.
    carried: crate::cost::Usage,
}

/// What a finished job hands back to the loop.
pub(super) struct StartDone {
    /// The name reserved in step 1.
    reserved: String,
    launch: LaunchOptions,
    result: Result<Launched, StartFailure>,
    reply: Option<Reply>,
}

/// Longest first prompt a start takes.
const MAX_PROMPT: usize = 64 * 1024;

/// What the live session keeps of the options it was started with.
struct LaunchOptions {
    submit_delay: Duration,
    cleanup_merged: bool,
    scrollback: usize,
    prompt: Option<String>,
}

struct Launched {
    record: SessionRecord,
    spawned: Spawned,
    token: String,
    transcript_search: Option<(TranscriptSearch, SystemTime)>,
    asks_through: Option<&'static str>,
    limits: Option<crate::limits::Applied>,
    plain_shell: bool,
}

struct StartFailure {
    /// The row, when it was written before the failure (it is then kept as
    /// failed, naming its worktree, so `:LuluDelete` cleans up).
    record: Option<SessionRecord>,
    error: anyhow::Error,
}

impl StartFailure {
    fn before_row(error: anyhow::Error) -> StartFailure {
        StartFailure { record: None, error }
    }
}

/// Who asked for a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// An editor (or `lulu start`): its restart plan replaces any other.
    User,
    /// The restart of a failed session: its plan goes on.
    Restart,
}

impl Supervisor {
    /// Step 1: check, reserve, and hand the rest to a job. Answers `reply`
    /// when the session runs (or could not start).
    pub(super) fn start(&mut self, opts: StartOpts, options: SessionOptions, reply: Option<Reply>) {
        self.start_as(opts, options, reply, Origin::User);
    }

    pub(super) fn start_as(&mut self, opts: StartOpts, options: SessionOptions, reply: Option<Reply>, origin: Origin) {
        let plan = (origin == Origin::User).then(|| (opts.clone(), options.clone()));
        match self.begin_start(opts, &options) {
            Ok(job) => {
                if let Some((opts, options)) = plan {
                    self.plan_restarts(&opts, &options, &job.name);
                }
                let tx = self.tx.clone();
                let reserved = job.name.clone();
                let launch = LaunchOptions {
                    submit_delay: options.agents.submit_delay(&job.agent),
                    cleanup_merged: options.cleanup_merged,
                    scrollback: options.scrollback,
                    prompt: job.opts.prompt.clone(),
                };
                tokio::spawn(async move {
                    let result = job.run().await;
                    let done = StartDone {
                        reserved,
                        launch,
                        result,
                        reply,
                    };
                    let _ = tx.send(Command::Started(Box::new(done)));
                });
            }
            Err(err) => respond(reply, Err(err)),
        }
    }

    fn begin_start(&mut self, mut opts: StartOpts, options: &SessionOptions) -> anyhow::Result<StartJob> {
        if self.live_count() + self.starting.len() >= self.max_sessions {
            return Err(crate::errors::HostError::MaxSessions(self.max_sessions).into());
        }
        let agent = opts.agent.clone().unwrap_or_else(|| "shell".to_string());
        if let Some(id) = &opts.resume {
            if adapter::for_agent(&agent).resume_args(id).is_none() {
                bail!("{agent} cannot resume a conversation; start it afresh (drop resume=)");
            }
            if !crate::cost::is_conversation_id(id) {
                bail!("resume={id:?} is not a conversation id (letters, digits, '-', '_', '.')");
            }
        }
        if opts.prompt.as_ref().is_some_and(|p| p.len() > MAX_PROMPT) {
            bail!("prompt= is longer than {MAX_PROMPT} bytes; send it in parts");
        }
        if let Some(limits) = &opts.limits {
            limits.check()?;
        }
        if let Some(restart) = opts.restart.as_deref()
            && !matches!(restart, "on-failure" | "never")
        {
            bail!("restart={restart:?}: use 'on-failure' or 'never'");
        }
        if opts.worktree_setup.as_ref().is_some_and(|argv| argv.is_empty()) {
            bail!("worktree setup must be an argv list like {{ 'npm', 'ci' }}");
        }
        let mut carried = crate::cost::Usage::default();
        let name = match &opts.name {
            Some(name) => {
                names::validate(name)?;
                if opts.reuse
                    && let Some(usage) = self.replace_ended(name)?
                    && opts.resume.is_some()
                {
                    carried = usage;
                }
                if self.name_taken(name) {
                    return Err(crate::errors::HostError::NameTaken(name.clone()).into());
                }
                name.clone()
            }
            None => names::pick(|candidate| self.name_taken(candidate)),
        };
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
        if let Some(sandbox) = opts.sandbox.as_mut() {
            sandbox.expand_home(&home);
        }
        let cwd = match &opts.cwd {
            // From an editor on another machine: this machine's home.
            Some(cwd) => crate::sandbox::expand_home(cwd, &home).map_or_else(|| PathBuf::from(cwd), PathBuf::from),
            None => std::env::current_dir().context("cannot read the host's working directory")?,
        };
        if !cwd.is_dir() {
            bail!("cwd {} is not a directory", cwd.display());
        }
        let resolved = options.agents.resolve(
            &agent,
            &opts.args,
            self.settings.path_var.as_deref(),
            self.settings.shell_var.as_deref(),
        )?;
        let use_worktree = opts.worktree.unwrap_or(options.worktree_enabled);
        if !use_worktree && opts.base.is_some() {
            bail!("base= needs a worktree; drop worktree=off or base=");
        }
        self.starting.insert(name.clone());
        Ok(StartJob {
            agent,
            name,
            cwd,
            resolved,
            use_worktree,
            taken: self.entries.iter().map(|e| e.record.name.clone()).collect(),
            worktrees: WorktreeJob {
                root: options.worktree_root.clone(),
                copy: opts
                    .worktree_copy
                    .clone()
                    .unwrap_or_else(|| options.worktree_copy.clone()),
                setup: opts.worktree_setup.clone().or_else(|| options.worktree_setup.clone()),
                store: self.store.clone(),
                notices: self.tx.clone(),
            },
            state_dir: self.settings.state_dir.clone(),
            data_dir: self.settings.data_dir.clone(),
            exe: self.settings.exe.clone(),
            hook_socket: self.settings.hook_socket.clone(),
            approval_timeout: self.approval_timeout,
            idle: self.pool_take(),
            pool_argv: self.pool.argv.clone(),
            carried,
            opts,
        })
    }

    fn name_taken(&self, name: &str) -> bool {
        self.starting.contains(name) || self.entries.name_taken(name)
    }

    /// Step 3: the job is done; the session runs (or is recorded failed).
    pub(super) fn on_started(&mut self, done: Box<StartDone>) {
        let StartDone {
            reserved,
            launch,
            result,
            reply,
        } = *done;
        self.starting.remove(&reserved);
        let launched = match result {
            Ok(launched) if self.shutdown.is_none() => launched,
            Ok(launched) => {
                launched.spawned.control.signal(libc::SIGKILL);
                return respond(reply, Err(anyhow!("lulu host is shutting down")));
            }
            Err(StartFailure { record, error }) => {
                if let Some(record) = record {
                    self.entries.push(Entry {
                        record: record.clone(),
                        live: None,
                    });
                    self.finish(record, Status::Failed, Some(format!("{error:#}")), None);
                }
                return respond(reply, Err(error));
            }
        };
        let record = self.go_live(launched, launch);
        respond(reply, Ok(protocol::to_value(&record)));
    }

    fn go_live(&mut self, launched: Launched, options: LaunchOptions) -> SessionRecord {
        let LaunchOptions {
            submit_delay,
            cleanup_merged,
            scrollback,
            prompt,
        } = options;
        let Launched {
            mut record,
            spawned,
            token,
            transcript_search,
            asks_through,
            limits,
            plain_shell,
        } = launched;
        record.price(&self.prices);
        let id = record.id.clone();
        let control = spawned.control.clone();
        let (cols, rows) = control.size();
        let screen = Arc::new(Mutex::new(Screen::new(cols, rows, scrollback)));
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events_tx, mut events_rx) = mpsc::unbounded_channel();
        let task = SessionTask {
            id: id.clone(),
            spawned,
            commands: commands_rx,
            events: events_tx,
            screen: screen.clone(),
            signs: adapter::for_agent(&record.agent).screen_signs(),
        };
        let supervisor = self.tx.clone();
        let crashed_id = id.clone();
        let task = tokio::spawn(async move {
            // The session runs in its own task so that a panic in it ends
            // this session only, and is reported as its failure.
            let run = tokio::spawn(task.run());
            let forward = async {
                while let Some(event) = events_rx.recv().await {
                    let _ = supervisor.send(Command::Session(event));
                }
            };
            let (result, ()) = tokio::join!(run, forward);
            if let Err(err) = result
                && err.is_panic()
            {
                let panic = err.into_panic();
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                let _ = supervisor.send(Command::Session(SessionEvent::Crashed(crashed_id, message)));
            }
        });
        tracing::info!(session = %id, name = %record.name, argv = ?record.argv, "session started");
        self.persist(&record);
        self.carry_restart_log(&id, &record.name);
        self.event(&id, "started", &record.argv.join(" "));
        self.controls.insert(
            &record.name,
            super::controls::Handle {
                id: id.clone(),
                control: control.clone(),
                submit_delay,
                screen: screen.clone(),
            },
        );
        self.entries.push(Entry {
            record: record.clone(),
            live: Some(Live {
                control,
                screen,
                commands,
                task,
                stop_requested: false,
                delete_requested: None,
                delete_waiters: Vec::new(),
                submit_delay,
                cleanup_merged,
                token,
                asks_through,
                prompt,
                limits,
                plain_shell,
                born: std::time::Instant::now(),
                ahead_checked: None,
                transcript: None,
                transcript_search,
                tally: None,
                reading_transcript: false,
                last_activity_write: std::time::Instant::now(),
            }),
        });
        self.broadcast_record(&record);
        // A reused worktree may be ahead already: count it now.
        if record.worktree.is_some() {
            self.refresh_ahead(&record.id);
        }
        record
    }
}

impl StartJob {
    /// Step 2, off the loop.
    async fn run(mut self) -> Result<Launched, StartFailure> {
        if let Some(sandbox) = self.opts.sandbox.clone() {
            let private = self.private_dirs();
            tokio::task::spawn_blocking(move || sandbox.check(&private))
                .await
                .context("the sandbox task failed")
                .and_then(|r| r.map_err(anyhow::Error::from))
                .map_err(StartFailure::before_row)?;
        }
        // Last of the checks, first of the changes: after this, a failure
        // leaves a failed row that still names the worktree (`:LuluDelete`
        // cleans it up).
        let made = self.worktree().await.map_err(StartFailure::before_row)?;
        // (A name lulu picked may have changed to dodge a leftover branch.)
        let (worktree, setup) = match made {
            Some((created, setup)) => (Some(created), setup),
            None => (None, None),
        };
        // The agent starts where the user was, inside the new worktree.
        let run_dir = match &worktree {
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
        };

        let id = SessionId::random();
        let token = new_token();
        // The agent's adapter wires it to lulu (hooks need the bridge).
        let adapter = adapter::for_agent(&self.agent);
        let mut wiring = Wiring::default();
        if self.hook_socket.is_some() {
            let dir = session_dir(&self.state_dir, &id);
            let (exe, timeout) = (self.exe.clone(), self.approval_timeout.as_secs());
            let session_env: Vec<(String, String)> = self
                .resolved
                .env
                .iter()
                .cloned()
                .chain(self.opts.env.iter().map(|(k, v)| (k.clone(), v.clone())))
                .collect();
            let user_args = self.opts.args.clone();
            wiring = tokio::task::spawn_blocking(move || {
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
            .and_then(|wired| wired.with_context(|| format!("cannot wire {} to lulu", self.agent)))
            .map_err(StartFailure::before_row)?;
            let at = self.resolved.cmd_len;
            self.resolved.argv.splice(at..at, std::mem::take(&mut wiring.args));
        }
        // Right after the command: codex's resume is a subcommand.
        if let Some(resume) = self.opts.resume.as_deref().and_then(|id| adapter.resume_args(id)) {
            let at = self.resolved.cmd_len;
            self.resolved.argv.splice(at..at, resume);
        }

        let at = now();
        let mut record = SessionRecord {
            id: id.clone(),
            name: self.name.clone(),
            agent: self.agent.clone(),
            status: Status::Starting,
            failure_reason: None,
            exit_code: None,
            pid: None,
            pid_start: None,
            cwd: run_dir.to_string_lossy().into_owned(),
            argv: self.resolved.argv.clone(),
            args: self.opts.args.clone(),
            worktree: worktree.as_ref().map(|w| w.path.to_string_lossy().into_owned()),
            branch: worktree.as_ref().map(|w| w.branch.clone()),
            base: worktree.as_ref().map(|w| w.base.clone()),
            repo: worktree.as_ref().map(|w| w.repo.to_string_lossy().into_owned()),
            ahead: worktree.as_ref().map(|_| 0),
            merged: false,
            dirty: false,
            created_at: at.clone(),
            updated_at: at.clone(),
            last_activity_at: at,
            cost_usd: None,
            pending_approvals: 0,
            waiting: false,
            waiting_source: None,
            tokens: None,
            usage: std::mem::take(&mut self.carried),
            conversation: self.opts.resume.clone(),
            restarting: None,
            limits: self.opts.limits.clone().filter(|l| !l.is_empty()),
            memory: None,
            sandbox: self.opts.sandbox.clone(),
        };
        let row = record.clone();
        self.worktrees
            .store
            .write(format!("the new session '{}'", record.name), move |s| {
                s.insert_session(&row)
            });

        let mut env = std::mem::take(&mut self.resolved.env);
        let own_env = self.opts.env.is_empty();
        env.extend(std::mem::take(&mut self.opts.env));
        // Last: what lulu's wiring needs wins over the session's own.
        env.extend(std::mem::take(&mut wiring.env));
        let transcript_search = adapter
            .transcript_search(&run_dir, &env, self.opts.resume.as_deref())
            .map(|search| (search, SystemTime::now()));
        env.push(("TERM".into(), "xterm-256color".into()));
        env.push(("COLORTERM".into(), "truecolor".into()));
        env.push((hook::ENV_SESSION.into(), id.to_string()));
        env.push(("LULU_SESSION_NAME".into(), record.name.clone()));
        if let Some(socket) = &self.hook_socket {
            env.push((hook::ENV_SOCKET.into(), socket.to_string_lossy().into_owned()));
            env.push((hook::ENV_TOKEN.into(), token.clone()));
            let wait = self.approval_timeout.as_secs() + 10;
            env.push((hook::ENV_TIMEOUT.into(), wait.to_string()));
        }
        let mut argv = self.argv(&id, setup.as_ref()).await;
        if let Some(sandbox) = self.opts.sandbox.clone() {
            let context = self.sandbox_context(&id, &run_dir, worktree.as_ref().map(|w| w.path.clone()), &env, adapter);
            argv = tokio::task::spawn_blocking(move || {
                if let Some(dir) = &context.session_dir {
                    private::dir(dir, Links::Follow).map_err(|err| anyhow!("cannot make {}: {err}", dir.display()))?;
                }
                // The agent would make its state directory itself, but
                // cannot in a read-only home.
                for dir in context.agent_state.iter().filter(|p| p.extension().is_none()) {
                    let _ = std::fs::create_dir_all(dir);
                }
                sandbox.wrap(&context, argv).map_err(anyhow::Error::from)
            })
            .await
            .context("the sandbox task failed")
            .and_then(|r| r)
            .map_err(|error| StartFailure {
                record: Some(record.clone()),
                error,
            })?;
        }
        let limits = match self.opts.limits.clone().filter(|l| !l.is_empty()) {
            Some(limits) => {
                let session = id.to_string();
                let applied = tokio::task::spawn_blocking(move || {
                    static MECHANISM: std::sync::OnceLock<crate::limits::Mechanism> = std::sync::OnceLock::new();
                    MECHANISM
                        .get_or_init(crate::limits::Mechanism::detect)
                        .prepare(&session, &limits)
                })
                .await
                .context("the limits task failed")
                .and_then(|r| r.map_err(anyhow::Error::from))
                .map_err(|error| StartFailure {
                    record: Some(record.clone()),
                    error,
                })?;
                let mut wrapped = vec![self.exe.to_string_lossy().into_owned()];
                wrapped.extend(applied.exec_args());
                wrapped.push("--".into());
                wrapped.append(&mut argv);
                argv = wrapped;
                Some(applied)
            }
            None => None,
        };
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
    /// lulu's own places, which no sandbox sees: the store, every session's
    /// logs and files, the sockets.
    fn private_dirs(&self) -> Vec<PathBuf> {
        vec![self.data_dir.clone(), self.state_dir.clone(), hook::socket_dir()]
    }

    /// What the sandbox of session `id` lets through and keeps out.
    fn sandbox_context(
        &self,
        id: &SessionId,
        run_dir: &Path,
        worktree: Option<PathBuf>,
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
            writable: worktree.unwrap_or_else(|| self.cwd.clone()),
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

//! Starting a session, in three steps so that the supervisor's loop never
//! waits on git, the file system or a fork:
//! 1. on the loop: the checks (limit, name, cwd, agent on PATH); the name
//!    and a slot under `max_sessions` are reserved, a warm shell taken;
//! 2. a job ([`StartJob::run`]): the worktree, the agent's wiring, the
//!    store row, the PTY;
//! 3. on the loop again ([`Supervisor::on_started`]): the session task,
//!    its record and events, the reply.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::{Context, anyhow, bail};
use tokio::sync::mpsc;

use super::pool::Idle;
use super::session_task::{SessionEvent, SessionTask};
use super::worktrees::WorktreeJob;
use super::{Command, Entry, Live, Reply, SessionOptions, Supervisor, names, respond};
use crate::adapter::{self, TranscriptSearch};
use crate::agent::Resolved;
use crate::api::Payload;
use crate::api::StartOpts;
use crate::model::{SessionRecord, Status};
use crate::pty::Spawned;
use crate::screen::Screen;

/// Everything the slow part of a start needs, taken off the supervisor.
pub(super) struct StartJob {
    pub(super) opts: StartOpts,
    pub(super) agent: String,
    pub(super) name: String,
    pub(super) cwd: PathBuf,
    pub(super) resolved: Resolved,
    pub(super) use_worktree: bool,
    /// Names taken when the start began, for a picked name that clashes.
    pub(super) taken: Vec<String>,
    pub(super) worktrees: WorktreeJob,
    pub(super) state_dir: PathBuf,
    pub(super) data_dir: PathBuf,
    pub(super) exe: PathBuf,
    pub(super) hook_socket: Option<PathBuf>,
    pub(super) approval_timeout: Duration,
    /// A warm shell to become the session, if one was ready.
    pub(super) idle: Option<Idle>,
    pub(super) pool_argv: Vec<String>,
    /// Resuming: what the replaced session's agent had used, shown until
    /// the agent's transcript (which holds the earlier turns) is read.
    pub(super) carried: crate::cost::Usage,
    /// When the start was asked: its `created_at`, so that starts asked
    /// one after another are ordered so, whichever job is done first.
    pub(super) asked_at: String,
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

pub(super) struct Launched {
    pub(super) record: SessionRecord,
    pub(super) spawned: Spawned,
    pub(super) token: String,
    pub(super) transcript_search: Option<(TranscriptSearch, SystemTime)>,
    pub(super) asks_through: Option<&'static str>,
    pub(super) limits: Option<crate::limits::Applied>,
    pub(super) plain_shell: bool,
}

pub(super) struct StartFailure {
    /// The row, when it was written before the failure (it is then kept as
    /// failed, naming its worktree, so `:LuluDelete` cleans up).
    pub(super) record: Option<SessionRecord>,
    pub(super) error: anyhow::Error,
}

impl StartFailure {
    pub(super) fn before_row(error: anyhow::Error) -> StartFailure {
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

    /// The new session's name (the one asked for, checked, or one picked),
    /// and the usage a reused name's ended session carries on (resumed).
    fn start_name(&mut self, opts: &StartOpts) -> anyhow::Result<(String, crate::cost::Usage)> {
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
        Ok((name, carried))
    }

    fn begin_start(&mut self, mut opts: StartOpts, options: &SessionOptions) -> anyhow::Result<StartJob> {
        if let Some(full) = self.entries.full() {
            return Err(full.into());
        }
        let agent = opts.agent.clone().unwrap_or_else(|| "shell".to_string());
        check_start(&agent, options.agents.kind(&agent), &opts)?;
        let (name, carried) = self.start_name(&opts)?;
        let cwd = start_cwd(&mut opts)?;
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
        self.entries.reserve(&name)?;
        Ok(StartJob {
            agent: agent.clone(),
            name,
            cwd,
            resolved,
            use_worktree,
            taken: self.entries.iter().map(|e| e.record.name.clone()).collect(),
            worktrees: WorktreeJob {
                root: options.worktree_root.clone(),
                branch: options.worktree_branch.clone(),
                agent: agent.clone(),
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
            approval_timeout: self.asks.timeout(),
            idle: self.pool_take(),
            pool_argv: self.pool.argv().to_vec(),
            carried,
            asked_at: crate::model::now(),
            opts,
        })
    }

    fn name_taken(&self, name: &str) -> bool {
        self.entries.name_taken(name)
    }

    /// Step 3: the job is done; the session runs (or is recorded failed).
    pub(super) fn on_started(&mut self, done: Box<StartDone>) {
        let StartDone {
            reserved,
            launch,
            result,
            reply,
        } = *done;
        self.entries.release(&reserved);
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
        respond(reply, Ok(Payload::of(&record)));
    }

    fn go_live(&mut self, launched: Launched, options: LaunchOptions) -> SessionRecord {
        let Launched {
            mut record,
            spawned,
            token,
            transcript_search,
            asks_through,
            limits,
            plain_shell,
        } = launched;
        record.price(self.entries.prices());
        let control = spawned.control.clone();
        let (screen, commands, task) = self.spawn_task(&record, spawned, options.scrollback);
        let live = Live {
            control,
            screen,
            commands,
            task,
            stop_requested: false,
            delete_requested: None,
            delete_waiters: Vec::new(),
            submit_delay: options.submit_delay,
            cleanup_merged: options.cleanup_merged,
            token,
            asks_through,
            prompt: options.prompt,
            limits,
            plain_shell,
            born: std::time::Instant::now(),
            ahead_checked: None,
            transcript: None,
            transcript_search,
            tally: None,
            reading_transcript: false,
            last_activity_write: std::time::Instant::now(),
        };
        self.keep_live(&record, live);
        record
    }

    /// The session's screen model and its task, reading the PTY.
    fn spawn_task(
        &mut self,
        record: &SessionRecord,
        spawned: Spawned,
        scrollback: usize,
    ) -> (
        super::fanout::SharedScreen,
        mpsc::UnboundedSender<super::session_task::SessionCmd>,
        tokio::task::JoinHandle<()>,
    ) {
        let (cols, rows) = spawned.control.size();
        let screen = Arc::new(Mutex::new(Screen::new(cols, rows, scrollback)));
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let task = self.run_session(
            SessionTask {
                id: record.id.clone(),
                spawned,
                commands: commands_rx,
                events,
                screen: screen.clone(),
                signs: adapter::for_agent(&record.agent).screen_signs(),
            },
            events_rx,
        );
        (screen, commands, task)
    }

    /// A session gone live: stored, announced, reachable by name.
    fn keep_live(&mut self, record: &SessionRecord, live: Live) {
        let id = record.id.clone();
        tracing::info!(session = %id, name = %record.name, argv = ?record.argv, "session started");
        self.persist(record);
        self.carry_restart_log(&id, &record.name);
        self.event(&id, "started", &record.argv.join(" "));
        self.controls.insert(
            &record.name,
            super::controls::Handle {
                id: id.clone(),
                control: live.control.clone(),
                submit_delay: live.submit_delay,
                screen: live.screen.clone(),
            },
        );
        self.entries.push(Entry {
            record: record.clone(),
            live: Some(live),
        });
        self.broadcast_record(record);
        // A reused worktree may be ahead already: count it now.
        if record.worktree.is_some() {
            self.refresh_ahead(&id);
        }
    }

    /// Run a session's task in a task of its own, its events forwarded to
    /// the loop, so that a panic in it ends this session only and is
    /// reported as its failure.
    fn run_session(
        &self,
        task: SessionTask,
        mut events_rx: mpsc::UnboundedReceiver<SessionEvent>,
    ) -> tokio::task::JoinHandle<()> {
        let supervisor = self.tx.clone();
        let crashed_id = task.id.clone();
        tokio::spawn(async move {
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
        })
    }
}

/// The sandbox's and the directory's `~` made this machine's home; the
/// directory the session starts in, which must be one.
fn start_cwd(opts: &mut StartOpts) -> anyhow::Result<PathBuf> {
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
    Ok(cwd)
}

/// What a start asks for that can be told wrong before anything is
/// reserved: resume, prompt, limits, restart, setup.
fn check_start(agent: &str, kind: crate::model::SessionKind, opts: &StartOpts) -> anyhow::Result<()> {
    if let Some(id) = &opts.resume {
        if adapter::for_session(agent, kind).resume_args(id).is_none() {
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
    Ok(())
}

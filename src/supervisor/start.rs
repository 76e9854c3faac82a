//! Starting a session: checks first (limit, name, cwd, agent on PATH), then
//! the store row, then the PTY, then the session task.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tokio::sync::mpsc;

use super::pool::Claim;
use super::session::{SessionEvent, SessionTask};
use super::{Command, Entry, LOG_CAP, Live, Supervisor, log_path, names, session_dir};
use crate::adapter::{self, WireContext};
use crate::hook::{self, new_token};
use crate::launch::LaunchSpec;
use crate::model::{SessionId, SessionRecord, Status, now};
use crate::private::{self, Links};
use crate::pty::{self, OutputLog, SpawnSpec};
use crate::rpc::protocol::StartOpts;
use crate::worktree::WorktreeError;

impl Supervisor {
    pub(super) async fn start(&mut self, opts: StartOpts) -> anyhow::Result<SessionRecord> {
        if self.live_count() >= self.max_sessions {
            bail!(
                "max sessions reached ({}); stop one first (:LuluStop)",
                self.max_sessions
            );
        }
        let agent = opts.agent.clone().unwrap_or_else(|| "shell".to_string());
        let mut name = match &opts.name {
            Some(name) => {
                names::validate(name)?;
                if opts.reuse {
                    self.replace_ended(name).await?;
                }
                if self.entries.iter().any(|e| &e.record.name == name) {
                    bail!("a session named '{name}' already exists; pick another name= or :LuluDelete it");
                }
                name.clone()
            }
            None => names::pick(|candidate| self.entries.iter().any(|e| e.record.name == candidate)),
        };
        let cwd = match &opts.cwd {
            Some(cwd) => PathBuf::from(cwd),
            None => std::env::current_dir().context("cannot read the host's working directory")?,
        };
        if !cwd.is_dir() {
            bail!("cwd {} is not a directory", cwd.display());
        }
        let mut resolved = self.agents.resolve(
            &agent,
            &opts.args,
            self.settings.path_var.as_deref(),
            self.settings.shell_var.as_deref(),
        )?;
        let submit_delay = self.agents.submit_delay(&agent);

        // Last of the checks, first of the changes: after this, a failure
        // leaves a failed row that still names the worktree (`:LuluDelete`
        // cleans it up).
        let explicit = opts.worktree == Some(true) || opts.base.is_some();
        let made = if opts.worktree.unwrap_or(self.worktree_enabled) {
            let mut tried = vec![name.clone()];
            loop {
                match self
                    .make_worktree(&cwd, &name, opts.base.clone(), explicit, opts.reuse)
                    .await
                {
                    // A name we picked ourselves may clash with a branch or
                    // directory left from earlier; pick another.
                    Err(err)
                        if opts.name.is_none()
                            && tried.len() < 5
                            && matches!(
                                err.downcast_ref::<WorktreeError>(),
                                Some(WorktreeError::BranchExists(_) | WorktreeError::PathExists(_))
                            ) =>
                    {
                        name = names::pick(|c| {
                            tried.iter().any(|t| t == c) || self.entries.iter().any(|e| e.record.name == c)
                        });
                        tried.push(name.clone());
                    }
                    other => break other?,
                }
            }
        } else if opts.base.is_some() {
            bail!("base= needs a worktree; drop worktree=off or base=");
        } else {
            None
        };
        let (worktree, setup) = match made {
            Some((created, setup)) => (Some(created), setup),
            None => (None, None),
        };
        // The agent starts where the user was, inside the new worktree.
        let run_dir = match &worktree {
            Some(created) => {
                let here = cwd.canonicalize().unwrap_or(cwd.clone());
                here.strip_prefix(&created.repo)
                    .ok()
                    .filter(|rel| !rel.as_os_str().is_empty())
                    .map(|rel| created.path.join(rel))
                    .filter(|dir| dir.is_dir())
                    .unwrap_or_else(|| created.path.clone())
            }
            None => cwd.clone(),
        };

        let id = SessionId::random();
        let token = new_token();
        // The agent's adapter wires it to lulu (hooks need the bridge).
        let adapter = adapter::for_agent(&agent);
        if self.settings.hook_socket.is_some() {
            let dir = session_dir(&self.settings.state_dir, &id);
            let (exe, timeout) = (self.settings.exe.clone(), self.approval_timeout.as_secs());
            let flags = tokio::task::spawn_blocking(move || {
                adapter.wire(&WireContext {
                    session_dir: &dir,
                    exe: &exe,
                    approval_timeout_secs: timeout,
                })
            })
            .await
            .context("wiring task failed")?
            .with_context(|| format!("cannot wire {agent} to lulu"))?;
            let at = resolved.cmd_len;
            resolved.argv.splice(at..at, flags);
        }

        let at = now();
        let mut record = SessionRecord {
            id: id.clone(),
            name,
            agent,
            status: Status::Starting,
            failure_reason: None,
            exit_code: None,
            pid: None,
            pid_start: None,
            cwd: run_dir.to_string_lossy().into_owned(),
            argv: resolved.argv.clone(),
            args: opts.args.clone(),
            worktree: worktree.as_ref().map(|w| w.path.to_string_lossy().into_owned()),
            branch: worktree.as_ref().map(|w| w.branch.clone()),
            base: worktree.as_ref().map(|w| w.base.clone()),
            repo: worktree.as_ref().map(|w| w.repo.to_string_lossy().into_owned()),
            ahead: worktree.as_ref().map(|_| 0),
            created_at: at.clone(),
            updated_at: at.clone(),
            last_activity_at: at,
            cost_usd: None,
            pending_approvals: 0,
            waiting: false,
            tokens: None,
        };
        let row = record.clone();
        self.store
            .write(format!("the new session '{}'", record.name), move |s| {
                s.insert_session(&row)
            });

        let mut env = resolved.env;
        let own_env = opts.env.is_empty();
        env.extend(opts.env);
        let transcript_search = adapter.transcript_search(&run_dir, &env);
        let started = std::time::SystemTime::now();
        env.push(("TERM".into(), "xterm-256color".into()));
        env.push(("COLORTERM".into(), "truecolor".into()));
        env.push((hook::ENV_SESSION.into(), id.to_string()));
        env.push(("LULU_SESSION_NAME".into(), record.name.clone()));
        if let Some(socket) = &self.settings.hook_socket {
            env.push((hook::ENV_SOCKET.into(), socket.to_string_lossy().into_owned()));
            env.push((hook::ENV_TOKEN.into(), token.clone()));
            let wait = self.approval_timeout.as_secs() + 10;
            env.push((hook::ENV_TIMEOUT.into(), wait.to_string()));
        }
        // A new worktree's setup runs first, in the same PTY (`lulu exec`).
        let argv = match &setup {
            Some(setup) => {
                let report = session_dir(&self.settings.state_dir, &id).join("setup-failed.json");
                if let Some(dir) = report.parent().map(Path::to_path_buf) {
                    let _ = tokio::task::spawn_blocking(move || private::dir(&dir, Links::Follow)).await;
                }
                let mut wrapped = vec![
                    self.settings.exe.to_string_lossy().into_owned(),
                    "exec".into(),
                    "--setup".into(),
                    serde_json::to_string(setup).unwrap_or_default(),
                    "--report".into(),
                    report.to_string_lossy().into_owned(),
                    "--".into(),
                ];
                wrapped.extend(resolved.argv);
                wrapped
            }
            None => resolved.argv,
        };
        let (cols, rows) = (opts.cols.unwrap_or(80), opts.rows.unwrap_or(24));
        // A plain shell session takes a warm shell as it is; anything else
        // has the warm shell exec it (see pool.rs). No idle shell: spawn.
        let plain_shell =
            record.agent == "shell" && opts.args.is_empty() && own_env && setup.is_none() && argv == self.pool.argv;
        let spawned = match self.pool_take() {
            Some(idle) => {
                let launch = (!plain_shell).then(|| LaunchSpec {
                    cwd: run_dir.clone(),
                    env: env.clone(),
                    argv: argv.clone(),
                });
                let claim = Claim {
                    id: &id,
                    name: &record.name,
                    cwd: &run_dir,
                    cols,
                    rows,
                    launch,
                };
                self.pool_claim(idle, claim).await.map_err(|err| format!("{err:#}"))
            }
            None => {
                let spec = SpawnSpec {
                    argv,
                    cwd: run_dir,
                    env,
                    cols,
                    rows,
                    log: OutputLog::open(log_path(&self.settings.state_dir, &id), LOG_CAP),
                };
                match tokio::task::spawn_blocking(move || pty::spawn(spec)).await {
                    Ok(result) => result.map_err(|err| err.to_string()),
                    Err(err) => Err(format!("spawn task failed: {err}")),
                }
            }
        };
        let spawned = match spawned {
            Ok(spawned) => spawned,
            Err(reason) => {
                self.finish(record, Status::Failed, Some(reason.clone()), None).await;
                bail!("{reason}");
            }
        };
        record.pid = Some(i64::from(spawned.pid));
        record.pid_start = crate::proctree::start_time(spawned.pid).map(|t| t as i64);
        let control = spawned.control.clone();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events_tx, mut events_rx) = mpsc::unbounded_channel();
        let task = SessionTask {
            id: id.clone(),
            spawned,
            commands: commands_rx,
            events: events_tx,
            scrollback: self.scrollback,
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
        self.event(&id, "started", &record.argv.join(" "));
        self.controls.insert(
            &record.name,
            super::controls::Handle {
                id: id.clone(),
                control: control.clone(),
                submit_delay,
            },
        );
        self.entries.push(Entry {
            record: record.clone(),
            live: Some(Live {
                control,
                commands,
                task,
                stop_requested: false,
                delete_requested: None,
                delete_waiters: Vec::new(),
                submit_delay,
                token,
                ahead_checked: None,
                transcript: None,
                transcript_search: transcript_search.map(|search| (search, started)),
                tally: None,
                reading_transcript: false,
                last_activity_write: std::time::Instant::now(),
            }),
        });
        self.broadcast_record(&record);
        Ok(record)
    }
}

//! `lulu host`: the RPC host Neovim starts. Opens the store, reconciles what a
//! previous host left, serves RPC on stdio, and on the way out stops every
//! session and records how it ended. [`Core`] and [`serve`] are shared with
//! `lulu daemon`, which serves many editors over a socket instead.

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use nvim_rs::Neovim;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::compat::TokioAsyncReadCompatExt;

use crate::hook::{self, server::HookServer};
use crate::model::SessionRecord;
use crate::paths::Dirs;
use crate::private::{self, Links};
use crate::rpc::framing::{Framed, InFlight};
use crate::rpc::handler::RpcHandler;
use crate::rpc::{ClientId, Outgoing};
use crate::store::Store;
use crate::supervisor::{DaemonLink, Settings, Supervisor, SupervisorHandle, session_grace};
use crate::worktree;

use crate::identity::HostKind;

/// What both kinds of host run: the store (reconciled), the hook bridge and
/// the supervisor.
pub struct Core {
    pub supervisor: SupervisorHandle,
    store: Store,
    task: tokio::task::JoinHandle<()>,
    hooks: Option<tokio::task::JoinHandle<()>>,
}

impl Core {
    /// Open the store, reconcile what a previous host of this kind left,
    /// bind the hook bridge and start the supervisor.
    pub async fn start(dirs: &Dirs, daemon: Option<DaemonLink>) -> anyhow::Result<Core> {
        let logs = dirs.state.join("logs");
        private::dir(&logs, Links::Follow)?;
        private::dir(&dirs.data, Links::Follow)?;

        let db = dirs.db();
        let (store, recovered) = tokio::task::spawn_blocking(move || Store::open_or_recover(&db)).await??;
        let kind = if daemon.is_some() {
            HostKind::Daemon
        } else {
            HostKind::Embedded
        };
        let store = store.of_kind(kind);
        let mut notices = recovered;
        let (stored, rules) = reconcile_sessions(&store, kind).await?;

        let skipped = store.take_skipped();
        if !skipped.is_empty() {
            notices.push(format!(
                "lulu.db has {} unreadable row(s), skipped and left as they are ({}); fix or delete them with sqlite3 {}",
                skipped.len(),
                skipped.join("; "),
                dirs.db().display()
            ));
        }
        let known = stored.clone();
        let reconciled = store.clone();
        tokio::task::spawn_blocking(move || reconcile_worktrees(&reconciled, &known)).await?;

        // Without the bridge sessions still run; their agents just ask in their
        // own terminals. Say so in the log rather than refuse to start.
        let hooks = match HookServer::bind(&hook::socket_dir()) {
            Ok(server) => Some(server),
            Err(err) => {
                tracing::error!("hook bridge unavailable: {err:#}");
                None
            }
        };

        notices.extend(tightened_notice());
        let settings = Settings {
            state_dir: dirs.state.clone(),
            data_dir: dirs.data.clone(),
            hook_socket: hooks.as_ref().map(|h| h.path().to_path_buf()),
            exe: std::env::current_exe().context("cannot find the lulu binary's path")?,
            path_var: std::env::var("PATH").ok(),
            shell_var: std::env::var("SHELL").ok(),
            daemon,
        };
        let (supervisor, task) = Supervisor::spawn(store.clone(), settings, stored, rules, notices);
        let hooks = hooks.map(|server| tokio::spawn(server.serve(supervisor.questions())));
        Ok(Core {
            supervisor,
            store,
            task,
            hooks,
        })
    }

    /// Stop every session (SIGHUP, SIGKILL after the grace), then the rest.
    pub async fn shutdown(self) {
        // Grace for the children plus a margin; never hang an editor's exit.
        if tokio::time::timeout(session_grace() + Duration::from_secs(2), self.supervisor.shutdown())
            .await
            .is_err()
        {
            tracing::error!("sessions did not all stop in time");
        }
        self.task.abort();
        // Nothing is left for the WAL to hold: fold it in, leave it empty.
        if let Err(err) = self.store.run(|s| s.checkpoint()).await {
            tracing::warn!("could not checkpoint the store: {err}");
        }
        if let Some(task) = self.hooks {
            // Dropping the server removes its socket file.
            task.abort();
            let _ = task.await;
        }
    }
}

/// Mark the sessions a previous host of `kind` left live as failed, end
/// their processes, and load what the store holds.
async fn reconcile_sessions(
    store: &Store,
    kind: HostKind,
) -> anyhow::Result<(Vec<SessionRecord>, Vec<(i64, crate::approval::RuleSpec)>)> {
    let exited = kind.exited_reason();
    store
        .run(move |s| {
            let failed = s.fail_live_sessions(exited)?;
            if !failed.is_empty() {
                tracing::warn!(
                    count = failed.len(),
                    reason = exited,
                    "sessions of a previous host marked failed"
                );
                // Their processes must not outlive the host that ran them.
                let leaders: Vec<(u32, Option<u64>)> = failed
                    .iter()
                    .filter_map(|left| {
                        let pid = u32::try_from(left.pid?).ok()?;
                        Some((pid, left.pid_start.and_then(|t| u64::try_from(t).ok())))
                    })
                    .collect();
                crate::proctree::end_groups(&leaders, session_grace());
            }
            Ok((s.sessions()?, s.rules()?))
        })
        .await
        .context("could not reconcile the store")
}

/// Files lulu found readable by others and made private at start, told once.
fn tightened_notice() -> Option<String> {
    let tightened = private::take_tightened();
    if tightened.is_empty() {
        return None;
    }
    let names: Vec<String> = tightened.iter().take(3).map(|p| p.display().to_string()).collect();
    let more = tightened.len().saturating_sub(names.len());
    Some(format!(
        "lulu made {} of its files private (other users could read them): {}{}",
        tightened.len(),
        names.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

/// Serve one editor's msgpack-RPC connection; the task ends with it.
pub fn serve(
    reader: impl tokio::io::AsyncRead + Send + Unpin + 'static,
    writer: impl std::io::Write + Send + 'static,
    supervisor: SupervisorHandle,
    peer_pid: Option<u32>,
) -> anyhow::Result<(ClientId, tokio::task::JoinHandle<()>)> {
    let client = ClientId::next();
    let out = Outgoing::spawn(writer).context("cannot start the rpc writer")?;
    let in_flight = std::sync::Arc::new(InFlight::default());
    let handler = RpcHandler::new(client, out.clone(), supervisor, peer_pid, in_flight.clone());
    let framed = Framed::new(reader, out.clone(), in_flight);
    let (_nvim, io) = Neovim::new(framed.compat(), out.clone(), handler);
    let task = tokio::spawn(async move {
        tokio::select! {
            result = io => match result {
                Ok(()) => tracing::info!(?client, "editor closed the connection"),
                // EOF mid-message is how a closing editor looks to nvim-rs.
                Err(err) => tracing::info!(?client, "connection ended: {err}"),
            },
            // Its queue overflowed (logged there): stop serving it.
            () = out.overflowed() => {}
        }
    });
    Ok((client, task))
}

/// `lulu host`: one editor on stdio; its sessions end with it.
pub async fn run(dirs: Dirs) -> anyhow::Result<()> {
    let core = Core::start(&dirs, None).await?;
    let (_client, io) = serve(tokio::io::stdin(), rpc_stdout()?, core.supervisor.clone(), None)?;

    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        result = io => if let Err(err) = result {
            tracing::error!("rpc task failed: {err}");
        },
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = hup.recv() => tracing::info!("SIGHUP"),
        _ = int.recv() => tracing::info!("SIGINT"),
    }
    core.shutdown().await;
    tracing::info!("host exiting");
    Ok(())
}

/// Worktrees in the store whose directories vanished behind lulu's back:
/// git forgets them (`worktree prune`) and their sessions get an event. Their
/// branches stay, and a directory that still exists is never touched.
fn reconcile_worktrees(store: &Store, sessions: &[SessionRecord]) {
    let mut repos: BTreeMap<String, Vec<&SessionRecord>> = BTreeMap::new();
    for s in sessions {
        if let (Some(path), Some(repo)) = (&s.worktree, &s.repo)
            && !Path::new(path).exists()
        {
            repos.entry(repo.clone()).or_default().push(s);
        }
    }
    for (repo, vanished) in repos {
        let repo = Path::new(&repo);
        let registered = match worktree::registered(repo) {
            Ok(list) => list,
            Err(err) => {
                tracing::warn!(repo = %repo.display(), "cannot list worktrees: {err}");
                continue;
            }
        };
        // Only what git still lists needs pruning; the rest was done before.
        let stale: Vec<_> = vanished
            .into_iter()
            .filter(|s| {
                registered
                    .iter()
                    .any(|r| Some(r.as_path()) == s.worktree.as_deref().map(Path::new))
            })
            .collect();
        if stale.is_empty() {
            continue;
        }
        if let Err(err) = worktree::prune(repo) {
            tracing::warn!(repo = %repo.display(), "prune failed: {err}");
            continue;
        }
        for s in stale {
            let path = s.worktree.as_deref().unwrap_or_default();
            tracing::warn!(session = %s.id, path, "worktree directory vanished; pruned");
            if let Err(err) = store.add_event(&s.id, "worktree-vanished", path) {
                tracing::warn!(session = %s.id, "cannot record: {err}");
            }
        }
    }
}

/// A private handle on stdout for RPC, with fd 1 itself pointed at /dev/null:
/// a stray print anywhere would otherwise corrupt the msgpack stream.
fn rpc_stdout() -> anyhow::Result<std::fs::File> {
    let stdout = std::io::stdout();
    let rpc = stdout.as_fd().try_clone_to_owned().context("cannot duplicate stdout")?;
    let devnull = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
    // SAFETY: dup2 onto fd 1 of our own process; both fds are valid.
    unsafe {
        libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&devnull), 1);
    }
    Ok(std::fs::File::from(rpc))
}

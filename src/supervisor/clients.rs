//! Editors coming and going as the daemon sees them (their terminals
//! detached when one goes), and the daemon's own status and stop.

use crate::api::Payload;
use anyhow::bail;

use super::session_task::SessionCmd;
use super::{Command, Supervisor, SupervisorHandle, VERSION};
use crate::api::ClientId;

/// What the daemon's main loop gives the supervisor.
pub struct DaemonLink {
    /// Asks the daemon to stop (`:LuluDaemon stop`).
    pub stop: tokio::sync::mpsc::UnboundedSender<()>,
    pub socket: std::path::PathBuf,
    pub log: std::path::PathBuf,
}

/// What keeps a daemon from exiting when idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy {
    pub live_sessions: usize,
    pub clients: usize,
}

impl SupervisorHandle {
    /// An editor's connection ended: forget it and its terminals. Its
    /// sessions go on.
    pub fn client_gone(&self, client: ClientId) {
        let _ = self.tx.send(Command::ClientGone(client));
    }

    pub async fn occupancy(&self) -> Option<Occupancy> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx.send(Command::Occupancy(tx)).ok()?;
        rx.await.ok()
    }
}

impl Supervisor {
    pub(super) fn on_client_gone(&mut self, client: ClientId) {
        if !self.editors.leave(client) {
            return;
        }
        tracing::info!(?client, remaining = self.editors.len(), "editor disconnected");
        for entry in &self.entries {
            if let Some(live) = &entry.live {
                let _ = live.commands.send(SessionCmd::DetachClient { client });
            }
        }
    }

    pub(super) fn occupancy(&self) -> Occupancy {
        Occupancy {
            live_sessions: self.live_count(),
            clients: self.editors.len(),
        }
    }

    pub(super) fn daemon_status(&self) -> anyhow::Result<Payload> {
        let daemon = self.daemon()?;
        Ok(Payload::of(&crate::api::reply::DaemonStatus {
            pid: std::process::id(),
            version: VERSION,
            build: crate::identity::build_id(),
            live: self.live_count(),
            clients: self.editors.len(),
            socket: daemon.socket.to_string_lossy().into_owned(),
            log: daemon.log.to_string_lossy().into_owned(),
        }))
    }

    pub(super) fn daemon_stop(&self) -> anyhow::Result<Payload> {
        let daemon = self.daemon()?;
        if daemon.stop.is_closed() {
            bail!("the daemon is already stopping");
        }
        // The reply is written after this returns; stopping at once could
        // end the process before it leaves, and the caller would not know.
        let stop = daemon.stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let _ = stop.send(());
        });
        Ok(Payload::NIL)
    }

    fn daemon(&self) -> anyhow::Result<&DaemonLink> {
        match &self.settings.daemon {
            Some(daemon) => Ok(daemon),
            None => bail!("this lulu host runs inside Neovim (host.mode = 'embedded'); there is no daemon"),
        }
    }
}

//! Connected editors, as the daemon sees them: several at once, each coming
//! and going while sessions run; and the daemon's own status and stop.

use std::collections::{HashMap, VecDeque};

use crate::api::Payload;
use anyhow::bail;

use super::session::SessionCmd;
use super::{Command, SessionOptions, Supervisor, SupervisorHandle, VERSION};
use crate::api::{Client, ClientId};

/// How many ended connections are remembered for a hello still in flight.
const DEPARTED_KEPT: usize = 256;

/// The editors that said hello, each with the options that shape the
/// sessions it starts (a daemon serves editors with different setups);
/// and the connections that ended before their hello got here, so that a
/// late hello does not bring one back.
#[derive(Default)]
pub(super) struct Editors {
    joined: HashMap<ClientId, (Client, SessionOptions)>,
    departed: VecDeque<ClientId>,
}

impl Editors {
    /// An editor said hello; false when its connection already ended.
    pub fn join(&mut self, client: Client, options: SessionOptions) -> bool {
        if self.departed.contains(&client.id) {
            return false;
        }
        self.joined.insert(client.id, (client, options));
        true
    }

    /// A connection ended; true when it was an editor that had joined.
    pub fn leave(&mut self, client: ClientId) -> bool {
        if self.joined.remove(&client).is_some() {
            return true;
        }
        if self.departed.len() == DEPARTED_KEPT {
            self.departed.pop_front();
        }
        self.departed.push_back(client);
        false
    }

    /// What shapes the sessions `client` starts.
    pub fn options(&self, client: ClientId) -> Option<&SessionOptions> {
        self.joined.get(&client).map(|(_, options)| options)
    }

    pub fn len(&self) -> usize {
        self.joined.len()
    }

    /// Every joined editor (events go to each).
    pub fn all(&self) -> impl Iterator<Item = &Client> {
        self.joined.values().map(|(client, _)| client)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Peer;

    fn editor() -> Client {
        Client {
            id: ClientId::next(),
            peer: Peer::nowhere(),
        }
    }

    fn options(scrollback: usize) -> SessionOptions {
        SessionOptions {
            agents: Default::default(),
            worktree_enabled: true,
            worktree_root: None,
            worktree_copy: Vec::new(),
            worktree_setup: None,
            cleanup_merged: false,
            scrollback,
        }
    }

    #[tokio::test]
    async fn each_editor_keeps_its_own_options_and_a_late_hello_stays_out() {
        let mut editors = Editors::default();
        let (a, b) = (editor(), editor());
        let (a_id, b_id) = (a.id, b.id);
        assert!(editors.join(a, options(100)));
        assert!(editors.join(b, options(200)));
        assert_eq!(editors.options(a_id).map(|o| o.scrollback), Some(100));
        assert_eq!(editors.options(b_id).map(|o| o.scrollback), Some(200));
        assert_eq!(editors.all().count(), 2);
        assert!(editors.leave(a_id));
        assert!(editors.options(a_id).is_none());
        assert_eq!(editors.len(), 1);

        // A connection that ends before its hello arrives is not let in.
        let late = editor();
        let late_id = late.id;
        assert!(!editors.leave(late_id), "it had not joined");
        assert!(!editors.join(late, options(300)));
        assert!(editors.options(late_id).is_none());
        assert_eq!(editors.len(), 1);
    }
}

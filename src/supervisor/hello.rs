//! An editor says hello: its options (those that shape its sessions are
//! kept per editor; the daemon-wide ones apply to all), and what the host
//! tells it about its agents.

use super::*;
use crate::api::Event;

impl Supervisor {
    /// A hello sent as a notification: answered with a `hello` event that
    /// carries the sessions and the questions waiting, or its error.
    pub(super) fn hello_notified(&mut self, client: ClientId, peer: Peer, hello: Hello) {
        let editor = crate::api::Client {
            id: client,
            peer: peer.clone(),
        };
        let answer = match self.hello(client, peer, hello) {
            Ok(hello) => Payload::of(&crate::api::reply::Welcome {
                hello,
                sessions: self.records(),
                approvals: self.pending(),
            }),
            Err(err) => Payload::of(&crate::api::reply::Failed {
                error: crate::errors::wire_message(&err),
            }),
        };
        editor.emit(Event::Hello, answer);
    }

    pub(super) fn hello(
        &mut self,
        client: ClientId,
        peer: Peer,
        hello: Hello,
    ) -> anyhow::Result<crate::api::reply::Hello> {
        let mut config = hello.config;
        // Checked whole first: a hello with one bad option changes nothing.
        let options = session_options(&mut config, self.editors.last())?;
        if config.max_sessions == Some(0) {
            bail!("max_sessions must be at least 1");
        }
        if let Some(max) = config.max_sessions {
            self.entries.set_max(max);
        }
        let shell = options.agents.resolve(
            "shell",
            &[],
            self.settings.path_var.as_deref(),
            self.settings.shell_var.as_deref(),
        );
        let shell = match shell {
            Ok(resolved) if resolved.env.is_empty() => resolved.argv,
            _ => Vec::new(),
        };
        let ready_within = config.pool_ready_timeout.map_or(pool::DEFAULT_READY_WITHIN, |secs| {
            Duration::from_secs_f64(secs.clamp(0.1, 600.0))
        });
        self.pool_configure(config.pool_size.unwrap_or(2), shell, ready_within);
        self.pool.set_recycle(
            config
                .pool_recycle
                .then(|| Duration::from_secs_f64(config.pool_max_age.unwrap_or(1800.0).clamp(1.0, 24.0 * 3600.0))),
        );
        self.set_prices(crate::cost::Prices::with_overrides(config.prices));
        if let Some(secs) = config.approval_timeout {
            self.asks.set_timeout(secs);
        }
        if !hello.version.is_empty() && hello.version != VERSION {
            tracing::warn!(plugin = %hello.version, host = VERSION, "plugin and host versions differ");
        }
        // (Its connection may have ended before this hello got here.)
        self.editors.join(Client { id: client, peer }, options);
        let mode = if self.settings.daemon.is_some() {
            crate::identity::HostKind::Daemon
        } else {
            crate::identity::HostKind::Embedded
        }
        .as_str();
        Ok(crate::api::reply::Hello {
            version: VERSION,
            pid: std::process::id(),
            mode,
            build: crate::identity::build_id(),
            live: self.live_count(),
        })
    }

    /// Each agent `client` configured: its program (or why it cannot
    /// run), how to ask its version, and what lulu does with it.
    pub(super) fn agent_info(&self, client: ClientId) -> Payload {
        let agents = &self.editors.options(client).agents;
        let info = agents.names().map(|name| {
            let adapter = crate::adapter::for_session(name, agents.kind(name));
            let resolved = agents.resolve(
                name,
                &[],
                self.settings.path_var.as_deref(),
                self.settings.shell_var.as_deref(),
            );
            let (program, error) = match resolved {
                Ok(r) => (r.argv.first().cloned(), None),
                Err(err) => (None, Some(err.to_string())),
            };
            let proven = adapter.proven_with();
            crate::api::reply::AgentInfo {
                name,
                integration: adapter.integration(),
                program,
                error,
                version_flag: adapter.version_flag(),
                proven_with: proven.map(|(version, _)| version),
                relies_on: proven.map(|(_, relies_on)| relies_on),
            }
        });
        Payload::of(&info.collect::<Vec<_>>())
    }
}

/// What a hello's config says of the sessions its editor starts, checked
/// whole before anything of it applies; what it leaves out stays as the
/// last hello had it.
fn session_options(config: &mut crate::api::HostConfig, last: &SessionOptions) -> anyhow::Result<SessionOptions> {
    for pattern in &config.worktree_copy {
        globset::Glob::new(pattern).map_err(|err| anyhow!("invalid worktree.copy glob {pattern:?}: {}", err.kind()))?;
    }
    let cleanup_merged = match config.worktree_cleanup.as_deref() {
        None | Some("keep") => false,
        Some("delete_if_merged") => true,
        Some(other) => bail!("worktree.cleanup must be 'keep' or 'delete_if_merged', not {other:?}"),
    };
    let worktree_branch = match config.worktree_branch.take() {
        Some(template) => {
            crate::worktree::branch_name(&template, "x", "agent").map_err(|err| anyhow!("worktree.branch: {err}"))?;
            template
        }
        None => last.worktree_branch.clone(),
    };
    Ok(SessionOptions {
        worktree_branch,
        agents: Agents::with_overrides(std::mem::take(&mut config.agents)),
        worktree_enabled: config.worktree.unwrap_or(last.worktree_enabled),
        worktree_root: config.worktree_root.take().map(PathBuf::from),
        worktree_copy: std::mem::take(&mut config.worktree_copy),
        worktree_setup: config.worktree_setup.take().filter(|argv| !argv.is_empty()),
        cleanup_merged,
        scrollback: config
            .scrollback
            .map_or(last.scrollback, |rows| rows.clamp(1, MAX_SCROLLBACK)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_is_checked_whole_and_what_it_omits_stays() {
        let last = SessionOptions {
            worktree_enabled: false,
            scrollback: 500,
            ..SessionOptions::default()
        };
        let mut config = crate::api::HostConfig {
            scrollback: Some(1_000_000),
            worktree_cleanup: Some("delete_if_merged".into()),
            worktree_copy: vec![".env".into()],
            ..Default::default()
        };
        let options = session_options(&mut config, &last).unwrap();
        assert_eq!(options.scrollback, MAX_SCROLLBACK, "clamped");
        assert!(!options.worktree_enabled, "not said: as the last hello had it");
        assert!(options.cleanup_merged);
        assert_eq!(options.worktree_copy, vec![".env".to_string()]);

        let mut bad = crate::api::HostConfig {
            worktree_copy: vec!["[".into()],
            ..Default::default()
        };
        let err = session_options(&mut bad, &last).err().unwrap().to_string();
        assert!(err.contains("invalid worktree.copy glob"), "{err}");
        let mut bad = crate::api::HostConfig {
            worktree_cleanup: Some("sometimes".into()),
            ..Default::default()
        };
        assert!(session_options(&mut bad, &last).is_err());
    }
}

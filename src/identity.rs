//! What this host is: its kind (the embedded one a single Neovim starts on
//! stdio, whose sessions end with it, or the daemon many editors share)
//! and the build it runs. Leaf facts that every layer may ask. Session rows
//! carry the kind that ran them, so that a host reconciles only its own
//! kind's rows after a crash; an editor compares the build to tell that
//! the binary was rebuilt since the daemon started.

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Embedded,
    Daemon,
}

impl HostKind {
    /// As stored in a session's row and told in the hello reply.
    pub fn as_str(self) -> &'static str {
        match self {
            HostKind::Embedded => "embedded",
            HostKind::Daemon => "daemon",
        }
    }

    /// Why a live session of a host of this kind that is gone ended.
    pub fn exited_reason(self) -> &'static str {
        match self {
            HostKind::Embedded => "host exited",
            HostKind::Daemon => "daemon exited",
        }
    }
}

/// Identifies the binary this host runs (size and modification time), so an
/// editor can tell that it was rebuilt or upgraded since a daemon started.
pub fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let meta = std::env::current_exe().and_then(std::fs::metadata);
        match meta {
            Ok(meta) => {
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs());
                format!("{}-{}", meta.len(), mtime)
            }
            Err(_) => "unknown".to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_reasons_are_stable() {
        // Stored in rows and read by the editor: they must not change.
        assert_eq!(HostKind::Embedded.as_str(), "embedded");
        assert_eq!(HostKind::Daemon.as_str(), "daemon");
        assert_eq!(HostKind::Embedded.exited_reason(), "host exited");
        assert_eq!(HostKind::Daemon.exited_reason(), "daemon exited");
    }
}

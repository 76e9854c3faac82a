//! Which kind of host this is: the embedded one a single Neovim starts on
//! stdio (its sessions end with it), or the daemon many editors share.
//! Session rows carry the kind that ran them, so that a host reconciles
//! only its own kind's rows after a crash.

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

//! The host's errors that every client meets, each with a stable code.
//!
//! On the wire a message starts with its code in brackets (`[no_session]
//! no session named 'x'`); Neovim shows only a message for RPC errors, so
//! the code rides in it. The editor strips it and adds what to do in Vim
//! terms (`see :LuluList`); `lulu` on a shell strips it and says nothing of
//! Vim. Messages name the problem in words that fit every client.

/// A failure a client can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("no session named '{0}'")]
    NoSession(String),
    #[error("session '{name}' has ended ({status})")]
    SessionEnded { name: String, status: String },
    #[error("a session named '{0}' already exists")]
    NameTaken(String),
    #[error("max sessions reached ({0}); stop one first")]
    MaxSessions(usize),
    #[error("no rule {0}")]
    NoRule(i64),
    #[error("no saved sessions named '{0}'")]
    NoSnapshot(String),
}

impl HostError {
    /// The stable code clients key their hints on.
    pub fn code(&self) -> &'static str {
        match self {
            HostError::NoSession(_) => "no_session",
            HostError::SessionEnded { .. } => "session_ended",
            HostError::NameTaken(_) => "name_taken",
            HostError::MaxSessions(_) => "max_sessions",
            HostError::NoRule(_) => "no_rule",
            HostError::NoSnapshot(_) => "no_snapshot",
        }
    }
}

/// An error as it goes on the wire: `[code] message` for a [`HostError`]
/// anywhere in the chain, else the message.
pub fn wire_message(err: &anyhow::Error) -> String {
    match err.chain().find_map(|e| e.downcast_ref::<HostError>()) {
        Some(host) => format!("[{}] {err:#}", host.code()),
        None => format!("{err:#}"),
    }
}

/// A message from the wire without its code (for a shell).
pub fn strip_code(message: &str) -> &str {
    match message.strip_prefix('[').and_then(|rest| rest.split_once("] ")) {
        Some((code, rest)) if code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => rest,
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_ride_in_the_message_and_come_off_again() {
        let err = anyhow::Error::from(HostError::NoSession("x".into()));
        let wire = wire_message(&err);
        assert_eq!(wire, "[no_session] no session named 'x'");
        assert_eq!(strip_code(&wire), "no session named 'x'");
        let plain = anyhow::anyhow!("cwd /nope is not a directory");
        assert_eq!(wire_message(&plain), "cwd /nope is not a directory");
        assert_eq!(strip_code("[not a code] x"), "[not a code] x");
        let wrapped = anyhow::Error::from(HostError::NoRule(3)).context("could not save the rule");
        assert_eq!(wire_message(&wrapped), "[no_rule] could not save the rule: no rule 3");
    }
}

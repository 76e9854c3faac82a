//! The hook bridge: agents' hook commands (`lulu hook <agent>`) ask the host
//! over a Unix socket in a private directory. One JSON line each way.
//!
//! `server` runs in the host; `client` is the short-lived hook process, kept
//! free of the async runtime and the database so it starts in milliseconds.

pub mod questions;
pub mod server;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::approval::Action;

/// Environment the host gives every session, read by `lulu hook`.
pub const ENV_SOCKET: &str = "LULU_SOCKET";
pub const ENV_SESSION: &str = "LULU_SESSION";
pub const ENV_TOKEN: &str = "LULU_TOKEN";
/// Seconds the hook waits for the host's answer (the approval timeout plus a
/// margin), after which it answers "ask".
pub const ENV_TIMEOUT: &str = "LULU_HOOK_TIMEOUT";

/// The reason a deny carries when the user gave none.
pub const DENIED_BY_USER: &str = "denied by the user in Neovim (lulu)";

/// Hook to host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HookRequest {
    pub session: String,
    pub token: String,
    pub agent: String,
    /// The agent's hook JSON, as it came.
    pub payload: serde_json::Value,
}

impl HookRequest {
    pub fn event(&self) -> &str {
        self.payload
            .get("hook_event_name")
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }
}

/// Host to hook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookReply {
    pub decision: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With an allow: the tool's input to run instead of the agent's (the
    /// user's reviewed version of a file change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_input: Option<serde_json::Value>,
}

impl HookReply {
    pub fn ask() -> HookReply {
        HookReply::of(Action::Ask, None)
    }

    pub fn of(decision: Action, reason: Option<String>) -> HookReply {
        HookReply {
            decision,
            reason,
            updated_input: None,
        }
    }
}

/// The private directory for host sockets: `$XDG_RUNTIME_DIR/lulu`, else
/// `/tmp/lulu-<uid>`.
pub fn socket_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty() && Path::new(d).is_dir()) {
        Some(dir) => PathBuf::from(dir).join("lulu"),
        // SAFETY: getuid cannot fail.
        None => PathBuf::from(format!("/tmp/lulu-{}", unsafe { libc::getuid() })),
    }
}

/// Compare secrets in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_exactly() {
        let t = crate::private::token();
        assert_eq!(t.len(), 32);
        assert!(same_token(&t, &t.clone()));
        assert!(!same_token(&t, &crate::private::token()));
        assert!(!same_token(&t, &t[..31]));
        assert!(!same_token("", "x"));
    }
}

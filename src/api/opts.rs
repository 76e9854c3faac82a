//! The arguments a method takes that are tables: each a struct that serde
//! checks field by field (unknown fields refused where a typo would change
//! what happens), and the bounds on what a client may send.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::agent::AgentSpec;
use crate::lenient::lenient_map;

/// What the editor tells the host about itself when it connects.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Hello {
    #[serde(default)]
    pub version: String,
    /// What the editor calls this host (`hosts.NAME`): echoed with each
    /// event. A hello sent as a notification is answered with a `hello`
    /// event that also carries the sessions and pending questions.
    pub tag: Option<String>,
    #[serde(default)]
    pub config: HostConfig,
}

/// The part of the user's `setup()` options the host acts on.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    pub max_sessions: Option<usize>,
    pub scrollback: Option<usize>,
    #[serde(default, deserialize_with = "lenient_map")]
    pub agents: BTreeMap<String, AgentSpec>,
    /// Seconds a pending approval waits for the user before answering "ask".
    pub approval_timeout: Option<u64>,
    /// Sessions in a git repository get their own worktree (default true).
    pub worktree: Option<bool>,
    /// Where worktrees go instead of `<repo>/.lulu/worktrees`.
    pub worktree_root: Option<String>,
    /// A new session's branch name: `{name}`, `{agent}`, `{date}` filled
    /// (default `lulu/{name}`).
    pub worktree_branch: Option<String>,
    /// Globs of untracked files copied from the main worktree into new ones.
    #[serde(default)]
    pub worktree_copy: Vec<String>,
    /// argv run in a new worktree before the agent starts.
    pub worktree_setup: Option<Vec<String>>,
    /// What happens to an ended session's worktree: `keep` or `delete_if_merged`.
    pub worktree_cleanup: Option<String>,
    /// Idle shells kept warm (default 2, at most 6).
    pub pool_size: Option<usize>,
    /// Seconds a warm shell may take to print its prompt.
    pub pool_ready_timeout: Option<f64>,
    /// A stopped plain shell session goes back to the pool (reset) instead
    /// of being killed, while younger than `pool_max_age` seconds.
    #[serde(default)]
    pub pool_recycle: bool,
    pub pool_max_age: Option<f64>,
    /// Per model-name prefix, USD per million tokens; over the defaults.
    #[serde(default, deserialize_with = "lenient_map")]
    pub prices: BTreeMap<String, crate::cost::Price>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartOpts {
    pub agent: Option<String>,
    pub name: Option<String>,
    pub cwd: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default, deserialize_with = "lenient_map")]
    pub env: BTreeMap<String, String>,
    /// `Some(true)`: a worktree is required; `Some(false)`: run in place.
    pub worktree: Option<bool>,
    /// Branch or commit the session's branch starts from (default HEAD).
    pub base: Option<String>,
    /// Restoring: an ended session of this name is replaced, and its branch
    /// and worktree are used again.
    #[serde(default)]
    pub reuse: bool,
    /// The agent's own id of a conversation to resume (a session's
    /// `conversation`), through the agent's resume flag.
    pub resume: Option<String>,
    /// Typed into the session once it is ready for input (its screen drew
    /// and held still): a template's first prompt.
    pub prompt: Option<String>,
    /// This start's `worktree.copy` and `worktree.setup` (a template's),
    /// instead of the editor's.
    pub worktree_copy: Option<Vec<String>>,
    pub worktree_setup: Option<Vec<String>>,
    /// `on-failure`: a session that fails starts again, with back-off.
    pub restart: Option<String>,
    /// Restarts allowed in an hour (default 5).
    pub restart_limit: Option<u32>,
    /// Memory, CPU and process limits for the session's process tree.
    pub limits: Option<crate::limits::Limits>,
    /// Run the session's process tree in this sandbox.
    pub sandbox: Option<crate::sandbox::Sandbox>,
    pub cols: Option<u16>,
    pub rows: Option<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalListOpts {
    /// The record of past decisions instead of the pending requests.
    #[serde(default)]
    pub history: bool,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneOpts {
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleAddOpts {
    /// Where to insert (0 = first); default last.
    pub index: Option<usize>,
}

/// The user's answer to a pending approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Allow,
    Deny,
    AlwaysAllow,
    AlwaysDeny,
}

/// What may come with an answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideOpts {
    /// Told to the agent with a deny (what to do instead).
    pub message: Option<String>,
    /// With an allow of a file tool: the file as the user accepted it
    /// (reviewed, maybe edited); the agent is given the input that makes it.
    pub content: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeOpts {
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentOpts {
    pub path: String,
    pub line: i64,
    pub end_line: Option<i64>,
    pub text: String,
}

/// Longest review comment.
pub const MAX_COMMENT: usize = 16 * 1024;

pub use crate::worktree::files::MAX_REVIEW_FILE;

/// Longest commit message a merge takes.
pub const MAX_COMMIT_MESSAGE: usize = 64 * 1024;

/// `:LuluRebase {session} [continue|abort]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebaseStep {
    Start,
    Continue,
    Abort,
}

/// Longest message sent to an agent with a deny.
pub const MAX_DENY_MESSAGE: usize = 4096;

/// How a terminal attaches (`session_attach`'s fifth argument).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct AttachOpts {
    /// The terminal showed this session before it was detached (a buffer
    /// that went lazy): catch it up from there instead of painting it
    /// whole.
    #[serde(default)]
    pub resume: bool,
    /// Lines of scrollback the terminal keeps (its buffer's 'scrollback').
    pub scrollback: Option<usize>,
    /// The editor's colours (`#rrggbb`), which the host reports to a
    /// program asking (OSC 10/11) while no terminal shows it.
    #[serde(default, deserialize_with = "hex_colour")]
    pub fg: Option<(u8, u8, u8)>,
    #[serde(default, deserialize_with = "hex_colour")]
    pub bg: Option<(u8, u8, u8)>,
    /// The terminal answers the program's queries itself (Neovim's does);
    /// `false` for `lulu attach`, which passes no query on, so the host's
    /// model answers them as it does with no terminal.
    pub queries: Option<bool>,
}

/// `#rrggbb`, or nothing for anything else (a colour is a nicety: a bad
/// one is not worth refusing the attach over).
fn hex_colour<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<(u8, u8, u8)>, D::Error> {
    let text = Option::<String>::deserialize(deserializer).unwrap_or_default();
    Ok(text.and_then(|text| {
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 || !hex.is_ascii() {
            return None;
        }
        let byte = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).ok();
        Some((byte(0)?, byte(2)?, byte(4)?))
    }))
}

/// `session_push(session[, {remote, force}])`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushOpts {
    #[serde(default)]
    pub remote: Option<String>,
    /// With a lease on what the remote had.
    #[serde(default)]
    pub force: bool,
}

/// `session_pr(session, {title, body[, remote]})`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrOpts {
    #[serde(default)]
    pub remote: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopOpts {
    #[serde(default)]
    pub force: bool,
}

impl PartialEq for Hello {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
    }
}

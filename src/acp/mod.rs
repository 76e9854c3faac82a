//! `lulu acp`: the ACP client of one session. lulu runs it as the
//! session's program, inside the session's terminal, limits and sandbox,
//! and it runs the agent (`agents.NAME.acp.cmd`) as its child, speaking
//! the Agent Client Protocol (JSON-RPC 2.0 over the child's stdio). What
//! the agent says becomes the session's conversation (told to the host
//! over the session's hook socket, shown as text on its terminal); its
//! permission requests are lulu questions under lulu's rules; its file
//! requests are served inside the session. The user's prompts are lines
//! typed into the terminal (`:LuluSend`, the chat buffer's prompt).
//!
//! One process per session, not the host: a hostile or broken agent's
//! flood, malformed output or crash stays in its own session, and the
//! files it asks for are served from inside the session's sandbox.

mod agent;
mod ask;
pub mod chat;
mod client;
mod fs;
mod host;
mod keys;
mod render;
mod services;
mod turns;
pub mod wire;

pub use client::{Opts, run};

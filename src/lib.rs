//! lulu: run and steer many AI coding-agent CLIs from Neovim.
//!
//! `docs/ARCHITECTURE.md` draws how these modules fit together.

pub mod acp;
pub mod adapter;
pub mod agent;
pub mod api;
pub mod approval;
pub mod cli;
pub mod client;
pub mod cost;
pub mod daemon;
pub mod edit_review;
pub mod errors;
pub mod hook;
pub mod host;
pub mod identity;
pub mod ipc;
pub mod launch;
pub mod lenient;
pub mod limits;
pub mod link;
pub mod logfile;
pub mod memory;
pub mod model;
pub mod outer;
pub mod paths;
pub mod private;
pub mod proctree;
pub mod pty;
pub mod relay;
pub mod rpc;
pub mod sandbox;
pub mod screen;
pub mod store;
pub mod supervisor;
pub mod worktree;

//! Agents lulu runs without wiring (yet): they work as plain terminal
//! programs; their permission questions stay in their own terminal.
//! doc/lulu.txt (`lulu-approvals-agents`) says why for gemini.

use super::{Adapter, Integration};

const NONE: Integration = Integration {
    approvals: false,
    cost: false,
    attention: false,
};

/// Gemini CLI: `BeforeTool` hooks cannot skip its own dialog. Not wired yet.
pub struct Gemini;

impl Adapter for Gemini {
    fn integration(&self) -> Integration {
        NONE
    }
}

/// `$SHELL`: nothing to wire, and no `--version` worth asking.
pub struct Shell;

impl Adapter for Shell {
    fn integration(&self) -> Integration {
        NONE
    }

    fn version_flag(&self) -> Option<&'static str> {
        None
    }
}

/// Any agent added from config alone.
pub struct Generic;

impl Adapter for Generic {
    fn integration(&self) -> Integration {
        NONE
    }
}

//! Agents lulu runs without wiring: they work as plain terminal programs;
//! their permission questions stay in their own terminal.

use super::{Adapter, Integration};

const NONE: Integration = Integration {
    approvals: false,
    cost: false,
    attention: false,
};

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

//! `lulu exec`: run a new worktree's setup command in the session's PTY (so
//! its output shows in the session buffer), then become the agent. A failed
//! setup writes a report for the host and exits with the command's code.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// What the host reads back when a setup fails.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct SetupFailure {
    pub command: String,
    pub code: i32,
}

impl SetupFailure {
    pub fn reason(&self) -> String {
        format!("worktree.setup `{}` failed with exit code {}", self.command, self.code)
    }

    pub fn read(report: &Path) -> Option<SetupFailure> {
        serde_json::from_slice(&std::fs::read(report).ok()?).ok()
    }
}

/// Never returns on success: the process becomes `argv`.
pub fn run_then_exec(setup: &[String], report: &Path, argv: &[String]) -> anyhow::Result<i32> {
    let (Some(program), Some(agent)) = (setup.first(), argv.first()) else {
        bail!("lulu exec needs a setup command and an agent command");
    };
    let shown = setup.join(" ");
    println!("\x1b[2mlulu: worktree.setup: {shown}\x1b[0m");
    let status = Command::new(program)
        .args(&setup[1..])
        .status()
        .with_context(|| format!("cannot run worktree.setup `{shown}`"));
    let code = match status {
        Ok(status) if status.success() => None,
        Ok(status) => Some(status.code().unwrap_or(128)),
        Err(err) => {
            eprintln!("lulu: {err:#}");
            Some(127)
        }
    };
    if let Some(code) = code {
        let failure = SetupFailure { command: shown, code };
        let _ = crate::private::write(report, &serde_json::to_vec(&failure).unwrap_or_default());
        eprintln!("\x1b[31mlulu: {}\x1b[0m", failure.reason());
        return Ok(code);
    }
    let err = Command::new(agent).args(&argv[1..]).exec();
    Err(err).with_context(|| format!("cannot start {agent}"))
}

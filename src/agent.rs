//! Which program a session runs: the agent table (built-in defaults merged
//! with the user's `agents = {...}` from `setup()`), and turning an agent name
//! plus extra args into an argv that exists on this machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// One agent as configured. `cmd = None` means "the user's shell".
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default, deserialize_with = "crate::lenient::lenient_map")]
    pub env: BTreeMap<String, String>,
    /// Pause between a sent text and its Enter, in milliseconds.
    #[serde(default)]
    pub submit_delay: Option<u64>,
    /// An agent lulu speaks the Agent Client Protocol with: `cmd` is the
    /// program that speaks it on stdio (`cmd` above is then unused).
    #[serde(default)]
    pub acp: Option<AcpSpec>,
}

/// How to run an ACP agent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcpSpec {
    pub cmd: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AgentError {
    /// No agent of that name is configured.
    #[error("unknown agent '{name}' (known: {known}); add it under agents = {{ {name} = {{ cmd = {{...}} }} }}")]
    Unknown { name: String, known: String },
    /// The agent's program is not installed (`program`: said when it is
    /// not the agent's own name; `key`: `cmd`, or `acp.cmd`).
    #[error("{agent} not found on PATH (install it, or set agents.{agent}.{key} to its full path){program}")]
    NotFound {
        agent: String,
        program: String,
        key: &'static str,
    },
    /// The configured program path does not exist or is not executable.
    #[error("{agent}: {program} is not an executable file (check agents.{agent}.{key})")]
    NotExecutable {
        agent: String,
        program: String,
        key: &'static str,
    },
    /// `cmd` was configured as an empty list.
    #[error("agents.{agent}.{key} is empty; give the program and its arguments, e.g. {{ '{agent}' }}")]
    EmptyCommand { agent: String, key: &'static str },
}

#[derive(Debug, Clone)]
pub struct Agents {
    specs: BTreeMap<String, AgentSpec>,
}

impl Default for Agents {
    fn default() -> Self {
        let cmd = |program: &str| AgentSpec {
            cmd: Some(vec![program.to_string()]),
            ..AgentSpec::default()
        };
        let acp = |argv: &[&str]| AgentSpec {
            acp: Some(AcpSpec {
                cmd: argv.iter().map(|a| a.to_string()).collect(),
            }),
            ..AgentSpec::default()
        };
        let specs = BTreeMap::from([
            ("gemini-acp".to_string(), acp(&["gemini", "--acp"])),
            ("claude-acp".to_string(), acp(&["claude-agent-acp"])),
            ("codex-acp".to_string(), acp(&["codex-acp"])),
            ("claude".to_string(), cmd("claude")),
            ("codex".to_string(), cmd("codex")),
            ("gemini".to_string(), cmd("gemini")),
            ("shell".to_string(), AgentSpec::default()),
        ]);
        Agents { specs }
    }
}

/// What to run for one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub argv: Vec<String>,
    /// How many leading `argv` words are the agent's `cmd`: an adapter's own
    /// flags go right after them, before the user's args.
    pub cmd_len: usize,
    pub env: Vec<(String, String)>,
    /// A terminal program, or an ACP agent (run through `lulu acp`).
    pub kind: crate::model::SessionKind,
}

impl Agents {
    /// Built-ins, with the user's entries replacing or adding agents by name.
    pub fn with_overrides(overrides: BTreeMap<String, AgentSpec>) -> Agents {
        let mut agents = Agents::default();
        agents.specs.extend(overrides);
        agents
    }

    /// Agent TUIs take text and Enter in one burst as a paste and do not
    /// submit it (AGENTS.md: Claude Code needs ~0.3 s); a shell needs no pause.
    pub fn submit_delay(&self, agent: &str) -> Duration {
        let spec = self.specs.get(agent);
        let configured = spec.and_then(|spec| spec.submit_delay);
        // A shell, and `lulu acp`, take a line and its Enter at once.
        let plain = agent == "shell" || spec.is_some_and(|spec| spec.acp.is_some());
        let default = if plain { 0 } else { 300 };
        Duration::from_millis(configured.unwrap_or(default))
    }

    /// What kind of session the agent makes (an unknown one: a terminal).
    pub fn kind(&self, agent: &str) -> crate::model::SessionKind {
        match self.specs.get(agent).and_then(|spec| spec.acp.as_ref()) {
            Some(_) => crate::model::SessionKind::Acp,
            None => crate::model::SessionKind::Terminal,
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.specs.keys().map(String::as_str)
    }

    /// Argv and env for `agent` with `extra_args` appended. `path_var` and
    /// `shell_var` are `$PATH` and `$SHELL`, passed in so tests need no globals.
    pub fn resolve(
        &self,
        agent: &str,
        extra_args: &[String],
        path_var: Option<&str>,
        shell_var: Option<&str>,
    ) -> Result<Resolved, AgentError> {
        let spec = self.specs.get(agent).ok_or_else(|| AgentError::Unknown {
            name: agent.to_string(),
            known: self.names().collect::<Vec<_>>().join(", "),
        })?;
        let mut argv = match (&spec.acp, &spec.cmd) {
            (Some(acp), _) => acp.cmd.clone(),
            (None, Some(cmd)) => cmd.clone(),
            (None, None) => vec![default_shell(shell_var)],
        };
        let (kind, key) = match spec.acp {
            Some(_) => (crate::model::SessionKind::Acp, "acp.cmd"),
            None => (crate::model::SessionKind::Terminal, "cmd"),
        };
        let Some(program) = argv.first().cloned() else {
            return Err(AgentError::EmptyCommand {
                agent: agent.to_string(),
                key,
            });
        };
        argv[0] = locate(agent, key, &program, path_var)?.to_string_lossy().into_owned();
        let cmd_len = argv.len();
        argv.extend(spec.args.iter().cloned());
        argv.extend(extra_args.iter().cloned());
        let env = spec.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Ok(Resolved {
            argv,
            cmd_len,
            env,
            kind,
        })
    }
}

fn default_shell(shell_var: Option<&str>) -> String {
    match shell_var {
        Some(shell) if !shell.is_empty() => shell.to_string(),
        _ => "/bin/sh".to_string(),
    }
}

fn locate(agent: &str, key: &'static str, program: &str, path_var: Option<&str>) -> Result<PathBuf, AgentError> {
    if program.contains('/') {
        let path = Path::new(program);
        return if is_executable(path) {
            Ok(path.to_path_buf())
        } else {
            Err(AgentError::NotExecutable {
                agent: agent.to_string(),
                program: program.to_string(),
                key,
            })
        };
    }
    std::env::split_paths(path_var.unwrap_or(""))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| AgentError::NotFound {
            agent: agent.to_string(),
            program: if program == agent {
                String::new()
            } else {
                format!(": its program is {program}")
            },
            key,
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(name: &str, cmd: &[&str], args: &[&str]) -> BTreeMap<String, AgentSpec> {
        BTreeMap::from([(
            name.to_string(),
            AgentSpec {
                cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
                args: args.iter().map(|s| s.to_string()).collect(),
                env: BTreeMap::from([("K".to_string(), "V".to_string())]),
                submit_delay: None,
                acp: None,
            },
        )])
    }

    #[test]
    fn resolves_from_path_with_args_in_order() {
        let agents = Agents::with_overrides(overrides("aider", &["sh", "-x"], &["-c"]));
        let got = agents
            .resolve("aider", &["echo hi".into()], Some("/nonexistent:/bin"), None)
            .unwrap();
        assert_eq!(got.argv, vec!["/bin/sh", "-x", "-c", "echo hi"]);
        assert_eq!(got.env, vec![("K".to_string(), "V".to_string())]);
    }

    #[test]
    fn shell_follows_dollar_shell_then_bin_sh() {
        let agents = Agents::default();
        let got = agents.resolve("shell", &[], Some("/bin"), Some("/bin/bash")).unwrap();
        assert_eq!(got.argv, vec!["/bin/bash"]);
        let got = agents.resolve("shell", &[], Some("/bin"), None).unwrap();
        assert_eq!(got.argv, vec!["/bin/sh"]);
    }

    #[test]
    fn errors_name_the_problem_and_the_fix() {
        let agents = Agents::with_overrides(overrides("empty", &[], &[]));
        let cases = [
            (
                "claude",
                "claude not found on PATH (install it, or set agents.claude.cmd to its full path)",
            ),
            (
                "claude-acp",
                "claude-acp not found on PATH (install it, or set agents.claude-acp.acp.cmd to its full path): its program is claude-agent-acp",
            ),
            (
                "nope",
                "unknown agent 'nope' (known: claude, claude-acp, codex, codex-acp, empty, gemini, gemini-acp, shell)",
            ),
            ("empty", "agents.empty.cmd is empty"),
        ];
        for (agent, want) in cases {
            let err = agents.resolve(agent, &[], Some("/nonexistent"), None).unwrap_err();
            assert!(err.to_string().starts_with(want), "{agent}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "not a program").unwrap();
        let agents = Agents::with_overrides(overrides("x", &[plain.to_str().unwrap()], &[]));
        let err = agents.resolve("x", &[], None, None).unwrap_err();
        assert!(matches!(err, AgentError::NotExecutable { .. }), "{err}");
    }
}

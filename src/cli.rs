//! Subcommand parsing and logging set-up; the work lives elsewhere.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::paths::Dirs;

mod hook;
mod list;
mod serve;
use list::list;
use serve::{daemon, host, return_big_allocations};

#[derive(Parser)]
#[command(name = "lulu", version, about = "Run and steer many AI coding agents from Neovim")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct DirArgs {
    /// Where lulu.db lives [default: $XDG_DATA_HOME/nvim/lulu]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where logs live [default: $XDG_STATE_HOME/nvim/lulu]
    #[arg(long)]
    state_dir: Option<PathBuf>,
}

impl DirArgs {
    fn resolve(self) -> Dirs {
        Dirs::resolve(self.data_dir, self.state_dir)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve msgpack-RPC on stdio (Neovim starts this; not for a terminal).
    Host {
        #[command(flatten)]
        dirs: DirArgs,
    },
    /// Answer an agent's hook: reads its hook JSON on stdin, asks the host,
    /// prints the agent's decision JSON (nothing = no opinion).
    Hook {
        /// The agent whose hook format to speak (claude, codex, gemini).
        agent: String,
    },
    /// Be an ACP session's client: run the agent after `--` and speak the
    /// Agent Client Protocol with it (lulu starts ACP sessions through this).
    #[command(hide = true)]
    Acp {
        /// The session's root: the agent's files stay inside it.
        #[arg(long)]
        root: PathBuf,
        /// The agent's id of a conversation to load.
        #[arg(long)]
        load: Option<String>,
        /// An `execute` call's title is its command (lulu's adapter for
        /// the agent says so).
        #[arg(long)]
        vouch_title: bool,
        #[arg(last = true, required = true)]
        argv: Vec<String>,
    },
    /// Run a new worktree's setup command, then become the agent (the host
    /// starts sessions through this when worktree.setup is set).
    #[command(hide = true)]
    Exec {
        /// The setup argv, as a JSON list.
        #[arg(long)]
        setup: String,
        /// Where to write the failure report.
        #[arg(long)]
        report: PathBuf,
        #[arg(last = true, required = true)]
        argv: Vec<String>,
    },
    /// Join a session's cgroups, set its rlimits, then become the program
    /// (the host starts sessions with `limits` through this).
    #[command(hide = true)]
    LimitsExec {
        #[arg(long)]
        cgroup: Vec<PathBuf>,
        #[arg(long)]
        address_space: Option<u64>,
        #[arg(long)]
        processes: Option<u64>,
        #[arg(last = true, required = true)]
        argv: Vec<String>,
    },
    /// Say how session limits are enforced on this machine.
    #[command(hide = true)]
    LimitsInfo,
    /// Say whether sandboxed sessions work on this machine (exit 1: they
    /// do not, and why).
    #[command(hide = true)]
    SandboxInfo,
    /// Become the program a launch spec names (a pre-warmed shell runs this
    /// to turn into an agent).
    #[command(hide = true)]
    Launch { spec: PathBuf },
    /// Run the host in the background, detached from any editor, so that
    /// sessions outlive Neovim (`host.mode = 'daemon'` starts it itself).
    Daemon {
        #[command(flatten)]
        dirs: DirArgs,
        /// Stop the running daemon (its sessions stop as they do with Neovim).
        #[arg(long, conflicts_with_all = ["status", "foreground"])]
        stop: bool,
        /// Say whether a daemon runs, and where.
        #[arg(long, conflicts_with = "foreground")]
        status: bool,
        /// With --status: one JSON line (running, pid, socket, this
        /// binary's build and version), for the editor.
        #[arg(long, requires = "status")]
        json: bool,
        /// Run in this process instead of detaching (logs still go to the file).
        #[arg(long)]
        foreground: bool,
        /// Join the daemon (starting it if needed) and relay its RPC over
        /// stdin and stdout: what an editor elsewhere runs through ssh.
        #[arg(long, conflicts_with_all = ["stop", "status", "foreground"])]
        stdio: bool,
        /// Exit after this many seconds with no live session and no client.
        #[arg(long, default_value_t = crate::daemon::DEFAULT_IDLE_EXIT)]
        idle_exit: u64,
    },
    /// The editor's link to a daemon on another machine: runs ssh and
    /// passes on only the messages lulu's protocol sends (see `:h lulu-remote`).
    #[command(hide = true)]
    Link {
        /// The host's name in the editor's config (it tags every event).
        #[arg(long)]
        name: String,
        /// ssh's destination (`me@devbox`, or a Host of ~/.ssh/config).
        #[arg(long)]
        dest: String,
        /// The lulu binary on that machine.
        #[arg(long, default_value = "lulu")]
        bin: String,
        /// More arguments for ssh, after `--`.
        #[arg(last = true)]
        ssh_args: Vec<String>,
    },
    /// Start a session in the daemon (starting the daemon if needed).
    Start {
        #[command(flatten)]
        dirs: DirArgs,
        /// claude, codex, gemini, shell or a configured name [default: shell]
        agent: Option<String>,
        /// The session's name [default: a short unique word]
        #[arg(long)]
        name: Option<String>,
        /// Where it starts (its worktree is made from this repository)
        #[arg(long)]
        cwd: Option<PathBuf>,
        /// Arguments for the agent, after `--`
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Stop a session of the daemon (SIGHUP, SIGKILL after 3 s).
    Stop {
        #[command(flatten)]
        dirs: DirArgs,
        session: String,
    },
    /// Type a line into a session of the daemon, then Enter.
    Send {
        #[command(flatten)]
        dirs: DirArgs,
        session: String,
        /// The text (several words are joined by spaces)
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Join this terminal to a session of the daemon; Ctrl-\ d detaches
    /// and leaves it running.
    /// `HOST:NAME` joins a session of the daemon on HOST, through `ssh -t
    /// HOST lulu attach NAME` (`$LULU_REMOTE_BIN` names another remote
    /// binary).
    Attach {
        #[command(flatten)]
        dirs: DirArgs,
        session: String,
        /// Let these kinds of the session's escape sequences reach this
        /// terminal: clipboard (OSC 52 writes), links (OSC 8), title.
        /// Nothing else ever does (queries, modes, other strings).
        #[arg(long, value_name = "KINDS", value_parser = crate::outer::Passthrough::parse)]
        allow: Option<crate::outer::Passthrough>,
    },
    /// Print the sessions (live from the daemon when one runs, else from the
    /// store), newest first.
    List {
        #[command(flatten)]
        dirs: DirArgs,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Only the sessions of this repository (its main worktree).
        #[arg(long)]
        repo: Option<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    return_big_allocations();
    match user_command(Cli::parse().command) {
        Ok(code) => code,
        Err(command) => internal_command(*command),
    }
}

/// The commands a user types (`Err`: one lulu itself runs).
fn user_command(command: Command) -> Result<ExitCode, Box<Command>> {
    Ok(match command {
        Command::Host { dirs } => finish(host(dirs.resolve())),
        Command::Daemon {
            dirs,
            stop,
            status,
            foreground,
            stdio,
            json,
            idle_exit,
        } => finish(daemon_command(
            dirs.resolve(),
            stop,
            status,
            foreground,
            stdio,
            json,
            idle_exit,
        )),
        Command::Link {
            name,
            dest,
            bin,
            ssh_args,
        } => finish(crate::link::run(&name, &dest, &bin, &ssh_args)),
        Command::Start {
            dirs,
            agent,
            name,
            cwd,
            args,
        } => {
            let args = crate::client::StartArgs { agent, name, cwd, args };
            finish(crate::client::run(crate::client::start(&dirs.resolve(), args)))
        }
        Command::Stop { dirs, session } => finish(crate::client::run(crate::client::stop(&dirs.resolve(), &session))),
        Command::Send { dirs, session, text } => finish(crate::client::run(crate::client::send(
            &dirs.resolve(),
            &session,
            &text.join(" "),
        ))),
        Command::Attach { session, .. } if session.contains(':') => remote_attach(&session),
        Command::Attach { dirs, session, allow } => finish(crate::client::run(crate::client::attach(
            &dirs.resolve(),
            &session,
            allow.unwrap_or_default(),
        ))),
        Command::List { dirs, json, repo } => finish(list(&dirs.resolve(), json, repo.as_deref())),
        other => return Err(Box::new(other)),
    })
}

/// The commands lulu runs itself: in a session, for a hook, to set one up.
fn internal_command(command: Command) -> ExitCode {
    match command {
        Command::Exec { setup, report, argv } => setup_then_exec(&setup, &report, &argv),
        Command::Launch { spec } => finish(crate::launch::run(&spec)),
        Command::SandboxInfo => sandbox_info(),
        Command::LimitsInfo => {
            println!("{}", crate::limits::Mechanism::detect().describe());
            ExitCode::SUCCESS
        }
        Command::LimitsExec {
            cgroup,
            address_space,
            processes,
            argv,
        } => limits_exec(&cgroup, address_space, processes, &argv),
        Command::Acp {
            root,
            load,
            vouch_title,
            argv,
        } => acp(crate::acp::Opts {
            root,
            load,
            vouch_title,
            argv,
        }),
        Command::Hook { agent } => {
            let answer = hook::run(&agent, std::io::stdin().lock());
            if !answer.is_empty() {
                println!("{answer}");
            }
            ExitCode::SUCCESS
        }
        // Taken by user_command.
        other => {
            eprintln!(
                "lulu: {} was routed twice (a lulu bug)",
                std::any::type_name_of_val(&other)
            );
            ExitCode::FAILURE
        }
    }
}

/// `lulu daemon` and its flags.
fn daemon_command(
    dirs: Dirs,
    stop: bool,
    status: bool,
    foreground: bool,
    stdio: bool,
    json: bool,
    idle_exit: u64,
) -> anyhow::Result<()> {
    if stdio {
        crate::relay::run(&dirs, idle_exit)
    } else if stop {
        crate::daemon::stop()
    } else if status {
        daemon_status(json)
    } else if foreground {
        daemon(dirs, idle_exit)
    } else {
        crate::daemon::start(&dirs, idle_exit).map(|said| println!("{said}"))
    }
}

/// `lulu acp`: the client's exit code is the session's.
fn acp(opts: crate::acp::Opts) -> ExitCode {
    ExitCode::from(u8::try_from(crate::acp::run(opts)).unwrap_or(1))
}

fn daemon_status(json: bool) -> anyhow::Result<()> {
    if json {
        crate::daemon::status_json()
    } else {
        crate::daemon::status()
    }
}

/// Whether sessions can be sandboxed here, as one line; the exit code says.
fn sandbox_info() -> ExitCode {
    let (line, code) = match crate::sandbox::probe() {
        Ok(line) => (line, ExitCode::SUCCESS),
        Err(line) => (line, ExitCode::from(1)),
    };
    println!("{line}");
    code
}

/// Becomes `argv` within its limits; only returns if that failed.
fn limits_exec(
    cgroup: &[std::path::PathBuf],
    address_space: Option<u64>,
    processes: Option<u64>,
    argv: &[String],
) -> ExitCode {
    let err = crate::limits::exec(cgroup, address_space, processes, argv);
    eprintln!(
        "lulu: cannot start {} within its limits: {err}",
        argv.first().map_or("", String::as_str)
    );
    ExitCode::from(127)
}

/// How a subcommand ended, as the exit code; an error as one line (the
/// editor shows the last line of our stderr).
fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let message = format!("{err:#}").split_whitespace().collect::<Vec<_>>().join(" ");
            eprintln!("lulu: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `lulu attach host:name`: the same command on that host, over ssh.
fn remote_attach(session: &str) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let (host, name) = session.split_once(':').unwrap_or_default();
    let bin = std::env::var("LULU_REMOTE_BIN").unwrap_or_else(|_| "lulu".into());
    // ssh hands the words after the host to the remote shell as one line:
    // each must be plain, and is quoted all the same.
    if let Err(err) = crate::link::check_word("host", host)
        .and_then(|()| crate::link::check_word("session name", name))
        .and_then(|()| crate::link::check_word("remote lulu", &bin))
    {
        eprintln!("lulu: {err}");
        return ExitCode::from(2);
    }
    let err = std::process::Command::new("ssh")
        .args(["-t", "--", host, &format!("'{bin}'"), "attach", &format!("'{name}'")])
        .exec();
    eprintln!("lulu: cannot run ssh: {err}");
    ExitCode::from(127)
}

/// `lulu exec`: a worktree's setup commands, then the agent (exec).
fn setup_then_exec(setup: &str, report: &std::path::Path, argv: &[String]) -> ExitCode {
    let setup: Vec<String> = match serde_json::from_str(setup) {
        Ok(setup) => setup,
        Err(err) => {
            eprintln!("lulu: --setup must be a JSON list of strings: {err}");
            return ExitCode::from(2);
        }
    };
    match crate::worktree::setup::run_then_exec(&setup, report, argv) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(err) => {
            eprintln!("lulu: {err:#}");
            ExitCode::from(127)
        }
    }
}

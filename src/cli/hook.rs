//! `lulu hook <agent>`: what an agent's hook configuration runs. It reads
//! the agent's hook JSON on stdin, asks the host, and prints the agent's
//! decision JSON. Plain std: no async runtime, no database, so it answers in
//! milliseconds on every tool call.
//!
//! Whenever anything goes wrong (not started by lulu, host gone, timeout,
//! refused) it prints nothing and exits 0: the agent then decides as it
//! would without lulu. Never a silent allow: for a Gemini session that lulu
//! runs in yolo mode, where no opinion would let the tool run, a tool hook
//! with no decision answers "ask" (Gemini's own dialog) instead.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use serde_json::Value;

use crate::hook::{ENV_SESSION, ENV_SOCKET, ENV_TIMEOUT, ENV_TOKEN, HookReply, HookRequest};

/// Largest hook input read from the agent.
const MAX_INPUT: u64 = 16 * 1024 * 1024;
/// Without `LULU_HOOK_TIMEOUT`: the default approval timeout plus a margin.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(610);

/// Run the hook; returns what to print (possibly nothing). What the agent
/// asks and how its answer is written are its adapter's.
pub fn run(agent: &str, stdin: impl Read) -> String {
    let adapter = crate::adapter::for_agent(agent);
    let mut event = String::new();
    let result = ask(agent, adapter.hook_events(), stdin, &mut event);
    let fallback = || adapter.undecided(&event).unwrap_or_default();
    match result {
        Ok(Some(reply)) => adapter.render_decision(&event, &reply).unwrap_or_else(fallback),
        Ok(None) => fallback(),
        Err(err) => {
            // The agent shows a hook's stderr only in verbose modes (and
            // Gemini reads it as the answer when stdout is empty).
            let out = fallback();
            if out.is_empty() && !adapter.reads_stderr() {
                eprintln!("lulu hook: {err}");
            }
            out
        }
    }
}

fn ask(agent: &str, events: &[&str], stdin: impl Read, event: &mut String) -> Result<Option<HookReply>, String> {
    let mut raw = String::new();
    stdin
        .take(MAX_INPUT)
        .read_to_string(&mut raw)
        .map_err(|err| format!("cannot read the hook input: {err}"))?;
    let payload: Value = serde_json::from_str(&raw).map_err(|err| format!("hook input is not JSON: {err}"))?;
    *event = payload
        .get("hook_event_name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let (Ok(socket), Ok(session), Ok(token)) = (
        std::env::var(ENV_SOCKET),
        std::env::var(ENV_SESSION),
        std::env::var(ENV_TOKEN),
    ) else {
        // Not a lulu session: no opinion.
        return Ok(None);
    };
    if !events.contains(&event.as_str()) {
        return Ok(None);
    }
    let timeout = std::env::var(ENV_TIMEOUT)
        .ok()
        .and_then(|t| t.parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);

    let mut stream = UnixStream::connect(&socket).map_err(|err| format!("host unreachable at {socket}: {err}"))?;
    stream.set_read_timeout(Some(timeout)).map_err(|err| err.to_string())?;
    let request = HookRequest {
        session,
        token,
        agent: agent.to_string(),
        payload,
    };
    let mut line = serde_json::to_vec(&request).map_err(|err| err.to_string())?;
    line.push(b'\n');
    stream
        .write_all(&line)
        .map_err(|err| format!("cannot ask the host: {err}"))?;
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .map_err(|err| format!("no answer from the host: {err}"))?;
    if answer.is_empty() {
        return Err("the host closed the connection".into());
    }
    let reply: HookReply = serde_json::from_str(&answer).map_err(|err| format!("bad answer from the host: {err}"))?;
    Ok(Some(reply))
}

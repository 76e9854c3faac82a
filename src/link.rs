//! `lulu link`: the editor's way to a lulu daemon on another machine. The
//! editor starts this local lulu (never ssh itself); it runs
//! `ssh -T <dest> '<bin>' daemon --stdio` as argv words (names checked
//! against a plain character set) and stands between the two:
//!
//! - editor → remote: passed on, read only to learn which terminal
//!   channels the editor opened for this host's sessions and which
//!   requests it awaits.
//! - remote → editor: each message is read whole (the RPC framing's bounds)
//!   and passed on only if it is one the lulu protocol sends: an event
//!   (`nvim_exec_lua` of exactly lulu's dispatch line, with a known event
//!   name, tagged with this host's name whatever the remote said), output
//!   for a channel the editor attached to this host (`nvim_chan_send`), or
//!   the answer to a request the editor made. The remote's one request,
//!   the output ping `nvim_get_current_buf`, is answered here.
//!
//! Anything else (another API call such as `nvim_command` or
//! `nvim_exec_lua` with other code, an unknown event, a reply nobody
//! asked for, bytes that are not msgpack, a message over the bounds) ends
//! the link with one line on stderr naming it: the editor marks the host
//! broken, and its local sessions never notice.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use rmpv::Value;

use crate::rpc::DISPATCH;
use crate::rpc::framing::Splitter;
use crate::rpc::protocol::Event;

/// Channels and pending requests the link remembers, at most.
pub const MAX_TRACKED: usize = 4096;
const CHUNK: usize = 64 * 1024;

/// What the link knows of the editor's side.
#[derive(Debug, Default)]
struct Seen {
    /// Terminal channels the editor attached to this host's sessions.
    chans: HashSet<u64>,
    /// Requests the editor sent, awaiting their answers.
    pending: HashSet<u64>,
}

/// A word that goes into ssh's remote command line or names a host: only
/// characters no shell gives a meaning to.
pub fn check_word(what: &str, word: &str) -> anyhow::Result<()> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@' | '/' | ':' | '~' | '%');
    if word.is_empty() || word.starts_with('-') || !word.chars().all(plain) || word.len() > 255 {
        bail!("{what} {word:?} may hold only letters, digits and . _ - + @ / : ~ % (and not start with -)");
    }
    Ok(())
}

/// The ssh argv for `dest`, running `bin daemon --stdio` there.
pub fn ssh_argv(dest: &str, bin: &str, ssh_args: &[String]) -> anyhow::Result<Vec<String>> {
    check_word("host", dest)?;
    check_word("remote lulu", bin)?;
    let mut argv: Vec<String> = [
        "ssh",
        "-T",
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "ServerAliveCountMax=3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.extend(ssh_args.iter().cloned());
    // ssh joins these with spaces for the remote shell: `bin` is checked
    // plain, and quoted all the same (a `~` then stays a name).
    let quoted = match bin.strip_prefix("~/") {
        Some(rest) => format!("~/'{rest}'"),
        None => format!("'{bin}'"),
    };
    argv.extend(["--".into(), dest.into(), quoted, "daemon".into(), "--stdio".into()]);
    Ok(argv)
}

pub fn run(name: &str, dest: &str, bin: &str, ssh_args: &[String]) -> anyhow::Result<()> {
    check_word("host name", name)?;
    let argv = ssh_argv(dest, bin, ssh_args)?;
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot run ssh")?;
    let to_remote = Arc::new(Mutex::new(child.stdin.take().context("ssh's stdin")?));
    let mut from_remote = child.stdout.take().context("ssh's stdout")?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let inbound = {
        let (to_remote, seen) = (to_remote.clone(), seen.clone());
        std::thread::spawn(move || editor_to_remote(&mut std::io::stdin().lock(), &to_remote, &seen))
    };
    let result = remote_to_editor(name, &mut from_remote, &mut std::io::stdout().lock(), &to_remote, &seen);
    let _ = child.kill();
    let _ = child.wait();
    drop(inbound);
    result
}

/// Pass the editor's messages on, noting attaches and requests.
fn editor_to_remote(input: &mut impl Read, out: &Mutex<impl Write>, seen: &Mutex<Seen>) -> anyhow::Result<()> {
    each_read(input, anyhow::Error::msg, |messages| {
        let mut out = out.lock().unwrap_or_else(|p| p.into_inner());
        for message in messages {
            if let Ok(value) = rmpv::decode::read_value(&mut &message[..]) {
                note(&value, &mut seen.lock().unwrap_or_else(|p| p.into_inner()));
            }
            out.write_all(&message)?;
        }
        Ok(out.flush()?)
    })
}

/// Read `input` to its end, handing `on` the whole messages each read
/// completes (bounded by the RPC framing); a stream that breaks a bound
/// ends with `bad`'s error.
fn each_read(
    input: &mut impl Read,
    bad: impl Fn(String) -> anyhow::Error,
    mut on: impl FnMut(Vec<Vec<u8>>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut split = Splitter::default();
    let mut buf = vec![0; CHUNK];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        on(split.feed(&buf[..n]).map_err(&bad)?)?;
    }
}

fn note(value: &Value, seen: &mut Seen) {
    let Some(parts) = value.as_array() else { return };
    let (method, params) = match parts.first().and_then(Value::as_u64) {
        Some(0) => {
            if let Some(id) = parts.get(1).and_then(Value::as_u64)
                && seen.pending.len() < MAX_TRACKED
            {
                seen.pending.insert(id);
            }
            (parts.get(2), parts.get(3))
        }
        Some(2) => (parts.get(1), parts.get(2)),
        _ => return,
    };
    if method.and_then(Value::as_str) == Some(crate::rpc::protocol::SESSION_ATTACH)
        && let Some(chan) = params
            .and_then(Value::as_array)
            .and_then(|p| p.get(1))
            .and_then(Value::as_u64)
        && seen.chans.len() < MAX_TRACKED
    {
        seen.chans.insert(chan);
    }
}

/// Pass on what the protocol sends; end the link at anything else.
fn remote_to_editor(
    name: &str,
    input: &mut impl Read,
    out: &mut impl Write,
    to_remote: &Mutex<impl Write>,
    seen: &Mutex<Seen>,
) -> anyhow::Result<()> {
    let bad = |why: String| anyhow::anyhow!("the remote sent {why}; link closed");
    each_read(input, bad, |messages| {
        for message in messages {
            let value =
                rmpv::decode::read_value(&mut &message[..]).map_err(|_| bad("bytes that are not msgpack".into()))?;
            let verdict = judge(name, value, &mut seen.lock().unwrap_or_else(|p| p.into_inner()));
            let mut bytes = Vec::with_capacity(message.len() + 16);
            match verdict {
                Verdict::Pass(value) => {
                    rmpv::encode::write_value(&mut bytes, &value)?;
                    out.write_all(&bytes)?;
                }
                Verdict::Answer(reply) => {
                    rmpv::encode::write_value(&mut bytes, &reply)?;
                    let mut remote = to_remote.lock().unwrap_or_else(|p| p.into_inner());
                    remote.write_all(&bytes)?;
                    remote.flush()?;
                }
                Verdict::Refuse(why) => return Err(bad(why)),
            }
        }
        Ok(out.flush()?)
    })
}

#[derive(Debug, PartialEq)]
enum Verdict {
    /// Pass this on to the editor.
    Pass(Value),
    /// Answer the remote with this.
    Answer(Value),
    /// Not a message lulu's protocol sends.
    Refuse(String),
}

fn judge(name: &str, value: Value, seen: &mut Seen) -> Verdict {
    let Value::Array(mut parts) = value else {
        return Verdict::Refuse("a message that is not an RPC array".into());
    };
    match (parts.first().and_then(Value::as_u64), parts.len()) {
        // A request: only the output ping, answered here.
        (Some(0), 4) => {
            let method = parts[2].as_str().unwrap_or("?").to_string();
            if method == "nvim_get_current_buf" {
                return Verdict::Answer(Value::Array(vec![1.into(), parts[1].clone(), Value::Nil, 0.into()]));
            }
            Verdict::Refuse(format!("a request {}", shown(&method)))
        }
        // An answer: only to a request the editor made.
        (Some(1), 4) => match parts[1].as_u64() {
            Some(id) if seen.pending.remove(&id) => Verdict::Pass(Value::Array(parts)),
            _ => Verdict::Refuse("an answer to no request".into()),
        },
        (Some(2), 3) => {
            let method = parts[1].as_str().unwrap_or("?").to_string();
            let Value::Array(params) = parts.pop().unwrap_or(Value::Nil) else {
                return Verdict::Refuse(format!("{} without arguments", shown(&method)));
            };
            match method.as_str() {
                "nvim_exec_lua" => event(name, params).map_or_else(Verdict::Refuse, |params| {
                    Verdict::Pass(Value::Array(vec![2.into(), method.into(), Value::Array(params)]))
                }),
                "nvim_chan_send" => match (params.first().and_then(Value::as_u64), params.get(1), params.len()) {
                    (Some(chan), Some(Value::Binary(_) | Value::String(_)), 2) if seen.chans.contains(&chan) => {
                        Verdict::Pass(Value::Array(vec![2.into(), method.into(), Value::Array(params)]))
                    }
                    _ => Verdict::Refuse("output for a channel this host was not given".into()),
                },
                other => Verdict::Refuse(format!("a notification {}", shown(other))),
            }
        }
        _ => Verdict::Refuse("a message that is not an RPC message".into()),
    }
}

/// `nvim_exec_lua(DISPATCH, [event, payload, tag])` with a known event;
/// the tag made this host's name.
fn event(name: &str, params: Vec<Value>) -> Result<Vec<Value>, String> {
    let [code, Value::Array(args)] = &params[..] else {
        return Err("nvim_exec_lua with other arguments".into());
    };
    if code.as_str() != Some(DISPATCH) {
        return Err("nvim_exec_lua with code of its own".into());
    }
    let event = args.first().and_then(Value::as_str).unwrap_or("?");
    if !Event::ALL.iter().any(|e| e.name() == event) || !(2..=3).contains(&args.len()) {
        return Err(format!("an unknown event {}", shown(event)));
    }
    let tagged = vec![args[0].clone(), args[1].clone(), Value::from(name)];
    Ok(vec![code.clone(), Value::Array(tagged)])
}

/// A name from the remote, cut and made printable for the error line.
fn shown(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(60).collect();
    format!("{clean:?}")
}

#[cfg(test)]
mod tests;

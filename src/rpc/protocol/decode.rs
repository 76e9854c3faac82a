//! Requests decoded from msgpack-RPC positional arguments: each method's
//! arity and argument kinds checked, with errors that name the method and
//! the argument.

use rmpv::Value;

use super::args::{Args, is_relative_path, kind, relative_path};
use super::*;
use crate::approval::RuleSpec;
use crate::worktree::Strategy;

/// The methods that take no arguments, and what each asks.
fn bare(method: &str) -> Option<Request> {
    Some(match method {
        SESSION_LIST => Request::List,
        TEMPLATE_LIST => Request::Templates,
        ACTIVITY_LIST => Request::Activity,
        SNAPSHOT_LIST => Request::Snapshots,
        AGENT_INFO => Request::AgentInfo,
        POOL_STATUS => Request::PoolStatus,
        DAEMON_STATUS => Request::DaemonStatus,
        DAEMON_STOP => Request::DaemonStop,
        WORKTREE_USAGE => Request::Usage,
        RULE_LIST => Request::Rules,
        _ => return None,
    })
}

pub fn decode(method: &str, values: Vec<Value>) -> Result<Request, ProtocolError> {
    if method == CALL {
        // Unwrapped by the connection (rpc/handler.rs) when it is a
        // notification; as a request (or nested in one) it is refused.
        return Err(ProtocolError::BadArgument {
            method: method.to_string(),
            what: "call",
            detail: "must be sent as a notification, [ticket, method, args]".into(),
        });
    }
    if let Some(request) = bare(method) {
        Args::expect(method, values, 0, 0, "no arguments")?;
        return Ok(request);
    }
    let mut values = values;
    for group in [terminals, sessions, forge, review, comments, approvals_and_the_rest] {
        if let Some(request) = group(method, &mut values)? {
            return Ok(request);
        }
    }
    Err(ProtocolError::UnknownMethod(method.to_string()))
}

/// A session's own methods: start, get, stop, diff, detail, merge, rebase.
fn sessions(method: &str, values: &mut Vec<Value>) -> Result<Option<Request>, ProtocolError> {
    let mut args = |min, max, want| Args::expect(method, std::mem::take(values), min, max, want);
    Ok(Some(match method {
        HELLO => Request::Hello(Box::new(args(0, 1, "one table")?.options(0)?)),
        SESSION_START => Request::Start(Box::new(args(0, 1, "an options table")?.options(0)?)),
        SESSION_GET => Request::Get(args(1, 1, "(session)")?.session(0)?),
        SESSION_STOP | SESSION_DELETE => {
            let mut a = args(1, 2, "(session[, {force}])")?;
            let session = a.session(0)?;
            let force = a.options::<StopOpts>(1)?.force;
            if method == SESSION_STOP {
                Request::Stop { session, force }
            } else {
                Request::Delete { session, force }
            }
        }
        SESSION_DIFF => Request::Diff(args(1, 1, "(session)")?.session(0)?),
        SESSION_DETAIL => Request::Detail(args(1, 1, "(session)")?.session(0)?),
        SESSION_CHAT => Request::Chat(args(1, 1, "(session)")?.session(0)?),
        SESSION_MERGE => merge(args(1, 3, "(session[, strategy[, {message}]])")?)?,
        SESSION_REBASE => rebase(args(1, 2, "(session[, start|continue|abort])")?)?,
        _ => return Ok(None),
    }))
}

/// A session's branch to its forge: push, a pull request's draft, the request.
fn forge(method: &str, values: &mut Vec<Value>) -> Result<Option<Request>, ProtocolError> {
    let mut args = |min, max, want| Args::expect(method, std::mem::take(values), min, max, want);
    Ok(Some(match method {
        SESSION_PUSH => {
            let mut a = args(1, 2, "(session[, {remote, force}])")?;
            Request::Push {
                session: a.session(0)?,
                opts: a.options(1)?,
            }
        }
        PR_DRAFT => Request::PrDraft(args(1, 1, "(session)")?.session(0)?),
        SESSION_PR => {
            let mut a = args(2, 2, "(session, {title, body[, remote]})")?;
            let session = a.session(0)?;
            let opts: PrOpts = a.options(1)?;
            if opts.title.len() > MAX_COMMIT_MESSAGE || opts.body.len() > MAX_COMMIT_MESSAGE {
                return Err(ProtocolError::BadArgument {
                    method: method.to_string(),
                    what: "options",
                    detail: format!("title and body must each be under {MAX_COMMIT_MESSAGE} bytes"),
                });
            }
            Request::Pr { session, opts }
        }
        _ => return Ok(None),
    }))
}

/// `session_merge(session[, strategy[, {message}]])`.
fn merge(mut a: Args<'_>) -> Result<Request, ProtocolError> {
    let session = a.session(0)?;
    let opts: MergeOpts = a.options(2)?;
    if opts
        .message
        .as_ref()
        .is_some_and(|m| m.trim().is_empty() || m.len() > MAX_COMMIT_MESSAGE)
    {
        return Err(a.bad("message", format!("must be 1 to {MAX_COMMIT_MESSAGE} bytes of text")));
    }
    let strategy = match a.take(1) {
        Value::Nil => Strategy::Merge,
        Value::String(s) => s
            .as_str()
            .and_then(Strategy::parse)
            .ok_or_else(|| a.bad("strategy", "must be merge, squash or rebase"))?,
        other => return Err(a.bad("strategy", format!("must be a string, got {}", kind(&other)))),
    };
    Ok(Request::Merge {
        session,
        strategy,
        message: opts.message,
    })
}

/// `session_rebase(session[, start|continue|abort])`.
fn rebase(mut a: Args<'_>) -> Result<Request, ProtocolError> {
    let session = a.session(0)?;
    let step = match a.take(1) {
        Value::Nil => RebaseStep::Start,
        Value::String(s) => match s.as_str() {
            Some("start") => RebaseStep::Start,
            Some("continue") => RebaseStep::Continue,
            Some("abort") => RebaseStep::Abort,
            _ => return Err(a.bad("step", "must be start, continue or abort")),
        },
        other => return Err(a.bad("step", format!("must be a string, got {}", kind(&other)))),
    };
    Ok(Request::Rebase { session, step })
}

/// What a session's terminals send: keys, text, sizes, attach, screen.
fn terminals(method: &str, values: &mut Vec<Value>) -> Result<Option<Request>, ProtocolError> {
    let mut args = |min, max, want| Args::expect(method, std::mem::take(values), min, max, want);
    Ok(Some(match method {
        SESSION_SEND => {
            let mut a = args(2, 2, "(session, text)")?;
            let session = a.session(0)?;
            let text = a.bytes(1, "text")?;
            let text =
                String::from_utf8(text).map_err(|_| a.bad("text", "is not valid UTF-8; use write for raw bytes"))?;
            Request::Send { session, text }
        }
        SESSION_WRITE => {
            let mut a = args(2, 2, "(session, bytes)")?;
            Request::Write {
                session: a.session(0)?,
                bytes: a.bytes(1, "bytes")?,
            }
        }
        SESSION_RESIZE => {
            let mut a = args(3, 3, "(session, cols, rows)")?;
            let session = a.session(0)?;
            let (cols, rows) = a.size(1)?;
            Request::Resize { session, cols, rows }
        }
        SESSION_ATTACH => attach(args(2, 5, "(session, channel[, cols, rows[, {resume, scrollback}]])")?)?,
        SESSION_DETACH => {
            let mut a = args(2, 2, "(session, channel)")?;
            let session = a.session(0)?;
            let chan = a.int(1, "channel", "1..")?;
            Request::Detach { session, chan }
        }
        SESSION_SCREEN => {
            let mut a = args(1, 2, "(session[, rows])")?;
            let session = a.session(0)?;
            let rows = screen_rows(&mut a)?;
            Request::Screen { session, rows }
        }
        SESSION_WATCH => {
            let mut a = args(0, 2, "([session[, rows]])")?;
            let session = if a.is_nil(0) { None } else { Some(a.session(0)?) };
            let rows = screen_rows(&mut a)?;
            Request::Watch { session, rows }
        }
        _ => return Ok(None),
    }))
}

/// `session_attach(session, channel[, cols, rows[, {resume, scrollback}]])`.
fn attach(mut a: Args<'_>) -> Result<Request, ProtocolError> {
    let session = a.session(0)?;
    let chan = a.int(1, "channel", "1..")?;
    let size = if a.is_nil(2) { None } else { Some(a.size(2)?) };
    let opts = a.options(4)?;
    Ok(Request::Attach {
        session,
        chan,
        size,
        opts,
    })
}

/// The rows of screen asked for (argument 1): at most [`MAX_SCREEN_ROWS`].
fn screen_rows(a: &mut Args<'_>) -> Result<usize, ProtocolError> {
    if a.is_nil(1) {
        return Ok(MAX_SCREEN_ROWS);
    }
    Ok(a.int::<usize>(1, "rows", "1..=500")?.clamp(1, MAX_SCREEN_ROWS))
}

/// Reviewing a session's work: its files, read and written, and their base.
fn review(method: &str, values: &mut Vec<Value>) -> Result<Option<Request>, ProtocolError> {
    let mut args = |min, max, want| Args::expect(method, std::mem::take(values), min, max, want);
    Ok(Some(match method {
        REVIEW_FILES => Request::ReviewFiles(args(1, 1, "(session)")?.session(0)?),
        REVIEW_BASE => {
            let mut a = args(2, 2, "(session, path)")?;
            let session = a.session(0)?;
            let path = relative_path(&mut a, 1)?;
            Request::ReviewBase { session, path }
        }
        REVIEW_READ => {
            let mut a = args(2, 2, "(session, path)")?;
            let session = a.session(0)?;
            let path = relative_path(&mut a, 1)?;
            Request::ReviewRead { session, path }
        }
        REVIEW_WRITE => {
            let mut a = args(3, 3, "(session, path, content)")?;
            let session = a.session(0)?;
            let path = relative_path(&mut a, 1)?;
            let content = a.bytes(2, "content")?;
            if content.len() > MAX_REVIEW_FILE {
                return Err(a.bad("content", "is larger than 4 MiB"));
            }
            Request::ReviewWrite { session, path, content }
        }
        _ => return Ok(None),
    }))
}

/// Review comments on a session's files, and prompt templates.
fn comments(method: &str, values: &mut Vec<Value>) -> Result<Option<Request>, ProtocolError> {
    let mut args = |min, max, want| Args::expect(method, std::mem::take(values), min, max, want);
    Ok(Some(match method {
        COMMENT_ADD => add_comment(args(2, 2, "(session, {path, line, end_line, text})")?)?,
        COMMENT_LIST => Request::Comments(args(1, 1, "(session)")?.session(0)?),
        TEMPLATE_SAVE => save_template(args(2, 2, "(name, template)")?)?,
        COMMENT_CLEAR => Request::ClearComments(args(1, 1, "(session)")?.session(0)?),
        COMMENT_REMOVE => {
            let mut a = args(2, 2, "(session, comment id)")?;
            Request::RemoveComment {
                session: a.session(0)?,
                id: a.int(1, "comment id", "1..")?,
            }
        }
        _ => return Ok(None),
    }))
}

/// `comment_add(session, {path, line, end_line, text})`.
fn add_comment(mut a: Args<'_>) -> Result<Request, ProtocolError> {
    let session = a.session(0)?;
    let opts: CommentOpts = match a.take(1) {
        value @ Value::Map(_) => from_table(value).map_err(|err| a.bad("comment", format!("is invalid: {err}")))?,
        other => return Err(a.bad("comment", format!("must be a table, got {}", kind(&other)))),
    };
    let line = opts.line;
    let end_line = opts.end_line.unwrap_or(line);
    if line < 1 || end_line < line {
        return Err(a.bad("comment", "needs line >= 1 and end_line >= line"));
    }
    if opts.text.trim().is_empty() || opts.text.len() > MAX_COMMENT {
        return Err(a.bad("comment", format!("text must be 1 to {MAX_COMMENT} bytes")));
    }
    if !is_relative_path(&opts.path) {
        return Err(a.bad("comment", "path must be relative to the worktree, without '..'"));
    }
    Ok(Request::AddComment {
        session,
        comment: crate::store::Comment {
            id: 0,
            path: opts.path,
            line,
            end_line,
            text: opts.text,
            created_at: String::new(),
        },
    })
}

/// `template_save(name, template)`.
fn save_template(mut a: Args<'_>) -> Result<Request, ProtocolError> {
    let name = a.session(0)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(a.bad("name", "may hold only letters, digits, '-', '_' and '.'"));
    }
    let spec = match a.take(1) {
        value @ Value::Map(_) => {
            let json = to_json(value).map_err(|err| a.bad("template", err))?;
            serde_json::to_string(&json).map_err(|err| a.bad("template", err.to_string()))?
        }
        other => return Err(a.bad("template", format!("must be a table, got {}", kind(&other)))),
    };
    Ok(Request::SaveTemplate { name, spec })
}

/// Questions and rules, trust, saved sets, pruning.
fn approvals_and_the_rest(method: &str, values: &mut Vec<Value>) -> Result<Option<Request>, ProtocolError> {
    let mut args = |min, max, want| Args::expect(method, std::mem::take(values), min, max, want);
    Ok(Some(match method {
        REPO_TRUST => {
            let mut a = args(1, 1, "(directory)")?;
            let dir =
                String::from_utf8(a.bytes(0, "directory")?).map_err(|_| a.bad("directory", "is not valid UTF-8"))?;
            Request::Trust(dir)
        }
        SNAPSHOT_SAVE => save_snapshot(args(2, 2, "(name, sessions)")?)?,
        SNAPSHOT_GET => Request::Snapshot(args(1, 1, "(name)")?.session(0)?),
        WORKTREE_PRUNE => Request::Prune {
            dry_run: args(0, 1, "([{dry_run}])")?.options::<PruneOpts>(0)?.dry_run,
        },
        APPROVAL_LIST => Request::Approvals(args(0, 1, "([{history, limit}])")?.options(0)?),
        APPROVAL_DECIDE => decide(args(2, 3, "(approval id, decision[, {message, content}])")?)?,
        APPROVAL_REVIEW => Request::Review(args(1, 1, "(approval id)")?.int(0, "approval id", "1..")?),
        RULE_ADD => add_rule(args(1, 2, "(rule[, {index}])")?)?,
        RULE_REMOVE => Request::RemoveRule(args(1, 1, "(rule id)")?.int(0, "rule id", "1..")?),
        RULE_MOVE => {
            let mut a = args(2, 2, "(rule id, index)")?;
            Request::MoveRule {
                rule: a.int(0, "rule id", "1..")?,
                index: a.int(1, "index", "0..")?,
            }
        }
        _ => return Ok(None),
    }))
}

fn save_snapshot(mut a: Args<'_>) -> Result<Request, ProtocolError> {
    let name = a.session(0)?;
    let specs = match a.take(1) {
        value @ Value::Array(_) => {
            let json = to_json(value).map_err(|err| a.bad("sessions", err))?;
            serde_json::to_string(&json).map_err(|err| a.bad("sessions", err.to_string()))?
        }
        other => return Err(a.bad("sessions", format!("must be a list, got {}", kind(&other)))),
    };
    Ok(Request::SaveSnapshot { name, specs })
}

fn decide(mut a: Args<'_>) -> Result<Request, ProtocolError> {
    let approval = a.int(0, "approval id", "1..")?;
    let raw = a.bytes(1, "decision")?;
    let choice = match raw.as_slice() {
        b"allow" => Choice::Allow,
        b"deny" => Choice::Deny,
        b"always_allow" => Choice::AlwaysAllow,
        b"always_deny" => Choice::AlwaysDeny,
        _ => return Err(a.bad("decision", "must be allow, deny, always_allow or always_deny")),
    };
    let opts: DecideOpts = a.options(2)?;
    if opts.message.as_ref().is_some_and(|m| m.len() > MAX_DENY_MESSAGE) {
        return Err(a.bad("message", format!("is longer than {MAX_DENY_MESSAGE} bytes")));
    }
    if opts.message.is_some() && !matches!(choice, Choice::Deny | Choice::AlwaysDeny) {
        return Err(a.bad("message", "goes only with a deny"));
    }
    if opts.content.is_some() && choice != Choice::Allow {
        return Err(a.bad("content", "goes only with allow (once)"));
    }
    Ok(Request::Decide { approval, choice, opts })
}

fn add_rule(mut a: Args<'_>) -> Result<Request, ProtocolError> {
    let spec = match a.take(0) {
        value @ Value::Map(_) => {
            from_table::<RuleSpec>(value).map_err(|err| a.bad("rule", format!("is invalid: {err}")))?
        }
        other => return Err(a.bad("rule", format!("must be a table, got {}", kind(&other)))),
    };
    let index = a.options::<RuleAddOpts>(1)?.index;
    Ok(Request::AddRule {
        spec: Box::new(spec),
        index,
    })
}

//! What the agent asks of its client: permission for a tool call (a lulu
//! question), a file read or write (inside the session at once; outside
//! only when the user allows), and nothing else (refused with an error).
//! What it tells: the conversation's updates and its usage.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::ask;
use super::chat::{self, Entry};
use super::client::{Ask, Asked, Client};
use super::fs;
use super::wire;
use crate::approval::Action;
use crate::hook::HookReply;

impl Client {
    pub(super) fn on_notification(&mut self, method: &str, params: &Value) {
        if method != "session/update" {
            return;
        }
        let Some(update) = params.get("update") else {
            return;
        };
        if update.get("sessionUpdate").and_then(Value::as_str) == Some("usage_update") {
            let cost = update.pointer("/cost/amount").and_then(Value::as_f64);
            let usd = update.pointer("/cost/currency").and_then(Value::as_str) == Some("USD");
            if let Some(cost) = cost.filter(|c| usd && c.is_finite() && *c >= 0.0) {
                self.say(json!({"hook_event_name": "Usage", "cost_usd": cost}));
            }
            return;
        }
        if let Some(entry) = chat::entry_of(update) {
            if let Entry::Tool { id, status, .. } = &entry
                && matches!(status.as_str(), "completed" | "failed")
            {
                self.settle_accepted(id);
            }
            self.push(entry);
        }
    }

    pub(super) fn on_request(&mut self, id: Value, method: &str, params: Value) {
        match method {
            "session/request_permission" => self.permission(id, params),
            "fs/read_text_file" => self.read_file(id, params),
            "fs/write_text_file" => self.write_file(id, params),
            m if m.starts_with("terminal/") => {
                self.note(format!("refused the agent's {m}: lulu runs no terminal for it"));
                let refusal = wire::error(
                    &id,
                    wire::REFUSED,
                    "lulu offers no terminal; run commands with your own tool",
                );
                self.send(&refusal);
            }
            other => {
                let message = format!("lulu does not serve {}", chat::cut(other, 80));
                let refusal = wire::error(&id, wire::NO_METHOD, &message);
                self.send(&refusal);
            }
        }
    }

    fn permission(&mut self, id: Value, params: Value) {
        let fence = &self.fence;
        let question = ask::question(&params, self.vouch_title, |path| fence.read(path, None, None).ok());
        let cwd = ask::cwd_of(
            &question,
            &std::env::current_dir().unwrap_or_else(|_| self.root.clone()),
        );
        let payload = json!({"hook_event_name": "PermissionRequest", "tool_name": question.tool,
            "tool_input": question.input, "tool_use_id": question.call_id, "cwd": cwd});
        self.ask(id, params, Asked::Permission(question), payload);
    }

    fn render_waiting(&self, payload: &Value) {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        let input = payload.get("tool_input");
        let what = [
            input.and_then(|i| i.get("command")),
            input.and_then(|i| i.get("file_path")),
        ]
        .into_iter()
        .find_map(|v| v.and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| text(input.and_then(|i| i.get("title"))));
        let tool = text(payload.get("tool_name"));
        let line = format!("\n  ? {tool} {what}: waiting for your answer in Neovim");
        super::render::show(&super::render::clean(&line));
    }

    /// Ask the host; the answer comes back through the queue.
    fn ask(&mut self, id: Value, params: Value, what: Asked, payload: Value) {
        self.next_ask += 1;
        let key = self.next_ask;
        let opened = if self.asks.len() >= super::client::MAX_ASKS {
            Err(format!("{} questions already wait; ask one at a time", self.asks.len()))
        } else {
            match self.host.as_ref().map(|host| host.open(payload.clone())) {
                Some(Ok(stream)) => Ok(stream),
                Some(Err(err)) => Err(format!("lulu's host cannot be reached: {err}")),
                None => Err("not started by lulu: nobody to ask".to_string()),
            }
        };
        let stream = match opened {
            Ok(stream) => stream,
            Err(why) => {
                let ask = Ask {
                    id,
                    params,
                    what,
                    stream: None,
                };
                self.asks.insert(key, ask);
                return self.on_answer(key, Err(why));
            }
        };
        self.render_waiting(&payload);
        let kept = stream.try_clone().ok();
        super::turns::answered(&self.tx, key, stream);
        self.asks.insert(
            key,
            Ask {
                id,
                params,
                what,
                stream: kept,
            },
        );
    }

    pub(super) fn on_answer(&mut self, key: u64, reply: Result<HookReply, String>) {
        let Some(ask) = self.asks.remove(&key) else {
            return;
        };
        let reply = reply.unwrap_or_else(|why| {
            self.note(format!("no answer ({why}): refused"));
            HookReply::of(Action::Deny, None)
        });
        match ask.what {
            Asked::Permission(question) => self.answer_permission(&ask.id, &ask.params, question, &reply),
            Asked::Read(real, line, limit) if reply.decision == Action::Allow => {
                let read = fs::read_allowed(&real, line, limit);
                self.reply_read(&ask.id, read);
            }
            Asked::Write(real, content) if reply.decision == Action::Allow => {
                let written = fs::write_allowed(&real, &content).map(|_| Value::Null);
                self.reply_fs(&ask.id, written.map_err(|e| e.to_string()));
            }
            Asked::Read(real, ..) | Asked::Write(real, _) => {
                let why = format!("the user did not allow {}", real.display());
                self.reply_fs(&ask.id, Err(why));
            }
        }
    }

    fn answer_permission(&mut self, id: &Value, params: &Value, question: ask::Question, reply: &HookReply) {
        if reply.decision == Action::Allow
            && let Some((path, content)) = question.edit
        {
            let chosen = reply
                .updated_input
                .as_ref()
                .and_then(|input| input.get("content"))
                .and_then(Value::as_str)
                .map_or(content, str::to_string);
            // Pinned by where it is (an edit outside the root is the
            // agent's own to write, as the user allowed it).
            if let Ok(rel) = self.fence.below(&path) {
                self.accepted.insert(rel, (question.call_id.clone(), chosen));
            }
        }
        if reply.decision != Action::Allow {
            let why = reply.reason.as_deref().unwrap_or("no reason given");
            self.note(format!("denied {} {}: {why}", question.tool, question.title));
            // ACP has no field for why: a reason the user (or a rule) gave
            // goes to the model as the next prompt, once per prompt of theirs.
            if let Some(reason) = reply
                .reason
                .as_ref()
                .filter(|r| r.as_str() != crate::hook::DENIED_BY_USER)
                && !self.told_why
            {
                self.told_why = true;
                let told = format!("lulu: the user denied `{}`: {reason}", question.title);
                self.prompts.push_front(told);
            }
        }
        let result = wire::result(id, ask::outcome(params, reply));
        self.send(&result);
    }

    /// Withdraw every question waiting: the turn was cancelled.
    pub(super) fn cancel_asks(&mut self) {
        for (_, ask) in std::mem::take(&mut self.asks) {
            if let Some(stream) = &ask.stream {
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
            let answer = match ask.what {
                Asked::Permission(_) => wire::result(&ask.id, json!({"outcome": {"outcome": "cancelled"}})),
                _ => wire::error(&ask.id, wire::REFUSED, "cancelled"),
            };
            self.send(&answer);
        }
    }

    fn read_file(&mut self, id: Value, params: Value) {
        let path = params.get("path").and_then(Value::as_str).unwrap_or("").to_string();
        let number = |key: &str| params.get(key).and_then(Value::as_u64);
        let (line, limit) = (number("line"), number("limit"));
        match self.fence.read(&path, line, limit) {
            Err(fs::FsError::Outside(_)) => {
                let real = where_it_leads(&path);
                let payload = outside_question("read", &real, None);
                self.ask(id, params, Asked::Read(real, line, limit), payload);
            }
            read => self.reply_read(&id, read),
        }
    }

    fn write_file(&mut self, id: Value, params: Value) {
        let path = params.get("path").and_then(Value::as_str).unwrap_or("").to_string();
        let mut content = params.get("content").and_then(Value::as_str).unwrap_or("").to_string();
        // The user's reviewed version, not the agent's, while its call runs.
        if let Some((_, accepted)) = self.fence.below(&path).ok().and_then(|rel| self.accepted.get(&rel)) {
            content = accepted.clone();
        }
        match self.fence.write(&path, &content) {
            Err(fs::FsError::Outside(_)) => {
                let real = where_it_leads(&path);
                let payload = outside_question("edit", &real, Some(&content));
                self.ask(id, params, Asked::Write(real, content), payload);
            }
            written => self.reply_fs(&id, written.map(|_| Value::Null).map_err(|e| e.to_string())),
        }
    }

    fn reply_read(&mut self, id: &Value, read: Result<String, fs::FsError>) {
        match read {
            Ok(content) => self.reply_fs(id, Ok(json!({"content": content}))),
            // A missing file is an answer, not a refusal (the agent may be
            // about to make it).
            Err(err @ fs::FsError::Missing(_)) => {
                let message = wire::error(id, err.code(), &err.to_string());
                self.send(&message);
            }
            Err(err) => self.reply_fs(id, Err(err.to_string())),
        }
    }

    fn reply_fs(&mut self, id: &Value, outcome: Result<Value, String>) {
        let message = match outcome {
            Ok(result) => wire::result(id, result),
            Err(why) => {
                self.note(format!("refused a file request: {why}"));
                wire::error(id, wire::REFUSED, &why)
            }
        };
        self.send(&message);
    }

    /// A reviewed edit's call is over: the pin goes, and if the agent
    /// never wrote through lulu, the user's version is written now.
    fn settle_accepted(&mut self, call: &str) {
        let pinned: Vec<PathBuf> = self
            .accepted
            .iter()
            .filter(|(_, (id, _))| id == call)
            .map(|(rel, _)| rel.clone())
            .collect();
        for rel in pinned {
            let Some((_, content)) = self.accepted.remove(&rel) else {
                continue;
            };
            let path = self.root.join(&rel).to_string_lossy().into_owned();
            if self.fence.read(&path, None, None).ok().as_deref() == Some(content.as_str()) {
                continue;
            }
            match self.fence.write(&path, &content) {
                Ok(()) => self.note(format!("wrote your reviewed version of {path}")),
                Err(err) => self.note(format!("could not write your reviewed version: {err}")),
            }
        }
    }
}

/// Where a path outside leads, as the question names it (the file's own
/// name kept: a link there is not followed when served).
fn where_it_leads(raw: &str) -> PathBuf {
    let path = Path::new(raw);
    match (path.parent().and_then(|p| p.canonicalize().ok()), path.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// A file request outside the session, as a question the rules judge.
fn outside_question(tool: &str, real: &Path, content: Option<&str>) -> Value {
    let mut input = json!({"file_path": real});
    if let Some(content) = content {
        input["content"] = json!(content);
    }
    json!({"hook_event_name": "PermissionRequest", "tool_name": tool, "tool_input": input,
           "cwd": std::env::current_dir().unwrap_or_default()})
}

//! What an agent session has cost: read its transcript JSONL a piece at a
//! time (a tail, never a re-read), count each model response once, keep
//! the tokens by model ([`Usage`]) and price them when asked, so a changed
//! table re-prices what was counted. Pure: the supervisor feeds it bytes.
//!
//! Claude Code: streaming writes one line per content block, repeating the
//! same `message.id` and usage, so a message counts once per
//! `message.id + requestId`; its own figures win over the table (a line's
//! `costUSD` in older builds, the cumulative `cost-state` line in 2.1.3xx).
//! Codex: its rollout file has one `token_usage_record` per response (keyed
//! by `response_id`), priced by the model of the latest `turn_context`;
//! its `input_tokens` include the cached ones.
//! Gemini: its chat file has one line per message, and writes a message
//! again as it changes (tool calls added), so the last line of an `id`
//! stands; `input` includes `cached` and `tool`, thoughts bill as output.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

mod prices;
pub use prices::{Price, Prices};

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_write: u64,
    pub cache_read: u64,
}

impl Tokens {
    fn add(&mut self, other: Tokens) {
        self.input += other.input;
        self.output += other.output;
        self.cache_write += other.cache_write;
        self.cache_read += other.cache_read;
    }

    fn sub(&mut self, other: Tokens) {
        self.input = self.input.saturating_sub(other.input);
        self.output = self.output.saturating_sub(other.output);
        self.cache_write = self.cache_write.saturating_sub(other.cache_write);
        self.cache_read = self.cache_read.saturating_sub(other.cache_read);
    }

    fn priced(&self, price: Price) -> f64 {
        (self.input as f64 * price.input
            + self.output as f64 * price.output
            + self.cache_write as f64 * price.cache_write
            + self.cache_read as f64 * price.cache_read)
            / 1_000_000.0
    }
}

/// What a session's agent used, by model: kept with the session and
/// priced when shown, so a changed price table re-prices it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Every token counted, by model.
    #[serde(default)]
    pub models: BTreeMap<String, Tokens>,
    /// Of those, the tokens the agent priced itself (Claude Code's own
    /// figures), and what it said they cost: these are not re-priced.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub own_tokens: BTreeMap<String, Tokens>,
    #[serde(default)]
    pub own_usd: f64,
}

/// A [`Usage`] priced by a table.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cost {
    /// USD; `None` when tokens were counted but none could be priced (no
    /// cost rather than a false `$0`).
    pub usd: Option<f64>,
    /// Tokens of models with no price: counted, not priced.
    pub unpriced: Tokens,
}

impl Usage {
    pub fn tokens(&self) -> Tokens {
        let mut total = Tokens::default();
        for tokens in self.models.values() {
            total.add(*tokens);
        }
        total
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty() && self.own_usd == 0.0
    }

    pub fn cost(&self, prices: &Prices) -> Cost {
        let mut usd = self.own_usd;
        let mut priced_any = self.own_usd > 0.0 || !self.own_tokens.is_empty();
        let mut unpriced = Tokens::default();
        for (model, tokens) in &self.models {
            let mut rest = *tokens;
            if let Some(own) = self.own_tokens.get(model) {
                rest.sub(*own);
            }
            if rest == Tokens::default() {
                continue;
            }
            match prices.for_model(model) {
                Some(price) => {
                    usd += rest.priced(price);
                    priced_any = true;
                }
                None => unpriced.add(rest),
            }
        }
        let usd = (priced_any || self.models.is_empty()).then_some(usd);
        Cost { usd, unpriced }
    }

    fn count(&mut self, model: &str, tokens: Tokens, own_cost: Option<f64>) {
        self.models.entry(model.to_string()).or_default().add(tokens);
        if let Some(cost) = own_cost {
            self.own_usd += cost;
            self.own_tokens.entry(model.to_string()).or_default().add(tokens);
        }
    }

    fn uncount(&mut self, model: &str, tokens: Tokens) {
        if let Some(counted) = self.models.get_mut(model) {
            counted.sub(tokens);
        }
    }
}

/// Whose transcript format a [`Tally`] reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Claude,
    Codex,
    Gemini,
}

/// The running total of one transcript.
#[derive(Debug, Default)]
pub struct Tally {
    format: Format,
    /// Codex: the model of the latest turn, which prices what follows.
    model: Option<String>,
    seen: HashSet<String>,
    /// Gemini: what each message id was last counted as, to replace it.
    counted: HashMap<String, (String, Tokens)>,
    pub usage: Usage,
    /// The agent's id of the conversation the transcript is of (what its
    /// resume takes): Claude's `sessionId`, Codex's session id, Gemini's
    /// `sessionId`.
    pub conversation: Option<String>,
    /// Lines that did not parse (including a truncated last line, once the
    /// transcript is known to be complete).
    pub malformed: u64,
    /// Bytes of the transcript consumed so far (the next read starts here).
    pub offset: u64,
    pending: Vec<u8>,
}

impl Tally {
    pub fn new(format: Format) -> Tally {
        Tally {
            format,
            ..Tally::default()
        }
    }

    /// Feed the bytes that followed `offset`. A trailing partial line is
    /// kept until its newline arrives.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.offset += bytes.len() as u64;
        self.pending.extend_from_slice(bytes);
        let Some(last_newline) = self.pending.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        let complete: Vec<u8> = self.pending.drain(..=last_newline).collect();
        for line in complete.split(|&b| b == b'\n') {
            if !line.iter().all(u8::is_ascii_whitespace) {
                self.line(line);
            }
        }
    }

    /// The transcript is complete: a leftover partial line is malformed.
    pub fn finish(&mut self) {
        if !self.pending.iter().all(u8::is_ascii_whitespace) {
            self.malformed += 1;
        }
        self.pending.clear();
    }

    pub fn tokens(&self) -> Tokens {
        self.usage.tokens()
    }

    fn line(&mut self, line: &[u8]) {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) else {
            self.malformed += 1;
            return;
        };
        match self.format {
            Format::Claude => self.claude_line(&value),
            Format::Codex => self.codex_line(&value),
            Format::Gemini => self.gemini_line(&value),
        }
    }

    /// Take `id` as the conversation's, if it is one.
    fn conversation_is(&mut self, id: Option<&serde_json::Value>) {
        if let Some(id) = id.and_then(|v| v.as_str())
            && is_conversation_id(id)
            && self.conversation.as_deref() != Some(id)
        {
            self.conversation = Some(id.to_string());
        }
    }

    fn gemini_line(&mut self, value: &serde_json::Value) {
        // The file's first line, or a `$set` that names it again.
        self.conversation_is(value.get("sessionId").or_else(|| value["$set"].get("sessionId")));
        let usage = &value["tokens"];
        if value.get("type").and_then(|t| t.as_str()) != Some("gemini") || !usage.is_object() {
            return;
        }
        let count = |key: &str| usage.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
        let cached = count("cached");
        let tokens = Tokens {
            input: count("input").saturating_sub(cached) + count("tool"),
            output: count("output") + count("thoughts"),
            cache_write: 0,
            cache_read: cached,
        };
        let model = value
            .get("model")
            .and_then(|m| m.as_str())
            .unwrap_or("unknown")
            .to_string();
        let id = value.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        if !id.is_empty()
            && let Some((model, tokens)) = self.counted.insert(id, (model.clone(), tokens))
        {
            self.usage.uncount(&model, tokens);
        }
        self.usage.count(&model, tokens, None);
    }

    fn claude_line(&mut self, value: &serde_json::Value) {
        self.conversation_is(value.get("sessionId"));
        if value.get("type").and_then(|t| t.as_str()) == Some("cost-state") {
            return self.claude_cost_state(value);
        }
        let Some(message) = value.get("message") else {
            return;
        };
        let Some(usage) = message.get("usage") else {
            return;
        };
        let id = message.get("id").and_then(|v| v.as_str()).unwrap_or_default();
        let request = value.get("requestId").and_then(|v| v.as_str()).unwrap_or_default();
        if !id.is_empty() && !self.seen.insert(format!("{id}:{request}")) {
            return;
        }
        let count = |key: &str| usage.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
        let tokens = Tokens {
            input: count("input_tokens"),
            output: count("output_tokens"),
            cache_write: count("cache_creation_input_tokens"),
            cache_read: count("cache_read_input_tokens"),
        };
        let model = message.get("model").and_then(|v| v.as_str()).unwrap_or("unknown");
        let own_cost = value.get("costUSD").and_then(|v| v.as_f64());
        self.usage.count(model, tokens, own_cost);
    }

    /// Claude Code's own running total for the conversation (2.1.3xx
    /// writes one after turns, cumulative, also across `--resume`): it
    /// prices every token counted so far; later ones go by the table until
    /// the next. A total that says a model's price was unknown is not used.
    fn claude_cost_state(&mut self, value: &serde_json::Value) {
        let Some(total) = value.get("totalCostUSD").and_then(|v| v.as_f64()) else {
            return;
        };
        if value.get("hasUnknownModelCost").and_then(|v| v.as_bool()) == Some(true) || !total.is_finite() || total < 0.0
        {
            return;
        }
        self.usage.own_usd = total;
        self.usage.own_tokens = self.usage.models.clone();
    }

    fn codex_line(&mut self, value: &serde_json::Value) {
        let payload = &value["payload"];
        match value.get("type").and_then(|t| t.as_str()) {
            Some("session_meta") => self.conversation_is(payload.get("id")),
            Some("turn_context") => {
                if let Some(model) = payload.get("model").and_then(|m| m.as_str()) {
                    self.model = Some(model.to_string());
                }
            }
            Some("token_usage_record") => {
                let usage = &payload["usage"];
                let id = payload.get("response_id").and_then(|v| v.as_str()).unwrap_or_default();
                if usage.is_null() || (!id.is_empty() && !self.seen.insert(id.to_string())) {
                    return;
                }
                let count = |key: &str| usage.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
                let cached = count("cached_input_tokens");
                let tokens = Tokens {
                    input: count("input_tokens").saturating_sub(cached),
                    output: count("output_tokens"),
                    cache_write: count("cache_write_input_tokens"),
                    cache_read: cached,
                };
                let model = self.model.clone().unwrap_or_else(|| "unknown".to_string());
                self.usage.count(&model, tokens, None);
            }
            _ => {}
        }
    }
}

/// An id an agent's resume flag may be given: short, and only letters,
/// digits, `-`, `_` and `.` (a transcript is the agent's to write, and
/// what it says becomes an argv word).
pub fn is_conversation_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && !id.starts_with(['-', '.'])
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests;

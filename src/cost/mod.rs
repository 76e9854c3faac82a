//! What an agent session has cost: read its transcript JSONL a piece at a
//! time (a tail, never a re-read), count each model response once, price
//! tokens by model. Pure: the supervisor feeds it bytes.
//!
//! Claude Code: streaming writes one line per content block, repeating the
//! same `message.id` and usage, so a message counts once per
//! `message.id + requestId`; a line's own `costUSD` wins over the table.
//! Codex: its rollout file has one `token_usage_record` per response (keyed
//! by `response_id`), priced by the model of the latest `turn_context`;
//! its `input_tokens` include the cached ones.
//! Gemini: its chat file has one line per message, and writes a message
//! again as it changes (tool calls added), so the last line of an `id`
//! stands; `input` includes `cached` and `tool`, thoughts bill as output.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cache_write: f64,
    pub cache_read: f64,
}

/// Prices by model-name prefix; the longest matching prefix wins.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices(BTreeMap<String, Price>);

impl Default for Prices {
    /// Published list prices (per million tokens) for the model families
    /// the wired agents use; `cost.prices` overrides or adds.
    fn default() -> Self {
        let p = |input: f64, output: f64| Price {
            input,
            output,
            cache_write: input * 1.25,
            cache_read: input * 0.1,
        };
        let no_cache_writes = |input: f64, output: f64| Price {
            cache_write: 0.0,
            ..p(input, output)
        };
        Prices(BTreeMap::from([
            ("claude-opus-4".to_string(), p(15.0, 75.0)),
            ("claude-opus-4-5".to_string(), p(5.0, 25.0)),
            ("claude-sonnet-4".to_string(), p(3.0, 15.0)),
            ("claude-3-7-sonnet".to_string(), p(3.0, 15.0)),
            ("claude-3-5-sonnet".to_string(), p(3.0, 15.0)),
            ("claude-haiku-4-5".to_string(), p(1.0, 5.0)),
            ("claude-3-5-haiku".to_string(), p(0.8, 4.0)),
            // Google's list prices (prompts up to 200k tokens); Google bills
            // cache storage by the hour instead of cache writes.
            ("gemini-2.5-pro".to_string(), no_cache_writes(1.25, 10.0)),
            ("gemini-2.5-flash".to_string(), no_cache_writes(0.3, 2.5)),
            ("gemini-2.5-flash-lite".to_string(), no_cache_writes(0.1, 0.4)),
            // OpenAI bills no cache writes; cached input is 10% of input.
            ("gpt-5".to_string(), no_cache_writes(1.25, 10.0)),
        ]))
    }
}

impl Prices {
    pub fn with_overrides(overrides: BTreeMap<String, Price>) -> Prices {
        let mut prices = Prices::default();
        prices.0.extend(overrides);
        prices
    }

    pub fn for_model(&self, model: &str) -> Option<Price> {
        self.0
            .iter()
            .filter(|(prefix, _)| model.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, price)| *price)
    }
}

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
    pub by_model: BTreeMap<String, Tokens>,
    pub cost_usd: f64,
    /// Tokens of models with no price: counted, not priced.
    pub unpriced: Tokens,
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
    pub fn feed(&mut self, bytes: &[u8], prices: &Prices) {
        self.offset += bytes.len() as u64;
        self.pending.extend_from_slice(bytes);
        let Some(last_newline) = self.pending.iter().rposition(|&b| b == b'\n') else {
            return;
        };
        let complete: Vec<u8> = self.pending.drain(..=last_newline).collect();
        for line in complete.split(|&b| b == b'\n') {
            if !line.iter().all(u8::is_ascii_whitespace) {
                self.line(line, prices);
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
        let mut total = self.unpriced;
        for tokens in self.by_model.values() {
            total.add(*tokens);
        }
        total
    }

    fn line(&mut self, line: &[u8], prices: &Prices) {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) else {
            self.malformed += 1;
            return;
        };
        match self.format {
            Format::Claude => self.claude_line(&value, prices),
            Format::Codex => self.codex_line(&value, prices),
            Format::Gemini => self.gemini_line(&value, prices),
        }
    }

    fn gemini_line(&mut self, value: &serde_json::Value, prices: &Prices) {
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
            self.uncount(&model, tokens, prices);
        }
        self.count(&model, tokens, None, prices);
    }

    fn claude_line(&mut self, value: &serde_json::Value, prices: &Prices) {
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
        self.count(model, tokens, own_cost, prices);
    }

    fn codex_line(&mut self, value: &serde_json::Value, prices: &Prices) {
        let payload = &value["payload"];
        match value.get("type").and_then(|t| t.as_str()) {
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
                self.count(&model, tokens, None, prices);
            }
            _ => {}
        }
    }

    /// Take back what [`Tally::count`] added for a line with no own cost.
    fn uncount(&mut self, model: &str, tokens: Tokens, prices: &Prices) {
        match prices.for_model(model) {
            Some(price) => {
                self.cost_usd -= tokens.priced(price);
                if let Some(counted) = self.by_model.get_mut(model) {
                    counted.sub(tokens);
                }
            }
            None => self.unpriced.sub(tokens),
        }
    }

    fn count(&mut self, model: &str, tokens: Tokens, own_cost: Option<f64>, prices: &Prices) {
        if let Some(cost) = own_cost {
            self.cost_usd += cost;
        } else if let Some(price) = prices.for_model(model) {
            self.cost_usd += tokens.priced(price);
        } else {
            self.unpriced.add(tokens);
            return;
        }
        self.by_model.entry(model.to_string()).or_default().add(tokens);
    }
}

#[cfg(test)]
mod tests;

//! The RPC surface, where `rmpv::Value` is met: method name plus arguments
//! in, a typed [`Request`] (of [`crate::api`]) out, every argument checked,
//! never indexed blindly; and replies and events back to values.
//!
//! The method table here is mirrored in `lua/lulu/rpc.lua`.

use rmpv::Value;
use serde::Serialize;
use serde::de::DeserializeOwned;

mod args;
mod call;
mod decode;
mod names;

pub use crate::api::{Event, Request, opts::*};
pub use call::{BadCall, Call, call};
pub use decode::decode;
pub use names::*;

/// Most rows of screen one `session_screen` answers with.
const MAX_SCREEN_ROWS: usize = 500;

/// Longest session reference (name or id) accepted.
const MAX_REF: usize = 256;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProtocolError {
    #[error("unknown method '{0}'")]
    UnknownMethod(String),
    #[error("{method} takes {want}, got {got} argument(s)")]
    Arity {
        method: String,
        want: &'static str,
        got: usize,
    },
    #[error("{method}: {what} {detail}")]
    BadArgument {
        method: String,
        what: &'static str,
        detail: String,
    },
}

/// Codes carried in error replies, `[code, message]`. They are Neovim's own
/// error types: it shows the message for these two and "unknown error" for
/// any other code.
#[derive(Debug, Clone, Copy)]
pub enum ErrorCode {
    /// The request was understood but could not be carried out.
    Failed = 0,
    /// The request itself is malformed.
    BadRequest = 1,
}

pub fn error_value(code: ErrorCode, message: &str) -> Value {
    Value::Array(vec![Value::from(code as i64), Value::from(message)])
}

/// Decode a table through JSON, for the same reason replies are encoded
/// that way: rmpv's serde support expects enums and structs as arrays.
fn from_table<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    let json = to_json(value)?;
    serde_json::from_value(json).map_err(|err| err.to_string())
}

/// Text must be UTF-8: a name or a path that is not would be silently
/// rewritten otherwise.
fn to_json(value: Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    let text = |s: rmpv::Utf8String| {
        s.into_str()
            .ok_or_else(|| "they hold text that is not valid UTF-8".to_string())
    };
    Ok(match value {
        Value::Nil => J::Null,
        Value::Boolean(b) => J::Bool(b),
        Value::Integer(n) => n
            .as_i64()
            .map(J::from)
            .or_else(|| n.as_u64().map(J::from))
            .unwrap_or(J::Null),
        Value::F32(f) => J::from(f64::from(f)),
        Value::F64(f) => J::from(f),
        Value::String(s) => J::String(text(s)?),
        Value::Binary(b) => {
            J::String(String::from_utf8(b).map_err(|_| "they hold bytes that are not valid UTF-8".to_string())?)
        }
        Value::Array(items) => J::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Map(pairs) => J::Object(
            pairs
                .into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(s) => text(s)?,
                        other => other.to_string(),
                    };
                    Ok((key, to_json(v)?))
                })
                .collect::<Result<_, String>>()?,
        ),
        Value::Ext(..) => return Err("they hold an extension value".to_string()),
    })
}

/// Encode a reply. Through JSON on purpose: rmpv's own serializer writes
/// structs as arrays, and the Lua side wants tables with keys.
pub fn to_value<T: Serialize>(value: &T) -> Value {
    match serde_json::to_value(value) {
        Ok(json) => from_json(json),
        Err(err) => {
            tracing::error!(%err, "reply did not encode");
            Value::Nil
        }
    }
}

/// Encode what the core answered or tells.
pub fn from_payload(payload: crate::api::Payload) -> Value {
    from_json(payload.into_inner())
}

fn from_json(json: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Boolean(b),
        J::Number(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_u64().map(Value::from))
            .unwrap_or_else(|| Value::F64(n.as_f64().unwrap_or(0.0))),
        J::String(s) => Value::from(s),
        J::Array(items) => Value::Array(items.into_iter().map(from_json).collect()),
        J::Object(map) => Value::Map(map.into_iter().map(|(k, v)| (Value::from(k), from_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests;

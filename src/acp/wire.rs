//! JSON-RPC 2.0 as ACP carries it: one JSON object per line. Every line the
//! agent writes is hostile: a line past [`MAX_LINE`] is dropped whole (read
//! to its end, never held), anything that is not a well-formed message is
//! [`Incoming::Malformed`], and ids lulu did not give are left unanswered.

use std::io::{BufRead, Write};

use serde_json::{Map, Value, json};

/// Longest line read from the agent (a file's content travels in one).
pub const MAX_LINE: usize = 8 * 1024 * 1024;

/// One message from the agent.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// It asks the client something; answer with the same id.
    Request { id: Value, method: String, params: Value },
    /// It tells the client something.
    Notification { method: String, params: Value },
    /// Its answer to the client's request `id`.
    Response { id: u64, outcome: Result<Value, String> },
    /// A line that is no message (or a response to no request of ours).
    Malformed(String),
    /// A line longer than [`MAX_LINE`], dropped.
    TooLong(usize),
}

impl Incoming {
    /// Read one message from a line (without its newline).
    pub fn parse(line: &[u8]) -> Incoming {
        let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(line) else {
            return Incoming::Malformed(excerpt(line));
        };
        if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Incoming::Malformed("no \"jsonrpc\": \"2.0\"".into());
        }
        let id = object.remove("id");
        let params = object.remove("params").unwrap_or(Value::Null);
        match (object.remove("method"), id) {
            (Some(Value::String(method)), Some(id)) if valid_id(&id) => Incoming::Request { id, method, params },
            (Some(Value::String(method)), None) => Incoming::Notification { method, params },
            (Some(_), _) => Incoming::Malformed("a method that is not a string, or a bad id".into()),
            (None, Some(id)) => response(id, object),
            (None, None) => Incoming::Malformed("neither a method nor an id".into()),
        }
    }
}

/// Request ids are numbers or strings (JSON-RPC 2.0); null is none.
fn valid_id(id: &Value) -> bool {
    matches!(id, Value::Number(_) | Value::String(_))
}

fn response(id: Value, mut object: Map<String, Value>) -> Incoming {
    // The client numbers its requests; another id answers nothing asked.
    let Some(id) = id.as_u64() else {
        return Incoming::Malformed("a response to an id lulu never sent".into());
    };
    let outcome = match (object.remove("result"), object.remove("error")) {
        (Some(result), None) => Ok(result),
        (None, Some(error)) => Err(error_text(&error)),
        _ => return Incoming::Malformed("a response with neither (or both) result and error".into()),
    };
    Incoming::Response { id, outcome }
}

/// An error's message, with its `data.details` when it has them (short).
fn error_text(error: &Value) -> String {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("an error with no message");
    let details = error.pointer("/data/details").and_then(Value::as_str);
    let text = match details {
        Some(details) if !details.is_empty() => format!("{message}: {details}"),
        _ => message.to_string(),
    };
    text.chars().take(300).collect()
}

fn excerpt(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(80)]);
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("not JSON-RPC: {clean:?}")
}

/// Read the next line, at most [`MAX_LINE`] bytes kept; `None` at the end.
pub fn read_line(from: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Option<Incoming>> {
    buf.clear();
    let mut dropped = 0usize;
    loop {
        let chunk = from.fill_buf()?;
        if chunk.is_empty() {
            return Ok((!buf.is_empty() || dropped > 0).then(|| finish(buf, dropped)));
        }
        let (part, found) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (&chunk[..at], Some(at + 1)),
            None => (chunk, None),
        };
        if dropped > 0 || buf.len() + part.len() > MAX_LINE {
            dropped += buf.len() + part.len();
            buf.clear();
        } else {
            buf.extend_from_slice(part);
        }
        let used = found.unwrap_or(chunk.len());
        from.consume(used);
        if found.is_some() {
            return Ok(Some(finish(buf, dropped)));
        }
    }
}

fn finish(buf: &[u8], dropped: usize) -> Incoming {
    if dropped > 0 {
        return Incoming::TooLong(dropped);
    }
    let line = buf.strip_suffix(b"\r").unwrap_or(buf);
    Incoming::parse(line)
}

/// Write one message as a line.
pub fn send(to: &mut impl Write, message: &Value) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(message)?;
    line.push(b'\n');
    to.write_all(&line)?;
    to.flush()
}

pub fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

pub fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

pub fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// JSON-RPC's "method not found".
pub const NO_METHOD: i64 = -32601;
/// JSON-RPC's "invalid params".
pub const BAD_PARAMS: i64 = -32602;
/// A request lulu refuses (outside the session, too large, not allowed).
pub const REFUSED: i64 = -32000;

pub fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<Incoming> {
        let mut reader = std::io::BufReader::with_capacity(16, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(message) = read_line(&mut reader, &mut buf).unwrap() {
            out.push(message);
        }
        out
    }

    #[test]
    fn messages_of_each_shape_and_anything_else_malformed() {
        let got = all(concat!(
            r#"{"jsonrpc":"2.0","id":0,"method":"fs/read_text_file","params":{"path":"a"}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"session/update","params":{}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":3,"result":{"stopReason":"end_turn"}}"#,
            "\r\n",
            r#"{"jsonrpc":"2.0","id":4,"error":{"code":1,"message":"no"}}"#,
            "\n",
            "not json {\n",
            r#"{"id":1,"method":"x"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":"s","result":1}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":null,"method":"x"}"#,
            "\n",
            r#"[1,2]"#,
        )
        .as_bytes());
        assert!(
            matches!(&got[0], Incoming::Request { method, id, .. } if method == "fs/read_text_file" && id == &json!(0))
        );
        assert!(matches!(&got[1], Incoming::Notification { method, .. } if method == "session/update"));
        assert_eq!(
            got[2],
            Incoming::Response {
                id: 3,
                outcome: Ok(json!({"stopReason": "end_turn"}))
            }
        );
        assert_eq!(
            got[3],
            Incoming::Response {
                id: 4,
                outcome: Err("no".into())
            }
        );
        for (i, message) in got.iter().enumerate().skip(4) {
            assert!(matches!(message, Incoming::Malformed(_)), "line {i}: {message:?}");
        }
        assert_eq!(got.len(), 9);
    }

    #[test]
    fn a_line_past_the_limit_is_dropped_whole_and_the_next_is_read() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.push(b'\n');
        input.extend_from_slice(br#"{"jsonrpc":"2.0","method":"m"}"#);
        input.push(b'\n');
        let got = all(&input);
        assert_eq!(got[0], Incoming::TooLong(MAX_LINE + 10));
        assert!(matches!(&got[1], Incoming::Notification { method, .. } if method == "m"));
    }
}

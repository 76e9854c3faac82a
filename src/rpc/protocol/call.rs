//! A `lulu.call` notification's arguments: `[ticket, method, args]`, each
//! checked.

use rmpv::Value;

use super::{CALL, ProtocolError};

/// A [`CALL`]'s envelope: the editor's number for the answer, and the
/// request inside.
#[derive(Debug, PartialEq)]
pub struct Call {
    pub ticket: u64,
    pub method: String,
    pub args: Vec<Value>,
}

/// A malformed [`CALL`]: what is wrong, with the ticket when there was one
/// to answer.
#[derive(Debug, PartialEq)]
pub struct BadCall {
    pub ticket: Option<u64>,
    pub error: ProtocolError,
}

pub fn call(values: Vec<Value>) -> Result<Call, BadCall> {
    let bad = |ticket, what, detail: &str| {
        Err(BadCall {
            ticket,
            error: ProtocolError::BadArgument {
                method: CALL.to_string(),
                what,
                detail: detail.to_string(),
            },
        })
    };
    let mut values = values.into_iter();
    let Some(ticket) = values.next().and_then(|v| v.as_u64()) else {
        return bad(None, "ticket", "must be a non-negative integer");
    };
    let method = match values.next() {
        Some(Value::String(s)) => match s.into_str() {
            Some(method) => method,
            None => return bad(Some(ticket), "method", "must be UTF-8"),
        },
        _ => return bad(Some(ticket), "method", "must be a string"),
    };
    let args = match values.next() {
        Some(Value::Array(args)) => args,
        None | Some(Value::Nil) => Vec::new(),
        Some(_) => return bad(Some(ticket), "args", "must be a list"),
    };
    if values.next().is_some() {
        return bad(Some(ticket), "call", "takes [ticket, method, args]");
    }
    Ok(Call { ticket, method, args })
}

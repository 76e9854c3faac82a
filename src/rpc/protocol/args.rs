//! A request's positional arguments, taken one by one with their kinds
//! checked: errors name the method, the argument and what came instead.

use rmpv::Value;
use serde::de::DeserializeOwned;

use super::*;

/// A path inside a worktree as the user names it: relative, no `..`, no
/// NUL, not too long.
pub(super) fn is_relative_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 4096
        && !path.starts_with('/')
        && !path.starts_with('-')
        && !path.contains('\0')
        && !path.split('/').any(|part| part == "..")
}

pub(super) fn relative_path(a: &mut Args<'_>, index: usize) -> Result<String, ProtocolError> {
    let raw = a.bytes(index, "path")?;
    let path = String::from_utf8(raw).map_err(|_| a.bad("path", "is not valid UTF-8"))?;
    if !is_relative_path(&path) {
        return Err(a.bad("path", "must be relative to the worktree, without '..'"));
    }
    Ok(path)
}

/// Positional arguments with the method name, for error messages.
pub(super) struct Args<'a> {
    method: &'a str,
    values: Vec<Value>,
}

impl<'a> Args<'a> {
    pub(super) fn expect(
        method: &'a str,
        values: Vec<Value>,
        min: usize,
        max: usize,
        want: &'static str,
    ) -> Result<Self, ProtocolError> {
        if values.len() < min || values.len() > max {
            return Err(ProtocolError::Arity {
                method: method.to_string(),
                want,
                got: values.len(),
            });
        }
        Ok(Args { method, values })
    }

    pub(super) fn bad(&self, what: &'static str, detail: impl Into<String>) -> ProtocolError {
        ProtocolError::BadArgument {
            method: self.method.to_string(),
            what,
            detail: detail.into(),
        }
    }

    pub(super) fn is_nil(&self, index: usize) -> bool {
        self.values.get(index).is_none_or(Value::is_nil)
    }

    pub(super) fn take(&mut self, index: usize) -> Value {
        self.values
            .get_mut(index)
            .map(|v| std::mem::replace(v, Value::Nil))
            .unwrap_or(Value::Nil)
    }

    pub(super) fn session(&mut self, index: usize) -> Result<String, ProtocolError> {
        let raw = self.take(index);
        let Value::String(s) = raw else {
            return Err(self.bad("session", format!("must be a name or id string, got {}", kind(&raw))));
        };
        let Some(s) = s.into_str() else {
            return Err(self.bad("session", "is not valid UTF-8"));
        };
        if s.is_empty() || s.len() > MAX_REF || s.contains('\0') {
            return Err(self.bad("session", format!("must be 1-{MAX_REF} bytes with no NUL")));
        }
        Ok(s)
    }

    /// Text or binary: Neovim sends Lua strings as msgpack str even when they
    /// hold arbitrary bytes, so both carry raw bytes here.
    pub(super) fn bytes(&mut self, index: usize, what: &'static str) -> Result<Vec<u8>, ProtocolError> {
        match self.take(index) {
            Value::String(s) => Ok(s.into_bytes()),
            Value::Binary(b) => Ok(b),
            other => Err(self.bad(what, format!("must be a string, got {}", kind(&other)))),
        }
    }

    pub(super) fn int<T: TryFrom<i64>>(
        &mut self,
        index: usize,
        what: &'static str,
        range: &str,
    ) -> Result<T, ProtocolError> {
        let raw = self.take(index);
        raw.as_i64()
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| self.bad(what, format!("must be an integer in {range}, got {}", describe(&raw))))
    }

    /// `cols, rows` at `index` and the next: a terminal's size, each 1..=65535.
    pub(super) fn size(&mut self, index: usize) -> Result<(u16, u16), ProtocolError> {
        let mut dimension = |at, what| {
            let n: u16 = self.int(at, what, "1..=65535")?;
            if n == 0 {
                return Err(self.bad(what, "must be an integer in 1..=65535, got 0".to_string()));
            }
            Ok(n)
        };
        Ok((dimension(index, "cols")?, dimension(index + 1, "rows")?))
    }

    pub(super) fn options<T: DeserializeOwned + Default>(&mut self, index: usize) -> Result<T, ProtocolError> {
        match self.take(index) {
            Value::Nil => Ok(T::default()),
            Value::Array(a) if a.is_empty() => Ok(T::default()),
            value @ Value::Map(_) => {
                from_table(value).map_err(|err| self.bad("options", format!("are invalid: {err}")))
            }
            other => Err(self.bad("options", format!("must be a table, got {}", kind(&other)))),
        }
    }
}

pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "a boolean",
        Value::Integer(_) => "a number",
        Value::F32(_) | Value::F64(_) => "a float",
        Value::String(_) => "a string",
        Value::Binary(_) => "binary data",
        Value::Array(_) => "a list",
        Value::Map(_) => "a table",
        Value::Ext(..) => "an extension value",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Integer(n) => n.to_string(),
        other => kind(other).to_string(),
    }
}

//! A reply's or an event's content, as the core hands it to `rpc/`: made
//! from a typed value (a struct of [`super::reply`], a record) by serde,
//! and turned into msgpack at the edge alone.

use serde::Serialize;

/// Content for the editor: serde's data model (maps with keys, as the Lua
/// side reads them), not yet any wire format.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payload(serde_json::Value);

impl Payload {
    /// Nothing (`nil` to Lua).
    pub const NIL: Payload = Payload(serde_json::Value::Null);

    /// `value`, as the editor will read it.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Payload {
        match serde_json::to_value(value) {
            Ok(json) => Payload(json),
            Err(err) => {
                tracing::error!(%err, "a reply did not encode");
                Payload::NIL
            }
        }
    }

    /// The value itself, for the edge that encodes it.
    pub fn into_inner(self) -> serde_json::Value {
        self.0
    }

    pub fn as_inner(&self) -> &serde_json::Value {
        &self.0
    }
}

/// A payload inside a typed reply (its fields flattened into another).
impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Payload {
        Payload(serde_json::Value::String(text))
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Payload {
        Payload(serde_json::Value::String(text.to_string()))
    }
}

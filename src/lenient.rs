//! Shapes Lua sends that serde would refuse: an empty table arrives as an
//! empty list whatever it was meant to be.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// Accept `{}` sent as an empty list: Lua cannot tell an empty table's kind.
pub fn lenient_map<'de, D, V>(de: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum MapOrEmpty<V> {
        Map(BTreeMap<String, V>),
        List(Vec<serde::de::IgnoredAny>),
    }
    match MapOrEmpty::deserialize(de) {
        Ok(MapOrEmpty::Map(map)) => Ok(map),
        Ok(MapOrEmpty::List(items)) if items.is_empty() => Ok(BTreeMap::new()),
        _ => Err(serde::de::Error::custom("expected a table of string keys")),
    }
}

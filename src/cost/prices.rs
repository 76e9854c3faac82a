//! What tokens cost: the shipped table (by model-name prefix) and the
//! user's own prices over it.

use std::collections::BTreeMap;

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

/// Prices by model-name prefix; the longest matching prefix wins, and the
/// user's own (`cost.prices`) win over the shipped table's, so that
/// `claude-sonnet-4-5` also covers the dated `claude-sonnet-4-5-20250929`
/// the table lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    shipped: BTreeMap<String, Price>,
    overrides: BTreeMap<String, Price>,
}

/// The shipped table, generated from litellm's price data by
/// `scripts/update-prices` (never typed by hand).
const SHIPPED: &str = include_str!("prices.json");

#[derive(Deserialize)]
struct ShippedTable {
    source: String,
    prices: BTreeMap<String, Price>,
}

fn shipped() -> &'static ShippedTable {
    static TABLE: std::sync::LazyLock<ShippedTable> = std::sync::LazyLock::new(|| {
        serde_json::from_str(SHIPPED).expect("src/cost/prices.json parses (a unit test checks it)")
    });
    &TABLE
}

impl Default for Prices {
    /// List prices (per million tokens) of the models the wired agents
    /// use; `cost.prices` overrides or adds.
    fn default() -> Self {
        Prices {
            shipped: shipped().prices.clone(),
            overrides: BTreeMap::new(),
        }
    }
}

impl Prices {
    pub fn with_overrides(overrides: BTreeMap<String, Price>) -> Prices {
        Prices {
            overrides,
            ..Prices::default()
        }
    }

    /// Where the shipped table came from (`litellm <version>, <file>`).
    pub fn source() -> &'static str {
        &shipped().source
    }

    pub fn for_model(&self, model: &str) -> Option<Price> {
        longest_prefix(&self.overrides, model).or_else(|| longest_prefix(&self.shipped, model))
    }
}

fn longest_prefix(table: &BTreeMap<String, Price>, model: &str) -> Option<Price> {
    table
        .iter()
        .filter(|(prefix, _)| model.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, price)| *price)
}

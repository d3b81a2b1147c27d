//! The price table: USD per million input and output tokens, per model.
//!
//! Read from a TOML file with a `[prices]` table, so it can live in its own
//! file or in a larger config:
//!
//! ```toml
//! [prices."gpt-4o-mini"]
//! input = 0.15    # USD per 1M input tokens
//! output = 0.60   # USD per 1M output tokens
//! ```
//!
//! A model that is not in the table has no cost (`None`), never a cost of 0.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Error;
use crate::plan::Usage;

/// Prices of one model, in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

/// Prices by exact model name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices(BTreeMap<String, Price>);

#[derive(Deserialize)]
struct File {
    prices: BTreeMap<String, Price>,
}

impl Prices {
    /// Parses TOML text with a `[prices]` table; other top-level tables are
    /// ignored so the table can share a config file.
    pub fn parse(text: &str) -> Result<Prices, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        for (model, p) in &file.prices {
            for (what, v) in [("input", p.input), ("output", p.output)] {
                if !v.is_finite() || v < 0.0 {
                    return Err(format!("{model}: {what} price {v} must be a non-negative number"));
                }
            }
        }
        Ok(Prices(file.prices))
    }

    pub fn load(path: &Path) -> Result<Prices, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Prices::parse(&text).map_err(|message| Error::Prices {
            path: path.to_path_buf(),
            message,
        })
    }

    /// The first of `models` that has a price.
    pub fn find<'a>(&self, models: impl IntoIterator<Item = &'a str>) -> Option<Price> {
        models.into_iter().find_map(|m| self.0.get(m).copied())
    }

    /// Estimated USD for `usage` at `price`.
    pub fn cost(price: Price, usage: Usage) -> f64 {
        (usage.input_tokens as f64 * price.input + usage.output_tokens as f64 * price.output) / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prices_table_parses_and_prices_usage() {
        let prices =
            Prices::parse("[server]\nlisten = 'x'\n[prices.\"gpt-4o-mini\"]\ninput = 0.15\noutput = 0.6\n")
                .unwrap();
        let price = prices.find(["snapshot-x", "gpt-4o-mini"]).unwrap();
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 500_000,
            ..Usage::default()
        };
        assert!((Prices::cost(price, usage) - 0.45).abs() < 1e-9);
        assert_eq!(prices.find(["unknown"]), None);
    }

    #[test]
    fn bad_tables_are_refused() {
        assert!(Prices::parse("[prices.m]\ninput = -1.0\noutput = 1.0\n").is_err());
        assert!(Prices::parse("[prices.m]\ninput = 1.0\n").is_err());
        assert!(Prices::parse("[prices.m]\ninput = 1.0\noutput = 1.0\ncached = 2.0\n").is_err());
        assert!(Prices::parse("[other]\n").is_err());
    }
}

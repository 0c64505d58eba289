//! Cost: the pricing table (`pricing/prices.json`, embedded at build time) and the cost of
//! a request's usage. An unknown model has no price — the caller records it as unpriced,
//! never as a cost of 0.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::usage::Usage;

/// USD per 1M tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Prompt-cache reads; the input price when unset.
    #[serde(default)]
    pub cached_input: Option<f64>,
    /// Prompt-cache writes; the input price when unset.
    #[serde(default)]
    pub cache_write: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    providers: Vec<String>,
    model: String,
    #[serde(flatten)]
    price: Price,
}

#[derive(Debug, Deserialize)]
struct Table {
    models: Vec<Entry>,
}

const TABLE_JSON: &str = include_str!("../../../pricing/prices.json");

fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| serde_json::from_str::<Table>(TABLE_JSON).map(|t| t.models).unwrap_or_default())
}

/// Exact ids by provider: most requests name a model exactly, and this is asked on every
/// logged request (cost, metric label), so it is a hash lookup rather than a table scan.
fn exact() -> &'static HashMap<&'static str, HashMap<&'static str, Price>> {
    static EXACT: OnceLock<HashMap<&'static str, HashMap<&'static str, Price>>> = OnceLock::new();
    EXACT.get_or_init(|| {
        let mut by_provider: HashMap<&'static str, HashMap<&'static str, Price>> = HashMap::new();
        for entry in table() {
            for provider in &entry.providers {
                by_provider.entry(provider.as_str()).or_default().entry(entry.model.as_str()).or_insert(entry.price);
            }
        }
        by_provider
    })
}

/// The list price of `model` at `provider`: an exact id, else the longest table id that
/// the model starts with followed by `-` (its dated versions).
pub fn lookup(provider: &str, model: &str) -> Option<Price> {
    find(provider, model).map(|(price, _)| price)
}

/// The table id that prices `model` at `provider`, by the rule of [`lookup`]: the model's own id, or the id it
/// is a dated version of (`gpt-4o` for `gpt-4o-2024-08-06`). The table's copy, which a caller may keep.
pub fn table_id(provider: &str, model: &str) -> Option<&'static str> {
    find(provider, model).map(|(_, id)| id)
}

fn find(provider: &str, model: &str) -> Option<(Price, &'static str)> {
    if let Some((id, price)) = exact().get(provider).and_then(|models| models.get_key_value(model)) {
        return Some((*price, id));
    }
    let mut best: Option<&Entry> = None;
    for entry in table().iter().filter(|e| e.providers.iter().any(|p| p == provider)) {
        if entry.model == model {
            return Some((entry.price, entry.model.as_str()));
        }
        let dated = model.strip_prefix(entry.model.as_str()).is_some_and(|rest| rest.starts_with('-'));
        if dated && best.is_none_or(|b| b.model.len() < entry.model.len()) {
            best = Some(entry);
        }
    }
    best.map(|e| (e.price, e.model.as_str()))
}

/// The cost in USD of `usage` at `price`.
pub fn cost(price: &Price, usage: &Usage) -> f64 {
    let cached = usage.cached_tokens.min(usage.prompt_tokens);
    let written = usage.cache_write_tokens.min(usage.prompt_tokens - cached);
    let plain = usage.prompt_tokens - cached - written;
    let per_token = |n: u64, per_million: f64| n as f64 * per_million / 1_000_000.0;
    per_token(plain, price.input)
        + per_token(cached, price.cached_input.unwrap_or(price.input))
        + per_token(written, price.cache_write.unwrap_or(price.input))
        + per_token(usage.completion_tokens, price.output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_index_agrees_with_the_table_for_every_entry() {
        for entry in table() {
            for provider in &entry.providers {
                let first = table().iter().find(|e| e.model == entry.model && e.providers.contains(provider));
                assert_eq!(lookup(provider, &entry.model), first.map(|e| e.price), "{provider}/{}", entry.model);
            }
        }
    }

    #[test]
    fn table_parses_and_is_not_empty() {
        assert!(table().len() > 40);
        assert!(table().iter().all(|e| e.price.input >= 0.0 && e.price.output >= 0.0 && !e.providers.is_empty()));
    }

    #[test]
    fn dated_versions_match_their_model_and_longest_match_wins() {
        assert_eq!(lookup("anthropic", "claude-3-opus-20240229").map(|p| p.input), Some(15.0));
        assert_eq!(lookup("openai", "gpt-4o-mini-2024-07-18").map(|p| p.input), Some(0.15));
        assert_eq!(lookup("openai", "gpt-4o-2024-08-06").map(|p| p.input), Some(2.5));
    }

    #[test]
    fn known_models_are_the_table_ids_or_their_dated_versions() {
        assert_eq!(table_id("openai", "gpt-4o"), Some("gpt-4o"));
        assert_eq!(table_id("openai", "gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(table_id("openai", "my-finetune"), None);
        assert_eq!(table_id("no-such-provider", "gpt-4o"), None);
    }

    #[test]
    fn unknown_model_or_provider_has_no_price() {
        assert_eq!(lookup("openai", "my-finetune"), None);
        assert_eq!(lookup("groq", "gpt-4o"), None);
        assert_eq!(lookup("openai", "gpt-4ox"), None, "a prefix without '-' is another model");
    }

    #[test]
    fn azure_and_anyscale_cookbook_models_are_priced() {
        assert!(lookup("azure-openai", "gpt-35-turbo").is_some());
        assert!(lookup("anyscale", "meta-llama/Llama-2-70b-chat-hf").is_some());
    }

    #[test]
    fn cost_prices_cached_and_written_input_separately() {
        let price = Price { input: 3.0, output: 15.0, cached_input: Some(0.3), cache_write: Some(3.75) };
        let usage = Usage {
            prompt_tokens: 1_000_000,
            completion_tokens: 100_000,
            cached_tokens: 200_000,
            cache_write_tokens: 300_000,
        };
        let want = 0.5 * 3.0 + 0.2 * 0.3 + 0.3 * 3.75 + 0.1 * 15.0;
        assert!((cost(&price, &usage) - want).abs() < 1e-9, "{}", cost(&price, &usage));
    }

    #[test]
    fn cost_without_cache_prices_is_plain_input() {
        let price = Price { input: 1.0, output: 2.0, cached_input: None, cache_write: None };
        let usage = Usage { prompt_tokens: 10, completion_tokens: 5, cached_tokens: 4, cache_write_tokens: 0 };
        assert!((cost(&price, &usage) - (10.0 + 10.0) / 1e6).abs() < 1e-12);
    }
}

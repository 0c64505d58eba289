//! What a request is expected to use, reserved at admission: one request, its tokens
//! (prompt characters / 4, plus the output it asks for), and their cost at the model's price.
//! The settle at completion corrects it with what the provider reported.

use serde_json::{Map, Value};
use switchboard_core::limits::{Amounts, NANO_USD_PER_USD};
use switchboard_core::pricing::{self, Price};
use switchboard_core::usage::Usage;

/// Output tokens reserved when a request does not say how many it wants.
pub const DEFAULT_OUTPUT_TOKENS: u64 = 256;

/// The reservation for a request of `body`, priced at `price` when the model has one.
pub fn estimate(body: &Map<String, Value>, price: Option<Price>) -> Amounts {
    let (prompt, output) = (prompt_tokens(body), output_tokens(body, DEFAULT_OUTPUT_TOKENS));
    debug_assert_eq!(prompt + output, estimate_tokens(body, DEFAULT_OUTPUT_TOKENS));
    let usage = Usage { prompt_tokens: prompt, completion_tokens: output, ..Usage::default() };
    let cost = price.map_or(0.0, |p| pricing::cost(&p, &usage));
    Amounts { requests: 1, tokens: prompt + output, nano_usd: nano_usd(cost) }
}

/// A cost in USD as the limiter counts it.
pub fn nano_usd(cost_usd: f64) -> u64 {
    if cost_usd.is_finite() && cost_usd > 0.0 {
        (cost_usd * NANO_USD_PER_USD).round() as u64
    } else {
        0
    }
}

// TODO(merge): use health::headroom::estimate_tokens
fn estimate_tokens(body: &Map<String, Value>, default_output: u64) -> u64 {
    prompt_tokens(body) + output_tokens(body, default_output)
}

/// About 4 characters a token, over the text of `messages`, `prompt`, `input` and `system`.
fn prompt_tokens(body: &Map<String, Value>) -> u64 {
    fn chars(v: &Value) -> usize {
        match v {
            Value::String(s) => s.chars().count(),
            Value::Array(items) => items.iter().map(chars).sum(),
            Value::Object(o) => o.get("text").or_else(|| o.get("content")).map_or(0, chars),
            _ => 0,
        }
    }
    let total: usize = ["messages", "prompt", "input", "system"].iter().filter_map(|k| body.get(*k)).map(chars).sum();
    (total as u64).div_ceil(4)
}

/// `max_tokens` or `max_completion_tokens`, else `default_output`.
fn output_tokens(body: &Map<String, Value>, default_output: u64) -> u64 {
    let asked = |key: &str| body.get(key).and_then(Value::as_u64);
    asked("max_tokens").or_else(|| asked("max_completion_tokens")).unwrap_or(default_output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn tokens_are_prompt_characters_over_four_plus_the_output_asked_for() {
        let b = body(json!({"messages": [{"role": "user", "content": "abcdefgh"},
            {"role": "user", "content": [{"type": "text", "text": "ijkl"}]}], "max_tokens": 10}));
        assert_eq!(estimate_tokens(&b, 256), 3 + 10);
        let b = body(json!({"prompt": "abcd", "max_completion_tokens": 5}));
        assert_eq!(estimate_tokens(&b, 256), 1 + 5);
        assert_eq!(estimate_tokens(&body(json!({"input": "ab"})), 256), 1 + 256);
    }

    #[test]
    fn the_cost_is_the_estimate_at_the_models_price() {
        let price = Price { input: 1.0, output: 2.0, cached_input: None, cache_write: None };
        let b = body(json!({"prompt": "abcd", "max_tokens": 1000}));
        let amounts = estimate(&b, Some(price));
        // 1 prompt token at $1/M and 1000 output tokens at $2/M.
        assert_eq!(amounts, Amounts { requests: 1, tokens: 1001, nano_usd: 2_001_000 });
        assert_eq!(estimate(&b, None).nano_usd, 0, "an unpriced model reserves no cost");
    }
}

//! What a request is expected to use, reserved at admission: one request, its tokens
//! (prompt characters / 4, plus the output it asks for), and their cost at the model's price.
//! The settle at completion corrects it with what the provider reported.

use serde_json::{Map, Value};
use switchboard_core::health::headroom::estimate_parts;
use switchboard_core::limits::{Amounts, NANO_USD_PER_USD};
use switchboard_core::pricing::{self, Price};
use switchboard_core::usage::Usage;

/// Output tokens reserved when a request does not say how many it wants (the same default
/// the health snapshot's headroom check uses).
pub use switchboard_core::health::headroom::DEFAULT_OUTPUT_TOKENS;

/// The reservation for a request of `body`, priced at `price` when the model has one.
pub fn estimate(body: &Map<String, Value>, price: Option<Price>) -> Amounts {
    let (prompt, output) = estimate_parts(body, DEFAULT_OUTPUT_TOKENS);
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_request_reserves_its_prompt_and_the_output_it_asks_for() {
        let b = body(json!({"messages": [{"role": "user", "content": "abcdefgh"},
            {"role": "user", "content": [{"type": "text", "text": "ijkl"}]}], "max_tokens": 10}));
        assert_eq!(estimate(&b, None).tokens, 3 + 10);
        assert_eq!(estimate(&body(json!({"input": "abcd"})), None).tokens, 1 + DEFAULT_OUTPUT_TOKENS);
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

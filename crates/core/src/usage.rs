//! Token usage as Switchboard counts it, read from an OpenAI-shaped `usage` object (which
//! every provider's answer is translated into), including prompt-cache reads and writes.

use serde_json::Value;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// All input tokens, cached ones included.
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Input tokens read from the provider's prompt cache.
    pub cached_tokens: u64,
    /// Input tokens written to the provider's prompt cache (Anthropic).
    pub cache_write_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }

    /// Reads `{"prompt_tokens", "completion_tokens", "prompt_tokens_details": {"cached_tokens"},
    /// "cache_creation_input_tokens"}`; `None` when there is no usable usage object.
    pub fn from_openai(usage: &Value) -> Option<Usage> {
        let count = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
        let prompt = usage.get("prompt_tokens").and_then(Value::as_u64)?;
        Some(Usage {
            prompt_tokens: prompt,
            completion_tokens: count(usage.get("completion_tokens")),
            cached_tokens: count(usage.pointer("/prompt_tokens_details/cached_tokens")),
            cache_write_tokens: count(usage.get("cache_creation_input_tokens")),
        })
    }

    /// The `usage` of a whole OpenAI response body or stream chunk, if it carries one.
    pub fn from_response(body: &Value) -> Option<Usage> {
        body.get("usage").and_then(Usage::from_openai)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn totals_saturate_on_hostile_counts() {
        let got = Usage::from_openai(&json!({"prompt_tokens": u64::MAX, "completion_tokens": 5}));
        assert_eq!(got.map(|u| u.total()), Some(u64::MAX));
    }

    #[test]
    fn reads_openai_usage_with_cache_details() {
        let got = Usage::from_openai(&json!({"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 40}}));
        assert_eq!(
            got,
            Some(Usage { prompt_tokens: 100, completion_tokens: 20, cached_tokens: 40, cache_write_tokens: 0 })
        );
    }

    #[test]
    fn reads_translated_anthropic_cache_writes() {
        let got = Usage::from_openai(&json!({"prompt_tokens": 50, "completion_tokens": 5,
            "cache_creation_input_tokens": 30, "prompt_tokens_details": {"cached_tokens": 10}}));
        assert_eq!(got.map(|u| (u.cache_write_tokens, u.cached_tokens, u.total())), Some((30, 10, 55)));
    }

    #[test]
    fn missing_or_null_usage_is_none() {
        assert_eq!(Usage::from_openai(&Value::Null), None);
        assert_eq!(Usage::from_response(&json!({"usage": null})), None);
    }
}

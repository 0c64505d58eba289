//! Anthropic message -> OpenAI `chat.completion` / `text_completion`, plus the two rules the
//! stream shares with it: stop reason -> `finish_reason`, and Anthropic usage -> OpenAI usage.
//!
//! Reading is lenient about what OpenAI has no place for (`thinking` blocks, server-tool
//! blocks) and strict only about the one thing without which there is no answer: the
//! `content` array.

use serde_json::{json, Map, Value};

use crate::provider::CodecError;

/// end_turn|stop_sequence -> stop, max_tokens -> length, tool_use -> tool_calls,
/// refusal -> content_filter, pause_turn -> stop, anything else -> stop.
/// Never returns a raw Anthropic reason: clients switch on OpenAI's set.
pub fn finish_reason(stop_reason: Option<&str>) -> &'static str {
    match stop_reason {
        Some("max_tokens") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ => "stop",
    }
}

/// Anthropic message JSON -> OpenAI `chat.completion` object. `created` is the caller's clock
/// (unix seconds): the core does not read time.
pub fn chat_response(body: &Value, created: u64) -> Result<Value, CodecError> {
    let blocks = content_blocks(body)?;
    let (text, tool_calls) = (joined_text(blocks), tool_calls(blocks));
    let mut message = json!({"role": "assistant", "content": text, "refusal": null});
    if !tool_calls.is_empty() {
        if text.is_empty() {
            message["content"] = Value::Null;
        }
        message["tool_calls"] = Value::Array(tool_calls);
    }
    let choice = json!({"index": 0, "message": message, "logprobs": null, "finish_reason": stop_reason(body)});
    let mut out = envelope(body, "chat.completion", created);
    out.insert("system_fingerprint".into(), Value::Null);
    out.insert("choices".into(), json!([choice]));
    insert_usage(body, &mut out);
    Ok(Value::Object(out))
}

/// Anthropic message JSON -> OpenAI `text_completion` object.
pub fn completion_response(body: &Value, created: u64) -> Result<Value, CodecError> {
    let text = joined_text(content_blocks(body)?);
    let choice = json!({"text": text, "index": 0, "logprobs": null, "finish_reason": stop_reason(body)});
    let mut out = envelope(body, "text_completion", created);
    out.insert("choices".into(), json!([choice]));
    insert_usage(body, &mut out);
    Ok(Value::Object(out))
}

fn content_blocks(body: &Value) -> Result<&[Value], CodecError> {
    let blocks = body.get("content").and_then(Value::as_array);
    let blocks = blocks.ok_or_else(|| CodecError::BadResponse("anthropic response has no content array".into()))?;
    Ok(blocks)
}

fn envelope(body: &Value, object: &str, created: u64) -> Map<String, Value> {
    let text_field = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut out = Map::new();
    out.insert("id".into(), text_field("id").into());
    out.insert("object".into(), object.into());
    out.insert("created".into(), created.into());
    out.insert("model".into(), text_field("model").into());
    out
}

fn stop_reason(body: &Value) -> &'static str {
    finish_reason(body.get("stop_reason").and_then(Value::as_str))
}

fn blocks_of<'a>(blocks: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> {
    blocks.iter().filter(move |b| b.get("type").and_then(Value::as_str) == Some(kind))
}

fn joined_text(blocks: &[Value]) -> String {
    blocks_of(blocks, "text").filter_map(|b| b.get("text").and_then(Value::as_str)).collect()
}

fn tool_calls(blocks: &[Value]) -> Vec<Value> {
    blocks_of(blocks, "tool_use").map(tool_call).collect()
}

fn tool_call(block: &Value) -> Value {
    let text_field = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or_default();
    let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
    let function = json!({"name": text_field("name"), "arguments": input.to_string()});
    json!({"id": text_field("id"), "type": "function", "function": function})
}

fn insert_usage(body: &Value, out: &mut Map<String, Value>) {
    if let Some(usage) = body.get("usage").filter(|u| u.is_object()) {
        let mut totals = Usage::default();
        totals.update(usage);
        out.insert("usage".into(), totals.to_openai());
    }
}

/// Anthropic's token counts. Input is split three ways (uncached, written to cache, read
/// from cache); OpenAI's `prompt_tokens` is their sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Usage {
    input: u64,
    output: u64,
    cache_creation: u64,
    cache_read: u64,
}

impl Usage {
    /// Takes every count present in an Anthropic usage object. Counts are cumulative in
    /// both `message_start` and `message_delta`, so a present field replaces, never adds.
    pub(super) fn update(&mut self, usage: &Value) {
        let fields = [
            ("input_tokens", &mut self.input),
            ("output_tokens", &mut self.output),
            ("cache_creation_input_tokens", &mut self.cache_creation),
            ("cache_read_input_tokens", &mut self.cache_read),
        ];
        for (key, slot) in fields {
            if let Some(count) = usage.get(key).and_then(Value::as_u64) {
                *slot = count;
            }
        }
    }

    pub(super) fn to_openai(self) -> Value {
        // A provider's counts are not trusted to be small: sums saturate.
        let prompt = self.input.saturating_add(self.cache_creation).saturating_add(self.cache_read);
        json!({
            "prompt_tokens": prompt,
            "completion_tokens": self.output,
            "total_tokens": prompt.saturating_add(self.output),
            "prompt_tokens_details": {"cached_tokens": self.cache_read},
            "cache_read_input_tokens": self.cache_read,
            "cache_creation_input_tokens": self.cache_creation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    const CREATED: u64 = 1_700_000_000;

    #[test]
    fn hostile_token_counts_saturate_instead_of_overflowing() {
        let body = json!({"id": "msg_1", "model": "claude", "stop_reason": "end_turn",
            "content": [{"type": "text", "text": "hi"}],
            "usage": {"input_tokens": u64::MAX, "cache_read_input_tokens": u64::MAX, "output_tokens": u64::MAX}});
        let out = chat_response(&body, CREATED).map(|v| v["usage"]["total_tokens"].clone());
        assert_eq!(out.ok(), Some(json!(u64::MAX)));
    }

    #[test]
    fn finish_reason_maps_every_stop_reason_to_openai() {
        let cases = [
            (Some("end_turn"), "stop"),
            (Some("stop_sequence"), "stop"),
            (Some("max_tokens"), "length"),
            (Some("tool_use"), "tool_calls"),
            (Some("refusal"), "content_filter"),
            (Some("pause_turn"), "stop"),
            (Some("model_context_window_exceeded"), "stop"),
            (Some("something_new"), "stop"),
            (None, "stop"),
        ];
        for (reason, expected) in cases {
            assert_eq!(finish_reason(reason), expected, "stop_reason {reason:?}");
        }
    }

    #[test]
    fn golden_messages_translate_to_recorded_openai_answers() {
        type Translate = fn(&Value, u64) -> Result<Value, CodecError>;
        let cases: [(&str, Translate); 5] = [
            ("response_text", chat_response),
            ("response_tool_use", chat_response),
            ("response_tool_use_only", chat_response),
            ("response_cache_usage", chat_response),
            ("completion_prompt", completion_response),
        ];
        for (case, translate) in cases {
            let upstream = fixtures::json(&format!("{case}.upstream.json"));
            let expected = fixtures::json(&format!("{case}.response.json"));
            assert_eq!(translate(&upstream, CREATED), Ok(expected), "case {case}");
        }
    }

    #[test]
    fn a_message_without_content_is_a_bad_response() {
        let body = json!({"id": "msg_1", "type": "message", "model": "m"});
        let expected = Err(CodecError::BadResponse("anthropic response has no content array".into()));
        assert_eq!(chat_response(&body, CREATED), expected);
        assert_eq!(completion_response(&body, CREATED), expected);
    }

    #[test]
    fn a_message_without_usage_has_no_usage_field() {
        let body = json!({"id": "msg_1", "model": "m", "content": [], "stop_reason": "end_turn"});
        let out = chat_response(&body, CREATED).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.get("usage"), None);
        assert_eq!(out["choices"][0]["message"]["content"], json!(""));
    }
}

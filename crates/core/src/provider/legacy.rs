//! Legacy Completions streams made of Chat Completions chunks: a provider that only streams
//! chat (Anthropic, through its codec) answers `/v1/completions` with `text_completion`
//! chunks, as OpenAI's own legacy endpoint does. One chat chunk in, at most one completion
//! chunk out; no state, no I/O.

use serde_json::{json, Map, Value};

/// The `text_completion` chunk for one `chat.completion.chunk`, or `None` when the chunk
/// carries nothing a completion stream has (the opening role, a tool call).
pub fn completion_chunk(chat: &Value) -> Option<Value> {
    let choices = chat.get("choices").and_then(Value::as_array)?;
    let choices: Vec<Value> = choices.iter().filter_map(completion_choice).collect();
    let usage = chat.get("usage");
    let has_usage = usage.is_some_and(Value::is_object);
    if choices.is_empty() && !has_usage {
        return None;
    }
    let mut out = Map::new();
    for key in ["id", "created", "model"] {
        out.insert(key.to_string(), chat.get(key).cloned().unwrap_or(Value::Null));
    }
    out.insert("object".to_string(), json!("text_completion"));
    out.insert("choices".to_string(), Value::Array(choices));
    if let Some(usage) = usage {
        out.insert("usage".to_string(), usage.clone());
    }
    Some(Value::Object(out))
}

/// A chat choice as a completion choice: its text so far, or its finish reason.
fn completion_choice(choice: &Value) -> Option<Value> {
    let text = choice.pointer("/delta/content").and_then(Value::as_str).unwrap_or_default();
    let finish = choice.get("finish_reason").filter(|f| !f.is_null());
    if text.is_empty() && finish.is_none() {
        return None;
    }
    let index = choice.get("index").cloned().unwrap_or(json!(0));
    Some(json!({"text": text, "index": index, "logprobs": null, "finish_reason": finish.cloned()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(delta: Value, finish: Value) -> Value {
        json!({"id": "msg_1", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "claude",
            "system_fingerprint": null, "usage": null,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    }

    #[test]
    fn text_deltas_become_text_completion_chunks() {
        let got = completion_chunk(&chat(json!({"content": "Bonjour"}), Value::Null));
        let expected = json!({"id": "msg_1", "object": "text_completion", "created": 1_700_000_000, "model": "claude",
            "choices": [{"text": "Bonjour", "index": 0, "logprobs": null, "finish_reason": null}], "usage": null});
        assert_eq!(got, Some(expected));
    }

    #[test]
    fn the_opening_role_chunk_is_dropped() {
        assert_eq!(completion_chunk(&chat(json!({"role": "assistant", "content": ""}), Value::Null)), None);
    }

    #[test]
    fn the_finish_chunk_keeps_its_reason_with_empty_text() {
        let got = completion_chunk(&chat(json!({}), json!("length")));
        assert_eq!(
            got.map(|c| c["choices"][0].clone()),
            Some(json!({"text": "", "index": 0, "logprobs": null, "finish_reason": "length"}))
        );
    }

    #[test]
    fn the_usage_only_chunk_stays_a_usage_chunk() {
        let usage = json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5});
        let chat = json!({"id": "msg_1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [], "usage": usage});
        let got = completion_chunk(&chat);
        assert_eq!(
            got,
            Some(json!({"id": "msg_1", "object": "text_completion", "created": 1, "model": "m",
            "choices": [], "usage": usage}))
        );
    }

    #[test]
    fn a_tool_call_delta_has_no_completion_counterpart() {
        let call = json!({"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]});
        assert_eq!(completion_chunk(&chat(call, Value::Null)), None);
    }
}

//! An OpenAI `chat.completion` -> an Anthropic Messages `message`, and OpenAI's error shape
//! -> Anthropic's. The answer keeps the chat id and model; text becomes a `text` block,
//! each tool call a `tool_use` block with its arguments parsed; `finish_reason` becomes
//! `stop_reason`, `usage` input/output tokens.

use serde_json::{json, Value};

use crate::provider::CodecError;

/// The Messages answer for a chat completion.
pub fn from_chat(chat: &Value) -> Result<Value, CodecError> {
    let choice = chat.pointer("/choices/0").ok_or_else(|| bad("the chat answer has no choices"))?;
    let message = choice.get("message").unwrap_or(&Value::Null);
    let mut content = Vec::new();
    if let Some(text) = message.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        content.push(json!({"type": "text", "text": text}));
    }
    for call in message.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
        content.push(tool_use(call));
    }
    let finish = choice.get("finish_reason").and_then(Value::as_str);
    Ok(json!({
        "id": chat.get("id").cloned().unwrap_or(json!("msg")),
        "type": "message", "role": "assistant",
        "model": chat.get("model").cloned().unwrap_or_default(),
        "content": content,
        "stop_reason": stop_reason(finish),
        "stop_sequence": null,
        "usage": usage(chat.get("usage")),
    }))
}

fn bad(why: &str) -> CodecError {
    CodecError::BadResponse(why.to_string())
}

/// A chat tool call as a `tool_use` block; arguments that are not JSON are kept as a string
/// under `input._raw` rather than lost.
pub(super) fn tool_use(call: &Value) -> Value {
    let text = |key: &str| call.pointer(key).and_then(Value::as_str).unwrap_or_default();
    let arguments = text("/function/arguments");
    let input = match serde_json::from_str::<Value>(arguments) {
        Ok(value) if value.is_object() => value,
        _ if arguments.trim().is_empty() => json!({}),
        _ => json!({"_raw": arguments}),
    };
    json!({"type": "tool_use", "id": text("/id"), "name": text("/function/name"), "input": input})
}

/// Chat's `finish_reason` as Messages' `stop_reason`.
pub fn stop_reason(finish: Option<&str>) -> &'static str {
    match finish {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

/// Chat usage as Messages usage (cached prompt tokens as cache reads, outside `input_tokens`).
pub fn usage(usage: Option<&Value>) -> Value {
    let count = |key: &str| usage.and_then(|u| u.pointer(key)).and_then(Value::as_u64).unwrap_or(0);
    let cached = count("/prompt_tokens_details/cached_tokens");
    json!({
        "input_tokens": count("/prompt_tokens").saturating_sub(cached),
        "output_tokens": count("/completion_tokens"),
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": count("/cache_creation_input_tokens"),
    })
}

/// An OpenAI-shaped error body (`{"error":{message,type,code}}`) in Anthropic's shape,
/// `{"type":"error","error":{"type","message"}}`. Anthropic's own type, when an Anthropic
/// answer was translated, survives as the OpenAI `code` and is restored.
pub fn error_body(status: u16, openai: &Value) -> Value {
    let error = openai.get("error").unwrap_or(&Value::Null);
    let message = error.get("message").and_then(Value::as_str).unwrap_or("error");
    let code = error.get("code").and_then(Value::as_str);
    let kind = match code.filter(|c| ANTHROPIC_ERROR_TYPES.contains(c)) {
        Some(anthropic_type) => anthropic_type,
        None => error_type(status),
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// The error types Anthropic documents.
const ANTHROPIC_ERROR_TYPES: [&str; 9] = [
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "overloaded_error",
    "timeout_error",
];

/// Anthropic's error type for an HTTP status.
fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 | 503 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

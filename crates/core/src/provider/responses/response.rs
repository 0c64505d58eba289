//! An OpenAI `chat.completion` -> a Responses API `response` object. The message becomes a
//! `message` item with one `output_text` part, each tool call a `function_call` item; a
//! length or content-filter finish makes the response `incomplete` with its reason; usage
//! takes the Responses names. What the request set (instructions, tools, text, metadata, …)
//! is echoed as OpenAI does.

use serde_json::{json, Map, Value};

use crate::provider::CodecError;

/// Everything of a response but its output, status and usage: ids, times and the echo of
/// the request, shared by the answer and the stream's events.
pub fn envelope(request: &Map<String, Value>, chat_id: &str, model: &Value, created_at: u64) -> Value {
    let echo = |key: &str, default: Value| request.get(key).filter(|v| !v.is_null()).cloned().unwrap_or(default);
    json!({
        "id": format!("resp_{chat_id}"), "object": "response", "created_at": created_at,
        "status": "in_progress", "error": null, "incomplete_details": null,
        "instructions": echo("instructions", Value::Null),
        "max_output_tokens": echo("max_output_tokens", Value::Null),
        "model": model, "output": [],
        "parallel_tool_calls": echo("parallel_tool_calls", json!(true)),
        "previous_response_id": null,
        "reasoning": {"effort": request.get("reasoning").and_then(|r| r.get("effort")).cloned().unwrap_or(Value::Null),
                      "summary": null},
        "store": false,
        "temperature": echo("temperature", json!(1.0)),
        "text": echo("text", json!({"format": {"type": "text"}})),
        "tool_choice": echo("tool_choice", json!("auto")),
        "tools": echo("tools", json!([])),
        "top_p": echo("top_p", json!(1.0)),
        "truncation": "disabled",
        "usage": null,
        "user": echo("user", Value::Null),
        "metadata": echo("metadata", json!({})),
    })
}

/// The Responses answer for a chat completion of `request`.
pub fn from_chat(chat: &Value, request: &Map<String, Value>) -> Result<Value, CodecError> {
    let choice =
        chat.pointer("/choices/0").ok_or_else(|| CodecError::BadResponse("the chat answer has no choices".into()))?;
    let chat_id = chat.get("id").and_then(Value::as_str).unwrap_or("chat");
    let created = chat.get("created").and_then(Value::as_u64).unwrap_or(0);
    let mut response = envelope(request, chat_id, chat.get("model").unwrap_or(&Value::Null), created);
    let message = choice.get("message").unwrap_or(&Value::Null);
    let mut output = Vec::new();
    if let Some(text) = message.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        output.push(message_item(&format!("msg_{chat_id}"), text, "completed"));
    }
    for call in message.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
        let text = |key: &str| call.pointer(key).and_then(Value::as_str).unwrap_or_default().to_string();
        output.push(function_call_item(
            &text("/id"),
            &text("/function/name"),
            &text("/function/arguments"),
            "completed",
        ));
    }
    response["output"] = Value::Array(output);
    finish(&mut response, choice.get("finish_reason").and_then(Value::as_str), chat.get("usage"));
    Ok(response)
}

/// Status, incomplete details and usage, from chat's finish reason and usage.
pub fn finish(response: &mut Value, finish_reason: Option<&str>, usage: Option<&Value>) {
    let incomplete = match finish_reason {
        Some("length") => Some("max_output_tokens"),
        Some("content_filter") => Some("content_filter"),
        _ => None,
    };
    response["status"] = json!(if incomplete.is_some() { "incomplete" } else { "completed" });
    response["incomplete_details"] = incomplete.map_or(Value::Null, |reason| json!({"reason": reason}));
    response["usage"] = usage.filter(|u| u.is_object()).map_or(Value::Null, responses_usage);
}

/// Chat usage with the Responses names.
pub fn responses_usage(usage: &Value) -> Value {
    let count = |key: &str| usage.pointer(key).and_then(Value::as_u64).unwrap_or(0);
    let (input, output) = (count("/prompt_tokens"), count("/completion_tokens"));
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": count("/prompt_tokens_details/cached_tokens")},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": count("/completion_tokens_details/reasoning_tokens")},
        "total_tokens": usage.get("total_tokens").and_then(Value::as_u64).unwrap_or(input + output),
    })
}

pub fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({"type": "message", "id": id, "status": status, "role": "assistant",
           "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

pub fn function_call_item(call_id: &str, name: &str, arguments: &str, status: &str) -> Value {
    json!({"type": "function_call", "id": format!("fc_{call_id}"), "call_id": call_id, "name": name,
           "arguments": arguments, "status": status})
}

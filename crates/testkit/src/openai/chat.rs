//! OpenAI chat completions: message and tool checks, then a text answer or — when the request carries `tools` — a
//! call to the first (or the forced) tool; both as one JSON body or as OpenAI's chunk stream.

use super::{missing, usage, wants_stream, wants_usage, Meta, Rejection};
use crate::app::Call;
use crate::content::{pieces, reply_text, tool_arguments, words};
use crate::reply::{self, data_event};
use axum::response::Response;
use serde_json::{json, Value};

const ROLES: [&str; 6] = ["system", "assistant", "user", "function", "tool", "developer"];

/// The tool the mock decides to call.
struct ToolCall {
    id: String,
    name: String,
    arguments: String,
}

pub(crate) fn chat(body: &Value, mut meta: Meta, call: &Call<'_>) -> Response {
    if let Err(rejection) = check_messages(body).and_then(|()| check_tools(body)) {
        return rejection.respond();
    }
    meta.id = format!("chatcmpl-mock-{}-{}", call.name, call.n);
    let tool = chosen_tool(body, call);
    match (wants_stream(body), tool) {
        (false, None) => text_answer(&meta, call),
        (false, Some(tool)) => tool_answer(&meta, &tool),
        (true, None) => text_stream(body, &meta, call),
        (true, Some(tool)) => tool_stream(body, &meta, &tool, call),
    }
}

fn check_messages(body: &Value) -> Result<(), Rejection> {
    let messages = match body.get("messages") {
        Some(Value::Array(messages)) => messages,
        _ => return Err(missing("messages")),
    };
    if messages.is_empty() {
        let message = "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an \
empty array instead.";
        return Err(invalid(message, "empty_array", "messages"));
    }
    messages.iter().enumerate().try_for_each(check_role)
}

fn check_role((i, message): (usize, &Value)) -> Result<(), Rejection> {
    let param = format!("messages[{i}].role");
    match message.get("role").and_then(Value::as_str) {
        None => Err(missing(&param)),
        Some(role) if ROLES.contains(&role) => Ok(()),
        Some(role) => {
            let message = format!(
                "Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', \
'tool', and 'developer'."
            );
            Err(invalid(&message, "invalid_value", &param))
        }
    }
}

fn check_tools(body: &Value) -> Result<(), Rejection> {
    let Some(tools) = body.get("tools") else {
        return Ok(());
    };
    let Some(tools) = tools.as_array() else {
        return Err(invalid("Invalid type for 'tools': expected an array.", "invalid_type", "tools"));
    };
    for (i, tool) in tools.iter().enumerate() {
        if tool.pointer("/function/name").and_then(Value::as_str).is_none() {
            return Err(missing(&format!("tools[{i}].function.name")));
        }
    }
    Ok(())
}

fn invalid(message: &str, code: &'static str, param: &str) -> Rejection {
    Rejection { message: message.to_string(), code, param: param.to_string() }
}

/// The first tool, or the one `tool_choice` forces; none when `tool_choice` is `"none"`.
fn chosen_tool(body: &Value, call: &Call<'_>) -> Option<ToolCall> {
    let tools = body.get("tools").and_then(Value::as_array)?;
    let choice = body.get("tool_choice");
    if choice.and_then(Value::as_str) == Some("none") {
        return None;
    }
    let forced = choice.and_then(|c| c.pointer("/function/name")).and_then(Value::as_str);
    let function = tools
        .iter()
        .filter_map(|t| t.get("function"))
        .find(|f| forced.is_none() || f.get("name").and_then(Value::as_str) == forced)?;
    Some(ToolCall {
        id: format!("call_mock_{}_{}", call.name, call.n),
        name: function.get("name").and_then(Value::as_str)?.to_string(),
        arguments: tool_arguments(function.get("parameters")).to_string(),
    })
}

fn completion(meta: &Meta, message: Value, finish: &str, completion_tokens: u64) -> Value {
    let choice = json!({"index": 0, "message": message, "logprobs": null, "finish_reason": finish});
    json!({"id": meta.id, "object": "chat.completion", "created": meta.created, "model": meta.model,
           "system_fingerprint": "fp_mock", "choices": [choice],
           "usage": usage(meta.prompt_tokens, completion_tokens)})
}

fn text_answer(meta: &Meta, call: &Call<'_>) -> Response {
    let text = reply_text(call.name, &meta.model);
    let tokens = words(&Value::String(text.clone()));
    let message = json!({"role": "assistant", "content": text, "refusal": null});
    reply::json(200, &completion(meta, message, "stop", tokens))
}

fn tool_answer(meta: &Meta, tool: &ToolCall) -> Response {
    let function = json!({"name": tool.name, "arguments": tool.arguments});
    let calls = json!([{"id": tool.id, "type": "function", "function": function}]);
    let message = json!({"role": "assistant", "content": null, "tool_calls": calls, "refusal": null});
    reply::json(200, &completion(meta, message, "tool_calls", tool_tokens(tool)))
}

fn tool_tokens(tool: &ToolCall) -> u64 {
    8 + tool.arguments.len() as u64 / 4
}

/// Builds the chunks of one stream; with `include_usage`, each chunk carries `usage: null` as OpenAI's do.
struct Chunker<'a> {
    meta: &'a Meta,
    with_usage: bool,
}

impl Chunker<'_> {
    fn chunk(&self, delta: Value, finish: Value) -> String {
        let choice = json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish});
        let mut chunk = self.base(json!([choice]));
        if self.with_usage {
            chunk["usage"] = Value::Null;
        }
        data_event(&chunk)
    }

    fn base(&self, choices: Value) -> Value {
        json!({"id": self.meta.id, "object": "chat.completion.chunk", "created": self.meta.created,
               "model": self.meta.model, "system_fingerprint": "fp_mock", "choices": choices})
    }

    /// The usage chunk (`choices: []`) when asked for, then `[DONE]`.
    fn finish(&self, events: &mut Vec<String>, completion_tokens: u64) {
        if self.with_usage {
            let mut chunk = self.base(json!([]));
            chunk["usage"] = usage(self.meta.prompt_tokens, completion_tokens);
            events.push(data_event(&chunk));
        }
        events.push("data: [DONE]\n\n".to_string());
    }
}

fn text_stream(body: &Value, meta: &Meta, call: &Call<'_>) -> Response {
    let chunker = Chunker { meta, with_usage: wants_usage(body) };
    let text = reply_text(call.name, &meta.model);
    let role = json!({"role": "assistant", "content": "", "refusal": null});
    let mut events = vec![chunker.chunk(role, Value::Null)];
    for piece in pieces(&text) {
        events.push(chunker.chunk(json!({"content": piece}), Value::Null));
    }
    events.push(chunker.chunk(json!({}), json!("stop")));
    chunker.finish(&mut events, words(&Value::String(text)));
    reply::sse(events, call.pacing)
}

fn tool_stream(body: &Value, meta: &Meta, tool: &ToolCall, call: &Call<'_>) -> Response {
    let chunker = Chunker { meta, with_usage: wants_usage(body) };
    let opening = json!([{"index": 0, "id": tool.id, "type": "function",
                          "function": {"name": tool.name, "arguments": ""}}]);
    let role = json!({"role": "assistant", "content": null, "tool_calls": opening, "refusal": null});
    let mut events = vec![chunker.chunk(role, Value::Null)];
    for part in split_in_two(&tool.arguments) {
        let delta = json!({"tool_calls": [{"index": 0, "function": {"arguments": part}}]});
        events.push(chunker.chunk(delta, Value::Null));
    }
    events.push(chunker.chunk(json!({}), json!("tool_calls")));
    chunker.finish(&mut events, tool_tokens(tool));
    reply::sse(events, call.pacing)
}

/// Splits a string in two parts at a char boundary, as providers stream arguments in fragments.
pub(crate) fn split_in_two(text: &str) -> Vec<String> {
    let mut middle = text.len() / 2;
    while !text.is_char_boundary(middle) {
        middle -= 1;
    }
    let (first, second) = text.split_at(middle);
    [first, second].into_iter().filter(|part| !part.is_empty()).map(str::to_string).collect()
}

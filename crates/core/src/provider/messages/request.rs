//! An Anthropic Messages request -> an OpenAI Chat Completions request, for targets that
//! speak only chat. `system` becomes the first message; content blocks become chat parts
//! (text, images as URLs or data URLs), `tool_use` blocks the assistant's `tool_calls`,
//! `tool_result` blocks `tool` messages (placed first, where chat wants them: right after
//! the assistant's calls). What chat has no counterpart for (`top_k`, thinking blocks) is
//! dropped; what cannot be expressed (an unknown block, a document) is refused.

use serde_json::{json, Map, Value};

use crate::provider::chat_delta::{copy_field as copy, invalid};
use crate::provider::CodecError;

/// The chat request for a Messages request body.
pub fn to_chat(body: &Map<String, Value>) -> Result<Map<String, Value>, CodecError> {
    let mut out = Map::new();
    copy(body, &mut out, "model", "model");
    let mut messages = system(body.get("system"))?;
    let turns = body.get("messages").and_then(Value::as_array).ok_or_else(|| invalid("messages: must be an array"))?;
    for (i, turn) in turns.iter().enumerate() {
        messages.extend(message(turn).map_err(|why| invalid(&format!("messages[{i}]: {why}")))?);
    }
    out.insert("messages".into(), Value::Array(messages));
    copy(body, &mut out, "max_tokens", "max_tokens");
    copy(body, &mut out, "stop_sequences", "stop");
    for key in ["temperature", "top_p", "stream"] {
        copy(body, &mut out, key, key);
    }
    if body.get("stream") == Some(&Value::Bool(true)) {
        // The Messages stream reports usage in message_delta: ask chat for it.
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if let Some(user) = body.get("metadata").and_then(|m| m.get("user_id")).filter(|u| u.is_string()) {
        out.insert("user".into(), user.clone());
    }
    tools(body, &mut out)?;
    Ok(out)
}

/// `system` as a string or text blocks -> one system message.
fn system(system: Option<&Value>) -> Result<Vec<Value>, CodecError> {
    let text = match system {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(blocks)) => {
            let texts: Option<Vec<&str>> = blocks.iter().map(|b| b.get("text").and_then(Value::as_str)).collect();
            texts.ok_or_else(|| invalid("system: only text blocks can be sent to this target"))?.join("\n")
        }
        Some(_) => return Err(invalid("system: must be a string or an array of text blocks")),
    };
    Ok(vec![json!({"role": "system", "content": text})])
}

/// One Messages turn -> one or more chat messages.
fn message(turn: &Value) -> Result<Vec<Value>, String> {
    let role = turn.get("role").and_then(Value::as_str).ok_or("role: must be user or assistant")?;
    let blocks = match turn.get("content") {
        Some(Value::String(text)) => return Ok(vec![json!({"role": role, "content": text})]),
        Some(Value::Array(blocks)) => blocks,
        _ => return Err("content: must be a string or an array of content blocks".into()),
    };
    match role {
        "user" => user_turn(blocks),
        "assistant" => assistant_turn(blocks).map(|m| vec![m]),
        other => Err(format!("role: \"{other}\" is not user or assistant")),
    }
}

/// A user turn: its tool results as `tool` messages first, then the rest as one user message.
fn user_turn(blocks: &[Value]) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let mut parts = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let kind = block.get("type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "tool_result" => out.push(tool_result(block).map_err(|why| format!("content[{i}]: {why}"))?),
            "text" => parts.push(json!({"type": "text", "text": block.get("text").cloned().unwrap_or_default()})),
            "image" => parts.push(image(block).map_err(|why| format!("content[{i}]: {why}"))?),
            other => return Err(format!("content[{i}]: a \"{other}\" block cannot be sent to this target")),
        }
    }
    if !parts.is_empty() {
        out.push(json!({"role": "user", "content": parts}));
    }
    Ok(out)
}

fn tool_result(block: &Value) -> Result<Value, String> {
    let id = block.get("tool_use_id").and_then(Value::as_str).ok_or("tool_result without tool_use_id")?;
    let content = match block.get("content") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => {
            parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n")
        }
        Some(_) => return Err("tool_result content must be a string or blocks".into()),
    };
    Ok(json!({"role": "tool", "tool_call_id": id, "content": content}))
}

/// An image block -> a chat `image_url` part (a URL, or the base64 data as a data URL).
fn image(block: &Value) -> Result<Value, String> {
    let source = block.get("source").ok_or("image without source")?;
    let text = |key: &str| source.get(key).and_then(Value::as_str);
    let url = match text("type") {
        Some("url") => text("url").ok_or("image source without url")?.to_string(),
        Some("base64") => {
            let media = text("media_type").ok_or("image source without media_type")?;
            format!("data:{media};base64,{}", text("data").ok_or("image source without data")?)
        }
        _ => return Err("image source must be base64 or url".into()),
    };
    Ok(json!({"type": "image_url", "image_url": {"url": url}}))
}

/// An assistant turn: its text as content, its tool_use blocks as tool calls.
fn assistant_turn(blocks: &[Value]) -> Result<Value, String> {
    let mut text = String::new();
    let mut calls = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        match block.get("type").and_then(Value::as_str).unwrap_or_default() {
            "text" => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or_default()),
            "tool_use" => {
                let field = |key: &str| block.get(key).and_then(Value::as_str).ok_or(format!("content[{i}]: {key}"));
                let arguments = block.get("input").unwrap_or(&json!({})).to_string();
                calls.push(json!({"id": field("id")?, "type": "function",
                    "function": {"name": field("name")?, "arguments": arguments}}));
            }
            // Reasoning has no place in a chat request's history.
            "thinking" | "redacted_thinking" => {}
            other => return Err(format!("content[{i}]: a \"{other}\" block cannot be sent to this target")),
        }
    }
    let mut out = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }});
    if !calls.is_empty() {
        out["tool_calls"] = Value::Array(calls);
    }
    Ok(out)
}

/// `tools` and `tool_choice` in chat's function shape.
fn tools(body: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), CodecError> {
    if let Some(tools) = body.get("tools").and_then(Value::as_array) {
        let functions: Result<Vec<Value>, CodecError> = tools.iter().enumerate().map(|(i, t)| function(i, t)).collect();
        out.insert("tools".into(), Value::Array(functions?));
    }
    let Some(choice) = body.get("tool_choice").filter(|c| c.is_object()) else { return Ok(()) };
    let chat_choice = match choice.get("type").and_then(Value::as_str) {
        Some("auto") => json!("auto"),
        Some("any") => json!("required"),
        Some("none") => json!("none"),
        Some("tool") => {
            json!({"type": "function", "function": {"name": choice.get("name").cloned().unwrap_or_default()}})
        }
        _ => return Err(invalid("tool_choice.type: must be auto, any, tool or none")),
    };
    out.insert("tool_choice".into(), chat_choice);
    if choice.get("disable_parallel_tool_use") == Some(&Value::Bool(true)) {
        out.insert("parallel_tool_calls".into(), Value::Bool(false));
    }
    Ok(())
}

fn function(i: usize, tool: &Value) -> Result<Value, CodecError> {
    let name = tool.get("name").and_then(Value::as_str).ok_or_else(|| invalid(&format!("tools[{i}].name: missing")))?;
    let mut function = json!({"name": name, "parameters": tool.get("input_schema").cloned().unwrap_or(json!({}))});
    if let Some(description) = tool.get("description").filter(|d| d.is_string()) {
        function["description"] = description.clone();
    }
    Ok(json!({"type": "function", "function": function}))
}

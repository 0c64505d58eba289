//! An OpenAI Responses request -> a Chat Completions request, for targets without the
//! Responses API. `instructions` becomes the system message; `input` (a string, or items:
//! messages with `input_text` / `input_image` / `output_text` parts, `function_call`,
//! `function_call_output`) becomes chat messages, a call's output a `tool` message after the
//! assistant's calls; function `tools`, `tool_choice`, `text.format`, `max_output_tokens`,
//! `temperature`, `top_p`, `reasoning.effort` take their chat names. Server-side state
//! (`previous_response_id`, `store: true`) and built-in tools cannot be translated: refused.

use serde_json::{json, Map, Value};

use crate::provider::chat_delta::{copy_field as copy, invalid};
use crate::provider::CodecError;

/// Why a Responses request needs a target with the Responses API itself, if it does: the
/// gateway keeps no conversation state for the providers it translates for.
pub fn needs_native(body: &Map<String, Value>) -> Option<&'static str> {
    if body.get("previous_response_id").is_some_and(|v| !v.is_null()) {
        return Some(STATELESS_PREVIOUS);
    }
    if body.get("store") == Some(&Value::Bool(true)) {
        return Some(STATELESS_STORE);
    }
    None
}

const STATELESS_PREVIOUS: &str = "previous_response_id: the gateway keeps no conversation state for providers it \
    translates the Responses API for; send the whole conversation in input, or route to an OpenAI or Azure OpenAI target";
const STATELESS_STORE: &str = "store: the gateway keeps no conversation state for providers it translates the \
    Responses API for; leave store unset (or false), or route to an OpenAI or Azure OpenAI target";

/// The chat request for a Responses request body.
pub fn to_chat(body: &Map<String, Value>) -> Result<Map<String, Value>, CodecError> {
    if let Some(why) = needs_native(body) {
        return Err(invalid(why));
    }
    let mut out = Map::new();
    copy(body, &mut out, "model", "model");
    out.insert("messages".into(), Value::Array(messages(body)?));
    copy(body, &mut out, "max_output_tokens", "max_tokens");
    for key in ["temperature", "top_p", "stream", "parallel_tool_calls", "user"] {
        copy(body, &mut out, key, key);
    }
    if body.get("stream") == Some(&Value::Bool(true)) {
        // The final response.completed carries usage: ask chat for it.
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if let Some(effort) = body.get("reasoning").and_then(|r| r.get("effort")).filter(|e| e.is_string()) {
        out.insert("reasoning_effort".into(), effort.clone());
    }
    if let Some(format) = response_format(body.get("text").and_then(|t| t.get("format")))? {
        out.insert("response_format".into(), format);
    }
    tools(body, &mut out)?;
    Ok(out)
}

fn messages(body: &Map<String, Value>) -> Result<Vec<Value>, CodecError> {
    let mut out = Vec::new();
    if let Some(instructions) = body.get("instructions").and_then(Value::as_str) {
        out.push(json!({"role": "system", "content": instructions}));
    }
    match body.get("input") {
        Some(Value::String(text)) => out.push(json!({"role": "user", "content": text})),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                push_item(&mut out, item).map_err(|why| invalid(&format!("input[{i}]: {why}")))?;
            }
        }
        _ => return Err(invalid("input: must be a string or an array of items")),
    }
    Ok(out)
}

/// One input item onto the chat messages; consecutive function calls join one assistant turn.
fn push_item(out: &mut Vec<Value>, item: &Value) -> Result<(), String> {
    let text = |key: &str| item.get(key).and_then(Value::as_str);
    match text("type").unwrap_or("message") {
        "message" => out.push(message(item)?),
        "function_call" => {
            let call = json!({"id": text("call_id").ok_or("function_call without call_id")?, "type": "function",
                "function": {"name": text("name").ok_or("function_call without name")?,
                             "arguments": text("arguments").unwrap_or("{}")}});
            match out.last_mut().filter(|m| m["role"] == "assistant") {
                Some(last) => push_call(last, call),
                None => out.push(json!({"role": "assistant", "content": null, "tool_calls": [call]})),
            }
        }
        "function_call_output" => {
            let id = text("call_id").ok_or("function_call_output without call_id")?;
            out.push(json!({"role": "tool", "tool_call_id": id, "content": output_text(item.get("output"))}));
        }
        // Reasoning carried between turns has no place in a chat request.
        "reasoning" => {}
        other => return Err(format!("an item of type \"{other}\" cannot be sent to this target")),
    }
    Ok(())
}

fn push_call(assistant: &mut Value, call: Value) {
    match assistant.get_mut("tool_calls").and_then(Value::as_array_mut) {
        Some(calls) => calls.push(call),
        None => assistant["tool_calls"] = json!([call]),
    }
}

fn output_text(output: Option<&Value>) -> String {
    match output {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => {
            parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n")
        }
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// A message item: `developer` is chat's `system`; parts become chat parts (assistant
/// history as plain text).
fn message(item: &Value) -> Result<Value, String> {
    let role = match item.get("role").and_then(Value::as_str) {
        Some("developer" | "system") => "system",
        Some(role @ ("user" | "assistant")) => role,
        _ => return Err("role: must be user, assistant, system or developer".into()),
    };
    let parts = match item.get("content") {
        Some(Value::String(text)) => return Ok(json!({"role": role, "content": text})),
        Some(Value::Array(parts)) => parts,
        _ => return Err("content: must be a string or an array of parts".into()),
    };
    if role != "user" {
        let text: Vec<&str> = parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect();
        return Ok(json!({"role": role, "content": text.join("")}));
    }
    let parts: Result<Vec<Value>, String> = parts.iter().enumerate().map(|(i, p)| part(i, p)).collect();
    Ok(json!({"role": role, "content": parts?}))
}

fn part(i: usize, part: &Value) -> Result<Value, String> {
    match part.get("type").and_then(Value::as_str) {
        Some("input_text" | "output_text") => {
            Ok(json!({"type": "text", "text": part.get("text").cloned().unwrap_or_default()}))
        }
        Some("input_image") => {
            let url = part.get("image_url").and_then(Value::as_str);
            let url =
                url.ok_or(format!("content[{i}]: only an input_image with image_url can be sent to this target"))?;
            let mut image = json!({"url": url});
            if let Some(detail) = part.get("detail").filter(|d| d.is_string()) {
                image["detail"] = detail.clone();
            }
            Ok(json!({"type": "image_url", "image_url": image}))
        }
        other => Err(format!("content[{i}]: a part of type {other:?} cannot be sent to this target")),
    }
}

/// `text.format` as chat's `response_format` (`None` for plain text).
fn response_format(format: Option<&Value>) -> Result<Option<Value>, CodecError> {
    let Some(format) = format.filter(|f| f.is_object()) else { return Ok(None) };
    match format.get("type").and_then(Value::as_str) {
        Some("text") | None => Ok(None),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            let mut schema = Map::new();
            for key in ["name", "schema", "strict", "description"] {
                copy(format.as_object().unwrap_or(&Map::new()), &mut schema, key, key);
            }
            Ok(Some(json!({"type": "json_schema", "json_schema": schema})))
        }
        Some(other) => Err(invalid(&format!("text.format.type: \"{other}\" is not text, json_object or json_schema"))),
    }
}

/// Function `tools` and `tool_choice` in chat's shape; built-in tools are refused.
fn tools(body: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), CodecError> {
    if let Some(tools) = body.get("tools").and_then(Value::as_array) {
        let functions: Result<Vec<Value>, CodecError> = tools.iter().enumerate().map(|(i, t)| function(i, t)).collect();
        out.insert("tools".into(), Value::Array(functions?));
    }
    let choice = match body.get("tool_choice") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(mode)) => json!(mode),
        Some(choice) if choice.get("type") == Some(&json!("function")) => {
            json!({"type": "function", "function": {"name": choice.get("name").cloned().unwrap_or_default()}})
        }
        Some(_) => {
            return Err(invalid("tool_choice: only auto, none, required or a function can be sent to this target"))
        }
    };
    out.insert("tool_choice".into(), choice);
    Ok(())
}

fn function(i: usize, tool: &Value) -> Result<Value, CodecError> {
    if tool.get("type").and_then(Value::as_str) != Some("function") {
        let kind = tool.get("type").and_then(Value::as_str).unwrap_or("?");
        return Err(invalid(&format!("tools[{i}]: the built-in tool \"{kind}\" cannot be sent to this target")));
    }
    let name = tool.get("name").and_then(Value::as_str).ok_or_else(|| invalid(&format!("tools[{i}].name: missing")))?;
    let mut function = json!({"name": name, "parameters": tool.get("parameters").cloned().unwrap_or(json!({}))});
    for key in ["description", "strict"] {
        if let Some(value) = tool.get(key).filter(|v| !v.is_null()) {
            function[key] = value.clone();
        }
    }
    Ok(json!({"type": "function", "function": function}))
}

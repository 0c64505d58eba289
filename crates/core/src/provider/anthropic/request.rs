//! OpenAI request -> Anthropic `/v1/messages` body.
//!
//! The output is built from scratch, field by field: anything OpenAI-only that Anthropic would
//! reject (`frequency_penalty`, `logit_bias`, `response_format`, `seed`, …) is left out by
//! construction, while what cannot be expressed at all (`n` > 1, a malformed tool call, an
//! image that is neither a data URL nor http(s)) is an [`CodecError::InvalidRequest`] naming
//! the field's path, so the client hears about it before a provider is called.

use std::fmt::Display;

use serde_json::{json, Map, Value};

use crate::provider::CodecError;

type Object = Map<String, Value>;

/// Per-target knobs for building the upstream request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// Used when the client sent neither `max_completion_tokens` nor `max_tokens`:
    /// Anthropic requires the field, OpenAI does not.
    pub default_max_tokens: Option<u32>,
}

const MAX_TOKENS_REQUIRED: &str =
    "max_tokens is required by Anthropic: set it in the request or in the target's override_params";

const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// `body`: an OpenAI chat.completions request (override_params already merged in).
/// Returns the Anthropic /v1/messages body.
pub fn chat_request(body: &Object, opts: &RequestOptions) -> Result<Value, CodecError> {
    reject_multiple_choices(body)?;
    let conversation = Conversation::from_messages(body.get("messages"))?;
    let mut out = Object::new();
    out.insert("model".into(), model(body)?);
    let keys = ["max_completion_tokens", "max_tokens"];
    out.insert("max_tokens".into(), max_tokens(body, &keys, opts)?);
    if !conversation.system.is_empty() {
        out.insert("system".into(), Value::Array(conversation.system));
    }
    out.insert("messages".into(), conversation.turns.into_iter().map(Turn::into_json).collect());
    copy_sampling(body, &mut out)?;
    insert_tools(body, &mut out)?;
    if let Some(thinking) = non_null(body, "thinking") {
        // Anthropic's own extended-thinking switch, passed through for clients that know it.
        out.insert("thinking".into(), thinking.clone());
    }
    Ok(Value::Object(out))
}

/// OpenAI legacy /v1/completions request (`prompt` string or a one-element array of strings)
/// -> Anthropic messages body (the prompt becomes one user message).
pub fn completion_request(body: &Object, opts: &RequestOptions) -> Result<Value, CodecError> {
    reject_multiple_choices(body)?;
    if body.get("echo") == Some(&Value::Bool(true)) {
        return Err(invalid("echo", "is not supported by Anthropic"));
    }
    let prompt = prompt_text(body.get("prompt"))?;
    let mut out = Object::new();
    out.insert("model".into(), model(body)?);
    out.insert("max_tokens".into(), max_tokens(body, &["max_tokens"], opts)?);
    let message = json!({"role": "user", "content": [{"type": "text", "text": prompt}]});
    out.insert("messages".into(), json!([message]));
    copy_sampling(body, &mut out)?;
    Ok(Value::Object(out))
}

fn invalid(path: impl Display, reason: impl Display) -> CodecError {
    CodecError::InvalidRequest(format!("{path}: {reason}"))
}

fn non_null<'a>(body: &'a Object, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

fn str_field<'a>(value: &'a Value, key: &str, parent: &str) -> Result<&'a str, CodecError> {
    let found = value.get(key).and_then(Value::as_str);
    found.ok_or_else(|| invalid(format!("{parent}.{key}"), "is required and must be a string"))
}

fn model(body: &Object) -> Result<Value, CodecError> {
    match body.get("model").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => Ok(Value::String(name.to_owned())),
        _ => Err(invalid("model", "is required")),
    }
}

/// Anthropic answers with exactly one choice, so asking for more cannot be honoured.
fn reject_multiple_choices(body: &Object) -> Result<(), CodecError> {
    for key in ["n", "best_of"] {
        match non_null(body, key).map(Value::as_u64) {
            None | Some(Some(1)) => {}
            Some(_) => return Err(invalid(key, "must be 1: Anthropic returns one choice per request")),
        }
    }
    Ok(())
}

fn max_tokens(body: &Object, keys: &[&str], opts: &RequestOptions) -> Result<Value, CodecError> {
    if let Some((key, value)) = keys.iter().find_map(|k| non_null(body, k).map(|v| (k, v))) {
        let positive = value.as_u64().filter(|n| *n > 0);
        return positive.map(Value::from).ok_or_else(|| invalid(key, "must be a positive integer"));
    }
    let default = opts.default_max_tokens.map(Value::from);
    default.ok_or_else(|| CodecError::InvalidRequest(MAX_TOKENS_REQUIRED.into()))
}

fn prompt_text(prompt: Option<&Value>) -> Result<String, CodecError> {
    let text = match prompt {
        Some(Value::String(text)) => text,
        Some(Value::Array(items)) if items.len() == 1 => match &items[0] {
            Value::String(text) => text,
            _ => return Err(invalid("prompt[0]", "must be a string (token arrays are not supported)")),
        },
        Some(Value::Array(items)) if items.len() > 1 => {
            return Err(invalid("prompt", "must be a single prompt: Anthropic answers one prompt per request"))
        }
        _ => return Err(invalid("prompt", "is required and must be a string")),
    };
    match text.is_empty() {
        true => Err(invalid("prompt", "must not be empty")),
        false => Ok(text.clone()),
    }
}

fn copy_sampling(body: &Object, out: &mut Object) -> Result<(), CodecError> {
    for key in ["temperature", "top_p", "top_k"] {
        if let Some(value) = non_null(body, key) {
            out.insert(key.into(), value.clone());
        }
    }
    if let Some(stop) = stop_sequences(body)? {
        out.insert("stop_sequences".into(), stop);
    }
    if let Some(Value::Bool(stream)) = body.get("stream") {
        out.insert("stream".into(), Value::Bool(*stream));
    }
    if let Some(user) = non_null(body, "user") {
        let user = user.as_str().ok_or_else(|| invalid("user", "must be a string"))?;
        out.insert("metadata".into(), json!({"user_id": user}));
    }
    Ok(())
}

fn stop_sequences(body: &Object) -> Result<Option<Value>, CodecError> {
    let items = match non_null(body, "stop") {
        None => return Ok(None),
        Some(Value::String(stop)) => return Ok(Some(json!([stop]))),
        Some(Value::Array(items)) if items.is_empty() => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("stop", "must be a string or an array of strings")),
    };
    for (i, item) in items.iter().enumerate() {
        if !item.is_string() {
            return Err(invalid(format!("stop[{i}]"), "must be a string"));
        }
    }
    Ok(Some(Value::Array(items.clone())))
}

/// The messages, regrouped the way Anthropic wants them: system text hoisted out, and
/// consecutive turns of the same role (tool results count as user) merged into one.
#[derive(Default)]
struct Conversation {
    system: Vec<Value>,
    turns: Vec<Turn>,
}

struct Turn {
    role: &'static str,
    blocks: Vec<Value>,
}

impl Turn {
    fn into_json(self) -> Value {
        json!({"role": self.role, "content": self.blocks})
    }
}

impl Conversation {
    fn from_messages(messages: Option<&Value>) -> Result<Self, CodecError> {
        let list = messages.and_then(Value::as_array);
        let list = list.ok_or_else(|| invalid("messages", "is required and must be an array"))?;
        let mut conversation = Self::default();
        for (i, message) in list.iter().enumerate() {
            conversation.add(message, &format!("messages[{i}]"))?;
        }
        if conversation.turns.is_empty() {
            return Err(invalid("messages", "must contain at least one user or assistant message"));
        }
        Ok(conversation)
    }

    fn add(&mut self, message: &Value, path: &str) -> Result<(), CodecError> {
        if !message.is_object() {
            return Err(invalid(path, "must be an object"));
        }
        match message.get("role").and_then(Value::as_str) {
            Some("system" | "developer") => self.system.extend(optional_text_blocks(message, path)?),
            Some("user") => self.push("user", user_blocks(message, path)?),
            Some("assistant") => self.push("assistant", assistant_blocks(message, path)?),
            Some("tool") => self.push("user", vec![tool_result(message, path)?]),
            Some(other) => return Err(invalid(format!("{path}.role"), format!("unsupported role {other:?}"))),
            None => return Err(invalid(format!("{path}.role"), "is required")),
        }
        Ok(())
    }

    fn push(&mut self, role: &'static str, blocks: Vec<Value>) {
        match self.turns.last_mut() {
            Some(turn) if turn.role == role => turn.blocks.extend(blocks),
            _ => self.turns.push(Turn { role, blocks }),
        }
    }
}

fn optional_text_blocks(message: &Value, path: &str) -> Result<Vec<Value>, CodecError> {
    match message.get("content") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(content) => text_blocks(content, &format!("{path}.content")),
    }
}

/// A string, or an array of `text` parts, as Anthropic text blocks (empty text dropped:
/// Anthropic rejects empty text blocks).
fn text_blocks(content: &Value, path: &str) -> Result<Vec<Value>, CodecError> {
    match content {
        Value::String(text) if text.is_empty() => Ok(Vec::new()),
        Value::String(text) => Ok(vec![json!({"type": "text", "text": text})]),
        Value::Array(parts) => collect_parts(parts, path, |part, part_path| match part_type(part, part_path)? {
            "text" => text_block(part, part_path),
            other => Err(invalid(format!("{part_path}.type"), format!("{other:?} parts are not allowed here"))),
        }),
        _ => Err(invalid(path, "must be a string or an array of content parts")),
    }
}

fn collect_parts<F>(parts: &[Value], path: &str, convert: F) -> Result<Vec<Value>, CodecError>
where
    F: Fn(&Value, &str) -> Result<Option<Value>, CodecError>,
{
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        blocks.extend(convert(part, &format!("{path}[{j}]"))?);
    }
    Ok(blocks)
}

fn part_type<'a>(part: &'a Value, path: &str) -> Result<&'a str, CodecError> {
    part.get("type").and_then(Value::as_str).ok_or_else(|| invalid(format!("{path}.type"), "is required"))
}

fn text_block(part: &Value, path: &str) -> Result<Option<Value>, CodecError> {
    let text = str_field(part, "text", path)?;
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(with_cache_control(json!({"type": "text", "text": text}), part)))
}

/// Carries Anthropic's prompt-caching marker from an OpenAI-shaped part, as Portkey does.
fn with_cache_control(mut block: Value, source: &Value) -> Value {
    if let (Some(marker), Some(out)) = (source.get("cache_control"), block.as_object_mut()) {
        out.insert("cache_control".into(), marker.clone());
    }
    block
}

fn user_blocks(message: &Value, path: &str) -> Result<Vec<Value>, CodecError> {
    let content_path = format!("{path}.content");
    let blocks = match message.get("content") {
        Some(Value::Array(parts)) => collect_parts(parts, &content_path, user_part)?,
        Some(content @ Value::String(_)) => text_blocks(content, &content_path)?,
        _ => return Err(invalid(&content_path, "is required and must be a string or an array of content parts")),
    };
    match blocks.is_empty() {
        true => Err(invalid(content_path, "must not be empty")),
        false => Ok(blocks),
    }
}

fn user_part(part: &Value, path: &str) -> Result<Option<Value>, CodecError> {
    match part_type(part, path)? {
        "text" => text_block(part, path),
        "image_url" => image_block(part, path).map(Some),
        other => Err(invalid(format!("{path}.type"), format!("{other:?} parts are not supported by Anthropic"))),
    }
}

fn image_block(part: &Value, path: &str) -> Result<Value, CodecError> {
    let image_path = format!("{path}.image_url");
    let url = match part.get("image_url") {
        Some(Value::String(url)) => url.as_str(),
        Some(image @ Value::Object(_)) => str_field(image, "url", &image_path)?,
        _ => return Err(invalid(&image_path, "is required")),
    };
    let source = image_source(url).map_err(|reason| invalid(&image_path, reason))?;
    Ok(with_cache_control(json!({"type": "image", "source": source}), part))
}

fn image_source(url: &str) -> Result<Value, String> {
    if let Some(rest) = strip_prefix_ignore_case(url, "data:") {
        let (meta, data) = rest.split_once(',').ok_or("data URL has no ',' before its data")?;
        let media_type = meta.strip_suffix(";base64").ok_or("data URL must be base64 (data:<type>;base64,...)")?;
        if !IMAGE_TYPES.contains(&media_type) {
            return Err(format!("image type {media_type:?} is not supported by Anthropic (jpeg, png, gif, webp)"));
        }
        return Ok(json!({"type": "base64", "media_type": media_type, "data": data}));
    }
    let is_web = ["https://", "http://"].iter().any(|scheme| strip_prefix_ignore_case(url, scheme).is_some());
    match is_web {
        true => Ok(json!({"type": "url", "url": url})),
        false => Err("expected a data: URL or an http(s) URL".into()),
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

fn assistant_blocks(message: &Value, path: &str) -> Result<Vec<Value>, CodecError> {
    let mut blocks = optional_text_blocks(message, path)?;
    if let Some(calls) = message.get("tool_calls").filter(|v| !v.is_null()) {
        let calls_path = format!("{path}.tool_calls");
        let calls = calls.as_array().ok_or_else(|| invalid(&calls_path, "must be an array"))?;
        for (j, call) in calls.iter().enumerate() {
            blocks.push(tool_use(call, &format!("{calls_path}[{j}]"))?);
        }
    }
    match blocks.is_empty() {
        true => Err(invalid(path, "an assistant message needs content or tool_calls")),
        false => Ok(blocks),
    }
}

fn tool_use(call: &Value, path: &str) -> Result<Value, CodecError> {
    let id = str_field(call, "id", path)?;
    let function_path = format!("{path}.function");
    let function = call.get("function").filter(|f| f.is_object());
    let function = function.ok_or_else(|| invalid(&function_path, "is required"))?;
    let name = str_field(function, "name", &function_path)?;
    let input = tool_input(function.get("arguments"), &format!("{function_path}.arguments"))?;
    Ok(json!({"type": "tool_use", "id": id, "name": name, "input": input}))
}

/// OpenAI sends arguments as a JSON string; Anthropic wants the object itself.
fn tool_input(arguments: Option<&Value>, path: &str) -> Result<Value, CodecError> {
    let text = match arguments {
        None | Some(Value::Null) => return Ok(json!({})),
        Some(object @ Value::Object(_)) => return Ok(object.clone()),
        Some(Value::String(text)) if text.trim().is_empty() => return Ok(json!({})),
        Some(Value::String(text)) => text,
        Some(_) => return Err(invalid(path, "must be a string holding a JSON object")),
    };
    match serde_json::from_str::<Value>(text) {
        Ok(object @ Value::Object(_)) => Ok(object),
        Ok(_) => Err(invalid(path, "must be a JSON object")),
        Err(e) => Err(invalid(path, format!("is not valid JSON ({e})"))),
    }
}

fn tool_result(message: &Value, path: &str) -> Result<Value, CodecError> {
    let id = str_field(message, "tool_call_id", path)?;
    let mut block = json!({"type": "tool_result", "tool_use_id": id});
    match message.get("content") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => block["content"] = Value::String(text.clone()),
        Some(content) => block["content"] = Value::Array(text_blocks(content, &format!("{path}.content"))?),
    }
    Ok(block)
}

fn insert_tools(body: &Object, out: &mut Object) -> Result<(), CodecError> {
    let tools = match non_null(body, "tools") {
        None => return Ok(()),
        Some(Value::Array(tools)) => tools,
        Some(_) => return Err(invalid("tools", "must be an array")),
    };
    if tools.is_empty() {
        return Ok(());
    }
    let mut converted = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        converted.push(tool_definition(tool, &format!("tools[{i}]"))?);
    }
    out.insert("tools".into(), Value::Array(converted));
    // Only alongside tools: Anthropic rejects a tool_choice with nothing to choose from.
    if let Some(choice) = tool_choice(body)? {
        out.insert("tool_choice".into(), choice);
    }
    Ok(())
}

fn tool_definition(tool: &Value, path: &str) -> Result<Value, CodecError> {
    match tool.get("type").and_then(Value::as_str) {
        None | Some("function") => {}
        Some(other) => {
            return Err(invalid(format!("{path}.type"), format!("{other:?} tools are not supported by Anthropic")))
        }
    }
    let function_path = format!("{path}.function");
    let function = tool.get("function").filter(|f| f.is_object());
    let function = function.ok_or_else(|| invalid(&function_path, "is required"))?;
    let mut out = json!({"name": str_field(function, "name", &function_path)?});
    if let Some(description) = function.get("description").and_then(Value::as_str) {
        out["description"] = description.into();
    }
    let schema = function.get("parameters").filter(|p| !p.is_null()).cloned();
    out["input_schema"] = schema.unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    Ok(with_cache_control(out, tool))
}

fn tool_choice(body: &Object) -> Result<Option<Value>, CodecError> {
    let serial = body.get("parallel_tool_calls") == Some(&Value::Bool(false));
    let mut choice = match non_null(body, "tool_choice") {
        None if serial => json!({"type": "auto"}),
        None => return Ok(None),
        Some(Value::String(mode)) => tool_choice_mode(mode)?,
        Some(named) => named_tool_choice(named)?,
    };
    if serial && choice["type"] != "none" {
        choice["disable_parallel_tool_use"] = Value::Bool(true);
    }
    Ok(Some(choice))
}

fn tool_choice_mode(mode: &str) -> Result<Value, CodecError> {
    match mode {
        "auto" => Ok(json!({"type": "auto"})),
        "required" => Ok(json!({"type": "any"})),
        "none" => Ok(json!({"type": "none"})),
        other => Err(invalid("tool_choice", format!("unknown mode {other:?} (auto, required, none or a function)"))),
    }
}

fn named_tool_choice(choice: &Value) -> Result<Value, CodecError> {
    if choice.get("type").and_then(Value::as_str) != Some("function") {
        return Err(invalid("tool_choice.type", "must be \"function\""));
    }
    let function = choice.get("function").unwrap_or(&Value::Null);
    let name = str_field(function, "name", "tool_choice.function")?;
    Ok(json!({"type": "tool", "name": name}))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    fn object(value: Value) -> Object {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn opts() -> RequestOptions {
        RequestOptions::default()
    }

    fn chat(body: Value) -> Result<Value, CodecError> {
        chat_request(&object(body), &opts())
    }

    /// A valid request around `messages`.
    fn conversation(messages: Value) -> Value {
        json!({"model": "claude-3-5-haiku-20241022", "max_tokens": 10, "messages": messages})
    }

    fn user(content: Value) -> Value {
        conversation(json!([{"role": "user", "content": content}]))
    }

    /// `hi` from the user, plus one extra top-level field.
    fn hi_with(key: &str, value: Value) -> Value {
        with(user(json!("hi")), key, value)
    }

    fn with(mut body: Value, key: &str, value: Value) -> Value {
        body[key] = value;
        body
    }

    fn without(mut body: Value, key: &str) -> Value {
        if let Some(map) = body.as_object_mut() {
            map.remove(key);
        }
        body
    }

    fn assistant_calls(calls: Value) -> Value {
        conversation(json!([{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": calls}]))
    }

    fn image(url: Value) -> Value {
        user(json!([{"type": "image_url", "image_url": url}]))
    }

    #[test]
    fn golden_requests_translate_to_recorded_upstream_bodies() {
        type Translate = fn(&Object, &RequestOptions) -> Result<Value, CodecError>;
        let cases: [(&str, Translate); 5] = [
            ("chat_system_user", chat_request),
            ("chat_tools", chat_request),
            ("chat_images", chat_request),
            ("chat_stop_max_completion_tokens", chat_request),
            ("completion_prompt", completion_request),
        ];
        for (case, translate) in cases {
            let body = object(fixtures::json(&format!("{case}.request.json")));
            let expected = fixtures::json(&format!("{case}.upstream_request.json"));
            assert_eq!(translate(&body, &opts()), Ok(expected), "case {case}");
        }
    }

    #[test]
    fn each_invalid_request_names_its_field() {
        let hi = json!({"role": "user", "content": "hi"});
        let f = json!([{"type": "function", "function": {"name": "f"}}]);
        let cases: Vec<(&str, Value, &str)> = vec![
            ("model_is_required", without(user(json!("hi")), "model"), "model: is required"),
            (
                "n_above_one_is_refused",
                hi_with("n", json!(2)),
                "n: must be 1: Anthropic returns one choice per request",
            ),
            ("max_tokens_is_required_without_a_default", without(user(json!("hi")), "max_tokens"), MAX_TOKENS_REQUIRED),
            ("max_tokens_must_be_positive", hi_with("max_tokens", json!(0)), "max_tokens: must be a positive integer"),
            (
                "max_completion_tokens_must_be_an_integer",
                hi_with("max_completion_tokens", json!("many")),
                "max_completion_tokens: must be a positive integer",
            ),
            (
                "messages_are_required",
                without(user(json!("hi")), "messages"),
                "messages: is required and must be an array",
            ),
            (
                "system_alone_is_not_a_conversation",
                conversation(json!([{"role": "system", "content": "be nice"}])),
                "messages: must contain at least one user or assistant message",
            ),
            ("role_is_required", conversation(json!([{"content": "hi"}])), "messages[0].role: is required"),
            (
                "function_role_is_refused",
                conversation(json!([{"role": "function", "content": "{}"}])),
                "messages[0].role: unsupported role \"function\"",
            ),
            (
                "image_url_must_be_data_or_http",
                conversation(json!([
                    {"role": "system", "content": "s"},
                    {"role": "user", "content": "a"},
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://host/cat.png"}}]}
                ])),
                "messages[2].content[0].image_url: expected a data: URL or an http(s) URL",
            ),
            (
                "data_url_must_be_base64",
                image(json!({"url": "data:image/png,rawbytes"})),
                "messages[0].content[0].image_url: data URL must be base64 (data:<type>;base64,...)",
            ),
            (
                "image_type_must_be_one_anthropic_reads",
                image(json!({"url": "data:image/tiff;base64,AAAA"})),
                "messages[0].content[0].image_url: image type \"image/tiff\" is not supported by Anthropic \
                 (jpeg, png, gif, webp)",
            ),
            (
                "image_url_needs_a_url",
                image(json!({"detail": "low"})),
                "messages[0].content[0].image_url.url: is required and must be a string",
            ),
            (
                "audio_parts_are_refused",
                user(json!([{"type": "text", "text": "hear"}, {"type": "input_audio", "input_audio": {}}])),
                "messages[0].content[1].type: \"input_audio\" parts are not supported by Anthropic",
            ),
            ("content_part_needs_a_type", user(json!([{"text": "hi"}])), "messages[0].content[0].type: is required"),
            ("user_content_must_not_be_empty", user(json!("")), "messages[0].content: must not be empty"),
            (
                "user_content_is_required",
                user(Value::Null),
                "messages[0].content: is required and must be a string or an array of content parts",
            ),
            (
                "system_parts_must_be_text",
                conversation(
                    json!([{"role": "system", "content": [{"type": "image_url", "image_url": "https://x/y.png"}]}]),
                ),
                "messages[0].content[0].type: \"image_url\" parts are not allowed here",
            ),
            (
                "tool_call_arguments_must_be_json",
                assistant_calls(json!([{"id": "t1", "function": {"name": "f", "arguments": "{\"city\": \"Par"}}])),
                "messages[1].tool_calls[0].function.arguments: is not valid JSON \
                 (EOF while parsing a string at line 1 column 13)",
            ),
            (
                "tool_call_arguments_must_be_an_object",
                assistant_calls(json!([{"id": "t1", "function": {"name": "f", "arguments": "[1]"}}])),
                "messages[1].tool_calls[0].function.arguments: must be a JSON object",
            ),
            (
                "tool_call_needs_an_id",
                assistant_calls(json!([{"function": {"name": "f", "arguments": "{}"}}])),
                "messages[1].tool_calls[0].id: is required and must be a string",
            ),
            (
                "tool_call_needs_a_name",
                assistant_calls(json!([{"id": "t1", "function": {"arguments": "{}"}}])),
                "messages[1].tool_calls[0].function.name: is required and must be a string",
            ),
            (
                "assistant_needs_content_or_tool_calls",
                conversation(json!([hi, {"role": "assistant", "content": null}])),
                "messages[1]: an assistant message needs content or tool_calls",
            ),
            (
                "tool_message_needs_tool_call_id",
                conversation(json!([hi, {"role": "tool", "content": "42"}])),
                "messages[1].tool_call_id: is required and must be a string",
            ),
            (
                "only_function_tools_are_supported",
                hi_with("tools", json!([{"type": "code_interpreter"}])),
                "tools[0].type: \"code_interpreter\" tools are not supported by Anthropic",
            ),
            (
                "tool_definition_needs_a_name",
                hi_with("tools", json!([{"type": "function", "function": {}}])),
                "tools[0].function.name: is required and must be a string",
            ),
            (
                "tool_choice_mode_must_be_known",
                with(hi_with("tools", f.clone()), "tool_choice", json!("sometimes")),
                "tool_choice: unknown mode \"sometimes\" (auto, required, none or a function)",
            ),
            (
                "named_tool_choice_needs_a_name",
                with(hi_with("tools", f.clone()), "tool_choice", json!({"type": "function"})),
                "tool_choice.function.name: is required and must be a string",
            ),
            ("stop_entries_must_be_strings", hi_with("stop", json!([1])), "stop[0]: must be a string"),
            ("user_must_be_a_string", hi_with("user", json!(7)), "user: must be a string"),
        ];
        for (rule, body, message) in cases {
            assert_eq!(chat(body), Err(CodecError::InvalidRequest(message.into())), "rule {rule}");
        }
    }

    #[test]
    fn each_invalid_completion_request_names_its_field() {
        let m = "claude-3-haiku-20240307";
        let cases: Vec<(&str, Value, &str)> = vec![
            ("prompt_is_required", json!({"model": m, "max_tokens": 5}), "prompt: is required and must be a string"),
            (
                "one_prompt_per_request",
                json!({"model": m, "max_tokens": 5, "prompt": ["a", "b"]}),
                "prompt: must be a single prompt: Anthropic answers one prompt per request",
            ),
            (
                "token_prompts_are_refused",
                json!({"model": m, "max_tokens": 5, "prompt": [[1, 2]]}),
                "prompt[0]: must be a string (token arrays are not supported)",
            ),
            (
                "prompt_must_not_be_empty",
                json!({"model": m, "max_tokens": 5, "prompt": ""}),
                "prompt: must not be empty",
            ),
            (
                "echo_is_refused",
                json!({"model": m, "max_tokens": 5, "prompt": "a", "echo": true}),
                "echo: is not supported by Anthropic",
            ),
            (
                "best_of_above_one_is_refused",
                json!({"model": m, "max_tokens": 5, "prompt": "a", "best_of": 3}),
                "best_of: must be 1: Anthropic returns one choice per request",
            ),
            ("completion_needs_max_tokens", json!({"model": m, "prompt": "a"}), MAX_TOKENS_REQUIRED),
        ];
        for (rule, body, message) in cases {
            let got = completion_request(&object(body), &opts());
            assert_eq!(got, Err(CodecError::InvalidRequest(message.into())), "rule {rule}");
        }
    }

    #[test]
    fn tool_choice_modes_map_to_anthropic_types() {
        let cases = [
            (json!("auto"), json!({"type": "auto"})),
            (json!("required"), json!({"type": "any"})),
            (json!("none"), json!({"type": "none"})),
            (json!({"type": "function", "function": {"name": "f"}}), json!({"type": "tool", "name": "f"})),
        ];
        for (choice, expected) in cases {
            let mut body = user(json!("hi"));
            body["tools"] = json!([{"type": "function", "function": {"name": "f"}}]);
            body["tool_choice"] = choice.clone();
            let out = chat(body).unwrap_or_else(|e| panic!("{choice}: {e}"));
            assert_eq!(out["tool_choice"], expected, "tool_choice {choice}");
        }
    }

    #[test]
    fn parallel_tool_calls_false_without_tool_choice_becomes_serial_auto() {
        let mut body = user(json!("hi"));
        body["tools"] = json!([{"type": "function", "function": {"name": "f"}}]);
        body["parallel_tool_calls"] = json!(false);
        let out = chat(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out["tool_choice"], json!({"type": "auto", "disable_parallel_tool_use": true}));
    }

    #[test]
    fn parallel_tool_calls_false_is_not_added_to_tool_choice_none() {
        let mut body = user(json!("hi"));
        body["tools"] = json!([{"type": "function", "function": {"name": "f"}}]);
        body["tool_choice"] = json!("none");
        body["parallel_tool_calls"] = json!(false);
        let out = chat(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out["tool_choice"], json!({"type": "none"}));
    }

    #[test]
    fn tool_choice_without_tools_is_not_sent() {
        let mut body = user(json!("hi"));
        body["tool_choice"] = json!("required");
        let out = chat(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.get("tool_choice"), None);
        assert_eq!(out.get("tools"), None);
    }

    #[test]
    fn stop_string_becomes_a_one_element_array() {
        let mut body = user(json!("hi"));
        body["stop"] = json!("END");
        let out = chat(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out["stop_sequences"], json!(["END"]));
    }

    #[test]
    fn default_max_tokens_applies_only_when_the_client_sent_none() {
        let with_default = RequestOptions { default_max_tokens: Some(4096) };
        let mut body = object(user(json!("hi")));
        body.remove("max_tokens");
        let out = chat_request(&body, &with_default).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out["max_tokens"], json!(4096));
        body.insert("max_tokens".into(), json!(7));
        let out = chat_request(&body, &with_default).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out["max_tokens"], json!(7));
    }

    #[test]
    fn empty_tool_call_arguments_are_an_empty_input() {
        let body = json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "time?"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "t1", "type": "function",
                "function": {"name": "now", "arguments": ""}}]}]});
        let out = chat(body).unwrap_or_else(|e| panic!("{e}"));
        let expected = json!([{"type": "tool_use", "id": "t1", "name": "now", "input": {}}]);
        assert_eq!(out["messages"][1]["content"], expected);
    }

    #[test]
    fn consecutive_assistant_messages_merge_into_one_turn() {
        let body = json!({"model": "m", "max_tokens": 5, "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "one"},
            {"role": "assistant", "content": [{"type": "text", "text": "two"}]}]});
        let out = chat(body).unwrap_or_else(|e| panic!("{e}"));
        let expected = json!([
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}]);
        assert_eq!(out["messages"], expected);
    }

    #[test]
    fn anthropic_thinking_setting_passes_through() {
        let mut body = user(json!("hi"));
        body["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
        let out = chat(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out["thinking"], json!({"type": "enabled", "budget_tokens": 2048}));
    }
}

//! The checks Anthropic's Messages API makes on a request body, with its wording: unknown top-level fields,
//! required `model` / `max_tokens` / `messages`, roles only `user` / `assistant` (a `system` role is refused with a
//! pointer to the top-level `system` parameter), content blocks of known types, tools with `input_schema`.
//! Pure: returns the message of the first problem found.

use serde_json::{Map, Value};

const FIELDS: [&str; 17] = [
    "model",
    "messages",
    "max_tokens",
    "system",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "context_management",
];

const BLOCK_TYPES: [&str; 8] =
    ["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "search_result"];

/// A block field and how to tell it is well-typed.
type FieldCheck = (&'static str, fn(&Value) -> bool);

const SYSTEM_ROLE: &str = "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` \
parameter, not \"system\" as an input message role.";

/// The first problem with a Messages request body, worded as the API words it.
pub(crate) fn check(body: &Map<String, Value>) -> Result<(), String> {
    if let Some(extra) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!("{extra}: Extra inputs are not permitted"));
    }
    match body.get("model") {
        Some(Value::String(model)) if !model.is_empty() => {}
        Some(_) => return Err("model: Input should be a valid string".into()),
        None => return Err("model: Field required".into()),
    }
    check_max_tokens(body.get("max_tokens"))?;
    check_system(body.get("system"))?;
    check_messages(body.get("messages"))?;
    check_tools(body.get("tools"))
}

fn check_max_tokens(value: Option<&Value>) -> Result<(), String> {
    match value {
        None => Err("max_tokens: Field required".into()),
        Some(v) => match v.as_i64() {
            None => Err("max_tokens: Input should be a valid integer".into()),
            Some(n) if n < 1 => Err("max_tokens: Input should be greater than or equal to 1".into()),
            Some(_) => Ok(()),
        },
    }
}

fn check_system(value: Option<&Value>) -> Result<(), String> {
    match value {
        None | Some(Value::String(_)) => Ok(()),
        Some(Value::Array(blocks)) => {
            blocks.iter().enumerate().try_for_each(|(j, block)| check_block(&format!("system.{j}"), block))
        }
        Some(_) => Err("system: Input should be a valid list".into()),
    }
}

fn check_messages(value: Option<&Value>) -> Result<(), String> {
    let messages = match value {
        None => return Err("messages: Field required".into()),
        Some(Value::Array(messages)) => messages,
        Some(_) => return Err("messages: Input should be a valid list".into()),
    };
    if messages.is_empty() {
        return Err("messages: at least one message is required".into());
    }
    let last = messages.len() - 1;
    messages.iter().enumerate().try_for_each(|(i, message)| check_message(i, i == last, message))
}

fn check_message(i: usize, is_last: bool, message: &Value) -> Result<(), String> {
    let role = message.get("role").and_then(Value::as_str);
    match role {
        Some("user") | Some("assistant") => {}
        Some("system") => return Err(SYSTEM_ROLE.into()),
        Some(_) => return Err(format!("messages.{i}.role: Input should be 'user' or 'assistant'")),
        None => return Err(format!("messages.{i}.role: Field required")),
    }
    let may_be_empty = is_last && role == Some("assistant");
    check_content(i, may_be_empty, message.get("content"))
}

fn check_content(i: usize, may_be_empty: bool, content: Option<&Value>) -> Result<(), String> {
    let empty = match content {
        None => return Err(format!("messages.{i}.content: Field required")),
        Some(Value::String(text)) => text.is_empty(),
        Some(Value::Array(blocks)) => {
            for (j, block) in blocks.iter().enumerate() {
                check_block(&format!("messages.{i}.content.{j}"), block)?;
            }
            blocks.is_empty()
        }
        Some(_) => return Err(format!("messages.{i}.content: Input should be a valid list")),
    };
    if empty && !may_be_empty {
        return Err(format!(
            "messages.{i}: all messages must have non-empty content except for the optional final assistant message"
        ));
    }
    Ok(())
}

fn check_block(at: &str, block: &Value) -> Result<(), String> {
    let kind = block.get("type").and_then(Value::as_str);
    let Some(kind) = kind.filter(|k| BLOCK_TYPES.contains(k)) else {
        let tag = kind.unwrap_or("");
        return Err(format!(
            "{at}: Input tag '{tag}' found using 'type' does not match any of the expected tags: {}",
            quoted(&BLOCK_TYPES)
        ));
    };
    let required: &[FieldCheck] = match kind {
        "text" => &[("text", Value::is_string)],
        "image" | "document" => &[("source", Value::is_object)],
        "tool_use" => &[("id", Value::is_string), ("name", Value::is_string), ("input", Value::is_object)],
        "tool_result" => &[("tool_use_id", Value::is_string)],
        _ => &[],
    };
    for (field, valid) in required {
        if !block.get(*field).is_some_and(valid) {
            return Err(format!("{at}.{kind}.{field}: Field required"));
        }
    }
    Ok(())
}

fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    quoted.join(", ")
}

fn check_tools(value: Option<&Value>) -> Result<(), String> {
    let tools = match value {
        None => return Ok(()),
        Some(Value::Array(tools)) => tools,
        Some(_) => return Err("tools: Input should be a valid list".into()),
    };
    for (i, tool) in tools.iter().enumerate() {
        let custom = tool.get("type").and_then(Value::as_str).is_none_or(|t| t == "custom");
        if !tool.get("name").is_some_and(Value::is_string) {
            return Err(format!("tools.{i}.name: Field required"));
        }
        if custom && !tool.get("input_schema").is_some_and(Value::is_object) {
            return Err(format!("tools.{i}.custom.input_schema: Field required"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;
    use serde_json::{json, Value};

    fn problem(body: Value) -> Option<String> {
        body.as_object().and_then(|b| check(b).err())
    }

    fn valid() -> Value {
        json!({"model": "claude-3-opus-20240229", "max_tokens": 200,
               "messages": [{"role": "user", "content": "hi"}]})
    }

    #[test]
    fn a_plain_request_passes() {
        assert_eq!(problem(valid()), None);
    }

    #[test]
    fn system_role_points_to_the_top_level_parameter() {
        let mut body = valid();
        body["messages"] = json!([{"role": "system", "content": "be nice"}, {"role": "user", "content": "hi"}]);
        assert!(problem(body).is_some_and(|m| m.contains("top-level `system` parameter")));
    }

    #[test]
    fn openai_only_fields_are_extra_inputs() {
        let mut body = valid();
        body["stream_options"] = json!({"include_usage": true});
        assert_eq!(problem(body).as_deref(), Some("stream_options: Extra inputs are not permitted"));
    }

    #[test]
    fn max_tokens_is_required() {
        let mut body = valid();
        body.as_object_mut().map(|b| b.remove("max_tokens"));
        assert_eq!(problem(body).as_deref(), Some("max_tokens: Field required"));
    }

    #[test]
    fn openai_image_parts_are_unknown_blocks() {
        let mut body = valid();
        body["messages"][0]["content"] = json!([{"type": "image_url", "image_url": {"url": "x"}}]);
        assert!(problem(body).is_some_and(|m| m.starts_with("messages.0.content.0: Input tag 'image_url'")));
    }

    #[test]
    fn tools_need_an_input_schema() {
        let mut body = valid();
        body["tools"] = json!([{"name": "get_weather", "parameters": {}}]);
        assert!(problem(body).is_some_and(|m| m.contains("input_schema: Field required")));
    }

    #[test]
    fn only_a_final_assistant_message_may_be_empty() {
        let mut body = valid();
        body["messages"] = json!([{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]);
        assert_eq!(problem(body.clone()), None);
        body["messages"][0]["content"] = json!("");
        assert!(problem(body).is_some());
    }
}

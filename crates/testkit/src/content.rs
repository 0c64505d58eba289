//! What the mock says: the reply text, rough token counts (one token per word) and tool-call arguments made up
//! from a JSON schema. Pure functions shared by every provider flavour.

use serde_json::{json, Map, Value};

/// The fixed reply; tests compare against it, so keep the format stable.
pub(crate) fn reply_text(name: &str, model: &str) -> String {
    format!("Hello from {name} serving {model}")
}

/// Splits a text into stream pieces, one word each, that concatenate back to the text.
pub(crate) fn pieces(text: &str) -> Vec<String> {
    text.split(' ')
        .enumerate()
        .map(|(i, word)| match i {
            0 => word.to_string(),
            _ => format!(" {word}"),
        })
        .collect()
}

/// Words in any JSON content: strings, arrays of parts, `{text}` / `{content}` objects.
pub(crate) fn words(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.split_whitespace().count() as u64,
        Value::Array(items) => items.iter().map(words).sum(),
        Value::Object(obj) => obj.get("text").or_else(|| obj.get("content")).map_or(0, words),
        _ => 0,
    }
}

/// Prompt tokens of a request: message contents plus 3 per message, a top-level system, a prompt or an input.
pub(crate) fn prompt_tokens(body: &Value) -> u64 {
    let messages = body.get("messages").and_then(Value::as_array);
    let per_message = messages.map_or(0, |m| m.iter().map(|msg| 3 + msg.get("content").map_or(0, words)).sum());
    let extra: u64 = ["system", "prompt", "input"].iter().filter_map(|k| body.get(*k)).map(words).sum();
    (per_message + extra).max(1)
}

/// Arguments for a tool call: every required property of the schema, filled with a simple value of its type.
pub(crate) fn tool_arguments(schema: Option<&Value>) -> Value {
    let properties = schema.and_then(|s| s.get("properties"));
    let required = schema.and_then(|s| s.get("required")).and_then(Value::as_array);
    let mut args = Map::new();
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        let kind = properties.and_then(|p| p.get(name)).and_then(|p| p.get("type"));
        args.insert(name.to_string(), sample_of(kind.and_then(Value::as_str)));
    }
    Value::Object(args)
}

fn sample_of(kind: Option<&str>) -> Value {
    match kind {
        Some("number") | Some("integer") => json!(1),
        Some("boolean") => json!(true),
        Some("array") => json!([]),
        Some("object") => json!({}),
        _ => json!("mock"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_concatenate_to_the_text() {
        let text = reply_text("openai-a", "gpt-4o");
        assert_eq!(pieces(&text).concat(), text);
    }

    #[test]
    fn tool_arguments_fill_required_properties() {
        let schema = json!({"type": "object", "required": ["city", "days"],
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "unit": {"type": "string"}}});
        assert_eq!(tool_arguments(Some(&schema)), json!({"city": "mock", "days": 1}));
        assert_eq!(tool_arguments(None), json!({}));
    }

    #[test]
    fn prompt_tokens_count_words_and_messages() {
        let body = json!({"messages": [{"role": "user", "content": "one two three"}], "system": "be nice"});
        assert_eq!(prompt_tokens(&body), 3 + 3 + 2);
    }
}

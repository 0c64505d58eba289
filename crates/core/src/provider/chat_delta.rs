//! What one OpenAI chat stream chunk says, read once for the translators that turn chat streams into another
//! API's events (Messages, Responses): its usage, text delta, tool-call deltas and finish reason. Each
//! translator decides what those become; this module only reads.

use serde_json::{Map, Value};

use super::CodecError;

/// The parts of a chat chunk a translated stream uses, borrowed from the chunk.
pub(crate) struct ChatDelta<'a> {
    /// The usage object, when the chunk has one (the usage-only chunk, or a provider that repeats it).
    pub usage: Option<&'a Value>,
    /// Non-empty text of the first choice.
    pub text: Option<&'a str>,
    /// Tool-call deltas of the first choice.
    pub tool_calls: &'a [Value],
    pub finish_reason: Option<&'a str>,
}

impl<'a> ChatDelta<'a> {
    pub(crate) fn read(chunk: &'a Value) -> Self {
        let choice = chunk.pointer("/choices/0");
        let delta = |pointer: &str| choice.and_then(|c| c.pointer(pointer));
        ChatDelta {
            usage: chunk.get("usage").filter(|u| u.is_object()),
            text: delta("/delta/content").and_then(Value::as_str).filter(|t| !t.is_empty()),
            tool_calls: delta("/delta/tool_calls").and_then(Value::as_array).map_or(&[], Vec::as_slice),
            finish_reason: choice.and_then(|c| c.get("finish_reason")).and_then(Value::as_str),
        }
    }
}

/// Copies `from[key]` to `to[as_key]` when it is set and not null (request translation).
pub(crate) fn copy_field(from: &Map<String, Value>, to: &mut Map<String, Value>, key: &str, as_key: &str) {
    if let Some(value) = from.get(key).filter(|v| !v.is_null()) {
        to.insert(as_key.to_string(), value.clone());
    }
}

/// A request the target's API cannot express.
pub(crate) fn invalid(why: &str) -> CodecError {
    CodecError::InvalidRequest(why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_chunk_is_read_into_its_parts_and_empty_text_is_none() {
        let chunk = json!({"choices": [{"delta": {"content": "Hi", "tool_calls": [{"index": 0}]}, "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 1}});
        let d = ChatDelta::read(&chunk);
        assert_eq!((d.text, d.finish_reason, d.tool_calls.len()), (Some("Hi"), Some("stop"), 1));
        assert!(d.usage.is_some());
        let empty = json!({"choices": [{"delta": {"content": ""}, "finish_reason": null}], "usage": null});
        let d = ChatDelta::read(&empty);
        assert_eq!((d.text, d.finish_reason, d.tool_calls.len(), d.usage), (None, None, 0, None));
        let no_choice = json!({"usage": {"total_tokens": 3}});
        assert!(ChatDelta::read(&no_choice).usage.is_some());
    }
}

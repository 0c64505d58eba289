//! Anthropic stream events -> OpenAI `chat.completion.chunk` objects, one event at a time.
//!
//! Anthropic streams `message_start`, then per content block `content_block_start`,
//! `content_block_delta`s and `content_block_stop`, then `message_delta` (stop reason, output
//! usage) and `message_stop`, with `ping`s anywhere. [`ChatStream`] holds what later chunks
//! need from earlier events (id, model, which block is which tool call, usage) and nothing
//! else; it never sees bytes (that is [`crate::sse`]) and never writes to a socket.

use serde_json::{json, Value};

use super::error::stream_error;
use super::response::{finish_reason, Usage};
use crate::sse::SseEvent;

/// What one upstream event becomes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamStep {
    /// Client chunks to send, in order.
    pub chunks: Vec<Value>,
    /// `message_stop` has been seen: the client stream may be closed with `[DONE]`.
    pub done: bool,
}

/// A stream that cannot go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StreamError {
    /// Anthropic sent `event: error` (e.g. `overloaded_error`); carries the OpenAI-shaped
    /// error JSON `{"error":{message,type,param,code}}` to relay.
    #[error("upstream error in stream: {0}")]
    Upstream(Value),
    /// An event the codec cannot read, or one out of order.
    #[error("unreadable anthropic stream: {0}")]
    Bad(String),
}

/// Translation state for one streamed chat completion.
#[derive(Debug, Clone)]
pub struct ChatStream {
    include_usage: bool,
    created: u64,
    /// Id and model from `message_start`; `None` until then.
    message: Option<(String, String)>,
    /// Anthropic content-block index of each tool_use block, in order: position = OpenAI index.
    tool_blocks: Vec<u64>,
    usage: Option<Usage>,
    done: bool,
}

impl ChatStream {
    /// `include_usage`: the client's `stream_options.include_usage`; `created`: unix seconds
    /// from the caller's clock.
    pub fn new(include_usage: bool, created: u64) -> Self {
        Self { include_usage, created, message: None, tool_blocks: Vec::new(), usage: None, done: false }
    }

    /// One upstream event -> zero or more client chunks; `done` is true after `message_stop`.
    pub fn on_event(&mut self, event: &SseEvent) -> Result<StreamStep, StreamError> {
        let data = parse_data(event)?;
        let kind = event.event.as_deref().or_else(|| data.get("type").and_then(Value::as_str));
        let chunks = match kind {
            Some("message_start") => self.message_start(&data)?,
            Some("content_block_start") => self.block_start(&data)?,
            Some("content_block_delta") => self.block_delta(&data)?,
            Some("message_delta") => self.message_delta(&data)?,
            Some("message_stop") => self.message_stop(),
            Some("error") => return Err(StreamError::Upstream(stream_error(&data))),
            // ping, content_block_stop, and event types added after this was written.
            _ => Vec::new(),
        };
        Ok(StreamStep { chunks, done: self.done })
    }

    /// The OpenAI usage object, once Anthropic has reported any.
    pub fn usage(&self) -> Option<Value> {
        self.usage.map(Usage::to_openai)
    }

    fn message_start(&mut self, data: &Value) -> Result<Vec<Value>, StreamError> {
        let message = data.get("message").filter(|m| m.is_object());
        let message = message.ok_or_else(|| bad("message_start without a message"))?;
        let text_field = |key: &str| message.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        self.message = Some((text_field("id"), text_field("model")));
        self.record_usage(message.get("usage"));
        Ok(vec![self.chunk(json!({"role": "assistant", "content": ""}), None)?])
    }

    fn block_start(&mut self, data: &Value) -> Result<Vec<Value>, StreamError> {
        let block = data.get("content_block").unwrap_or(&Value::Null);
        match block.get("type").and_then(Value::as_str) {
            Some("tool_use") => self.tool_start(data, block),
            Some("text") => match block.get("text").and_then(Value::as_str) {
                Some(text) if !text.is_empty() => Ok(vec![self.chunk(json!({"content": text}), None)?]),
                _ => Ok(Vec::new()),
            },
            _ => Ok(Vec::new()), // thinking and server-tool blocks have no OpenAI counterpart
        }
    }

    /// A tool_use block opens an OpenAI tool call: id and name now, arguments as deltas.
    fn tool_start(&mut self, data: &Value, block: &Value) -> Result<Vec<Value>, StreamError> {
        let tool_index = self.tool_blocks.len();
        self.tool_blocks.push(block_index(data)?);
        let text_field = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or_default();
        let function = json!({"name": text_field("name"), "arguments": ""});
        let call = json!({"index": tool_index, "id": text_field("id"), "type": "function", "function": function});
        Ok(vec![self.chunk(json!({"tool_calls": [call]}), None)?])
    }

    fn block_delta(&mut self, data: &Value) -> Result<Vec<Value>, StreamError> {
        let delta = data.get("delta").unwrap_or(&Value::Null);
        let field = |key: &str| delta.get(key).and_then(Value::as_str);
        match field("type") {
            Some("text_delta") => {
                let text = field("text").ok_or_else(|| bad("text_delta without text"))?;
                Ok(vec![self.chunk(json!({"content": text}), None)?])
            }
            Some("input_json_delta") => {
                let partial = field("partial_json").ok_or_else(|| bad("input_json_delta without partial_json"))?;
                let tool_index = self.tool_index(block_index(data)?)?;
                let call = json!({"index": tool_index, "function": {"arguments": partial}});
                Ok(vec![self.chunk(json!({"tool_calls": [call]}), None)?])
            }
            _ => Ok(Vec::new()), // thinking_delta, signature_delta, citations_delta
        }
    }

    fn message_delta(&mut self, data: &Value) -> Result<Vec<Value>, StreamError> {
        self.record_usage(data.get("usage"));
        let reason = data.get("delta").and_then(|d| d.get("stop_reason")).and_then(Value::as_str);
        Ok(vec![self.chunk(json!({}), Some(finish_reason(reason)))?])
    }

    fn message_stop(&mut self) -> Vec<Value> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        match (self.include_usage, &self.message) {
            (true, Some((id, model))) => vec![json!({
                "id": id, "object": "chat.completion.chunk", "created": self.created, "model": model,
                "system_fingerprint": null, "choices": [], "usage": self.usage(),
            })],
            _ => Vec::new(),
        }
    }

    fn record_usage(&mut self, usage: Option<&Value>) {
        if let Some(usage) = usage.filter(|u| u.is_object()) {
            self.usage.get_or_insert_with(Usage::default).update(usage);
        }
    }

    fn tool_index(&self, block: u64) -> Result<usize, StreamError> {
        let position = self.tool_blocks.iter().position(|&b| b == block);
        position.ok_or_else(|| bad(&format!("input_json_delta for block {block}, which is not a tool_use block")))
    }

    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> Result<Value, StreamError> {
        let (id, model) = self.message.as_ref().ok_or_else(|| bad("content before message_start"))?;
        let choice = json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason});
        let mut chunk = json!({
            "id": id, "object": "chat.completion.chunk", "created": self.created, "model": model,
            "system_fingerprint": null, "choices": [choice],
        });
        if self.include_usage {
            // OpenAI's own streams carry `usage: null` on every chunk but the last when asked.
            chunk["usage"] = Value::Null;
        }
        Ok(chunk)
    }
}

fn parse_data(event: &SseEvent) -> Result<Value, StreamError> {
    if event.data.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&event.data).map_err(|e| bad(&format!("event data is not JSON ({e})")))
}

fn block_index(data: &Value) -> Result<u64, StreamError> {
    data.get("index").and_then(Value::as_u64).ok_or_else(|| bad("content block event without an index"))
}

fn bad(what: &str) -> StreamError {
    StreamError::Bad(what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;
    use crate::sse::SseDecoder;

    const CREATED: u64 = 1_700_000_000;

    /// What a stream became: the chunks sent, whether it finished, and the error it ended with.
    #[derive(Debug, PartialEq)]
    struct Outcome {
        chunks: Vec<Value>,
        done: bool,
        error: Option<StreamError>,
    }

    fn decode(raw: &[u8], cut: usize) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut events = decoder.push(&raw[..cut]);
        events.extend(decoder.push(&raw[cut..]));
        events.extend(decoder.finish());
        events
    }

    fn translate(stream: &mut ChatStream, events: &[SseEvent]) -> Outcome {
        let mut outcome = Outcome { chunks: Vec::new(), done: false, error: None };
        for event in events {
            match stream.on_event(event) {
                Ok(step) => {
                    outcome.chunks.extend(step.chunks);
                    outcome.done = step.done;
                }
                Err(e) => {
                    outcome.error = Some(e);
                    break;
                }
            }
        }
        outcome
    }

    fn event(name: &str, data: Value) -> SseEvent {
        SseEvent { event: Some(name.into()), data: data.to_string() }
    }

    fn started() -> ChatStream {
        let mut stream = ChatStream::new(false, CREATED);
        let start =
            json!({"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {"input_tokens": 3}}});
        let _ = stream.on_event(&event("message_start", start));
        stream
    }

    #[test]
    fn golden_streams_translate_to_recorded_chunks() {
        let cases =
            [("stream_text", true, None), ("stream_tool_use", false, None), ("stream_error", true, Some("error"))];
        for (case, include_usage, error) in cases {
            let raw = fixtures::bytes(&format!("{case}.upstream.sse"));
            let error = error.map(|_| StreamError::Upstream(fixtures::json(&format!("{case}.error.json"))));
            let expected =
                Outcome { chunks: fixtures::jsonl(&format!("{case}.client.jsonl")), done: error.is_none(), error };
            let got = translate(&mut ChatStream::new(include_usage, CREATED), &decode(&raw, raw.len()));
            assert_eq!(got, expected, "case {case}");
        }
    }

    #[test]
    fn golden_completion_stream_is_text_completion_chunks() {
        let raw = fixtures::bytes("stream_text.upstream.sse");
        let chat = translate(&mut ChatStream::new(true, CREATED), &decode(&raw, raw.len()));
        let got: Vec<Value> = chat.chunks.iter().filter_map(crate::provider::completion_chunk).collect();
        assert_eq!(got, fixtures::jsonl("completion_stream_text.client.jsonl"));
    }

    #[test]
    fn golden_streams_survive_a_split_at_every_byte() {
        for case in ["stream_text", "stream_tool_use"] {
            let raw = fixtures::bytes(&format!("{case}.upstream.sse"));
            let whole = translate(&mut ChatStream::new(true, CREATED), &decode(&raw, raw.len()));
            for cut in 0..raw.len() {
                let split = translate(&mut ChatStream::new(true, CREATED), &decode(&raw, cut));
                assert_eq!(split, whole, "case {case} split at byte {cut}");
            }
        }
    }

    #[test]
    fn usage_is_known_from_message_start_and_updated_by_message_delta() {
        let raw = fixtures::bytes("stream_tool_use.upstream.sse");
        let events = decode(&raw, raw.len());
        let mut stream = ChatStream::new(false, CREATED);
        assert_eq!(stream.usage(), None);
        let _ = translate(&mut stream, &events[..1]);
        assert_eq!(stream.usage().map(|u| u["completion_tokens"].clone()), Some(json!(2)));
        let _ = translate(&mut stream, &events[1..]);
        let expected = json!({
            "prompt_tokens": 472, "completion_tokens": 89, "total_tokens": 561,
            "prompt_tokens_details": {"cached_tokens": 0},
            "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0,
        });
        assert_eq!(stream.usage(), Some(expected));
    }

    #[test]
    fn events_are_recognised_by_data_type_when_the_event_name_is_missing() {
        let mut stream = started();
        let delta = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}});
        let step = stream.on_event(&SseEvent { event: None, data: delta.to_string() });
        let chunks = step.map(|s| s.chunks).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0]["choices"][0]["delta"], json!({"content": "hi"}));
    }

    #[test]
    fn content_before_message_start_is_bad() {
        let mut stream = ChatStream::new(false, CREATED);
        let delta = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}});
        let got = stream.on_event(&event("content_block_delta", delta));
        assert_eq!(got, Err(StreamError::Bad("content before message_start".into())));
    }

    #[test]
    fn unparseable_data_is_bad() {
        let mut stream = started();
        let broken = SseEvent { event: Some("content_block_delta".into()), data: "{not json".into() };
        let got = stream.on_event(&broken);
        assert!(matches!(got, Err(StreamError::Bad(why)) if why.starts_with("event data is not JSON")));
    }

    #[test]
    fn json_delta_for_a_block_that_is_not_a_tool_is_bad() {
        let mut stream = started();
        let json_delta = json!({"type": "input_json_delta", "partial_json": "{"});
        let delta = json!({"type": "content_block_delta", "index": 4, "delta": json_delta});
        let got = stream.on_event(&event("content_block_delta", delta));
        let why = "input_json_delta for block 4, which is not a tool_use block";
        assert_eq!(got, Err(StreamError::Bad(why.into())));
    }

    #[test]
    fn ping_and_unknown_events_give_nothing() {
        let mut stream = started();
        for name in ["ping", "content_block_stop", "some_future_event"] {
            let got = stream.on_event(&event(name, json!({"type": name})));
            assert_eq!(got, Ok(StreamStep::default()), "event {name}");
        }
    }

    #[test]
    fn message_stop_ends_the_stream_once() {
        let mut stream = started();
        let stop = event("message_stop", json!({"type": "message_stop"}));
        assert_eq!(stream.on_event(&stop), Ok(StreamStep { chunks: Vec::new(), done: true }));
        assert_eq!(stream.on_event(&stop), Ok(StreamStep { chunks: Vec::new(), done: true }));
    }

    #[test]
    fn refusal_finishes_with_content_filter() {
        let mut stream = started();
        let delta =
            json!({"type": "message_delta", "delta": {"stop_reason": "refusal"}, "usage": {"output_tokens": 1}});
        let chunks = stream.on_event(&event("message_delta", delta)).map(|s| s.chunks);
        let chunks = chunks.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(chunks[0]["choices"][0]["finish_reason"], json!("content_filter"));
        assert_eq!(chunks[0]["choices"][0]["delta"], json!({}));
    }
}

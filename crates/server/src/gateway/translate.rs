//! How a committed stream's upstream events become the client's: passed through (the client
//! speaks the provider's API: OpenAI chat, Anthropic Messages, OpenAI Responses), or read as
//! chat chunks (`Source`) and written in the client's API (`Sink`: chat, legacy completions,
//! Messages events, Responses semantic events). The chat chunks in between are what the log reads, whatever the two ends
//! speak. Decisions and shapes are core's codecs; this only strings them together per stream.

use bytes::{Bytes, BytesMut};
use serde_json::{json, Map, Value};
use switchboard_core::provider::anthropic::{self, ChatStream, StreamError};
use switchboard_core::provider::messages::{self, MessagesStream};
use switchboard_core::provider::responses::ResponsesStream;
use switchboard_core::provider::{self, completion_chunk};
use switchboard_core::sse::{encode_data, encode_event, SseEvent, DONE};
use switchboard_core::usage::Usage;

/// How the upstream's events become the client's.
pub enum Translate {
    /// OpenAI chunks to an OpenAI client: bytes pass through; `[DONE]` is watched for.
    Passthrough,
    /// Anthropic events to a Messages client: bytes pass through; the events are read as
    /// chat chunks for the log, and for `message_stop`.
    AnthropicPassthrough(Box<ChatStream>),
    /// OpenAI Responses events to a Responses client: bytes pass through; the events are
    /// watched for the end (`response.completed`) and the usage.
    ResponsesPassthrough(ResponsesWatch),
    /// Upstream events read as chat chunks by `source`, written in the client's API by `sink`.
    Convert { source: Source, sink: Sink },
}

/// What a passed-through Responses stream has shown so far.
#[derive(Debug, Default)]
pub struct ResponsesWatch {
    response_id: Option<String>,
    next_sequence: u64,
}

/// What one passed-through Responses event says.
pub enum Seen {
    Nothing,
    /// The response ended (completed or incomplete), with its usage.
    Done(Option<Value>),
    /// The provider reported the stream failed: its message.
    Failed(String),
}

impl ResponsesWatch {
    pub fn observe(&mut self, event: &SseEvent) -> Seen {
        let Ok(data) = serde_json::from_str::<Value>(&event.data) else { return Seen::Nothing };
        if let Some(n) = data.get("sequence_number").and_then(Value::as_u64) {
            self.next_sequence = n + 1;
        }
        let response = data.get("response");
        if let Some(id) = response.and_then(|r| r.get("id")).and_then(Value::as_str) {
            self.response_id = Some(id.to_string());
        }
        let message = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("the response failed").to_string();
        match data.get("type").and_then(Value::as_str) {
            Some("response.completed" | "response.incomplete") => {
                Seen::Done(response.and_then(|r| r.get("usage")).filter(|u| u.is_object()).cloned())
            }
            Some("response.failed") => Seen::Failed(message(response.and_then(|r| r.pointer("/error/message")))),
            Some("error") => Seen::Failed(message(data.get("message"))),
            _ => Seen::Nothing,
        }
    }

    /// A `response.failed` event for a stream the gateway must end.
    fn failed(&mut self, code: &str, message: &str) -> Bytes {
        let response = json!({"id": self.response_id, "object": "response", "status": "failed",
            "error": {"code": code, "message": message}, "output": []});
        let data = json!({"type": "response.failed", "sequence_number": self.next_sequence, "response": response});
        self.next_sequence += 1;
        encode_event("response.failed", &data.to_string())
    }
}

/// Where chat chunks come from.
pub enum Source {
    /// An OpenAI-shaped chat stream (`data:` chunks, then `[DONE]`).
    OpenAi,
    /// Anthropic's events, through its codec.
    Anthropic(Box<ChatStream>),
}

/// What the client reads.
pub enum Sink {
    /// `chat.completion.chunk`s as they are.
    Chat,
    /// Legacy `text_completion` chunks (`/v1/completions`).
    Completion,
    /// Anthropic Messages events (`/v1/messages`).
    Messages(Box<MessagesStream>),
    /// The Responses API's semantic events (`/v1/responses`).
    Responses(Box<ResponsesStream>),
}

/// What one upstream event gave: chat chunks, and whether the stream is complete.
#[derive(Default)]
pub struct Read {
    pub chunks: Vec<Value>,
    pub done: bool,
}

impl Source {
    pub fn read(&mut self, event: &SseEvent) -> Result<Read, StreamError> {
        match self {
            Source::Anthropic(state) => state.on_event(event).map(|s| Read { chunks: s.chunks, done: s.done }),
            Source::OpenAi => openai_read(event),
        }
    }

    /// Usage the source knew at the end, when its chunks carried none (Anthropic).
    pub fn usage(&self) -> Option<Value> {
        match self {
            Source::Anthropic(state) => state.usage(),
            Source::OpenAi => None,
        }
    }
}

fn openai_read(event: &SseEvent) -> Result<Read, StreamError> {
    if event.data == "[DONE]" {
        return Ok(Read { chunks: Vec::new(), done: true });
    }
    if event.data.trim().is_empty() {
        return Ok(Read::default());
    }
    let chunk: Map<String, Value> =
        serde_json::from_str(&event.data).map_err(|e| StreamError::Bad(format!("a stream event is not JSON ({e})")))?;
    if chunk.contains_key("error") && !chunk.contains_key("choices") {
        return Err(StreamError::Upstream(Value::Object(chunk)));
    }
    Ok(Read { chunks: vec![Value::Object(chunk)], done: false })
}

impl Sink {
    /// One chat chunk in the client's API.
    pub fn chunk(&mut self, chunk: &Value) -> Bytes {
        match self {
            Sink::Chat => encode_data(&chunk.to_string()),
            Sink::Completion => completion_chunk(chunk).map(|c| encode_data(&c.to_string())).unwrap_or_default(),
            Sink::Messages(state) => events(state.on_chunk(chunk)),
            Sink::Responses(state) => events(state.on_chunk(chunk)),
        }
    }

    /// The client's end of a complete stream.
    pub fn done(&mut self) -> Bytes {
        match self {
            Sink::Chat | Sink::Completion => Bytes::from_static(DONE),
            Sink::Messages(state) => events(state.finish()),
            Sink::Responses(state) => events(state.finish()),
        }
    }
}

fn events(events: Vec<messages::Event>) -> Bytes {
    let mut out = BytesMut::new();
    for event in events {
        out.extend_from_slice(&encode_event(event.name, &event.data.to_string()));
    }
    out.freeze()
}

impl Translate {
    /// An OpenAI-shaped error (`{"error":{…}}`) as the client's API says it in a stream:
    /// a `data:` event for OpenAI chat clients, an `event: error` for Messages clients,
    /// `response.failed` for Responses clients.
    pub fn error_bytes(&mut self, error: &Value) -> Bytes {
        let text = |key: &str| error.pointer(key).and_then(Value::as_str).unwrap_or("error").to_string();
        match self {
            Translate::ResponsesPassthrough(watch) => watch.failed(&text("/error/code"), &text("/error/message")),
            Translate::Convert { sink: Sink::Responses(state), .. } => {
                events(state.failed(&text("/error/code"), &text("/error/message")))
            }
            Translate::AnthropicPassthrough(_) | Translate::Convert { sink: Sink::Messages(_), .. } => {
                let status = anthropic::stream_error_status(error);
                let body = messages::error_body(if status == 502 { 500 } else { status }, error);
                encode_event("error", &body.to_string())
            }
            Translate::Passthrough | Translate::Convert { .. } => encode_data(&error.to_string()),
        }
    }
}

/// The log's class for an upstream error carried in a stream.
pub fn error_class(error: &Value) -> &'static str {
    provider::classify_status(anthropic::stream_error_status(error))
}

/// A Responses API `usage` object (`input_tokens`, `output_tokens`) for the log.
pub fn responses_usage(usage: &Value) -> Option<Usage> {
    let count = |key: &str| usage.pointer(key).and_then(Value::as_u64);
    Some(Usage {
        prompt_tokens: count("/input_tokens")?,
        completion_tokens: count("/output_tokens").unwrap_or(0),
        cached_tokens: count("/input_tokens_details/cached_tokens").unwrap_or(0),
        cache_write_tokens: 0,
    })
}

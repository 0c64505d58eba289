//! OpenAI chat chunks -> Anthropic Messages stream events, one chunk at a time.
//!
//! The first chunk opens the message (`message_start`); text opens a `text` block and
//! streams `text_delta`s; each tool call opens a `tool_use` block and streams its arguments
//! as `input_json_delta`s; a block is closed (`content_block_stop`) when another opens or the
//! message ends. The finish reason and usage arrive in separate chat chunks, so
//! `message_delta` and `message_stop` are sent when the chat stream ends ([`MessagesStream::finish`]).
//! [`MessagesStream`] is the only state; it never sees bytes and never writes to a socket.

use serde_json::{json, Value};

use super::response::{stop_reason, usage};
use crate::provider::chat_delta::ChatDelta;

/// One Messages stream event: its `event:` name and its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: &'static str,
    pub data: Value,
}

/// An open content block: its Messages index and, for a tool call, chat's tool index.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Open {
    Text(usize),
    Tool { block: usize, tool: u64 },
}

/// Translation state for one streamed message.
#[derive(Debug, Clone, Default)]
pub struct MessagesStream {
    started: bool,
    open: Option<Open>,
    blocks: usize,
    finish: Option<String>,
    usage: Option<Value>,
    finished: bool,
}

impl MessagesStream {
    pub fn new() -> Self {
        Self::default()
    }

    /// One chat chunk -> zero or more Messages events.
    pub fn on_chunk(&mut self, chunk: &Value) -> Vec<Event> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            out.push(message_start(chunk));
        }
        let delta = ChatDelta::read(chunk);
        if let Some(usage) = delta.usage {
            self.usage = Some(usage.clone());
        }
        if let Some(text) = delta.text {
            self.text(text, &mut out);
        }
        for call in delta.tool_calls {
            self.tool_call(call, &mut out);
        }
        if let Some(finish) = delta.finish_reason {
            self.finish = Some(finish.to_string());
        }
        out
    }

    /// The chat stream ended: closes the open block, then `message_delta` and `message_stop`.
    pub fn finish(&mut self) -> Vec<Event> {
        if self.finished {
            return Vec::new();
        }
        self.finished = true;
        let mut out = Vec::new();
        if !self.started {
            out.push(message_start(&Value::Null));
        }
        self.close(&mut out);
        let usage = usage(self.usage.as_ref());
        let delta = json!({"stop_reason": stop_reason(self.finish.as_deref()), "stop_sequence": null});
        out.push(event(
            "message_delta",
            json!({"type": "message_delta", "delta": delta,
            "usage": {"output_tokens": usage["output_tokens"], "input_tokens": usage["input_tokens"]}}),
        ));
        out.push(event("message_stop", json!({"type": "message_stop"})));
        out
    }

    fn text(&mut self, text: &str, out: &mut Vec<Event>) {
        let index = match self.open {
            Some(Open::Text(index)) => index,
            _ => {
                self.close(out);
                let index = self.next_block();
                self.open = Some(Open::Text(index));
                out.push(block_start(index, json!({"type": "text", "text": ""})));
                index
            }
        };
        let delta = json!({"type": "text_delta", "text": text});
        out.push(event("content_block_delta", json!({"type": "content_block_delta", "index": index, "delta": delta})));
    }

    fn tool_call(&mut self, call: &Value, out: &mut Vec<Event>) {
        let tool = call.get("index").and_then(Value::as_u64).unwrap_or(0);
        let block = match self.open {
            Some(Open::Tool { block, tool: open }) if open == tool => block,
            _ => {
                self.close(out);
                let block = self.next_block();
                self.open = Some(Open::Tool { block, tool });
                let text = |key: &str| call.pointer(key).and_then(Value::as_str).unwrap_or_default();
                let start = json!({"type": "tool_use", "id": text("/id"), "name": text("/function/name"), "input": {}});
                out.push(block_start(block, start));
                block
            }
        };
        if let Some(partial) = call.pointer("/function/arguments").and_then(Value::as_str).filter(|a| !a.is_empty()) {
            let delta = json!({"type": "input_json_delta", "partial_json": partial});
            out.push(event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": block, "delta": delta}),
            ));
        }
    }

    fn close(&mut self, out: &mut Vec<Event>) {
        if let Some(Open::Text(index) | Open::Tool { block: index, .. }) = self.open.take() {
            out.push(event("content_block_stop", json!({"type": "content_block_stop", "index": index})));
        }
    }

    fn next_block(&mut self) -> usize {
        self.blocks += 1;
        self.blocks - 1
    }
}

fn event(name: &'static str, data: Value) -> Event {
    Event { name, data }
}

fn block_start(index: usize, block: Value) -> Event {
    event("content_block_start", json!({"type": "content_block_start", "index": index, "content_block": block}))
}

fn message_start(chunk: &Value) -> Event {
    let message = json!({
        "id": chunk.get("id").cloned().unwrap_or(json!("msg")), "type": "message", "role": "assistant",
        "model": chunk.get("model").cloned().unwrap_or_default(), "content": [],
        "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 0, "output_tokens": 0},
    });
    event("message_start", json!({"type": "message_start", "message": message}))
}

/// A Messages `error` event for a stream that cannot go on.
pub fn error_event(kind: &str, message: &str) -> Event {
    event("error", json!({"type": "error", "error": {"type": kind, "message": message}}))
}

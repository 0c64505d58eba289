//! OpenAI chat chunks -> the Responses API's semantic stream events, one chunk at a time.
//!
//! The first chunk opens the response (`response.created`, `response.in_progress`); text
//! opens a `message` item with one `output_text` part and streams `response.output_text.delta`s;
//! each tool call opens a `function_call` item and streams
//! `response.function_call_arguments.delta`s. When the chat stream ends ([`ResponsesStream::finish`])
//! every open item is closed (`….done` events, then `response.output_item.done`) and the response
//! completes (`response.completed`, or `response.incomplete` after a length or content-filter
//! finish); a stream that breaks ends with `response.failed` ([`ResponsesStream::failed`]).
//! Every event carries its `sequence_number`. This struct is the only state; no I/O.

use serde_json::{json, Map, Value};

use super::response::{envelope, finish, function_call_item, message_item};
use crate::provider::chat_delta::ChatDelta;
use crate::provider::messages::Event;

/// One output item being streamed.
#[derive(Debug, Clone)]
enum Item {
    Message { id: String, text: String },
    Call { tool: u64, call_id: String, name: String, arguments: String },
}

/// Translation state for one streamed response.
#[derive(Debug, Clone)]
pub struct ResponsesStream {
    request: Map<String, Value>,
    created_at: u64,
    sequence: u64,
    response: Option<Value>,
    items: Vec<Item>,
    /// Output index of the message item text goes to, while it is open.
    open_message: Option<usize>,
    finish_reason: Option<String>,
    usage: Option<Value>,
    finished: bool,
}

impl ResponsesStream {
    /// `request`: the client's Responses request (echoed in the response); `created_at`:
    /// unix seconds from the caller's clock.
    pub fn new(request: Map<String, Value>, created_at: u64) -> Self {
        ResponsesStream {
            request,
            created_at,
            sequence: 0,
            response: None,
            items: Vec::new(),
            open_message: None,
            finish_reason: None,
            usage: None,
            finished: false,
        }
    }

    /// One chat chunk -> zero or more Responses events.
    pub fn on_chunk(&mut self, chunk: &Value) -> Vec<Event> {
        let mut out = Vec::new();
        if self.response.is_none() {
            self.open(chunk, &mut out);
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
        if let Some(reason) = delta.finish_reason {
            self.finish_reason = Some(reason.to_string());
        }
        out
    }

    /// The chat stream ended: every item is closed and the response completes.
    pub fn finish(&mut self) -> Vec<Event> {
        if self.finished {
            return Vec::new();
        }
        self.finished = true;
        let mut out = Vec::new();
        if self.response.is_none() {
            self.open(&Value::Null, &mut out);
        }
        for index in 0..self.items.len() {
            self.close(index, &mut out);
        }
        let mut response = self.snapshot("completed");
        finish(&mut response, self.finish_reason.as_deref(), self.usage.as_ref());
        let name = if response["status"] == "incomplete" { "response.incomplete" } else { "response.completed" };
        out.push(self.event(name, json!({"response": response})));
        out
    }

    /// The stream broke: `response.failed`, with what the items held so far.
    pub fn failed(&mut self, code: &str, message: &str) -> Vec<Event> {
        if self.finished {
            return Vec::new();
        }
        self.finished = true;
        let mut out = Vec::new();
        if self.response.is_none() {
            self.open(&Value::Null, &mut out);
        }
        let mut response = self.snapshot("in_progress");
        response["status"] = json!("failed");
        response["error"] = json!({"code": code, "message": message});
        out.push(self.event("response.failed", json!({"response": response})));
        out
    }

    fn open(&mut self, chunk: &Value, out: &mut Vec<Event>) {
        let chat_id = chunk.get("id").and_then(Value::as_str).unwrap_or("stream");
        let response = envelope(&self.request, chat_id, chunk.get("model").unwrap_or(&Value::Null), self.created_at);
        self.response = Some(response.clone());
        out.push(self.event("response.created", json!({"response": response})));
        out.push(self.event("response.in_progress", json!({"response": response})));
    }

    fn text(&mut self, text: &str, out: &mut Vec<Event>) {
        let index = match self.open_message {
            Some(index) => index,
            None => {
                let id = format!("msg_{}_{}", self.response_id(), self.items.len());
                self.items.push(Item::Message { id: id.clone(), text: String::new() });
                let index = self.items.len() - 1;
                self.open_message = Some(index);
                let item =
                    json!({"type": "message", "id": id, "status": "in_progress", "role": "assistant", "content": []});
                out.push(self.event("response.output_item.added", json!({"output_index": index, "item": item})));
                let part = json!({"type": "output_text", "text": "", "annotations": []});
                let added = json!({"item_id": id, "output_index": index, "content_index": 0, "part": part});
                out.push(self.event("response.content_part.added", added));
                index
            }
        };
        let Some(Item::Message { id, text: so_far }) = self.items.get_mut(index) else { return };
        so_far.push_str(text);
        let delta = json!({"item_id": id, "output_index": index, "content_index": 0, "delta": text, "logprobs": []});
        out.push(self.event("response.output_text.delta", delta));
    }

    fn tool_call(&mut self, call: &Value, out: &mut Vec<Event>) {
        let tool = call.get("index").and_then(Value::as_u64).unwrap_or(0);
        let found = self.items.iter().position(|i| matches!(i, Item::Call { tool: t, .. } if *t == tool));
        let index = match found {
            Some(index) => index,
            None => {
                if let Some(message) = self.open_message.take() {
                    self.close(message, out);
                }
                let text = |key: &str| call.pointer(key).and_then(Value::as_str).unwrap_or_default().to_string();
                let (call_id, name) = (text("/id"), text("/function/name"));
                let item = function_call_item(&call_id, &name, "", "in_progress");
                self.items.push(Item::Call { tool, call_id, name, arguments: String::new() });
                let index = self.items.len() - 1;
                out.push(self.event("response.output_item.added", json!({"output_index": index, "item": item})));
                index
            }
        };
        let partial = call.pointer("/function/arguments").and_then(Value::as_str).unwrap_or_default();
        let Some(Item::Call { call_id, arguments, .. }) = self.items.get_mut(index).filter(|_| !partial.is_empty())
        else {
            return;
        };
        arguments.push_str(partial);
        let delta = json!({"item_id": format!("fc_{call_id}"), "output_index": index, "delta": partial});
        out.push(self.event("response.function_call_arguments.delta", delta));
    }

    /// The `….done` events of item `index` and its `response.output_item.done`.
    fn close(&mut self, index: usize, out: &mut Vec<Event>) {
        if self.open_message == Some(index) {
            self.open_message = None;
        }
        let item = match self.items.get(index).cloned() {
            Some(Item::Message { id, text }) => {
                let at = json!({"item_id": id, "output_index": index, "content_index": 0});
                let mut done = at.clone();
                done["text"] = json!(text);
                done["logprobs"] = json!([]);
                out.push(self.event("response.output_text.done", done));
                let mut part = at;
                part["part"] = json!({"type": "output_text", "text": text, "annotations": []});
                out.push(self.event("response.content_part.done", part));
                message_item(&id, &text, "completed")
            }
            Some(Item::Call { call_id, name, arguments, .. }) => {
                let done = json!({"item_id": format!("fc_{call_id}"), "output_index": index, "name": name,
                    "arguments": arguments});
                out.push(self.event("response.function_call_arguments.done", done));
                function_call_item(&call_id, &name, &arguments, "completed")
            }
            None => return,
        };
        out.push(self.event("response.output_item.done", json!({"output_index": index, "item": item})));
    }

    /// The response with every item as it stands.
    fn snapshot(&self, status: &str) -> Value {
        let mut response = self.response.clone().unwrap_or(Value::Null);
        let output: Vec<Value> = self
            .items
            .iter()
            .map(|item| match item {
                Item::Message { id, text } => message_item(id, text, status),
                Item::Call { call_id, name, arguments, .. } => function_call_item(call_id, name, arguments, status),
            })
            .collect();
        response["output"] = Value::Array(output);
        response
    }

    fn response_id(&self) -> String {
        let id = self.response.as_ref().and_then(|r| r.get("id")).and_then(Value::as_str).unwrap_or("resp");
        id.trim_start_matches("resp_").to_string()
    }

    fn event(&mut self, name: &'static str, mut data: Value) -> Event {
        data["type"] = json!(name);
        data["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        Event { name, data }
    }
}

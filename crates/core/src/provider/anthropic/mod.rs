//! Anthropic Messages API codec: pure translation between OpenAI's Chat Completions (and legacy
//! Completions) shapes and Anthropic's `/v1/messages`, in both directions and for streams.
//!
//! It owns the wire rules only: [`request`] builds the upstream body, [`response`] reads a
//! finished message, [`stream`] turns upstream SSE events into OpenAI chunks one event at a time,
//! and [`error`] turns a non-2xx answer into OpenAI's error shape. It must not do I/O, read the
//! clock (callers pass `created`), or know about routing, keys, URLs or headers.

mod error;
mod request;
mod response;
mod stream;

pub use error::{error_response, stream_error_status};
pub use request::{chat_request, completion_request, RequestOptions};
pub use response::{chat_response, completion_response, finish_reason};
pub use stream::{ChatStream, StreamError, StreamStep};

/// Loads recorded payloads from `fixtures/anthropic/` at the workspace root.
#[cfg(test)]
mod fixtures {
    use serde_json::Value;

    pub fn bytes(name: &str) -> Vec<u8> {
        let path = format!("{}/../../fixtures/anthropic/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {path}: {e}"))
    }

    pub fn json(name: &str) -> Value {
        parse(&String::from_utf8_lossy(&bytes(name)), name)
    }

    /// One JSON value per non-empty line.
    pub fn jsonl(name: &str) -> Vec<Value> {
        let text = String::from_utf8_lossy(&bytes(name)).into_owned();
        text.lines().filter(|l| !l.trim().is_empty()).map(|l| parse(l, name)).collect()
    }

    pub fn parse(text: &str, what: &str) -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{what} is not JSON: {e}"))
    }
}

//! The stream relay: forwards a provider's SSE stream to the client event by event, never
//! buffered whole. OpenAI-family streams pass through byte for byte; Anthropic's events are
//! translated into OpenAI chunks. A stream that breaks or ends early is finished with an SSE
//! error event (which the OpenAI and Portkey SDKs raise), never a silent clean end.
//!
//! The relay owns the upstream body: when the client disconnects, axum drops the relay and
//! with it the upstream connection, which cancels the provider's work.

use std::convert::Infallible;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};
use switchboard_core::provider::anthropic::{ChatStream, StreamError};
use switchboard_core::sse::{encode_data, SseDecoder, SseEvent, DONE};

/// How the upstream's events become the client's.
pub enum Translate {
    /// OpenAI-shaped already: bytes pass through; `[DONE]` is watched for.
    Passthrough,
    Anthropic(Box<ChatStream>),
}

struct Relay<S> {
    upstream: S,
    first: Option<Bytes>,
    decoder: SseDecoder,
    translate: Translate,
    provider: &'static str,
    /// The stream reached its proper end (`[DONE]` / `message_stop`).
    complete: bool,
    /// Nothing more is sent to the client.
    closed: bool,
}

/// The client-facing body for an upstream stream whose first chunk was already read.
pub fn body<S>(first: Bytes, upstream: S, translate: Translate, provider: &'static str) -> axum::body::Body
where
    S: Stream<Item = Result<Bytes, reqwest::Error>> + Send + Unpin + 'static,
{
    let relay = Relay {
        upstream,
        first: Some(first),
        decoder: SseDecoder::new(),
        translate,
        provider,
        complete: false,
        closed: false,
    };
    let stream = futures_util::stream::unfold(relay, |mut relay| async move {
        let out = relay.next_output().await?;
        Some((Ok::<Bytes, Infallible>(out), relay))
    });
    axum::body::Body::from_stream(stream)
}

impl<S> Relay<S>
where
    S: Stream<Item = Result<Bytes, reqwest::Error>> + Unpin,
{
    /// The next bytes for the client, or `None` when the response is over.
    async fn next_output(&mut self) -> Option<Bytes> {
        while !self.closed {
            let chunk = match self.first.take() {
                Some(first) => Some(Ok(first)),
                None => self.upstream.next().await,
            };
            let out = match chunk {
                Some(Ok(bytes)) => self.on_bytes(bytes),
                Some(Err(err)) => self.on_broken(&err.without_url().to_string()),
                None => self.on_end(),
            };
            if !out.is_empty() {
                return Some(out);
            }
        }
        None
    }

    fn on_bytes(&mut self, bytes: Bytes) -> Bytes {
        let events = self.decoder.push(&bytes);
        match &mut self.translate {
            Translate::Passthrough => {
                if events.iter().any(|e| e.data == "[DONE]") {
                    self.complete = true;
                }
                bytes
            }
            Translate::Anthropic(_) => self.translate_events(&events),
        }
    }

    fn translate_events(&mut self, events: &[SseEvent]) -> Bytes {
        let mut out = BytesMut::new();
        let Translate::Anthropic(state) = &mut self.translate else { return Bytes::new() };
        for event in events {
            match state.on_event(event) {
                Ok(step) => {
                    for chunk in &step.chunks {
                        out.extend_from_slice(&encode_data(&chunk.to_string()));
                    }
                    if step.done {
                        out.extend_from_slice(DONE);
                        self.complete = true;
                        self.closed = true;
                        break;
                    }
                }
                Err(StreamError::Upstream(error)) => {
                    out.extend_from_slice(&error_event_value(error));
                    self.closed = true;
                    break;
                }
                Err(StreamError::Bad(why)) => {
                    out.extend_from_slice(&self.error_event("bad_upstream_stream", &why));
                    self.closed = true;
                    break;
                }
            }
        }
        out.freeze()
    }

    fn on_broken(&mut self, why: &str) -> Bytes {
        self.closed = true;
        if self.complete {
            return Bytes::new();
        }
        tracing::warn!(provider = self.provider, "upstream stream broke: {why}");
        self.error_event("upstream_stream_broken", &format!("the provider's stream broke off: {why}"))
    }

    fn on_end(&mut self) -> Bytes {
        self.closed = true;
        if self.complete {
            return Bytes::new();
        }
        let tail = self.decoder.finish();
        if matches!(&self.translate, Translate::Passthrough) && tail.is_some_and(|e| e.data == "[DONE]") {
            return Bytes::new();
        }
        tracing::warn!(provider = self.provider, "upstream stream ended before its end marker");
        self.error_event("upstream_stream_incomplete", "the provider's stream ended before it was complete")
    }

    fn error_event(&self, code: &str, message: &str) -> Bytes {
        error_event_value(json!({"error": {
            "message": format!("{}: {message}", self.provider),
            "type": "api_error", "param": null, "code": code,
        }}))
    }
}

/// An SSE event carrying an OpenAI error object; SDKs raise it as an API error.
fn error_event_value(error: Value) -> Bytes {
    encode_data(&error.to_string())
}

//! The stream relay: forwards a provider's SSE stream to the client event by event, never
//! buffered whole. OpenAI-family streams pass through byte for byte; Anthropic's events are
//! translated into OpenAI chunks. A stream that breaks or ends early is finished with an SSE
//! error event (which the OpenAI and Portkey SDKs raise), never a silent clean end.
//!
//! The relay owns the upstream body: when the client disconnects, axum drops the relay and
//! with it the upstream connection, which cancels the provider's work.

use std::convert::Infallible;
use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};
use switchboard_core::provider::anthropic::{ChatStream, StreamError};
use switchboard_core::sse::{encode_data, SseDecoder, SseEvent, DONE};
use switchboard_core::usage::Usage;

use crate::logs::Recorder;

/// The provider's response body.
pub type Upstream = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

/// How the upstream's events become the client's.
pub enum Translate {
    /// OpenAI-shaped already: bytes pass through; `[DONE]` is watched for.
    Passthrough,
    Anthropic(Box<ChatStream>),
}

struct Relay {
    upstream: Upstream,
    first: Option<Bytes>,
    decoder: SseDecoder,
    translate: Translate,
    provider: &'static str,
    /// The stream reached its proper end (`[DONE]` / `message_stop`).
    complete: bool,
    /// Nothing more is sent to the client.
    closed: bool,
    /// Finished (and taken) when the stream ends; on drop, the client went away.
    log: Option<Recorder>,
    /// Why the stream did not end properly, for the log.
    failure: Option<String>,
}

/// The client-facing body for an upstream stream whose first chunk was already read. The
/// request's log record is finished when the stream ends.
pub fn body(
    first: Bytes,
    upstream: Upstream,
    translate: Translate,
    provider: &'static str,
    log: Recorder,
) -> axum::body::Body {
    let relay = Relay {
        upstream,
        first: Some(first),
        decoder: SseDecoder::new(),
        translate,
        provider,
        complete: false,
        closed: false,
        log: Some(log),
        failure: None,
    };
    let stream = futures_util::stream::unfold(relay, |mut relay| async move {
        match relay.next_output().await {
            Some(out) => Some((Ok::<Bytes, Infallible>(out), relay)),
            None => {
                relay.finish_log();
                None
            }
        }
    });
    axum::body::Body::from_stream(stream)
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(log) = self.log.take() {
            log.finish_stream(499, Some("the client closed the stream".to_string()));
        }
    }
}

impl Relay {
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
                for event in &events {
                    self.observe_passthrough(event);
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
                        if let Some(log) = &mut self.log {
                            log.stream_chunk(chunk);
                        }
                    }
                    if step.done {
                        out.extend_from_slice(DONE);
                        self.complete = true;
                        self.closed = true;
                        let usage = state.usage().as_ref().and_then(Usage::from_openai);
                        if let Some(log) = &mut self.log {
                            log.stream_usage(usage);
                        }
                        break;
                    }
                }
                Err(StreamError::Upstream(error)) => {
                    self.failure = error.pointer("/error/message").and_then(|m| m.as_str()).map(str::to_string);
                    out.extend_from_slice(&error_event_value(error));
                    self.closed = true;
                    break;
                }
                Err(StreamError::Bad(why)) => {
                    out.extend_from_slice(&self.error_event("bad_upstream_stream", &why));
                    self.failure = Some(why);
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
        let message = format!("the provider's stream broke off: {why}");
        let event = self.error_event("upstream_stream_broken", &message);
        self.failure = Some(message);
        event
    }

    fn on_end(&mut self) -> Bytes {
        self.closed = true;
        if self.complete {
            return Bytes::new();
        }
        let tail = self.decoder.finish();
        if matches!(&self.translate, Translate::Passthrough) {
            if let Some(event) = tail {
                self.observe_passthrough(&event);
            }
        }
        if self.complete {
            return Bytes::new();
        }
        tracing::warn!(provider = self.provider, "upstream stream ended before its end marker");
        let message = "the provider's stream ended before it was complete";
        self.failure = Some(message.to_string());
        self.error_event("upstream_stream_incomplete", message)
    }

    /// Watches a passed-through event for the end marker, and feeds the log.
    fn observe_passthrough(&mut self, event: &SseEvent) {
        if event.data == "[DONE]" {
            self.complete = true;
            return;
        }
        if let (Some(log), Ok(chunk)) = (&mut self.log, serde_json::from_str::<Value>(&event.data)) {
            log.stream_chunk(&chunk);
        }
    }

    /// Finishes the log record: a complete stream is a 200, a broken one a 502.
    fn finish_log(&mut self) {
        if let Some(log) = self.log.take() {
            let status = if self.complete { 200 } else { 502 };
            log.finish_stream(status, self.failure.take());
        }
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

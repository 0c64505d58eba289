//! The stream relay: forwards a provider's SSE stream to the client event by event, never
//! buffered whole. A stream in the client's own API passes through byte for byte (OpenAI's to
//! an OpenAI client, Anthropic's to a Messages client); any other is translated through chat
//! chunks (see [`crate::gateway::translate`]). A stream that breaks or ends early is finished
//! with the client API's error event (which its SDKs raise), never a silent clean end.
//!
//! The relay owns the upstream body: when the client disconnects, axum drops the relay and
//! with it the upstream connection, which cancels the provider's work. A provider cannot
//! hold the client forever or fill memory: when no event arrives for the idle timeout, or one
//! event grows past its cap, the stream ends with an SSE error event and the log says why.

use std::convert::Infallible;
use std::pin::Pin;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};
use switchboard_core::provider::anthropic::StreamError;
use switchboard_core::sse::{SseDecoder, SseEvent};
use switchboard_core::usage::Usage;

pub use crate::gateway::translate::Translate;
use crate::gateway::translate::{self, Read};
use crate::observe::{Recorder, CLIENT_CLOSED};

/// The provider's response body.
pub type UpstreamStream = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

/// What the relay allows a provider's stream.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest wait for the next upstream bytes.
    pub idle: Duration,
    /// Largest event (or unfinished line) held while decoding.
    pub max_event_bytes: usize,
}

pub struct Relay {
    upstream: UpstreamStream,
    limits: Limits,
    /// Passthrough: the unfinished last line, not yet sent.
    held: BytesMut,
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
    /// Why the stream did not end properly, for the log: message and class.
    failure: Option<(String, &'static str)>,
}

impl Relay {
    pub fn new(upstream: UpstreamStream, translate: Translate, provider: &'static str, limits: Limits) -> Self {
        Relay {
            upstream,
            limits,
            held: BytesMut::new(),
            first: None,
            decoder: SseDecoder::new(),
            translate,
            provider,
            complete: false,
            closed: false,
            log: None,
            failure: None,
        }
    }

    /// The client-facing body, starting with `first` (what the executor read to commit).
    /// The request's log record is finished when the stream ends.
    pub fn into_body(mut self, first: Bytes, log: Recorder) -> axum::body::Body {
        self.first = Some(first);
        self.log = Some(log);
        let stream = futures_util::stream::unfold(self, |mut relay| async move {
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
}

impl Drop for Relay {
    fn drop(&mut self) {
        // While unwinding, the recorder's own guard logs the panic.
        if let Some(mut log) = self.log.take().filter(|_| !std::thread::panicking()) {
            log.class(CLIENT_CLOSED);
            log.finish_stream(499, Some("the client closed the stream".to_string()));
        }
    }
}

impl Relay {
    /// The next bytes for the client, or `None` when the response is over.
    async fn next_output(&mut self) -> Option<Bytes> {
        while !self.closed {
            let chunk = match self.first.take() {
                Some(first) => Some(Some(Ok(first))),
                None => tokio::time::timeout(self.limits.idle, self.upstream.next()).await.ok(),
            };
            let out = match chunk {
                Some(Some(Ok(bytes))) => self.on_bytes(bytes),
                Some(Some(Err(err))) => self.on_broken(&err.without_url().to_string()),
                Some(None) => self.on_end(),
                None => self.on_idle(),
            };
            if !out.is_empty() {
                return Some(out);
            }
        }
        None
    }

    fn on_bytes(&mut self, bytes: Bytes) -> Bytes {
        let events = self.decoder.push(&bytes);
        if self.decoder.pending_len() > self.limits.max_event_bytes {
            return self.on_oversized();
        }
        match &mut self.translate {
            Translate::Passthrough | Translate::AnthropicPassthrough(_) | Translate::ResponsesPassthrough(_) => {
                for event in &events {
                    self.observe_passthrough(event);
                }
                self.whole_lines(bytes)
            }
            Translate::Convert { .. } => self.translate_events(&events),
        }
    }

    /// Passed-through bytes up to their last line end; the unfinished line is held back
    /// (bounded by the event cap) so that the client never gets half a line, and an error
    /// event can always follow cleanly. Chunks that end on a line end pass without a copy.
    fn whole_lines(&mut self, bytes: Bytes) -> Bytes {
        let Some(end) = bytes.iter().rposition(|b| *b == b'\n' || *b == b'\r') else {
            self.held.extend_from_slice(&bytes);
            return Bytes::new();
        };
        let (ready, rest) = (bytes.slice(..=end), bytes.slice(end + 1..));
        let out = if self.held.is_empty() {
            ready
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(&ready);
            joined.freeze()
        };
        self.held.extend_from_slice(&rest);
        out
    }

    fn translate_events(&mut self, events: &[SseEvent]) -> Bytes {
        let mut out = BytesMut::new();
        for event in events {
            let Translate::Convert { source, sink } = &mut self.translate else { break };
            match source.read(event) {
                Ok(Read { chunks, done }) => {
                    for chunk in &chunks {
                        out.extend_from_slice(&sink.chunk(chunk));
                        if let Some(log) = &mut self.log {
                            log.stream_chunk(chunk);
                        }
                    }
                    if done {
                        out.extend_from_slice(&sink.done());
                        let usage = source.usage().as_ref().and_then(Usage::from_openai);
                        self.complete = true;
                        self.closed = true;
                        if let Some(log) = &mut self.log {
                            log.stream_usage(usage);
                        }
                        break;
                    }
                }
                Err(StreamError::Upstream(error)) => {
                    let message = error.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or("error event");
                    self.failure = Some((message.to_string(), translate::error_class(&error)));
                    out.extend_from_slice(&self.translate.error_bytes(&error));
                    self.closed = true;
                    break;
                }
                Err(StreamError::Bad(why)) => {
                    out.extend_from_slice(&self.error_event("upstream_malformed", &why));
                    self.failure = Some((why, "upstream_malformed"));
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
        self.fail("upstream_stream_broken", "upstream_unreachable", format!("the provider's stream broke off: {why}"))
    }

    /// No upstream bytes for the idle timeout: the client is told, not left hanging.
    fn on_idle(&mut self) -> Bytes {
        let ms = u64::try_from(self.limits.idle.as_millis()).unwrap_or(u64::MAX);
        self.fail("timeout", "timeout", format!("the provider's stream sent nothing for {ms} ms"))
    }

    /// One event grew past its cap.
    fn on_oversized(&mut self) -> Bytes {
        let limit = self.limits.max_event_bytes;
        self.fail(
            "upstream_too_large",
            "upstream_too_large",
            format!("a stream event is over the limit of {limit} bytes"),
        )
    }

    /// Ends the stream with an error event (`code` for the client, `class` for the log).
    fn fail(&mut self, code: &str, class: &'static str, message: String) -> Bytes {
        self.closed = true;
        tracing::warn!(provider = self.provider, class, "upstream stream ended badly: {message}");
        let event = self.error_event(code, &message);
        self.failure = Some((message, class));
        event
    }

    fn on_end(&mut self) -> Bytes {
        self.closed = true;
        if self.complete {
            return Bytes::new();
        }
        let tail = self.decoder.finish();
        if !matches!(&self.translate, Translate::Convert { .. }) {
            if let Some(event) = tail {
                self.observe_passthrough(&event);
            }
        }
        let mut out = std::mem::take(&mut self.held);
        // Complete, or the provider's own error event was relayed and said why.
        if self.complete || self.failure.is_some() {
            return out.freeze();
        }
        tracing::warn!(provider = self.provider, "upstream stream ended before its end marker");
        let message = "the provider's stream ended before it was complete";
        self.failure = Some((message.to_string(), "upstream_malformed"));
        if !out.is_empty() {
            out.extend_from_slice(b"\n");
        }
        out.extend_from_slice(&self.error_event("upstream_stream_incomplete", message));
        out.freeze()
    }

    /// Watches a passed-through event for the end marker, and feeds the log.
    fn observe_passthrough(&mut self, event: &SseEvent) {
        match &mut self.translate {
            Translate::AnthropicPassthrough(_) => return self.observe_anthropic(event),
            Translate::ResponsesPassthrough(watch) => {
                let seen = watch.observe(event);
                return self.observe_responses(seen, event);
            }
            Translate::Passthrough | Translate::Convert { .. } => {}
        }
        if event.data == "[DONE]" {
            self.complete = true;
            return;
        }
        if let (Some(log), Ok(chunk)) = (&mut self.log, serde_json::from_str::<Value>(&event.data)) {
            log.stream_chunk(&chunk);
        }
    }

    /// A passed-through Responses event: the end, with its usage, or the provider's failure.
    fn observe_responses(&mut self, seen: translate::Seen, event: &SseEvent) {
        if let (Some(log), Ok(data)) = (&mut self.log, serde_json::from_str::<Value>(&event.data)) {
            if let Some(model) = data.pointer("/response/model").filter(|m| m.is_string()) {
                log.stream_chunk(&json!({"model": model}));
            }
        }
        match seen {
            translate::Seen::Nothing => {}
            translate::Seen::Done(usage) => {
                self.complete = true;
                let usage = usage.as_ref().and_then(translate::responses_usage);
                if let Some(log) = &mut self.log {
                    log.stream_usage(usage);
                }
            }
            translate::Seen::Failed(message) => self.failure = Some((message, "upstream_error")),
        }
    }

    /// A passed-through Anthropic event, read as chat chunks for the log; `message_stop`
    /// completes the stream, an `error` event (relayed as it is) fails it.
    fn observe_anthropic(&mut self, event: &SseEvent) {
        let Translate::AnthropicPassthrough(state) = &mut self.translate else { return };
        match state.on_event(event) {
            Ok(step) => {
                if let Some(log) = &mut self.log {
                    step.chunks.iter().for_each(|chunk| log.stream_chunk(chunk));
                    if step.done {
                        log.stream_usage(state.usage().as_ref().and_then(Usage::from_openai));
                    }
                }
                self.complete |= step.done;
            }
            Err(StreamError::Upstream(error)) => {
                let message = error.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or("error event");
                self.failure = Some((message.to_string(), translate::error_class(&error)));
            }
            // The client reads the provider's own events; one the log cannot read costs only the log.
            Err(StreamError::Bad(_)) => {}
        }
    }

    /// Finishes the log record: a complete stream is a 200, a broken one a 502.
    fn finish_log(&mut self) {
        if let Some(mut log) = self.log.take() {
            let status = match &self.failure {
                None if self.complete => 200,
                Some((_, "timeout")) => 504,
                _ => 502,
            };
            let failure = self.failure.take();
            if let Some((_, class)) = &failure {
                log.class(class);
            }
            log.finish_stream(status, failure.map(|(message, _)| message));
        }
    }

    /// An error event, opening with a blank line: it ends whatever event the client was
    /// reading, so the error is always an event of its own.
    fn error_event(&mut self, code: &str, message: &str) -> Bytes {
        let event = self.translate.error_bytes(&json!({"error": {
            "message": format!("{}: {message}", self.provider),
            "type": "api_error", "param": null, "code": code,
        }}));
        let mut out = BytesMut::with_capacity(event.len() + 1);
        out.extend_from_slice(b"\n");
        out.extend_from_slice(&event);
        out.freeze()
    }
}

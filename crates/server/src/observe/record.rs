//! Building one request's log record while it is routed: the request's identity (trace,
//! metadata, config), each upstream attempt and why the router moved on, and the outcome
//! (status, latency, time to first byte, served model, tokens, cost, capped bodies).
//!
//! It also holds the request's reservations on key limits and settles them when it finishes.
//!
//! Every request is logged once: a recorder dropped before it was finished — the client left
//! and its request future was dropped, or the handler panicked — logs itself as it drops
//! (499 `client_closed`, or 500 `internal` while unwinding).

use std::time::Instant;

use serde_json::{Map, Value};
use switchboard_core::pricing::{self, Price};
use switchboard_core::provider::AnswerFacts;
use switchboard_core::usage::Usage;
use switchboard_store::{AttemptEntry, AttemptReason, LogRecord, RouteEntry, RouteNote};

use super::LogSink;
use crate::policy::limits::Reservation;
use crate::support::clock;

/// The class of a request whose client went away before its answer was complete.
pub const CLIENT_CLOSED: &str = "client_closed";

/// A target routing passed over, as the log shows it: which target (its path, and the provider or virtual
/// key it names, so a reader can tell it without the config), why (`state`: open, half_open, cooling,
/// no_headroom, limited, unsupported; `why`: what an unsupported target's provider cannot do), and until when.
pub struct SkipNote<'a> {
    pub target_path: &'a str,
    pub state: &'static str,
    pub until_ms: Option<u64>,
    pub why: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub virtual_key: Option<&'a str>,
}

/// What the log may keep of bodies.
#[derive(Debug, Clone, Copy)]
pub struct BodyPolicy {
    pub keep: bool,
    pub max_bytes: usize,
}

pub struct Recorder {
    started: Instant,
    record: LogRecord,
    bodies: BodyPolicy,
    price: Option<Price>,
    sink: LogSink,
    /// Streams: the content relayed so far (capped) and its full length in chars.
    stream_text: String,
    stream_chars: usize,
    stream_usage: Option<Usage>,
    prompt_chars: usize,
    /// Reservations on key limits, settled with the record's tokens and cost when it is finished.
    held: Vec<Reservation>,
    /// Set once the record has been submitted.
    finished: bool,
    /// Called with whether a stream broke, when it ends (the target-health report).
    stream_end: Option<Box<dyn FnOnce(bool) + Send>>,
}

/// The request's identity, known before routing starts.
pub struct Identity<'a> {
    pub trace_id: &'a str,
    pub span: [Option<String>; 3],
    pub metadata: &'a Map<String, Value>,
    pub api_key_id: Option<&'a str>,
    pub config_slug: Option<&'a str>,
    pub config_version: Option<i64>,
    pub strategy_mode: &'static str,
    pub body: &'a Map<String, Value>,
    pub raw_body: &'a [u8],
    pub stream: bool,
}

impl Recorder {
    /// Starts a request's record. Bodies are copied into it only when `bodies` keeps them and
    /// the sink stores records (not with `--no-request-logs`: metrics and OTLP read none).
    pub fn start(who: Identity<'_>, mut bodies: BodyPolicy, sink: LogSink) -> Self {
        bodies.keep &= sink.stores_records();
        let [span_id, parent_span_id, span_name] = who.span;
        let model = who.body.get("model").and_then(Value::as_str).unwrap_or_default();
        let record = LogRecord {
            trace_id: Some(who.trace_id.to_string()),
            span_id,
            parent_span_id,
            span_name,
            metadata: who.metadata.clone(),
            api_key_id: who.api_key_id.map(str::to_string),
            config_slug: who.config_slug.map(str::to_string),
            config_version: who.config_version,
            strategy_mode: Some(who.strategy_mode.to_string()),
            stream: who.stream,
            request_body: bodies.keep.then(|| capped(who.raw_body, bodies.max_bytes)),
            ..LogRecord::new(crate::support::ids::log_id(), clock::unix_ms(), "none", model)
        };
        // Only a stream's tokens are ever estimated (a provider that sends no usage).
        let prompt_chars = if who.stream { prompt_chars(who.body) } else { 0 };
        Recorder {
            started: Instant::now(),
            record,
            bodies,
            price: None,
            sink,
            stream_text: String::new(),
            stream_chars: 0,
            stream_usage: None,
            prompt_chars,
            held: Vec::new(),
            finished: false,
            stream_end: None,
        }
    }

    /// Holds a reservation on a key's limits until the request is finished: every finish
    /// settles it with the record's tokens and cost (a record without usage used none);
    /// a recorder dropped unfinished drops it, which charges its estimate.
    pub fn hold(&mut self, reservation: Reservation) {
        self.held.push(reservation);
    }

    /// Why the request failed, when it did (the last failure's class wins).
    pub fn class(&mut self, class: &str) {
        self.record.error_class = Some(class.to_string());
    }

    /// Milliseconds since the request arrived.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Notes the target an attempt went to (the last one is the request's).
    pub fn target(&mut self, path: &str, provider: &'static str, virtual_key: Option<&str>, price: Option<Price>) {
        self.record.target_path = Some(path.to_string());
        self.record.provider = provider.to_string();
        self.record.virtual_key = virtual_key.map(str::to_string);
        self.price = price;
    }

    pub fn attempt(&mut self, call: AttemptEntry) {
        if call.reason == AttemptReason::Retry {
            self.record.retry_count += 1;
        }
        self.record.attempts.push(RouteEntry::Attempt(call));
    }

    /// A target routing passed over, in the record's route before its attempts.
    pub fn skipped(&mut self, skip: &SkipNote<'_>) {
        self.record.attempts.push_note(RouteNote::Skipped {
            target_path: skip.target_path.to_string(),
            state: skip.state.into(),
            until_ms: skip.until_ms,
            provider: skip.provider.map(str::to_string),
            virtual_key: skip.virtual_key.map(str::to_string),
            why: skip.why.map(str::to_string),
        });
    }

    /// A sticky loadbalance's assignment: the group, its first choice for the request's
    /// `hash_key` value, and the target it went to.
    pub fn sticky(&mut self, group_path: &str, first_choice: &str, chosen: &str) {
        self.record.attempts.push_note(RouteNote::Sticky {
            group_path: group_path.to_string(),
            first_choice: first_choice.to_string(),
            target_path: chosen.to_string(),
        });
    }

    /// Nothing was available: the router tried the target back first.
    pub fn failed_open(&mut self) {
        self.record.attempts.push_note(RouteNote::FailedOpen);
    }

    /// The first response byte is ready for the client.
    pub fn first_byte(&mut self) {
        self.record.ttfb_ms = Some(self.elapsed_ms() as i64);
    }

    /// A successful non-stream answer. Its model and usage were read by the scan that checked
    /// it (`facts`), so the body is not parsed again. Returns the request's cost when priced.
    pub fn finish_answer(mut self, status: u16, body: &[u8], facts: AnswerFacts) -> Option<f64> {
        self.record.served_model = facts.model;
        self.set_usage(facts.usage);
        self.finish_body(status, body)
    }

    /// A provider's failure: its status and (OpenAI-shaped) body, read from the value the
    /// client's answer was made of, and that answer (`sent`).
    pub fn finish_failure(mut self, status: u16, body: &Value, sent: &[u8]) {
        self.record.served_model = body.get("model").and_then(Value::as_str).map(str::to_string);
        self.set_usage(body.get("usage").and_then(Usage::from_openai));
        if status >= 400 {
            let message = body.get("error").and_then(|e| e.get("message").or(Some(e))).and_then(Value::as_str);
            self.record.error = message.map(str::to_string);
        }
        self.finish_body(status, sent);
    }

    fn finish_body(mut self, status: u16, body: &[u8]) -> Option<f64> {
        if self.bodies.keep {
            self.record.response_body = Some(capped(body, self.bodies.max_bytes));
        }
        let cost = self.record.cost_usd;
        self.finish(status);
        cost
    }

    /// A gateway-side failure (nothing usable came from a provider).
    pub fn finish_error(mut self, status: u16, class: &str, message: &str) {
        self.record.error = Some(message.to_string());
        self.class(class);
        self.finish(status);
    }

    /// One OpenAI chunk relayed to the client.
    pub fn stream_chunk(&mut self, chunk: &Value) {
        if self.record.served_model.is_none() {
            self.record.served_model = chunk.get("model").and_then(Value::as_str).map(str::to_string);
        }
        if let Some(usage) = Usage::from_response(chunk) {
            self.stream_usage = Some(usage);
        }
        let delta = chunk.pointer("/choices/0/delta/content").and_then(Value::as_str).unwrap_or_default();
        self.stream_chars += delta.chars().count();
        if self.bodies.keep && self.stream_text.len() < self.bodies.max_bytes {
            self.stream_text.push_str(delta);
        }
    }

    /// Usage the stream translator knew at the end (Anthropic), if the chunks had none.
    pub fn stream_usage(&mut self, usage: Option<Usage>) {
        if self.stream_usage.is_none() {
            self.stream_usage = usage;
        }
    }

    /// The stream ended: completely, or with `error`. Tokens come from the provider's usage
    /// when it sent any, else are estimated from the text (about 4 characters a token).
    /// Has `f` told, when the stream ends, whether it broke (`status` ≥ 500). A stream the
    /// client left (499) says nothing about its provider, and is not told.
    pub fn on_stream_end(&mut self, f: Box<dyn FnOnce(bool) + Send>) {
        self.stream_end = Some(f);
    }

    pub fn finish_stream(mut self, status: u16, error: Option<String>) {
        if let Some(report) = self.stream_end.take().filter(|_| status != 499) {
            report(status >= 500);
        }
        let estimate = || Usage {
            prompt_tokens: (self.prompt_chars as u64).div_ceil(4),
            completion_tokens: (self.stream_chars as u64).div_ceil(4),
            ..Usage::default()
        };
        let usage = self.stream_usage.unwrap_or_else(estimate);
        self.set_usage(Some(usage));
        if self.bodies.keep {
            let text = std::mem::take(&mut self.stream_text);
            self.record.response_body = Some(capped(text.as_bytes(), self.bodies.max_bytes));
        }
        self.record.error = error;
        self.finish(status);
    }

    fn set_usage(&mut self, usage: Option<Usage>) {
        let Some(usage) = usage else { return };
        self.record.prompt_tokens = Some(usage.prompt_tokens as i64);
        self.record.completion_tokens = Some(usage.completion_tokens as i64);
        self.record.total_tokens = Some(usage.total() as i64);
        let model = self.record.served_model.as_deref().unwrap_or(&self.record.requested_model);
        let price = self.price.or_else(|| pricing::lookup(&self.record.provider, model));
        match price {
            Some(price) => self.record.cost_usd = Some(pricing::cost(&price, &usage)),
            None => self.record.unpriced = true,
        }
    }

    fn finish(mut self, status: u16) {
        self.submit(status);
    }

    fn submit(&mut self, status: u16) {
        self.finished = true;
        let tokens = self.record.total_tokens.and_then(|t| u64::try_from(t).ok()).unwrap_or(0);
        let cost = self.record.cost_usd.unwrap_or(0.0);
        for reservation in self.held.drain(..) {
            reservation.settle(Some(tokens), Some(cost));
        }
        self.record.status = status;
        self.record.latency_ms = i64::try_from(self.elapsed_ms()).unwrap_or(i64::MAX);
        if status < 400 {
            self.record.error_class = None;
        }
        let empty = LogRecord::new(String::new(), 0, String::new(), String::new());
        let record = std::mem::replace(&mut self.record, empty);
        self.sink.submit(record);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Nothing is known of what the request used: each reservation keeps its estimate.
        self.held.clear();
        if std::thread::panicking() {
            tracing::error!(trace_id = self.record.trace_id.as_deref(), "request handler panicked");
            self.record.error = Some("the gateway failed while handling this request".into());
            self.class("internal");
            self.submit(500);
        } else {
            self.record.error = Some("the client closed the connection before the answer".into());
            self.class(CLIENT_CLOSED);
            self.submit(499);
        }
    }
}

/// Logs an authenticated request refused before routing (bad body or config, a config it may
/// not send): its trace ID, status and class, nothing else.
pub fn log_refusal(sink: &LogSink, trace_id: &str, err: &crate::http::error::GatewayError) {
    let record = LogRecord {
        trace_id: Some(trace_id.to_string()),
        status: err.status(),
        error: Some(err.to_string()),
        error_class: Some(err.code().to_string()),
        ..LogRecord::new(crate::support::ids::log_id(), clock::unix_ms(), "none", "")
    };
    sink.submit(record);
}

/// The first `max` bytes of `body` as text, cut at a character boundary.
pub(crate) fn capped(body: &[u8], max: usize) -> String {
    switchboard_core::text::shorten_bytes(body, max, "…[truncated]")
}

/// Characters of the request's message contents, for estimating prompt tokens.
fn prompt_chars(body: &Map<String, Value>) -> usize {
    fn chars(v: &Value) -> usize {
        match v {
            Value::String(s) => s.chars().count(),
            Value::Array(items) => items.iter().map(chars).sum(),
            Value::Object(o) => o.get("text").or_else(|| o.get("content")).map(chars).unwrap_or(0),
            _ => 0,
        }
    }
    ["messages", "prompt", "input"].iter().filter_map(|k| body.get(*k)).map(chars).sum()
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failed test should stop loudly")]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::observe::metrics::Metrics;

    fn recorder(sink: &LogSink) -> Recorder {
        recorder_keeping(sink, false)
    }

    fn recorder_keeping(sink: &LogSink, keep: bool) -> Recorder {
        let (metadata, body) = (Map::new(), Map::new());
        let who = Identity {
            trace_id: "t",
            span: [None, None, None],
            metadata: &metadata,
            api_key_id: None,
            config_slug: None,
            config_version: None,
            strategy_mode: "single",
            body: &body,
            raw_body: b"{\"model\": \"gpt-4o\"}",
            stream: false,
        };
        Recorder::start(who, BodyPolicy { keep, max_bytes: 8 }, sink.clone())
    }

    #[test]
    fn bodies_are_copied_capped_into_a_stored_record_and_not_at_all_without_a_store() {
        let metrics = Arc::new(Metrics::default());
        let (stored, mut queue) = crate::observe::sink::queue(4, metrics.clone());
        recorder_keeping(&stored, true).finish_answer(200, b"0123456789", AnswerFacts::default());
        let record = queue.try_recv().unwrap();
        assert_eq!(record.request_body.as_deref(), Some("{\"model\"…[truncated]"));
        assert_eq!(record.response_body.as_deref(), Some("01234567…[truncated]"));
        let unstored = recorder_keeping(&LogSink::metrics_only(metrics), true);
        assert!(!unstored.bodies.keep && unstored.record.request_body.is_none());
    }

    #[test]
    fn an_answer_is_logged_from_the_facts_of_its_check_not_parsed_again() {
        let (sink, mut queue) = crate::observe::sink::queue(4, Arc::new(Metrics::default()));
        let mut rec = recorder(&sink);
        rec.target("config", "openai", None, None);
        let usage = Usage { prompt_tokens: 1_000_000, completion_tokens: 0, ..Usage::default() };
        let facts = AnswerFacts { model: Some("gpt-4o".into()), usage: Some(usage) };
        let cost = rec.finish_answer(200, b"not json: never read", facts);
        let record = queue.try_recv().unwrap();
        assert_eq!((record.served_model.as_deref(), record.prompt_tokens), (Some("gpt-4o"), Some(1_000_000)));
        assert_eq!(cost, record.cost_usd);
        assert!(cost.is_some_and(|c| c > 0.0) && !record.unpriced);
    }

    #[test]
    fn a_provider_failure_is_read_from_the_value_it_was_sent_from() {
        let (sink, mut queue) = crate::observe::sink::queue(4, Arc::new(Metrics::default()));
        let body = serde_json::json!({"error": {"message": "slow down", "type": "rate_limit"}});
        recorder(&sink).finish_failure(429, &body, b"{}");
        assert_eq!(queue.try_recv().unwrap().error.as_deref(), Some("slow down"));
    }

    fn statuses(metrics: &crate::observe::metrics::Metrics) -> Vec<String> {
        let text = metrics.render();
        let lines = text.lines().filter(|l| l.starts_with("switchboard_requests_total{"));
        lines.filter_map(|l| l.split("status=\"").nth(1)?.split('"').next().map(str::to_string)).collect()
    }

    #[test]
    fn a_recorder_dropped_unfinished_logs_the_client_leaving() {
        let metrics = std::sync::Arc::new(crate::observe::metrics::Metrics::default());
        let sink = LogSink::metrics_only(metrics.clone());
        drop(recorder(&sink));
        assert_eq!(statuses(&metrics), ["499"]);
        recorder(&sink).finish_error(400, "invalid_request", "bad");
        assert_eq!(statuses(&metrics).len(), 2, "a finished recorder logs once, not again on drop");
    }

    #[test]
    fn a_recorder_dropped_while_panicking_logs_an_internal_error() {
        let metrics = std::sync::Arc::new(crate::observe::metrics::Metrics::default());
        let sink = LogSink::metrics_only(metrics.clone());
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _rec = recorder(&sink);
            panic!("scripted");
        }));
        assert!(unwound.is_err());
        assert_eq!(statuses(&metrics), ["500"]);
    }

    #[test]
    fn capped_cuts_at_char_boundary_and_marks_it() {
        assert_eq!(capped("héllo".as_bytes(), 2), "h…[truncated]");
        assert_eq!(capped(b"abc", 10), "abc");
    }

    #[test]
    fn prompt_chars_counts_message_text() {
        use serde_json::json;
        let body = json!({"messages": [{"role": "user", "content": "abcd"},
            {"role": "user", "content": [{"type": "text", "text": "ef"}]}]});
        assert_eq!(prompt_chars(body.as_object().unwrap_or(&Map::new())), 6);
    }
}

//! How one finished request record becomes OTLP spans: the request's span (kind SERVER) and
//! one child span per upstream attempt (kind CLIENT). Attributes follow the OpenTelemetry
//! GenAI and HTTP semantic conventions where one exists (`gen_ai.*`, `http.*`, `error.type`)
//! and are `switchboard.*` / `portkey.*` where none does. Pure: no I/O, no clock.
//!
//! Only the fields named here leave the gateway. Bodies, metadata, virtual keys, API-key ids
//! and headers are never read, so no credential can reach a collector through a span.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use switchboard_store::{AttemptEntry, LogRecord};

/// The instrumentation scope every span carries.
pub fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("switchboard").with_version(env!("CARGO_PKG_VERSION")).build()
}

/// The request's span, then one child span per attempt.
pub fn spans(r: &LogRecord, scope: &InstrumentationScope) -> Vec<SpanData> {
    let uuid = uuid_bits(&r.id);
    let trace_id = trace_id(r.trace_id.as_deref(), uuid);
    let root_id = SpanId::from_bytes((uuid as u64).to_be_bytes());
    let parent = r.parent_span_id.as_deref().filter(|p| is_hex(p, 16)).and_then(|p| SpanId::from_hex(p).ok());
    let root = SpanData {
        span_context: context(trace_id, root_id),
        parent_span_id: parent.unwrap_or(SpanId::INVALID),
        parent_span_is_remote: parent.is_some(),
        span_kind: SpanKind::Server,
        name: format!("switchboard {}", r.strategy_mode.as_deref().unwrap_or("request")).into(),
        start_time: at(r.created_at),
        end_time: at(r.created_at.saturating_add(r.latency_ms)),
        attributes: request_attributes(r),
        status: status(r.status),
        ..blank(scope)
    };
    let children: Vec<SpanData> =
        r.attempts.calls().enumerate().map(|(i, a)| attempt_span(r.created_at, &root, i, a)).collect();
    std::iter::once(root).chain(children).collect()
}

fn attempt_span(created_at: i64, root: &SpanData, i: usize, a: &AttemptEntry) -> SpanData {
    let millis = |ms: u64| i64::try_from(ms).unwrap_or(i64::MAX);
    let start = created_at.saturating_add(millis(a.start_offset_ms));
    let end = start.saturating_add(millis(a.latency_ms));
    let root_id = root.span_context.span_id();
    SpanData {
        span_context: context(root.span_context.trace_id(), child_span_id(root_id, i)),
        parent_span_id: root_id,
        span_kind: SpanKind::Client,
        name: format!("attempt {}", a.target_path).into(),
        start_time: at(start),
        end_time: at(end),
        attributes: attempt_attributes(a),
        status: status(a.status),
        ..blank(&root.instrumentation_scope)
    }
}

/// A span with nothing set but its scope; the callers fill in the rest.
fn blank(scope: &InstrumentationScope) -> SpanData {
    SpanData {
        span_context: SpanContext::empty_context(),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: "".into(),
        start_time: UNIX_EPOCH,
        end_time: UNIX_EPOCH,
        attributes: Vec::new(),
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: scope.clone(),
    }
}

fn request_attributes(r: &LogRecord) -> Vec<KeyValue> {
    let mut a = Attributes(Vec::with_capacity(14));
    a.text("portkey.trace_id", r.trace_id.as_deref());
    a.provider(Some(r.provider.as_str()).filter(|p| *p != "none"));
    a.text("gen_ai.request.model", Some(r.requested_model.as_str()).filter(|m| !m.is_empty()));
    a.text("gen_ai.response.model", r.served_model.as_deref());
    a.text("switchboard.target_path", r.target_path.as_deref());
    a.text("switchboard.config", r.config_slug.as_deref());
    a.int("http.response.status_code", Some(i64::from(r.status)));
    a.text("error.type", r.error_class.as_deref());
    a.int("gen_ai.usage.input_tokens", r.prompt_tokens);
    a.int("gen_ai.usage.output_tokens", r.completion_tokens);
    a.int("switchboard.retry_count", Some(i64::from(r.retry_count)));
    if let Some(cost) = r.cost_usd {
        a.0.push(KeyValue::new("switchboard.cost_usd", cost));
    }
    a.0
}

fn attempt_attributes(attempt: &AttemptEntry) -> Vec<KeyValue> {
    let mut a = Attributes(Vec::with_capacity(7));
    a.text("switchboard.target_path", Some(attempt.target_path.as_str()));
    a.provider(attempt.provider.as_deref());
    a.text("gen_ai.request.model", attempt.model.as_deref());
    a.int("http.response.status_code", Some(i64::from(attempt.status)));
    a.text("error.type", attempt.error_class.as_deref());
    a.text("switchboard.reason", Some(attempt.reason.as_str()));
    a.0
}

struct Attributes(Vec<KeyValue>);

impl Attributes {
    fn text(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(value) = value {
            self.0.push(KeyValue::new(key, value.to_string()));
        }
    }

    fn int(&mut self, key: &'static str, value: Option<i64>) {
        if let Some(value) = value {
            self.0.push(KeyValue::new(key, value));
        }
    }

    /// `gen_ai.provider.name` (the convention's value) and the deprecated `gen_ai.system`
    /// (the Portkey id, as exported before), so existing dashboards keep working.
    fn provider(&mut self, id: Option<&str>) {
        let Some(id) = id else { return };
        self.0.push(KeyValue::new("gen_ai.provider.name", provider_name(id).to_string()));
        self.0.push(KeyValue::new("gen_ai.system", id.to_string()));
    }
}

/// The GenAI convention's well-known `gen_ai.provider.name` for a Portkey provider id, where
/// the two differ; other ids are used as they are (the convention allows custom values).
fn provider_name(id: &str) -> &str {
    match id {
        "azure-openai" => "azure.ai.openai",
        "mistral-ai" => "mistral_ai",
        "perplexity-ai" => "perplexity",
        "x-ai" => "x_ai",
        other => other,
    }
}

fn context(trace_id: TraceId, span_id: SpanId) -> SpanContext {
    SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED, false, TraceState::default())
}

/// OTLP status: ERROR for statuses ≥ 400, else UNSET.
fn status(code: u16) -> Status {
    if code >= 400 {
        Status::error(format!("HTTP {code}"))
    } else {
        Status::Unset
    }
}

fn at(unix_ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(unix_ms).unwrap_or(0))
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The request's trace ID when it is a W3C one (32 hex, e.g. from `traceparent`), so the
/// span joins the caller's trace; else the record's UUID, and `portkey.trace_id` carries
/// the caller's ID for correlation.
fn trace_id(request_trace_id: Option<&str>, uuid: u128) -> TraceId {
    let w3c = request_trace_id.filter(|t| is_hex(t, 32)).and_then(|t| TraceId::from_hex(t).ok());
    w3c.unwrap_or_else(|| TraceId::from_bytes(uuid.to_be_bytes()))
}

/// A UUID string's last 32 hex digits as a number (shorter strings are zero-padded).
fn uuid_bits(uuid: &str) -> u128 {
    uuid.chars().filter_map(|c| c.to_digit(16)).fold(0, |bits, digit| (bits << 4) | u128::from(digit))
}

/// A distinct span ID for attempt `i` under `root`.
fn child_span_id(root: SpanId, i: usize) -> SpanId {
    let base = u64::from_be_bytes(root.to_bytes());
    SpanId::from_bytes((base ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)).to_be_bytes())
}

#[cfg(test)]
mod tests {
    use switchboard_store::{AttemptReason, Attempts, RouteEntry, RouteNote};

    use super::*;

    fn record() -> LogRecord {
        let call = AttemptEntry {
            target_path: "config.targets[0]".into(),
            provider: Some("mistral-ai".into()),
            model: Some("m".into()),
            status: 503,
            latency_ms: 20,
            start_offset_ms: 5,
            error_class: Some("overloaded".into()),
            retry: 0,
            backoff_ms: 0,
            reason: AttemptReason::Initial,
        };
        LogRecord {
            status: 503,
            latency_ms: 30,
            error_class: Some("overloaded".into()),
            attempts: Attempts(vec![RouteEntry::Note(RouteNote::FailedOpen), RouteEntry::Attempt(call)]),
            ..LogRecord::new("0190f5a2-7b3c-7def-8123-456789abcdef", 1_000, "mistral-ai", "m")
        }
    }

    fn value<'a>(span: &'a SpanData, key: &str) -> Option<&'a opentelemetry::Value> {
        span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
    }

    #[test]
    fn a_trace_id_that_is_not_w3c_falls_back_to_the_record_uuid() {
        let mut r = record();
        r.trace_id = Some("my-own-trace".into());
        let spans = spans(&r, &scope());
        assert_eq!(spans[0].span_context.trace_id().to_string(), "0190f5a27b3c7def8123456789abcdef");
        assert_eq!(spans[0].span_context.span_id().to_string(), "8123456789abcdef");
        assert_eq!(value(&spans[0], "portkey.trace_id").map(|v| v.as_str()), Some("my-own-trace".into()));
    }

    #[test]
    fn attempt_spans_are_children_with_distinct_ids_and_times_from_their_offsets() {
        let spans = spans(&record(), &scope());
        assert_eq!(spans.len(), 2, "a routing note is no span");
        let (root, child) = (&spans[0], &spans[1]);
        assert_eq!(child.parent_span_id, root.span_context.span_id());
        assert_ne!(child.span_context.span_id(), root.span_context.span_id());
        assert_eq!(child.start_time, at(1_005));
        assert_eq!(child.end_time, at(1_025));
        assert_eq!(root.parent_span_id, SpanId::INVALID, "no traceparent, no parent");
    }

    #[test]
    fn provider_names_follow_the_genai_convention_and_keep_the_portkey_id() {
        let spans = spans(&record(), &scope());
        for span in &spans {
            assert_eq!(value(span, "gen_ai.provider.name").map(|v| v.as_str()), Some("mistral_ai".into()));
            assert_eq!(value(span, "gen_ai.system").map(|v| v.as_str()), Some("mistral-ai".into()));
            assert_eq!(value(span, "error.type").map(|v| v.as_str()), Some("overloaded".into()));
        }
    }

    #[test]
    fn errors_have_error_status() {
        assert!(matches!(status(503), Status::Error { .. }));
        assert_eq!(status(200), Status::Unset);
    }

    #[test]
    fn a_refusal_before_routing_names_no_provider() {
        let r = LogRecord { status: 400, ..LogRecord::new("x", 0, "none", "") };
        let root = &spans(&r, &scope())[0];
        assert!(value(root, "gen_ai.provider.name").is_none() && value(root, "gen_ai.request.model").is_none());
    }
}

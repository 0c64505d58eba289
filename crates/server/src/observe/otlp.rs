//! Optional OpenTelemetry trace export (`--otlp-endpoint`): every finished request becomes
//! one span, with a child span per upstream attempt, sent in batches as OTLP/HTTP JSON
//! (`POST {endpoint}/v1/traces`). It is fed from the same log records as the logs and
//! metrics, off the hot path, through a bounded queue (full = dropped and counted).
//!
//! Hand-written rather than the `opentelemetry-otlp` crate: the mapping from a finished
//! record is a few dozen lines of JSON, and it reuses the gateway's one HTTP client instead
//! of pulling a second HTTP stack and SDK into a two-core build.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use switchboard_store::LogRecord;
use tokio::sync::mpsc;

use crate::observe::metrics::Metrics;

const BATCH: usize = 128;
const QUEUE: usize = 4096;

/// Starts the exporter; returns the queue to feed finished records into and the task, which
/// ends once every sender is dropped and what was queued is sent.
pub fn spawn(endpoint: &str, metrics: Arc<Metrics>) -> (mpsc::Sender<LogRecord>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    (tx, crate::support::tasks::spawn(export_loop(rx, url, metrics)))
}

async fn export_loop(mut rx: mpsc::Receiver<LogRecord>, url: String, metrics: Arc<Metrics>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).tcp_nodelay(true).build();
    let Ok(client) = client else { return };
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let body = export_request(&batch);
        batch.clear();
        let sent = client.post(&url).header("content-type", "application/json").body(body.to_string()).send().await;
        match sent {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                metrics.otlp_errors.inc();
                tracing::warn!(status = r.status().as_u16(), "OTLP export refused");
            }
            Err(e) => {
                metrics.otlp_errors.inc();
                tracing::warn!("OTLP export failed: {}", e.without_url());
            }
        }
    }
}

/// The OTLP `ExportTraceServiceRequest` (JSON encoding) for a batch of records.
pub fn export_request(records: &[LogRecord]) -> Value {
    let spans: Vec<Value> = records.iter().flat_map(spans).collect();
    json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", json!({"stringValue": "switchboard"}))]},
        "scopeSpans": [{"scope": {"name": "switchboard", "version": env!("CARGO_PKG_VERSION")}, "spans": spans}]
    }]})
}

/// The request's span and one child span per attempt.
fn spans(r: &LogRecord) -> Vec<Value> {
    let trace_id = otel_trace_id(r);
    let root_id = hex_tail(&r.id, 16);
    let start_ns = ms_to_ns(r.created_at);
    let mut root = json!({
        "traceId": trace_id, "spanId": root_id, "name": format!("switchboard {}", r.strategy_mode.as_deref().unwrap_or("request")),
        "kind": 2, "startTimeUnixNano": start_ns, "endTimeUnixNano": ms_to_ns(r.created_at + r.latency_ms),
        "attributes": request_attributes(r), "status": status(r.status),
    });
    if let Some(parent) = r.parent_span_id.as_deref().filter(|p| is_hex(p, 16)) {
        root["parentSpanId"] = json!(parent);
    }
    let attempts = r.attempts.as_array().map(Vec::as_slice).unwrap_or_default();
    let children = attempts.iter().enumerate().map(|(i, a)| {
        let offset = a["start_offset_ms"].as_i64().unwrap_or(0);
        let latency = a["latency_ms"].as_i64().unwrap_or(0);
        json!({
            "traceId": trace_id, "spanId": child_span_id(&root_id, i), "parentSpanId": root_id,
            "name": format!("attempt {}", a["target_path"].as_str().unwrap_or("")), "kind": 3,
            "startTimeUnixNano": ms_to_ns(r.created_at + offset), "endTimeUnixNano": ms_to_ns(r.created_at + offset + latency),
            "attributes": [
                attr("switchboard.target_path", string(&a["target_path"])),
                attr("gen_ai.system", string(&a["provider"])),
                attr("gen_ai.request.model", string(&a["model"])),
                attr("http.response.status_code", json!({"intValue": a["status"].as_u64().unwrap_or(0).to_string()})),
                attr("switchboard.reason", string(&a["reason"])),
            ],
            "status": status(a["status"].as_u64().unwrap_or(0) as u16),
        })
    });
    std::iter::once(root).chain(children).collect()
}

fn request_attributes(r: &LogRecord) -> Vec<Value> {
    let text = |k: &str, v: Option<&str>| v.map(|v| attr(k, json!({"stringValue": v})));
    let int = |k: &str, v: Option<i64>| v.map(|v| attr(k, json!({"intValue": v.to_string()})));
    [
        text("portkey.trace_id", r.trace_id.as_deref()),
        text("gen_ai.system", Some(&r.provider)),
        text("gen_ai.request.model", Some(&r.requested_model)),
        text("gen_ai.response.model", r.served_model.as_deref()),
        text("switchboard.target_path", r.target_path.as_deref()),
        text("switchboard.config", r.config_slug.as_deref()),
        int("http.response.status_code", Some(i64::from(r.status))),
        int("gen_ai.usage.input_tokens", r.prompt_tokens),
        int("gen_ai.usage.output_tokens", r.completion_tokens),
        int("switchboard.retry_count", Some(i64::from(r.retry_count))),
        r.cost_usd.map(|c| attr("switchboard.cost_usd", json!({"doubleValue": c}))),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn attr(key: &str, value: Value) -> Value {
    json!({"key": key, "value": value})
}

fn string(v: &Value) -> Value {
    json!({"stringValue": v.as_str().unwrap_or_default()})
}

/// OTLP status: ERROR (2) for statuses ≥ 400, else UNSET (0).
fn status(code: u16) -> Value {
    if code >= 400 {
        json!({"code": 2, "message": format!("HTTP {code}")})
    } else {
        json!({"code": 0})
    }
}

fn ms_to_ns(ms: i64) -> String {
    (i128::from(ms) * 1_000_000).to_string()
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The trace ID when it is already a W3C one (32 hex), else the record's UUID as hex.
fn otel_trace_id(r: &LogRecord) -> String {
    match r.trace_id.as_deref() {
        Some(t) if is_hex(t, 32) => t.to_ascii_lowercase(),
        _ => hex_tail(&r.id, 32),
    }
}

/// The last `len` hex digits of a UUID string.
fn hex_tail(uuid: &str, len: usize) -> String {
    let hex: String = uuid.chars().filter(char::is_ascii_hexdigit).collect();
    format!("{:0>len$}", &hex[hex.len().saturating_sub(len)..])
}

/// A distinct span ID for attempt `i` under `root`.
fn child_span_id(root: &str, i: usize) -> String {
    let base = u64::from_str_radix(root, 16).unwrap_or(0);
    format!("{:016x}", base ^ ((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_otel_shapes() {
        assert_eq!(hex_tail("0190f5a2-7b3c-7def-8123-456789abcdef", 16), "8123456789abcdef");
        assert_eq!(hex_tail("0190f5a2-7b3c-7def-8123-456789abcdef", 32).len(), 32);
        assert_ne!(child_span_id("8123456789abcdef", 0), child_span_id("8123456789abcdef", 1));
        assert_eq!(child_span_id("8123456789abcdef", 3).len(), 16);
    }

    #[test]
    fn errors_have_error_status() {
        assert_eq!(status(503)["code"], 2);
        assert_eq!(status(200)["code"], 0);
    }
}

//! OTLP export: a fake collector receives one span per request and one child span per
//! attempt, in OTLP/HTTP JSON, with the W3C trace ID the client sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use switchboard::gateway::upstream::Upstream;
use switchboard::observe::metrics::Metrics;
use switchboard::observe::LogSink;
use switchboard::state::AppState;

#[tokio::test]
async fn fallback_request_exports_a_span_with_a_child_per_attempt() {
    let (url, received) = otlp_collector().await;
    let metrics = Arc::new(Metrics::default());
    let logs = LogSink::metrics_only(metrics.clone()).with_otlp(switchboard::observe::otlp::spawn(&url, metrics).0);
    let upstream = Upstream::new(Duration::from_secs(2)).unwrap();
    let state = Arc::new(AppState::new(settings(), upstream, Arc::new(control().await), logs));
    let gw = serve(state, None).await;
    let (a, b) = (mock("a").await, mock("b").await);
    a.script(Script { status: Some(503), count: -1, ..Script::default() });
    let cfg = json!({"strategy": {"mode": "fallback"}, "targets": [target("openai", &a), target("openai", &b)]});
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    assert_eq!(gw.chat_with(&cfg, &chat_body(), &[("traceparent", traceparent.into())]).await.status, 200);
    let spans = loop {
        if let Some(export) = received.lock().unwrap().first() {
            break export["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let root = &spans[0];
    assert_eq!(root["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(root["parentSpanId"], "00f067aa0ba902b7");
    assert!(spans[1..].iter().all(|s| s["parentSpanId"] == root["spanId"] && s["traceId"] == root["traceId"]));
    let names: Vec<_> = spans[1..].iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["attempt config.targets[0]", "attempt config.targets[1]"]);
    assert_eq!(spans[1]["status"]["code"], 2, "the 503 attempt is an error span");
}

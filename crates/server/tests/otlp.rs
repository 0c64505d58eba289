//! OTLP export: a fake collector decodes the OTLP/HTTP protobuf it receives and finds one
//! span per request and one child span per attempt, with the W3C trace ID the client sent,
//! the GenAI semantic-convention attributes, and no credential anywhere.

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

/// A gateway whose finished requests are exported to `collector`.
async fn exporting_gateway(collector: &str) -> Gateway {
    let metrics = Arc::new(Metrics::default());
    let (queue, _task) = switchboard::observe::otlp::spawn(collector, metrics.clone()).unwrap();
    let logs = LogSink::metrics_only(metrics).with_otlp(queue);
    let upstream = Upstream::new(Duration::from_secs(2)).unwrap();
    serve(Arc::new(AppState::new(settings(), upstream, Arc::new(control().await), logs)), None).await
}

#[tokio::test]
async fn fallback_request_exports_a_span_with_a_child_per_attempt() {
    let (url, received) = otlp_collector().await;
    let gw = exporting_gateway(&url).await;
    let (a, b) = (mock("a").await, mock("b").await);
    a.script(Script { status: Some(503), count: -1, ..Script::default() });
    let cfg = json!({"strategy": {"mode": "fallback"}, "targets": [target("openai", &a), target("openai", &b)]});
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let answer = gw.chat_with(&cfg, &chat_body(), &[("traceparent", traceparent.into())]).await;
    assert_eq!(answer.status, 200);
    let spans = first_export(&received).await;
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let root = &spans[0];
    assert_eq!(hex(&root.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(hex(&root.parent_span_id), "00f067aa0ba902b7");
    assert!(spans[1..].iter().all(|s| s.parent_span_id == root.span_id && s.trace_id == root.trace_id));
    let names: Vec<_> = spans[1..].iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["attempt config.targets[0]", "attempt config.targets[1]"]);
    assert_eq!(spans[1].status.as_ref().map(|s| s.code), Some(2), "the 503 attempt is an error span");
    assert_eq!(otlp_attr(&spans[1], "http.response.status_code"), Some(json!(503)));
    assert_eq!(otlp_attr(&spans[2], "switchboard.reason"), Some(json!("fallback")));
}

#[tokio::test]
async fn request_span_carries_the_genai_attributes_of_the_answer() {
    let (url, received) = otlp_collector().await;
    let gw = exporting_gateway(&url).await;
    let provider = mock("p").await;
    let trace = ("x-portkey-trace-id", "checkout-42".to_string());
    let answer = gw.chat_with(&target("openai", &provider), &chat_body(), &[trace]).await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    let root = first_export(&received).await.remove(0);
    assert_eq!(otlp_attr(&root, "gen_ai.provider.name"), Some(json!("openai")));
    assert_eq!(otlp_attr(&root, "gen_ai.system"), Some(json!("openai")));
    assert_eq!(otlp_attr(&root, "gen_ai.request.model"), Some(json!("gpt-3.5-turbo")));
    assert_eq!(otlp_attr(&root, "gen_ai.response.model"), Some(body["model"].clone()));
    assert_eq!(otlp_attr(&root, "gen_ai.usage.input_tokens"), Some(body["usage"]["prompt_tokens"].clone()));
    assert_eq!(otlp_attr(&root, "gen_ai.usage.output_tokens"), Some(body["usage"]["completion_tokens"].clone()));
    assert_eq!(otlp_attr(&root, "portkey.trace_id"), Some(json!("checkout-42")));
    assert_eq!(otlp_attr(&root, "switchboard.target_path"), Some(json!("config")));
    assert_eq!(otlp_attr(&root, "http.response.status_code"), Some(json!(200)));
    assert!(otlp_attr(&root, "switchboard.cost_usd").is_some_and(|c| c.as_f64().is_some_and(|c| c > 0.0)));
    assert_eq!(root.kind, 2, "the request's span is a SERVER span");
    assert!(root.parent_span_id.is_empty(), "no traceparent, no parent");
}

#[tokio::test]
async fn no_credential_reaches_the_collector() {
    let (url, received) = otlp_collector().await;
    let gw = exporting_gateway(&url).await;
    let provider = mock("p").await;
    let auth = ("authorization", "Bearer sk-client-secret".to_string());
    assert_eq!(gw.chat_with(&target("openai", &provider), &chat_body(), &[auth]).await.status, 200);
    let spans = first_export(&received).await;
    let values: Vec<String> =
        spans.iter().flat_map(|s| s.attributes.iter().map(|kv| format!("{} {:?}", kv.key, kv.value))).collect();
    assert!(!values.is_empty());
    for secret in [ADMIN_KEY, "key-openai", "sk-client-secret"] {
        assert!(values.iter().all(|v| !v.contains(secret)), "{secret} in {values:#?}");
    }
}

#[tokio::test]
async fn a_redirecting_collector_is_not_followed_and_the_failure_is_counted() {
    let (elsewhere, received) = otlp_collector().await;
    let redirect = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(
            move || async move { axum::response::Redirect::temporary(&format!("{elsewhere}/v1/traces")) },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    switchboard::support::tasks::spawn(async move { axum::serve(listener, redirect).await.ok() });
    let metrics = Arc::new(Metrics::default());
    let (queue, task) = switchboard::observe::otlp::spawn(&url, metrics.clone()).unwrap();
    let sink = LogSink::metrics_only(metrics.clone()).with_otlp(queue);
    sink.submit(switchboard_store::LogRecord::new("0190f5a2-7b3c-7def-8123-456789abcdef", 0, "openai", "m"));
    drop(sink);
    tokio::time::timeout(Duration::from_secs(10), task).await.unwrap().unwrap();
    assert_eq!(metrics.otlp_errors.get(), 1, "the 307 is an export failure");
    assert!(received.lock().unwrap().is_empty(), "the redirect target got nothing");
}

#[tokio::test]
async fn an_endpoint_with_credentials_is_refused_without_echoing_them() {
    let err = switchboard::observe::otlp::spawn("http://user:hunter2@127.0.0.1:4318", Arc::default()).unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(err.to_string().contains("OTEL_EXPORTER_OTLP_HEADERS"), "{err}");
}

/// A fixed workload for measuring the exporter's CPU cost per exported request under
/// `valgrind --tool=callgrind`: `OTLP_COST_RECORDS` finished records (two attempts each)
/// go through the sink to a collector that reads and discards the body, and the run ends
/// once the exporter has sent them all. Compare the instruction count of two sizes. In CI it
/// runs at its default size and checks that every batch is sent and accepted.
#[tokio::test(flavor = "current_thread")]
async fn export_cost_workload() {
    let records: usize = std::env::var("OTLP_COST_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(256);
    let posts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = posts.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |_body: axum::body::Bytes| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async { "" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    switchboard::support::tasks::spawn(async move { axum::serve(listener, app).await.ok() });
    let metrics = Arc::new(Metrics::default());
    let (queue, task) = switchboard::observe::otlp::spawn(&url, metrics.clone()).unwrap();
    let sink = LogSink::metrics_only(metrics.clone()).with_otlp(queue);
    for i in 0..records {
        sink.submit(cost_record(i));
    }
    drop(sink);
    task.await.unwrap();
    assert_eq!(metrics.otlp_errors.get(), 0, "every batch was accepted");
    assert_eq!(posts.load(std::sync::atomic::Ordering::Relaxed), records.div_ceil(128));
}

fn cost_record(i: usize) -> switchboard_store::LogRecord {
    let attempt = |path: &str, status: u16| {
        json!({"target_path": path, "provider": "openai", "model": "gpt-4o-mini", "status": status,
            "latency_ms": 40, "start_offset_ms": 2, "error_class": null, "retry": 0, "backoff_ms": 0, "reason": "initial"})
    };
    switchboard_store::LogRecord {
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        parent_span_id: Some("00f067aa0ba902b7".into()),
        config_slug: Some("pc-prod".into()),
        strategy_mode: Some("fallback".into()),
        target_path: Some("config.targets[1]".into()),
        served_model: Some("gpt-4o-mini-2024-07-18".into()),
        status: 200,
        latency_ms: 95,
        prompt_tokens: Some(120),
        completion_tokens: Some(48),
        total_tokens: Some(168),
        cost_usd: Some(0.000_046_8),
        request_body: Some("x".repeat(512)),
        response_body: Some("y".repeat(512)),
        attempts: serde_json::from_value(json!([attempt("config.targets[0]", 503), attempt("config.targets[1]", 200)]))
            .unwrap(),
        ..switchboard_store::LogRecord::new(
            format!("0190f5a2-7b3c-7def-8123-{i:012x}"),
            1_720_000_000_000,
            "openai",
            "gpt-4o-mini",
        )
    }
}

/// The spans of the first export the collector gets.
async fn first_export(
    received: &std::sync::Mutex<Vec<opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest>>,
) -> Vec<opentelemetry_proto::tonic::trace::v1::Span> {
    for _ in 0..1000 {
        if let Some(export) = received.lock().unwrap().first() {
            return otlp_spans(export);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the collector got nothing within 10 s");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

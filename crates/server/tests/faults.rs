//! Hostile providers: one test per fault, each asserting what the client got, the log
//! record's class, and that the gateway did not panic. The mock provider scripts the fault;
//! timeouts here are short real timeouts (the sockets are real, so a paused clock would
//! advance while packets are in flight), and nothing asserts how long anything took.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchboard::settings::Settings;
use switchboard_store::LogRecord;

async fn gateway_tuned(tune: impl FnOnce(&mut Settings)) -> Gateway {
    count_panics();
    let mut settings = settings();
    tune(&mut settings);
    gateway_with(settings).await
}

fn fallback(first: Value, second: Value) -> Value {
    json!({"strategy": {"mode": "fallback"}, "targets": [first, second]})
}

fn stream_body() -> Value {
    let mut body = chat_body();
    body["stream"] = json!(true);
    body
}

async fn only_record(gw: &Gateway) -> LogRecord {
    let mut logs = gw.logs().await;
    assert_eq!(logs.len(), 1, "one request, one record: {logs:?}");
    logs.remove(0)
}

fn attempt_classes(record: &LogRecord) -> Vec<Value> {
    attempts_json(record).iter().map(|a| a["error_class"].clone()).collect()
}

fn code(answer: &Answer) -> String {
    answer.json()["error"]["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn connection_refused_is_unreachable_and_falls_back() {
    let gw = gateway_tuned(|_| {}).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let alive = mock("alive").await;
    let dead_target = json!({"provider": "openai", "api_key": "sk-1", "custom_host": dead});
    let answer = gw.chat(&fallback(dead_target.clone(), target("openai", &alive)), &chat_body()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let alone = gw.chat(&dead_target, &chat_body()).await;
    assert_eq!((alone.status, code(&alone).as_str()), (502, "upstream_unreachable"), "{}", alone.text);
    let logs = gw.logs().await;
    assert_eq!(logs[0].error_class.as_deref(), Some("upstream_unreachable"));
    assert_eq!(attempt_classes(&logs[1]), [json!("upstream_unreachable"), Value::Null]);
    assert_no_panics();
}

#[tokio::test]
async fn hang_before_headers_ends_at_the_configured_timeout() {
    let (gw, provider) = (gateway_tuned(|_| {}).await, mock("hangs").await);
    provider.script(Script { hang: true, ..Script::default() });
    let mut t = target("openai", &provider);
    t["request_timeout"] = json!(200);
    let answer = gw.chat(&t, &chat_body()).await;
    assert_eq!((answer.status, code(&answer).as_str()), (408, "timeout"), "{}", answer.text);
    assert!(answer.json()["error"]["message"].as_str().unwrap().contains("200 ms"));
    assert_eq!(only_record(&gw).await.error_class.as_deref(), Some("timeout"));
    assert_no_panics();
}

#[tokio::test]
async fn hang_before_headers_ends_at_the_server_default_when_no_timeout_is_set() {
    let gw = gateway_tuned(|s| s.limits.timeout = Duration::from_millis(300)).await;
    let provider = mock("hangs").await;
    provider.script(Script { hang: true, ..Script::default() });
    let answer = gw.chat(&target("openai", &provider), &chat_body()).await;
    assert_eq!((answer.status, code(&answer).as_str()), (408, "timeout"), "{}", answer.text);
    assert_eq!(only_record(&gw).await.error_class.as_deref(), Some("timeout"));
    assert_no_panics();
}

#[tokio::test]
async fn stream_that_stalls_mid_way_ends_with_an_error_event_at_the_idle_timeout() {
    let (gw, provider) = (gateway_tuned(|_| {}).await, mock("stalls").await);
    provider.script_json(json!({"stall_after": 2})).unwrap();
    let mut t = target("openai", &provider);
    t["stream_idle_timeout"] = json!(300);
    let answer = gw.chat(&t, &stream_body()).await;
    assert_eq!(answer.status, 200);
    let events = answer.events();
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "timeout", "{events:?}");
    let record = only_record(&gw).await;
    assert_eq!((record.status, record.error_class.as_deref()), (504, Some("timeout")));
    assert_no_panics();
}

#[tokio::test]
async fn stream_idle_timeout_defaults_to_the_server_setting() {
    let gw = gateway_tuned(|s| s.limits.stream_idle = Duration::from_millis(300)).await;
    let provider = mock("stalls").await;
    provider.script_json(json!({"stall_after": 1})).unwrap();
    let answer = gw.chat(&target("openai", &provider), &stream_body()).await;
    let last: Value = serde_json::from_str(answer.events().last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "timeout");
    assert_eq!(only_record(&gw).await.error_class.as_deref(), Some("timeout"));
    assert_no_panics();
}

#[tokio::test]
async fn stream_reset_mid_way_ends_with_an_error_event() {
    let (gw, provider) = (gateway_tuned(|_| {}).await, mock("resets").await);
    provider.script(Script { cut_after: Some(2), ..Script::default() });
    let answer = gw.chat(&target("openai", &provider), &stream_body()).await;
    let last: Value = serde_json::from_str(answer.events().last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "upstream_stream_broken");
    let record = only_record(&gw).await;
    assert_eq!((record.status, record.error_class.as_deref()), (502, Some("upstream_unreachable")));
    assert_no_panics();
}

/// 2xx bodies that are not answers: each is a failed attempt that falls back, and alone a
/// 502 naming the provider.
#[tokio::test]
async fn a_2xx_that_is_not_an_answer_is_upstream_malformed_and_falls_back() {
    let cases = [
        json!({"body": "{\"choices\": [ {\"message\""}),
        json!({"body": "<html><body>502 Bad Gateway</body></html>", "content_type": "text/html"}),
        json!({"body": "{\"error\": {\"message\": \"quota exceeded\", \"type\": \"insufficient_quota\"}}"}),
        json!({"body": "[]"}),
    ];
    for case in cases {
        let gw = gateway_tuned(|_| {}).await;
        let (bad, good) = (mock("bad").await, mock("good").await);
        bad.script_json(case.clone()).unwrap();
        let answer = gw.chat(&fallback(target("openai", &bad), target("openai", &good)), &chat_body()).await;
        assert_eq!(answer.status, 200, "{case}: {}", answer.text);
        assert!(answer.json()["choices"][0]["message"]["content"].as_str().unwrap().contains("good"));
        let alone = gw.chat(&target("openai", &bad), &chat_body()).await;
        assert_eq!((alone.status, code(&alone).as_str()), (502, "upstream_malformed"), "{case}: {}", alone.text);
        assert!(alone.json()["error"]["message"].as_str().unwrap().starts_with("openai:"));
        let logs = gw.logs().await;
        assert_eq!(logs[0].error_class.as_deref(), Some("upstream_malformed"), "{case}");
        assert_eq!(attempt_classes(&logs[1]), [json!("upstream_malformed"), Value::Null], "{case}");
    }
    assert_no_panics();
}

#[tokio::test]
async fn an_html_error_page_is_relayed_as_an_openai_error() {
    let (gw, provider) = (gateway_tuned(|_| {}).await, mock("html").await);
    let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    provider.script_json(json!({"status": 502, "body": page, "content_type": "text/html"})).unwrap();
    let answer = gw.chat(&target("openai", &provider), &chat_body()).await;
    assert_eq!(answer.status, 502);
    assert!(answer.json()["error"]["message"].as_str().unwrap().contains("502 Bad Gateway"));
    assert_eq!(only_record(&gw).await.error_class.as_deref(), Some("server_error"));
    assert_no_panics();
}

#[tokio::test]
async fn malformed_sse_before_the_first_event_is_a_failed_attempt() {
    let (gw, bad, good) = (gateway_tuned(|_| {}).await, mock("bad").await, mock("good").await);
    bad.script_json(json!({"events": ["data: {this is not json\n\n"]})).unwrap();
    let answer = gw.chat(&fallback(target("openai", &bad), target("openai", &good)), &stream_body()).await;
    assert_eq!(answer.status, 200);
    assert!(answer.events().iter().any(|e| e == "[DONE]"), "the fallback's stream: {}", answer.text);
    let alone = gw.chat(&target("openai", &bad), &stream_body()).await;
    assert_eq!((alone.status, code(&alone).as_str()), (502, "upstream_malformed"), "{}", alone.text);
    assert_eq!(gw.logs().await[0].error_class.as_deref(), Some("upstream_malformed"));
    assert_no_panics();
}

#[tokio::test]
async fn a_redirect_is_never_followed_and_the_other_host_sees_nothing() {
    let gw = gateway_tuned(|_| {}).await;
    let (redirecting, elsewhere) = (mock("redirects").await, mock("elsewhere").await);
    let location = format!("{}/v1/chat/completions", elsewhere.base_url());
    for status in [301, 302, 307, 308] {
        redirecting.script_json(json!({"redirect": location, "redirect_status": status})).unwrap();
        let answer = gw.chat(&target("openai", &redirecting), &chat_body()).await;
        assert_eq!((answer.status, code(&answer).as_str()), (502, "upstream_redirect"), "{}", answer.text);
    }
    assert!(elsewhere.hits().is_empty(), "the redirect target got {:?}", elsewhere.hits());
    let logs = gw.logs().await;
    assert!(logs.iter().all(|r| r.error_class.as_deref() == Some("upstream_redirect")));
    assert_no_panics();
}

#[tokio::test]
async fn retry_after_garbage_never_panics_and_is_relayed_saturated() {
    let gw = gateway_tuned(|_| {}).await;
    let provider = mock("limited").await;
    let past = "Wed, 21 Oct 2015 07:28:00 GMT";
    // A Retry-After past the retry budget (1e20 s saturates at an hour) ends retrying at once
    // rather than holding the client; garbage is ignored (the usual backoff); a past date is 0.
    let cases = [
        ("1e20", 429, Some("3600")),
        ("inf", 200, None),
        ("-5", 200, None),
        ("soon", 200, None),
        (past, 200, Some("0")),
    ];
    for (raw, retried, relayed) in cases {
        provider.script_json(json!({"status": 429, "count": 1, "retry_after": raw})).unwrap();
        let mut t = target("openai", &provider);
        t["retry"] = json!({"attempts": 1, "use_retry_after_header": true});
        let answer = gw.chat(&t, &chat_body()).await;
        assert_eq!(answer.status, retried, "retried after Retry-After {raw}: {}", answer.text);
        provider.script_json(json!({"status": 429, "retry_after": raw, "retry_after_ms": "NaN"})).unwrap();
        let failed = gw.chat(&target("openai", &provider), &chat_body()).await;
        assert_eq!(failed.status, 429, "{raw}");
        assert_eq!(failed.header("retry-after"), relayed, "Retry-After {raw}");
    }
    let logs = gw.logs().await;
    assert_eq!(logs.len(), 10);
    assert_eq!(logs.iter().filter(|r| r.status == 429).count(), 6);
    assert!(logs.iter().filter(|r| r.status == 429).all(|r| r.error_class.as_deref() == Some("rate_limit")));
    assert_no_panics();
}

#[tokio::test]
async fn an_oversized_answer_is_upstream_too_large() {
    let gw = gateway_tuned(|s| s.limits.max_body_bytes = 64 * 1024).await;
    let (big, good) = (mock("big").await, mock("good").await);
    big.script_json(json!({"pad_bytes": 200 * 1024})).unwrap();
    let answer = gw.chat(&target("openai", &big), &chat_body()).await;
    assert_eq!((answer.status, code(&answer).as_str()), (502, "upstream_too_large"), "{}", answer.text);
    let recovered = gw.chat(&fallback(target("openai", &big), target("openai", &good)), &chat_body()).await;
    assert_eq!(recovered.status, 200);
    assert_eq!(gw.logs().await[1].error_class.as_deref(), Some("upstream_too_large"));
    assert_no_panics();
}

#[tokio::test]
async fn an_oversized_sse_line_is_upstream_too_large_before_and_after_commit() {
    let gw = gateway_tuned(|s| s.limits.max_event_bytes = 16 * 1024).await;
    let provider = mock("long-lines").await;
    let long_line = format!("data: {}", "x".repeat(64 * 1024));
    provider.script_json(json!({"events": [long_line]})).unwrap();
    let before = gw.chat(&target("openai", &provider), &stream_body()).await;
    assert_eq!((before.status, code(&before).as_str()), (502, "upstream_too_large"), "{}", before.text);
    let first =
        r#"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}"#;
    provider.script_json(json!({"events": [format!("{first}\n\n"), long_line]})).unwrap();
    let after = gw.chat(&target("openai", &provider), &stream_body()).await;
    assert_eq!(after.status, 200);
    let last: Value = serde_json::from_str(after.events().last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], "upstream_too_large");
    let logs = gw.logs().await;
    assert!(logs.iter().all(|r| r.error_class.as_deref() == Some("upstream_too_large")), "{logs:?}");
    assert_no_panics();
}

#[tokio::test]
async fn a_client_that_leaves_before_the_answer_is_logged_499() {
    let (gw, provider) = (gateway_tuned(|_| {}).await, mock("slow").await);
    provider.script(Script { delay_ms: 400, ..Script::default() });
    let client = reqwest::Client::builder().timeout(Duration::from_millis(100)).build().unwrap();
    let sent = client
        .post(format!("{}/v1/chat/completions", gw.url))
        .header("x-portkey-api-key", ADMIN_KEY)
        .header("x-portkey-config", target("openai", &provider).to_string())
        .header("x-portkey-trace-id", "leaves-early")
        .body(chat_body().to_string())
        .send()
        .await;
    assert!(sent.is_err(), "the client gave up");
    let record = wait_for_record(&gw, "leaves-early").await;
    assert_eq!((record.status, record.error_class.as_deref()), (499, Some("client_closed")));
    assert_no_panics();
}

/// The record of `trace_id`, once the gateway has written it (polled; a hang fails the test
/// at nextest's timeout rather than asserting a duration).
async fn wait_for_record(gw: &Gateway, trace_id: &str) -> LogRecord {
    let query = switchboard_store::LogQuery { trace_id: Some(trace_id.into()), ..Default::default() };
    loop {
        let page = gw.state.control.store.query_logs(&query).await.unwrap();
        if let Some(record) = page.items.into_iter().next() {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn stream_commits_on_the_first_real_event_so_early_errors_fall_back() {
    let gw = gateway_tuned(|_| {}).await;
    let (anthropic, openai) = (mock("claude").await, mock("gpt").await);
    let message_start = r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-opus-20240229","content":[],"usage":{"input_tokens":5,"output_tokens":0}}}"#;
    let overloaded = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    anthropic
        .script_json(json!({"events": [
            ": keep-alive\n\n",
            "event: ping\ndata: {\"type\":\"ping\"}\n\n",
            format!("event: message_start\ndata: {message_start}\n\n"),
            format!("event: error\ndata: {overloaded}\n\n"),
        ]}))
        .unwrap();
    let cfg = fallback(target("anthropic", &anthropic), target("openai", &openai));
    let answer = gw.chat(&cfg, &stream_body()).await;
    assert_eq!(answer.status, 200);
    assert!(answer.text.contains("gpt"), "the fallback answered: {}", answer.text);
    assert!(!answer.text.contains("Overloaded"), "{}", answer.text);
    let record = only_record(&gw).await;
    assert_eq!(attempt_classes(&record), [json!("overloaded"), Value::Null]);
    assert_no_panics();
}

#[tokio::test]
async fn an_openai_stream_that_opens_with_an_error_event_falls_back() {
    let (gw, bad, good) = (gateway_tuned(|_| {}).await, mock("bad").await, mock("good").await);
    let error = r#"data: {"error": {"message": "The server had an error", "type": "server_error"}}"#;
    bad.script_json(json!({"events": [": keep-alive\n\n", format!("{error}\n\n")]})).unwrap();
    let answer = gw.chat(&fallback(target("openai", &bad), target("openai", &good)), &stream_body()).await;
    assert_eq!(answer.status, 200);
    assert!(answer.text.contains("good"), "{}", answer.text);
    assert_eq!(attempt_classes(&only_record(&gw).await), [json!("upstream_malformed"), Value::Null]);
    assert_no_panics();
}

#[tokio::test]
async fn past_the_in_flight_limit_requests_get_503_at_once() {
    let gw = gateway_tuned(|s| s.max_in_flight = 1).await;
    let provider = mock("slow").await;
    provider.script(Script { delay_ms: 500, ..Script::default() });
    let cfg = target("openai", &provider);
    let body = chat_body();
    let (slow, rejected) = tokio::join!(gw.chat(&cfg, &body), async {
        while provider.hits().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        gw.chat(&cfg, &chat_body()).await
    });
    assert_eq!(slow.status, 200);
    assert_eq!((rejected.status, code(&rejected).as_str()), (503, "overloaded"), "{}", rejected.text);
    assert_eq!(rejected.header("retry-after"), Some("1"));
    let metrics = gw.get("/metrics", &[]).await.text;
    assert!(metrics.contains("switchboard_requests_rejected_in_flight_limit_total 1"), "{metrics}");
    let after = gw.chat(&cfg, &chat_body()).await;
    assert_eq!(after.status, 200, "the permit came back");
    let logs = gw.logs().await;
    assert_eq!(logs.len(), 2, "the refusal is counted in metrics, not logged (it comes before authentication)");
    assert_no_panics();
}

//! The hostile behaviours a script can ask for, seen from the wire: raw bodies, padded answers, redirects, scripted
//! SSE chunks, stalled streams, verbatim `Retry-After` text and extra headers. Each test starts its own mock on
//! port 0 and scripts it through [`MockProvider::script_json`] (the `POST /_script` form) or over HTTP.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::{open, send, Raw, TestResult};
use switchboard_testkit::MockProvider;

const BEARER: (&str, &str) = ("authorization", "Bearer sk-test");
const ANTHROPIC: [(&str, &str); 2] = [("x-api-key", "sk-ant-test"), ("anthropic-version", "2023-06-01")];
const CHAT: &str = "/v1/chat/completions";
/// How long a stalled stream must stay silent for the test to call it stalled.
const SILENCE: Duration = Duration::from_millis(300);
/// How long a test waits for what must arrive, so a broken mock fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(5);

fn chat_body(stream: bool) -> Value {
    json!({"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

fn anthropic_body() -> Value {
    json!({"model": "claude-3-opus-20240229", "max_tokens": 200, "messages": [{"role": "user", "content": "hi"}]})
}

async fn chat(mock: &MockProvider, stream: bool) -> TestResult<Raw> {
    send(mock.addr(), "POST", CHAT, &[BEARER], Some(&chat_body(stream))).await
}

async fn start(script: Value) -> TestResult<MockProvider> {
    let mock = MockProvider::start("openai-a").await?;
    mock.script_json(script)?;
    Ok(mock)
}

#[tokio::test]
async fn a_raw_body_replaces_the_answer_for_count_requests() -> TestResult {
    let malformed = r#"{"choices": [{"message": {"content": "#;
    let mock = start(json!({"body": malformed, "count": 1})).await?;
    let raw = chat(&mock, false).await?;
    assert_eq!((raw.status, raw.header("content-type")), (200, Some("application/json")));
    assert_eq!(raw.text(), malformed);
    let after = chat(&mock, false).await?;
    assert_eq!(after.json()?["choices"][0]["message"]["content"], "Hello from openai-a serving gpt-4o-mini");
    Ok(())
}

#[tokio::test]
async fn an_html_error_page_keeps_its_status_and_content_type() -> TestResult {
    let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let mock = start(json!({"body": page, "status": 502, "content_type": "text/html"})).await?;
    for _ in 0..2 {
        let raw = send(mock.addr(), "POST", "/v1/messages", &ANTHROPIC, Some(&anthropic_body())).await?;
        assert_eq!((raw.status, raw.header("content-type")), (502, Some("text/html")));
        assert_eq!(raw.text(), page, "a raw body without count lasts forever");
    }
    Ok(())
}

#[tokio::test]
async fn an_oversized_raw_body_can_be_scripted_over_http() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    let huge = "x".repeat(3 * 1024 * 1024);
    let set = send(mock.addr(), "POST", "/_script", &[], Some(&json!({"body": huge}))).await?;
    assert_eq!(set.status, 200, "{}", set.text());
    let raw = chat(&mock, false).await?;
    assert_eq!(raw.body.len(), huge.len());
    Ok(())
}

#[tokio::test]
async fn pad_bytes_makes_a_valid_answer_oversized() -> TestResult {
    let mock = start(json!({"pad_bytes": 100_000})).await?;
    let openai = chat(&mock, false).await?.json()?;
    assert_eq!(openai["padding"].as_str().map(str::len), Some(100_000));
    assert_eq!(openai["choices"][0]["message"]["content"], "Hello from openai-a serving gpt-4o-mini");
    let anthropic = send(mock.addr(), "POST", "/v1/messages", &ANTHROPIC, Some(&anthropic_body())).await?.json()?;
    assert_eq!(anthropic["padding"].as_str().map(str::len), Some(100_000));
    let refused = send(mock.addr(), "POST", CHAT, &[], Some(&chat_body(false))).await?;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()?.get("padding"), None, "only a normal answer is padded");
    Ok(())
}

#[tokio::test]
async fn a_redirect_has_its_status_and_location_and_no_body_and_is_recorded() -> TestResult {
    let metadata = "http://169.254.169.254/latest/meta-data/";
    let mock = start(json!({"redirect": metadata, "count": 1})).await?;
    let raw = chat(&mock, false).await?;
    assert_eq!((raw.status, raw.header("location")), (307, Some(metadata)));
    assert!(raw.body.is_empty() && raw.complete);
    assert_eq!(mock.hits().len(), 1);
    assert_eq!(chat(&mock, false).await?.status, 200, "count 1 redirects once");
    mock.script_json(json!({"redirect": "/elsewhere", "redirect_status": 301}))?;
    let moved = chat(&mock, false).await?;
    assert_eq!((moved.status, moved.header("location")), (301, Some("/elsewhere")));
    Ok(())
}

fn hostile_events() -> Vec<&'static str> {
    vec![
        ": keep-alive\n\n",
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
        "event: message_start\ndata: {\"type\": \"message_start\", \"message\": {\"id\": \"msg_1\"}}\n\n",
        "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"x\"}}\n\n",
        "data: {not json\n\n",
    ]
}

fn as_bytes(events: &[&str]) -> Vec<Vec<u8>> {
    events.iter().map(|e| e.as_bytes().to_vec()).collect()
}

#[tokio::test]
async fn events_are_sent_verbatim_one_chunk_each_in_order() -> TestResult {
    let events = hostile_events();
    let mock = start(json!({"events": events, "count": 1})).await?;
    let plain = chat(&mock, false).await?;
    assert_eq!(plain.json()?["object"], "chat.completion", "a plain request neither gets nor uses up events");
    let raw = chat(&mock, true).await?;
    assert_eq!((raw.status, raw.header("content-type")), (200, Some("text/event-stream")));
    assert_eq!(raw.chunks, as_bytes(&events));
    assert!(raw.complete, "scripted events end cleanly unless cut or stalled");
    let after = chat(&mock, true).await?;
    assert_eq!(after.sse_data().last().map(String::as_str), Some("[DONE]"), "count 1 replaces one stream");
    Ok(())
}

#[tokio::test]
async fn events_are_paced_and_cut_like_the_normal_stream() -> TestResult {
    let events = hostile_events();
    let mock = start(json!({"events": events, "chunk_delay_ms": 20, "cut_after": 2})).await?;
    let raw = tokio::time::timeout(PATIENCE, chat(&mock, true)).await??;
    assert_eq!(raw.chunks, as_bytes(&events[..2]));
    assert!(!raw.complete, "a cut stream must not send the last chunk");
    Ok(())
}

/// Reads `sent` events, then asserts nothing more comes for [`SILENCE`] and the body has not ended.
async fn assert_stalls_after(mock: &MockProvider, target: &str, body: &Value, sent: usize) -> TestResult<Raw> {
    let headers = if target == CHAT { vec![BEARER] } else { ANTHROPIC.to_vec() };
    let mut conn = open(mock.addr(), "POST", target, &headers, Some(body)).await?;
    tokio::time::timeout(PATIENCE, conn.read_chunks(sent)).await??;
    let more = tokio::time::timeout(SILENCE, conn.read_more()).await;
    assert!(more.is_err(), "a stalled stream sent more or ended: {more:?}");
    let raw = conn.so_far()?;
    assert_eq!(raw.chunks.len(), sent);
    assert!(!raw.complete);
    Ok(raw)
}

#[tokio::test]
async fn a_stalled_stream_sends_n_events_then_nothing() -> TestResult {
    let mock = start(json!({"stall_after": 2})).await?;
    let raw = assert_stalls_after(&mock, CHAT, &chat_body(true), 2).await?;
    assert_eq!(raw.status, 200);
    let mut anthropic = anthropic_body();
    anthropic["stream"] = json!(true);
    let raw = assert_stalls_after(&mock, "/v1/messages", &anthropic, 2).await?;
    assert_eq!(raw.sse_events(), ["message_start", "content_block_start"]);
    Ok(())
}

#[tokio::test]
async fn scripted_events_stall_too_even_past_the_last_one() -> TestResult {
    let events = hostile_events();
    let mock = start(json!({"events": events, "stall_after": 1})).await?;
    let raw = assert_stalls_after(&mock, CHAT, &chat_body(true), 1).await?;
    assert_eq!(raw.chunks, as_bytes(&events[..1]));
    mock.script_json(json!({"events": events, "stall_after": 99}))?;
    let raw = assert_stalls_after(&mock, CHAT, &chat_body(true), events.len()).await?;
    assert_eq!(raw.chunks, as_bytes(&events));
    Ok(())
}

#[tokio::test]
async fn retry_after_text_is_sent_verbatim() -> TestResult {
    let mock = MockProvider::start("openai-a").await?;
    for value in ["1e20", "inf", "-5", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"] {
        mock.script_json(json!({"status": 429, "retry_after": value, "retry_after_ms": "1500"}))?;
        let raw = chat(&mock, false).await?;
        assert_eq!(raw.status, 429);
        assert_eq!(raw.header("retry-after"), Some(value));
        assert_eq!(raw.header("retry-after-ms"), Some("1500"));
    }
    mock.script_json(json!({"status": 503, "retry_after": -5, "retry_after_ms": 250, "count": 1}))?;
    let failed = chat(&mock, false).await?;
    assert_eq!((failed.header("retry-after"), failed.header("retry-after-ms")), (Some("-5"), Some("250")));
    let normal = chat(&mock, false).await?;
    assert_eq!((normal.status, normal.header("retry-after")), (200, None), "retry hints go on failures only");
    Ok(())
}

#[tokio::test]
async fn a_raw_error_body_carries_retry_after_too() -> TestResult {
    let mock = start(json!({"body": "<html>busy</html>", "status": 503, "content_type": "text/html",
                            "retry_after": "120"}))
    .await?;
    let raw = chat(&mock, false).await?;
    assert_eq!((raw.status, raw.header("retry-after")), (503, Some("120")));
    Ok(())
}

#[tokio::test]
async fn scripted_headers_are_added_to_every_answer() -> TestResult {
    let limits = json!({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s"});
    let mock = start(json!({"status": 429, "count": 1, "headers": limits})).await?;
    let answers = [chat(&mock, false).await?, chat(&mock, false).await?, chat(&mock, true).await?];
    let statuses: Vec<u16> = answers.iter().map(|raw| raw.status).collect();
    assert_eq!(statuses, [429, 200, 200]);
    for raw in &answers {
        assert_eq!(raw.header("x-ratelimit-remaining-requests"), Some("0"));
        assert_eq!(raw.header("x-ratelimit-reset-requests"), Some("20s"));
    }
    mock.script_json(json!({"body": "{\"error\": {\"message\": \"quota\"}}", "headers": limits}))?;
    let raw = chat(&mock, false).await?;
    assert_eq!((raw.status, raw.header("x-ratelimit-reset-requests")), (200, Some("20s")));
    Ok(())
}

#[tokio::test]
async fn a_bad_script_names_the_field_and_keeps_the_current_one() -> TestResult {
    let mock = start(json!({"status": 503})).await?;
    let set = send(mock.addr(), "POST", "/_script", &[], Some(&json!({"retry_after": true}))).await?;
    assert_eq!(set.status, 400);
    let message = set.json()?["error"].as_str().unwrap_or_default().to_string();
    assert!(message.contains("`retry_after`"), "{message}");
    let error = mock.script_json(json!({"events": [1]})).err().unwrap_or_default();
    assert!(error.contains("`events[0]`"), "{error}");
    assert_eq!(chat(&mock, false).await?.status, 503, "the current script stays");
    Ok(())
}

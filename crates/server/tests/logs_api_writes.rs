//! The logs API's writes through the real app: custom logs in Portkey's shape (`POST
//! /v1/logs`), feedback on traces (`POST /v1/feedback`, `PUT /v1/feedback/{id}`), and the
//! retention sweep that deletes old logs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use switchboard::observe::retention;
use switchboard_core::pricing;
use switchboard_core::usage::Usage;
use switchboard_store::{LogQuery, LogRecord, Store, StoreLocation};

fn admin() -> Vec<(&'static str, String)> {
    vec![("x-portkey-api-key", ADMIN_KEY.to_string())]
}

async fn post(gw: &Gateway, path: &str, body: &Value) -> Answer {
    gw.post(path, &admin(), body.to_string()).await
}

async fn put(gw: &Gateway, path: &str, body: &Value) -> Answer {
    let resp = reqwest::Client::new()
        .put(format!("{}{path}", gw.url))
        .header("x-portkey-api-key", ADMIN_KEY)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    Answer { status, headers, text: resp.text().await.unwrap() }
}

async fn log(gw: &Gateway, id: &str) -> Value {
    let answer = gw.get(&format!("/v1/logs/{id}"), &admin()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()
}

fn message(answer: &Answer) -> String {
    answer.json()["error"]["message"].as_str().unwrap_or_default().to_string()
}

/// Portkey's documented sample, pointed at OpenAI with usage in the response.
fn portkey_sample() -> Value {
    json!({
        "request": {"url": "https://api.openai.com/v1/chat/completions", "method": "POST",
                    "headers": {"Content-Type": "application/json", "Authorization": "Bearer sk-secret"},
                    "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is AI?"}]}},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                     "body": {"model": "gpt-4o-mini-2024-07-18", "choices": [],
                              "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}},
                     "response_time": 123},
        "metadata": {"user_id": "123", "trace_id": "custom-trace", "span_id": "span-1", "span_name": "chat"}
    })
}

#[tokio::test]
async fn custom_log_in_portkeys_shape_is_stored_and_read_back() {
    let gw = gateway().await;
    let answer = post(&gw, "/v1/logs", &portkey_sample()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["success"], true);
    let id = body["data"]["id"].as_str().unwrap().to_string();
    let record = log(&gw, &id).await;
    let usage = Usage { prompt_tokens: 1200, completion_tokens: 300, ..Usage::default() };
    let cost = pricing::cost(&pricing::lookup("openai", "gpt-4o-mini-2024-07-18").unwrap(), &usage);
    assert!((record["cost_usd"].as_f64().unwrap() - cost).abs() < 1e-12);
    let mut shown = record.clone();
    for volatile in ["id", "created_at", "cost_usd", "request_body", "response_body"] {
        shown.as_object_mut().unwrap().remove(volatile);
    }
    let want = json!({"trace_id": "custom-trace", "span_id": "span-1", "parent_span_id": null, "span_name": "chat",
        "metadata": {"user_id": "123"}, "api_key_id": "admin", "config_slug": null, "config_version": null,
        "strategy_mode": null, "target_path": null, "provider": "openai", "virtual_key": null,
        "requested_model": "gpt-4o-mini", "served_model": "gpt-4o-mini-2024-07-18", "status": 200,
        "latency_ms": 123, "ttfb_ms": null, "stream": false, "retry_count": 0, "cache_status": null,
        "prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500, "unpriced": false,
        "attempts": [], "error": null, "error_class": null, "feedback": []});
    assert_eq!(shown, want);
    let request_body: Value = serde_json::from_str(record["request_body"].as_str().unwrap()).unwrap();
    assert_eq!(request_body, portkey_sample()["request"]["body"]);
    assert!(!answer.text.contains("sk-secret") && !record.to_string().contains("sk-secret"), "headers are not kept");
    let found = gw.get("/v1/logs?trace_id=custom-trace&metadata.user_id=123", &admin()).await.json();
    assert_eq!(found["data"][0]["id"], id.as_str());
}

#[tokio::test]
async fn custom_logs_in_a_batch_get_ids_in_order_and_read_every_spelling() {
    let gw = gateway().await;
    let batch = json!([
        portkey_sample(),
        {"request": {"url": "https://my-res.openai.azure.com/openai/deployments/gpt35/chat/completions",
                     "body": "{\"messages\": []}"},
         "response": {"status": 429, "body": "{\"error\": {\"message\": \"Rate limit, retry later\"}}",
                      "time": 40.6, "streamingMode": true},
         "metadata": {"traceId": "camel-trace", "parentSpanId": "p-1", "model": "gpt-35-turbo"}},
        {"request": {"url": "https://api.someprovider.com/model/generate", "body": {"model": "my-model"}},
         "response": {"body": {"usage": {"input_tokens": 7, "output_tokens": 3}}}},
    ]);
    let answer = post(&gw, "/v1/logs", &batch).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let ids: Vec<String> =
        answer.json()["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 3);
    let azure = log(&gw, &ids[1]).await;
    let fields =
        ["provider", "requested_model", "status", "latency_ms", "stream", "trace_id", "parent_span_id", "error"];
    let got: Vec<&Value> = fields.iter().map(|f| &azure[*f]).collect();
    let want = json!(["azure-openai", "gpt-35-turbo", 429, 41, true, "camel-trace", "p-1", "Rate limit, retry later"]);
    assert_eq!(json!(got), want);
    assert_eq!(azure["metadata"], json!({"model": "gpt-35-turbo"}));
    let custom = log(&gw, &ids[2]).await;
    let got =
        json!([custom["provider"], custom["total_tokens"], custom["cost_usd"], custom["unpriced"], custom["status"]]);
    assert_eq!(got, json!(["custom", 10, null, true, 200]), "tokens without a price are unpriced, not free");
    assert!(custom["trace_id"].as_str().is_some_and(|t| !t.is_empty()), "a trace ID is always given");
}

#[tokio::test]
async fn custom_log_mistakes_are_refused_naming_the_field_and_nothing_is_stored() {
    let gw = gateway().await;
    let cases = [
        (json!({"response": {"status": 42}}), "response.status: expected an HTTP status from 100 to 599, got 42"),
        (json!({"request": "GET /"}), "request: expected an object"),
        (json!({"metadata": ["a"]}), "metadata: expected an object"),
        (json!({"response": {"response_time": -1}}), "response.response_time: expected milliseconds, got -1"),
        (json!("a log"), "request body: expected a log object"),
        (json!([]), "request body: expected 1 to 1000 logs, got 0"),
        (json!([portkey_sample(), {"response": {"status": "ok"}}]), "[1].response.status: expected an HTTP status"),
        (json!([portkey_sample(), 7]), "[1]: expected a log object"),
    ];
    for (body, want) in cases {
        let answer = post(&gw, "/v1/logs", &body).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text);
        assert!(message(&answer).starts_with(want), "{body}: {}", answer.text);
    }
    let not_json = gw.post("/v1/logs", &admin(), "{oops").await;
    assert!(message(&not_json).starts_with("request body is not valid JSON"), "{}", not_json.text);
    assert!(gw.logs().await.is_empty(), "a refused batch stores nothing");
}

#[tokio::test]
async fn custom_log_bodies_follow_the_log_settings() {
    let mut lean = settings();
    lean.logs.bodies = false;
    let gw = gateway_with(lean).await;
    let id = post(&gw, "/v1/logs", &portkey_sample()).await.json()["data"]["id"].as_str().unwrap().to_string();
    let record = log(&gw, &id).await;
    assert_eq!((&record["request_body"], &record["response_body"]), (&Value::Null, &Value::Null));

    let mut small = settings();
    small.logs.body_max_bytes = 10;
    let gw = gateway_with(small).await;
    let id = post(&gw, "/v1/logs", &portkey_sample()).await.json()["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(log(&gw, &id).await["request_body"], "{\"model\":\"…[truncated]");
}

async fn log_with_trace(gw: &Gateway, trace_id: &str) -> String {
    let answer = post(gw, "/v1/logs", &json!({"metadata": {"trace_id": trace_id}})).await;
    answer.json()["data"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn feedback_is_saved_and_shown_with_the_traces_logs() {
    let gw = gateway().await;
    let log_id = log_with_trace(&gw, "t-fb").await;
    let body = json!({"trace_id": "t-fb", "value": 5, "weight": 0.5, "metadata": {"_user": "u1", "text": "good"}});
    let answer = post(&gw, "/v1/feedback", &body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let saved = answer.json();
    let id = saved["feedback_ids"][0].as_str().unwrap().to_string();
    assert_eq!(
        saved,
        json!({"status": "success", "message": "Feedback successfully saved",
        "feedback_ids": [id], "feedback_id": [id]})
    );
    let feedback = log(&gw, &log_id).await["feedback"].clone();
    let mut entry = feedback[0].clone();
    assert!(entry.as_object_mut().unwrap().remove("created_at").unwrap().as_i64().unwrap() > 0);
    assert_eq!(
        entry,
        json!({"id": id, "trace_id": "t-fb", "value": 5, "weight": 0.5,
        "metadata": {"_user": "u1", "text": "good"}})
    );
}

#[tokio::test]
async fn feedback_takes_the_sdk_spelling_batches_and_traces_not_logged_yet() {
    let gw = gateway().await;
    let batch = json!([{"traceID": "t-sdk", "value": 1}, {"traceId": "t-sdk", "value": -10, "weight": null,
        "metadata": "{\"source\": \"string metadata\"}"}]);
    let answer = post(&gw, "/v1/feedback", &batch).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["feedback_ids"].as_array().unwrap().len(), 2);
    let stored = gw.state.control.store.feedback_for_trace("t-sdk").await.unwrap();
    let got: Vec<(i64, f64, Value)> =
        stored.into_iter().map(|f| (f.value, f.weight, Value::Object(f.metadata))).collect();
    assert_eq!(got, [(1, 1.0, json!({})), (-10, 1.0, json!({"source": "string metadata"}))], "weight defaults to 1");
}

#[tokio::test]
async fn feedback_mistakes_are_refused_naming_the_field() {
    let gw = gateway().await;
    let cases = [
        (json!({"value": 1}), "trace_id: required"),
        (json!({"trace_id": "", "value": 1}), "trace_id: required"),
        (json!({"trace_id": "t"}), "value: required, an integer from -10 to 10"),
        (json!({"trace_id": "t", "value": 11}), "value: expected an integer from -10 to 10, got 11"),
        (json!({"trace_id": "t", "value": 2.5}), "value: expected an integer from -10 to 10, got 2.5"),
        (json!({"trace_id": "t", "value": 1, "weight": 1.5}), "weight: expected a number from 0 to 1, got 1.5"),
        (json!({"trace_id": "t", "value": 1, "weight": -0.1}), "weight: expected a number from 0 to 1, got -0.1"),
        (json!({"trace_id": "t", "value": 1, "metadata": [1]}), "metadata: expected a JSON object"),
        (json!([{"trace_id": "t", "value": 1}, {"trace_id": "t", "value": 99}]), "[1].value: expected an integer"),
        (json!([]), "request body: expected at least one feedback"),
        (json!("thumbs up"), "request body must be a feedback object or an array of them"),
    ];
    for (body, want) in cases {
        let answer = post(&gw, "/v1/feedback", &body).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text);
        assert!(message(&answer).starts_with(want), "{body}: {}", answer.text);
    }
    assert!(gw.state.control.store.feedback_for_trace("t").await.unwrap().is_empty(), "a refused batch saves none");
}

#[tokio::test]
async fn feedback_update_changes_only_the_given_fields() {
    let gw = gateway().await;
    let created = post(
        &gw,
        "/v1/feedback",
        &json!({"trace_id": "t-up", "value": 3, "weight": 0.5,
        "metadata": {"text": "first"}}),
    )
    .await;
    let id = created.json()["feedback_ids"][0].as_str().unwrap().to_string();
    let path = format!("/v1/feedback/{id}");
    let answer = put(&gw, &path, &json!({"feedbackID": id, "value": -2})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json(),
        json!({"status": "success", "message": "Feedback successfully updated",
        "feedback_ids": [id], "feedback_id": [id]})
    );
    let current = || async { gw.state.control.store.feedback_for_trace("t-up").await.unwrap().remove(0) };
    let now = current().await;
    assert_eq!((now.value, now.weight, Value::Object(now.metadata)), (-2, 0.5, json!({"text": "first"})));
    put(&gw, &path, &json!({"weight": 0.25, "metadata": {"text": "second"}})).await;
    let now = current().await;
    assert_eq!((now.value, now.weight, Value::Object(now.metadata)), (-2, 0.25, json!({"text": "second"})));

    let missing = put(&gw, "/v1/feedback/no-such-feedback", &json!({"value": 1})).await;
    assert_eq!((missing.status, message(&missing).as_str()), (404, "feedback \"no-such-feedback\" does not exist"));
    let empty = put(&gw, &path, &json!({"feedbackID": id})).await;
    assert_eq!(message(&empty), "request body: expected at least one of value, weight, metadata");
    let out_of_range = put(&gw, &path, &json!({"value": 20})).await;
    assert_eq!(out_of_range.status, 400);
}

fn now_ms() -> i64 {
    switchboard::support::clock::unix_ms()
}

fn aged(id: &str, created_at: i64) -> LogRecord {
    LogRecord { status: 200, latency_ms: 1, ..LogRecord::new(id, created_at, "openai", "gpt-4o") }
}

const DAY: i64 = 86_400_000;

async fn history(now: i64) -> Store {
    let store = control().await.store;
    let records = [("ten-days", 10 * DAY), ("eight-days", 8 * DAY), ("two-days", 2 * DAY), ("an-hour", DAY / 24)];
    let mut records: Vec<LogRecord> = records.iter().map(|(id, age)| aged(id, now - age)).collect();
    store.insert_logs(&mut records).await.unwrap();
    store
}

async fn remaining(store: &Store) -> Vec<String> {
    let page = store.query_logs(&LogQuery { limit: Some(100), ..LogQuery::default() }).await.unwrap();
    page.items.into_iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn retention_sweep_deletes_only_logs_older_than_the_window() {
    let now = now_ms();
    let store = history(now).await;
    assert_eq!(retention::sweep(&store, 7, now).await.unwrap(), 2);
    assert_eq!(remaining(&store).await, ["an-hour", "two-days"]);
    assert_eq!(retention::sweep(&store, 1, now).await.unwrap(), 1);
    assert_eq!(retention::sweep(&store, 1, now).await.unwrap(), 0);
    assert_eq!(remaining(&store).await, ["an-hour"]);
}

#[tokio::test]
async fn retention_of_zero_days_keeps_everything_and_returns_at_once() {
    let store = history(now_ms()).await;
    let finished = tokio::time::timeout(Duration::from_secs(5), retention::run(store.clone(), 0)).await;
    assert!(finished.is_ok(), "run(…, 0) returns at once");
    assert_eq!(remaining(&store).await.len(), 4);
}

#[tokio::test]
async fn retention_of_zero_days_on_postgres_still_makes_the_log_partitions_at_start() {
    let Some(url) = services::postgres_schema().await else { return };
    let store = switchboard_store::open(&StoreLocation::Postgres(url.clone())).await.unwrap();
    store.insert_logs(&mut vec![aged("ten-days", now_ms() - 10 * DAY)]).await.unwrap();
    let task = switchboard::support::tasks::spawn(retention::run(store.clone(), 0));
    // Today's and the days ahead, and DEFAULT.
    let want = 1 + retention::PARTITION_DAYS_AHEAD as usize + 1;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.log_partitions().await.unwrap().len() < want {
        assert!(tokio::time::Instant::now() < deadline, "the upkeep did not run");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
    assert_eq!(store.log_partitions().await.unwrap().len(), want);
    assert_eq!(remaining(&store).await, ["ten-days"], "0 days keeps every log");
    store.close().await;
    services::drop_schema(&url).await;
}

#[tokio::test]
async fn retention_run_sweeps_as_soon_as_it_starts() {
    let store = history(now_ms()).await;
    let task = switchboard::support::tasks::spawn(retention::run(store.clone(), 7));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while remaining(&store).await.len() != 2 {
        assert!(tokio::time::Instant::now() < deadline, "the first sweep did not run");
        tokio::task::yield_now().await;
    }
    task.abort();
    assert_eq!(remaining(&store).await, ["an-hour", "two-days"]);
}

//! Request logs through the real app: one record per request with its trace ID, the path
//! it took attempt by attempt, tokens and cost; streams counted too; metrics in step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

fn attempts(record: &switchboard_store::LogRecord) -> Vec<(String, u64, String)> {
    attempts_json(record)
        .iter()
        .map(|a| {
            (
                a["target_path"].as_str().unwrap().to_string(),
                a["status"].as_u64().unwrap(),
                a["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn fallback_after_503_is_logged_attempt_by_attempt_with_tokens_and_cost() {
    let (gw, openai, azure) = (gateway().await, mock("oai").await, mock("az").await);
    openai.script(Script { status: Some(503), count: -1, ..Script::default() });
    let cfg = json!({"strategy": {"mode": "fallback"}, "targets": [target("openai", &openai), target("azure-openai", &azure)]});
    let trace = ("x-portkey-trace-id", "request-loadbalance-fallback".to_string());
    let answer =
        gw.chat_with(&cfg, &chat_body(), &[trace, ("x-portkey-metadata", r#"{"team":"search"}"#.into())]).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let logs = gw.logs().await;
    assert_eq!(logs.len(), 1);
    let r = &logs[0];
    assert_eq!(r.trace_id.as_deref(), Some("request-loadbalance-fallback"));
    assert_eq!(r.metadata["team"], "search");
    assert_eq!(r.strategy_mode.as_deref(), Some("fallback"));
    assert_eq!(r.target_path.as_deref(), Some("config.targets[1]"));
    assert_eq!(r.provider, "azure-openai");
    assert_eq!(r.status, 200);
    assert_eq!(
        attempts(r),
        [("config.targets[0]".into(), 503, "initial".into()), ("config.targets[1]".into(), 200, "fallback".into())]
    );
    assert_eq!(attempts_json(r)[0]["error_class"], "overloaded");
    assert_eq!(r.requested_model, "gpt-3.5-turbo");
    let usage = answer.json()["usage"].clone();
    assert_eq!(r.prompt_tokens, usage["prompt_tokens"].as_i64());
    assert_eq!(r.total_tokens, usage["total_tokens"].as_i64());
    assert!(r.cost_usd.is_some_and(|c| c > 0.0), "gpt-3.5-turbo is priced: {:?}", r.cost_usd);
    assert!(!r.unpriced);
    assert!(r.request_body.as_deref().is_some_and(|b| b.contains("7 wonders")));
    let cost: f64 = answer.header("x-switchboard-cost-usd").unwrap().parse().unwrap();
    assert!((cost - r.cost_usd.unwrap()).abs() < 1e-6);
}

#[tokio::test]
async fn retries_are_counted_and_each_attempt_recorded() {
    let (gw, a) = (gateway().await, mock("a").await);
    a.script(Script { status: Some(429), count: 2, retry_after: Some(0), ..Script::default() });
    let mut cfg = target("openai", &a);
    cfg["retry"] = json!({"attempts": 3, "use_retry_after_header": true});
    gw.chat(&cfg, &chat_body()).await;
    let r = &gw.logs().await[0];
    assert_eq!(r.retry_count, 2);
    let reasons: Vec<_> = attempts(r).into_iter().map(|(_, s, why)| (s, why)).collect();
    assert_eq!(reasons, [(429, "initial".into()), (429, "retry".into()), (200, "retry".into())]);
}

#[tokio::test]
async fn unknown_model_is_unpriced_not_free() {
    let (gw, a) = (gateway().await, mock("a").await);
    let mut body = chat_body();
    body["model"] = json!("my-private-finetune");
    gw.chat(&target("openai", &a), &body).await;
    let r = &gw.logs().await[0];
    assert_eq!(r.cost_usd, None);
    assert!(r.unpriced);
    assert!(r.total_tokens.is_some());
}

#[tokio::test]
async fn pricing_override_in_config_prices_an_unknown_model() {
    let (gw, a) = (gateway().await, mock("a").await);
    let mut cfg = target("openai", &a);
    cfg["pricing"] = json!({"input": 1000000, "output": 0});
    let mut body = chat_body();
    body["model"] = json!("my-private-finetune");
    let answer = gw.chat(&cfg, &body).await;
    let prompt = answer.json()["usage"]["prompt_tokens"].as_f64().unwrap();
    let r = &gw.logs().await[0];
    assert_eq!(r.cost_usd, Some(prompt), "1 USD per prompt token");
}

#[tokio::test]
async fn stream_tokens_come_from_usage_chunk_or_are_counted() {
    let (gw, a, ant) = (gateway().await, mock("a").await, mock("ant").await);
    let mut body = chat_body();
    body["stream"] = json!(true);
    gw.chat(&target("openai", &a), &body).await;
    body["stream_options"] = json!({"include_usage": true});
    let answer = gw.chat(&target("openai", &a), &body).await;
    let usage_chunk: Value = answer
        .events()
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .find(|c| c["usage"].is_object())
        .unwrap();
    body.as_object_mut().unwrap().remove("stream_options");
    gw.chat(&target("anthropic", &ant), &body).await;
    let logs = gw.logs().await;
    assert_eq!(logs.len(), 3);
    let (anthropic, with_usage, counted) = (&logs[0], &logs[1], &logs[2]);
    assert_eq!(with_usage.completion_tokens, usage_chunk["usage"]["completion_tokens"].as_i64());
    assert!(counted.completion_tokens.is_some_and(|n| n > 0), "estimated from the text");
    assert!(anthropic.completion_tokens.is_some_and(|n| n > 0), "from Anthropic's message_delta");
    assert!(logs.iter().all(|r| r.stream && r.status == 200 && r.ttfb_ms.is_some()));
    assert_eq!(with_usage.response_body.as_deref(), Some("Hello from a serving gpt-3.5-turbo"));
}

#[tokio::test]
async fn broken_stream_is_logged_as_failed() {
    let (gw, a) = (gateway().await, mock("a").await);
    a.script(Script { cut_after: Some(3), ..Script::default() });
    let mut body = chat_body();
    body["stream"] = json!(true);
    gw.chat(&target("openai", &a), &body).await;
    let r = &gw.logs().await[0];
    assert_eq!(r.status, 502);
    assert!(r.error.as_deref().is_some_and(|e| e.contains("stream")), "{:?}", r.error);
}

#[tokio::test]
async fn gateway_errors_are_logged_and_debug_false_drops_bodies() {
    let (gw, a) = (gateway().await, mock("a").await);
    let cfg = json!({"provider": "anthropic", "api_key": "k", "custom_host": format!("{}/v1", a.base_url())});
    gw.chat(&cfg, &chat_body()).await;
    gw.chat_with(&target("openai", &a), &chat_body(), &[("x-portkey-debug", "false".into())]).await;
    let logs = gw.logs().await;
    let (quiet, refused) = (&logs[0], &logs[1]);
    assert_eq!(refused.status, 400);
    assert!(refused.error.as_deref().is_some_and(|e| e.contains("max_tokens")));
    assert_eq!(quiet.status, 200);
    assert_eq!((quiet.request_body.as_deref(), quiet.response_body.as_deref()), (None, None));
}

#[tokio::test]
async fn metrics_count_requests_tokens_and_fallbacks() {
    let (gw, a, b) = (gateway().await, mock("a").await, mock("b").await);
    a.script(Script { status: Some(500), count: -1, ..Script::default() });
    let cfg = json!({"strategy": {"mode": "fallback"}, "targets": [target("openai", &a), target("openai", &b)]});
    gw.chat(&cfg, &chat_body()).await;
    let text = gw.get("/metrics", &[]).await.text;
    let line = |prefix: &str| text.lines().find(|l| l.starts_with(prefix)).map(str::to_string);
    assert!(line("switchboard_requests_total{provider=\"openai\",model=\"gpt-3.5-turbo\",target=\"config.targets[1]\",status=\"200\"} 1").is_some(), "{text}");
    assert!(line("switchboard_fallbacks_total{provider=\"openai\"} 1").is_some(), "{text}");
    assert!(line("switchboard_tokens_total{provider=\"openai\",model=\"gpt-3.5-turbo\",kind=\"prompt\"}").is_some());
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn client_leaving_mid_stream_drops_the_upstream_and_is_logged_as_499() {
    use futures_util::StreamExt;
    let (gw, a) = (gateway().await, mock("slow").await);
    a.script(Script { chunk_delay_ms: 100, ..Script::default() });
    let mut body = chat_body();
    body["stream"] = json!(true);
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.url))
        .header("x-portkey-api-key", ADMIN_KEY)
        .header("x-portkey-config", target("openai", &a).to_string())
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let mut chunks = response.bytes_stream();
    assert!(chunks.next().await.is_some_and(|c| c.is_ok()), "the stream started");
    drop(chunks);
    let store = &gw.state.control.store;
    let query = switchboard_store::LogQuery { limit: Some(10), ..switchboard_store::LogQuery::default() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let record = loop {
        let page = store.query_logs(&query).await.unwrap();
        if let Some(r) = page.items.into_iter().next() {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "no log for the abandoned stream");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(record.status, 499);
    assert_eq!(record.error.as_deref(), Some("the client closed the stream"));
}

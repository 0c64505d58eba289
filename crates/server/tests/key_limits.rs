//! Limits on keys, end to end through the real app and the mock provider: a virtual key's
//! `rate_limits` (requests, tokens) and `usage_limits` (a cost budget), an API key's
//! `rate_limits`, the 429 shapes and `Retry-After`, the admin view's `exhausted`, and invalid
//! limits refused with their path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;
mod common;

use admin_support::*;
use common::*;
use serde_json::{json, Value};

/// A virtual key on the mock with `limits` merged into its body; returns its slug.
async fn limited_key(gw: &Gateway, mock: &MockProvider, limits: Value) -> String {
    let mut body = json!({"name": "limited", "provider": "openai", "key": "sk-test-0000000000000001",
        "custom_host": format!("{}/v1", mock.base_url())});
    body.as_object_mut().unwrap().extend(limits.as_object().unwrap().clone());
    create_virtual_key(gw, body).await
}

/// Asserts a key-limit refusal: 429, OpenAI's shape with `code`, and `Retry-After` (whole
/// seconds, from 1 to `max_retry`) when `max_retry` is given.
fn assert_refused(answer: &Answer, code: &str, max_retry: Option<u64>) {
    assert_eq!(answer.status, 429, "{}", answer.text);
    let error = &answer.json()["error"];
    assert_eq!(error["code"], code, "{}", answer.text);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(answer.header("x-portkey-gateway-exception"), Some("true"));
    let after = answer.header("retry-after").map(|v| v.parse::<u64>().unwrap());
    match max_retry {
        Some(max) => assert!(after.is_some_and(|s| (1..=max).contains(&s)), "Retry-After: {after:?}"),
        None => assert_eq!(after, None),
    }
}

#[tokio::test]
async fn a_virtual_key_at_5_rpm_serves_5_of_8_and_refuses_the_rest_with_retry_after() {
    let (gw, mock) = (gateway().await, mock("limited").await);
    let limits = json!({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 5}]});
    let slug = limited_key(&gw, &mock, limits).await;
    let config = json!({"virtual_key": slug});
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let answer = gw.chat(&config, &chat_body()).await;
        if answer.status == 429 {
            assert_refused(&answer, "rate_limit_exceeded", Some(60));
            assert_eq!(answer.json()["error"]["type"], "requests");
        }
        statuses.push(answer.status);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    assert_eq!(mock.hits().len(), 5, "refused requests never reach the provider");
    let logs = gw.logs().await;
    let classes: Vec<_> = logs.iter().filter(|r| r.status == 429).map(|r| r.error_class.clone()).collect();
    assert_eq!(classes, vec![Some("rate_limit_exceeded".to_string()); 3], "each refusal is logged with its class");
    assert_no_panics();
}

#[tokio::test]
async fn a_token_window_admits_while_below_its_limit_and_refuses_once_it_is_reached() {
    let (gw, mock) = (gateway().await, mock("tokens").await);
    let limits = json!({"rate_limits": [{"type": "tokens", "unit": "rph", "value": 100}]});
    let config = json!({"virtual_key": limited_key(&gw, &mock, limits).await});
    let mut used = 0;
    for _ in 0..20 {
        let answer = gw.chat(&config, &chat_body()).await;
        if answer.status == 429 {
            assert_refused(&answer, "rate_limit_exceeded", Some(3600));
            assert!(used >= 100, "refused only once the window is full: {used} used");
            return;
        }
        assert!(used < 100, "admitted only while below the limit: {used} used");
        assert_eq!(answer.status, 200, "{}", answer.text);
        used += answer.json()["usage"]["total_tokens"].as_u64().unwrap();
    }
    panic!("never refused after {used} tokens of 100");
}

#[tokio::test]
async fn a_spent_cost_budget_refuses_with_insufficient_quota_and_shows_exhausted() {
    let (gw, mock) = (gateway().await, mock("budget").await);
    // gpt-3.5-turbo costs a few millionths of a dollar a request on the mock.
    let limits = json!({"usage_limits": {"credit_limit": 0.00005, "periodic_reset": "monthly"}});
    let slug = limited_key(&gw, &mock, limits).await;
    let config = json!({"virtual_key": slug});
    let (mut spent, mut served) = (0.0, 0);
    let refused = loop {
        let answer = gw.chat(&config, &chat_body()).await;
        if answer.status != 200 {
            break answer;
        }
        served += 1;
        spent += answer.header("x-switchboard-cost-usd").unwrap().parse::<f64>().unwrap();
        assert!(served < 100, "never refused");
    };
    // Until the month ends.
    assert_refused(&refused, "insufficient_quota", Some(31 * 86_400));
    assert_eq!(refused.json()["error"]["type"], "insufficient_quota");
    assert!(served >= 1 && spent >= 0.00005, "refused once spent: {served} served, ${spent}");
    let view = admin(&gw, "GET", &format!("/v1/virtual-keys/{slug}"), None).await.json();
    assert_eq!(view["status"], "exhausted");
    assert_eq!(view["usage_limits"], json!({"credit_limit": 0.00005, "periodic_reset": "monthly"}));
    let listed = admin(&gw, "GET", "/v1/virtual-keys", None).await.json();
    assert_eq!(listed["data"][0]["status"], "exhausted");
}

#[tokio::test]
async fn an_api_key_with_rate_limits_refuses_its_sixth_request() {
    let (gw, mock) = (gateway().await, mock("api-key").await);
    let body = json!({"name": "app", "scopes": ["gateway"],
        "rate_limits": [{"type": "requests", "unit": "rpm", "value": 5}]});
    let (id, key) = create_api_key(&gw, body).await;
    let config =
        json!({"provider": "openai", "api_key": "sk-upstream", "custom_host": format!("{}/v1", mock.base_url())});
    for i in 0..5 {
        assert_eq!(chat_as(&gw, &key, &config.to_string()).await.status, 200, "request {i}");
    }
    let sixth = chat_as(&gw, &key, &config.to_string()).await;
    assert_refused(&sixth, "rate_limit_exceeded", Some(60));
    assert!(sixth.json()["error"]["message"].as_str().unwrap().starts_with("this API key is over its rate limit"));
    let view = admin(&gw, "GET", &format!("/v1/api-keys/{id}"), None).await.json();
    assert_eq!(view["rate_limits"], json!([{"type": "requests", "unit": "rpm", "value": 5}]));
    assert_eq!((view["usage_limits"].clone(), view["status"].clone()), (Value::Null, json!("active")));
    // Another key is not limited by this one's window.
    let (_, other) = create_api_key(&gw, json!({"name": "other", "scopes": ["gateway"]})).await;
    assert_eq!(chat_as(&gw, &other, &config.to_string()).await.status, 200);
}

#[tokio::test]
async fn a_rate_limit_of_zero_disables_the_key() {
    let (gw, mock) = (gateway().await, mock("off").await);
    let limits = json!({"rate_limits": [{"type": "requests", "unit": "rpd", "value": 0}]});
    let config = json!({"virtual_key": limited_key(&gw, &mock, limits).await});
    let answer = gw.chat(&config, &chat_body()).await;
    assert_refused(&answer, "rate_limit_exceeded", None);
    assert!(mock.hits().is_empty());
}

#[tokio::test]
async fn invalid_limits_are_refused_with_their_path() {
    let gw = gateway().await;
    let bad = json!([{"type": "requests", "unit": "rps", "value": 1}]);
    let vk = json!({"name": "o", "provider": "openai", "key": "sk-0000000000000001", "rate_limits": bad});
    let answer = admin(&gw, "POST", "/v1/virtual-keys", Some(&vk)).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(
        message(&answer).contains("virtual_key.rate_limits[0].unit: unknown unit \"rps\" (expected rpm, rph, rpd)"),
        "{}",
        answer.text
    );
    let key = json!({"name": "k", "scopes": ["gateway"], "rate_limits": bad,
        "usage_limits": {"credit_limit": 10, "alert_threshold": 20}});
    let answer = admin(&gw, "POST", "/v1/api-keys", Some(&key)).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let text = message(&answer);
    assert!(text.contains("api_key.rate_limits[0].unit: unknown unit \"rps\""), "{text}");
    assert!(text.contains("api_key.usage_limits.alert_threshold: must be below credit_limit"), "{text}");
    // Updating a virtual key checks them the same way.
    let slug = create_virtual_key(&gw, json!({"name": "o", "provider": "openai", "key": "sk-0000000000000001"})).await;
    let update = json!({"usage_limits": {"credit_limit": -1}});
    let answer = admin(&gw, "PUT", &format!("/v1/virtual-keys/{slug}"), Some(&update)).await;
    assert_eq!(answer.status, 400);
    assert!(
        message(&answer).contains("virtual_key.usage_limits.credit_limit: expected a number > 0"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn a_stream_settles_with_what_it_used_when_it_ends() {
    let (gw, mock) = (gateway().await, mock("stream").await);
    // One request's estimate (its prompt and 256 output tokens) is over the limit; what it uses is not.
    let limits = json!({"rate_limits": [{"type": "tokens", "unit": "rph", "value": 200}]});
    let config = json!({"virtual_key": limited_key(&gw, &mock, limits).await});
    let mut body = chat_body();
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let first = gw.chat(&config, &body).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let usage: Value = serde_json::from_str(first.events().iter().rev().nth(1).unwrap()).unwrap();
    let used = usage["usage"]["total_tokens"].as_u64().unwrap();
    assert!(used < 100, "the mock's answer is short: {used}");
    // Had the estimate stood, the window would be full; the settle at the stream's end gave it back.
    let mut second = gw.chat(&config, &chat_body()).await;
    for _ in 0..100 {
        if second.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        second = gw.chat(&config, &chat_body()).await;
    }
    assert_eq!(second.status, 200, "{}", second.text);
}

#[tokio::test]
async fn an_api_key_with_a_spent_token_budget_is_refused_and_shown_exhausted() {
    let (gw, mock) = (gateway().await, mock("api-budget").await);
    let body = json!({"name": "app", "scopes": ["gateway"], "usage_limits": {"credit_limit": 10, "type": "tokens"}});
    let (id, key) = create_api_key(&gw, body).await;
    let config =
        json!({"provider": "openai", "api_key": "sk-upstream", "custom_host": format!("{}/v1", mock.base_url())});
    assert_eq!(chat_as(&gw, &key, &config.to_string()).await.status, 200, "admitted: 0 of 10 spent");
    let refused = chat_as(&gw, &key, &config.to_string()).await;
    // A budget that never resets gives no Retry-After.
    assert_refused(&refused, "insufficient_quota", None);
    let view = admin(&gw, "GET", &format!("/v1/api-keys/{id}"), None).await.json();
    assert_eq!(view["status"], "exhausted");
    assert_eq!(view["usage_limits"], json!({"credit_limit": 10, "type": "tokens"}));
}

#[tokio::test]
async fn a_limited_virtual_key_inside_a_fallback_is_skipped_like_an_unhealthy_target() {
    let (gw, capped, spare) = (gateway().await, mock("capped").await, mock("spare").await);
    let limits = json!({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 2}]});
    let capped_slug = limited_key(&gw, &capped, limits).await;
    let config = json!({"strategy": {"mode": "fallback"}, "targets": [
        {"virtual_key": capped_slug}, target("openai", &spare)]});
    for i in 0..6 {
        let trace = [("x-portkey-trace-id", format!("limited-{i}"))];
        let answer = gw.chat_with(&config, &chat_body(), &trace).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    assert_eq!((capped.hits().len(), spare.hits().len()), (2, 4), "the capped key served its 2, then was passed over");
    let logs = gw.logs().await;
    let last = logs.iter().find(|r| r.trace_id.as_deref() == Some("limited-5")).unwrap();
    let route = attempts_json(last);
    assert_eq!((route[0]["reason"].clone(), route[0]["state"].clone()), (json!("skipped"), json!("limited")));
    assert_eq!(route[0]["virtual_key"], json!(capped_slug));
    assert_eq!(
        route.iter().filter(|a| a["reason"] != "skipped").count(),
        1,
        "the capped key was not called: {route:?}"
    );
}

#[tokio::test]
async fn when_every_virtual_key_is_limited_the_answer_is_the_limits_429() {
    let (gw, a, b) = (gateway().await, mock("a").await, mock("b").await);
    let limits = || json!({"rate_limits": [{"type": "requests", "unit": "rpm", "value": 1}]});
    let (first, second) = (limited_key(&gw, &a, limits()).await, limited_key(&gw, &b, limits()).await);
    let config =
        json!({"strategy": {"mode": "loadbalance"}, "targets": [{"virtual_key": first}, {"virtual_key": second}]});
    assert_eq!(gw.chat(&config, &chat_body()).await.status, 200);
    assert_eq!(gw.chat(&config, &chat_body()).await.status, 200, "the loadbalance moved to the key with room");
    let refused = gw.chat(&config, &chat_body()).await;
    assert_refused(&refused, "rate_limit_exceeded", Some(60));
    assert_eq!(a.hits().len() + b.hits().len(), 2);
}

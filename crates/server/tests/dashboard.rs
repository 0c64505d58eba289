//! The dashboard's server side over real HTTP: sign-in sessions and their CSRF check, the embedded page and
//! its headers, and the APIs added for it (live tail, time series, config validation and diffs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;
mod common;

use std::time::Duration;

use admin_support::*;
use common::*;
use serde_json::{json, Value};

/// A signed-in browser: its cookie header and CSRF value.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn sign_in(gw: &Gateway, key: &str) -> Answer {
    gw.post("/ui/api/session", &[], json!({"api_key": key}).to_string()).await
}

async fn browser(gw: &Gateway, key: &str) -> Browser {
    let answer = sign_in(gw, key).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let set = answer.header("set-cookie").unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    Browser { cookie, csrf: answer.json()["csrf_token"].as_str().unwrap().to_owned() }
}

/// `method path` carrying the browser's cookie, and its CSRF header when `csrf` is set.
async fn send(gw: &Gateway, b: &Browser, method: &str, path: &str, body: Option<&Value>, csrf: bool) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", gw.url)).header("cookie", &b.cookie);
    if csrf {
        req = req.header("x-csrf-token", &b.csrf);
    }
    if let Some(body) = body {
        req = req.header("content-type", "application/json").body(body.to_string());
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    Answer { status, headers, text: resp.text().await.unwrap_or_default() }
}

#[tokio::test]
async fn sign_in_exchanges_an_admin_key_for_an_http_only_strict_session() {
    let gw = gateway().await;
    let answer = sign_in(&gw, ADMIN_KEY).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let cookie = answer.header("set-cookie").unwrap();
    for part in ["sb_session=", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
    assert!(!answer.text.contains(ADMIN_KEY) && !cookie.contains(ADMIN_KEY), "the key is never echoed");
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let b = browser(&gw, ADMIN_KEY).await;
    assert_eq!(send(&gw, &b, "GET", "/v1/logs", None, false).await.status, 200, "reads need only the cookie");
    let current = send(&gw, &b, "GET", "/ui/api/session", None, false).await;
    assert_eq!(current.json()["csrf_token"], json!(b.csrf));
    assert_eq!(current.json()["principal"]["id"], "admin");
    let signed_out = gw.get("/ui/api/session", &[]).await;
    assert_eq!(signed_out.status, 401);
}

#[tokio::test]
async fn writes_with_the_cookie_need_the_sessions_csrf_token() {
    let gw = gateway().await;
    let b = browser(&gw, ADMIN_KEY).await;
    let body = json!({"name": "c", "config": {"provider": "openai"}});
    let refused = send(&gw, &b, "POST", "/v1/configs", Some(&body), false).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.json()["error"]["code"], "csrf_failed");
    let other = browser(&gw, ADMIN_KEY).await;
    let crossed = Browser { cookie: b.cookie.clone(), csrf: other.csrf.clone() };
    assert_eq!(send(&gw, &crossed, "POST", "/v1/configs", Some(&body), true).await.status, 403);
    assert_eq!(send(&gw, &b, "POST", "/v1/configs", Some(&body), true).await.status, 200);
    // A key in the headers is not a browser's doing: no token needed.
    assert_eq!(admin(&gw, "POST", "/v1/configs", Some(&body)).await.status, 200);
    assert!(admin_support::message(&refused).contains("x-csrf-token"));
}

#[tokio::test]
async fn sign_out_ends_the_session_for_every_request() {
    let gw = gateway().await;
    let b = browser(&gw, ADMIN_KEY).await;
    assert_eq!(send(&gw, &b, "DELETE", "/ui/api/session", None, false).await.status, 403, "sign-out is a write");
    let out = send(&gw, &b, "DELETE", "/ui/api/session", None, true).await;
    assert_eq!(out.status, 204);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = send(&gw, &b, "GET", "/v1/logs", None, false).await;
    assert_eq!(after.status, 401);
    assert!(admin_support::message(&after).contains("sign in again"), "{}", after.text);
}

#[tokio::test]
async fn only_admin_keys_sign_in_and_only_with_a_json_body() {
    let gw = gateway().await;
    let (_, gateway_key) = create_api_key(&gw, json!({"name": "app", "scopes": ["gateway"]})).await;
    let refused = sign_in(&gw, &gateway_key).await;
    assert_eq!(refused.status, 403);
    assert!(refused.header("set-cookie").is_none());
    assert!(admin_support::message(&refused).contains("scope \"admin\""), "{}", refused.text);
    assert_eq!(sign_in(&gw, "sb-wrong").await.status, 401);
    assert_eq!(gw.post("/ui/api/session", &[], "{}").await.status, 400, "no api_key");
    let form = reqwest::Client::new()
        .post(format!("{}/ui/api/session", gw.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("api_key={ADMIN_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 400, "a cross-site form cannot sign a browser in");
}

#[tokio::test]
async fn demoting_or_revoking_a_key_ends_its_sessions() {
    let gw = gateway().await;
    let (demoted, demoted_key) = create_api_key(&gw, json!({"name": "ops", "scopes": ["admin"]})).await;
    let (revoked, revoked_key) = create_api_key(&gw, json!({"name": "ops2", "scopes": ["admin"]})).await;
    let (a, b) = (browser(&gw, &demoted_key).await, browser(&gw, &revoked_key).await);
    assert_eq!(send(&gw, &a, "GET", "/v1/logs", None, false).await.status, 200);
    let demote = admin(&gw, "PUT", &format!("/v1/api-keys/{demoted}"), Some(&json!({"scopes": ["gateway"]}))).await;
    assert_eq!(demote.status, 200, "{}", demote.text);
    assert_eq!(send(&gw, &a, "GET", "/v1/logs", None, false).await.status, 401);
    admin(&gw, "DELETE", &format!("/v1/api-keys/{revoked}"), None).await;
    assert_eq!(send(&gw, &b, "GET", "/v1/logs", None, false).await.status, 401);
}

#[tokio::test]
async fn the_page_is_served_with_strict_headers_and_client_routes_get_it_too() {
    let gw = gateway().await;
    let page = gw.get("/ui/", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert!(!page.text.contains("<script>") && !page.text.contains("style="), "no inline script or style");
    let route = gw.get("/ui/logs/some-id", &[]).await;
    assert_eq!((route.status, route.text.as_str()), (200, page.text.as_str()), "a client route gets the page");
    assert_eq!(gw.get("/ui/assets/missing-0000.js", &[]).await.status, 404, "a missing asset is not the page");
    for asset in page.text.split("\"/ui/assets/").skip(1).filter_map(|rest| rest.split('"').next()) {
        let answer = gw.get(&format!("/ui/assets/{asset}"), &[]).await;
        assert_eq!(answer.status, 200, "{asset}");
        assert_eq!(answer.header("cache-control"), Some("public, max-age=31536000, immutable"), "{asset}");
    }
}

#[tokio::test]
async fn a_browser_at_the_root_is_sent_to_the_dashboard() {
    let gw = gateway().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let browser = client.get(format!("{}/", gw.url)).header("accept", "text/html,*/*").send().await.unwrap();
    assert_eq!(browser.status().as_u16(), 303);
    assert_eq!(browser.headers()["location"], "/ui/");
    let api = gw.get("/", &[]).await;
    assert_eq!(api.json()["name"], "switchboard");
}

/// Reads the SSE stream until an event named `name` arrives; its `id` and `data`.
async fn next_event(resp: &mut reqwest::Response, buffer: &mut String, name: &str) -> (String, Value) {
    let read = async {
        loop {
            if let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let field = |f: &str| block.lines().find_map(|l| l.strip_prefix(f)).map(str::to_owned);
                if field("event: ").as_deref() == Some(name) {
                    return (field("id: ").unwrap(), serde_json::from_str(&field("data: ").unwrap()).unwrap());
                }
                continue;
            }
            let chunk = resp.chunk().await.unwrap().expect("the stream ended");
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read).await.expect("no event within 20 s")
}

async fn tail(gw: &Gateway, last_event_id: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{}/v1/logs/tail", gw.url)).header("x-portkey-api-key", ADMIN_KEY);
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    resp
}

#[tokio::test]
async fn the_tail_streams_new_rows_and_resumes_from_an_event_id() {
    let gw = gateway().await;
    let provider = mock("openai").await;
    let mut stream = tail(&gw, None).await;
    let trace = [("x-portkey-trace-id", "tail-1".to_owned())];
    assert_eq!(gw.chat_with(&target("openai", &provider), &chat_body(), &trace).await.status, 200);
    let mut buffer = String::new();
    let (id, row) = next_event(&mut stream, &mut buffer, "log").await;
    assert_eq!(row["trace_id"], "tail-1");
    assert!(row["request_body"].is_null(), "no bodies in the tail");
    // Resuming reads the overlap again: the client drops repeats by id.
    let mut resumed = tail(&gw, Some(&id)).await;
    let (_, again) = next_event(&mut resumed, &mut String::new(), "log").await;
    assert_eq!(again["id"], row["id"]);
    let bad = gw.get("/v1/logs/tail?cursor=yesterday", &[("x-portkey-api-key", ADMIN_KEY.to_owned())]).await;
    assert_eq!(bad.status, 400);
    assert!(admin_support::message(&bad).starts_with("cursor:"), "{}", bad.text);
    assert_eq!(gw.get("/v1/logs/tail", &[]).await.status, 401);
}

#[tokio::test]
async fn timeseries_gives_chart_points_and_names_a_bad_interval() {
    let gw = gateway().await;
    let provider = mock("openai").await;
    for _ in 0..2 {
        assert_eq!(gw.chat(&target("openai", &provider), &chat_body()).await.status, 200);
    }
    gw.drain_logs().await;
    let key = [("x-portkey-api-key", ADMIN_KEY.to_owned())];
    let answer = gw.get("/v1/analytics/timeseries?group_by=provider", &key).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["interval_ms"], 900_000, "a day by the quarter hour");
    let requests: i64 = body["data"].as_array().unwrap().iter().map(|p| p["requests"].as_i64().unwrap()).sum();
    assert_eq!(requests, 2);
    assert_eq!(body["data"][0]["key"], "openai");
    assert!(body["data"][0]["latency_ms"]["p99"].is_i64());
    let bad = gw.get("/v1/analytics/timeseries?interval=1", &key).await;
    assert_eq!(bad.status, 400);
    assert!(admin_support::message(&bad).starts_with("interval: 1 s makes more than 1000 buckets"), "{}", bad.text);
}

#[tokio::test]
async fn validate_reports_every_problem_at_its_path_without_saving() {
    let gw = gateway().await;
    let bad = json!({"config": {"strategy": {"mode": "loadbalance"}, "targets": [
        {"provider": "openai", "api_key": "sk-1", "weight": -1},
        {"virtual_key": "no-such-key"}]}});
    let answer = admin(&gw, "POST", "/v1/configs/validate", Some(&bad)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["valid"], false);
    let paths: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"config.targets[0].weight"), "{paths:?}");
    let good = json!({"config": {"provider": "openai", "api_key": "sk-1"}});
    assert_eq!(admin(&gw, "POST", "/v1/configs/validate", Some(&good)).await.json()["valid"], true);
    assert_eq!(admin(&gw, "GET", "/v1/configs", None).await.json()["total"], 0, "nothing saved");
}

#[tokio::test]
async fn diff_shows_what_changed_between_two_versions() {
    let gw = gateway().await;
    let v1 = json!({"strategy": {"mode": "loadbalance"}, "targets": [
        {"provider": "openai", "api_key": "sk-1", "weight": 0.9}, {"provider": "openai", "api_key": "sk-2", "weight": 0.1}]});
    let slug = create_config(&gw, "canary", v1.clone()).await;
    let mut v2 = v1;
    v2["targets"][0]["weight"] = json!(0.8);
    v2["targets"][1]["weight"] = json!(0.2);
    assert_eq!(admin(&gw, "PUT", &format!("/v1/configs/{slug}"), Some(&json!({"config": v2}))).await.status, 200);
    let answer = admin(&gw, "GET", &format!("/v1/configs/{slug}/diff"), None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!((body["from"].clone(), body["to"].clone()), (json!(1), json!(2)));
    let changed: Vec<(String, String)> = body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["op"] != "equal")
        .map(|l| (l["op"].as_str().unwrap().to_owned(), l["text"].as_str().unwrap().trim().to_owned()))
        .collect();
    assert!(changed.contains(&("delete".into(), "\"weight\": 0.9".into())), "{changed:?}");
    assert!(changed.contains(&("insert".into(), "\"weight\": 0.2".into())), "{changed:?}");
    let missing = admin(&gw, "GET", &format!("/v1/configs/{slug}/diff?from=7&to=2"), None).await;
    assert_eq!(missing.status, 400);
    assert!(admin_support::message(&missing).starts_with("from: config"), "{}", missing.text);
}

//! Helpers for the admin API tests: any method with any key, and shortcuts that create a
//! virtual key, a config or an API key and return its ID (asserting success).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use crate::common::{Answer, Gateway, MockProvider, ADMIN_KEY};

/// `method path` with `key` in `x-portkey-api-key` (none when `None`) and an optional JSON body.
pub async fn call(gw: &Gateway, method: &str, path: &str, key: Option<&str>, body: Option<&Value>) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", gw.url));
    if let Some(key) = key {
        req = req.header("x-portkey-api-key", key);
    }
    if let Some(body) = body {
        req = req.header("content-type", "application/json").body(body.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    Answer { status, headers, text }
}

/// `method path` as the bootstrap admin.
pub async fn admin(gw: &Gateway, method: &str, path: &str, body: Option<&Value>) -> Answer {
    call(gw, method, path, Some(ADMIN_KEY), body).await
}

/// The error message of an OpenAI-shaped error answer.
pub fn message(answer: &Answer) -> String {
    answer.json()["error"]["message"].as_str().unwrap_or_default().to_string()
}

/// Creates a virtual key; returns its slug.
pub async fn create_virtual_key(gw: &Gateway, body: Value) -> String {
    let answer = admin(gw, "POST", "/v1/virtual-keys", Some(&body)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()["slug"].as_str().unwrap().to_string()
}

/// An OpenAI virtual key whose base URL is the mock.
pub async fn openai_key(gw: &Gateway, mock: &MockProvider, secret: &str) -> String {
    let body = json!({"name": "openai", "provider": "openai", "key": secret, "custom_host": format!("{}/v1", mock.base_url())});
    create_virtual_key(gw, body).await
}

/// Creates a config; returns its slug.
pub async fn create_config(gw: &Gateway, name: &str, config: Value) -> String {
    let answer = admin(gw, "POST", "/v1/configs", Some(&json!({"name": name, "config": config}))).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()["slug"].as_str().unwrap().to_string()
}

/// Creates an API key; returns (id, key).
pub async fn create_api_key(gw: &Gateway, body: Value) -> (String, String) {
    let answer = admin(gw, "POST", "/v1/api-keys", Some(&body)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let json = answer.json();
    (json["id"].as_str().unwrap().to_string(), json["key"].as_str().unwrap().to_string())
}

/// `POST /v1/chat/completions` with `key` and `x-portkey-config: config` (a slug or JSON).
pub async fn chat_as(gw: &Gateway, key: &str, config: &str) -> Answer {
    let headers = vec![("x-portkey-api-key", key.to_string()), ("x-portkey-config", config.to_string())];
    gw.post("/v1/chat/completions", &headers, crate::common::chat_body().to_string()).await
}

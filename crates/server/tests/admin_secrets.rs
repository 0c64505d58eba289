//! A virtual key's secret goes into the vault and never comes out of the admin API or the
//! gateway: no answer body or header, on any route or error path, carries it or its
//! ciphertext.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;
mod common;

use admin_support::*;
use common::*;
use serde_json::{json, Value};

const OPENAI_SECRET: &str = "sk-live-SECRET-123456";
const AZURE_SECRET: &str = "az-live-SECRET-654321";
const ANTHROPIC_SECRET: &str = "sk-ant-SECRET-777777";
const ROTATED_SECRET: &str = "sk-live-SECRET-999999";
/// The part every secret above shares: no answer may contain it.
const MARKER: &str = "SECRET";

/// Every answer collected along the way.
#[derive(Default)]
struct Seen(Vec<(String, Answer)>);

impl Seen {
    async fn admin(&mut self, gw: &Gateway, method: &str, path: &str, body: Option<Value>) -> Value {
        let answer = admin(gw, method, path, body.as_ref()).await;
        let json = serde_json::from_str(&answer.text).unwrap_or(Value::Null);
        self.0.push((format!("{method} {path}"), answer));
        json
    }

    async fn chat(&mut self, gw: &Gateway, config: &str) -> u16 {
        let answer = chat_as(gw, ADMIN_KEY, config).await;
        let status = answer.status;
        self.0.push((format!("chat {config}"), answer));
        status
    }

    fn assert_clean(&self, forbidden: &[String]) {
        for (what, answer) in &self.0 {
            for needle in forbidden {
                assert!(!answer.text.contains(needle.as_str()), "{what}: body contains {needle:?}: {}", answer.text);
                for (name, value) in &answer.headers {
                    let value = String::from_utf8_lossy(value.as_bytes());
                    assert!(!value.contains(needle.as_str()), "{what}: header {name} contains {needle:?}");
                }
            }
        }
    }
}

#[tokio::test]
async fn no_admin_route_or_error_path_ever_returns_a_virtual_key_secret() {
    let (gw, openai, azure, anthropic) =
        (gateway().await, mock("openai").await, mock("azure").await, mock("anthropic").await);
    let mut seen = Seen::default();
    let vk = "/v1/virtual-keys";
    let openai_body = json!({"slug": "openai-live", "name": "openai", "provider": "openai", "key": OPENAI_SECRET,
        "custom_host": format!("{}/v1", openai.base_url())});
    seen.admin(&gw, "POST", vk, Some(openai_body.clone())).await;
    seen.admin(
        &gw,
        "POST",
        vk,
        Some(json!({"slug": "azure-live", "name": "azure", "provider": "azure-openai",
        "key": AZURE_SECRET, "resourceName": "res", "deploymentName": "gpt35", "apiVersion": "2024-02-01",
        "customHost": format!("{}/openai", azure.base_url())})),
    )
    .await;
    seen.admin(
        &gw,
        "POST",
        vk,
        Some(json!({"slug": "anthropic-live", "name": "claude", "provider": "anthropic",
        "key": ANTHROPIC_SECRET, "base_url": format!("{}/v1", anthropic.base_url())})),
    )
    .await;

    // Error paths, each with a secret in the body.
    seen.admin(&gw, "POST", vk, Some(openai_body)).await; // slug taken
    seen.admin(&gw, "POST", vk, Some(json!({"name": "x", "provider": "nope", "key": OPENAI_SECRET}))).await;
    seen.admin(
        &gw,
        "POST",
        vk,
        Some(json!({"name": "x", "provider": "openai", "key": OPENAI_SECRET, "bogus": OPENAI_SECRET})),
    )
    .await;
    seen.admin(&gw, "POST", vk, Some(json!({"name": OPENAI_SECRET, "provider": "openai", "key": [OPENAI_SECRET]})))
        .await;
    seen.admin(&gw, "POST", vk, Some(json!({"name": "x", "provider": "azure-openai", "key": AZURE_SECRET}))).await;
    seen.admin(
        &gw,
        "POST",
        vk,
        Some(json!({"name": "x", "provider": "openai", "key": OPENAI_SECRET, "custom_host": OPENAI_SECRET})),
    )
    .await;
    seen.admin(
        &gw,
        "POST",
        vk,
        Some(
            json!({"name": "x", "provider": "openai", "key": OPENAI_SECRET, "resourceName": "r", "resource_name": "r"}),
        ),
    )
    .await;
    seen.admin(&gw, "PUT", &format!("{vk}/missing"), Some(json!({"key": OPENAI_SECRET}))).await;
    seen.admin(&gw, "PUT", &format!("{vk}/openai-live"), Some(json!({"key": ROTATED_SECRET, "provider": "nope"})))
        .await;
    let truncated = admin(&gw, "POST", vk, None).await;
    seen.0.push(("POST without a body".into(), truncated));

    // Every read route.
    seen.admin(&gw, "GET", vk, None).await;
    for slug in ["openai-live", "azure-live", "anthropic-live"] {
        let view = seen.admin(&gw, "GET", &format!("{vk}/{slug}"), None).await;
        assert!(view["masked_api_key"].as_str().is_some_and(|h| h.contains('…')), "{view}");
    }
    seen.admin(&gw, "PUT", &format!("{vk}/openai-live"), Some(json!({"key": ROTATED_SECRET, "note": "rotated"}))).await;
    seen.admin(&gw, "GET", &format!("{vk}/openai-live"), None).await;

    // Configs and API keys that name the keys.
    let config = json!({"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": "openai-live"},
        {"virtual_key": "azure-live"}, {"virtual_key": "anthropic-live",
         "override_params": {"max_tokens": 200, "model": "claude-3-opus-20240229"}}]});
    let created = seen.admin(&gw, "POST", "/v1/configs", Some(json!({"name": "all", "config": config}))).await;
    let slug = created["slug"].as_str().unwrap().to_string();
    for path in ["/v1/configs".to_string(), format!("/v1/configs/{slug}"), format!("/v1/configs/{slug}/versions")] {
        seen.admin(&gw, "GET", &path, None).await;
    }
    let api_key = json!({"name": "app", "scopes": ["gateway"], "allowed_virtual_keys": ["openai-live", "azure-live"]});
    seen.admin(&gw, "POST", "/v1/api-keys", Some(api_key)).await;
    seen.admin(&gw, "GET", "/v1/api-keys", None).await;

    // Requests through the keys: success, fallback after failures, and every target failing.
    assert_eq!(seen.chat(&gw, &slug).await, 200);
    openai.script(Script { status: Some(401), count: -1, ..Script::default() });
    azure.script(Script { status: Some(500), count: -1, ..Script::default() });
    assert_eq!(seen.chat(&gw, &slug).await, 200);
    anthropic.script(Script { status: Some(401), count: -1, ..Script::default() });
    assert_ne!(seen.chat(&gw, &slug).await, 200);
    let unreachable = json!({"virtual_key": "openai-live", "custom_host": "http://127.0.0.1:9/v1"}).to_string();
    assert_eq!(seen.chat(&gw, &unreachable).await, 502);

    // Deleting, and using what was deleted.
    seen.admin(&gw, "DELETE", &format!("{vk}/openai-live"), None).await;
    seen.admin(&gw, "DELETE", &format!("{vk}/openai-live"), None).await;
    assert_eq!(seen.chat(&gw, &slug).await, 400);

    let mut forbidden: Vec<String> =
        [OPENAI_SECRET, AZURE_SECRET, ANTHROPIC_SECRET, ROTATED_SECRET, MARKER].iter().map(|s| s.to_string()).collect();
    let ciphertexts = gw.state.control.store.all_virtual_key_ciphertexts().await.unwrap();
    forbidden.extend(ciphertexts.iter().map(|(_, c)| c.as_str().to_string()));
    assert!(seen.0.len() > 30, "{} answers checked", seen.0.len());
    seen.assert_clean(&forbidden);
    assert_eq!(azure.hits()[0]["headers"]["api-key"], AZURE_SECRET, "the provider itself did get the key");
}

//! Where secrets and requests may go: a virtual key's secret only to a destination an admin
//! chose, and every upstream address through the egress policy, refused before anything is
//! sent. "Nothing sent" is checked on the would-be destination: a mock that records every hit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;
mod common;

use std::time::Duration;

use admin_support::*;
use common::*;
use serde_json::json;
use switchboard::gateway::egress::EgressPolicy;
use switchboard::gateway::upstream::Upstream;

/// A gateway with an OpenAI virtual key whose stored host is `home`, a gateway-scoped API
/// key, and the virtual key's slug.
async fn setup(home: &MockProvider) -> (Gateway, String, String) {
    count_panics();
    let gw = gateway().await;
    let body = json!({"name": "prod-openai", "provider": "openai", "key": "sk-vault-secret-0123456789",
        "custom_host": format!("{}/v1", home.base_url())});
    let slug = create_virtual_key(&gw, body).await;
    let (_, key) = create_api_key(&gw, json!({"name": "app", "scope": "gateway"})).await;
    (gw, key, slug)
}

fn secret_reached(mock: &MockProvider) -> bool {
    mock.hits().iter().any(|hit| hit.to_string().contains("sk-vault-secret"))
}

#[tokio::test]
async fn a_gateway_key_cannot_send_a_virtual_keys_secret_to_its_own_host() {
    let (home, attacker) = (mock("home").await, mock("attacker").await);
    let (gw, key, vk) = setup(&home).await;
    let direct = json!({"virtual_key": vk, "custom_host": format!("{}/v1", attacker.base_url())});
    let answer = chat_as(&gw, &key, &direct.to_string()).await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    assert!(message(&answer).starts_with("config.custom_host: only an admin key"), "{}", message(&answer));
    let inherited = json!({"strategy": {"mode": "fallback"}, "custom_host": format!("{}/v1", attacker.base_url()),
        "targets": [{"provider": "openai", "api_key": "sk-mine"}, {"virtual_key": vk}]});
    let answer = chat_as(&gw, &key, &inherited.to_string()).await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    assert!(message(&answer).starts_with("config.custom_host:"), "{}", message(&answer));
    assert!(attacker.hits().is_empty() && home.hits().is_empty(), "nothing was sent anywhere");
    let logs = gw.logs().await;
    assert_eq!(logs.len(), 2, "refused before routing, and logged");
    assert!(logs.iter().all(|r| r.status == 403 && r.error_class.as_deref() == Some("forbidden")));
    assert_no_panics();
}

#[tokio::test]
async fn a_gateway_key_cannot_move_an_azure_virtual_key_with_resource_name() {
    let home = mock("home").await;
    let (gw, key, vk) = setup(&home).await;
    let config = json!({"virtual_key": vk, "resource_name": "attacker"});
    let answer = chat_as(&gw, &key, &config.to_string()).await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    assert!(message(&answer).starts_with("config.resource_name:"), "{}", message(&answer));
}

#[tokio::test]
async fn a_gateway_key_uses_virtual_keys_at_their_own_host_and_its_own_keys_anywhere() {
    let (home, own) = (mock("home").await, mock("own-host").await);
    let (gw, key, vk) = setup(&home).await;
    let answer = chat_as(&gw, &key, &json!({"virtual_key": vk}).to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(secret_reached(&home), "the key's own host got the secret");
    let inline =
        json!({"provider": "openai", "api_key": "sk-callers-own", "custom_host": format!("{}/v1", own.base_url())});
    let answer = chat_as(&gw, &key, &inline.to_string()).await;
    assert_eq!(answer.status, 200, "the caller's own secret may go to its own host: {}", answer.text);
}

#[tokio::test]
async fn admin_keys_and_saved_configs_may_choose_the_host() {
    let (home, chosen) = (mock("home").await, mock("admin-chosen").await);
    let (gw, key, vk) = setup(&home).await;
    let config = json!({"virtual_key": vk, "custom_host": format!("{}/v1", chosen.base_url())});
    let answer = chat_as(&gw, ADMIN_KEY, &config.to_string()).await;
    assert_eq!(answer.status, 200, "an admin's inline config: {}", answer.text);
    let saved = create_config(&gw, "admin-routed", config).await;
    chosen.clear();
    let answer = chat_as(&gw, &key, &saved).await;
    assert_eq!(answer.status, 200, "a saved config, written by an admin: {}", answer.text);
    assert!(secret_reached(&chosen));
    assert!(!secret_reached(&home));
}

async fn gateway_with_policy(policy: EgressPolicy) -> Gateway {
    count_panics();
    gateway_with_upstream(settings(), Upstream::with_policy(Duration::from_secs(2), policy).unwrap()).await
}

#[tokio::test]
async fn a_denied_ip_literal_is_refused_before_any_connection() {
    let provider = mock("loopback").await;
    let deny = vec!["127.0.0.1/32".parse().unwrap()];
    let gw = gateway_with_policy(EgressPolicy { deny, ..EgressPolicy::default() }).await;
    let answer = gw.chat(&target("openai", &provider), &chat_body()).await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    assert_eq!(answer.json()["error"]["code"], "egress_denied");
    assert!(message(&answer).contains("127.0.0.1"), "names the host: {}", message(&answer));
    assert!(provider.hits().is_empty());
    assert_eq!(gw.logs().await[0].error_class.as_deref(), Some("egress_denied"));
    assert_no_panics();
}

#[tokio::test]
async fn a_name_that_resolves_to_a_denied_address_is_refused() {
    let provider = mock("loopback").await;
    let gw = gateway_with_policy(EgressPolicy { deny_private: true, ..EgressPolicy::default() }).await;
    let host = format!("http://localhost:{}/v1", provider.addr().port());
    let config = json!({"provider": "openai", "api_key": "sk-1", "custom_host": host});
    let answer = gw.chat(&config, &chat_body()).await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    assert_eq!(answer.json()["error"]["code"], "egress_denied");
    assert!(message(&answer).contains("localhost"), "names the host: {}", message(&answer));
    assert!(provider.hits().is_empty());
    assert_no_panics();
}

#[tokio::test]
async fn the_default_policy_allows_loopback_for_local_models() {
    let provider = mock("local-model").await;
    let gw = gateway_with_policy(EgressPolicy::default()).await;
    let host = format!("http://localhost:{}/v1", provider.addr().port());
    let config = json!({"provider": "openai", "api_key": "sk-1", "custom_host": host});
    assert_eq!(gw.chat(&config, &chat_body()).await.status, 200);
}

//! The virtual-keys admin API: Portkey's shapes, snake_case and camelCase bodies, validation
//! that names the field at fault, and keys that route requests through the vault.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;
mod common;

use admin_support::*;
use common::*;
use serde_json::{json, Value};

/// Replaces the timestamps (checked to be ISO 8601) so the rest compares as a value.
fn without_times(mut value: Value) -> Value {
    for field in ["created_at", "last_updated_at"] {
        let text = value[field].as_str().unwrap_or_default();
        assert!(text.len() == 24 && text.ends_with('Z') && text.as_bytes()[10] == b'T', "{field}: {text:?}");
        value[field] = json!("<time>");
    }
    value
}

#[tokio::test]
async fn virtual_key_create_retrieve_list_update_delete_round_trip() {
    let gw = gateway().await;
    let body = json!({"name": "OpenAI prod", "provider": "openai", "key": "sk-proj-0123456789abcd", "note": "main"});
    let created = admin(&gw, "POST", "/v1/virtual-keys", Some(&body)).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let slug = created.json()["slug"].as_str().unwrap().to_string();
    let summary = json!({"id": slug, "slug": slug, "object": "virtual-key"});
    let mut envelope = json!({"success": true, "data": summary});
    envelope.as_object_mut().unwrap().extend(summary.as_object().unwrap().clone());
    assert_eq!(created.json(), envelope);

    let retrieved = admin(&gw, "GET", &format!("/v1/virtual-keys/{slug}"), None).await;
    assert_eq!(retrieved.status, 200);
    let expected = json!({"id": slug, "slug": slug, "name": "OpenAI prod", "ai_provider_name": "openai",
        "provider": "openai", "note": "main", "masked_api_key": "sk-…abcd", "model_config": {},
        "usage_limits": null, "rate_limits": null, "status": "active", "created_at": "<time>",
        "last_updated_at": "<time>", "object": "virtual-key"});
    assert_eq!(without_times(retrieved.json()), expected);

    let listed = admin(&gw, "GET", "/v1/virtual-keys", None).await.json();
    assert_eq!((listed["object"].clone(), listed["total"].clone()), (json!("list"), json!(1)));
    assert_eq!(without_times(listed["data"][0].clone()), expected);

    let update = json!({"name": "OpenAI main", "key": "sk-proj-9999999999wxyz", "note": null});
    let updated = admin(&gw, "PUT", &format!("/v1/virtual-keys/{slug}"), Some(&update)).await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.json()["data"], summary);
    let after = admin(&gw, "GET", &format!("/v1/virtual-keys/{slug}"), None).await.json();
    assert_eq!((after["name"].clone(), after["note"].clone()), (json!("OpenAI main"), Value::Null));
    assert_eq!(after["masked_api_key"], "sk-…wxyz");

    let deleted = admin(&gw, "DELETE", &format!("/v1/virtual-keys/{slug}"), None).await;
    assert_eq!((deleted.status, deleted.json()), (200, json!({"success": true, "data": {}})));
    assert_eq!(admin(&gw, "GET", &format!("/v1/virtual-keys/{slug}"), None).await.status, 404);
    let again = admin(&gw, "DELETE", &format!("/v1/virtual-keys/{slug}"), None).await;
    assert_eq!(again.status, 404);
    assert_eq!(message(&again), format!("virtual key \"{slug}\" does not exist"));
}

#[tokio::test]
async fn camel_case_and_snake_case_bodies_store_the_same_options() {
    let gw = gateway().await;
    let snake = json!({"name": "az", "provider": "azure-openai", "key": "az-key-0000000001",
        "resource_name": "res", "deployment_name": "gpt35", "api_version": "2024-02-01",
        "usage_limits": {"credit_limit": 10}, "rate_limits": [{"type": "requests", "unit": "rpm", "value": 60}]});
    let camel = json!({"name": "az", "provider": "azure-openai", "key": "az-key-0000000001",
        "resourceName": "res", "deploymentName": "gpt35", "apiVersion": "2024-02-01",
        "usageLimits": {"credit_limit": 10}, "rateLimits": [{"type": "requests", "unit": "rpm", "value": 60}]});
    let mut views = Vec::new();
    for body in [snake, camel] {
        let slug = create_virtual_key(&gw, body).await;
        let view = admin(&gw, "GET", &format!("/v1/virtual-keys/{slug}"), None).await.json();
        views.push(json!([view["model_config"], view["usage_limits"], view["rate_limits"]]));
    }
    assert_eq!(views[0], views[1]);
    let model_config = json!({"resource_name": "res", "deployment_id": "gpt35", "api_version": "2024-02-01"});
    assert_eq!(views[0][0], model_config);
    assert_eq!(views[0][1], json!({"credit_limit": 10}));
}

#[tokio::test]
async fn bad_virtual_key_names_every_field_at_fault() {
    let gw = gateway().await;
    let body = json!({"provider": "open-ai", "key": 42, "resouceName": "x"});
    let answer = admin(&gw, "POST", "/v1/virtual-keys", Some(&body)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.header("x-portkey-gateway-exception"), Some("true"));
    assert_eq!(answer.json()["error"]["type"], "invalid_request_error");
    let msg = message(&answer);
    for expected in [
        "virtual_key.name: required (a display name)",
        "virtual_key.provider: unknown provider \"open-ai\" (expected one of openai, azure-openai, anthropic",
        "virtual_key.key: expected a string, got a number",
        "virtual_key.resouceName: unknown field (expected one of slug, name, provider, key, note, custom_host, resource_name",
    ] {
        assert!(msg.contains(expected), "missing {expected:?} in {msg}");
    }
    assert!(!msg.contains("42"), "the key's value is never echoed: {msg}");
    assert!(admin(&gw, "GET", "/v1/virtual-keys", None).await.json()["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn every_provider_but_ollama_needs_a_key() {
    let gw = gateway().await;
    let answer = admin(&gw, "POST", "/v1/virtual-keys", Some(&json!({"name": "o", "provider": "openai"}))).await;
    assert_eq!(answer.status, 400);
    assert!(message(&answer).starts_with("virtual_key.key: required"), "{}", message(&answer));
    create_virtual_key(&gw, json!({"name": "local", "provider": "ollama"})).await;
}

#[tokio::test]
async fn azure_needs_resource_deployment_and_version() {
    let gw = gateway().await;
    let body = json!({"name": "az", "provider": "azure-openai", "key": "az-key-0000000001"});
    let msg = message(&admin(&gw, "POST", "/v1/virtual-keys", Some(&body)).await);
    // The option's name, not the SDK's alias for it (`deployment_name`), is the path.
    for field in ["resource_name", "deployment_id", "api_version"] {
        assert!(msg.contains(&format!("virtual_key.{field}: required for provider \"azure-openai\"")), "{msg}");
    }
    let foreign = json!({"name": "o", "provider": "openai", "key": "sk-0000000000000001", "resourceName": "r"});
    let msg = message(&admin(&gw, "POST", "/v1/virtual-keys", Some(&foreign)).await);
    assert!(msg.contains("virtual_key.resource_name: only used by provider \"azure-openai\""), "{msg}");
}

#[tokio::test]
async fn chosen_slug_must_be_lowercase_and_unique() {
    let gw = gateway().await;
    let body = |slug: &str| json!({"slug": slug, "name": "o", "provider": "openai", "key": "sk-0000000000000001"});
    let bad = admin(&gw, "POST", "/v1/virtual-keys", Some(&body("My Key"))).await;
    assert_eq!(bad.status, 400);
    assert_eq!(message(&bad), "virtual_key.slug: expected 1 to 64 lowercase letters, digits or '-'");
    assert_eq!(create_virtual_key(&gw, body("prod-openai")).await, "prod-openai");
    let taken = admin(&gw, "POST", "/v1/virtual-keys", Some(&body("prod-openai"))).await;
    assert_eq!(taken.status, 409);
    assert_eq!(message(&taken), "virtual key \"prod-openai\" already exists");
}

#[tokio::test]
async fn generated_slug_is_the_name_and_six_hex_digits() {
    let gw = gateway().await;
    let slug = create_virtual_key(
        &gw,
        json!({"name": "My Anthropic Key", "provider": "anthropic", "key": "sk-ant-000000000001"}),
    )
    .await;
    let (name, suffix) = slug.rsplit_once('-').unwrap();
    assert_eq!(name, "my-anthropic-key");
    assert!(suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_hexdigit()), "{slug}");
}

#[tokio::test]
async fn updating_a_missing_key_is_404_and_the_slug_cannot_change() {
    let gw = gateway().await;
    let missing = admin(&gw, "PUT", "/v1/virtual-keys/nope", Some(&json!({"name": "x"}))).await;
    assert_eq!(missing.status, 404);
    let slug = create_virtual_key(&gw, json!({"name": "o", "provider": "openai", "key": "sk-0000000000000001"})).await;
    let moved = admin(&gw, "PUT", &format!("/v1/virtual-keys/{slug}"), Some(&json!({"slug": "other"}))).await;
    assert_eq!(moved.status, 400);
    assert!(message(&moved).starts_with("virtual_key.slug: cannot be changed"), "{}", message(&moved));
}

#[tokio::test]
async fn azure_key_with_a_default_deployment_routes_through_the_vault() {
    let (gw, azure) = (gateway().await, mock("azure").await);
    let body = json!({"name": "az", "provider": "azure-openai", "key": "az-secret-000000000042",
        "customHost": format!("{}/openai", azure.base_url()),
        "deployment_config": [{"deploymentName": "old", "apiVersion": "2023-05-15"},
                              {"deploymentName": "gpt35", "apiVersion": "2024-02-01", "is_default": true}]});
    let slug = create_virtual_key(&gw, body).await;
    let answer = chat_as(&gw, ADMIN_KEY, &json!({"virtual_key": slug}).to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let hit = &azure.hits()[0];
    assert_eq!(hit["path"], "/openai/deployments/gpt35/chat/completions");
    assert_eq!(hit["query"], "api-version=2024-02-01");
    assert_eq!(hit["headers"]["api-key"], "az-secret-000000000042");
}

#[tokio::test]
async fn updated_secret_is_used_by_the_next_request() {
    let (gw, openai) = (gateway().await, mock("openai").await);
    let slug = openai_key(&gw, &openai, "sk-first-000000000001").await;
    let config = json!({"virtual_key": slug}).to_string();
    assert_eq!(chat_as(&gw, ADMIN_KEY, &config).await.status, 200);
    let update = json!({"key": "sk-second-00000000002"});
    assert_eq!(admin(&gw, "PUT", &format!("/v1/virtual-keys/{slug}"), Some(&update)).await.status, 200);
    assert_eq!(chat_as(&gw, ADMIN_KEY, &config).await.status, 200);
    let keys: Vec<Value> = openai.hits().iter().map(|h| h["headers"]["authorization"].clone()).collect();
    assert_eq!(keys, vec![json!("Bearer sk-first-000000000001"), json!("Bearer sk-second-00000000002")]);
}

//! The configs admin API: saved configs checked by the inline-config validator, versioned on
//! every change, and routed by ID (`x-portkey-config: pc-…`) with `virtual_key` targets whose
//! secrets come from the vault. Writes take effect on the next request, without a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;
mod common;

use admin_support::*;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn config_create_retrieve_update_versions_delete_round_trip() {
    let gw = gateway().await;
    let v1 = json!({"provider": "openai", "api_key": "sk-inline"});
    let created = admin(&gw, "POST", "/v1/configs", Some(&json!({"name": "Prod Router", "config": v1}))).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let slug = created.json()["slug"].as_str().unwrap().to_string();
    assert!(slug.starts_with("pc-prod-router-") && slug.len() == "pc-prod-router-".len() + 6, "{slug}");
    let data = json!({"id": slug, "slug": slug, "version": 1, "version_id": format!("{slug}@1"), "object": "config"});
    assert_eq!(created.json()["data"], data);
    assert_eq!((created.json()["success"].clone(), created.json()["id"].clone()), (json!(true), json!(slug)));

    let mut got = admin(&gw, "GET", &format!("/v1/configs/{slug}"), None).await.json();
    for field in ["created_at", "last_updated_at"] {
        assert!(got[field].as_str().unwrap().ends_with('Z'));
        got[field] = json!("<time>");
    }
    let expected = json!({"id": slug, "slug": slug, "name": "Prod Router", "config": v1, "version": 1,
        "version_id": format!("{slug}@1"), "status": "active", "created_at": "<time>", "last_updated_at": "<time>",
        "object": "config"});
    assert_eq!(got, expected);

    let v2 = json!({"strategy": {"mode": "fallback"}, "targets": [v1, {"provider": "anthropic", "api_key": "sk-ant"}]});
    let update = json!({"slug": slug, "config": v2});
    let updated = admin(&gw, "PUT", &format!("/v1/configs/{slug}"), Some(&update)).await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.json()["version"], 2);
    let renamed = admin(&gw, "PUT", &format!("/v1/configs/{slug}"), Some(&json!({"name": "Router"}))).await;
    assert_eq!(renamed.json()["version"], 2, "a rename alone keeps the version");

    let versions = admin(&gw, "GET", &format!("/v1/configs/{slug}/versions"), None).await.json();
    assert_eq!(versions["total"], 2);
    let summary: Vec<Value> =
        versions["data"].as_array().unwrap().iter().map(|v| json!([v["version"], v["current"], v["config"]])).collect();
    assert_eq!(summary, vec![json!([1, false, v1]), json!([2, true, v2])]);

    let listed = admin(&gw, "GET", "/v1/configs", None).await.json();
    assert_eq!((listed["object"].clone(), listed["total"].clone()), (json!("list"), json!(1)));
    assert_eq!((listed["data"][0]["name"].clone(), listed["data"][0]["config"].clone()), (json!("Router"), v2));

    let deleted = admin(&gw, "DELETE", &format!("/v1/configs/{slug}"), None).await;
    assert_eq!((deleted.status, deleted.json()), (200, json!({"success": true, "data": {}})));
    for (method, path) in [
        ("GET", format!("/v1/configs/{slug}")),
        ("GET", format!("/v1/configs/{slug}/versions")),
        ("DELETE", format!("/v1/configs/{slug}")),
        ("PUT", format!("/v1/configs/{slug}")),
    ] {
        let answer = admin(&gw, method, &path, Some(&json!({"name": "x"}))).await;
        assert_eq!(answer.status, 404, "{method} {path}");
        assert_eq!(message(&answer), format!("config \"{slug}\" does not exist"));
    }
}

#[tokio::test]
async fn config_may_be_sent_as_a_json_string() {
    let gw = gateway().await;
    let text = json!({"provider": "openai", "api_key": "k"}).to_string();
    let slug = create_config(&gw, "text", Value::String(text)).await;
    let got = admin(&gw, "GET", &format!("/v1/configs/{slug}"), None).await.json();
    assert_eq!(got["config"], json!({"provider": "openai", "api_key": "k"}));
    let bad = admin(&gw, "POST", "/v1/configs", Some(&json!({"name": "x", "config": "{not json"}))).await;
    assert_eq!(bad.status, 400);
    assert!(message(&bad).starts_with("config: invalid JSON"), "{}", message(&bad));
}

#[tokio::test]
async fn invalid_config_reports_every_error_with_its_path() {
    let gw = gateway().await;
    let config = json!({"strategy": {"mode": "loadbalance"}, "targets": [
        {"provider": "openai", "api_key": "k"},
        {"provider": "openai", "api_key": "k", "weight": -1},
        {"strategy": {"mode": "roundrobin"}, "targets": [{"provider": "openai", "api_key": "k"}]}]});
    let answer = admin(&gw, "POST", "/v1/configs", Some(&json!({"name": "bad", "config": config}))).await;
    assert_eq!(answer.status, 400);
    let msg = message(&answer);
    assert!(msg.contains("config.targets[1].weight: expected a number ≥ 0, got -1"), "{msg}");
    assert!(msg.contains("config.targets[2].strategy.mode: unknown mode \"roundrobin\""), "{msg}");
    let missing = admin(&gw, "POST", "/v1/configs", Some(&json!({"config": {"provider": "openai"}}))).await;
    assert_eq!(message(&missing), "name: required (a display name)");
    assert!(admin(&gw, "GET", "/v1/configs", None).await.json()["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn virtual_keys_named_by_a_config_must_exist() {
    let (gw, openai) = (gateway().await, mock("openai").await);
    let slug = openai_key(&gw, &openai, "sk-0000000000000001").await;
    let config = json!({"strategy": {"mode": "fallback"}, "targets": [{"virtual_key": slug}, {"virtual_key": "nope"}]});
    let answer = admin(&gw, "POST", "/v1/configs", Some(&json!({"name": "c", "config": config}))).await;
    assert_eq!(answer.status, 400);
    assert_eq!(message(&answer), "config.targets[1].virtual_key: virtual key \"nope\" does not exist");
}

#[tokio::test]
async fn is_default_is_refused_and_unknown_fields_too() {
    let gw = gateway().await;
    let body =
        json!({"name": "c", "config": {"provider": "openai"}, "isDefault": 1, "workspace_id": "ws", "cache": {}});
    let msg = message(&admin(&gw, "POST", "/v1/configs", Some(&body)).await);
    assert!(msg.contains("is_default: not supported by Switchboard"), "{msg}");
    assert!(msg.contains("cache: unknown field"), "{msg}");
    assert!(!msg.contains("workspace_id:"), "workspace_id is accepted: {msg}");
}

#[tokio::test]
async fn saved_config_routes_by_id_with_virtual_key_targets() {
    let (gw, openai, anthropic) = (gateway().await, mock("openai").await, mock("anthropic").await);
    openai.script(Script { status: Some(503), count: -1, ..Script::default() });
    let openai_slug = openai_key(&gw, &openai, "sk-openai-vault-0001").await;
    let anthropic_slug = create_virtual_key(
        &gw,
        json!({"name": "claude", "provider": "anthropic",
        "key": "sk-ant-vault-00000002", "anthropic_version": "2023-06-01"}),
    )
    .await;
    let config = json!({"strategy": {"mode": "fallback"}, "targets": [
        {"virtual_key": openai_slug},
        {"virtual_key": anthropic_slug, "custom_host": format!("{}/v1", anthropic.base_url()),
         "override_params": {"max_tokens": 200, "model": "claude-3-opus-20240229"}}]});
    let config_slug = create_config(&gw, "fallback", config).await;

    let answer = chat_as(&gw, ADMIN_KEY, &config_slug).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json()["choices"][0]["message"]["content"],
        "Hello from anthropic serving claude-3-opus-20240229"
    );
    assert_eq!(answer.header("x-portkey-last-used-option-index"), Some("config.targets[1]"));
    assert_eq!(openai.hits()[0]["headers"]["authorization"], "Bearer sk-openai-vault-0001");
    let hit = &anthropic.hits()[0];
    assert_eq!(hit["headers"]["x-api-key"], "sk-ant-vault-00000002");
    assert_eq!(hit["headers"]["anthropic-version"], "2023-06-01");
}

#[tokio::test]
async fn config_update_takes_effect_on_the_next_request() {
    let (gw, a, b) = (gateway().await, mock("a").await, mock("b").await);
    let (key_a, key_b) =
        (openai_key(&gw, &a, "sk-a-00000000000001").await, openai_key(&gw, &b, "sk-b-00000000000002").await);
    let slug = create_config(&gw, "switch", json!({"virtual_key": key_a})).await;
    assert_eq!(chat_as(&gw, ADMIN_KEY, &slug).await.status, 200);
    let update = json!({"config": {"virtual_key": key_b}});
    assert_eq!(admin(&gw, "PUT", &format!("/v1/configs/{slug}"), Some(&update)).await.status, 200);
    let answer = chat_as(&gw, ADMIN_KEY, &slug).await;
    assert_eq!(answer.json()["choices"][0]["message"]["content"], "Hello from b serving gpt-3.5-turbo");
    assert_eq!((a.hits().len(), b.hits().len()), (1, 1));
}

#[tokio::test]
async fn deleting_a_virtual_key_makes_the_next_request_a_400_naming_it() {
    let (gw, openai) = (gateway().await, mock("openai").await);
    let key = openai_key(&gw, &openai, "sk-0000000000000001").await;
    let slug =
        create_config(&gw, "one", json!({"strategy": {"mode": "single"}, "targets": [{"virtual_key": key}]})).await;
    assert_eq!(chat_as(&gw, ADMIN_KEY, &slug).await.status, 200);
    assert_eq!(admin(&gw, "DELETE", &format!("/v1/virtual-keys/{key}"), None).await.status, 200);
    let answer = chat_as(&gw, ADMIN_KEY, &slug).await;
    assert_eq!(answer.status, 400);
    assert_eq!(message(&answer), format!("config.targets[0].virtual_key: virtual key \"{key}\" does not exist"));
    assert_eq!(openai.hits().len(), 1);
}

#[tokio::test]
async fn unknown_saved_config_is_a_400_naming_it() {
    let gw = gateway().await;
    let answer = chat_as(&gw, ADMIN_KEY, "pc-missing-000000").await;
    assert_eq!(answer.status, 400);
    assert!(message(&answer).contains("saved config \"pc-missing-000000\" does not exist"), "{}", message(&answer));
}

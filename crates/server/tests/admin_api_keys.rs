//! API keys and who may use the admin API: every admin route is 401 without a key, 403 with a
//! gateway-scope key and open to admin keys; gateway keys do inference, limited to their
//! allowed configs when they have some; a revoked key is refused at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;
mod common;

use admin_support::*;
use common::*;
use serde_json::{json, Value};

/// Every admin route, on resources that exist, with a body where it takes one, and what an
/// admin gets. Deletions come last in their group.
fn admin_routes(vk: &str, config: &str, doomed_key: &str) -> Vec<(&'static str, String, Option<Value>, u16)> {
    let vk_body = json!({"name": "o", "provider": "openai", "key": "sk-0000000000000001"});
    let config_body = json!({"name": "c", "config": {"provider": "openai"}});
    let api_key = json!({"name": "k", "scopes": ["gateway"]});
    vec![
        ("POST", "/v1/virtual-keys".into(), Some(vk_body.clone()), 200),
        ("GET", "/v1/virtual-keys".into(), None, 200),
        ("GET", format!("/v1/virtual-keys/{vk}"), None, 200),
        ("PUT", format!("/v1/virtual-keys/{vk}"), Some(vk_body), 200),
        ("DELETE", format!("/v1/virtual-keys/{vk}"), None, 200),
        ("POST", "/v1/configs".into(), Some(config_body.clone()), 200),
        ("GET", "/v1/configs".into(), None, 200),
        ("GET", format!("/v1/configs/{config}"), None, 200),
        ("PUT", format!("/v1/configs/{config}"), Some(config_body), 200),
        ("GET", format!("/v1/configs/{config}/versions"), None, 200),
        ("GET", format!("/v1/configs/{config}/diff?from=1&to=1"), None, 200),
        ("POST", "/v1/configs/validate".into(), Some(json!({"config": {"provider": "openai"}})), 200),
        ("DELETE", format!("/v1/configs/{config}"), None, 200),
        ("POST", "/v1/api-keys".into(), Some(api_key.clone()), 200),
        ("POST", "/v1/api-keys/organisation/service".into(), Some(api_key), 200),
        ("GET", "/v1/api-keys".into(), None, 200),
        ("GET", format!("/v1/api-keys/{doomed_key}"), None, 200),
        ("PUT", format!("/v1/api-keys/{doomed_key}"), Some(json!({"name": "k"})), 200),
        ("DELETE", format!("/v1/api-keys/{doomed_key}"), None, 200),
    ]
}

#[tokio::test]
async fn every_admin_route_is_401_without_a_key_403_for_gateway_keys_and_open_to_admins() {
    let gw = gateway().await;
    let (_, gateway_key) = create_api_key(&gw, json!({"name": "app", "scopes": ["gateway"]})).await;
    let (_, admin_key) = create_api_key(&gw, json!({"name": "ops", "scope": "admin"})).await;
    let (doomed, _) = create_api_key(&gw, json!({"name": "doomed", "scopes": ["gateway"]})).await;
    let vk = create_virtual_key(&gw, json!({"name": "o", "provider": "openai", "key": "sk-0000000000000001"})).await;
    let config = create_config(&gw, "c", json!({"provider": "openai"})).await;
    let admins = [ADMIN_KEY, admin_key.as_str()];
    for (i, (method, path, body, admin_status)) in admin_routes(&vk, &config, &doomed).into_iter().enumerate() {
        let none = call(&gw, method, &path, None, body.as_ref()).await;
        assert_eq!(none.status, 401, "{method} {path} without a key: {}", none.text);
        assert_eq!(none.json()["error"]["type"], "authentication_error");
        let wrong = call(&gw, method, &path, Some("sb-not-a-key"), body.as_ref()).await;
        assert_eq!(wrong.status, 401, "{method} {path} with a bad key");
        let gateway_only = call(&gw, method, &path, Some(&gateway_key), body.as_ref()).await;
        assert_eq!(gateway_only.status, 403, "{method} {path} with a gateway key: {}", gateway_only.text);
        assert_eq!(gateway_only.json()["error"]["type"], "permission_error");
        // The bootstrap admin key and an admin-scope API key take turns.
        let allowed = call(&gw, method, &path, Some(admins[i % 2]), body.as_ref()).await;
        assert_eq!(allowed.status, admin_status, "{method} {path} as admin: {}", allowed.text);
    }
}

#[tokio::test]
async fn api_key_is_shown_once_and_listed_by_its_hint() {
    let gw = gateway().await;
    let created = admin(&gw, "POST", "/v1/api-keys", Some(&json!({"name": "app", "scopes": ["gateway"]}))).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let body = created.json();
    let (id, key) = (body["id"].as_str().unwrap(), body["key"].as_str().unwrap());
    assert!(key.starts_with("sb-") && key.len() == 35 && key[3..].bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    assert_eq!((body["success"].clone(), body["data"]["key"].clone()), (json!(true), json!(key)));
    let hint = format!("sb-…{}", &key[key.len() - 4..]);

    let listed = admin(&gw, "GET", "/v1/api-keys", None).await;
    assert!(!listed.text.contains(key), "the key is never listed");
    let mut item = listed.json()["data"][0].clone();
    assert!(item["created_at"].as_str().unwrap().ends_with('Z'));
    item["created_at"] = json!("<time>");
    let expected = json!({"id": id, "name": "app", "scope": "gateway", "scopes": ["gateway"], "masked_api_key": hint,
        "allowed_configs": [], "allowed_virtual_keys": [], "default_config": null, "defaults": null,
        "rate_limits": null, "usage_limits": null,
        "status": "active", "created_at": "<time>", "revoked_at": null, "object": "api-key"});
    assert_eq!(item, expected);
    let retrieved = admin(&gw, "GET", &format!("/v1/api-keys/{id}"), None).await;
    assert_eq!(retrieved.json()["id"], id);
    assert!(!retrieved.text.contains(key));
    assert_eq!(admin(&gw, "GET", "/v1/api-keys/nope", None).await.status, 404);
}

#[tokio::test]
async fn gateway_key_may_do_inference() {
    let (gw, openai) = (gateway().await, mock("openai").await);
    let (_, key) = create_api_key(&gw, json!({"name": "app", "scopes": ["gateway"]})).await;
    let answer = chat_as(&gw, &key, &target("openai", &openai).to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(openai.hits()[0]["headers"].get("x-portkey-api-key").is_none());
}

#[tokio::test]
async fn allowed_configs_limit_a_gateway_key_to_them() {
    let (gw, openai) = (gateway().await, mock("openai").await);
    let vk = openai_key(&gw, &openai, "sk-0000000000000001").await;
    let allowed = create_config(&gw, "allowed", json!({"virtual_key": vk})).await;
    let other = create_config(&gw, "other", json!({"virtual_key": vk})).await;
    let (_, key) =
        create_api_key(&gw, json!({"name": "app", "scopes": ["gateway"], "allowed_configs": [allowed]})).await;
    assert_eq!(chat_as(&gw, &key, &allowed).await.status, 200);
    let refused = chat_as(&gw, &key, &other).await;
    assert_eq!(refused.status, 403);
    assert!(message(&refused).contains(&format!("may not use config \"{other}\"")), "{}", message(&refused));
    assert_eq!(chat_as(&gw, &key, &json!({"virtual_key": vk}).to_string()).await.status, 403);
    assert_eq!(openai.hits().len(), 1);
}

#[tokio::test]
async fn default_config_routes_requests_that_name_none() {
    let (gw, openai) = (gateway().await, mock("openai").await);
    let vk = openai_key(&gw, &openai, "sk-0000000000000001").await;
    let config = create_config(&gw, "default", json!({"virtual_key": vk})).await;
    let body = json!({"type": "organisation", "sub-type": "service", "name": "app", "scopes": ["gateway"],
        "defaults": {"config_id": config}});
    let created = admin(&gw, "POST", "/v1/api-keys/organisation/service", Some(&body)).await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(created.json()["data"]["default_config"], json!(config));
    let key = created.json()["key"].as_str().unwrap().to_string();
    let headers = vec![("x-portkey-api-key", key)];
    let answer = gw.post("/v1/chat/completions", &headers, chat_body().to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(openai.hits().len(), 1);
}

#[tokio::test]
async fn revoked_key_is_refused_at_once() {
    let gw = gateway().await;
    let (id, key) = create_api_key(&gw, json!({"name": "ops", "scopes": ["admin"]})).await;
    assert_eq!(call(&gw, "GET", "/v1/configs", Some(&key), None).await.status, 200, "the key is now cached as live");
    let revoked = admin(&gw, "DELETE", &format!("/v1/api-keys/{id}"), None).await;
    assert_eq!((revoked.status, revoked.json()), (200, json!({"success": true, "data": {}})));
    let after = call(&gw, "GET", "/v1/configs", Some(&key), None).await;
    assert_eq!(after.status, 401, "{}", after.text);
    let listed = admin(&gw, "GET", "/v1/api-keys", None).await.json();
    assert_eq!(listed["data"][0]["status"], "revoked");
    assert!(listed["data"][0]["revoked_at"].as_str().is_some());
    let again = admin(&gw, "DELETE", &format!("/v1/api-keys/{id}"), None).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn bad_api_key_bodies_name_each_field() {
    let gw = gateway().await;
    let cases = [
        (json!({"name": "k"}), "api_key.scopes: required ([\"admin\"] or [\"gateway\"])"),
        (json!({"name": "k", "scopes": ["logs.view"]}), "api_key.scopes[0]: unknown scope \"logs.view\""),
        (
            json!({"name": "k", "scopes": ["admin"], "allowed_configs": ["pc-x"]}),
            "api_key.allowed_configs: only used by scope \"gateway\"",
        ),
        (
            json!({"name": "k", "scopes": ["gateway"], "allowed_configs": ["pc-x"]}),
            "api_key.allowed_configs[0]: config \"pc-x\" does not exist",
        ),
        (
            json!({"name": "k", "scopes": ["gateway"], "allowed_virtual_keys": ["vk"]}),
            "api_key.allowed_virtual_keys[0]: virtual key \"vk\" does not exist",
        ),
        (
            json!({"name": "k", "scopes": ["gateway"], "default_config": "pc-x"}),
            "api_key.default_config: config \"pc-x\" does not exist",
        ),
        (json!({"name": "k", "scopes": ["gateway"], "expires_at": "2030-01-01"}), "api_key.expires_at: not supported"),
        (json!({"scopes": ["gateway"]}), "api_key.name: required"),
    ];
    for (body, expected) in cases {
        let answer = admin(&gw, "POST", "/v1/api-keys", Some(&body)).await;
        assert_eq!(answer.status, 400, "{body}");
        assert!(message(&answer).contains(expected), "{body}: {}", message(&answer));
    }
    assert!(admin(&gw, "GET", "/v1/api-keys", None).await.json()["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn default_config_must_be_one_of_the_allowed_ones() {
    let gw = gateway().await;
    let (a, b) = (
        create_config(&gw, "a", json!({"provider": "openai"})).await,
        create_config(&gw, "b", json!({"provider": "openai"})).await,
    );
    let body = json!({"name": "k", "scopes": ["gateway"], "allowed_configs": [a], "default_config": b});
    let answer = admin(&gw, "POST", "/v1/api-keys", Some(&body)).await;
    assert_eq!(message(&answer), format!("api_key.default_config: \"{b}\" is not one of allowed_configs"));
}

#[tokio::test]
async fn api_key_edits_change_what_it_may_do_and_never_the_key() {
    let gw = gateway().await;
    let (a, b) = (
        create_config(&gw, "a", json!({"provider": "openai"})).await,
        create_config(&gw, "b", json!({"provider": "openai"})).await,
    );
    let (id, key) = create_api_key(&gw, json!({"name": "k", "scopes": ["gateway"], "allowed_configs": [a]})).await;
    assert_eq!(chat_as(&gw, &key, &b).await.status, 403, "b is not allowed yet");
    let patch = json!({"name": "renamed", "allowedConfigs": [a, b], "rate_limits": [{"type": "requests", "unit": "rpm", "value": 60}]});
    let answer = admin(&gw, "PUT", &format!("/v1/api-keys/{id}"), Some(&patch)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!((body["name"].clone(), body["allowed_configs"].clone()), (json!("renamed"), json!([a, b])));
    assert_eq!(body["rate_limits"][0]["value"], 60);
    assert!(!answer.text.contains(&key) && body.get("key").is_none(), "the key is not shown again");
    assert_ne!(chat_as(&gw, &key, &b).await.status, 403, "the same key may now use b");

    // The key as edited is checked like a new one, and nothing is stored when it fails.
    let bad = admin(&gw, "PUT", &format!("/v1/api-keys/{id}"), Some(&json!({"scope": "admin"}))).await;
    assert_eq!(bad.status, 400);
    assert!(message(&bad).contains("api_key.allowed_configs: only used by scope \"gateway\""), "{}", message(&bad));
    let stored = admin(&gw, "GET", &format!("/v1/api-keys/{id}"), None).await.json();
    assert_eq!(stored["scope"], "gateway");
    let unknown = admin(&gw, "PUT", &format!("/v1/api-keys/{id}"), Some(&json!({"colour": "red"}))).await;
    assert!(message(&unknown).starts_with("api_key.colour"), "{}", message(&unknown));

    admin(&gw, "DELETE", &format!("/v1/api-keys/{id}"), None).await;
    let revoked = admin(&gw, "PUT", &format!("/v1/api-keys/{id}"), Some(&json!({"name": "x"}))).await;
    assert_eq!(revoked.status, 404, "a revoked key cannot be edited back to life");
}

//! Control plane on both backends: virtual keys, versioned configs, API keys and the change generation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{json, Map};
use switchboard_store::{
    hash_api_key, hint, ApiKeyScope, NewApiKey, NewVirtualKey, Store, StoreError, VirtualKeyUpdate,
};

use common::vault;

fn new_virtual_key(slug: &str, secret: &str) -> NewVirtualKey {
    NewVirtualKey {
        slug: slug.to_owned(),
        name: format!("{slug} name"),
        provider: "openai".to_owned(),
        secret: vault(1).seal(secret).unwrap(),
        options: Map::from_iter([("base_url".to_owned(), json!("https://example.test/v1"))]),
        note: Some("team a".to_owned()),
    }
}

fn new_api_key(key: &str, scope: ApiKeyScope) -> NewApiKey {
    NewApiKey {
        name: "ci".to_owned(),
        key_hash: hash_api_key(key),
        hint: hint(key),
        scope,
        allowed_configs: vec!["cfg-a".to_owned()],
        allowed_virtual_keys: vec!["vk-a".to_owned(), "vk-b".to_owned()],
        default_config: Some("cfg-a".to_owned()),
        rate_limits: Some(serde_json::json!([{"type": "requests", "unit": "rpm", "value": 5}])),
        usage_limits: None,
    }
}

on_both_backends!(
    virtual_key_crud_round_trips,
    virtual_key_slug_conflict_is_reported,
    virtual_key_ciphertext_never_equals_plaintext,
    virtual_key_changes_to_missing_slugs_report_absence,
    config_update_appends_a_version_and_keeps_old_ones_readable,
    config_rename_or_equal_json_keeps_the_version,
    config_slug_conflict_is_reported,
    config_delete_removes_every_version,
    concurrent_config_updates_get_distinct_versions,
    api_key_is_found_by_hash_and_revocation_sticks,
    api_key_hash_conflict_is_reported,
    generation_bumps_on_every_control_plane_write,
    generation_stays_on_reads_no_ops_and_log_writes,
);

async fn virtual_key_crud_round_trips(store: &Store) {
    let created = store.create_virtual_key(&new_virtual_key("openai-prod", "sk-proj-0123456789abcdef")).await.unwrap();
    assert_eq!(created.secret_hint, "sk-…cdef");
    assert_eq!(store.get_virtual_key("openai-prod").await.unwrap(), Some(created.clone()));
    store.create_virtual_key(&new_virtual_key("anthropic", "sk-ant-0123456789abcdef")).await.unwrap();
    let slugs: Vec<_> = store.list_virtual_keys().await.unwrap().into_iter().map(|vk| vk.slug).collect();
    assert_eq!(slugs, ["anthropic", "openai-prod"]);

    let update = VirtualKeyUpdate {
        name: Some("renamed".to_owned()),
        secret: Some(vault(1).seal("sk-proj-rotated-secret-9999").unwrap()),
        options: Some(Map::new()),
        note: Some(None),
        ..VirtualKeyUpdate::default()
    };
    let updated = store.update_virtual_key("openai-prod", &update).await.unwrap().unwrap();
    assert_eq!((updated.name.as_str(), updated.note.as_deref()), ("renamed", None));
    assert_eq!(updated.provider, "openai");
    assert_eq!(updated.options, Map::new());
    assert_eq!(vault(1).decrypt(&updated.secret).unwrap().expose(), "sk-proj-rotated-secret-9999");
    assert_eq!(store.get_virtual_key("openai-prod").await.unwrap(), Some(updated));

    assert!(store.delete_virtual_key("openai-prod").await.unwrap());
    assert_eq!(store.get_virtual_key("openai-prod").await.unwrap(), None);
    assert_eq!(store.list_virtual_keys().await.unwrap().len(), 1);
}

async fn virtual_key_slug_conflict_is_reported(store: &Store) {
    store.create_virtual_key(&new_virtual_key("dup", "sk-first-0123456789")).await.unwrap();
    let err = store.create_virtual_key(&new_virtual_key("dup", "sk-second-0123456789")).await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict { key, .. } if key == "dup"), "{err:?}");
    assert!(err.is_client_error());
    let kept = store.get_virtual_key("dup").await.unwrap().unwrap();
    assert_eq!(vault(1).decrypt(&kept.secret).unwrap().expose(), "sk-first-0123456789");
}

async fn virtual_key_ciphertext_never_equals_plaintext(store: &Store) {
    let secret = "sk-proj-plaintext-must-not-be-stored";
    store.create_virtual_key(&new_virtual_key("vk", secret)).await.unwrap();
    let stored = store.all_virtual_key_ciphertexts().await.unwrap();
    assert_eq!(stored.len(), 1);
    let (slug, ciphertext) = &stored[0];
    assert_eq!(slug, "vk");
    assert_ne!(ciphertext.as_str(), secret);
    assert!(!ciphertext.as_str().contains(secret));
    assert_eq!(vault(1).decrypt(ciphertext).unwrap().expose(), secret);
    let record = store.get_virtual_key("vk").await.unwrap().unwrap();
    let listed = serde_json::to_value(&record).unwrap();
    assert!(listed.get("secret").is_none(), "the ciphertext is not serialised: {listed}");
}

async fn virtual_key_changes_to_missing_slugs_report_absence(store: &Store) {
    let update = VirtualKeyUpdate { name: Some("x".to_owned()), ..VirtualKeyUpdate::default() };
    assert_eq!(store.update_virtual_key("missing", &update).await.unwrap(), None);
    assert_eq!(store.update_virtual_key("missing", &VirtualKeyUpdate::default()).await.unwrap(), None);
    assert!(!store.delete_virtual_key("missing").await.unwrap());
}

async fn config_update_appends_a_version_and_keeps_old_ones_readable(store: &Store) {
    let v1 = store.create_config("support", "Support", r#"{"strategy":{"mode":"single"}}"#).await.unwrap();
    assert_eq!(v1.version, 1);
    let v2 = store.update_config("support", None, Some(r#"{"strategy":{"mode":"fallback"}}"#)).await.unwrap();
    let v3 = store.update_config("support", Some("Support v3"), Some(r#"{"retry":{"attempts":3}}"#)).await.unwrap();
    assert_eq!((v2.unwrap().version, v3.clone().unwrap().version), (2, 3));

    let current = store.get_config("support").await.unwrap().unwrap();
    assert_eq!((current.version, current.name.as_str()), (3, "Support v3"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&current.config_json).unwrap(),
        json!({"retry":{"attempts":3}})
    );
    assert_eq!(Some(current), v3);

    let versions: Vec<_> = store.config_versions("support").await.unwrap().into_iter().map(|v| v.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    let first = store.get_config_version("support", 1).await.unwrap().unwrap();
    assert_eq!(first.config_json, v1.config_json);
    assert_eq!(store.list_configs().await.unwrap().len(), 1);
    assert_eq!(store.update_config("missing", None, Some("{}")).await.unwrap(), None);
}

async fn config_rename_or_equal_json_keeps_the_version(store: &Store) {
    store.create_config("c", "C", r#"{"a":1,"b":2}"#).await.unwrap();
    let renamed = store.update_config("c", Some("Renamed"), None).await.unwrap().unwrap();
    assert_eq!((renamed.version, renamed.name.as_str()), (1, "Renamed"));
    let same = store.update_config("c", None, Some("{ \"b\": 2, \"a\": 1 }")).await.unwrap().unwrap();
    assert_eq!(same.version, 1);
    assert_eq!(store.config_versions("c").await.unwrap().len(), 1);
}

async fn config_slug_conflict_is_reported(store: &Store) {
    store.create_config("c", "C", "{}").await.unwrap();
    let err = store.create_config("c", "Other", "{}").await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { entity: "config", .. }), "{err:?}");
}

async fn config_delete_removes_every_version(store: &Store) {
    store.create_config("c", "C", r#"{"v":1}"#).await.unwrap();
    store.update_config("c", None, Some(r#"{"v":2}"#)).await.unwrap();
    assert!(store.delete_config("c").await.unwrap());
    assert!(!store.delete_config("c").await.unwrap());
    assert_eq!(store.get_config("c").await.unwrap(), None);
    assert!(store.config_versions("c").await.unwrap().is_empty());
    // The slug is free again and starts over at version 1.
    assert_eq!(store.create_config("c", "C", "{}").await.unwrap().version, 1);
}

async fn concurrent_config_updates_get_distinct_versions(store: &Store) {
    store.create_config("hot", "Hot", r#"{"n":0}"#).await.unwrap();
    let updates = (1..=8).map(|n| {
        let store = store.clone();
        #[expect(
            clippy::disallowed_methods,
            reason = "concurrent writers in a store test; the store has no task tracker"
        )]
        tokio::spawn(async move { store.update_config("hot", None, Some(&format!(r#"{{"n":{n}}}"#))).await })
    });
    let mut versions = Vec::new();
    for update in updates {
        versions.push(update.await.unwrap().unwrap().unwrap().version);
    }
    versions.sort_unstable();
    assert_eq!(versions, (2..=9).collect::<Vec<i64>>());
    assert_eq!(store.config_versions("hot").await.unwrap().len(), 9);
}

async fn api_key_is_found_by_hash_and_revocation_sticks(store: &Store) {
    let key = "sb-live-0123456789abcdefghij";
    let created = store.create_api_key(&new_api_key(key, ApiKeyScope::Gateway)).await.unwrap();
    assert_eq!(created.key_hash, hash_api_key(key));
    assert_ne!(created.key_hash, key);
    let found = store.find_api_key_by_hash(&hash_api_key(key)).await.unwrap().unwrap();
    assert_eq!(found, created);
    assert_eq!(found.allowed_virtual_keys, ["vk-a", "vk-b"]);
    assert_eq!(store.find_api_key_by_hash(&hash_api_key("sb-other")).await.unwrap(), None);

    store.create_api_key(&new_api_key("sb-admin-0123456789abcdef", ApiKeyScope::Admin)).await.unwrap();
    let scopes: Vec<_> = store.list_api_keys().await.unwrap().into_iter().map(|k| k.scope).collect();
    assert_eq!(scopes.len(), 2);
    assert!(scopes.contains(&ApiKeyScope::Admin));

    assert!(store.revoke_api_key(&created.id).await.unwrap());
    assert!(!store.revoke_api_key(&created.id).await.unwrap(), "revoking twice changes nothing");
    assert!(!store.revoke_api_key("missing").await.unwrap());
    let revoked = store.find_api_key_by_hash(&hash_api_key(key)).await.unwrap().unwrap();
    assert!(revoked.is_revoked());
}

async fn api_key_hash_conflict_is_reported(store: &Store) {
    let key = "sb-live-0123456789abcdefghij";
    store.create_api_key(&new_api_key(key, ApiKeyScope::Gateway)).await.unwrap();
    let err = store.create_api_key(&new_api_key(key, ApiKeyScope::Admin)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { entity: "API key", .. }), "{err:?}");
}

async fn generation_bumps_on_every_control_plane_write(store: &Store) {
    let mut last = store.control_generation().await.unwrap();
    let mut expect_bump = |now: i64, what: &str| {
        assert!(now > last, "{what} must bump the generation ({last} -> {now})");
        last = now;
    };
    store.create_virtual_key(&new_virtual_key("vk", "sk-0123456789abcdef")).await.unwrap();
    expect_bump(store.control_generation().await.unwrap(), "create_virtual_key");
    let update = VirtualKeyUpdate { name: Some("n".to_owned()), ..VirtualKeyUpdate::default() };
    store.update_virtual_key("vk", &update).await.unwrap();
    expect_bump(store.control_generation().await.unwrap(), "update_virtual_key");
    store.delete_virtual_key("vk").await.unwrap();
    expect_bump(store.control_generation().await.unwrap(), "delete_virtual_key");
    store.create_config("c", "C", "{}").await.unwrap();
    expect_bump(store.control_generation().await.unwrap(), "create_config");
    store.update_config("c", None, Some(r#"{"x":1}"#)).await.unwrap();
    expect_bump(store.control_generation().await.unwrap(), "update_config (json)");
    store.update_config("c", Some("Renamed"), None).await.unwrap();
    expect_bump(store.control_generation().await.unwrap(), "update_config (name)");
    store.delete_config("c").await.unwrap();
    expect_bump(store.control_generation().await.unwrap(), "delete_config");
    let key = store.create_api_key(&new_api_key("sb-0123456789abcdef", ApiKeyScope::Admin)).await.unwrap();
    expect_bump(store.control_generation().await.unwrap(), "create_api_key");
    store.revoke_api_key(&key.id).await.unwrap();
    expect_bump(store.control_generation().await.unwrap(), "revoke_api_key");
    store.rotate_master_key(&vault(1), &vault(2)).await.unwrap();
    expect_bump(store.control_generation().await.unwrap(), "rotate_master_key");
}

async fn generation_stays_on_reads_no_ops_and_log_writes(store: &Store) {
    store.create_config("c", "C", r#"{"x":1}"#).await.unwrap();
    let before = store.control_generation().await.unwrap();
    store.get_config("c").await.unwrap();
    store.list_virtual_keys().await.unwrap();
    store.update_config("c", Some("C"), Some(r#"{"x":1}"#)).await.unwrap();
    store.delete_virtual_key("missing").await.unwrap();
    store.revoke_api_key("missing").await.unwrap();
    let duplicate = store.create_config("c", "again", "{}").await;
    assert!(duplicate.is_err());
    store.insert_logs(&mut vec![common::log(1, 1_000)]).await.unwrap();
    assert_eq!(store.control_generation().await.unwrap(), before);
}

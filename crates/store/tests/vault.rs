//! The vault against a real store on both backends: the start-up key check and master-key rotation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Map;
use switchboard_store::{NewVirtualKey, Store, StoreError, VaultError};

use common::vault;

async fn add_key(store: &Store, slug: &str, secret: &str, byte: u8) {
    let vk = NewVirtualKey {
        slug: slug.to_owned(),
        name: slug.to_owned(),
        provider: "openai".to_owned(),
        secret: vault(byte).seal(secret).unwrap(),
        options: Map::new(),
        note: None,
    };
    store.create_virtual_key(&vk).await.unwrap();
}

fn is_wrong_key(result: Result<impl std::fmt::Debug, StoreError>) -> bool {
    matches!(result, Err(StoreError::Vault(VaultError::WrongKey)))
}

on_both_backends!(
    wrong_master_key_fails_the_vault_check,
    first_vault_check_rejects_a_key_that_cannot_read_existing_secrets,
    rotation_keeps_secrets_readable_with_the_new_key_only,
    rotation_with_a_wrong_old_key_changes_nothing,
);

async fn wrong_master_key_fails_the_vault_check(store: &Store) {
    store.check_vault(&vault(1)).await.unwrap();
    store.check_vault(&vault(1)).await.unwrap();
    let err = store.check_vault(&vault(2)).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("does not match the one the vault was written with"), "{message}");
    assert!(matches!(err, StoreError::Vault(VaultError::WrongKey)));
}

async fn first_vault_check_rejects_a_key_that_cannot_read_existing_secrets(store: &Store) {
    add_key(store, "vk", "sk-0123456789abcdef", 1).await;
    assert!(is_wrong_key(store.check_vault(&vault(2)).await));
    store.check_vault(&vault(1)).await.unwrap();
}

async fn rotation_keeps_secrets_readable_with_the_new_key_only(store: &Store) {
    store.check_vault(&vault(1)).await.unwrap();
    add_key(store, "a", "sk-aaaa-0123456789", 1).await;
    add_key(store, "b", "sk-bbbb-0123456789", 1).await;
    assert_eq!(store.rotate_master_key(&vault(1), &vault(2)).await.unwrap(), 2);

    for (slug, secret) in [("a", "sk-aaaa-0123456789"), ("b", "sk-bbbb-0123456789")] {
        let record = store.get_virtual_key(slug).await.unwrap().unwrap();
        assert_eq!(vault(2).decrypt(&record.secret).unwrap().expose(), secret);
        assert!(matches!(vault(1).decrypt(&record.secret), Err(VaultError::WrongKey)));
    }
    store.check_vault(&vault(2)).await.unwrap();
    assert!(is_wrong_key(store.check_vault(&vault(1)).await));
}

async fn rotation_with_a_wrong_old_key_changes_nothing(store: &Store) {
    store.check_vault(&vault(1)).await.unwrap();
    add_key(store, "a", "sk-aaaa-0123456789", 1).await;
    let before = store.all_virtual_key_ciphertexts().await.unwrap();
    let generation = store.control_generation().await.unwrap();
    assert!(is_wrong_key(store.rotate_master_key(&vault(3), &vault(2)).await));
    assert_eq!(store.all_virtual_key_ciphertexts().await.unwrap(), before);
    assert_eq!(store.control_generation().await.unwrap(), generation);
    store.check_vault(&vault(1)).await.unwrap();
}

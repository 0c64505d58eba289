//! Applying a [`Declared`] set to the store, as an upsert: a virtual key is created, or
//! updated field by field where it differs (its secret is compared by decrypting and
//! re-sealed only when it changed); a config is created, or gets a new version only when its
//! JSON changed. Entries the file does not mention are left alone. Writes go through the
//! store only; dropping the caches is the caller's job.

use std::fmt;

use serde_json::{Map, Value};
use switchboard_store::{NewVirtualKey, Store, StoreError, Vault, VaultError, VirtualKeyRecord, VirtualKeyUpdate};

use super::file::{ConfigSpec, Declared};
use super::spec::KeySpec;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("vault: {0}")]
    Vault(#[from] VaultError),
    #[error("{what} `{slug}` kept changing under another writer; try again")]
    Contended { what: &'static str, slug: String },
}

/// What happened to one declared entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// What one apply did, entry by entry (slug, outcome), in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub virtual_keys: Vec<(String, Outcome)>,
    pub configs: Vec<(String, Outcome)>,
}

impl Applied {
    /// Whether anything was written.
    pub fn changed(&self) -> bool {
        self.virtual_keys.iter().chain(&self.configs).any(|(_, outcome)| *outcome != Outcome::Unchanged)
    }
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "virtual keys {}; configs {}", summary(&self.virtual_keys), summary(&self.configs))
    }
}

/// `created a, b; updated c; 2 unchanged`.
fn summary(entries: &[(String, Outcome)]) -> String {
    let slugs = |wanted: Outcome| -> Vec<&str> {
        entries.iter().filter(|(_, o)| *o == wanted).map(|(slug, _)| slug.as_str()).collect()
    };
    let mut parts = Vec::new();
    for (label, outcome) in [("created", Outcome::Created), ("updated", Outcome::Updated)] {
        let found = slugs(outcome);
        if !found.is_empty() {
            parts.push(format!("{label} {}", found.join(", ")));
        }
    }
    parts.push(format!("{} unchanged", slugs(Outcome::Unchanged).len()));
    parts.join(", ")
}

/// Upserts every declared virtual key, then every config.
pub async fn apply(declared: &Declared, store: &Store, vault: &Vault) -> Result<Applied, ApplyError> {
    let mut applied = Applied::default();
    for key in &declared.virtual_keys {
        applied.virtual_keys.push((key.slug.clone(), upsert_key(key, store, vault).await?));
    }
    for config in &declared.configs {
        applied.configs.push((config.slug.clone(), upsert_config(config, store).await?));
    }
    Ok(applied)
}

/// Attempts per entry: another writer (an instance sharing the database, the admin API) may
/// create or delete the same slug between our read and our write.
const ATTEMPTS: usize = 3;

async fn upsert_key(key: &KeySpec, store: &Store, vault: &Vault) -> Result<Outcome, ApplyError> {
    for _ in 0..ATTEMPTS {
        let Some(existing) = store.get_virtual_key(&key.slug).await? else {
            match store.create_virtual_key(&new_key(key, vault)?).await {
                Err(StoreError::Conflict { .. }) => continue,
                created => return created.map(|_| Outcome::Created).map_err(Into::into),
            }
        };
        let Some(update) = key_update(key, &existing, vault)? else { return Ok(Outcome::Unchanged) };
        if store.update_virtual_key(&key.slug, &update).await?.is_some() {
            return Ok(Outcome::Updated);
        }
    }
    Err(ApplyError::Contended { what: "virtual key", slug: key.slug.clone() })
}

/// The new stored form of a declared key (its secret sealed under `vault`).
pub fn new_key(key: &KeySpec, vault: &Vault) -> Result<NewVirtualKey, VaultError> {
    Ok(NewVirtualKey {
        slug: key.slug.clone(),
        name: key.name.clone(),
        provider: key.provider.clone(),
        secret: vault.seal(key.secret.expose())?,
        options: key.stored_options(),
        note: key.note.clone(),
    })
}

/// The fields of `existing` that differ from `key`; `None` when nothing does.
fn key_update(
    key: &KeySpec,
    existing: &VirtualKeyRecord,
    vault: &Vault,
) -> Result<Option<VirtualKeyUpdate>, VaultError> {
    let differs = |a: &str, b: &str| (a != b).then(|| a.to_owned());
    let options: Map<String, Value> = key.stored_options();
    let secret_changed = vault.decrypt(&existing.secret)? != key.secret;
    let update = VirtualKeyUpdate {
        name: differs(&key.name, &existing.name),
        provider: differs(&key.provider, &existing.provider),
        secret: if secret_changed { Some(vault.seal(key.secret.expose())?) } else { None },
        options: (options != existing.options).then_some(options),
        note: (key.note != existing.note).then(|| key.note.clone()),
    };
    let unchanged = update.name.is_none()
        && update.provider.is_none()
        && update.secret.is_none()
        && update.options.is_none()
        && update.note.is_none();
    Ok((!unchanged).then_some(update))
}

async fn upsert_config(config: &ConfigSpec, store: &Store) -> Result<Outcome, ApplyError> {
    for _ in 0..ATTEMPTS {
        let Some(before) = store.get_config(&config.slug).await? else {
            match store.create_config(&config.slug, &config.name, &config.json).await {
                Err(StoreError::Conflict { .. }) => continue,
                created => return created.map(|_| Outcome::Created).map_err(Into::into),
            }
        };
        let after = store.update_config(&config.slug, Some(&config.name), Some(&config.json)).await?;
        match after {
            Some(after) if after.version == before.version && after.name == before.name => {
                return Ok(Outcome::Unchanged)
            }
            Some(_) => return Ok(Outcome::Updated),
            None => {}
        }
    }
    Err(ApplyError::Contended { what: "config", slug: config.slug.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_changed_slugs_and_counts_the_rest() {
        let applied = Applied {
            virtual_keys: vec![("a".into(), Outcome::Created), ("b".into(), Outcome::Unchanged)],
            configs: vec![("c".into(), Outcome::Updated)],
        };
        assert!(applied.changed());
        assert_eq!(applied.to_string(), "virtual keys created a, 1 unchanged; configs updated c, 0 unchanged");
        assert!(!Applied::default().changed());
    }
}

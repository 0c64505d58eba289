//! The control plane as the hot path sees it: virtual keys (decrypted from the vault),
//! saved configs (validated route trees) and gateway API keys, read from the store once and
//! then served from memory. Every control-plane write bumps the store's generation; a
//! watcher polls it and drops the caches when it moves, so several instances sharing one
//! PostgreSQL database converge within one poll interval.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};
use switchboard_core::config::{parse_config, ProviderOptions, RouteTree};
use switchboard_core::error::GatewayError;
use switchboard_store::{hash_api_key, ApiKeyRecord, Secret, Store, Vault};

/// A virtual key ready to call its provider with.
pub struct ResolvedKey {
    pub slug: String,
    pub provider: String,
    pub api_key: Secret,
    pub options: ProviderOptions,
    pub custom_host: Option<String>,
}

/// A saved config at its current version.
pub struct SavedConfig {
    pub slug: String,
    pub version: i64,
    pub tree: Arc<RouteTree>,
}

#[derive(Default)]
struct Cache {
    generation: i64,
    keys: HashMap<String, Arc<ResolvedKey>>,
    configs: HashMap<String, Arc<SavedConfig>>,
    api_keys: HashMap<String, Option<Arc<ApiKeyRecord>>>,
}

pub struct Control {
    pub store: Store,
    pub vault: Vault,
    cache: RwLock<Cache>,
}

/// How often the generation is polled.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);

fn internal(err: impl std::fmt::Display) -> GatewayError {
    GatewayError::Internal(format!("store: {err}"))
}

impl Control {
    pub fn new(store: Store, vault: Vault) -> Self {
        Control { store, vault, cache: RwLock::new(Cache::default()) }
    }

    /// The virtual key `slug`, decrypted; an unknown slug is a 400 naming it (and `place`).
    pub async fn virtual_key(&self, slug: &str, place: &str) -> Result<Arc<ResolvedKey>, GatewayError> {
        if let Some(hit) = self.read(|c| c.keys.get(slug).cloned()) {
            return Ok(hit);
        }
        let record =
            self.store.get_virtual_key(slug).await.map_err(internal)?.ok_or_else(|| {
                GatewayError::InvalidRequest(format!("{place}: virtual key \"{slug}\" does not exist"))
            })?;
        let api_key = self.vault.decrypt(&record.secret).map_err(internal)?;
        let (options, custom_host) = key_options(&record.options);
        let key = Arc::new(ResolvedKey { slug: record.slug, provider: record.provider, api_key, options, custom_host });
        self.write(|c| c.keys.insert(slug.to_string(), key.clone()));
        Ok(key)
    }

    /// The saved config `slug` at its current version.
    pub async fn saved_config(&self, slug: &str, place: &str) -> Result<Arc<SavedConfig>, GatewayError> {
        if let Some(hit) = self.read(|c| c.configs.get(slug).cloned()) {
            return Ok(hit);
        }
        let record =
            self.store.get_config(slug).await.map_err(internal)?.ok_or_else(|| {
                GatewayError::InvalidRequest(format!("{place}: saved config \"{slug}\" does not exist"))
            })?;
        let tree = parse_config(&record.config_json).map_err(GatewayError::InvalidConfig)?;
        let saved = Arc::new(SavedConfig { slug: record.slug, version: record.version, tree: Arc::new(tree) });
        self.write(|c| c.configs.insert(slug.to_string(), saved.clone()));
        Ok(saved)
    }

    /// The live (not revoked) API key whose hash matches `key`, if any.
    pub async fn api_key(&self, key: &str) -> Result<Option<Arc<ApiKeyRecord>>, GatewayError> {
        let hash = hash_api_key(key);
        if let Some(hit) = self.read(|c| c.api_keys.get(&hash).cloned()) {
            return Ok(hit);
        }
        let found = self.store.find_api_key_by_hash(&hash).await.map_err(internal)?;
        let live = found.filter(|k| !k.is_revoked()).map(Arc::new);
        self.write(|c| c.api_keys.insert(hash, live.clone()));
        Ok(live)
    }

    /// Drops every cached entry (after a write through this instance's admin API).
    pub fn invalidate(&self) {
        self.write(|c| {
            c.keys.clear();
            c.configs.clear();
            c.api_keys.clear();
        });
    }

    /// Polls the store's generation and invalidates on change, until the process ends.
    pub async fn watch(self: Arc<Self>) {
        let mut tick = tokio::time::interval(WATCH_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.store.control_generation().await {
                Ok(generation) if generation != self.read(|c| c.generation) => {
                    self.invalidate();
                    self.write(|c| c.generation = generation);
                }
                Ok(_) => {}
                Err(err) => tracing::warn!("control-plane watch: {err}"),
            }
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Cache) -> T) -> T {
        match self.cache.read() {
            Ok(cache) => f(&cache),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    fn write<T>(&self, f: impl FnOnce(&mut Cache) -> T) -> T {
        match self.cache.write() {
            Ok(mut cache) => f(&mut cache),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

/// Provider options stored with a virtual key: `resource_name`, `deployment_id` (or the
/// default entry of `deployment_config`), `api_version`, `anthropic_version`,
/// `anthropic_beta`, and `custom_host`.
pub fn key_options(options: &Map<String, Value>) -> (ProviderOptions, Option<String>) {
    let text = |key: &str| options.get(key).and_then(Value::as_str).map(str::to_string);
    let deployment = default_deployment(options);
    let pick = |key: &str| deployment.and_then(|d| d.get(key)).and_then(Value::as_str).map(str::to_string);
    let provider_options = ProviderOptions {
        resource_name: text("resource_name"),
        deployment_id: text("deployment_id").or_else(|| pick("deployment_name")),
        api_version: text("api_version").or_else(|| pick("api_version")),
        anthropic_version: text("anthropic_version"),
        anthropic_beta: text("anthropic_beta"),
    };
    (provider_options, text("custom_host"))
}

fn default_deployment(options: &Map<String, Value>) -> Option<&Map<String, Value>> {
    let list = options.get("deployment_config")?.as_array()?;
    let is_default = |d: &&Value| d.get("is_default").and_then(Value::as_bool) == Some(true);
    list.iter().find(is_default).or_else(|| list.first())?.as_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_options_read_flat_fields_and_the_default_deployment() {
        let options = json!({"resource_name": "res", "custom_host": "http://h/openai",
            "deployment_config": [{"deployment_name": "a", "api_version": "v1"},
                                  {"deployment_name": "b", "api_version": "v2", "is_default": true}]});
        let (opts, host) = key_options(options.as_object().unwrap_or(&Map::new()));
        assert_eq!(opts.resource_name.as_deref(), Some("res"));
        assert_eq!(opts.deployment_id.as_deref(), Some("b"));
        assert_eq!(opts.api_version.as_deref(), Some("v2"));
        assert_eq!(host.as_deref(), Some("http://h/openai"));
    }
}

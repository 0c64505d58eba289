//! The control plane as the hot path sees it: virtual keys (decrypted from the vault),
//! saved configs (validated route trees) and gateway API keys, read from the store once and
//! then served from memory. Every control-plane write bumps the store's generation; a
//! watcher polls it and drops the caches when it moves, so several instances sharing one
//! PostgreSQL database converge within one poll interval.
//!
//! Every drop bumps the cache's epoch, and a lookup stores what it read only if the epoch is
//! still the one it started at: a lookup that began before a revoke cannot write the old
//! record back after the invalidation. Keys that match no API key are remembered in a small
//! LRU (a client presenting random keys cannot grow memory); hits are bounded by the store.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use lru::LruCache;

use crate::http::error::GatewayError;
use serde_json::{Map, Value};
use switchboard_core::config::{parse_config, RouteTree};
use switchboard_core::limits::{from_options, KeyLimits, LIMIT_KEYS};
use switchboard_core::problem::Problems;
use switchboard_core::provider::{check_options, Elsewhere, ProviderOptions};
use switchboard_store::{hash_api_key, ApiKeyRecord, Secret, Store, Vault};

/// A virtual key ready to call its provider with.
pub struct ResolvedKey {
    pub slug: String,
    pub provider: String,
    pub api_key: Secret,
    pub options: ProviderOptions,
    pub custom_host: Option<String>,
    /// Its `rate_limits` and `usage_limits`, checked (empty when it has none).
    pub limits: Arc<KeyLimits>,
}

/// A saved config at its current version.
pub struct SavedConfig {
    pub slug: String,
    pub version: i64,
    pub tree: Arc<RouteTree>,
}

struct Cache {
    generation: i64,
    /// Bumped by every invalidation; a fill read at an older epoch is dropped.
    epoch: u64,
    keys: HashMap<String, Arc<ResolvedKey>>,
    configs: HashMap<String, Arc<SavedConfig>>,
    api_keys: HashMap<String, Arc<ApiKeyRecord>>,
    /// Hashes of presented keys that matched no live API key.
    api_key_misses: LruCache<String, ()>,
}

/// Unknown keys remembered, at most.
pub const API_KEY_MISS_CAPACITY: NonZeroUsize = NonZeroUsize::MIN.saturating_add(255);

impl Default for Cache {
    fn default() -> Self {
        Cache {
            generation: 0,
            epoch: 0,
            keys: HashMap::new(),
            configs: HashMap::new(),
            api_keys: HashMap::new(),
            api_key_misses: LruCache::new(API_KEY_MISS_CAPACITY),
        }
    }
}

pub struct Control {
    pub store: Store,
    pub vault: Vault,
    cache: RwLock<Cache>,
}

/// How often the generation is polled.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// A store failure: its text goes to the log with the request's trace ID, not to the client.
fn internal(err: impl std::error::Error + Send + Sync + 'static) -> GatewayError {
    GatewayError::internal("reading the control plane from the store", err)
}

impl Control {
    pub fn new(store: Store, vault: Vault) -> Self {
        Control { store, vault, cache: RwLock::new(Cache::default()) }
    }

    /// The virtual key `slug`, decrypted; an unknown slug is a 400 naming it (and `place`).
    pub async fn virtual_key(&self, slug: &str, place: &str) -> Result<Arc<ResolvedKey>, GatewayError> {
        let epoch = match self.read(|c| c.keys.get(slug).cloned().ok_or(c.epoch)) {
            Ok(hit) => return Ok(hit),
            Err(epoch) => epoch,
        };
        let record =
            self.store.get_virtual_key(slug).await.map_err(internal)?.ok_or_else(|| {
                GatewayError::InvalidRequest(format!("{place}: virtual key \"{slug}\" does not exist"))
            })?;
        let api_key = self.vault.decrypt(&record.secret).map_err(internal)?;
        let (options, custom_host) = key_options(&record.provider, &record.options).map_err(|problems| {
            GatewayError::InvalidRequest(format!(
                "{place}: virtual key \"{slug}\" is stored with provider options this gateway refuses ({problems})"
            ))
        })?;
        let limits = from_options(&record.options, "options").map_err(|problems| {
            GatewayError::InvalidRequest(format!(
                "{place}: virtual key \"{slug}\" is stored with limits this gateway refuses ({problems})"
            ))
        })?;
        let limits = Arc::new(limits);
        let key = Arc::new(ResolvedKey {
            slug: record.slug,
            provider: record.provider,
            api_key,
            options,
            custom_host,
            limits,
        });
        self.fill(epoch, |c| {
            c.keys.insert(slug.to_string(), key.clone());
        });
        Ok(key)
    }

    /// The saved config `slug` at its current version.
    pub async fn saved_config(&self, slug: &str, place: &str) -> Result<Arc<SavedConfig>, GatewayError> {
        let epoch = match self.read(|c| c.configs.get(slug).cloned().ok_or(c.epoch)) {
            Ok(hit) => return Ok(hit),
            Err(epoch) => epoch,
        };
        let record =
            self.store.get_config(slug).await.map_err(internal)?.ok_or_else(|| {
                GatewayError::InvalidRequest(format!("{place}: saved config \"{slug}\" does not exist"))
            })?;
        let tree = parse_config(&record.config_json).map_err(GatewayError::InvalidConfig)?;
        let saved = Arc::new(SavedConfig { slug: record.slug, version: record.version, tree: Arc::new(tree) });
        self.fill(epoch, |c| {
            c.configs.insert(slug.to_string(), saved.clone());
        });
        Ok(saved)
    }

    /// The live (not revoked) API key whose hash matches `key`, if any.
    pub async fn api_key(&self, key: &str) -> Result<Option<Arc<ApiKeyRecord>>, GatewayError> {
        let hash = hash_api_key(key);
        // Hits under the read lock (the hot path); only the miss LRU needs the write lock.
        if let Some(hit) = self.read(|c| c.api_keys.get(&hash).cloned()) {
            return Ok(Some(hit));
        }
        let cached = self.write(|c| match c.api_keys.get(&hash) {
            Some(hit) => Ok(Some(hit.clone())),
            None if c.api_key_misses.get(&hash).is_some() => Ok(None),
            None => Err(c.epoch),
        });
        let epoch = match cached {
            Ok(answer) => return Ok(answer),
            Err(epoch) => epoch,
        };
        let found = self.store.find_api_key_by_hash(&hash).await.map_err(internal)?;
        let live = found.filter(|k| !k.is_revoked()).map(Arc::new);
        self.fill(epoch, |c| match &live {
            Some(record) => {
                c.api_keys.insert(hash, record.clone());
            }
            None => {
                c.api_key_misses.put(hash, ());
            }
        });
        Ok(live)
    }

    /// Drops every cached entry (after a write through this instance's admin API).
    pub fn invalidate(&self) {
        self.write(|c| {
            c.epoch += 1;
            c.keys.clear();
            c.configs.clear();
            c.api_keys.clear();
            c.api_key_misses.clear();
        });
    }

    /// Stores what a lookup read at `epoch`, unless the caches were dropped since.
    fn fill(&self, epoch: u64, put: impl FnOnce(&mut Cache)) {
        self.write(|c| {
            if c.epoch == epoch {
                put(c);
            }
        });
    }

    /// Entries cached now: virtual keys, configs, API keys, remembered misses.
    pub fn cached_counts(&self) -> [usize; 4] {
        self.read(|c| [c.keys.len(), c.configs.len(), c.api_keys.len(), c.api_key_misses.len()])
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

/// The provider options stored with a virtual key of `provider`, read back through the
/// same check that let them in ([`check_options`]): what a call uses, and the key's
/// `custom_host`. The limits stored beside them ([`LIMIT_KEYS`]) are not provider options
/// and are skipped (read by [`from_options`]).
pub(crate) fn key_options(
    provider: &str,
    options: &Map<String, Value>,
) -> Result<(ProviderOptions, Option<String>), Problems> {
    let provider_options: Map<String, Value> = options
        .iter()
        .filter(|(k, _)| !LIMIT_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let checked = check_options(Some(provider), &provider_options, "options", Elsewhere::default())?;
    Ok((checked.call_options(), checked.custom_host().map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn control() -> Control {
        let dir = std::env::temp_dir().join(format!("switchboard-control-{}", uuid::Uuid::new_v4().simple()));
        let store = switchboard_store::open(&switchboard_store::StoreLocation::Sqlite(dir)).await;
        let store = store.unwrap_or_else(|e| panic!("store: {e}"));
        Control::new(store, Vault::from_master_key([7; 32]))
    }

    #[tokio::test]
    async fn a_lookup_that_began_before_an_invalidation_does_not_cache_what_it_read() {
        let control = control().await;
        let began = control.read(|c| c.epoch);
        // The key is revoked (and the caches dropped) while the lookup waits on the store.
        control.invalidate();
        control.fill(began, |c| {
            c.api_key_misses.put("stale".into(), ());
        });
        assert_eq!(control.cached_counts(), [0, 0, 0, 0], "the stale read was dropped");
        let now = control.read(|c| c.epoch);
        control.fill(now, |c| {
            c.api_key_misses.put("fresh".into(), ());
        });
        assert_eq!(control.cached_counts()[3], 1);
    }

    #[tokio::test]
    async fn unknown_api_keys_are_remembered_in_a_bounded_cache() {
        let control = control().await;
        for i in 0..(API_KEY_MISS_CAPACITY.get() * 3) {
            let found = control.api_key(&format!("sk-random-{i}")).await;
            assert!(matches!(found, Ok(None)));
        }
        assert_eq!(control.cached_counts()[3], API_KEY_MISS_CAPACITY.get());
    }

    #[test]
    fn stored_options_are_read_back_through_the_one_check() {
        let options = json!({"custom_host": "http://h/v1", "anthropic_version": "2023-06-01", "usage_limits": {}});
        let read = key_options("openai", options.as_object().unwrap_or(&Map::new())).map_err(|p| p.to_string());
        assert_eq!(read.err().as_deref(), Some("options.anthropic_version: only used by provider \"anthropic\""));
    }

    #[test]
    fn key_options_read_flat_fields_and_the_default_deployment() {
        let options = json!({"resource_name": "res", "custom_host": "http://h/openai",
            "deployment_config": [{"deployment_name": "a", "api_version": "v1"},
                                  {"deployment_name": "b", "api_version": "v2", "is_default": true}]});
        let read = key_options("azure-openai", options.as_object().unwrap_or(&Map::new()));
        let Ok((opts, host)) = read else { panic!("stored options should read back: {read:?}") };
        assert_eq!(opts.resource_name.as_deref(), Some("res"));
        assert_eq!(opts.deployment_id.as_deref(), Some("b"));
        assert_eq!(opts.api_version.as_deref(), Some("v2"));
        assert_eq!(host.as_deref(), Some("http://h/openai"));
    }
}

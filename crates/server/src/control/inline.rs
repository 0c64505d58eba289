//! The cache of parsed inline configs (`x-portkey-config` as JSON): each distinct string is
//! parsed and validated once, and at most [`CONFIG_CACHE_CAPACITY`] of them are kept.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use switchboard_core::config::RouteTree;

/// Inline configs are sent on every request, usually the same few strings: each distinct
/// one is parsed and validated once. Bounded: the least recently used entry makes room.
pub struct ConfigCache {
    entries: Mutex<LruCache<String, Arc<RouteTree>>>,
}

pub const CONFIG_CACHE_CAPACITY: NonZeroUsize = NonZeroUsize::MIN.saturating_add(1023);

impl Default for ConfigCache {
    fn default() -> Self {
        ConfigCache { entries: Mutex::new(LruCache::new(CONFIG_CACHE_CAPACITY)) }
    }
}

impl ConfigCache {
    pub fn get(&self, text: &str) -> Option<Arc<RouteTree>> {
        self.entries.lock().ok()?.get(text).cloned()
    }

    pub fn insert(&self, text: &str, tree: Arc<RouteTree>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(text.to_string(), tree);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::config::parse_config;

    #[test]
    fn config_cache_evicts_the_least_recently_used_entry_not_all() {
        let cache = ConfigCache::default();
        let tree = parse_config(r#"{"provider": "openai", "api_key": "sk-1"}"#).map(Arc::new);
        let Ok(tree) = tree else { return assert!(tree.is_ok()) };
        cache.insert("hot", tree.clone());
        for i in 0..CONFIG_CACHE_CAPACITY.get() * 2 {
            cache.insert(&format!("cold-{i}"), tree.clone());
            assert!(cache.get("hot").is_some(), "the hot entry survives");
        }
        assert_eq!(cache.len(), CONFIG_CACHE_CAPACITY.get());
        assert!(cache.get("cold-0").is_none());
    }
}

//! Shared server state: settings, the one upstream client, the parsed-config cache, the
//! control plane and the metrics registry.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;
use switchboard_core::secret::Secret;

use switchboard_core::config::RouteTree;

use crate::control::Control;
use crate::logs::LogSink;
use crate::metrics::Metrics;
use crate::upstream::Upstream;

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `None` only with `--insecure-no-auth`.
    pub admin_key: Option<Secret>,
    pub max_body_bytes: usize,
    pub anthropic_default_max_tokens: Option<u32>,
    pub logs: LogSettings,
    pub limits: UpstreamLimits,
    /// Requests handled at once (`--max-in-flight`); past it, 503 at once.
    pub max_in_flight: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            admin_key: None,
            max_body_bytes: 10 * 1024 * 1024,
            anthropic_default_max_tokens: None,
            logs: LogSettings::default(),
            limits: UpstreamLimits::default(),
            max_in_flight: 1024,
        }
    }
}

/// How long and how much the gateway waits for and takes from a provider, whatever the
/// provider does. A target's `request_timeout` / `stream_idle_timeout` override the times.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamLimits {
    /// Time to an answer's headers (and a non-stream answer's body) when no
    /// `request_timeout` applies: nothing waits forever.
    pub timeout: Duration,
    /// Longest gap between two upstream stream events.
    pub stream_idle: Duration,
    /// Largest answer body read from a provider.
    pub max_body_bytes: usize,
    /// Largest SSE line (and event) taken from a provider's stream.
    pub max_event_bytes: usize,
}

impl Default for UpstreamLimits {
    fn default() -> Self {
        UpstreamLimits {
            timeout: Duration::from_secs(600),
            stream_idle: Duration::from_secs(60),
            max_body_bytes: 32 * 1024 * 1024,
            max_event_bytes: 8 * 1024 * 1024,
        }
    }
}

/// What request logs keep.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// Keep request and response bodies (a request may still opt out).
    pub bodies: bool,
    pub body_max_bytes: usize,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { bodies: true, body_max_bytes: 32 * 1024 }
    }
}

pub struct AppState {
    pub settings: Settings,
    pub upstream: Upstream,
    /// Parsed inline configs.
    pub configs: ConfigCache,
    pub control: Arc<Control>,
    pub metrics: Arc<Metrics>,
    /// Where finished request records go (metrics, and the log writer when logging is on).
    pub logs: LogSink,
    /// Permits for requests in flight (`Settings::max_in_flight` of them).
    pub in_flight: Arc<tokio::sync::Semaphore>,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(settings: Settings, upstream: Upstream, control: Arc<Control>, logs: LogSink) -> Self {
        let metrics = logs.metrics_handle();
        let in_flight = Arc::new(tokio::sync::Semaphore::new(settings.max_in_flight.max(1)));
        AppState { settings, upstream, configs: ConfigCache::default(), control, metrics, logs, in_flight }
    }
}

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

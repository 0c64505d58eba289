//! Shared server state: settings, the one upstream client, the parsed-config cache, the
//! control plane and the metrics registry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_core::config::RouteTree;

use crate::control::Control;
use crate::logs::LogSink;
use crate::metrics::Metrics;
use crate::upstream::Upstream;

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `None` only with `--insecure-no-auth`.
    pub admin_key: Option<String>,
    pub max_body_bytes: usize,
    pub anthropic_default_max_tokens: Option<u32>,
    pub logs: LogSettings,
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
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(settings: Settings, upstream: Upstream, control: Arc<Control>, logs: LogSink) -> Self {
        let metrics = logs.metrics_handle();
        AppState { settings, upstream, configs: ConfigCache::default(), control, metrics, logs }
    }
}

/// Inline configs are sent on every request, usually the same few strings: each distinct
/// one is parsed and validated once. Bounded: when full it is cleared (a rare, cheap reset).
#[derive(Default)]
pub struct ConfigCache {
    entries: Mutex<HashMap<String, Arc<RouteTree>>>,
}

pub const CONFIG_CACHE_CAPACITY: usize = 1024;

impl ConfigCache {
    pub fn get(&self, text: &str) -> Option<Arc<RouteTree>> {
        self.entries.lock().ok()?.get(text).cloned()
    }

    pub fn insert(&self, text: &str, tree: Arc<RouteTree>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CONFIG_CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(text.to_string(), tree);
        }
    }
}

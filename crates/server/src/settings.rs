//! Settings fixed at start, read by every folder: the gateway's limits and defaults, what
//! request logs keep, the bootstrap admin key. Built by `serve` from the command line; no
//! module here changes them afterwards.

use std::time::Duration;

use switchboard_core::secret::Secret;

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
    pub shared: SharedSettings,
}

/// State shared across instances (key limits): where, and what to do while it is unreachable.
#[derive(Debug, Clone, Default)]
pub struct SharedSettings {
    /// `--redis-url`; `None`: every instance counts on its own.
    pub redis_url: Option<Secret>,
    /// Put before every key (`--redis-namespace`): empty in production; tests give each run its own.
    pub redis_namespace: String,
    /// `--limits-fail-closed`: while Redis is unreachable, refuse limited keys' requests (503)
    /// instead of counting them on this instance alone.
    pub limits_fail_closed: bool,
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
            shared: SharedSettings::default(),
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

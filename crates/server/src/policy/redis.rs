//! The shared-state connection (`--redis-url`): one Redis [`ConnectionManager`], whether it
//! is degraded (its last call failed and it has not answered since), and running a Lua
//! [`Script`] within a deadline. Whoever shares state across instances (key limits, target
//! health) goes through here; this module knows nothing of what they store.
//!
//! Degraded is loud, never silent: the gauge `switchboard_shared_state_degraded` is 1 and one
//! `warn!` line marks each transition. Callers fall back to local state (or refuse, with
//! `--limits-fail-closed`) while it lasts; a background loop pings every second while
//! degraded and clears it as soon as Redis answers. Every key starts with [`KEY_PREFIX`]
//! (versioned, so instances of two releases never read each other's keys in a rolling
//! deploy); a script is addressed by the SHA of its body, so a changed script is a new one.
//! Standalone Redis only: scripts touch keys they do not declare (no Redis Cluster).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, Script};

use crate::support::tasks;

/// The versioned start of every key Switchboard writes.
pub const KEY_PREFIX: &str = "sb:v1:";
/// The longest a call may take before it counts as a failure.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How often a degraded connection is tried again.
const PROBE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    /// The URL does not parse (its text is not repeated: it may hold a password).
    #[error("--redis-url is not a Redis URL ({0})")]
    BadUrl(String),
    #[error("Redis did not answer within {} ms", CALL_TIMEOUT.as_millis())]
    Timeout,
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// One Redis, shared by every instance of the gateway.
pub struct Shared {
    conn: ConnectionManager,
    /// `namespace` + [`KEY_PREFIX`].
    prefix: String,
    degraded: AtomicBool,
    gauge: Gauge,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("prefix", &self.prefix).field("degraded", &self.is_degraded()).finish()
    }
}

impl Shared {
    /// A connection to `url` (made on first use, remade after failures), its keys under
    /// `namespace` (empty in production; tests give each run its own), and the loop that
    /// notices Redis coming back. Fails only on a malformed URL.
    pub fn start(url: &str, namespace: &str, gauge: Gauge) -> Result<Arc<Shared>, SharedError> {
        let client = redis::Client::open(url).map_err(|e| SharedError::BadUrl(format!("{:?}", e.kind())))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        let shared = Arc::new(Shared {
            conn,
            prefix: format!("{namespace}{KEY_PREFIX}"),
            degraded: AtomicBool::new(false),
            gauge,
        });
        tasks::spawn_loop("shared-state probe", shared.clone().probe());
        Ok(shared)
    }

    /// `rest` under this gateway's prefix.
    pub fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    /// Runs `script` with `keys` and `args` within [`CALL_TIMEOUT`]; a failure marks the
    /// connection degraded, a success healthy.
    pub async fn run<T: FromRedisValue>(
        &self,
        script: &Script,
        keys: &[String],
        args: &[String],
    ) -> Result<T, SharedError> {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        let mut conn = self.conn.clone();
        let outcome = match tokio::time::timeout(CALL_TIMEOUT, invocation.invoke_async(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(SharedError::Redis(err)),
            Err(_) => Err(SharedError::Timeout),
        };
        self.mark(outcome.as_ref().err());
        outcome
    }

    /// Notes the outcome of a call: one log line and the gauge when the state changes.
    fn mark(&self, failure: Option<&SharedError>) {
        let degraded = failure.is_some();
        if self.degraded.swap(degraded, Ordering::Relaxed) == degraded {
            return;
        }
        self.gauge.set(i64::from(degraded));
        match failure {
            Some(err) => tracing::warn!(
                "shared state degraded: {err}; serving on this instance's own state until Redis answers again"
            ),
            None => tracing::warn!("shared state healthy again: Redis answers"),
        }
    }

    /// Pings at once, then every second while degraded.
    async fn probe(self: Arc<Self>) {
        let mut tick = tokio::time::interval(PROBE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut first = true;
        loop {
            tick.tick().await;
            if first || self.is_degraded() {
                first = false;
                let outcome = self.ping().await;
                self.mark(outcome.as_ref().err());
            }
        }
    }

    async fn ping(&self) -> Result<(), SharedError> {
        let mut conn = self.conn.clone();
        let ping = redis::cmd("PING");
        match tokio::time::timeout(CALL_TIMEOUT, ping.query_async::<String>(&mut conn)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(SharedError::Redis(err)),
            Err(_) => Err(SharedError::Timeout),
        }
    }
}

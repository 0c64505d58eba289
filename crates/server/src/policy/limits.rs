//! The limiter: enforces virtual keys' and API keys' `rate_limits` and `usage_limits`. A
//! request reserves its estimate ([`estimate`]) in every bucket of a key at once, all or
//! nothing, and gets a [`Reservation`]; settling it (when the request's record is finished)
//! replaces the estimate by what was really used; dropping it unsettled charges the estimate
//! (a cancelled request may still have cost money). The arithmetic is core's
//! (`switchboard_core::limits`, which also states the overshoot bound).
//!
//! State lives in memory ([`local`]) or, with `--redis-url`, in Redis ([`shared`]) so every
//! instance counts against the same buckets. While Redis is unreachable each instance serves
//! on its own local state (fail open) and says so (gauge, log); with `--limits-fail-closed` a
//! limited key's requests get 503 instead. Refusals become [`GatewayError`]s here; the gateway
//! decides where they are answered. No secret reaches a key, a label or a message: keys are
//! named by slug or API key id.

pub mod estimate;
mod local;
mod shared;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use switchboard_core::limits::{Amounts, Bucket, Hold, KeyLimits, Refusal};

use crate::http::error::GatewayError;
use crate::policy::redis::Shared;
use crate::support::{clock, tasks};

/// How long a reservation held in Redis lives if its instance never settles it.
pub const RESERVATION_EXPIRY: Duration = Duration::from_secs(15 * 60);

/// Which kind of key a limit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Virtual,
    Api,
}

/// A key with limits: a virtual key's slug or an API key's id (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRef {
    pub kind: KeyKind,
    pub id: String,
}

impl KeyRef {
    pub fn virtual_key(slug: &str) -> Self {
        KeyRef { kind: KeyKind::Virtual, id: slug.to_string() }
    }

    pub fn api_key(id: &str) -> Self {
        KeyRef { kind: KeyKind::Api, id: id.to_string() }
    }

    /// The start of its buckets' names.
    fn owner(&self) -> String {
        match self.kind {
            KeyKind::Virtual => format!("vk:{}", self.id),
            KeyKind::Api => format!("ak:{}", self.id),
        }
    }

    fn kind_label(&self) -> &'static str {
        match self.kind {
            KeyKind::Virtual => "virtual_key",
            KeyKind::Api => "api_key",
        }
    }

    /// How messages name it.
    fn who(&self) -> String {
        match self.kind {
            KeyKind::Virtual => format!("virtual key \"{}\"", self.id),
            KeyKind::Api => "this API key".to_string(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    pub key_kind: String,
    /// A virtual key's slug or an API key's id.
    pub key: String,
}

/// The limiter's metrics, registered by `observe::metrics`.
#[derive(Clone, Default)]
pub struct LimitMetrics {
    /// Settlements that took a budget past its `alert_threshold`.
    pub budget_alerts: Family<AlertLabels, Counter>,
    /// 1 while the shared state (Redis) is unreachable.
    pub shared_state_degraded: Gauge,
}

pub struct Limiter {
    local: local::Table,
    shared: Option<Arc<Shared>>,
    fail_closed: bool,
    metrics: LimitMetrics,
    /// Virtual keys refused lately, and until when (for the planner's health view).
    refused: RwLock<HashMap<String, u64>>,
    expiry: Duration,
}

impl Limiter {
    /// In memory only.
    pub fn local(metrics: LimitMetrics) -> Self {
        Limiter::new(None, false, metrics)
    }

    /// Shared through `shared` when given; `fail_closed`: refuse limited keys while it is degraded.
    pub fn new(shared: Option<Arc<Shared>>, fail_closed: bool, metrics: LimitMetrics) -> Self {
        Limiter {
            local: local::Table::default(),
            shared,
            fail_closed,
            metrics,
            refused: RwLock::new(HashMap::new()),
            expiry: RESERVATION_EXPIRY,
        }
    }

    /// Shared through `--redis-url` when it is set, else in memory. Fails only on a malformed URL.
    pub fn from_settings(
        settings: &crate::settings::SharedSettings,
        metrics: LimitMetrics,
    ) -> Result<Self, crate::policy::redis::SharedError> {
        let shared = match &settings.redis_url {
            Some(url) => {
                Some(Shared::start(url.expose(), &settings.redis_namespace, metrics.shared_state_degraded.clone())?)
            }
            None => None,
        };
        Ok(Limiter::new(shared, settings.limits_fail_closed, metrics))
    }

    /// The same limiter with reservations in Redis expiring after `expiry` (tests).
    pub fn with_expiry(self, expiry: Duration) -> Self {
        Limiter { expiry, ..self }
    }

    /// Reserves `estimate` in every bucket of `key`'s `limits`, or refuses with the reason.
    pub async fn reserve(
        self: &Arc<Self>,
        key: KeyRef,
        limits: &KeyLimits,
        estimate: Amounts,
    ) -> Result<Reservation, GatewayError> {
        let buckets = limits.buckets();
        let now_ms = now_ms();
        let (admitted, shared_id) = self.admit(&key, &buckets, &estimate, now_ms).await?;
        let holds = admitted.map_err(|refusal| self.refuse(&key, refusal, now_ms))?;
        self.forget_refusal(&key);
        Ok(Reservation { limiter: self.clone(), key, buckets, holds, estimate, shared_id, done: false })
    }

    /// Admits through Redis when it is healthy, else locally (or not at all when failing
    /// closed). The id is the reservation's in Redis.
    async fn admit(
        &self,
        key: &KeyRef,
        buckets: &[Bucket],
        estimate: &Amounts,
        now_ms: u64,
    ) -> Result<(Result<Vec<Hold>, Refusal>, Option<(String, Vec<String>)>), GatewayError> {
        let owner = key.owner();
        if let Some(redis) = self.shared.as_ref().filter(|s| !s.is_degraded()) {
            let id = crate::support::ids::log_id();
            let keys = shared::keys(redis, &owner, buckets);
            match shared::reserve(redis, &keys, buckets, estimate, &id, self.expiry, now_ms).await {
                Ok(Ok(holds)) => return Ok((Ok(holds), Some((id, keys)))),
                Ok(Err(refusal)) => return Ok((Err(refusal), None)),
                // Marked degraded by the call; this request goes on below.
                Err(_) => {}
            }
        }
        if self.shared.is_some() && self.fail_closed {
            return Err(GatewayError::SharedStateUnavailable { who: key.who() });
        }
        Ok((self.local.admit(&owner, buckets, estimate, now_ms), None))
    }

    fn refuse(&self, key: &KeyRef, refusal: Refusal, now_ms: u64) -> GatewayError {
        if key.kind == KeyKind::Virtual {
            let until = refusal.until_ms(now_ms);
            match self.refused.write() {
                Ok(mut map) => map.insert(key.id.clone(), until),
                Err(poisoned) => poisoned.into_inner().insert(key.id.clone(), until),
            };
        }
        let who = key.who();
        match refusal {
            Refusal::RateLimited { retry_after_ms } => GatewayError::RateLimited { who, retry_after_ms },
            Refusal::Exhausted { until_ms } => {
                GatewayError::QuotaExhausted { who, retry_after_ms: until_ms.map(|u| u.saturating_sub(now_ms)) }
            }
            Refusal::Disabled => GatewayError::KeyDisabled { who },
        }
    }

    fn forget_refusal(&self, key: &KeyRef) {
        if key.kind != KeyKind::Virtual || !self.read_refused(|map| map.contains_key(&key.id)) {
            return;
        }
        match self.refused.write() {
            Ok(mut map) => map.remove(&key.id),
            Err(poisoned) => poisoned.into_inner().remove(&key.id),
        };
    }

    fn read_refused<T>(&self, f: impl FnOnce(&HashMap<String, u64>) -> T) -> T {
        match self.refused.read() {
            Ok(map) => f(&map),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    /// Until when virtual key `slug` was last refused, if that is after `now_ms`: a local,
    /// read-locked look, for marking a limited key before trying it.
    pub fn limited_until(&self, slug: &str, now_ms: u64) -> Option<u64> {
        self.read_refused(|map| map.get(slug).copied().filter(|until| *until > now_ms))
    }

    /// Whether any virtual key was refused and not admitted since (until then no request
    /// needs [`Limiter::limited_until`]).
    pub fn has_refused(&self) -> bool {
        !self.read_refused(HashMap::is_empty)
    }

    /// Whether `key`'s budget is spent for its current period (the admin view's `exhausted`).
    pub async fn exhausted(&self, key: &KeyRef, limits: &KeyLimits) -> bool {
        let Some(usage) = limits.usage else { return false };
        let bucket = Bucket::Usage(usage);
        let owner = key.owner();
        if let Some(redis) = self.shared.as_ref().filter(|s| !s.is_degraded()) {
            if let Ok(spent) = shared::spent(redis, &owner, &bucket).await {
                return spent >= usage.limit_units();
            }
        }
        self.local.spent(&owner, &bucket, now_ms()) >= usage.limit_units()
    }

    /// Whether the shared state is configured and unreachable now.
    pub fn degraded(&self) -> bool {
        self.shared.as_ref().is_some_and(|s| s.is_degraded())
    }

    fn alert(&self, key: &KeyRef) {
        let labels = AlertLabels { key_kind: key.kind_label().to_string(), key: key.id.clone() };
        self.metrics.budget_alerts.get_or_create(&labels).inc();
        tracing::warn!(key_kind = key.kind_label(), key = %key.id, "a key's budget crossed its alert_threshold");
    }
}

fn now_ms() -> u64 {
    u64::try_from(clock::unix_ms()).unwrap_or(0)
}

/// What one request reserved with one key. Settle it with what the request used; dropped
/// unsettled, it is settled at its estimate.
pub struct Reservation {
    limiter: Arc<Limiter>,
    key: KeyRef,
    buckets: Vec<Bucket>,
    holds: Vec<Hold>,
    estimate: Amounts,
    /// Its id in Redis and the keys it reserved in, when Redis admitted it.
    shared_id: Option<(String, Vec<String>)>,
    done: bool,
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reservation").field("key", &self.key).field("estimate", &self.estimate).finish()
    }
}

impl Reservation {
    /// Settles with the request's tokens and cost in USD (`None`: unknown, the estimate stands).
    pub fn settle(mut self, tokens: Option<u64>, cost_usd: Option<f64>) {
        let actual = Amounts {
            requests: self.estimate.requests,
            tokens: tokens.unwrap_or(self.estimate.tokens),
            nano_usd: cost_usd.map_or(self.estimate.nano_usd, estimate::nano_usd),
        };
        self.finish(actual);
    }

    /// What it reserved.
    pub fn estimate(&self) -> Amounts {
        self.estimate
    }

    fn finish(&mut self, actual: Amounts) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let limiter = self.limiter.clone();
        let (key, buckets, holds) =
            (self.key.clone(), std::mem::take(&mut self.buckets), std::mem::take(&mut self.holds));
        let Some((id, keys)) = self.shared_id.take() else {
            if limiter.local.settle(&key.owner(), &buckets, &holds, &actual, now_ms()) {
                limiter.alert(&key);
            }
            return;
        };
        let Some(redis) = limiter.shared.clone() else { return };
        if tokio::runtime::Handle::try_current().is_err() {
            // No runtime (the process is ending): Redis settles it at its estimate when it expires.
            return;
        }
        tasks::spawn(async move {
            // A failure leaves the reservation to expire; the call marked Redis degraded.
            if let Ok(true) = shared::settle(&redis, &keys, &buckets, &id, &holds, &actual).await {
                limiter.alert(&key);
            }
        });
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let estimate = self.estimate;
        self.finish(estimate);
    }
}

#[cfg(test)]
mod tests;

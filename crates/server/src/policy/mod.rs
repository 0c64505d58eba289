//! Policy state beside the request path: target health (breakers, cooldowns, headroom) and
//! limits on keys, kept locally and, with `--redis-url`, shared across instances.

pub mod health;
pub mod limits;
pub mod redis;
pub mod shared_health;
pub mod snapshot;

use std::sync::Arc;

/// The target-health state one gateway instance keeps, and what it shares.
#[derive(Default)]
pub struct Policy {
    pub health: Arc<health::HealthTable>,
    /// With `--redis-url`: target health shared across instances.
    pub shared_health: Option<Arc<shared_health::SharedHealth>>,
}

/// The policy state the settings ask for: one Redis connection (with `--redis-url`) shared
/// by target health and key limits, or both kept in this process.
pub fn from_settings(
    settings: &crate::settings::SharedSettings,
    metrics: limits::LimitMetrics,
) -> Result<(Policy, Arc<limits::Limiter>), redis::SharedError> {
    let shared = match &settings.redis_url {
        Some(url) => {
            Some(redis::Shared::start(url.expose(), &settings.redis_namespace, metrics.shared_state_degraded.clone())?)
        }
        None => None,
    };
    let policy = shared.clone().map_or_else(Policy::default, Policy::shared);
    let limiter = limits::Limiter::new(shared, settings.limits_fail_closed, metrics);
    Ok((policy, Arc::new(limiter)))
}

impl Policy {
    /// Policy state shared through `shared` (its health table mirrors Redis).
    pub fn shared(shared: Arc<redis::Shared>) -> Policy {
        let health = Arc::new(health::HealthTable::default());
        let shared_health = Some(shared_health::SharedHealth::start(shared, health.clone()));
        Policy { health, shared_health }
    }
}

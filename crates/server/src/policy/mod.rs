//! Policy state beside the request path: target health (breakers, cooldowns, headroom) and
//! limits on keys, kept locally and, with `--redis-url`, shared across instances.

pub mod health;
pub mod redis;
pub mod shared_health;
pub mod snapshot;

use std::sync::Arc;

/// The policy state one gateway instance keeps, and what it shares.
#[derive(Default)]
pub struct Policy {
    pub health: Arc<health::HealthTable>,
    /// With `--redis-url`: target health shared across instances.
    pub shared_health: Option<Arc<shared_health::SharedHealth>>,
}

impl Policy {
    /// Policy state shared through `shared` (its health table mirrors Redis).
    pub fn shared(shared: Arc<redis::Shared>) -> Policy {
        let health = Arc::new(health::HealthTable::default());
        let shared_health = Some(shared_health::SharedHealth::start(shared, health.clone()));
        Policy { health, shared_health }
    }
}

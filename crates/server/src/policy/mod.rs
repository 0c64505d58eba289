//! Policy state beside the request path: target health (breakers, cooldowns, headroom) and
//! limits on keys, kept locally and, with `--redis-url`, shared across instances.

pub mod health;
pub mod snapshot;

/// The policy state one gateway instance keeps.
#[derive(Default)]
pub struct Policy {
    pub health: health::HealthTable,
}

//! Policy state beside the request path: target health (breakers, cooldowns, headroom) and
//! limits on keys, kept locally and, with `--redis-url`, shared across instances.

pub mod limits;
pub mod redis;

//! Target health, as pure data and decisions: what a target's identity is, the circuit
//! breaker's state machine, Retry-After cooldowns, providers' rate-limit headroom, and the
//! one [`TargetState`] the planner reads through [`Health`]. Nothing here reads a clock or
//! holds shared state: times are the caller's milliseconds, and the server keeps the table.

pub mod headroom;
pub mod rendezvous;

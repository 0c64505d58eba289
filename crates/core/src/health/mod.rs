//! Target health, as pure data and decisions: the circuit breaker's state machine
//! ([`breaker`]), providers' rate-limit headroom ([`headroom`]), sticky assignment
//! ([`rendezvous`]), and the one [`TargetState`] the planner reads (through `planner::Health`).
//!
//! Nothing here reads a clock or holds shared state: times are the caller's unix
//! milliseconds, and the server keeps the table of identities (one entry per provider +
//! credential + destination + model, whichever config reaches it).

pub mod breaker;
pub mod headroom;
pub mod rendezvous;

/// The longest a `Retry-After` cools a target; a provider asking for longer is cut to it.
pub const MAX_COOLDOWN_MS: u64 = 10 * 60 * 1000;

/// What the router knows about one target now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Available,
    /// The breaker tripped; it lets a probe through at `until_ms`.
    Open {
        until_ms: u64,
    },
    /// The breaker's cooldown is over: one probe may go. `probing_until_ms` is set while a
    /// probe is in flight (the target is unavailable to everyone else until then).
    HalfOpen {
        probing_until_ms: Option<u64>,
    },
    /// The provider asked us to wait (`Retry-After` on a 429 or 503).
    Cooling {
        until_ms: u64,
    },
    /// The provider's own rate-limit headers say this request would not fit before the reset.
    NoHeadroom {
        until_ms: u64,
    },
    /// A virtual key's own `rate_limits` or `usage_limits` are spent until then.
    Limited {
        until_ms: u64,
    },
    /// The target's provider cannot serve this request's endpoint (`reason` says why): it is
    /// never chosen for it, not even when nothing else is available.
    Unsupported {
        reason: &'static str,
    },
}

impl TargetState {
    /// The word the explainer, the health view and the log use.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Available => "available",
            TargetState::Open { .. } => "open",
            TargetState::HalfOpen { .. } => "half_open",
            TargetState::Cooling { .. } => "cooling",
            TargetState::NoHeadroom { .. } => "no_headroom",
            TargetState::Limited { .. } => "limited",
            TargetState::Unsupported { .. } => "unsupported",
        }
    }

    /// Whether the target can serve the request at all (later, if not now).
    pub fn is_supported(self) -> bool {
        !matches!(self, TargetState::Unsupported { .. })
    }

    /// Whether the router may send this request to the target now.
    pub fn is_available(self) -> bool {
        matches!(self, TargetState::Available | TargetState::HalfOpen { probing_until_ms: None })
    }

    /// When the target becomes available (0 when it is now; never, for an unsupported one).
    pub fn available_at_ms(self) -> u64 {
        match self {
            TargetState::Available | TargetState::HalfOpen { probing_until_ms: None } => 0,
            TargetState::Unsupported { .. } => u64::MAX,
            TargetState::HalfOpen { probing_until_ms: Some(until_ms) }
            | TargetState::Open { until_ms }
            | TargetState::Cooling { until_ms }
            | TargetState::NoHeadroom { until_ms }
            | TargetState::Limited { until_ms } => until_ms,
        }
    }

    /// The more restrictive of two states: the one available later; on a tie, a half-open
    /// state over an available one (its probe must still be claimed), else `self`.
    pub fn worst(self, other: TargetState) -> TargetState {
        let rank = |s: TargetState| (s.available_at_ms(), u8::from(s != TargetState::Available));
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// How long a 429 or 503 with `Retry-After` cools its target: the asked wait, capped.
pub fn cooldown_until(now_ms: u64, status: u16, retry_after_ms: Option<u64>) -> Option<u64> {
    if status != 429 && status != 503 {
        return None;
    }
    retry_after_ms.map(|ms| now_ms.saturating_add(ms.min(MAX_COOLDOWN_MS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_429_and_503_with_retry_after_cool_a_target() {
        assert_eq!(cooldown_until(1_000, 429, Some(30_000)), Some(31_000));
        assert_eq!(cooldown_until(1_000, 503, Some(0)), Some(1_000));
        assert_eq!(cooldown_until(1_000, 500, Some(30_000)), None);
        assert_eq!(cooldown_until(1_000, 429, None), None);
    }

    #[test]
    fn a_cooldown_is_capped_at_ten_minutes() {
        assert_eq!(cooldown_until(0, 429, Some(u64::MAX)), Some(MAX_COOLDOWN_MS));
        assert_eq!(cooldown_until(u64::MAX, 429, Some(5)), Some(u64::MAX));
    }

    #[test]
    fn a_probing_half_open_target_is_unavailable_until_the_probe_ends() {
        let probing = TargetState::HalfOpen { probing_until_ms: Some(9) };
        assert!(!probing.is_available());
        assert_eq!(probing.available_at_ms(), 9);
        assert!(TargetState::HalfOpen { probing_until_ms: None }.is_available());
    }

    #[test]
    fn worst_is_the_state_available_later() {
        let cooling = TargetState::Cooling { until_ms: 5 };
        let open = TargetState::Open { until_ms: 9 };
        assert_eq!(cooling.worst(open), open);
        assert_eq!(open.worst(cooling), open);
        assert_eq!(TargetState::Available.worst(cooling), cooling);
    }

    #[test]
    fn a_half_open_state_is_worse_than_an_available_one() {
        let half_open = TargetState::HalfOpen { probing_until_ms: None };
        assert_eq!(TargetState::Available.worst(half_open), half_open);
        assert_eq!(half_open.worst(TargetState::Available), half_open);
    }
}

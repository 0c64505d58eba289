//! The circuit breaker: Portkey's `cb_config` fields with their meaning, plus what Portkey's
//! lacks — a rolling window (ten buckets; old failures age out instead of counting from the
//! first one) and a half-open state that lets one probe through after the cooldown, closes
//! on its success and reopens on its failure.
//!
//! Pure: every call takes `now_ms`. One [`Breaker`] per target identity; the [`CbConfig`] is
//! the reporting request's (a target reached by two configs opens by whichever config's
//! thresholds it crosses first, and is then open for both).

/// Buckets of the rolling window.
const BUCKETS: usize = 10;

/// A checked `strategy.cb_config`.
#[derive(Debug, Clone, PartialEq)]
pub struct CbConfig {
    /// Failures in the window that open the breaker.
    pub failure_threshold: Option<u32>,
    /// Percentage of failed requests in the window (0–100) that opens the breaker.
    pub failure_threshold_percentage: Option<f64>,
    /// Requests the window must hold before either threshold applies.
    pub minimum_requests: u32,
    /// How long the breaker stays open before a probe (Portkey's `cooldown_interval`).
    pub cooldown_ms: u64,
    /// Statuses that count as failures; `None`: any status ≥ 500.
    pub failure_status_codes: Option<Vec<u16>>,
    /// Length of the rolling window (Switchboard's `window`).
    pub window_ms: u64,
}

/// The default rolling window: one minute.
pub const DEFAULT_WINDOW_MS: u64 = 60_000;

impl CbConfig {
    /// Whether an attempt that ended with `status` counts against the target. Timeouts and
    /// unreachable providers (the gateway's 408/502/504) always do.
    pub fn is_failure(&self, status: u16, transport: bool) -> bool {
        if transport {
            return true;
        }
        match &self.failure_status_codes {
            Some(codes) => codes.contains(&status),
            None => status >= 500,
        }
    }

    fn bucket_ms(&self) -> u64 {
        (self.window_ms / BUCKETS as u64).max(1)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Bucket {
    /// Which slice of time (`now / bucket_ms`) the counts belong to.
    slot: u64,
    total: u32,
    failures: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    Open {
        until_ms: u64,
    },
    /// After the cooldown; `probe_until_ms` while a probe is in flight.
    HalfOpen {
        probe_until_ms: Option<u64>,
    },
}

/// One identity's breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breaker {
    buckets: [Bucket; BUCKETS],
    phase: Phase,
}

/// What the breaker's state is, as the router sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open { until_ms: u64 },
    HalfOpen { probing_until_ms: Option<u64> },
}

/// What one [`Breaker::record`] changed, for the log and a warning per transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    Opened { until_ms: u64 },
    Closed,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker { buckets: [Bucket::default(); BUCKETS], phase: Phase::Closed }
    }
}

impl Breaker {
    pub fn state(&self, now_ms: u64) -> BreakerState {
        match self.phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until_ms } if now_ms < until_ms => BreakerState::Open { until_ms },
            Phase::Open { .. } => BreakerState::HalfOpen { probing_until_ms: None },
            Phase::HalfOpen { probe_until_ms } => {
                BreakerState::HalfOpen { probing_until_ms: probe_until_ms.filter(|until| now_ms < *until) }
            }
        }
    }

    /// Claims the probe of a half-open breaker for `ttl_ms` (after which, with no outcome
    /// reported, another request may probe). `true` when the request may go: the breaker is
    /// closed, or this request won the probe.
    pub fn try_pass(&mut self, now_ms: u64, ttl_ms: u64) -> bool {
        match self.state(now_ms) {
            BreakerState::Closed => true,
            BreakerState::Open { .. } | BreakerState::HalfOpen { probing_until_ms: Some(_) } => false,
            BreakerState::HalfOpen { probing_until_ms: None } => {
                self.phase = Phase::HalfOpen { probe_until_ms: Some(now_ms.saturating_add(ttl_ms)) };
                true
            }
        }
    }

    /// Counts one outcome. In the half-open state it decides: a success closes, a failure
    /// reopens. Closed, it opens when the window crosses a threshold of `cb`; without a
    /// `cb` (a config with no breaker reached this target) it only counts.
    pub fn record(&mut self, now_ms: u64, failed: bool, cb: Option<&CbConfig>) -> Transition {
        match self.state(now_ms) {
            BreakerState::HalfOpen { .. } if failed => self.open(now_ms, cb),
            BreakerState::HalfOpen { .. } => {
                *self = Breaker::default();
                Transition::Closed
            }
            // Late answers of requests sent before it opened change nothing.
            BreakerState::Open { .. } => Transition::None,
            BreakerState::Closed => {
                let Some(cb) = cb else { return Transition::None };
                self.count(now_ms, failed, cb);
                if self.tripped(now_ms, cb) {
                    self.open(now_ms, Some(cb))
                } else {
                    Transition::None
                }
            }
        }
    }

    /// Requests and failures in the window ending at `now_ms`.
    pub fn window(&self, now_ms: u64, cb: &CbConfig) -> (u32, u32) {
        let bucket_ms = cb.bucket_ms();
        let current = now_ms / bucket_ms;
        let live = self.buckets.iter().filter(|b| b.total > 0 && current.saturating_sub(b.slot) < BUCKETS as u64);
        live.fold((0, 0), |(t, f), b| (t.saturating_add(b.total), f.saturating_add(b.failures)))
    }

    fn count(&mut self, now_ms: u64, failed: bool, cb: &CbConfig) {
        let slot = now_ms / cb.bucket_ms();
        let bucket = &mut self.buckets[(slot % BUCKETS as u64) as usize];
        if bucket.slot != slot {
            *bucket = Bucket { slot, total: 0, failures: 0 };
        }
        bucket.total = bucket.total.saturating_add(1);
        bucket.failures = bucket.failures.saturating_add(u32::from(failed));
    }

    fn tripped(&self, now_ms: u64, cb: &CbConfig) -> bool {
        let (total, failures) = self.window(now_ms, cb);
        if failures == 0 || total < cb.minimum_requests {
            return false;
        }
        let by_count = cb.failure_threshold.is_some_and(|n| failures >= n);
        let share = f64::from(failures) * 100.0 / f64::from(total);
        let by_share = cb.failure_threshold_percentage.is_some_and(|pct| share >= pct);
        by_count || by_share
    }

    /// Opens for the config's cooldown (a half-open probe that failed without a config —
    /// reached through a config with no breaker — reopens for the default cooldown).
    fn open(&mut self, now_ms: u64, cb: Option<&CbConfig>) -> Transition {
        let cooldown = cb.map_or(DEFAULT_COOLDOWN_MS, |cb| cb.cooldown_ms);
        let until_ms = now_ms.saturating_add(cooldown);
        *self = Breaker { buckets: [Bucket::default(); BUCKETS], phase: Phase::Open { until_ms } };
        Transition::Opened { until_ms }
    }
}

/// The cooldown when a config gives none: Portkey's minimum, 30 s.
pub const DEFAULT_COOLDOWN_MS: u64 = 30_000;

#[cfg(test)]
mod tests;

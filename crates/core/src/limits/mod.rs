//! Limits on keys: Portkey's `rate_limits` and `usage_limits` shapes, checked ([`parse`]),
//! and the arithmetic of reserving at admission and settling at completion ([`window`],
//! [`budget`], [`admit`]). Pure: every time is the caller's `now_ms` (milliseconds since the
//! Unix epoch, UTC); the server keeps the state (in memory, or in Redis, whose scripts restate
//! this arithmetic) and reads the clock.
//!
//! The rule: a request is admitted while what is spent plus what requests in flight have
//! reserved is *below* the limit, in every bucket it touches (each rate limit's rolling
//! window, the usage budget). It then reserves its estimate in each of them — one request,
//! its token estimate, its cost estimate — all or nothing: if one bucket refuses, none is
//! charged. At completion the reservation is settled: the difference between what the
//! request really used and its estimate is charged (or refunded) in the window slot or the
//! budget period where it was reserved; if that slot has left the window or the period has
//! ended, nothing changes.
//!
//! Overshoot bound: the last request admitted saw spent + reserved below the limit, so once
//! everything settles the bucket is below `limit + its own use + Σ (actual − estimate)` over
//! the requests that were in flight with it. A request limit therefore never overshoots (each
//! request is exactly 1); a token or cost bucket overshoots by at most one request's use plus
//! one estimate error per in-flight request — which is how far a stream whose output outgrew
//! its estimate can take it.
//!
//! Amounts are integers: requests, tokens, and cost in nano-USD ([`NANO_USD_PER_USD`]), so
//! both backends add and compare exactly.

pub mod admit;
pub mod budget;
pub mod parse;
pub mod period;
pub mod window;

pub use admit::{admit, settle, Amounts, Bucket, BucketKey, Hold, Refusal, Settled, Tally};
pub use budget::{crossed, Budget};
pub use parse::{from_options, parse_key_limits, parse_rate_limits, parse_usage_limits, LIMIT_KEYS};
pub use period::{period, Period};
pub use window::{Window, SLOTS};

/// Cost amounts are kept in nano-USD so that sums are exact.
pub const NANO_USD_PER_USD: f64 = 1e9;

/// What a rate limit counts (Portkey's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    Requests,
    Tokens,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Requests => "requests",
            Measure::Tokens => "tokens",
        }
    }
}

/// A rate limit's window (Portkey's `unit`): a minute, an hour or a day, rolling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    Rpm,
    Rph,
    Rpd,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Rpm => "rpm",
            Unit::Rph => "rph",
            Unit::Rpd => "rpd",
        }
    }

    pub fn window_ms(self) -> u64 {
        match self {
            Unit::Rpm => 60_000,
            Unit::Rph => 3_600_000,
            Unit::Rpd => 86_400_000,
        }
    }

    /// "minute", "hour", "day", for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Unit::Rpm => "minute",
            Unit::Rph => "hour",
            Unit::Rpd => "day",
        }
    }
}

/// At most `value` requests (or tokens) in any rolling window of `unit`; 0 disables the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub measure: Measure,
    pub unit: Unit,
    pub value: u64,
}

impl RateLimit {
    /// A limit of 0 disables the key (Portkey's rule).
    pub fn disables(&self) -> bool {
        self.value == 0
    }
}

/// What a usage budget counts (Portkey's `usage_limits.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BudgetKind {
    /// USD.
    Cost,
    Tokens,
}

impl BudgetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetKind::Cost => "cost",
            BudgetKind::Tokens => "tokens",
        }
    }
}

/// When a budget starts again from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reset {
    /// One period forever (Portkey: cumulative).
    Never,
    /// Calendar months, UTC.
    Monthly,
    /// Weeks from Monday 00:00 UTC.
    Weekly,
    /// Every N days, counted from the Unix epoch.
    Days(u32),
}

impl Reset {
    /// A short stable name, part of the budget's storage key.
    pub fn key(self) -> String {
        match self {
            Reset::Never => "never".into(),
            Reset::Monthly => "monthly".into(),
            Reset::Weekly => "weekly".into(),
            Reset::Days(n) => format!("{n}d"),
        }
    }
}

/// A budget: `credit_limit` (USD or tokens) per period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsageLimit {
    pub kind: BudgetKind,
    pub credit_limit: f64,
    /// An absolute amount in the unit of `credit_limit`, below it.
    pub alert_threshold: Option<f64>,
    pub reset: Reset,
}

impl UsageLimit {
    /// The limit in amount units (tokens, or nano-USD).
    pub fn limit_units(&self) -> u64 {
        self.units(self.credit_limit)
    }

    pub fn alert_units(&self) -> Option<u64> {
        self.alert_threshold.map(|t| self.units(t))
    }

    fn units(&self, amount: f64) -> u64 {
        match self.kind {
            BudgetKind::Cost => (amount * NANO_USD_PER_USD).round() as u64,
            BudgetKind::Tokens => amount.round() as u64,
        }
    }
}

/// A key's limits, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyLimits {
    pub rate: Vec<RateLimit>,
    pub usage: Option<UsageLimit>,
}

impl KeyLimits {
    pub fn is_empty(&self) -> bool {
        self.rate.is_empty() && self.usage.is_none()
    }

    /// The buckets these limits touch, in a stable order (rate limits as given, then the budget).
    pub fn buckets(&self) -> Vec<Bucket> {
        let rates = self.rate.iter().copied().map(Bucket::Rate);
        rates.chain(self.usage.map(Bucket::Usage)).collect()
    }
}

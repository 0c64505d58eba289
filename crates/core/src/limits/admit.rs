//! Admission and settlement across every bucket a request touches, all or nothing: each
//! bucket is checked first, and only when none refuses is the estimate charged in each. The
//! refusal says why and for how long: the worst of the buckets' reasons.

use super::budget::{crossed, Budget};
use super::period::period;
use super::window::Window;
use super::{BudgetKind, Measure, RateLimit, UsageLimit};

/// One limit of a key: a rolling window, or the budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bucket {
    Rate(RateLimit),
    Usage(UsageLimit),
}

/// What a bucket's state is keyed by: what it counts and over what. A limit changed in
/// value keeps its state; changed in kind or period, it gets a fresh one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketKey {
    Rate(Measure, super::Unit),
    Usage(BudgetKind, super::Reset),
}

/// What a bucket holds (a window is 60 slots: boxed, so a budget stays small).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tally {
    Window(Box<Window>),
    Budget(Budget),
}

/// A request's use (estimated at admission, actual at settlement): requests, tokens, cost
/// in nano-USD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amounts {
    pub requests: u64,
    pub tokens: u64,
    pub nano_usd: u64,
}

/// What a request reserved in one bucket: the window slot (or the budget period's start)
/// and the amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    pub mark: u64,
    pub estimate: u64,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A rolling window is full; it will have room in `retry_after_ms`.
    RateLimited { retry_after_ms: u64 },
    /// The budget is spent until its period ends (`None`: it never resets).
    Exhausted { until_ms: Option<u64> },
    /// A rate limit of 0: the key is disabled.
    Disabled,
}

impl Refusal {
    fn rank(self) -> (u8, u64) {
        match self {
            Refusal::RateLimited { retry_after_ms } => (0, retry_after_ms),
            Refusal::Exhausted { until_ms } => (1, until_ms.unwrap_or(u64::MAX)),
            Refusal::Disabled => (2, 0),
        }
    }

    /// The later of two refusals: what the client must wait for.
    pub fn worse(self, other: Refusal) -> Refusal {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// The instant until which the key is refused (`u64::MAX`: until an admin acts).
    pub fn until_ms(self, now_ms: u64) -> u64 {
        match self {
            Refusal::RateLimited { retry_after_ms } => now_ms.saturating_add(retry_after_ms),
            Refusal::Exhausted { until_ms } => until_ms.unwrap_or(u64::MAX),
            Refusal::Disabled => u64::MAX,
        }
    }
}

/// What a settlement did: whether the budget's spending crossed its alert threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    pub alert: bool,
}

impl Bucket {
    /// The limit, in the bucket's amount unit.
    pub fn limit(&self) -> u64 {
        match self {
            Bucket::Rate(rate) => rate.value,
            Bucket::Usage(usage) => usage.limit_units(),
        }
    }

    /// The part of `amounts` this bucket counts.
    pub fn amount(&self, amounts: &Amounts) -> u64 {
        match self {
            Bucket::Rate(RateLimit { measure: Measure::Requests, .. }) => amounts.requests,
            Bucket::Rate(RateLimit { measure: Measure::Tokens, .. })
            | Bucket::Usage(UsageLimit { kind: BudgetKind::Tokens, .. }) => amounts.tokens,
            Bucket::Usage(UsageLimit { kind: BudgetKind::Cost, .. }) => amounts.nano_usd,
        }
    }

    /// Which state the bucket uses, as a value (what [`Bucket::name`] says in words).
    pub fn key(&self) -> BucketKey {
        match self {
            Bucket::Rate(rate) => BucketKey::Rate(rate.measure, rate.unit),
            Bucket::Usage(usage) => BucketKey::Usage(usage.kind, usage.reset),
        }
    }

    /// A stable name for the bucket's state: what it counts and over what (`rate:requests:rpm`,
    /// `usage:cost:monthly`); a limit changed in kind or period gets a fresh state.
    pub fn name(&self) -> String {
        match self {
            Bucket::Rate(rate) => format!("rate:{}:{}", rate.measure.as_str(), rate.unit.as_str()),
            Bucket::Usage(usage) => format!("usage:{}:{}", usage.kind.as_str(), usage.reset.key()),
        }
    }

    /// An empty state of this bucket's kind.
    pub fn fresh(&self) -> Tally {
        match self {
            Bucket::Rate(rate) => Tally::Window(Box::new(Window::new(rate.unit.window_ms()))),
            Bucket::Usage(_) => Tally::Budget(Budget::default()),
        }
    }

    /// `tally` if it is of this bucket's kind, else a fresh one.
    fn fit(&self, tally: &mut Tally) {
        let fits =
            matches!((self, &*tally), (Bucket::Rate(_), Tally::Window(_)) | (Bucket::Usage(_), Tally::Budget(_)));
        if !fits {
            *tally = self.fresh();
        }
    }

    /// Whether a request may start now (rolling a budget into the current period).
    pub fn check(&self, tally: &mut Tally, now_ms: u64) -> Result<(), Refusal> {
        self.fit(tally);
        match (self, tally) {
            (Bucket::Rate(rate), _) if rate.disables() => Err(Refusal::Disabled),
            (Bucket::Rate(rate), Tally::Window(w)) => w.check(rate.value, now_ms).map_err(|wait| match wait {
                Some(retry_after_ms) => Refusal::RateLimited { retry_after_ms },
                None => Refusal::Disabled,
            }),
            (Bucket::Usage(usage), Tally::Budget(b)) => {
                let current = period(usage.reset, now_ms);
                b.roll(current);
                if b.admits(usage.limit_units()) {
                    Ok(())
                } else {
                    Err(Refusal::Exhausted { until_ms: current.end_ms })
                }
            }
            _ => Ok(()),
        }
    }

    /// Reserves `estimate` (checked first by [`Bucket::check`]).
    fn charge(&self, tally: &mut Tally, estimate: &Amounts, now_ms: u64) -> Hold {
        let amount = self.amount(estimate);
        let mark = match tally {
            Tally::Window(w) => w.charge(amount, now_ms),
            Tally::Budget(b) => {
                b.reserve(amount);
                b.period_start
            }
        };
        Hold { mark, estimate: amount }
    }
}

/// Checks every bucket, then charges `estimate` in each, or none: `tallies[i]` is the state of
/// `buckets[i]`. The holds are what [`settle`] needs, in the same order.
pub fn admit(buckets: &[Bucket], tallies: &mut [Tally], estimate: &Amounts, now_ms: u64) -> Result<Vec<Hold>, Refusal> {
    let mut refusal: Option<Refusal> = None;
    for (bucket, tally) in buckets.iter().zip(tallies.iter_mut()) {
        if let Err(why) = bucket.check(tally, now_ms) {
            refusal = Some(refusal.map_or(why, |r| r.worse(why)));
        }
    }
    if let Some(why) = refusal {
        return Err(why);
    }
    Ok(buckets.iter().zip(tallies.iter_mut()).map(|(b, t)| b.charge(t, estimate, now_ms)).collect())
}

/// Replaces a hold's estimate by what the request really used, where it was reserved.
pub fn settle(bucket: &Bucket, tally: &mut Tally, hold: Hold, actual: &Amounts, now_ms: u64) -> Settled {
    let amount = bucket.amount(actual);
    match (bucket, tally) {
        (Bucket::Rate(_), Tally::Window(w)) => {
            w.settle(hold.mark, hold.estimate, amount, now_ms);
            Settled::default()
        }
        (Bucket::Usage(usage), Tally::Budget(b)) => {
            let moved = b.settle(hold.mark, hold.estimate, amount);
            let alert = match (moved, usage.alert_units()) {
                (Some((before, after)), Some(threshold)) => crossed(threshold, before, after),
                _ => false,
            };
            Settled { alert }
        }
        _ => Settled::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Reset, Unit};

    const T0: u64 = 1_764_600_000_000;

    fn rpm(value: u64) -> Bucket {
        Bucket::Rate(RateLimit { measure: Measure::Requests, unit: Unit::Rpm, value })
    }

    fn tpm(value: u64) -> Bucket {
        Bucket::Rate(RateLimit { measure: Measure::Tokens, unit: Unit::Rpm, value })
    }

    fn tokens_budget(limit: f64, alert: Option<f64>) -> Bucket {
        Bucket::Usage(UsageLimit {
            kind: BudgetKind::Tokens,
            credit_limit: limit,
            alert_threshold: alert,
            reset: Reset::Never,
        })
    }

    fn request(tokens: u64) -> Amounts {
        Amounts { requests: 1, tokens, nano_usd: 0 }
    }

    fn fresh(buckets: &[Bucket]) -> Vec<Tally> {
        buckets.iter().map(Bucket::fresh).collect()
    }

    #[test]
    fn a_request_limit_admits_exactly_its_value_then_refuses_with_the_wait() {
        let buckets = [rpm(5)];
        let mut tallies = fresh(&buckets);
        for i in 0..5 {
            assert!(admit(&buckets, &mut tallies, &request(10), T0 + i).is_ok(), "request {i}");
        }
        let refused = admit(&buckets, &mut tallies, &request(10), T0 + 400);
        assert_eq!(refused, Err(Refusal::RateLimited { retry_after_ms: 59_600 }));
    }

    #[test]
    fn a_refusal_in_one_bucket_charges_none() {
        let buckets = [rpm(10), tpm(100)];
        let mut tallies = fresh(&buckets);
        assert!(admit(&buckets, &mut tallies, &request(150), T0).is_ok(), "admitted while below: 0 < 100");
        let before = tallies.clone();
        assert!(matches!(admit(&buckets, &mut tallies, &request(1), T0 + 1), Err(Refusal::RateLimited { .. })));
        assert_eq!(tallies, before, "the request window was not charged for the refused request");
    }

    #[test]
    fn settlement_refunds_or_charges_the_difference() {
        let buckets = [tpm(100)];
        let mut tallies = fresh(&buckets);
        let holds = admit(&buckets, &mut tallies, &request(90), T0).unwrap_or_default();
        settle(&buckets[0], &mut tallies[0], holds[0], &request(20), T0 + 10);
        let Tally::Window(w) = &tallies[0] else { panic!("a window") };
        assert_eq!(w.used(T0 + 10), 20, "refunded 70");
        let holds = admit(&buckets, &mut tallies, &request(10), T0 + 20).unwrap_or_default();
        settle(&buckets[0], &mut tallies[0], holds[0], &request(200), T0 + 30);
        let Tally::Window(w) = &tallies[0] else { panic!("a window") };
        assert_eq!(w.used(T0 + 30), 220, "charged 190 more");
        assert!(admit(&buckets, &mut tallies, &request(1), T0 + 40).is_err());
    }

    #[test]
    fn the_worst_refusal_wins() {
        let buckets = [rpm(1), tokens_budget(5.0, None), rpm(0)];
        let mut tallies = fresh(&buckets);
        assert_eq!(admit(&buckets, &mut tallies, &request(10), T0), Err(Refusal::Disabled));
        let buckets = [rpm(1), tokens_budget(5.0, None)];
        let mut tallies = fresh(&buckets);
        assert!(admit(&buckets, &mut tallies, &request(10), T0).is_ok());
        assert_eq!(admit(&buckets, &mut tallies, &request(10), T0), Err(Refusal::Exhausted { until_ms: None }));
    }

    #[test]
    fn a_rate_limit_of_zero_disables_the_key() {
        let buckets = [rpm(0)];
        let mut tallies = fresh(&buckets);
        assert_eq!(admit(&buckets, &mut tallies, &request(0), T0), Err(Refusal::Disabled));
        assert_eq!(Refusal::Disabled.until_ms(T0), u64::MAX);
    }

    #[test]
    fn a_monthly_budget_refuses_until_the_month_ends_then_starts_again() {
        let usage =
            UsageLimit { kind: BudgetKind::Cost, credit_limit: 1.0, alert_threshold: None, reset: Reset::Monthly };
        let buckets = [Bucket::Usage(usage)];
        let mut tallies = fresh(&buckets);
        let cost = Amounts { requests: 1, tokens: 0, nano_usd: 600_000_000 };
        for _ in 0..2 {
            let holds = admit(&buckets, &mut tallies, &cost, T0).unwrap_or_default();
            settle(&buckets[0], &mut tallies[0], holds[0], &cost, T0);
        }
        let end = period(Reset::Monthly, T0).end_ms;
        assert_eq!(admit(&buckets, &mut tallies, &cost, T0 + 1), Err(Refusal::Exhausted { until_ms: end }));
        let next_month = end.unwrap_or_default();
        assert!(admit(&buckets, &mut tallies, &cost, next_month).is_ok(), "a new month, a new budget");
    }

    #[test]
    fn a_settle_that_crosses_the_alert_threshold_says_so_once() {
        let buckets = [tokens_budget(100.0, Some(50.0))];
        let mut tallies = fresh(&buckets);
        let mut alerts = Vec::new();
        for used in [30, 30, 30] {
            let holds = admit(&buckets, &mut tallies, &request(10), T0).unwrap_or_default();
            alerts.push(settle(&buckets[0], &mut tallies[0], holds[0], &request(used), T0).alert);
        }
        assert_eq!(alerts, [false, true, false]);
    }

    #[test]
    fn a_changed_limit_kind_starts_from_a_fresh_state() {
        let buckets = [rpm(1)];
        let mut tallies = vec![Tally::Budget(Budget::default())];
        assert!(admit(&buckets, &mut tallies, &request(0), T0).is_ok());
        assert!(matches!(tallies[0], Tally::Window(_)));
        assert_eq!(rpm(1).name(), "rate:requests:rpm");
        assert_eq!(tokens_budget(1.0, None).name(), "usage:tokens:never");
    }
}

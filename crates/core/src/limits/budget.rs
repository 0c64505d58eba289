//! A usage budget: what its current period has spent, what requests in flight have
//! reserved, and which period that is. A new period starts from zero; a settle for a period
//! that has ended changes nothing.

use super::period::Period;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    /// The start of the period `spent` and `reserved` belong to.
    pub period_start: u64,
    pub spent: u64,
    pub reserved: u64,
}

impl Budget {
    /// Moves the budget into `period`, starting from zero when it is a new one.
    pub fn roll(&mut self, period: Period) {
        if self.period_start != period.start_ms {
            *self = Budget { period_start: period.start_ms, spent: 0, reserved: 0 };
        }
    }

    /// Whether a request may start: spent plus reserved is below `limit`.
    pub fn admits(&self, limit: u64) -> bool {
        self.spent.saturating_add(self.reserved) < limit
    }

    /// Whether the period's money (or tokens) is gone: spent alone reaches `limit`.
    pub fn exhausted(&self, limit: u64) -> bool {
        self.spent >= limit
    }

    pub fn reserve(&mut self, amount: u64) {
        self.reserved = self.reserved.saturating_add(amount);
    }

    /// The reservation of `estimate` made in `period_start` becomes `actual` spent. Returns
    /// what was spent before and after, for [`crossed`]; `None` when that period has ended.
    pub fn settle(&mut self, period_start: u64, estimate: u64, actual: u64) -> Option<(u64, u64)> {
        if period_start != self.period_start {
            return None;
        }
        let before = self.spent;
        self.reserved = self.reserved.saturating_sub(estimate);
        self.spent = self.spent.saturating_add(actual);
        Some((before, self.spent))
    }
}

/// Whether spending went from below `threshold` to at or above it.
pub fn crossed(threshold: u64, before: u64, after: u64) -> bool {
    before < threshold && after >= threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(start: u64) -> Period {
        Period { start_ms: start, end_ms: Some(start + 1000) }
    }

    #[test]
    fn a_budget_admits_while_spent_plus_reserved_is_below_the_limit() {
        let mut b = Budget::default();
        b.roll(month(100));
        b.reserve(6);
        assert!(b.admits(10));
        b.reserve(4);
        assert!(!b.admits(10), "reservations in flight count");
        assert!(!b.exhausted(10), "nothing is spent yet");
        assert_eq!(b.settle(100, 4, 1), Some((0, 1)));
        assert!(b.admits(10), "a refund makes room again");
    }

    #[test]
    fn a_settle_charges_the_difference_in_its_own_period() {
        let mut b = Budget::default();
        b.roll(month(100));
        b.reserve(5);
        assert_eq!(b.settle(100, 5, 12), Some((0, 12)));
        assert_eq!((b.spent, b.reserved), (12, 0));
        assert!(b.exhausted(12));
    }

    #[test]
    fn a_new_period_starts_from_zero_and_ignores_the_old_periods_settles() {
        let mut b = Budget::default();
        b.roll(month(100));
        b.reserve(7);
        b.settle(100, 7, 20);
        b.reserve(3);
        b.roll(month(1100));
        assert_eq!((b.spent, b.reserved, b.period_start), (0, 0, 1100));
        assert_eq!(b.settle(100, 3, 50), None);
        assert_eq!(b.spent, 0);
        b.roll(month(1100));
        assert_eq!(b.period_start, 1100, "rolling into the same period keeps it");
    }

    #[test]
    fn an_alert_fires_when_a_settle_crosses_the_threshold() {
        assert!(crossed(8, 7, 8));
        assert!(crossed(8, 0, 30));
        assert!(!crossed(8, 8, 9), "already past it before");
        assert!(!crossed(8, 2, 7));
    }
}

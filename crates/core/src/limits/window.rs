//! A rolling window kept as [`SLOTS`] slots of window/60 each (a minute: 1 s slots). What a
//! slot holds counts until the slot is 60 slots old, so the window rolls in steps of one
//! slot; the check is O(60), and the time to wait is exact: when enough of the oldest slots
//! have left for the window to be below its limit again.

/// Slots per window.
pub const SLOTS: u64 = 60;

/// What the window holds: for each slot (by its index modulo [`SLOTS`]) its absolute index
/// and the amount charged in it (spent and reserved alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    slot_ms: u64,
    ids: [Option<u64>; SLOTS as usize],
    used: [u64; SLOTS as usize],
}

impl Window {
    pub fn new(window_ms: u64) -> Self {
        Window { slot_ms: (window_ms / SLOTS).max(1), ids: [None; SLOTS as usize], used: [0; SLOTS as usize] }
    }

    /// The absolute index of the slot `now_ms` falls in.
    pub fn slot_of(&self, now_ms: u64) -> u64 {
        now_ms / self.slot_ms
    }

    fn live(&self, id: u64, current: u64) -> bool {
        id <= current && id + SLOTS > current
    }

    /// What slot `id` holds if it is still in the window at `now_ms`.
    fn at(&self, id: u64, current: u64) -> u64 {
        let k = (id % SLOTS) as usize;
        if self.ids[k] == Some(id) && self.live(id, current) {
            self.used[k]
        } else {
            0
        }
    }

    /// Everything charged in the window that ends at `now_ms`.
    pub fn used(&self, now_ms: u64) -> u64 {
        let current = self.slot_of(now_ms);
        let slots = self.ids.iter().zip(&self.used);
        slots.filter(|(id, _)| id.is_some_and(|id| self.live(id, current))).map(|(_, used)| used).sum()
    }

    /// `Ok` while the window is below `limit`; else the milliseconds until it will be, as the
    /// oldest slots leave it (`None` for a limit of 0, which nothing leaving can meet).
    pub fn check(&self, limit: u64, now_ms: u64) -> Result<(), Option<u64>> {
        let used = self.used(now_ms);
        if used < limit {
            return Ok(());
        }
        if limit == 0 {
            return Err(None);
        }
        let current = self.slot_of(now_ms);
        let mut left = 0;
        for id in current.saturating_sub(SLOTS - 1)..=current {
            left += self.at(id, current);
            if used - left < limit {
                return Err(Some(((id + SLOTS) * self.slot_ms).saturating_sub(now_ms)));
            }
        }
        Err(Some(SLOTS * self.slot_ms))
    }

    /// Charges `amount` in the slot of `now_ms`; returns that slot's index.
    pub fn charge(&mut self, amount: u64, now_ms: u64) -> u64 {
        let id = self.slot_of(now_ms);
        let k = (id % SLOTS) as usize;
        if self.ids[k] != Some(id) {
            self.ids[k] = Some(id);
            self.used[k] = 0;
        }
        self.used[k] = self.used[k].saturating_add(amount);
        id
    }

    /// Replaces `estimate` by `actual` in slot `id`, if it is still in the window at `now_ms`.
    pub fn settle(&mut self, id: u64, estimate: u64, actual: u64, now_ms: u64) {
        let k = (id % SLOTS) as usize;
        if self.ids[k] == Some(id) && self.live(id, self.slot_of(now_ms)) {
            self.used[k] = self.used[k].saturating_sub(estimate).saturating_add(actual);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: u64 = 60_000;
    /// An instant well after the epoch, on a slot boundary.
    const T0: u64 = 1_764_600_000_000;

    #[test]
    fn a_window_admits_up_to_its_limit_and_says_when_the_next_fits() {
        let mut w = Window::new(MINUTE);
        for i in 0..5 {
            assert_eq!(w.check(5, T0 + i * 1000), Ok(()), "request {i}");
            w.charge(1, T0 + i * 1000);
        }
        // The first request's slot (T0's second) leaves the window 60 s after T0.
        assert_eq!(w.check(5, T0 + 10_500), Err(Some(MINUTE - 10_500)));
        assert_eq!(w.check(5, T0 + MINUTE), Ok(()), "the oldest request left the window");
    }

    #[test]
    fn usage_leaves_the_window_slot_by_slot() {
        let mut w = Window::new(MINUTE);
        w.charge(3, T0);
        w.charge(4, T0 + 30_000);
        assert_eq!(w.used(T0 + 59_999), 7);
        assert_eq!(w.used(T0 + MINUTE), 4);
        assert_eq!(w.used(T0 + 90_000), 0);
    }

    #[test]
    fn the_wait_covers_as_many_old_slots_as_needed() {
        let mut w = Window::new(MINUTE);
        w.charge(50, T0);
        w.charge(50, T0 + 20_000);
        // 100 used of 60: the first 50 leaving leaves 50 < 60.
        assert_eq!(w.check(60, T0 + 25_000), Err(Some(35_000)));
        // Of 40: both must leave; the second leaves at T0 + 80 s.
        assert_eq!(w.check(40, T0 + 25_000), Err(Some(55_000)));
    }

    #[test]
    fn a_slot_reused_a_window_later_starts_empty() {
        let mut w = Window::new(MINUTE);
        w.charge(9, T0);
        assert_eq!(w.charge(1, T0 + MINUTE), w.slot_of(T0) + SLOTS);
        assert_eq!(w.used(T0 + MINUTE), 1);
    }

    #[test]
    fn settling_replaces_the_estimate_only_while_the_slot_is_in_the_window() {
        let mut w = Window::new(MINUTE);
        let slot = w.charge(100, T0);
        w.settle(slot, 100, 30, T0 + 5_000);
        assert_eq!(w.used(T0 + 5_000), 30);
        w.settle(slot, 30, 80, T0 + 6_000);
        assert_eq!(w.used(T0 + 6_000), 80);
        w.settle(slot, 80, 1, T0 + MINUTE);
        let later = w.charge(2, T0 + MINUTE);
        assert_eq!(w.used(T0 + MINUTE), 2, "a settle after the slot left changes nothing");
        assert_ne!(later, slot);
    }

    #[test]
    fn a_limit_of_zero_admits_nothing_ever() {
        let w = Window::new(MINUTE);
        assert_eq!(w.check(0, T0), Err(None));
    }

    #[test]
    fn an_hour_window_has_one_minute_slots() {
        let mut w = Window::new(3_600_000);
        w.charge(1, T0);
        assert_eq!(w.check(1, T0 + 30_000), Err(Some(3_600_000 - 30_000)));
        assert_eq!(w.used(T0 + 3_600_000 - 1), 1);
        assert_eq!(w.used(T0 + 3_600_000), 0);
    }
}

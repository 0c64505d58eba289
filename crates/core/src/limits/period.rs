//! A budget's periods, in UTC: calendar months, weeks from Monday 00:00, every N days since
//! the Unix epoch, or one period forever. Civil dates come from the day count with the
//! proleptic Gregorian calendar (no time-zone database: UTC only).

use super::Reset;

pub const DAY_MS: u64 = 86_400_000;

/// The period an instant belongs to: `[start_ms, end_ms)`; no end for a budget that never resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start_ms: u64,
    pub end_ms: Option<u64>,
}

/// The period of `reset` that holds `now_ms`.
pub fn period(reset: Reset, now_ms: u64) -> Period {
    let day = now_ms / DAY_MS;
    let (start_day, end_day) = match reset {
        Reset::Never => return Period { start_ms: 0, end_ms: None },
        Reset::Monthly => month_of(day),
        // 1970-01-01 was a Thursday: Monday is 3 days before it.
        Reset::Weekly => {
            let start = day - (day + 3) % 7;
            (start, start + 7)
        }
        Reset::Days(n) => {
            let n = u64::from(n.max(1));
            let start = day / n * n;
            (start, start + n)
        }
    };
    Period { start_ms: start_day * DAY_MS, end_ms: Some(end_day * DAY_MS) }
}

/// The first day of `day`'s month and of the next, as days since the epoch.
fn month_of(day: u64) -> (u64, u64) {
    let (year, month, _) = civil_from_days(day);
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    (days_from_civil(year, month, 1), days_from_civil(next_year, next_month, 1))
}

/// (year, month 1–12, day 1–31) of a day count since 1970-01-01 (days on or after it).
pub fn civil_from_days(day: u64) -> (u64, u64, u64) {
    // Eras of 400 years (146 097 days) starting on 0000-03-01, 719 468 days before the epoch.
    let z = day + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a civil date on or after it.
pub fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds of a UTC civil date and time of day.
    fn at(y: u64, m: u64, d: u64, hour: u64) -> u64 {
        days_from_civil(y, m, d) * DAY_MS + hour * 3_600_000
    }

    #[test]
    fn civil_dates_round_trip_through_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for day in [0, 59, 365, 11_016, 11_017, 19_782, 20_000, 50_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn a_monthly_budget_runs_for_the_calendar_month_in_utc() {
        let p = period(Reset::Monthly, at(2024, 2, 29, 23));
        assert_eq!(p, Period { start_ms: at(2024, 2, 1, 0), end_ms: Some(at(2024, 3, 1, 0)) });
        let december = period(Reset::Monthly, at(2026, 12, 31, 12));
        assert_eq!(december.end_ms, Some(at(2027, 1, 1, 0)));
    }

    #[test]
    fn a_weekly_budget_starts_on_monday_midnight_utc() {
        // 2026-12-01 is a Tuesday.
        let p = period(Reset::Weekly, at(2026, 12, 1, 10));
        assert_eq!(p, Period { start_ms: at(2026, 11, 30, 0), end_ms: Some(at(2026, 12, 7, 0)) });
        // A Monday at midnight starts its own week.
        assert_eq!(period(Reset::Weekly, at(2026, 11, 30, 0)).start_ms, at(2026, 11, 30, 0));
    }

    #[test]
    fn every_n_days_counts_from_the_epoch() {
        let p = period(Reset::Days(10), 25 * DAY_MS + 5);
        assert_eq!(p, Period { start_ms: 20 * DAY_MS, end_ms: Some(30 * DAY_MS) });
    }

    #[test]
    fn no_reset_is_one_period_forever() {
        assert_eq!(period(Reset::Never, at(2030, 1, 1, 0)), Period { start_ms: 0, end_ms: None });
    }
}

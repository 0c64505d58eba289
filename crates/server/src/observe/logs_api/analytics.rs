//! `GET /v1/analytics/summary?group_by=provider|model|config|virtual_key&from=&to=`: requests,
//! errors, tokens, cost and latency percentiles per group, aggregated by the store; and
//! `GET /v1/analytics/timeseries` (the same and `interval`, in seconds): the same per time bucket and group,
//! for charts. Without a window, the last 24 hours; without an interval, the smallest round one that
//! keeps the window to [`TARGET_POINTS`] buckets or fewer.

use crate::http::error::GatewayError;
use axum::extract::State;
use http::{HeaderMap, Uri};
use serde::Serialize;
use switchboard_store::{GroupBy, SeriesPoint, SummaryRow, MAX_SERIES_BUCKETS};

use super::params::Params;
use super::{admin, json, Reply};
use crate::control::SharedApi;

#[derive(Serialize)]
struct Summary {
    object: &'static str,
    group_by: GroupBy,
    data: Vec<Group>,
}

#[derive(Serialize)]
struct Group {
    key: Option<String>,
    requests: i64,
    errors: i64,
    unpriced: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
    total_tokens: i64,
    cost_usd: f64,
    latency_ms: Percentiles,
}

#[derive(Serialize)]
struct Percentiles {
    p50: i64,
    p95: i64,
    p99: i64,
}

impl From<SummaryRow> for Group {
    fn from(row: SummaryRow) -> Self {
        Group {
            key: row.key,
            requests: row.requests,
            errors: row.errors,
            unpriced: row.unpriced,
            prompt_tokens: row.prompt_tokens,
            completion_tokens: row.completion_tokens,
            total_tokens: row.total_tokens,
            cost_usd: row.cost_usd,
            latency_ms: Percentiles { p50: row.latency_p50_ms, p95: row.latency_p95_ms, p99: row.latency_p99_ms },
        }
    }
}

pub async fn summary(State(state): State<SharedApi>, headers: HeaderMap, uri: Uri) -> Reply {
    summarise(&state, &headers, &uri).await
}

async fn summarise(state: &SharedApi, headers: &HeaderMap, uri: &Uri) -> Reply {
    admin(state, headers).await?;
    let mut params = Params::from_uri(uri, &["group_by", "from", "to"], false)?;
    let group_by = group_by(params.take("group_by").as_deref())?;
    let (from, to) = params.time_range()?;
    let rows = state.control.store.summary(group_by, from, to).await?;
    json(200, &Summary { object: "list", group_by, data: rows.into_iter().map(Group::from).collect() })
}

/// Buckets an automatic interval aims for, at most.
pub const TARGET_POINTS: i64 = 120;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Round intervals, in seconds: 10 s to a week.
const ROUND_INTERVALS_S: [i64; 13] = [10, 30, 60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400, 259200, 604800];

#[derive(Serialize)]
struct Series {
    object: &'static str,
    group_by: GroupBy,
    interval_ms: i64,
    from: i64,
    to: i64,
    data: Vec<Point>,
}

#[derive(Serialize)]
struct Point {
    start: i64,
    #[serde(flatten)]
    group: Group,
}

impl From<SeriesPoint> for Point {
    fn from(point: SeriesPoint) -> Self {
        Point { start: point.start, group: Group::from(point.totals) }
    }
}

pub async fn timeseries(State(state): State<SharedApi>, headers: HeaderMap, uri: Uri) -> Reply {
    series(&state, &headers, &uri).await
}

async fn series(state: &SharedApi, headers: &HeaderMap, uri: &Uri) -> Reply {
    admin(state, headers).await?;
    let mut params = Params::from_uri(uri, &["group_by", "from", "to", "interval"], false)?;
    let group_by = group_by(params.take("group_by").as_deref())?;
    let (from, to) = params.time_range()?;
    let to = to.unwrap_or_else(crate::support::clock::unix_ms);
    let from = from.unwrap_or(to - DAY_MS);
    if from >= to {
        return Err(GatewayError::InvalidRequest(format!("from: must be before to ({to} in Unix ms)")).into());
    }
    let interval_ms = match params.take("interval") {
        Some(text) => interval(&text, from, to)?,
        None => auto_interval(to - from),
    };
    let points = state.control.store.timeseries(group_by, from, to, interval_ms).await?;
    let data = points.into_iter().map(Point::from).collect();
    json(200, &Series { object: "list", group_by, interval_ms, from, to, data })
}

/// The smallest round interval giving at most [`TARGET_POINTS`] buckets (a week past that).
fn auto_interval(window_ms: i64) -> i64 {
    let seconds = ROUND_INTERVALS_S.iter().find(|s| window_ms / (**s * 1000) < TARGET_POINTS);
    seconds.copied().unwrap_or(ROUND_INTERVALS_S[ROUND_INTERVALS_S.len() - 1]) * 1000
}

/// `interval`: whole seconds, at least 1, and few enough buckets.
fn interval(text: &str, from: i64, to: i64) -> Result<i64, GatewayError> {
    let seconds: i64 = text.parse().ok().filter(|s| *s >= 1).ok_or_else(|| {
        GatewayError::InvalidRequest(format!("interval: expected whole seconds (at least 1), got {text:?}"))
    })?;
    let ms = seconds.saturating_mul(1000);
    if (to - from) / ms >= MAX_SERIES_BUCKETS {
        let least = (to - from) / 1000 / MAX_SERIES_BUCKETS + 1;
        return Err(GatewayError::InvalidRequest(format!(
            "interval: {seconds} s makes more than {MAX_SERIES_BUCKETS} buckets in this window; use at least {least}"
        )));
    }
    Ok(ms)
}

/// `provider` when not given.
fn group_by(value: Option<&str>) -> Result<GroupBy, GatewayError> {
    value.unwrap_or("provider").parse().map_err(|e| GatewayError::InvalidRequest(format!("group_by: {e}")))
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failed test should stop loudly")]
mod tests {
    use super::*;

    #[test]
    fn automatic_intervals_are_round_and_keep_charts_readable() {
        assert_eq!(auto_interval(60 * 60 * 1000), 60_000, "an hour by the minute");
        assert_eq!(auto_interval(DAY_MS), 900_000, "a day by the quarter hour");
        assert_eq!(auto_interval(7 * DAY_MS), 10_800_000, "a week by three hours");
        assert_eq!(auto_interval(1000 * DAY_MS), 604_800_000, "past the list, a week");
        for window in [1, 59_000, DAY_MS, 30 * DAY_MS] {
            assert!(window / auto_interval(window) < TARGET_POINTS, "{window}");
        }
    }

    #[test]
    fn a_given_interval_names_the_least_that_fits() {
        assert_eq!(interval("900", 0, DAY_MS).unwrap(), 900_000);
        assert_eq!(interval("87", 0, DAY_MS).unwrap(), 87_000, "the least it names fits");
        let err = interval("1", 0, DAY_MS).unwrap_err().to_string();
        assert!(err.starts_with("interval: 1 s makes more than 1000 buckets") && err.ends_with("at least 87"), "{err}");
        assert!(interval("0", 0, DAY_MS).unwrap_err().to_string().starts_with("interval: expected whole seconds"));
        assert!(interval("1m", 0, DAY_MS).is_err());
    }
}

//! Aggregates over time for the analytics charts: per time bucket and group, the summary's totals and latency
//! percentiles.
//!
//! Like the summary, the database groups rows by (time bucket, group, latency bucket) and Rust reads the
//! percentiles off each (time bucket, group)'s histogram. Latency buckets are coarser here, about 1 % to 10 % of
//! the value (1 ms below 100 ms, 10 ms below 1 s, 100 ms below 10 s, 1 s above), because there is one histogram
//! per point: the rows the database returns are bounded by points × groups × about 900, whatever the number of
//! logs. The number of points is bounded by [`MAX_SERIES_BUCKETS`].

use std::collections::BTreeMap;

use crate::db::{Backend, Sql};
use crate::error::StoreError;
use crate::store::Store;

use super::query::{time_conditions, where_clause};
use super::summary::{bucket_from_row, Bucket, Group, GroupBy, SummaryRow, BUCKET_TOTALS};

/// The most time buckets one query may span.
pub const MAX_SERIES_BUCKETS: i64 = 1000;

/// One group's totals in the time bucket starting at `start` (Unix ms, a multiple of the interval).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoint {
    pub start: i64,
    pub totals: SummaryRow,
}

const LATENCY_BUCKET: &str = "CASE WHEN latency_ms < 100 THEN latency_ms \
     WHEN latency_ms < 1000 THEN latency_ms / 10 * 10 \
     WHEN latency_ms < 10000 THEN latency_ms / 100 * 100 \
     ELSE latency_ms / 1000 * 1000 END";

fn series_sql<'a>(backend: Backend, group_by: GroupBy, from: i64, to: i64, interval_ms: i64) -> Sql<'a> {
    let mut sql = Sql::new(backend, "");
    let filter = where_clause(&time_conditions(&mut sql, Some(from), Some(to)));
    // The interval is a checked integer, written into the text: the same value appears twice.
    sql.push(&format!(
        "SELECT created_at / {interval_ms} * {interval_ms} AS bucket_start, {key} AS group_key, \
         {LATENCY_BUCKET} AS latency_bucket, \
         {BUCKET_TOTALS} \
         FROM request_logs{filter} GROUP BY bucket_start, group_key, latency_bucket",
        key = group_by.key_expression(),
    ));
    sql
}

/// Adds latency buckets up per (time bucket, group): points in time order, busiest group first within a bucket.
fn points(rows: Vec<(i64, Bucket)>) -> Vec<SeriesPoint> {
    let mut groups: BTreeMap<(i64, Option<String>), Group> = BTreeMap::new();
    for (start, bucket) in rows {
        groups.entry((start, bucket.key.clone())).or_default().add(bucket);
    }
    let mut points: Vec<SeriesPoint> = groups
        .into_iter()
        .filter_map(|((start, _), group)| Some(SeriesPoint { start, totals: group.finish()? }))
        .collect();
    points.sort_by(|a, b| {
        (a.start.cmp(&b.start))
            .then_with(|| b.totals.requests.cmp(&a.totals.requests))
            .then_with(|| a.totals.key.cmp(&b.totals.key))
    });
    points
}

/// Checks a window and its interval: `from < to`, an interval of at least one second, at most
/// [`MAX_SERIES_BUCKETS`] buckets.
fn check(from: i64, to: i64, interval_ms: i64) -> Result<(), StoreError> {
    if from >= to {
        return Err(StoreError::InvalidQuery(format!("the window must end after it starts ({from} >= {to})")));
    }
    if interval_ms < 1000 {
        return Err(StoreError::InvalidQuery(format!("interval must be at least 1 s, got {interval_ms} ms")));
    }
    let buckets = (to - from + interval_ms - 1) / interval_ms + 1;
    if buckets > MAX_SERIES_BUCKETS {
        return Err(StoreError::InvalidQuery(format!(
            "{buckets} buckets of {interval_ms} ms in the window; at most {MAX_SERIES_BUCKETS}: widen the interval"
        )));
    }
    Ok(())
}

impl Store {
    /// Totals per `interval_ms` bucket and group over logs with `from <= created_at < to`; only buckets with logs.
    pub async fn timeseries(
        &self,
        group_by: GroupBy,
        from: i64,
        to: i64,
        interval_ms: i64,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        check(from, to, interval_ms)?;
        let sql = series_sql(self.backend(), group_by, from, to, interval_ms);
        let rows = self.db.fetch_all(&sql, |row| Ok((row.int("bucket_start")?, bucket_from_row(row)?))).await?;
        Ok(points(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(key: &str, latency_ms: i64, requests: i64) -> Bucket {
        let totals = SummaryRow {
            key: None,
            requests,
            errors: 0,
            unpriced: 0,
            prompt_tokens: 1,
            completion_tokens: 1,
            total_tokens: 2,
            cost_usd: 0.25,
            latency_p50_ms: 0,
            latency_p95_ms: 0,
            latency_p99_ms: 0,
        };
        Bucket { key: Some(key.to_owned()), latency_ms, totals }
    }

    #[test]
    fn points_are_per_time_bucket_and_group_in_time_order() {
        let rows = vec![
            (60_000, bucket("a", 10, 1)),
            (0, bucket("b", 5, 1)),
            (0, bucket("a", 20, 3)),
            (0, bucket("a", 900, 1)),
        ];
        let points = points(rows);
        let shape: Vec<_> = points.iter().map(|p| (p.start, p.totals.key.as_deref(), p.totals.requests)).collect();
        assert_eq!(shape, [(0, Some("a"), 4), (0, Some("b"), 1), (60_000, Some("a"), 1)]);
        let first = &points[0].totals;
        assert_eq!((first.latency_p50_ms, first.latency_p99_ms, first.total_tokens, first.cost_usd), (20, 900, 4, 0.5));
    }

    #[test]
    fn windows_are_checked_before_any_query() {
        assert!(check(0, 60_000, 1000).is_ok());
        assert!(check(10, 10, 1000).unwrap_err().to_string().contains("end after it starts"));
        assert!(check(0, 60_000, 10).unwrap_err().to_string().contains("at least 1 s"));
        let err = check(0, 86_400_000, 1000).unwrap_err().to_string();
        assert!(err.contains("86401 buckets") && err.contains("widen the interval"), "{err}");
    }

    #[test]
    fn latency_buckets_widen_with_the_latency() {
        let sql = series_sql(Backend::Postgres, GroupBy::Provider, 0, 1000, 1000);
        assert!(sql.text().contains("created_at / 1000 * 1000 AS bucket_start"), "{}", sql.text());
        assert!(sql.text().contains("ELSE latency_ms / 1000 * 1000 END AS latency_bucket"));
        assert!(sql.text().contains("created_at >= $1 AND created_at < $2"));
    }
}

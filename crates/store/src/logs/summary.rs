//! Aggregates over logs for the analytics API: counts, tokens, cost and latency percentiles per group.
//!
//! One pass over the logs in the window: the database groups rows by (group, latency bucket) and sums each
//! bucket; Rust adds the buckets up per group and reads the percentiles off the cumulative counts. Percentiles use
//! the nearest-rank method (the value at rank ⌈p·n/100⌉ of the group's latencies in ascending order). Buckets are
//! single milliseconds below 10 s, so percentiles there are exact, and 100 ms wide above, which bounds the rows
//! per group (about 16,000 for latencies up to ten minutes) whatever the number of logs.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::db::{Backend, RowExt, Sql};
use crate::error::StoreError;
use crate::store::Store;

use super::query::{time_conditions, where_clause};

/// Latencies below this many milliseconds are counted exactly; above it, in 100 ms buckets.
const EXACT_LATENCY_BELOW_MS: i64 = 10_000;

/// What to group logs by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Provider,
    /// The served model, or the requested one when none was served.
    Model,
    /// Config slug (`None` groups requests that used no saved config).
    Config,
    VirtualKey,
}

impl GroupBy {
    pub(crate) fn key_expression(self) -> &'static str {
        match self {
            GroupBy::Provider => "provider",
            GroupBy::Model => "COALESCE(served_model, requested_model)",
            GroupBy::Config => "config_slug",
            GroupBy::VirtualKey => "virtual_key",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot group by `{0}`: expected provider, model, config or virtual_key")]
pub struct UnknownGroupBy(pub String);

impl FromStr for GroupBy {
    type Err = UnknownGroupBy;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "provider" => Ok(GroupBy::Provider),
            "model" => Ok(GroupBy::Model),
            "config" => Ok(GroupBy::Config),
            "virtual_key" => Ok(GroupBy::VirtualKey),
            other => Err(UnknownGroupBy(other.to_owned())),
        }
    }
}

/// Totals for one group. Token and cost sums skip rows that have no value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    pub key: Option<String>,
    pub requests: i64,
    /// Requests that ended with status ≥ 400.
    pub errors: i64,
    /// Requests whose cost could not be priced.
    pub unpriced: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    pub cost_usd: f64,
    pub latency_p50_ms: i64,
    pub latency_p95_ms: i64,
    pub latency_p99_ms: i64,
}

/// The sums a bucket row carries, read by [`bucket_from_row`] (the summary's and the time series' queries).
pub(crate) const BUCKET_TOTALS: &str = "COUNT(*) AS requests, \
     CAST(SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS BIGINT) AS errors, \
     CAST(SUM(CASE WHEN unpriced THEN 1 ELSE 0 END) AS BIGINT) AS unpriced, \
     CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens, \
     CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens, \
     CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT) AS total_tokens, \
     COALESCE(SUM(cost_usd), 0.0) AS cost_usd";

/// One (group, latency bucket) row from the database.
pub(crate) struct Bucket {
    pub(crate) key: Option<String>,
    pub(crate) latency_ms: i64,
    pub(crate) totals: SummaryRow,
}

fn summary_sql<'a>(backend: Backend, group_by: GroupBy, from: Option<i64>, to: Option<i64>) -> Sql<'a> {
    let mut sql = Sql::new(backend, "");
    let filter = where_clause(&time_conditions(&mut sql, from, to));
    sql.push(&format!(
        "SELECT {key} AS group_key, \
         CASE WHEN latency_ms < {EXACT_LATENCY_BELOW_MS} THEN latency_ms ELSE latency_ms / 100 * 100 END \
         AS latency_bucket, \
         {BUCKET_TOTALS} \
         FROM request_logs{filter} GROUP BY group_key, latency_bucket",
        key = group_by.key_expression(),
    ));
    sql
}

pub(crate) fn bucket_from_row(row: &dyn RowExt) -> Result<Bucket, StoreError> {
    Ok(Bucket {
        key: row.opt_text("group_key")?,
        latency_ms: row.int("latency_bucket")?,
        totals: SummaryRow {
            key: None,
            requests: row.int("requests")?,
            errors: row.int("errors")?,
            unpriced: row.int("unpriced")?,
            prompt_tokens: row.int("prompt_tokens")?,
            completion_tokens: row.int("completion_tokens")?,
            total_tokens: row.int("total_tokens")?,
            cost_usd: row.real("cost_usd")?,
            latency_p50_ms: 0,
            latency_p95_ms: 0,
            latency_p99_ms: 0,
        },
    })
}

/// A group's running totals and its latency histogram.
#[derive(Default)]
pub(crate) struct Group {
    totals: Option<SummaryRow>,
    latencies: Vec<(i64, i64)>,
}

impl Group {
    pub(crate) fn add(&mut self, bucket: Bucket) {
        self.latencies.push((bucket.latency_ms, bucket.totals.requests));
        let Some(totals) = &mut self.totals else {
            self.totals = Some(SummaryRow { key: bucket.key, ..bucket.totals });
            return;
        };
        let more = bucket.totals;
        totals.requests += more.requests;
        totals.errors += more.errors;
        totals.unpriced += more.unpriced;
        totals.prompt_tokens += more.prompt_tokens;
        totals.completion_tokens += more.completion_tokens;
        totals.total_tokens += more.total_tokens;
        totals.cost_usd += more.cost_usd;
    }

    pub(crate) fn finish(mut self) -> Option<SummaryRow> {
        let mut row = self.totals.take()?;
        self.latencies.sort_unstable();
        row.latency_p50_ms = percentile(&self.latencies, row.requests, 50);
        row.latency_p95_ms = percentile(&self.latencies, row.requests, 95);
        row.latency_p99_ms = percentile(&self.latencies, row.requests, 99);
        Some(row)
    }
}

/// Nearest-rank percentile `p` of a histogram of (latency, count) sorted by latency, holding `n` values in all.
fn percentile(histogram: &[(i64, i64)], n: i64, p: i64) -> i64 {
    let rank = (p * n + 99) / 100;
    let mut seen = 0;
    for &(latency, count) in histogram {
        seen += count;
        if seen >= rank {
            return latency;
        }
    }
    histogram.last().map_or(0, |&(latency, _)| latency)
}

/// Adds buckets up per group; busiest group first, then by key.
fn summarise(buckets: Vec<Bucket>) -> Vec<SummaryRow> {
    let mut groups: BTreeMap<Option<String>, Group> = BTreeMap::new();
    for bucket in buckets {
        groups.entry(bucket.key.clone()).or_default().add(bucket);
    }
    let mut rows: Vec<SummaryRow> = groups.into_values().filter_map(Group::finish).collect();
    rows.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.key.cmp(&b.key)));
    rows
}

impl Store {
    /// Totals per group over logs with `from <= created_at < to` (either bound optional), busiest group first.
    /// The work is one scan of the logs in the window; pass a window on large stores.
    pub async fn summary(
        &self,
        group_by: GroupBy,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<Vec<SummaryRow>, StoreError> {
        let sql = summary_sql(self.backend(), group_by, from, to);
        Ok(summarise(self.db.fetch_all(&sql, bucket_from_row).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(key: &str, latency_ms: i64, requests: i64) -> Bucket {
        let totals = SummaryRow {
            key: None,
            requests,
            errors: 1,
            unpriced: 0,
            prompt_tokens: 10,
            completion_tokens: 5,
            total_tokens: 15,
            cost_usd: 0.5,
            latency_p50_ms: 0,
            latency_p95_ms: 0,
            latency_p99_ms: 0,
        };
        Bucket { key: Some(key.to_owned()), latency_ms, totals }
    }

    #[test]
    fn group_by_parses_the_api_names() {
        assert_eq!("virtual_key".parse(), Ok(GroupBy::VirtualKey));
        assert!("team".parse::<GroupBy>().is_err());
    }

    #[test]
    fn percentile_is_the_value_at_the_nearest_rank() {
        let one_each: Vec<(i64, i64)> = (1..=100).map(|ms| (ms, 1)).collect();
        assert_eq!([50, 95, 99, 100].map(|p| percentile(&one_each, 100, p)), [50, 95, 99, 100]);
        // Ten values: 1 ms ×8, 500 ms, 900 ms. Ranks ⌈5⌉ = 5, ⌈9.5⌉ = 10.
        let skewed = [(1, 8), (500, 1), (900, 1)];
        assert_eq!([50, 90, 95].map(|p| percentile(&skewed, 10, p)), [1, 500, 900]);
        assert_eq!(percentile(&[(42, 1)], 1, 99), 42);
    }

    #[test]
    fn buckets_add_up_per_group_busiest_first() {
        let rows = summarise(vec![bucket("b", 5, 1), bucket("a", 30, 1), bucket("a", 10, 2), bucket("a", 20, 1)]);
        let keys: Vec<_> = rows.iter().map(|r| r.key.as_deref()).collect();
        assert_eq!(keys, [Some("a"), Some("b")]);
        let a = &rows[0];
        assert_eq!((a.requests, a.errors, a.total_tokens, a.cost_usd), (4, 3, 45, 1.5));
        assert_eq!((a.latency_p50_ms, a.latency_p95_ms), (10, 30));
    }

    #[test]
    fn slow_requests_fall_into_100_ms_buckets() {
        let sql = summary_sql(Backend::Sqlite, GroupBy::Model, None, None);
        assert!(sql.text().contains("CASE WHEN latency_ms < 10000 THEN latency_ms ELSE latency_ms / 100 * 100 END"));
        assert!(sql.text().contains("COALESCE(served_model, requested_model) AS group_key"));
    }
}

//! Aggregates over logs for the analytics API: counts, tokens, cost and latency percentiles per group.
//!
//! Percentiles use the nearest-rank method (the value at rank ⌈p·n/100⌉ of the group's latencies in ascending
//! order), computed in SQL with window functions on both engines, so only one row per group leaves the database.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::db::{Backend, RowExt, Sql};
use crate::error::StoreError;
use crate::store::Store;

use super::query::{time_conditions, where_clause};

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
    fn key_expression(self) -> &'static str {
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

/// The rank (1-based) of percentile `p` among `n` ascending values, as SQL: ⌈p·n/100⌉ in integer arithmetic.
fn rank_sql(p: u8) -> String {
    format!("({p} * group_size + 99) / 100")
}

fn summary_sql<'a>(backend: Backend, group_by: GroupBy, from: Option<i64>, to: Option<i64>) -> Sql<'a> {
    let mut sql = Sql::new(backend, "");
    let filter = where_clause(&time_conditions(&mut sql, from, to));
    let key = group_by.key_expression();
    let percentile = |p: u8| format!("MAX(CASE WHEN latency_rank = {} THEN latency_ms END)", rank_sql(p));
    sql.push(&format!(
        "WITH scoped AS (SELECT {key} AS group_key, status, unpriced, prompt_tokens, completion_tokens, \
         total_tokens, cost_usd, latency_ms, \
         ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY latency_ms) AS latency_rank, \
         COUNT(*) OVER (PARTITION BY {key}) AS group_size \
         FROM request_logs{filter}) \
         SELECT group_key, COUNT(*) AS requests, \
         CAST(SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS BIGINT) AS errors, \
         CAST(SUM(CASE WHEN unpriced THEN 1 ELSE 0 END) AS BIGINT) AS unpriced, \
         CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens, \
         CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens, \
         CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT) AS total_tokens, \
         COALESCE(SUM(cost_usd), 0.0) AS cost_usd, \
         {} AS p50, {} AS p95, {} AS p99 \
         FROM scoped GROUP BY group_key ORDER BY requests DESC, group_key",
        percentile(50),
        percentile(95),
        percentile(99)
    ));
    sql
}

fn from_row(row: &dyn RowExt) -> Result<SummaryRow, StoreError> {
    Ok(SummaryRow {
        key: row.opt_text("group_key")?,
        requests: row.int("requests")?,
        errors: row.int("errors")?,
        unpriced: row.int("unpriced")?,
        prompt_tokens: row.int("prompt_tokens")?,
        completion_tokens: row.int("completion_tokens")?,
        total_tokens: row.int("total_tokens")?,
        cost_usd: row.real("cost_usd")?,
        latency_p50_ms: row.int("p50")?,
        latency_p95_ms: row.int("p95")?,
        latency_p99_ms: row.int("p99")?,
    })
}

impl Store {
    /// Totals per group over logs with `from <= created_at < to` (either bound optional), busiest group first.
    pub async fn summary(
        &self,
        group_by: GroupBy,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<Vec<SummaryRow>, StoreError> {
        let sql = summary_sql(self.backend(), group_by, from, to);
        self.db.fetch_all(&sql, from_row).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_parses_the_api_names() {
        assert_eq!("virtual_key".parse(), Ok(GroupBy::VirtualKey));
        assert!("team".parse::<GroupBy>().is_err());
    }

    #[test]
    fn rank_is_the_ceiling_of_p_times_n_over_100() {
        // The SQL computes ⌈p·n/100⌉ as (p·n + 99) / 100 in integer arithmetic.
        assert_eq!(rank_sql(95), "(95 * group_size + 99) / 100");
        let rank = |p: u32, n: u32| (p * n).div_ceil(100);
        assert_eq!((rank(50, 100), rank(95, 100), rank(99, 100)), (50, 95, 99));
        assert_eq!((rank(50, 1), rank(99, 1)), (1, 1));
        assert_eq!((rank(50, 3), rank(95, 3)), (2, 3));
    }
}

//! Request logs and feedback: the write path (batched inserts, retention) and point reads. Filtering and paging
//! live in [`query`], aggregates in [`summary`]. The store does not build or cap log records: the server does,
//! and the store keeps them exactly as given.

mod attempts;
mod columns;
pub(crate) mod partitions;
pub(crate) mod query;
mod sqlite_writer;
pub(crate) mod summary;
mod tail;
pub(crate) mod timeseries;

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::db::{RowExt, Sql};
use crate::error::StoreError;
use crate::json_text::{json_column, to_json};
use crate::store::Store;

pub use attempts::{AttemptEntry, AttemptReason, Attempts, RouteEntry, RouteNote};
pub use query::{LogPage, LogQuery, StatusFilter};
pub use summary::{GroupBy, SummaryRow};
pub use tail::{TailFrom, TailPosition, TailRow, PG_OVERLAP_MS};
pub use timeseries::{SeriesPoint, MAX_SERIES_BUCKETS};

/// Rows per INSERT statement, at most. Every batch is written as full statements of this many rows, then the rest
/// in statements of 32, 16, 8, 4, 2 and 1 rows (its binary digits), so each connection prepares and caches seven
/// statement shapes at most: one per batch size would mean re-parsing a statement of thousands of placeholders for
/// most batches and a statement cache that grows to tens of MiB, and single-row statements for the rest made a
/// 49-row batch cost 49 statements (each opens a cursor on the table and every index) instead of 3.
pub(crate) const ROWS_PER_INSERT: usize = 50;

/// How a batch is cut into INSERT statements (see [`ROWS_PER_INSERT`]): in order, every row exactly once.
pub(crate) fn statement_chunks<R>(batch: &[R]) -> impl Iterator<Item = &[R]> {
    let mut rest = batch;
    std::iter::from_fn(move || {
        let size = match rest.len() {
            0 => return None,
            n if n >= ROWS_PER_INSERT => ROWS_PER_INSERT,
            n => 1 << n.ilog2(),
        };
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// One request as the gateway handled it. Serialised as is (snake_case) by the logs API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// UUID (v7 preferred, so ids sort roughly by time).
    pub id: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub span_name: Option<String>,
    pub metadata: Map<String, Value>,
    pub api_key_id: Option<String>,
    pub config_slug: Option<String>,
    pub config_version: Option<i64>,
    pub strategy_mode: Option<String>,
    /// Which target served the request, e.g. `config.targets[1].targets[0]`.
    pub target_path: Option<String>,
    pub provider: String,
    pub virtual_key: Option<String>,
    pub requested_model: String,
    pub served_model: Option<String>,
    pub status: u16,
    pub latency_ms: i64,
    pub ttfb_ms: Option<i64>,
    pub stream: bool,
    pub retry_count: u32,
    pub cache_status: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub total_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub unpriced: bool,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    /// Routing notes, then the upstream calls.
    pub attempts: Attempts,
    pub error: Option<String>,
    /// Why the request failed, as a short stable class (`rate_limit`, `timeout`,
    /// `upstream_malformed`, `client_closed`, `internal`, …); `None` for a success.
    #[serde(default)]
    pub error_class: Option<String>,
}

impl LogRecord {
    /// A record with only its identity set: no trace, no target, no tokens, no bodies,
    /// status 0 and no attempts yet. Callers fill in what they know.
    pub fn new(id: impl Into<String>, created_at: i64, provider: impl Into<String>, model: impl Into<String>) -> Self {
        LogRecord {
            id: id.into(),
            created_at,
            trace_id: None,
            span_id: None,
            parent_span_id: None,
            span_name: None,
            metadata: Map::new(),
            api_key_id: None,
            config_slug: None,
            config_version: None,
            strategy_mode: None,
            target_path: None,
            provider: provider.into(),
            virtual_key: None,
            requested_model: model.into(),
            served_model: None,
            status: 0,
            latency_ms: 0,
            ttfb_ms: None,
            stream: false,
            retry_count: 0,
            cache_status: None,
            prompt_tokens: None,
            completion_tokens: None,
            total_tokens: None,
            cost_usd: None,
            unpriced: false,
            request_body: None,
            response_body: None,
            attempts: Attempts::default(),
            error: None,
            error_class: None,
        }
    }
}

/// Feedback on a trace (Portkey's `/feedback`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub id: String,
    pub trace_id: String,
    pub value: i64,
    pub weight: f64,
    pub metadata: Map<String, Value>,
    pub created_at: i64,
}

/// Changes to one feedback entry (Portkey's `PUT /feedback/{id}`); `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackUpdate {
    pub value: Option<i64>,
    pub weight: Option<f64>,
    pub metadata: Option<Map<String, Value>>,
}

fn feedback_from_row(row: &dyn RowExt) -> Result<Feedback, StoreError> {
    Ok(Feedback {
        id: row.text("id")?,
        trace_id: row.text("trace_id")?,
        value: row.int("value")?,
        weight: row.real("weight")?,
        metadata: json_column(row, "metadata")?,
        created_at: row.int("created_at")?,
    })
}

impl Store {
    /// Writes a batch in one transaction. A record whose id is already stored is skipped, so retrying a batch
    /// whose commit was in doubt does not fail or duplicate. On SQLite the records are lent to the log writer's
    /// thread and are back in `batch` when this returns (see `sqlite_writer`); PostgreSQL writes multi-row
    /// INSERTs through the pool.
    pub async fn insert_logs<R>(&self, batch: &mut Vec<R>) -> Result<(), StoreError>
    where
        R: Borrow<LogRecord> + Send + Sync + 'static,
    {
        if batch.is_empty() {
            return Ok(());
        }
        match &self.sqlite_logs {
            Some(thread) => sqlite_writer::write(thread, batch).await,
            None => self.insert_logs_pooled(batch).await,
        }
    }

    async fn insert_logs_pooled<R: Borrow<LogRecord> + Sync>(&self, batch: &[R]) -> Result<(), StoreError> {
        let logged_at = crate::store::now_ms();
        let mut tx = self.db.begin_write().await?;
        for chunk in statement_chunks(batch) {
            tx.execute(&columns::insert_sql(self.backend(), chunk, logged_at)?).await?;
        }
        tx.commit().await
    }

    /// One log with its bodies.
    pub async fn get_log(&self, id: &str) -> Result<Option<LogRecord>, StoreError> {
        let columns = columns::select_list(self.backend(), true);
        let sql = self.db.sql(&format!("SELECT {columns} FROM request_logs WHERE id = $1"), vec![id.into()]);
        self.db.fetch_optional(&sql, columns::from_row).await
    }

    /// Retention: deletes logs created before `unix_ms`; returns how many. PostgreSQL drops whole days'
    /// partitions ([`partitions`]).
    pub async fn delete_logs_before(&self, unix_ms: i64) -> Result<u64, StoreError> {
        if self.backend() == crate::db::Backend::Postgres {
            return partitions::delete_before(self, unix_ms).await;
        }
        let sql = self.db.sql("DELETE FROM request_logs WHERE created_at < $1", vec![unix_ms.into()]);
        self.db.execute(&sql).await
    }

    /// Fails with [`StoreError::Conflict`] when the feedback id is taken.
    pub async fn insert_feedback(&self, feedback: &Feedback) -> Result<(), StoreError> {
        let mut sql = Sql::new(self.backend(), "");
        let values = [
            sql.arg(feedback.id.as_str()),
            sql.arg(feedback.trace_id.as_str()),
            sql.arg(feedback.value),
            sql.arg(Some(feedback.weight)),
            sql.json_arg(to_json(&feedback.metadata, "metadata")?),
            sql.arg(feedback.created_at),
        ];
        sql.push(&format!(
            "INSERT INTO feedback (id, trace_id, value, weight, metadata, created_at) VALUES ({})",
            values.join(", ")
        ));
        self.db.execute(&sql).await.map_err(|e| e.conflict_on_unique("feedback", &feedback.id))?;
        Ok(())
    }

    /// Applies `update` to feedback `id`; `false` when there is no such feedback.
    pub async fn update_feedback(&self, id: &str, update: &FeedbackUpdate) -> Result<bool, StoreError> {
        let mut sql = Sql::new(self.backend(), "");
        let mut sets = Vec::new();
        if let Some(value) = update.value {
            sets.push(format!("value = {}", sql.arg(value)));
        }
        if let Some(weight) = update.weight {
            sets.push(format!("weight = {}", sql.arg(Some(weight))));
        }
        if let Some(metadata) = &update.metadata {
            sets.push(format!("metadata = {}", sql.json_arg(to_json(metadata, "metadata")?)));
        }
        if sets.is_empty() {
            sets.push("id = id".to_owned());
        }
        let id = sql.arg(id);
        sql.push(&format!("UPDATE feedback SET {} WHERE id = {id}", sets.join(", ")));
        Ok(self.db.execute(&sql).await? > 0)
    }

    /// Feedback for one trace, oldest first.
    pub async fn feedback_for_trace(&self, trace_id: &str) -> Result<Vec<Feedback>, StoreError> {
        let sql = self.db.sql(
            &format!(
                "SELECT id, trace_id, value, weight, {}, created_at FROM feedback WHERE trace_id = $1 \
                 ORDER BY created_at, id",
                self.backend().json_column("metadata")
            ),
            vec![trace_id.into()],
        );
        self.db.fetch_all(&sql, feedback_from_row).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(rows: usize) -> Vec<usize> {
        let batch: Vec<usize> = (0..rows).collect();
        let chunks: Vec<&[usize]> = statement_chunks(&batch).collect();
        assert_eq!(chunks.concat(), batch, "every row once, in order ({rows} rows)");
        chunks.iter().map(|c| c.len()).collect()
    }

    #[test]
    fn a_batch_is_cut_into_full_statements_then_the_rests_binary_digits() {
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(49), [32, 16, 1]);
        assert_eq!(sizes(113), [50, 50, 8, 4, 1]);
        for rows in 0..=1_000 {
            let sizes = sizes(rows);
            let shapes = [ROWS_PER_INSERT, 32, 16, 8, 4, 2, 1];
            assert!(sizes.iter().all(|s| shapes.contains(s)), "{rows}: {sizes:?}");
            assert!(sizes.len() <= rows / ROWS_PER_INSERT + 6, "{rows}: {sizes:?}");
        }
    }
}

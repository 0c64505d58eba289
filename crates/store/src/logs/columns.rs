//! The `request_logs` row: its column list, how a [`LogRecord`] binds into an INSERT and how a row reads back.

use crate::db::{Backend, RowExt, Sql};
use crate::error::StoreError;
use crate::json_text::{json_column, narrow, to_json};

use super::LogRecord;

const COLUMNS: [&str; 31] = [
    "id",
    "created_at",
    "trace_id",
    "span_id",
    "parent_span_id",
    "span_name",
    "metadata",
    "api_key_id",
    "config_slug",
    "config_version",
    "strategy_mode",
    "target_path",
    "provider",
    "virtual_key",
    "requested_model",
    "served_model",
    "status",
    "latency_ms",
    "ttfb_ms",
    "stream",
    "retry_count",
    "cache_status",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "unpriced",
    "request_body",
    "response_body",
    "attempts",
    "error",
];

/// The SELECT list. Without bodies, the two body columns read as NULL so list pages stay small.
pub(crate) fn select_list(backend: Backend, with_bodies: bool) -> String {
    let column = |name: &str| match name {
        "metadata" | "attempts" => backend.json_column(name),
        "request_body" | "response_body" if !with_bodies => format!("CAST(NULL AS TEXT) AS {name}"),
        _ => name.to_owned(),
    };
    COLUMNS.iter().map(|name| column(name)).collect::<Vec<_>>().join(", ")
}

/// One multi-row INSERT for `records`; ids already stored are skipped.
pub(crate) fn insert_sql(backend: Backend, records: &[LogRecord]) -> Result<Sql<'_>, StoreError> {
    let mut sql = Sql::new(backend, "");
    let rows = records.iter().map(|record| row_values(&mut sql, record)).collect::<Result<Vec<_>, _>>()?;
    sql.push(&format!(
        "INSERT INTO request_logs ({}) VALUES {} ON CONFLICT (id) DO NOTHING",
        COLUMNS.join(", "),
        rows.join(", ")
    ));
    Ok(sql)
}

/// Binds one record, in [`COLUMNS`] order, and returns its `(…)` tuple of placeholders.
fn row_values<'a>(sql: &mut Sql<'a>, r: &'a LogRecord) -> Result<String, StoreError> {
    let values = [
        sql.arg(r.id.as_str()),
        sql.arg(r.created_at),
        sql.arg(r.trace_id.as_deref()),
        sql.arg(r.span_id.as_deref()),
        sql.arg(r.parent_span_id.as_deref()),
        sql.arg(r.span_name.as_deref()),
        sql.json_arg(to_json(&r.metadata, "metadata")?),
        sql.arg(r.api_key_id.as_deref()),
        sql.arg(r.config_slug.as_deref()),
        sql.arg(r.config_version),
        sql.arg(r.strategy_mode.as_deref()),
        sql.arg(r.target_path.as_deref()),
        sql.arg(r.provider.as_str()),
        sql.arg(r.virtual_key.as_deref()),
        sql.arg(r.requested_model.as_str()),
        sql.arg(r.served_model.as_deref()),
        sql.arg(i64::from(r.status)),
        sql.arg(r.latency_ms),
        sql.arg(r.ttfb_ms),
        sql.arg(r.stream),
        sql.arg(i64::from(r.retry_count)),
        sql.arg(r.cache_status.as_deref()),
        sql.arg(r.prompt_tokens),
        sql.arg(r.completion_tokens),
        sql.arg(r.total_tokens),
        sql.arg(r.cost_usd),
        sql.arg(r.unpriced),
        sql.arg(r.request_body.as_deref()),
        sql.arg(r.response_body.as_deref()),
        sql.json_arg(to_json(&r.attempts, "attempts")?),
        sql.arg(r.error.as_deref()),
    ];
    Ok(format!("({})", values.join(", ")))
}

pub(crate) fn from_row(row: &dyn RowExt) -> Result<LogRecord, StoreError> {
    Ok(LogRecord {
        id: row.text("id")?,
        created_at: row.int("created_at")?,
        trace_id: row.opt_text("trace_id")?,
        span_id: row.opt_text("span_id")?,
        parent_span_id: row.opt_text("parent_span_id")?,
        span_name: row.opt_text("span_name")?,
        metadata: json_column(row, "metadata")?,
        api_key_id: row.opt_text("api_key_id")?,
        config_slug: row.opt_text("config_slug")?,
        config_version: row.opt_int("config_version")?,
        strategy_mode: row.opt_text("strategy_mode")?,
        target_path: row.opt_text("target_path")?,
        provider: row.text("provider")?,
        virtual_key: row.opt_text("virtual_key")?,
        requested_model: row.text("requested_model")?,
        served_model: row.opt_text("served_model")?,
        status: narrow(row, "status")?,
        latency_ms: row.int("latency_ms")?,
        ttfb_ms: row.opt_int("ttfb_ms")?,
        stream: row.flag("stream")?,
        retry_count: narrow(row, "retry_count")?,
        cache_status: row.opt_text("cache_status")?,
        prompt_tokens: row.opt_int("prompt_tokens")?,
        completion_tokens: row.opt_int("completion_tokens")?,
        total_tokens: row.opt_int("total_tokens")?,
        cost_usd: row.opt_real("cost_usd")?,
        unpriced: row.flag("unpriced")?,
        request_body: row.opt_text("request_body")?,
        response_body: row.opt_text("response_body")?,
        attempts: json_column(row, "attempts")?,
        error: row.opt_text("error")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_pages_leave_bodies_out() {
        let list = select_list(Backend::Postgres, false);
        assert!(list.contains("CAST(NULL AS TEXT) AS request_body"));
        assert!(list.contains("metadata::text AS metadata"));
        assert!(select_list(Backend::Sqlite, true).contains(", request_body, response_body,"));
    }
}

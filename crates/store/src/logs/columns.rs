//! The `request_logs` row: its column list, how a [`LogRecord`] binds into an INSERT and how a row reads back.

use crate::db::{Backend, RowExt, Sql};
use crate::error::StoreError;
use crate::json_text::{json_column, narrow, to_json};

use std::sync::OnceLock;

use super::{LogRecord, ROWS_PER_INSERT};

const COLUMNS: [&str; 32] = [
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
    "error_class",
];

/// PostgreSQL only, written after [`COLUMNS`] and read only by the live tail: when the writer stored the row.
/// (SQLite's tail follows the rowid.)
const LOGGED_AT: &str = "logged_at";

/// The columns an INSERT writes on `backend`.
fn insert_columns(backend: Backend) -> &'static [&'static str] {
    static WITH_LOGGED_AT: OnceLock<Vec<&'static str>> = OnceLock::new();
    match backend {
        Backend::Sqlite => &COLUMNS,
        Backend::Postgres => WITH_LOGGED_AT.get_or_init(|| COLUMNS.iter().copied().chain([LOGGED_AT]).collect()),
    }
}

/// Columns holding JSON (text on SQLite, JSONB on PostgreSQL): cast when written and read.
const JSON_COLUMNS: [&str; 2] = ["metadata", "attempts"];

/// The SELECT list. Without bodies, the two body columns read as NULL so list pages stay small.
pub(crate) fn select_list(backend: Backend, with_bodies: bool) -> String {
    let column = |name: &str| match name {
        _ if JSON_COLUMNS.contains(&name) => backend.json_column(name),
        "request_body" | "response_body" if !with_bodies => format!("CAST(NULL AS TEXT) AS {name}"),
        _ => name.to_owned(),
    };
    COLUMNS.iter().map(|name| column(name)).collect::<Vec<_>>().join(", ")
}

/// One multi-row INSERT for `records`, stored at `logged_at` (Unix ms); ids already stored are skipped.
pub(crate) fn insert_sql<R: std::borrow::Borrow<LogRecord>>(
    backend: Backend,
    records: &[R],
    logged_at: i64,
) -> Result<Sql<'_>, StoreError> {
    let mut sql = Sql::new(backend, insert_text(backend, records.len()));
    for record in records {
        bind_row(&mut sql, record.borrow())?;
        if backend == Backend::Postgres {
            sql.bind(logged_at);
        }
    }
    Ok(sql)
}

/// The INSERT text for `rows` rows. The log writer only ever uses the row counts [`statement_chunks`] cuts a batch
/// into (seven shapes), so their texts are built once per backend instead of once per statement.
///
/// [`statement_chunks`]: super::statement_chunks
pub(crate) fn insert_text(backend: Backend, rows: usize) -> String {
    // ROWS_PER_INSERT, then each power of two below it.
    const SHAPES: usize = 2 + (ROWS_PER_INSERT - 1).ilog2() as usize;
    static TEXTS: [OnceLock<String>; 2 * SHAPES] = [const { OnceLock::new() }; 2 * SHAPES];
    let shape = match rows {
        ROWS_PER_INSERT => 0,
        n if n.is_power_of_two() && n < ROWS_PER_INSERT => 1 + n.trailing_zeros() as usize,
        _ => return build_insert_text(backend, rows),
    };
    let slot = match backend {
        Backend::Sqlite => shape,
        Backend::Postgres => SHAPES + shape,
    };
    TEXTS[slot].get_or_init(|| build_insert_text(backend, rows)).clone()
}

fn build_insert_text(backend: Backend, rows: usize) -> String {
    let tuple = |row: usize| {
        let columns = insert_columns(backend);
        let placeholders = columns.iter().enumerate().map(|(i, name)| {
            let n = row * columns.len() + i + 1;
            if JSON_COLUMNS.contains(name) {
                backend.json_placeholder(n)
            } else {
                backend.placeholder(n)
            }
        });
        format!("({})", placeholders.collect::<Vec<_>>().join(", "))
    };
    // Both skip a row whose id is stored. On SQLite `OR IGNORE` also means the statement can never abort halfway,
    // so SQLite keeps no statement journal (a copy of every page the statement touches that the transaction had
    // already changed): ~30 % less CPU a logged row. It would also skip a row breaking a NOT NULL constraint, which
    // a `LogRecord` cannot.
    let (verb, on_conflict) = match backend {
        Backend::Sqlite => ("INSERT OR IGNORE", ""),
        Backend::Postgres => ("INSERT", " ON CONFLICT (id, created_at) DO NOTHING"),
    };
    format!(
        "{verb} INTO request_logs ({}) VALUES {}{on_conflict}",
        insert_columns(backend).join(", "),
        (0..rows).map(tuple).collect::<Vec<_>>().join(", ")
    )
}

/// Binds one record, in [`COLUMNS`] order.
pub(crate) fn bind_row<'a>(sql: &mut Sql<'a>, r: &'a LogRecord) -> Result<(), StoreError> {
    sql.bind(r.id.as_str());
    sql.bind(r.created_at);
    sql.bind(r.trace_id.as_deref());
    sql.bind(r.span_id.as_deref());
    sql.bind(r.parent_span_id.as_deref());
    sql.bind(r.span_name.as_deref());
    sql.bind(to_json(&r.metadata, "metadata")?);
    sql.bind(r.api_key_id.as_deref());
    sql.bind(r.config_slug.as_deref());
    sql.bind(r.config_version);
    sql.bind(r.strategy_mode.as_deref());
    sql.bind(r.target_path.as_deref());
    sql.bind(r.provider.as_str());
    sql.bind(r.virtual_key.as_deref());
    sql.bind(r.requested_model.as_str());
    sql.bind(r.served_model.as_deref());
    sql.bind(i64::from(r.status));
    sql.bind(r.latency_ms);
    sql.bind(r.ttfb_ms);
    sql.bind(r.stream);
    sql.bind(i64::from(r.retry_count));
    sql.bind(r.cache_status.as_deref());
    sql.bind(r.prompt_tokens);
    sql.bind(r.completion_tokens);
    sql.bind(r.total_tokens);
    sql.bind(r.cost_usd);
    sql.bind(r.unpriced);
    sql.bind(r.request_body.as_deref());
    sql.bind(r.response_body.as_deref());
    sql.bind(to_json(&r.attempts, "attempts")?);
    sql.bind(r.error.as_deref());
    sql.bind(r.error_class.as_deref());
    Ok(())
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
        error_class: row.opt_text("error_class")?,
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

    #[test]
    fn insert_placeholders_number_every_row_and_cast_json_columns() {
        let pg = build_insert_text(Backend::Postgres, 2);
        assert!(pg.contains("$33), ($34, $35,"), "{pg}");
        assert!(pg.contains("$40::jsonb") && pg.contains("$63::jsonb, $64, $65, $66) ON CONFLICT"), "{pg}");
        assert_eq!(build_insert_text(Backend::Sqlite, 2).matches('?').count(), 2 * COLUMNS.len());
        assert!(!build_insert_text(Backend::Sqlite, 1).contains(LOGGED_AT), "SQLite's tail needs no column");
    }

    #[test]
    fn cached_insert_texts_equal_freshly_built_ones() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            for rows in [1, 2, 16, 32, ROWS_PER_INSERT, 3] {
                assert_eq!(insert_text(backend, rows), build_insert_text(backend, rows));
                assert_eq!(insert_text(backend, rows), build_insert_text(backend, rows), "second use");
            }
        }
    }
}

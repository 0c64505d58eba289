//! Reading logs back: filters, and keyset pagination over `(created_at, id)` descending.
//!
//! The cursor is opaque to clients (base64url of `created_at:id` of the last row served); because it names a
//! position rather than an offset, rows inserted while a client pages never shift or repeat what it sees.

use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;

use crate::db::{Backend, Sql};
use crate::error::StoreError;
use crate::store::Store;

use super::{columns, LogRecord};

/// Page size when the query names none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page a query may ask for.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// The most metadata pairs one query may filter on.
pub const MAX_METADATA_FILTERS: usize = 16;
const MAX_METADATA_KEY_LEN: usize = 64;

/// Which statuses to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Exact(u16),
    /// Inclusive on both ends.
    Range {
        min: u16,
        max: u16,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status filter `{0}` must be a status code like `429` or a class like `5xx`")]
pub struct BadStatusFilter(pub String);

impl FromStr for StatusFilter {
    type Err = BadStatusFilter;

    /// `429` → exactly 429; `4xx` → 400..=499.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let bad = || BadStatusFilter(value.to_owned());
        if let Some(class) = value.strip_suffix("xx").or_else(|| value.strip_suffix("XX")) {
            let class: u16 = class.parse().ok().filter(|c| (1..=9).contains(c)).ok_or_else(bad)?;
            return Ok(StatusFilter::Range { min: class * 100, max: class * 100 + 99 });
        }
        value.parse().map(StatusFilter::Exact).map_err(|_| bad())
    }
}

/// Filters and paging for [`Store::query_logs`]. Every filter given must match (AND).
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub trace_id: Option<String>,
    pub provider: Option<String>,
    /// Matches the requested or the served model.
    pub model: Option<String>,
    pub status: Option<StatusFilter>,
    pub virtual_key: Option<String>,
    /// Config slug.
    pub config: Option<String>,
    pub api_key_id: Option<String>,
    /// Each key's value must equal the given text. Keys: 1–64 of `[A-Za-z0-9_.-]`.
    pub metadata: Vec<(String, String)>,
    /// Inclusive lower bound on `created_at`, Unix ms.
    pub from: Option<i64>,
    /// Exclusive upper bound on `created_at`, Unix ms.
    pub to: Option<i64>,
    /// 1..=1000; default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Bodies are left out (`None`) of list pages unless asked for.
    pub include_bodies: bool,
}

/// One page of logs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogPage {
    pub items: Vec<LogRecord>,
    /// Present when more rows may follow; pass it back as [`LogQuery::cursor`].
    pub next_cursor: Option<String>,
}

/// A position in the `(created_at, id)` descending order: the last row served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    created_at: i64,
    id: String,
}

impl Cursor {
    fn after(record: &LogRecord) -> Self {
        Cursor { created_at: record.created_at, id: record.id.clone() }
    }

    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at, self.id))
    }

    fn decode(cursor: &str) -> Result<Self, StoreError> {
        let bad = || StoreError::InvalidQuery("cursor is not one returned by this API".to_owned());
        let text =
            URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|bytes| String::from_utf8(bytes).ok()).ok_or_else(bad)?;
        let (created_at, id) = text.split_once(':').ok_or_else(bad)?;
        Ok(Cursor { created_at: created_at.parse().map_err(|_| bad())?, id: id.to_owned() })
    }
}

fn page_size(limit: Option<u32>) -> Result<u32, StoreError> {
    match limit.unwrap_or(DEFAULT_PAGE_SIZE) {
        size @ 1..=MAX_PAGE_SIZE => Ok(size),
        size => Err(StoreError::InvalidQuery(format!("limit {size} is outside 1..={MAX_PAGE_SIZE}"))),
    }
}

fn validate_metadata_key(key: &str) -> Result<(), StoreError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if (1..=MAX_METADATA_KEY_LEN).contains(&key.len()) && key.chars().all(allowed) {
        Ok(())
    } else {
        Err(StoreError::InvalidQuery(format!(
            "metadata key `{key}` must be 1 to {MAX_METADATA_KEY_LEN} of A-Z, a-z, 0-9, `_`, `.`, `-`"
        )))
    }
}

/// `created_at` bounds shared with the summary: `from` inclusive, `to` exclusive.
pub(crate) fn time_conditions<'a>(sql: &mut Sql<'a>, from: Option<i64>, to: Option<i64>) -> Vec<String> {
    let mut conditions = Vec::new();
    if let Some(from) = from {
        conditions.push(format!("created_at >= {}", sql.arg(from)));
    }
    if let Some(to) = to {
        conditions.push(format!("created_at < {}", sql.arg(to)));
    }
    conditions
}

/// ` WHERE a AND b`, or nothing.
pub(crate) fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

fn equals<'a>(sql: &mut Sql<'a>, column: &str, value: &'a Option<String>) -> Option<String> {
    value.as_deref().map(|value| format!("{column} = {}", sql.arg(value)))
}

/// The status filter, its codes written into the text: they are typed integers, not a client's text, and a
/// statement prepared once must still show them for PostgreSQL to use the partial indexes on failed requests
/// (migration 0009) in its generic plan, which cannot tell that `status BETWEEN $1 AND $2` means `status >= 400`.
fn status_condition(status: StatusFilter) -> String {
    match status {
        StatusFilter::Exact(code) => format!("status = {code}"),
        StatusFilter::Range { min, max } => format!("status BETWEEN {min} AND {max}"),
    }
}

fn metadata_conditions<'a>(sql: &mut Sql<'a>, pairs: &'a [(String, String)]) -> Result<Vec<String>, StoreError> {
    if pairs.len() > MAX_METADATA_FILTERS {
        return Err(StoreError::InvalidQuery(format!("at most {MAX_METADATA_FILTERS} metadata filters")));
    }
    let backend = sql.backend();
    pairs
        .iter()
        .map(|(key, value)| {
            validate_metadata_key(key)?;
            let path = sql.arg(backend.json_key_path(key));
            Ok(format!("{} = {}", backend.json_text_at("metadata", &path), sql.arg(value.as_str())))
        })
        .collect()
}

pub(crate) fn filter_conditions<'a>(sql: &mut Sql<'a>, q: &'a LogQuery) -> Result<Vec<String>, StoreError> {
    let mut conditions: Vec<String> = [
        equals(sql, "trace_id", &q.trace_id),
        equals(sql, "provider", &q.provider),
        q.model
            .as_deref()
            .map(|model| format!("(requested_model = {} OR served_model = {})", sql.arg(model), sql.arg(model))),
        q.status.map(status_condition),
        equals(sql, "virtual_key", &q.virtual_key),
        equals(sql, "config_slug", &q.config),
        equals(sql, "api_key_id", &q.api_key_id),
    ]
    .into_iter()
    .flatten()
    .collect();
    conditions.extend(metadata_conditions(sql, &q.metadata)?);
    conditions.extend(time_conditions(sql, q.from, q.to));
    Ok(conditions)
}

/// The page query: one row more than the page size, to learn whether another page follows.
fn page_sql<'a>(
    backend: Backend,
    q: &'a LogQuery,
    cursor: Option<&'a Cursor>,
    size: u32,
) -> Result<Sql<'a>, StoreError> {
    let mut sql = Sql::new(backend, "");
    let mut conditions = filter_conditions(&mut sql, q)?;
    if let Some(cursor) = cursor {
        let (created_at, id) = (sql.arg(cursor.created_at), sql.arg(cursor.id.as_str()));
        conditions.push(format!("(created_at, id) < ({created_at}, {id})"));
    }
    let limit = sql.arg(i64::from(size) + 1);
    sql.push(&format!(
        "SELECT {} FROM request_logs{} ORDER BY created_at DESC, id DESC LIMIT {limit}",
        columns::select_list(backend, q.include_bodies),
        where_clause(&conditions)
    ));
    Ok(sql)
}

impl Store {
    /// One page of logs matching `query`, newest first. Bad limits, cursors and metadata keys fail with
    /// [`StoreError::InvalidQuery`].
    pub async fn query_logs(&self, query: &LogQuery) -> Result<LogPage, StoreError> {
        let size = page_size(query.limit)?;
        let cursor = query.cursor.as_deref().map(Cursor::decode).transpose()?;
        let sql = page_sql(self.backend(), query, cursor.as_ref(), size)?;
        let mut items = self.db.fetch_all(&sql, columns::from_row).await?;
        let page = usize::try_from(size).unwrap_or(usize::MAX);
        let next_cursor = if items.len() > page {
            items.truncate(page);
            items.last().map(|last| Cursor::after(last).encode())
        } else {
            None
        };
        Ok(LogPage { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_ids_containing_colons() {
        let cursor = Cursor { created_at: 1_700_000_000_123, id: "a:b".to_owned() };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn garbage_cursor_is_an_invalid_query() {
        for bad in ["!!", "bm8tY29sb24", "eDph"] {
            assert!(matches!(Cursor::decode(bad), Err(StoreError::InvalidQuery(_))), "{bad}");
        }
    }

    #[test]
    fn limit_must_be_between_one_and_a_thousand() {
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some(1000)).unwrap(), 1000);
        assert!(page_size(Some(0)).is_err());
        assert!(page_size(Some(1001)).is_err());
    }

    #[test]
    fn metadata_keys_outside_the_safe_alphabet_are_rejected() {
        for good in ["user", "user.id", "a-b_c", &"k".repeat(64)] {
            assert!(validate_metadata_key(good).is_ok(), "{good}");
        }
        for bad in ["", "a'b", "a\"b", "a b", "ключ", &"k".repeat(65)] {
            assert!(validate_metadata_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn status_filter_parses_codes_and_classes() {
        assert_eq!("429".parse(), Ok(StatusFilter::Exact(429)));
        assert_eq!("5xx".parse(), Ok(StatusFilter::Range { min: 500, max: 599 }));
        assert!("0xx".parse::<StatusFilter>().is_err());
        assert!("abc".parse::<StatusFilter>().is_err());
    }

    #[tokio::test]
    async fn filters_on_often_empty_columns_use_their_partial_indexes() {
        let dir = std::env::temp_dir().join(format!("switchboard-plan-{}", uuid::Uuid::new_v4().simple()));
        let store = crate::open(&crate::StoreLocation::Sqlite(dir.clone())).await.unwrap();
        let cases: [(LogQuery, &str); 4] = [
            (LogQuery { config: Some("c".into()), ..LogQuery::default() }, "request_logs_config"),
            (LogQuery { virtual_key: Some("v".into()), ..LogQuery::default() }, "request_logs_virtual_key"),
            (LogQuery { api_key_id: Some("k".into()), ..LogQuery::default() }, "request_logs_api_key"),
            (LogQuery { trace_id: Some("t".into()), ..LogQuery::default() }, "request_logs_trace"),
        ];
        for (query, index) in cases {
            // The SQLite plan of the page query, one `detail` line each.
            let sql = page_sql(Backend::Sqlite, &query, None, 50).unwrap().explained();
            let plan = store.db.fetch_all(&sql, |row| row.text("detail")).await.unwrap();
            assert!(plan.iter().any(|line| line.contains(index)), "{index} not used: {plan:?}");
            assert!(!plan.iter().any(|line| line.contains("TEMP B-TREE")), "sorts instead of walking: {plan:?}");
        }
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn status_codes_are_written_into_the_text_so_a_prepared_plan_can_use_the_error_indexes() {
        let q =
            LogQuery { provider: Some("openai".into()), status: Some("4xx".parse().unwrap()), ..LogQuery::default() };
        let sql = page_sql(Backend::Postgres, &q, None, 10).unwrap();
        assert!(sql.text().contains("provider = $1 AND status BETWEEN 400 AND 499 ORDER BY"), "{}", sql.text());
        assert_eq!(sql.param_count(), 2, "provider and limit");
        let exact = LogQuery { status: Some(StatusFilter::Exact(429)), ..LogQuery::default() };
        assert!(page_sql(Backend::Sqlite, &exact, None, 10).unwrap().text().contains("WHERE status = 429 ORDER BY"));
    }

    #[test]
    fn every_filter_binds_a_parameter_and_values_never_enter_the_text() {
        let q = LogQuery {
            trace_id: Some("t'1".into()),
            model: Some("m".into()),
            metadata: vec![("user".into(), "x' OR 1=1".into())],
            ..LogQuery::default()
        };
        let sql = page_sql(Backend::Postgres, &q, None, 10).unwrap();
        assert!(!sql.text().contains("t'1") && !sql.text().contains("OR 1=1"));
        // trace_id, model (twice: requested or served), metadata key + value, limit.
        assert_eq!(sql.param_count(), 6);
        assert!(sql.text().contains("(metadata ->> $4) = $5"));
    }
}

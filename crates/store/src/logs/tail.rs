//! Following the log as it is written, for the live tail: rows in the order they were stored, after a
//! position, with the list's filters.
//!
//! `created_at` is when a request started, so a long request's row lands long after rows created later; the
//! tail follows the write order instead, by a [`TailPosition`] that means something different per backend:
//! - **SQLite** has one writer, and a new row's rowid is one past the largest: rowid order is commit order,
//!   and the table's own B-tree answers `rowid > ?`, so following the log costs the writer nothing more.
//! - **PostgreSQL** may have a writer per instance, committing concurrently: each row carries `logged_at` (the
//!   writer's clock when it stored the batch, indexed), and a tail resuming from a position reads again from
//!   [`PG_OVERLAP_MS`] before it, so a row committed a little out of order is not missed. Rows may then repeat:
//!   callers drop repeats by id.

use std::fmt;

use crate::db::{Backend, Sql};
use crate::error::StoreError;
use crate::store::{now_ms, Store};

use super::query::{filter_conditions, where_clause, LogQuery};
use super::{columns, LogRecord};

/// How far before a position a PostgreSQL tail reads again when it resumes.
pub const PG_OVERLAP_MS: i64 = 5_000;

/// A place in the write order: after it come the rows stored later. Text form (`s42`, `p1717171717171:<id>`)
/// for event ids and cursors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailPosition {
    /// SQLite: after this rowid.
    Row(i64),
    /// PostgreSQL: after this (`logged_at`, id).
    Logged { at: i64, id: String },
}

impl fmt::Display for TailPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TailPosition::Row(rowid) => write!(f, "s{rowid}"),
            TailPosition::Logged { at, id } => write!(f, "p{at}:{id}"),
        }
    }
}

impl TailPosition {
    /// Reads a position this backend wrote; anything else is an invalid query.
    pub fn parse(text: &str, backend: Backend) -> Result<Self, StoreError> {
        let bad = || StoreError::InvalidQuery(format!("`{text}` is not a position this log's tail sent"));
        match (backend, text.split_at_checked(1)) {
            (Backend::Sqlite, Some(("s", rowid))) => rowid.parse().map(TailPosition::Row).map_err(|_| bad()),
            (Backend::Postgres, Some(("p", rest))) => {
                let (at, id) = rest.split_once(':').ok_or_else(bad)?;
                Ok(TailPosition::Logged { at: at.parse().map_err(|_| bad())?, id: id.to_owned() })
            }
            _ => Err(bad()),
        }
    }
}

/// Where a read starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailFrom {
    /// Continuing a read: exactly after the position.
    After(TailPosition),
    /// A client coming back (or a new poll): after the position, and on PostgreSQL the overlap before it again.
    Resume(TailPosition),
}

/// A row of the tail: its position and the record (without bodies).
#[derive(Debug, Clone, PartialEq)]
pub struct TailRow {
    pub position: TailPosition,
    pub record: LogRecord,
}

fn tail_sql<'a>(backend: Backend, query: &'a LogQuery, from: &'a TailFrom, limit: u32) -> Result<Sql<'a>, StoreError> {
    let mut sql = Sql::new(backend, "");
    let mut conditions = filter_conditions(&mut sql, query)?;
    let (position, order) = match backend {
        Backend::Sqlite => ("rowid AS tail_rowid, CAST(NULL AS BIGINT) AS tail_logged_at", "rowid"),
        Backend::Postgres => ("CAST(NULL AS BIGINT) AS tail_rowid, logged_at AS tail_logged_at", "logged_at, id"),
    };
    conditions.push(after_condition(&mut sql, from)?);
    let limit = sql.arg(i64::from(limit));
    sql.push(&format!(
        "SELECT {}, {position} FROM request_logs{} ORDER BY {order} LIMIT {limit}",
        columns::select_list(backend, false),
        where_clause(&conditions)
    ));
    Ok(sql)
}

/// The condition for rows after `from`. Each placeholder once: SQLite's `?` are positional.
fn after_condition<'a>(sql: &mut Sql<'a>, from: &'a TailFrom) -> Result<String, StoreError> {
    let (position, resume) = match from {
        TailFrom::After(position) => (position, false),
        TailFrom::Resume(position) => (position, true),
    };
    match (sql.backend(), position) {
        (Backend::Sqlite, TailPosition::Row(rowid)) => Ok(format!("rowid > {}", sql.arg(*rowid))),
        (Backend::Postgres, TailPosition::Logged { at, .. }) if resume => {
            Ok(format!("logged_at >= {}", sql.arg(at - PG_OVERLAP_MS)))
        }
        (Backend::Postgres, TailPosition::Logged { at, id }) => {
            let (later, same, id) = (sql.arg(*at), sql.arg(*at), sql.arg(id.as_str()));
            Ok(format!("(logged_at > {later} OR (logged_at = {same} AND id > {id}))"))
        }
        _ => Err(StoreError::InvalidQuery("a tail position of the other backend".to_owned())),
    }
}

fn tail_row(row: &dyn crate::db::RowExt) -> Result<TailRow, StoreError> {
    let record = columns::from_row(row)?;
    let position = match row.opt_int("tail_rowid")? {
        Some(rowid) => TailPosition::Row(rowid),
        None => TailPosition::Logged { at: row.int("tail_logged_at")?, id: record.id.clone() },
    };
    Ok(TailRow { position, record })
}

impl Store {
    /// The position of the present: what a new tail follows from.
    pub async fn tail_now(&self) -> Result<TailPosition, StoreError> {
        match self.backend() {
            Backend::Sqlite => {
                let sql = self.db.sql("SELECT COALESCE(MAX(rowid), 0) AS last FROM request_logs", vec![]);
                let last = self.db.fetch_optional(&sql, |row| row.int("last")).await?;
                Ok(TailPosition::Row(last.unwrap_or(0)))
            }
            Backend::Postgres => Ok(TailPosition::Logged { at: now_ms(), id: String::new() }),
        }
    }

    /// Up to `limit` rows matching `query`'s filters (its paging fields are ignored) stored after `from`, in
    /// the order they were stored.
    pub async fn tail_logs(&self, query: &LogQuery, from: &TailFrom, limit: u32) -> Result<Vec<TailRow>, StoreError> {
        let sql = tail_sql(self.backend(), query, from, limit.clamp(1, super::query::MAX_PAGE_SIZE))?;
        self.db.fetch_all(&sql, tail_row).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_belong_to_their_backend() {
        let row = TailPosition::Row(42);
        assert_eq!(TailPosition::parse(&row.to_string(), Backend::Sqlite).unwrap(), row);
        let logged = TailPosition::Logged { at: 1_700_000_000_000, id: "a:b".into() };
        assert_eq!(TailPosition::parse(&logged.to_string(), Backend::Postgres).unwrap(), logged);
        assert!(TailPosition::parse("s42", Backend::Postgres).is_err());
        for bad in ["", "s", "sx", "p12", "pnan:x", "é"] {
            assert!(TailPosition::parse(bad, Backend::Sqlite).is_err(), "{bad}");
            assert!(TailPosition::parse(bad, Backend::Postgres).is_err(), "{bad}");
        }
    }

    #[test]
    fn postgres_resumes_with_the_overlap_and_continues_exactly() {
        let q = LogQuery { provider: Some("openai".into()), ..LogQuery::default() };
        let at = TailPosition::Logged { at: 10_000, id: "b".into() };
        let resume = TailFrom::Resume(at.clone());
        let sql = tail_sql(Backend::Postgres, &q, &resume, 10).unwrap();
        assert!(sql.text().contains("logged_at >= $2"), "{}", sql.text());
        assert!(sql.text().ends_with("ORDER BY logged_at, id LIMIT $3"), "{}", sql.text());
        let after = TailFrom::After(at);
        let sql = tail_sql(Backend::Postgres, &q, &after, 10).unwrap();
        assert!(sql.text().contains("(logged_at > $2 OR (logged_at = $3 AND id > $4))"), "{}", sql.text());
    }

    #[test]
    fn sqlite_follows_the_rowid() {
        let (q, from) = (LogQuery::default(), TailFrom::Resume(TailPosition::Row(7)));
        let sql = tail_sql(Backend::Sqlite, &q, &from, 10).unwrap();
        assert!(sql.text().contains("WHERE rowid > ?") && sql.text().ends_with("ORDER BY rowid LIMIT ?"));
    }
}

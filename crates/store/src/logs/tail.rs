//! Following the log as it is written, for the live tail: rows in the order the writer stored them
//! (`logged_at`, then `id`), after a position, with the list's filters.
//!
//! `logged_at` is the writer's clock when it stored the batch. Two instances' writers (or two transactions on
//! PostgreSQL) can commit out of that order by a little, so a reader that must not miss a row reads again from a
//! little before its last position and drops what it has already seen: that is the caller's part.

use crate::db::Backend;
use crate::error::StoreError;
use crate::store::Store;

use super::query::{filter_conditions, where_clause, LogQuery};
use super::{columns, LogRecord};

/// A row of the tail: when it was stored, and the record (without bodies).
#[derive(Debug, Clone, PartialEq)]
pub struct TailRow {
    pub logged_at: i64,
    pub record: LogRecord,
}

/// Where a tail read starts: rows stored at or after `since`, and, at `since` itself, with an id after `after_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TailFrom {
    pub since: i64,
    pub after_id: Option<String>,
}

fn tail_sql<'a>(
    backend: Backend,
    query: &'a LogQuery,
    from: &'a TailFrom,
    limit: u32,
) -> Result<crate::db::Sql<'a>, StoreError> {
    let mut sql = crate::db::Sql::new(backend, "");
    let mut conditions = filter_conditions(&mut sql, query)?;
    // Each placeholder once: SQLite's `?` are positional.
    match &from.after_id {
        Some(id) => {
            let (later, same, id) = (sql.arg(from.since), sql.arg(from.since), sql.arg(id.as_str()));
            conditions.push(format!("(logged_at > {later} OR (logged_at = {same} AND id > {id}))"));
        }
        None => conditions.push(format!("logged_at >= {}", sql.arg(from.since))),
    }
    let limit = sql.arg(i64::from(limit));
    sql.push(&format!(
        "SELECT {}, logged_at FROM request_logs{} ORDER BY logged_at, id LIMIT {limit}",
        columns::select_list(backend, false),
        where_clause(&conditions)
    ));
    Ok(sql)
}

impl Store {
    /// Up to `limit` rows matching `query`'s filters (its paging fields are ignored) stored from `from` on,
    /// oldest stored first.
    pub async fn tail_logs(&self, query: &LogQuery, from: &TailFrom, limit: u32) -> Result<Vec<TailRow>, StoreError> {
        let sql = tail_sql(self.backend(), query, from, limit.clamp(1, super::query::MAX_PAGE_SIZE))?;
        self.db
            .fetch_all(&sql, |row| Ok(TailRow { logged_at: row.int("logged_at")?, record: columns::from_row(row)? }))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_with_an_id_continues_after_that_row_at_the_same_instant() {
        let q = LogQuery { provider: Some("openai".into()), ..LogQuery::default() };
        let from = TailFrom { since: 5, after_id: Some("b".into()) };
        let sql = tail_sql(Backend::Postgres, &q, &from, 10).unwrap();
        assert!(sql.text().contains("(logged_at > $2 OR (logged_at = $3 AND id > $4))"), "{}", sql.text());
        assert!(sql.text().ends_with("ORDER BY logged_at, id LIMIT $5"), "{}", sql.text());
        let sql = tail_sql(Backend::Sqlite, &q, &TailFrom { since: 5, after_id: None }, 10).unwrap();
        assert!(sql.text().contains("logged_at >= ?"), "{}", sql.text());
    }
}

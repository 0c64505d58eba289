//! SQLite's request-log writes: each batch is one transaction of prepared multi-row INSERTs, run on the store's
//! [`SqliteThread`] (one rusqlite connection of its own).
//!
//! Why not through sqlx's pool like every other statement: sqlx hands each statement to its connection's worker
//! thread, and a batch went out as 1,600-placeholder multi-row INSERTs whose every argument sqlx re-encodes into
//! its own buffer before SQLite binds it. Here the statements are prepared once per connection (`prepare_cached`),
//! each row binds its 32 values straight from the record (through the same [`columns::bind_row`] the PostgreSQL
//! path uses, so the column order has one home), the thread hop is paid once per batch, not per statement, and the
//! thread runs below the request threads' priority. rusqlite is used for this one statement because it exposes
//! SQLite's prepared-statement API directly; it links the same `libsqlite3-sys` as sqlx.

use std::borrow::Borrow;

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, TransactionBehavior};

use super::{columns, statement_chunks, LogRecord};
use crate::db::{Backend, Param, Sql};
use crate::error::StoreError;
use crate::sqlite_thread::SqliteThread;

/// Writes `batch` in one transaction; ids already stored are skipped. The records are lent to the thread and given
/// back in `batch` (so a caller can retry), unless this future is dropped before the write ends: the write still
/// completes, and the records are dropped with it.
pub(crate) async fn write<R>(thread: &SqliteThread, batch: &mut Vec<R>) -> Result<(), StoreError>
where
    R: Borrow<LogRecord> + Send + 'static,
{
    let rows = std::mem::take(batch);
    let (result, rows) = thread
        .run(move |conn| {
            let result = write_batch(conn, &rows);
            (result, rows)
        })
        .await?;
    *batch = rows;
    result
}

/// The batch in the statements [`statement_chunks`] cuts it into: each statement opens and closes a cursor on the
/// table and on each index (~6k instructions in a profile of single-row statements), which a many-row statement pays
/// once for its rows. Every shape is prepared once per connection.
fn write_batch<R: Borrow<LogRecord>>(conn: &mut Connection, rows: &[R]) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut sql = Sql::new(Backend::Sqlite, "");
    for chunk in statement_chunks(rows) {
        execute(&tx, &mut sql, chunk)?;
    }
    tx.commit()?;
    Ok(())
}

/// Runs the cached INSERT for `rows.len()` rows, binding them through `sql` (whose allocation is reused).
fn execute<'r, R: Borrow<LogRecord>>(conn: &Connection, sql: &mut Sql<'r>, rows: &'r [R]) -> Result<(), StoreError> {
    let mut insert = conn.prepare_cached(&columns::insert_text(Backend::Sqlite, rows.len()))?;
    sql.clear_params();
    for row in rows {
        columns::bind_row(sql, row.borrow())?;
    }
    insert.execute(rusqlite::params_from_iter(sql.params()))?;
    Ok(())
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Text(Some(text)) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Param::Int(Some(n)) => ToSqlOutput::Owned(SqlValue::Integer(*n)),
            Param::Real(Some(x)) => ToSqlOutput::Owned(SqlValue::Real(*x)),
            Param::Bool(flag) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*flag))),
            Param::Text(None) | Param::Int(None) | Param::Real(None) => ToSqlOutput::Owned(SqlValue::Null),
        })
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn params_bind_as_sqlite_values() {
        let conn = Connection::open_in_memory().unwrap();
        let params = [
            Param::from("text"),
            Param::from(None::<&str>),
            Param::from(7_i64),
            Param::from(Some(0.5)),
            Param::from(true),
        ];
        let row: (String, Option<String>, i64, f64, i64) = conn
            .query_row("SELECT ?, ?, ?, ?, ?", rusqlite::params_from_iter(params.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap();
        assert_eq!(row, ("text".to_owned(), None, 7, 0.5, 1));
    }
}

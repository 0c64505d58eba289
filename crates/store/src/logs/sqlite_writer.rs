//! SQLite's request-log writer: one OS thread that owns one connection to the store's file and writes each batch
//! as one transaction of prepared multi-row INSERTs.
//!
//! Why not through sqlx's pool like every other statement: sqlx hands each statement to its connection's worker
//! thread, and a batch went out as 1,600-placeholder multi-row INSERTs whose every argument sqlx re-encodes into
//! its own buffer before SQLite binds it. A profile put that machinery at a third of what a logged row cost.
//! Here the statements are prepared once per connection (`prepare_cached`), each row binds its 32 values straight
//! from the record (through the same [`columns::bind_row`] the PostgreSQL path uses, so the column order has one
//! home), and the thread hop is paid once per batch, not per statement. rusqlite is used for this one statement
//! because it exposes SQLite's prepared-statement API directly; it links the same `libsqlite3-sys` as sqlx.
//!
//! The thread starts with the first batch (a store that never writes logs, like the CLI's, opens no second
//! connection) and runs at a lower scheduling priority than the gateway's request threads (see [`NICENESS`]),
//! and stops when the last [`Store`](crate::Store) clone is dropped.

use std::borrow::Borrow;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::{columns, LogRecord, ROWS_PER_INSERT};
use crate::db::{Backend, Param, Sql};
use crate::error::StoreError;

/// How much lower than the request threads the writer runs (a Linux nice increment; ignored elsewhere). A batch
/// takes a few milliseconds of CPU; at a lower priority the scheduler lets a request thread that wakes up run
/// first, so the batch does not sit in a request's latency. It is not so low that a busy gateway starves it:
/// at nice 5 the writer still gets about a quarter of a core the request threads would otherwise take, several
/// times what it needs at the load where that core is full (see bench/README.md, "Request logs").
pub(crate) const NICENESS: i32 = 5;

/// How long a write waits for another writer (a control-plane write, retention) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The writer thread's inbox, started on first use.
pub(crate) struct SqliteLogWriter {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
}

impl std::fmt::Debug for SqliteLogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLogWriter").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteLogWriter {
    pub(crate) fn new(path: &Path) -> Self {
        SqliteLogWriter { path: path.to_owned(), jobs: Mutex::new(None) }
    }

    /// Writes `batch` in one transaction; ids already stored are skipped. The records are lent to the writer
    /// thread and given back in `batch` (so a caller can retry), unless this future is dropped before the write
    /// ends: the write still completes, and the records are dropped with it.
    pub(crate) async fn write<R>(&self, batch: &mut Vec<R>) -> Result<(), StoreError>
    where
        R: Borrow<LogRecord> + Send + 'static,
    {
        let rows = std::mem::take(batch);
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = write_batch(conn, &rows);
            let _ = reply.send((result, rows));
        });
        self.send(job)?;
        let (result, rows) = answer.await.map_err(|_| StoreError::LogWriterStopped)?;
        *batch = rows;
        result
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if jobs.is_none() {
            *jobs = Some(start(&self.path)?);
        }
        let sender = jobs.as_ref().ok_or(StoreError::LogWriterStopped)?;
        sender.send(job).map_err(|_| {
            *jobs = None;
            StoreError::LogWriterStopped
        })
    }
}

/// Opens the connection here, so a failure to open is the caller's error, then moves it into the thread.
fn start(path: &Path) -> Result<mpsc::Sender<Job>, StoreError> {
    let mut conn = connect(path)?;
    let (jobs, inbox) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("sb-log-writer".into())
        .spawn(move || {
            lower_priority();
            for job in inbox {
                job(&mut conn);
            }
        })
        .map_err(|source| StoreError::DataDir { path: path.to_owned(), source })?;
    Ok(jobs)
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The file is already in WAL mode (a persistent setting, made when the store opened it); these two are per
    // connection and match the pool's.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -1024)?;
    Ok(conn)
}

/// Full statements of [`ROWS_PER_INSERT`] rows, then single-row statements for the rest: each statement opens and
/// closes a cursor on the table and each index, so a row costs ~6k fewer instructions in a 50-row statement than
/// alone. Both shapes are prepared once per connection.
fn write_batch<R: Borrow<LogRecord>>(conn: &mut Connection, rows: &[R]) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut sql = Sql::new(Backend::Sqlite, "");
    let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
    for chunk in chunks.by_ref() {
        execute(&tx, &mut sql, chunk)?;
    }
    for row in chunks.remainder() {
        execute(&tx, &mut sql, std::slice::from_ref(row))?;
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

/// Lowers this thread's priority by [`NICENESS`] (Linux's nice value is per thread: `setpriority` on the thread's
/// id). Failing to is harmless and not reported: the writer then runs at the request threads' priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), NICENESS);
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

//! A thread that owns one connection to the store's SQLite file (through rusqlite) and runs the jobs sent to it, in
//! order. The request-log writer is its one user (`logs::sqlite_writer` says why it does not go through sqlx's pool).
//!
//! The thread starts with the first job (a store that never writes logs, like the CLI's, opens no second
//! connection), runs at a lower scheduling priority than the gateway's request threads ([`NICENESS`]), and stops
//! when the store is closed or its last [`Store`](crate::Store) clone dropped. A job that panics takes the thread
//! with it; the next job starts a new one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::StoreError;

/// How much lower than the request threads the writer runs (a Linux nice increment; ignored elsewhere). A batch
/// takes milliseconds of CPU; at a lower weight the scheduler hands the core back sooner to a request thread that
/// wakes up, so less of a batch sits in a request's latency. Low enough to matter, high enough that a saturated
/// core still leaves the writer ~40 % of it against one request thread (weights 655 : 1024), above the ~25 % it
/// needs when logging every request of a gateway at full load (bench/README.md, "Request logs").
pub(crate) const NICENESS: i32 = 2;

/// The page cache, in KiB: SQLite's default size, twice the pool connections'. The log writer's working set is the
/// last leaf of the table and, in each index, the leaf where each distinct value (provider, model, config, virtual
/// key, API key) appends: with dozens of those and 16 KiB pages a 1 MiB cache thrashes, re-reading pages from the OS
/// for most rows. `million_logs` (varied keys), 200k rows: 1 MiB 15.5k rows/s, 2 MiB 26-29k, 8 MiB 34-35k. Clean
/// pages stay cached until the limit, so the limit is memory the gateway holds: 8 MiB cost 5 MiB of RSS within
/// seconds of load, 2 MiB keeps it near the pool's.
const CACHE_KIB: i64 = 2 * 1024;

/// How long a write waits for another writer (a control-plane write, retention) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The thread's inbox, started on first use.
pub(crate) struct SqliteThread {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for SqliteThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteThread").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteThread {
    pub(crate) fn new(path: &Path) -> Self {
        SqliteThread { path: path.to_owned(), jobs: Mutex::new(None), closed: AtomicBool::new(false) }
    }

    /// Runs `job` on the thread's connection and returns what it returned. If this future is dropped first, the
    /// job still runs to its end; its result is dropped.
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> T + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.send(Box::new(move |conn| {
            let _ = reply.send(job(conn));
        }))?;
        answer.await.map_err(|_| StoreError::LogWriterStopped)
    }

    /// Lets the thread end once the jobs sent so far have run (its connection closes then); later jobs fail, as
    /// the pool's statements do after [`Store::close`](crate::Store::close).
    pub(crate) fn stop(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.closed.load(Ordering::Relaxed) {
            return Err(StoreError::LogWriterStopped);
        }
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
    // The file is already in WAL mode (a persistent setting, made when the store opened it); `synchronous` is per
    // connection and matches the pool's.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    Ok(conn)
}

/// Lowers this thread's priority by [`NICENESS`] below the process's (Linux's nice value is per thread, and a new
/// thread starts at its parent's, so a gateway started under `nice` keeps the same distance). Failing to is
/// harmless and not reported: the thread then runs at the request threads' priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let tid = rustix::thread::gettid();
        if let Ok(nice) = getpriority_process(Some(tid)) {
            let _ = setpriority_process(Some(tid), nice + NICENESS);
        }
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_in_order_on_one_connection_at_the_lower_priority() {
        let dir = std::env::temp_dir().join(format!("sb-sqlite-thread-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE t (n INTEGER)").unwrap();
        let thread = SqliteThread::new(&path);
        for n in 0..3 {
            thread.run(move |conn| conn.execute("INSERT INTO t VALUES (?)", [n]).unwrap()).await.unwrap();
        }
        let (sum, cache): (i64, i64) = thread
            .run(|conn| {
                let sum = conn.query_row("SELECT sum(n) FROM t", [], |r| r.get(0)).unwrap();
                (sum, conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap())
            })
            .await
            .unwrap();
        assert_eq!((sum, cache), (3, -CACHE_KIB));
        #[cfg(target_os = "linux")]
        {
            let ours = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
            let its = thread.run(|_| rustix::process::getpriority_process(Some(rustix::thread::gettid()))).await;
            assert_eq!(its.unwrap().unwrap(), (ours + NICENESS).min(19), "the writer runs NICENESS below its parent");
        }
        thread.stop();
        assert!(matches!(thread.run(|_| ()).await, Err(StoreError::LogWriterStopped)), "no job runs after stop");
        let _ = std::fs::remove_dir_all(dir);
    }
}

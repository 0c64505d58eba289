//! The log queue and its writer: a bounded channel, a task that writes batches to the
//! store (retrying a failed batch a few times), and a drain on shutdown so that a clean
//! stop loses nothing. Every finished record also updates the Prometheus metrics here, in
//! one place, whether or not logs are stored.
//!
//! A record goes to the writer and to the OTLP exporter as one shared `Arc`, never copied.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use switchboard_store::{LogRecord, Store};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::observe::metrics::Metrics;

/// Records written per store transaction, at most.
pub const BATCH_SIZE: usize = 500;
/// How long the writer waits for a batch to fill before writing what it has. Every commit
/// rewrites the touched table and index pages, so a few large commits cost far less than
/// many small ones.
pub const LINGER: Duration = Duration::from_millis(100);
const WRITE_ATTEMPTS: u32 = 4;

/// Where finished request records go.
#[derive(Clone)]
pub struct LogSink {
    tx: Option<mpsc::Sender<Arc<LogRecord>>>,
    /// The OTLP exporter's queue, when `--otlp-endpoint` is set; when full, a record is
    /// dropped and counted in `otlp_errors`, as a failed export is.
    otlp: Option<mpsc::Sender<Arc<LogRecord>>>,
    metrics: Arc<Metrics>,
    dropped: Arc<AtomicU64>,
}

impl LogSink {
    /// A sink that only feeds metrics (request logging off).
    pub fn metrics_only(metrics: Arc<Metrics>) -> Self {
        LogSink { tx: None, otlp: None, metrics, dropped: Arc::default() }
    }

    pub fn metrics_handle(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Whether records reach a store (so a body copied into one is kept).
    pub fn stores_records(&self) -> bool {
        self.tx.is_some()
    }

    /// Also exports every record as OTLP spans through `queue`.
    pub fn with_otlp(mut self, queue: mpsc::Sender<Arc<LogRecord>>) -> Self {
        self.otlp = Some(queue);
        self
    }

    /// Records metrics and queues the record without waiting; a full queue drops it.
    pub fn submit(&self, record: LogRecord) {
        self.metrics.observe(&record);
        if self.tx.is_none() && self.otlp.is_none() {
            return;
        }
        let record = Arc::new(record);
        if let Some(otlp) = &self.otlp {
            if otlp.try_send(Arc::clone(&record)).is_err() {
                self.metrics.otlp_errors.inc();
            }
        }
        let Some(tx) = &self.tx else { return };
        match tx.try_send(record) {
            Ok(()) => {
                self.metrics.log_queue.inc();
            }
            Err(mpsc::error::TrySendError::Full(_)) => self.drop_one(),
            Err(mpsc::error::TrySendError::Closed(record)) => {
                self.metrics.log_after_close.inc();
                tracing::warn!(
                    trace_id = record.trace_id.as_deref(),
                    "request log refused: the log writer has stopped"
                );
            }
        }
    }

    fn drop_one(&self) {
        self.metrics.log_dropped.inc();
        let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_power_of_two() {
            tracing::warn!(dropped_total = n, "request log queue full: dropping request logs (see --log-queue)");
        }
    }
}

/// The running writer; [`WriterHandle::drain`] stops intake and waits until every queued
/// record is written.
pub struct WriterHandle {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl WriterHandle {
    pub async fn drain(self, deadline: Duration) {
        let _ = self.stop.send(());
        if tokio::time::timeout(deadline, self.task).await.is_err() {
            tracing::warn!("request logs: the writer did not finish within {} ms", deadline.as_millis());
        }
    }
}

/// Starts the writer for `store` with a queue of `capacity` records.
pub fn spawn_writer(store: Store, capacity: usize, metrics: Arc<Metrics>) -> (LogSink, WriterHandle) {
    let (sink, rx) = queue(capacity, metrics.clone());
    let (stop, stopped) = oneshot::channel();
    let task = crate::support::tasks::spawn(write_loop(rx, stopped, store, metrics));
    (sink, WriterHandle { stop, task })
}

/// A sink and the receiving end of its queue.
pub(super) fn queue(capacity: usize, metrics: Arc<Metrics>) -> (LogSink, mpsc::Receiver<Arc<LogRecord>>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (LogSink { tx: Some(tx), otlp: None, metrics, dropped: Arc::default() }, rx)
}

async fn write_loop(
    mut rx: mpsc::Receiver<Arc<LogRecord>>,
    mut stopped: oneshot::Receiver<()>,
    store: Store,
    metrics: Arc<Metrics>,
) {
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, BATCH_SIZE) => {
                if n == 0 {
                    return;
                }
                fill(&mut rx, &mut batch).await;
                flush(&store, &metrics, &mut batch).await;
            }
            _ = &mut stopped => break,
        }
    }
    rx.close();
    while rx.recv_many(&mut batch, BATCH_SIZE).await > 0 {
        flush(&store, &metrics, &mut batch).await;
    }
    // One line a load test (bench/run.sh) or an operator can read to know nothing was lost.
    tracing::info!(
        written = metrics.log_written.get(),
        dropped = metrics.log_dropped.get(),
        batches_refused = metrics.log_write_errors.get(),
        "request log writer drained"
    );
}

/// Gathers more records until the batch is full or [`LINGER`] has passed.
async fn fill(rx: &mut mpsc::Receiver<Arc<LogRecord>>, batch: &mut Vec<Arc<LogRecord>>) {
    let deadline = tokio::time::Instant::now() + LINGER;
    while batch.len() < BATCH_SIZE {
        match tokio::time::timeout_at(deadline, rx.recv_many(batch, BATCH_SIZE - batch.len())).await {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

async fn flush(store: &Store, metrics: &Metrics, batch: &mut Vec<Arc<LogRecord>>) {
    if batch.is_empty() {
        return;
    }
    let records = batch.len();
    metrics.log_queue.dec_by(records as i64);
    for attempt in 1..=WRITE_ATTEMPTS {
        match store.insert_logs(batch).await {
            Ok(()) => {
                metrics.log_written.inc_by(records as u64);
                break;
            }
            // An empty batch after a failure went down with the store's writer (closed, or its thread gone):
            // there is nothing left to retry, and a retry of nothing would "succeed" and hide the loss.
            Err(err) if attempt == WRITE_ATTEMPTS || batch.is_empty() => {
                metrics.log_write_errors.inc();
                tracing::error!(records, "request logs lost: the store refused the batch: {err}");
                break;
            }
            Err(err) => {
                tracing::warn!(attempt, "request logs: write failed, retrying: {err}");
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
        }
    }
    batch.clear();
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn record(id: &str) -> LogRecord {
        LogRecord { status: 200, latency_ms: 1, ..LogRecord::new(id, 0, "openai", "m") }
    }

    #[test]
    fn full_queue_drops_and_counts_without_blocking() {
        let metrics = Arc::new(Metrics::default());
        let (sink, mut rx) = queue(2, metrics.clone());
        for i in 0..5 {
            sink.submit(record(&i.to_string()));
        }
        assert_eq!(metrics.log_dropped.get(), 3);
        assert_eq!(metrics.log_queue.get(), 2);
        let kept: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok()).map(|r| r.id.clone()).collect();
        assert_eq!(kept, ["0", "1"]);
        let requests: u64 =
            metrics.render().lines().filter(|l| l.starts_with("switchboard_requests_total{")).count() as u64;
        assert_eq!(requests, 1, "dropped records still count in metrics");
    }

    #[test]
    fn records_after_the_writer_stopped_are_counted_as_such_not_as_queue_full() {
        let metrics = Arc::new(Metrics::default());
        let (sink, rx) = queue(2, metrics.clone());
        drop(rx);
        sink.submit(record("late"));
        assert_eq!((metrics.log_after_close.get(), metrics.log_dropped.get()), (1, 0));
    }

    #[tokio::test]
    async fn a_batch_lost_with_the_stores_writer_is_counted_once_and_not_retried() {
        let dir = std::env::temp_dir().join(format!("switchboard-sink-{}", uuid::Uuid::new_v4().simple()));
        let store = switchboard_store::open(&switchboard_store::StoreLocation::Sqlite(dir.clone())).await.unwrap();
        store.close().await;
        // Paused only now: opening the store waits on real threads, which a paused clock would time out.
        tokio::time::pause();
        let metrics = Metrics::default();
        let mut batch: Vec<Arc<LogRecord>> = (0..3).map(|i| Arc::new(record(&i.to_string()))).collect();
        let started = tokio::time::Instant::now();
        flush(&store, &metrics, &mut batch).await;
        assert_eq!((metrics.log_write_errors.get(), metrics.log_written.get()), (1, 0));
        assert_eq!(started.elapsed(), Duration::ZERO, "no retry backoff for a batch that is gone");
        assert!(batch.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn metrics_only_sink_never_queues() {
        let metrics = Arc::new(Metrics::default());
        LogSink::metrics_only(metrics.clone()).submit(record("x"));
        assert_eq!((metrics.log_dropped.get(), metrics.log_queue.get()), (0, 0));
    }
}

//! The one place the server spawns tasks. Every task goes into one process-wide
//! [`TaskTracker`], so `serve` can, at the end of its ordered shutdown, stop the background
//! loops and wait (boundedly) for whatever is still running instead of dropping it on exit.
//! `clippy.toml` bans `tokio::spawn` elsewhere.
//!
//! Why process-wide and not a handle passed down: the spawning code (connection tasks, the
//! log writer, the exporter, the watchers) sits in four folders, a process has one runtime
//! to shut down, and tests that build several gateways in one process never shut the
//! tracker down, so sharing it costs them nothing.

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

static TRACKER: LazyLock<TaskTracker> = LazyLock::new(TaskTracker::new);
static STOP: LazyLock<CancellationToken> = LazyLock::new(CancellationToken::new);

/// Spawns a task that ends by itself (a connection, a drain, a request's work).
#[expect(clippy::disallowed_methods, reason = "this is the one home of tokio::spawn")]
pub fn spawn<F>(task: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(TRACKER.track_future(task))
}

/// Spawns a loop that runs until shutdown: it is dropped at its next await once
/// [`shutdown`] starts.
pub fn spawn_loop<F>(name: &'static str, task: F) -> JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    spawn(async move {
        tokio::select! {
            () = STOP.cancelled() => tracing::debug!("{name}: stopped"),
            () = task => {}
        }
    })
}

/// Stops every loop and waits up to `deadline` for every tracked task to end.
pub async fn shutdown(deadline: Duration) {
    STOP.cancel();
    TRACKER.close();
    if tokio::time::timeout(deadline, TRACKER.wait()).await.is_err() {
        tracing::warn!(tasks = TRACKER.len(), "tasks still running {} ms after shutdown began", deadline.as_millis());
    }
}

//! Re-applying the declarative file while the gateway runs: on SIGHUP, and when the file's
//! modification time or size changes (polled every [`POLL_INTERVAL`]; no notify crate). A
//! refused file is logged and the previous state stays in force.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::control::Control;

/// How often the file's metadata is checked.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// What identifies a version of the file on disk; `None` when it cannot be read.
pub type Fingerprint = Option<(SystemTime, u64)>;

/// The file's current fingerprint. A `stat` every few seconds is cheap enough to run on the
/// async runtime directly.
pub fn fingerprint(path: &Path) -> Fingerprint {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Starts watching. The SIGHUP handler is installed before this returns, so a SIGHUP sent
/// once the server listens never hits the default action (exit). It runs until shutdown.
pub fn spawn(path: PathBuf, control: Arc<Control>) {
    let hangup = Hangup::install();
    crate::support::tasks::spawn_loop("declarative file watcher", watch(path, control, hangup));
}

async fn watch(path: PathBuf, control: Arc<Control>, mut hangup: Hangup) {
    let mut last = fingerprint(&path);
    let mut tick = tokio::time::interval(POLL_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        let reason = tokio::select! {
            () = hangup.recv() => "SIGHUP",
            _ = tick.tick() => {
                let now = fingerprint(&path);
                if now == last {
                    continue;
                }
                "the file changed"
            }
        };
        last = fingerprint(&path);
        reload_logged(&path, &control, reason).await;
    }
}

async fn reload_logged(path: &Path, control: &Control, reason: &str) {
    match super::reload(path, control).await {
        Ok(applied) => tracing::info!("{} re-applied ({reason}): {applied}", path.display()),
        Err(err) => tracing::error!("{err} ({reason}; the previous state stays in force)"),
    }
}

/// SIGHUP where there is one; elsewhere a signal that never comes.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn install() -> Self {
        #[cfg(unix)]
        {
            let kind = tokio::signal::unix::SignalKind::hangup();
            let signal = tokio::signal::unix::signal(kind)
                .map_err(|err| tracing::warn!("cannot listen for SIGHUP ({err}): only file changes re-apply"))
                .ok();
            Hangup { signal }
        }
        #[cfg(not(unix))]
        Hangup {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

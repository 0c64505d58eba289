//! `switchboard serve`: prepares the data directory and admin key, binds the listener, and
//! serves until SIGTERM/SIGINT. Shutdown goes in order, so nothing is lost: stop accepting,
//! let in-flight requests finish within the grace period, drop the app (its log sinks with
//! it), drain the request-log queue into the store and the OTLP queue to the collector, stop
//! the background loops, and only then exit. Every task spawned here is kept and ended.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::secret::Secret;
use tokio::net::TcpListener;

use switchboard_store::{StoreLocation, Vault};

use crate::cli::{LogArgs, ServeArgs};
use crate::control::Control;
use crate::gateway::egress::EgressPolicy;
use crate::gateway::upstream::Upstream;
use crate::http::listen::ListenOptions;
use crate::observe::metrics::Metrics;
use crate::observe::{spawn_writer, LogSink, WriterHandle};
use crate::settings::{LogSettings, Settings, SharedSettings, UpstreamLimits};
use crate::state::AppState;
use crate::support::tasks;

/// How long the end of shutdown waits for tasks still running after the drains.
const LAST_TASKS_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not start the async runtime: {0}")]
    Runtime(String),
    #[error("data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("could not build the upstream HTTP client: {0}")]
    Client(String),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("store: {0}")]
    Store(#[from] switchboard_store::StoreError),
    #[error("vault: {0}")]
    Vault(#[from] switchboard_store::VaultError),
    #[error(transparent)]
    Declarative(#[from] crate::control::declarative::DeclarativeError),
    #[error(transparent)]
    Otlp(#[from] crate::observe::otlp::OtlpError),
    #[error(transparent)]
    Shared(#[from] crate::policy::redis::SharedError),
}

pub async fn run(args: ServeArgs) -> Result<(), StartError> {
    let data_err = |source| StartError::DataDir { path: args.data_dir.clone(), source };
    std::fs::create_dir_all(&args.data_dir).map_err(data_err)?;
    let admin_key = if args.insecure_no_auth {
        tracing::warn!("--insecure-no-auth: every request is accepted without a Switchboard key");
        None
    } else {
        Some(admin_key(args.admin_key.clone(), &args.data_dir).map_err(data_err)?)
    };
    if let Some(warning) = admin_key.as_ref().and_then(|key| guessable_admin_key(key, args.host)) {
        tracing::warn!("{warning}");
    }
    let policy = EgressPolicy {
        deny: args.egress.deny.clone(),
        allow: args.egress.allow.clone(),
        deny_private: args.egress.deny_private,
    };
    let upstream = Upstream::with_policy(Duration::from_millis(args.connect_timeout_ms), policy)
        .map_err(|e| StartError::Client(e.to_string()))?;
    let settings = settings(&args, admin_key);
    let control = Arc::new(open_control(&args).await?);
    tasks::spawn_loop("control-plane watcher", control.clone().watch());
    tasks::spawn_loop(
        "log retention",
        crate::observe::retention::run(control.store.clone(), args.logs.log_retention_days),
    );
    if let Some(path) = &args.config_file {
        crate::control::declarative::start(path, control.clone()).await?;
    }
    let (logs, drains) = log_sink(&args.logs, &control)?;
    let (policy, limits) = crate::policy::from_settings(&settings.shared, logs.metrics_handle().limits.clone())?;
    let state = Arc::new(AppState::with_policy(settings, upstream, control, logs, policy, limits));
    let addr = SocketAddr::new(args.host, args.port);
    let listener = TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!("listening on http://{local}");
    let grace = Duration::from_millis(args.shutdown_grace_ms);
    let options =
        ListenOptions { header_read_timeout: Duration::from_millis(args.limits.header_read_timeout_ms), grace };
    crate::http::listen::serve(listener, crate::app::app(state), options, shutdown_signal()).await;
    drains.drain(grace).await;
    // What is left: the loops (they stop at once) and connections still open past the grace
    // period, which get one more second, not another grace period, before the process exits.
    tasks::shutdown(LAST_TASKS_WAIT.min(grace)).await;
    tracing::info!("stopped");
    Ok(())
}

fn settings(args: &ServeArgs, admin_key: Option<Secret>) -> Settings {
    let limits = &args.limits;
    Settings {
        admin_key,
        max_body_bytes: args.max_body_bytes,
        anthropic_default_max_tokens: args.anthropic_default_max_tokens,
        logs: LogSettings { bodies: !args.logs.no_log_bodies, body_max_bytes: args.logs.log_body_max_bytes },
        limits: UpstreamLimits {
            timeout: Duration::from_millis(limits.upstream_timeout_ms),
            stream_idle: Duration::from_millis(limits.stream_idle_timeout_ms),
            max_body_bytes: limits.max_upstream_body_bytes,
            max_event_bytes: limits.max_sse_event_bytes,
        },
        max_in_flight: limits.in_flight(),
        shared: SharedSettings {
            redis_url: args.shared.redis_url.clone(),
            redis_namespace: args.shared.redis_namespace.clone(),
            limits_fail_closed: args.shared.limits_fail_closed,
        },
    }
}

/// The queues that must be emptied before the process exits.
struct Drains {
    writer: Option<WriterHandle>,
    otlp: Option<tokio::task::JoinHandle<()>>,
}

impl Drains {
    /// Writes what the request-log queue holds, then lets the OTLP exporter send what it
    /// holds (its queue closed when the app, which held its sender, was dropped).
    async fn drain(self, deadline: Duration) {
        if let Some(writer) = self.writer {
            writer.drain(deadline).await;
        }
        if let Some(otlp) = self.otlp {
            if tokio::time::timeout(deadline, otlp).await.is_err() {
                tracing::warn!("OTLP export did not finish within {} ms", deadline.as_millis());
            }
        }
    }
}

/// The request-log sink: a writer into the store, or metrics only with `--no-request-logs`.
fn log_sink(args: &LogArgs, control: &Control) -> Result<(LogSink, Drains), StartError> {
    let metrics = Arc::new(Metrics::default());
    let otlp =
        args.otlp_endpoint.as_deref().map(|url| crate::observe::otlp::spawn(url, metrics.clone())).transpose()?;
    let (sink, writer) = if args.no_request_logs {
        (LogSink::metrics_only(metrics), None)
    } else {
        let (sink, writer) = spawn_writer(control.store.clone(), args.log_queue, metrics);
        (sink, Some(writer))
    };
    let (queue, task) = otlp.unzip();
    Ok((queue.into_iter().fold(sink, LogSink::with_otlp), Drains { writer, otlp: task }))
}

/// Opens the store (SQLite in the data dir, or PostgreSQL) and the vault, and checks that
/// the vault's master key is the one the store was written with.
pub async fn open_control(args: &ServeArgs) -> Result<Control, StartError> {
    let location = match &args.database_url {
        Some(url) => StoreLocation::Postgres(url.expose().to_string()),
        None => StoreLocation::Sqlite(args.data_dir.clone()),
    };
    let store = switchboard_store::open(&location).await?;
    let vault = Vault::load_or_create(&args.data_dir)?;
    store.check_vault(&vault).await?;
    Ok(Control::new(store, vault))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The admin key: from the flag/env, else the one stored in the data dir, else a new one,
/// stored with mode 0600 and printed once to the terminal (never to the log).
fn admin_key(given: Option<Secret>, data_dir: &Path) -> std::io::Result<Secret> {
    if let Some(key) = given.filter(|k| !k.expose().trim().is_empty()) {
        return Ok(key);
    }
    let path = data_dir.join("admin.key");
    if let Ok(stored) = std::fs::read_to_string(&path) {
        tracing::info!("using the admin key stored in {}", path.display());
        return Ok(Secret::new(stored.trim()));
    }
    let key = format!("sb-admin-{}", uuid::Uuid::new_v4().simple());
    write_private(&path, &key)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Generated an admin key (stored in {}; shown only now):\n\n    {key}\n", path.display())?;
    Ok(Secret::new(key))
}

/// Shortest admin key not warned about when others can reach the port (a generated key has 41 characters).
const MIN_ADMIN_KEY_CHARS: usize = 24;

/// A warning for an admin key set by hand that someone able to reach the port could guess: failed attempts are
/// answered 401 without a lockout, so only the key's length stands in the way. Loopback-only gateways are not warned.
fn guessable_admin_key(key: &Secret, host: IpAddr) -> Option<String> {
    let chars = key.expose().trim().chars().count();
    (chars < MIN_ADMIN_KEY_CHARS && !host.is_loopback()).then(|| {
        format!(
            "the admin key is shorter than {MIN_ADMIN_KEY_CHARS} characters and the gateway listens on {host}, \
             where failed attempts are not locked out: unset SWITCHBOARD_ADMIN_KEY for a generated key, or use a \
             random one of {MIN_ADMIN_KEY_CHARS} characters or more"
        )
    })
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn a_short_admin_key_is_warned_about_only_where_others_can_reach_it() {
        let short = Secret::new("sb-local-admin");
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        let warning = guessable_admin_key(&short, any);
        assert!(warning.as_deref().is_some_and(|w| w.contains("0.0.0.0") && !w.contains("sb-local-admin")));
        assert_eq!(guessable_admin_key(&short, IpAddr::from([127, 0, 0, 1])), None);
        assert_eq!(guessable_admin_key(&short, "::1".parse().unwrap()), None);
        assert_eq!(guessable_admin_key(&Secret::new("x".repeat(MIN_ADMIN_KEY_CHARS)), any), None);
    }
}

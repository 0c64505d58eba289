//! Optional OpenTelemetry trace export (`--otlp-endpoint`): every finished request becomes
//! one span with a child span per upstream attempt (`spans`), sent in batches as OTLP/HTTP
//! protobuf (`POST {endpoint}/v1/traces`) by the `opentelemetry-otlp` exporter. It is fed
//! from the same log records as the logs and metrics, off the hot path: the request path only
//! `try_send`s into a bounded queue, and a full queue drops the record and counts it in
//! `switchboard_otlp_export_errors_total` (see `LogSink::submit`). One task, spawned in
//! [`spawn`] and nowhere else, batches and exports; it ends once every sender is dropped and
//! what was queued is sent, which is how shutdown drains it (`serve` bounds the wait).
//!
//! Records go straight to the SDK's exporter rather than through a tracer and the SDK's
//! `BatchSpanProcessor`: a record already is a finished span with its own times and IDs, and
//! that processor runs its own OS thread that drives the exporter with a blocking executor
//! (so it needs reqwest's blocking client, a second runtime) and keeps its drop count to
//! itself. Here the export runs on the gateway's runtime and every drop is counted.
//!
//! The collector is an address the operator chose. Its client follows no redirect (a 3xx is
//! an export failure), gives up after [`TIMEOUT`], and, as before, is not under the
//! `--egress-*` policy, which governs the addresses provider calls may reach.

mod spans;

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SpanExporter as _;
use opentelemetry_sdk::Resource;
use switchboard_store::LogRecord;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::observe::metrics::Metrics;

/// Records exported per request to the collector, at most.
const BATCH: usize = 128;
/// Records waiting for export; past this, new ones are dropped and counted.
const QUEUE: usize = 4096;
/// How long one export may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Why the exporter could not start.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    /// The endpoint itself is never echoed: it may hold credentials.
    #[error(
        "--otlp-endpoint must be an http:// or https:// URL without user or password \
         (send a collector token with OTEL_EXPORTER_OTLP_HEADERS)"
    )]
    Endpoint,
    #[error("could not build the OTLP exporter: {0}")]
    Build(String),
}

/// Starts the exporter; returns the queue to feed finished records into and the task, which
/// ends once every sender is dropped and what was queued is sent.
pub fn spawn(
    endpoint: &str,
    metrics: Arc<Metrics>,
) -> Result<(mpsc::Sender<Arc<LogRecord>>, JoinHandle<()>), OtlpError> {
    let exporter = exporter(endpoint)?;
    let (tx, rx) = mpsc::channel(QUEUE);
    Ok((tx, crate::support::tasks::spawn(export_loop(rx, exporter, metrics))))
}

/// The OTLP/HTTP protobuf exporter for `{endpoint}/v1/traces`. Programmatic settings win over
/// `OTEL_EXPORTER_OTLP_*` variables; only the `…_HEADERS` ones still apply.
fn exporter(endpoint: &str) -> Result<opentelemetry_otlp::SpanExporter, OtlpError> {
    let build = |e: &dyn std::fmt::Display| OtlpError::Build(e.to_string());
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| build(&e))?;
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces_url(endpoint)?)
        .with_timeout(TIMEOUT)
        .build()
        .map_err(|e| build(&e))?;
    exporter.set_resource(&Resource::builder_empty().with_service_name("switchboard").build());
    Ok(exporter)
}

/// `{endpoint}/v1/traces`, for an http(s) endpoint that carries no credentials (they would
/// show in every export error).
fn traces_url(endpoint: &str) -> Result<String, OtlpError> {
    let url = reqwest::Url::parse(endpoint).map_err(|_| OtlpError::Endpoint)?;
    let web = matches!(url.scheme(), "http" | "https") && url.host_str().is_some();
    if !web || !url.username().is_empty() || url.password().is_some() {
        return Err(OtlpError::Endpoint);
    }
    Ok(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
}

async fn export_loop(
    mut rx: mpsc::Receiver<Arc<LogRecord>>,
    exporter: opentelemetry_otlp::SpanExporter,
    metrics: Arc<Metrics>,
) {
    let scope = spans::scope();
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let spans = batch.drain(..).flat_map(|r| spans::spans(&r, &scope)).collect();
        if let Err(err) = exporter.export(spans).await {
            metrics.otlp_errors.inc();
            let err = err.to_string();
            tracing::warn!("OTLP export failed: {}", crate::observe::capped(err.as_bytes(), 512));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_with_credentials_or_other_schemes_are_refused() {
        assert_eq!(traces_url("http://127.0.0.1:4318/").ok().as_deref(), Some("http://127.0.0.1:4318/v1/traces"));
        for bad in ["http://user:secret@collector:4318", "ftp://collector", "collector:4318", "not a url"] {
            assert!(matches!(traces_url(bad), Err(OtlpError::Endpoint)), "{bad}");
        }
    }
}

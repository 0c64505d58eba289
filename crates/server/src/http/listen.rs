//! The accept loop: hyper's connection builder (HTTP/1 and HTTP/2) under the limits a
//! client cannot lift — a whole request head within the header-read timeout (which also
//! ends a kept-alive connection that sends nothing for that long, so idle connections cost
//! only a socket until then), TCP_NODELAY on every socket — and a graceful shutdown that
//! stops accepting, lets in-flight requests finish within the grace period, then closes the
//! rest. Written against hyper-util rather than `axum::serve`, which cannot set the header
//! timeout.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// What every accepted connection gets.
#[derive(Debug, Clone, Copy)]
pub struct ListenOptions {
    pub header_read_timeout: Duration,
    /// After shutdown begins, how long in-flight requests may take.
    pub grace: Duration,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions { header_read_timeout: Duration::from_secs(10), grace: Duration::from_secs(30) }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains connections.
pub async fn serve(listener: TcpListener, app: Router, options: ListenOptions, shutdown: impl Future<Output = ()>) {
    let builder = builder(&options);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    if let Err(err) = tcp.set_nodelay(true) {
                        tracing::debug!("could not set TCP_NODELAY: {err}");
                    }
                    spawn_connection(&builder, &graceful, tcp, app.clone());
                }
                // Out of file descriptors and the like: wait rather than spin.
                Err(err) => {
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests (up to {} ms)", options.grace.as_millis());
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(options.grace) => tracing::warn!("grace period over: closing the remaining connections"),
    }
}

fn builder(options: &ListenOptions) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(options.header_read_timeout);
    // HTTP/2 has no header-read timeout in hyper; pings find and close dead peers instead.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(20))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

fn spawn_connection(
    builder: &Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    tcp: tokio::net::TcpStream,
    app: Router,
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| app.clone().oneshot(request));
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service).into_owned();
    let connection = graceful.watch(connection);
    crate::support::tasks::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!("connection ended: {err}");
        }
    });
}

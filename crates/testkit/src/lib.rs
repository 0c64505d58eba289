//! Dev-only test kit: a scriptable mock provider that stands in for OpenAI, Azure OpenAI and Anthropic and checks
//! requests the way the real APIs do (auth headers, required fields, Anthropic's top-level `system`, unknown
//! fields), records every request, and misbehaves on demand: fail N times with any `Retry-After` /
//! `retry-after-ms` text (hostile values too), answer a raw body instead (malformed JSON, an HTML error page, an
//! error with 200), pad a valid answer past any sane size, redirect, add headers (rate limits), delay, hang, and
//! pace, cut or stall a stream or replace it with scripted SSE chunks. It is used in-process by Rust tests
//! ([`MockProvider`]) and as the `mock-provider` binary by the end-to-end tests, which drive it over HTTP
//! (`POST /_script`, `GET|DELETE /_hits`, `GET /_health`).
//!
//! It must never be a dependency of the gateway itself: it exists to find the gateway's bugs.

mod anthropic;
mod anthropic_check;
mod app;
mod content;
mod openai;
mod reply;
mod request;
mod script;
mod script_parse;

pub use script::Script;

use app::Shared;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running mock provider. Dropping it stops accepting connections.
pub struct MockProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl MockProvider {
    /// Binds `127.0.0.1:0` and serves in a spawned task. `name` appears in replies (`Hello from {name} …`).
    pub async fn start(name: &str) -> std::io::Result<MockProvider> {
        MockProvider::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), name).await
    }

    /// Like [`MockProvider::start`] on a chosen address (the binary's `--port`).
    pub async fn start_on(addr: SocketAddr, name: &str) -> std::io::Result<MockProvider> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(name));
        let router = app::app(Arc::clone(&shared));
        let listener = listener.tap_io(|tcp| {
            // Streams are many small writes; Nagle would batch them and hide pacing.
            tcp.set_nodelay(true).ok();
        });
        #[expect(
            clippy::disallowed_methods,
            reason = "a test-only mock, aborted on drop; nothing waits for it at shutdown"
        )]
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.ok();
        });
        Ok(MockProvider { addr, shared, server })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the current script.
    pub fn script(&self, script: Script) {
        self.shared.set_script(script);
    }

    /// Replaces the current script with one given as the `POST /_script` JSON (see [`Script::from_json`]);
    /// a bad script leaves the current one in place and says what is wrong.
    pub fn script_json(&self, value: serde_json::Value) -> Result<(), String> {
        self.shared.set_script(Script::from_json(&value)?);
        Ok(())
    }

    /// Every provider request so far: `{"method","path","query","headers":{lower-case name: value},"body"}`.
    pub fn hits(&self) -> Vec<serde_json::Value> {
        self.shared.hits()
    }

    /// Forgets the hits and resets the script.
    pub fn clear(&self) {
        self.shared.clear();
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

//! Test harness: the real app served on 127.0.0.1:0 in-process, mock providers from the
//! testkit, and a small client that returns status, headers and parsed body.

#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

pub mod services;

use std::sync::Arc;
use std::time::Duration;

pub use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{json, Value};
use switchboard::control::Control;
use switchboard::gateway::upstream::Upstream;
use switchboard::observe::metrics::Metrics;
use switchboard::observe::{spawn_writer, WriterHandle};
use switchboard::settings::{LogSettings, Settings};
use switchboard::state::AppState;
use switchboard_store::{StoreLocation, Vault};
pub use switchboard_testkit::{MockProvider, Script};

pub const ADMIN_KEY: &str = "sb-test-admin";

pub struct Gateway {
    pub url: String,
    pub state: Arc<AppState>,
    writer: std::sync::Mutex<Option<WriterHandle>>,
    client: reqwest::Client,
}

pub fn settings() -> Settings {
    Settings {
        admin_key: Some(switchboard_core::secret::Secret::new(ADMIN_KEY)),
        max_body_bytes: 64 * 1024,
        anthropic_default_max_tokens: None,
        logs: LogSettings::default(),
        ..Settings::default()
    }
}

pub async fn gateway() -> Gateway {
    gateway_with(settings()).await
}

pub async fn gateway_with(settings: Settings) -> Gateway {
    gateway_with_upstream(settings, Upstream::new(Duration::from_secs(2)).unwrap()).await
}

/// A gateway whose upstream client was built by the test (e.g. with an egress policy).
pub async fn gateway_with_upstream(settings: Settings, upstream: Upstream) -> Gateway {
    let control = Arc::new(control().await);
    let (logs, writer) = spawn_writer(control.store.clone(), 10_000, Arc::new(Metrics::default()));
    let state = Arc::new(AppState::new(settings, upstream, control, logs));
    serve(state, Some(writer)).await
}

/// Serves `state` on 127.0.0.1:0.
pub async fn serve(state: Arc<AppState>, writer: Option<WriterHandle>) -> Gateway {
    serve_listening(state, writer, switchboard::http::listen::ListenOptions::default()).await
}

/// Serves `state` on 127.0.0.1:0 with the given connection options.
pub async fn serve_listening(
    state: Arc<AppState>,
    writer: Option<WriterHandle>,
    options: switchboard::http::listen::ListenOptions,
) -> Gateway {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = switchboard::app::app(state.clone());
    switchboard::support::tasks::spawn(switchboard::http::listen::serve(
        listener,
        app,
        options,
        std::future::pending(),
    ));
    Gateway {
        url: format!("http://{addr}"),
        state,
        writer: std::sync::Mutex::new(writer),
        client: reqwest::Client::new(),
    }
}

/// A fresh SQLite store in its own temporary directory, with a fixed test master key.
pub async fn control() -> Control {
    let dir = std::env::temp_dir().join(format!("switchboard-test-{}", uuid::Uuid::new_v4().simple()));
    let store = switchboard_store::open(&StoreLocation::Sqlite(dir)).await.unwrap();
    let vault = Vault::from_master_key([7; 32]);
    store.check_vault(&vault).await.unwrap();
    Control::new(store, vault)
}

/// Counts panics in this test process (each nextest test runs in its own process): a fault
/// test asserts the gateway survived the fault without one, even in a spawned task.
pub fn count_panics() -> &'static std::sync::atomic::AtomicUsize {
    static PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            default(info);
        }));
    });
    &PANICS
}

pub fn assert_no_panics() {
    assert_eq!(count_panics().load(std::sync::atomic::Ordering::SeqCst), 0, "the gateway panicked");
}

pub async fn mock(name: &str) -> MockProvider {
    MockProvider::start(name).await.unwrap()
}

/// A target calling `provider` on the mock.
pub fn target(provider: &str, mock: &MockProvider) -> Value {
    let host = match provider {
        "azure-openai" => format!("{}/openai", mock.base_url()),
        _ => format!("{}/v1", mock.base_url()),
    };
    let mut t = json!({"provider": provider, "api_key": format!("key-{provider}"), "custom_host": host});
    if provider == "azure-openai" {
        t["resource_name"] = json!("res");
        t["deployment_id"] = json!("gpt35");
        t["api_version"] = json!("2024-02-01");
    }
    if provider == "anthropic" {
        t["override_params"] = json!({"max_tokens": 200, "model": "claude-3-opus-20240229"});
    }
    t
}

/// The cookbook's config: 50/50 between Anthropic and an OpenAI → Azure fallback.
pub fn cookbook(anthropic: &MockProvider, openai: &MockProvider, azure: &MockProvider) -> Value {
    let mut ant = target("anthropic", anthropic);
    ant["weight"] = json!(0.5);
    json!({"strategy": {"mode": "loadbalance"}, "targets": [ant,
        {"strategy": {"mode": "fallback"}, "weight": 0.5,
         "targets": [target("openai", openai), target("azure-openai", azure)]}]})
}

/// An SSE body's events as (event name, parsed data); unnamed events have an empty name.
pub fn named_events(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut name = String::new();
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("event: ") {
            name = n.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            out.push((std::mem::take(&mut name), serde_json::from_str(data).unwrap_or(Value::Null)));
        }
    }
    out
}

pub fn chat_body() -> Value {
    json!({"model": "gpt-3.5-turbo", "messages": [
        {"role": "system", "content": "You are a very helpful assistant."},
        {"role": "user", "content": "What are 7 wonders in the world?"}]})
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The `data:` payloads of an SSE body.
    pub fn events(&self) -> Vec<String> {
        self.text.lines().filter_map(|l| l.strip_prefix("data: ")).map(str::to_string).collect()
    }
}

impl Gateway {
    /// Waits until every request log so far is in the store (stops the writer: later
    /// requests are not logged).
    pub async fn drain_logs(&self) {
        let writer = self.writer.lock().unwrap().take();
        if let Some(writer) = writer {
            writer.drain(Duration::from_secs(10)).await;
        }
    }

    /// Every stored log record, newest first.
    pub async fn logs(&self) -> Vec<switchboard_store::LogRecord> {
        self.drain_logs().await;
        let query = switchboard_store::LogQuery { limit: Some(1000), include_bodies: true, ..Default::default() };
        self.state.control.store.query_logs(&query).await.unwrap().items
    }

    pub async fn post(&self, path: &str, headers: &[(&str, String)], body: impl Into<reqwest::Body>) -> Answer {
        let mut req = self.client.post(format!("{}{path}", self.url)).header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        answer(req.body(body).send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, String)]) -> Answer {
        let mut req = self.client.get(format!("{}{path}", self.url));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        answer(req.send().await.unwrap()).await
    }

    /// `POST /v1/chat/completions` with the admin key and `config`.
    pub async fn chat(&self, config: &Value, body: &Value) -> Answer {
        self.chat_with(config, body, &[]).await
    }

    pub async fn chat_with(&self, config: &Value, body: &Value, extra: &[(&str, String)]) -> Answer {
        let mut headers = vec![("x-portkey-api-key", ADMIN_KEY.to_string()), ("x-portkey-config", config.to_string())];
        headers.extend(extra.iter().cloned());
        self.post("/v1/chat/completions", &headers, body.to_string()).await
    }
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = match resp.text().await {
        Ok(t) => t,
        Err(e) => format!("<body error: {e}>"),
    };
    Answer { status, headers, text }
}

/// A fake OpenTelemetry collector: its base URL, and every OTLP/HTTP protobuf export it got,
/// decoded with the OTLP protobuf types (a body that does not decode fails the test).
pub async fn otlp_collector() -> (String, Arc<std::sync::Mutex<Vec<ExportTraceServiceRequest>>>) {
    let got: Arc<std::sync::Mutex<Vec<ExportTraceServiceRequest>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                assert_eq!(headers["content-type"], "application/x-protobuf");
                sink.lock().unwrap().push(prost::Message::decode(body).unwrap());
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    switchboard::support::tasks::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, got)
}

/// Every span of an export, in order.
pub fn otlp_spans(export: &ExportTraceServiceRequest) -> Vec<Span> {
    let scopes = export.resource_spans.iter().flat_map(|r| &r.scope_spans);
    scopes.flat_map(|s| s.spans.iter().cloned()).collect()
}

/// A span attribute's value: strings as `Value::String`, ints and doubles as numbers.
pub fn otlp_attr(span: &Span, key: &str) -> Option<Value> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    let value = span.attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?.value.as_ref()?;
    match value {
        Any::StringValue(s) => Some(json!(s)),
        Any::IntValue(i) => Some(json!(i)),
        Any::DoubleValue(d) => Some(json!(d)),
        Any::BoolValue(b) => Some(json!(b)),
        _ => None,
    }
}

/// A record's attempts as the logs API shows them (JSON).
pub fn attempts_json(record: &switchboard_store::LogRecord) -> Vec<Value> {
    serde_json::to_value(&record.attempts).unwrap().as_array().cloned().unwrap()
}

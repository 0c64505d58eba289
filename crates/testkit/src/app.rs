//! The mock's HTTP surface: control endpoints (`/_script`, `/_hits`, `/_health`) and one handler for every provider
//! path, which records the request, applies the script (delay, hang, a scripted answer — failure, raw body,
//! redirect, scripted events — padding and extra headers) and hands the rest to the provider modules. State lives
//! in [`Shared`]; no lock is held across an await.

use crate::request::{Endpoint, Incoming};
use crate::script::{Pacing, Script, Scripted, Turn};
use crate::{anthropic, openai, reply};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Scripts may carry oversized bodies and events on purpose; axum's 2 MiB default would refuse them.
const MAX_SCRIPT_BYTES: usize = 256 * 1024 * 1024;

/// What one mock process (one "provider account") remembers.
pub(crate) struct Shared {
    pub name: String,
    hits: Mutex<Vec<Value>>,
    script: Mutex<Script>,
    seq: AtomicU64,
}

/// What a provider module needs to answer one request besides the request itself.
pub(crate) struct Call<'a> {
    /// The mock's name, quoted in replies.
    pub name: &'a str,
    /// A per-mock sequence number, for ids.
    pub n: u64,
    pub pacing: Pacing,
}

/// A poisoned lock only means a test panicked elsewhere; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(name: &str) -> Shared {
        Shared {
            name: name.to_string(),
            hits: Mutex::new(Vec::new()),
            script: Mutex::new(Script::default()),
            seq: AtomicU64::new(0),
        }
    }

    pub(crate) fn set_script(&self, script: Script) {
        *lock(&self.script) = script;
    }

    pub(crate) fn hits(&self) -> Vec<Value> {
        lock(&self.hits).clone()
    }

    pub(crate) fn clear(&self) {
        lock(&self.hits).clear();
        self.set_script(Script::default());
    }

    fn record(&self, hit: Value) {
        lock(&self.hits).push(hit);
    }

    fn take_turn(&self, stream: bool) -> Turn {
        lock(&self.script).take_turn(stream)
    }
}

/// The router: control endpoints first, every other path is a provider request.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_health", get(health))
        .route("/_hits", get(list_hits).delete(clear_hits))
        .route("/_script", post(set_script).layer(DefaultBodyLimit::max(MAX_SCRIPT_BYTES)))
        .fallback(provider)
        .with_state(shared)
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    reply::json(200, &json!({"ok": true, "name": shared.name}))
}

async fn list_hits(State(shared): State<Arc<Shared>>) -> Response {
    reply::json(200, &Value::Array(shared.hits()))
}

async fn clear_hits(State(shared): State<Arc<Shared>>) -> Response {
    shared.clear();
    reply::json(200, &json!({"ok": true}))
}

async fn set_script(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body).map_err(|e| e.to_string());
    match parsed.and_then(|v| Script::from_json(&v)) {
        Ok(script) => {
            shared.set_script(script);
            reply::json(200, &json!({"ok": true}))
        }
        Err(message) => reply::json(400, &json!({"ok": false, "error": message})),
    }
}

/// Every provider request: record, then delay / hang as scripted, then answer, with the scripted headers.
async fn provider(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let incoming = match Incoming::read(request).await {
        Ok(incoming) => incoming,
        Err(message) => return reply::openai_error(400, &message, "invalid_request_error", None),
    };
    shared.record(incoming.to_hit());
    let mut turn = shared.take_turn(incoming.wants_stream());
    wait_as_scripted(&turn).await;
    let endpoint = Endpoint::of(&incoming.method, &incoming.path);
    let response = match turn.answer.take() {
        Some(scripted) => scripted_answer(&endpoint, scripted, turn.pacing, &shared.name),
        None => {
            let call = Call { name: &shared.name, n: shared.seq.fetch_add(1, Ordering::Relaxed), pacing: turn.pacing };
            reply::padded(answer(&endpoint, &incoming, &call), turn.pad_bytes).await
        }
    };
    reply::with_headers(response, &turn.headers)
}

async fn wait_as_scripted(turn: &Turn) {
    if turn.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(turn.delay_ms)).await;
    }
    if turn.hang {
        // hyper drops this future when the client goes away.
        std::future::pending::<()>().await;
    }
}

fn scripted_answer(endpoint: &Endpoint, scripted: Scripted, pacing: Pacing, name: &str) -> Response {
    match scripted {
        Scripted::Failure(status) => scripted_failure(endpoint, status, name),
        Scripted::Body { status, content_type, body } => reply::raw(status, &content_type, body),
        Scripted::Redirect { status, location } => reply::redirect(status, &location),
        Scripted::Events(events) => reply::sse(events, pacing),
    }
}

fn scripted_failure(endpoint: &Endpoint, status: u16, name: &str) -> Response {
    let message = format!("scripted failure {status} from {name}");
    if endpoint.is_anthropic() {
        return reply::anthropic_error(status, reply::anthropic_error_type(status), &message);
    }
    let (kind, code) = reply::openai_error_kind(status);
    reply::openai_error(status, &message, kind, code)
}

fn answer(endpoint: &Endpoint, incoming: &Incoming, call: &Call<'_>) -> Response {
    match endpoint {
        Endpoint::OpenAi(op) => openai::answer(*op, incoming, call),
        Endpoint::Models => openai::models(incoming, call),
        Endpoint::Azure { deployment, op } => openai::answer_azure(deployment, *op, incoming, call),
        Endpoint::AnthropicMessages => anthropic::answer(incoming, call),
        Endpoint::AnthropicCountTokens => anthropic::count_tokens(incoming),
        Endpoint::Unknown => {
            let message = format!("Invalid URL ({} {})", incoming.method, incoming.path);
            reply::openai_error(404, &message, "invalid_request_error", None)
        }
    }
}

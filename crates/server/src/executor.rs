//! The executor: runs one request's routing plan. It asks the planner for an attempt, makes
//! it through the upstream client, classifies the outcome, and loops until an attempt
//! succeeds or the planner gives up. Failover stops once a byte has gone to the client:
//! a stream is committed only after its first upstream chunk has arrived.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue};
use serde_json::{Map, Value};
use switchboard_core::config::{Leaf, ProviderOptions, RequestFacts};
use switchboard_core::error::GatewayError;
use switchboard_core::merge::deep_merge;
use switchboard_core::planner::{AttemptKind, Failure, Planner};
use switchboard_core::provider::{self, anthropic, Call, CodecError, Endpoint, Family, ProviderSpec};

use crate::auth::Principal;
use crate::headers::Inbound;
use crate::logs::{AttemptNote, BodyPolicy, Identity, Recorder};
use crate::relay::{self, Translate};
use crate::reply::{self, RouteInfo};
use crate::route::Resolved;
use crate::state::AppState;
use crate::upstream::transport_error;

/// One client request, ready to route.
pub struct Job<'a> {
    pub state: &'a AppState,
    pub principal: &'a Principal,
    pub inbound: &'a Inbound,
    pub client_headers: &'a HeaderMap,
    pub endpoint: Endpoint,
    pub body: &'a Map<String, Value>,
    /// The client's body as received, sent unchanged when nothing overrides it.
    pub raw: Bytes,
    pub stream: bool,
}

/// Why an attempt failed, and what the client gets if it was the last one.
struct Failed {
    failure: Failure,
    reply: FailReply,
}

enum FailReply {
    Gateway(GatewayError),
    Upstream { status: u16, body: Value },
}

impl Failed {
    fn gateway(err: GatewayError) -> Self {
        let failure =
            if err.is_upstream_failure() { Failure::upstream(err.status()) } else { Failure::gateway(err.status()) };
        Failed { failure, reply: FailReply::Gateway(err) }
    }

    fn class(&self) -> &'static str {
        match &self.reply {
            FailReply::Gateway(err) => err.code(),
            FailReply::Upstream { status, .. } => provider::classify_status(*status),
        }
    }

    fn into_response(self, route: &RouteInfo, rec: Recorder) -> Response {
        match self.reply {
            FailReply::Gateway(err) => {
                rec.finish_error(err.status(), &err.to_string());
                reply::gateway_error(&err, route)
            }
            FailReply::Upstream { status, body } => {
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                rec.finish_json(status, &bytes);
                let mut response = reply::json(status, bytes);
                if let Some(after) = self.failure.retry_after {
                    // The client's SDK paces its own retries by it.
                    response
                        .headers_mut()
                        .insert(http::header::RETRY_AFTER, HeaderValue::from(after.as_secs_f64().ceil() as u64));
                }
                reply::stamp(&mut response, route);
                response
            }
        }
    }
}

/// A successful attempt, before it is answered.
enum Success {
    Json { status: u16, body: Vec<u8> },
    Stream { first: Bytes, upstream: relay::Upstream, translate: Translate },
}

/// What an attempt learned about its target, for the log.
#[derive(Default)]
struct Note {
    provider: Option<&'static str>,
    model: Option<String>,
}

/// Routes the request through its tree and answers it, logging what happened.
pub async fn execute(job: &Job<'_>, resolved: &Resolved) -> Response {
    let mut rec = recorder(job, resolved);
    let mut route = RouteInfo { trace_id: job.inbound.trace_id.clone(), ..RouteInfo::default() };
    let facts = RequestFacts { metadata: &job.inbound.metadata, params: job.body };
    let mut planner = Planner::new(&resolved.tree, facts, crate::ids::fast_rng());
    let mut attempt = match planner.first() {
        Ok(first) => first,
        Err(no_route) => {
            let err = GatewayError::NoRoute(no_route.to_string());
            rec.finish_error(err.status(), &err.to_string());
            return reply::gateway_error(&err, &route);
        }
    };
    loop {
        let leaf = attempt.leaf;
        route.target_path = Some(leaf.path.clone());
        route.retries = attempt.retry;
        if !attempt.backoff.is_zero() {
            tokio::time::sleep(attempt.backoff).await;
        }
        let began = rec.elapsed_ms();
        let mut note = Note::default();
        let outcome = run_attempt(job, leaf, &mut note).await;
        if let Some(provider) = note.provider {
            route.provider = Some(provider);
            rec.target(&leaf.path, provider, leaf.virtual_key.as_deref(), leaf.pricing);
        }
        let (status, class) = match &outcome {
            Ok(Success::Json { status, .. }) => (*status, None),
            Ok(Success::Stream { .. }) => (200, None),
            Err(failed) => (failed.failure.status, Some(failed.class())),
        };
        rec.attempt(AttemptNote {
            target_path: leaf.path.clone(),
            provider: note.provider,
            model: note.model,
            status,
            latency_ms: rec.elapsed_ms().saturating_sub(began),
            start_offset_ms: began,
            error_class: class,
            retry: attempt.retry,
            backoff_ms: attempt.backoff.as_millis() as u64,
            reason: reason(attempt.kind),
        });
        let failed = match outcome {
            Ok(success) => return answer(success, rec, &route),
            Err(failed) => failed,
        };
        match planner.next(&failed.failure) {
            Some(next) => {
                tracing::debug!(trace_id = %route.trace_id, from = %leaf.path, to = %next.leaf.path,
                    status = failed.failure.status, kind = ?next.kind, "moving on");
                attempt = next;
            }
            None => return failed.into_response(&route, rec),
        }
    }
}

fn reason(kind: AttemptKind) -> &'static str {
    match kind {
        AttemptKind::Initial => "initial",
        AttemptKind::Retry => "retry",
        AttemptKind::Fallback => "fallback",
    }
}

fn recorder(job: &Job<'_>, resolved: &Resolved) -> Recorder {
    let inbound = job.inbound;
    let who = Identity {
        trace_id: &inbound.trace_id,
        span: [inbound.span_id.clone(), inbound.parent_span_id.clone(), inbound.span_name.clone()],
        metadata: &inbound.metadata,
        api_key_id: job.principal.api_key_id(),
        config_slug: resolved.config_slug.as_deref(),
        config_version: resolved.config_version,
        strategy_mode: resolved.tree.mode().as_str(),
        body: job.body,
        raw_body: &job.raw,
        stream: job.stream,
    };
    let logs = &job.state.settings.logs;
    let bodies = BodyPolicy { keep: logs.bodies && inbound.debug, max_bytes: logs.body_max_bytes };
    Recorder::start(who, bodies, job.state.logs.clone())
}

/// The client's answer to a successful attempt.
fn answer(success: Success, mut rec: Recorder, route: &RouteInfo) -> Response {
    rec.first_byte();
    let mut response = match success {
        Success::Json { status, body } => {
            let cost = rec.finish_json(status, &body);
            let mut response = reply::json(status, body);
            if let Some(cost) = cost.and_then(|c| HeaderValue::from_str(&format!("{c:.8}")).ok()) {
                response.headers_mut().insert(reply::COST, cost);
            }
            response
        }
        Success::Stream { first, upstream, translate } => {
            let provider = route.provider.unwrap_or("unknown");
            let mut response = Response::new(relay::body(first, upstream, translate, provider, rec));
            let headers = response.headers_mut();
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
            headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
    };
    reply::stamp(&mut response, route);
    response
}

/// One upstream call for `leaf`.
async fn run_attempt(job: &Job<'_>, leaf: &Leaf, note: &mut Note) -> Result<Success, Failed> {
    let target = resolve_target(job.state, job.principal, job.inbound, leaf).await.map_err(Failed::gateway)?;
    let spec = target.spec;
    note.provider = Some(spec.id);
    let merged;
    let (body, raw) = if leaf.override_params.is_empty() {
        (job.body, Some(job.raw.clone()))
    } else {
        let mut copy = job.body.clone();
        deep_merge(&mut copy, &leaf.override_params);
        merged = copy;
        (&merged, None)
    };
    note.model = body.get("model").and_then(Value::as_str).map(str::to_string);
    let call = Call {
        spec,
        endpoint: job.endpoint,
        options: &target.options,
        custom_host: target.custom_host.as_deref(),
        api_key: &target.api_key,
        default_max_tokens: job.state.settings.anthropic_default_max_tokens,
    };
    let request = provider::build_request(&call, body, raw).map_err(|e| codec_failure(leaf, spec, e))?;
    let timeout_ms = leaf.request_timeout_ms.or(job.inbound.request_timeout_ms);
    let deadline = timeout_ms.map(|ms| Instant::now() + Duration::from_millis(ms));
    let timed_out =
        || Failed::gateway(GatewayError::Timeout { provider: spec.id.into(), timeout_ms: timeout_ms.unwrap_or(0) });
    let forwarded = forwarded_headers(job, leaf);
    let response = within(deadline, job.state.upstream.post(request, forwarded))
        .await
        .ok_or_else(timed_out)?
        .map_err(|e| Failed::gateway(transport_error(spec.id, e)))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(upstream_failure(spec, response, deadline).await.unwrap_or_else(timed_out));
    }
    if job.stream {
        let include_usage = body.get("stream_options").and_then(|o| o.get("include_usage")) == Some(&Value::Bool(true));
        return stream_start(spec, response, deadline, include_usage).await.unwrap_or_else(|| Err(timed_out()));
    }
    let bytes = within(deadline, response.bytes())
        .await
        .ok_or_else(timed_out)?
        .map_err(|e| Failed::gateway(transport_error(spec.id, e)))?;
    let body = provider::translate_response(spec, job.endpoint, &bytes, unix_now())
        .map_err(|e| codec_failure(leaf, spec, e))?;
    Ok(Success::Json { status, body })
}

/// Where and how one attempt calls: the provider, its key and options.
pub struct Target {
    pub spec: &'static ProviderSpec,
    pub api_key: String,
    pub options: ProviderOptions,
    pub custom_host: Option<String>,
}

/// The leaf's provider and credentials: its virtual key (from the vault), else its inline
/// `api_key`, else the client's `Authorization`. Credentials are never inherited.
pub async fn resolve_target(
    state: &AppState,
    principal: &Principal,
    inbound: &Inbound,
    leaf: &Leaf,
) -> Result<Target, GatewayError> {
    if let Some(slug) = &leaf.virtual_key {
        principal.may_use_virtual_key(slug)?;
        let key = state.control.virtual_key(slug, &format!("{}.virtual_key", leaf.path)).await?;
        let spec = lookup_provider(&key.provider, &format!("virtual key \"{slug}\""))?;
        let options = options(&options(&leaf.options, &key.options), &inbound.options);
        let custom_host = leaf.custom_host.clone().or_else(|| key.custom_host.clone());
        return Ok(Target { spec, api_key: key.api_key.expose().to_string(), options, custom_host });
    }
    let id = leaf.provider.as_deref().unwrap_or_default();
    let spec = lookup_provider(id, &format!("{}.provider", leaf.path))?;
    let api_key = leaf.api_key.clone().or_else(|| inbound.api_key.clone()).ok_or_else(|| {
        GatewayError::Unauthorized(format!(
            "{}: no credentials for {}: set \"api_key\" or \"virtual_key\" on the target, or send the provider key in Authorization",
            leaf.path, spec.id
        ))
    })?;
    let options = options(&leaf.options, &inbound.options);
    Ok(Target { spec, api_key, options, custom_host: leaf.custom_host.clone() })
}

fn lookup_provider(id: &str, place: &str) -> Result<&'static ProviderSpec, GatewayError> {
    provider::lookup(id).ok_or_else(|| {
        GatewayError::InvalidRequest(format!(
            "{place}: unknown provider \"{id}\" (expected one of {})",
            provider::known_ids()
        ))
    })
}

/// Provider options, each field from `first` else `second`.
fn options(first: &ProviderOptions, second: &ProviderOptions) -> ProviderOptions {
    let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
    ProviderOptions {
        resource_name: pick(&first.resource_name, &second.resource_name),
        deployment_id: pick(&first.deployment_id, &second.deployment_id),
        api_version: pick(&first.api_version, &second.api_version),
        anthropic_version: pick(&first.anthropic_version, &second.anthropic_version),
        anthropic_beta: pick(&first.anthropic_beta, &second.anthropic_beta),
    }
}

fn codec_failure(leaf: &Leaf, spec: &ProviderSpec, err: CodecError) -> Failed {
    match err {
        CodecError::InvalidRequest(why) => {
            Failed::gateway(GatewayError::InvalidRequest(format!("{} ({}): {why}", leaf.path, spec.id)))
        }
        CodecError::BadResponse(detail) => {
            Failed::gateway(GatewayError::BadUpstream { provider: spec.id.into(), detail })
        }
    }
}

/// Client headers named in `forward_headers`; Switchboard's own headers never leave.
fn forwarded_headers(job: &Job<'_>, leaf: &Leaf) -> HeaderMap {
    let mut out = HeaderMap::new();
    let names = leaf.forward_headers.iter().chain(&job.inbound.forward_headers);
    for name in names.filter(|n| !n.starts_with("x-portkey-") && !HOP_HEADERS.contains(&n.as_str())) {
        if let Some(value) = job.client_headers.get(name.as_str()) {
            if let Ok(header) = http::HeaderName::from_bytes(name.as_bytes()) {
                out.insert(header, value.clone());
            }
        }
    }
    out
}

const HOP_HEADERS: [&str; 6] = ["host", "content-length", "connection", "transfer-encoding", "te", "upgrade"];

/// A provider's error answer: its status, `Retry-After`, and its body in OpenAI's shape.
/// `None` when reading the body timed out.
async fn upstream_failure(
    spec: &ProviderSpec,
    response: reqwest::Response,
    deadline: Option<Instant>,
) -> Option<Failed> {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let body = within(deadline, response.bytes()).await?.unwrap_or_default();
    let failure = Failure { status, retry_after, gateway: false };
    Some(Failed {
        failure,
        reply: FailReply::Upstream { status, body: provider::translate_error(spec, status, &body) },
    })
}

/// `Retry-After` in seconds (or `retry-after-ms`, which OpenAI also sends).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok().filter(|n| *n >= 0.0);
    number("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| number("retry-after").map(Duration::from_secs_f64))
}

/// Commits to a stream once its first chunk is in; a stream that fails before that is a
/// failed attempt (and may fall back). `None` when the first chunk timed out.
async fn stream_start(
    spec: &'static ProviderSpec,
    response: reqwest::Response,
    deadline: Option<Instant>,
    include_usage: bool,
) -> Option<Result<Success, Failed>> {
    let mut upstream: relay::Upstream = Box::pin(response.bytes_stream());
    let first = match within(deadline, upstream.next()).await? {
        Some(Ok(first)) => first,
        Some(Err(e)) => return Some(Err(Failed::gateway(transport_error(spec.id, e)))),
        None => {
            let detail = "the stream ended before its first event".to_string();
            return Some(Err(Failed::gateway(GatewayError::BadUpstream { provider: spec.id.into(), detail })));
        }
    };
    let translate = match spec.family {
        Family::Anthropic => Translate::Anthropic(Box::new(anthropic::ChatStream::new(include_usage, unix_now()))),
        Family::OpenAi | Family::Azure => Translate::Passthrough,
    };
    Some(Ok(Success::Stream { first, upstream, translate }))
}

/// Runs `fut` until `deadline`; `None` when the deadline passed first.
async fn within<F: Future>(deadline: Option<Instant>, fut: F) -> Option<F::Output> {
    match deadline {
        None => Some(fut.await),
        Some(at) => tokio::time::timeout_at(at.into(), fut).await.ok(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

//! One upstream attempt: the target's credentials and destination, the call within its
//! deadline, and what came back — a success to answer, or a [`Failed`] the planner may move
//! on from. Everything a provider sends is treated as hostile here: its body is read up to a
//! cap, a 2xx must be an answer of the endpoint's shape, a redirect is a failure (never
//! followed), `Retry-After` is parsed saturating, and a stream is committed only on its first
//! real event (keep-alives, `ping`s and Anthropic's `message_start` do not commit; an error
//! event before content is a failed attempt).

use std::future::Future;
use std::time::{Duration, Instant};

use crate::http::error::GatewayError;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::HeaderMap;
use serde_json::{Map, Value};
use switchboard_core::config::Leaf;
use switchboard_core::config::ProviderOptions;
use switchboard_core::health::headroom::{self, Dialect, Headroom};
use switchboard_core::planner::Failure;
use switchboard_core::provider::Endpoint;
use switchboard_core::provider::{
    self, anthropic, AnswerFacts, Call, CodecError, Family, ProviderSpec, UpstreamRequest,
};
use switchboard_core::sse::{SseDecoder, SseEvent};

use crate::control::auth::Principal;
use crate::gateway::key_limits;
use crate::gateway::relay::{self, Translate};
use crate::gateway::target::resolve_target;
use crate::gateway::upstream::{read_capped, read_error, send_error};
use crate::gateway::wire::Wire;
use crate::gateway::GatewayState;
use crate::http::headers::Inbound;
use crate::policy::limits::Reservation;
use crate::settings::UpstreamLimits;
use crate::support::clock;

/// One client request, ready to route.
pub struct Job<'a> {
    pub state: &'a GatewayState,
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
pub struct Failed {
    pub failure: Failure,
    pub reply: FailReply,
}

pub enum FailReply {
    Gateway(GatewayError),
    Upstream { status: u16, body: Value },
}

impl Failed {
    /// A key limit refused the attempt (429, or 503 failing closed): the target may be skipped
    /// like an unhealthy one, and the client is told when to come back.
    pub fn limited(err: GatewayError) -> Self {
        let failure = Failure { status: err.status(), retry_after: err.retry_after(), gateway: false };
        Failed { failure, reply: FailReply::Gateway(err) }
    }

    pub fn gateway(err: GatewayError) -> Self {
        let failure =
            if err.is_upstream_failure() { Failure::upstream(err.status()) } else { Failure::gateway(err.status()) };
        Failed { failure, reply: FailReply::Gateway(err) }
    }

    /// Until when a virtual key's own limits refuse (`u64::MAX`: no end the gateway knows),
    /// when that is why this attempt failed.
    pub fn limited_until(&self, now_ms: u64) -> Option<u64> {
        match &self.reply {
            FailReply::Gateway(err) if err.is_key_limit() => {
                Some(err.retry_after().map_or(u64::MAX, |wait| {
                    now_ms.saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
                }))
            }
            _ => None,
        }
    }

    /// The failure's class, for the log and metrics.
    pub fn class(&self) -> &'static str {
        match &self.reply {
            FailReply::Gateway(err) => err.code(),
            FailReply::Upstream { status, .. } => provider::classify_status(*status),
        }
    }
}

/// A successful attempt, before it is answered.
pub enum Success {
    /// `facts`: what the log needs of the answer, read by the scan that checked it.
    Json {
        status: u16,
        body: Vec<u8>,
        facts: AnswerFacts,
    },
    Stream {
        first: Bytes,
        upstream: relay::UpstreamStream,
        translate: Translate,
    },
}

/// What an attempt learned about its target, for the log and the health table.
#[derive(Default)]
pub struct Note {
    pub provider: Option<&'static str>,
    pub model: Option<String>,
    /// What the answer's rate-limit headers said (any answer, successes included).
    pub headroom: Option<Headroom>,
    /// What the attempt reserved on its virtual key's limits, for the recorder to hold.
    pub reservation: Option<Reservation>,
    /// Request fields the translation for this target dropped.
    pub ignored: Vec<&'static str>,
}

/// One upstream call for `leaf`.
pub async fn run(job: &Job<'_>, leaf: &Leaf, note: &mut Note) -> Result<Success, Failed> {
    let target = resolve_target(job.state, job.principal, job.inbound, leaf).await.map_err(Failed::gateway)?;
    let spec = target.spec;
    note.provider = Some(spec.id);
    let wire = Wire::new(job.endpoint, spec, (job.body, job.raw.clone()), &leaf.override_params)
        .map_err(|e| codec_failure(leaf, spec, e))?;
    let body = &wire.body;
    note.ignored.clone_from(&wire.ignored);
    note.model = body.get("model").and_then(Value::as_str).map(str::to_string);
    note.reservation = key_limits::for_virtual_key(job.state, &target, leaf, body).await.map_err(Failed::limited)?;
    let call = Call {
        spec,
        endpoint: wire.endpoint,
        options: &target.options,
        custom_host: target.custom_host.as_deref(),
        api_key: target.api_key.expose(),
        default_max_tokens: job.state.settings.anthropic_default_max_tokens,
    };
    let mut request =
        provider::build_request(&call, body, wire.raw.clone()).map_err(|e| codec_failure(leaf, spec, e))?;
    if wire.endpoint.is_anthropic() {
        client_anthropic_headers(job, &target.options, &mut request);
    }
    let clock = Deadline::for_leaf(&job.state.settings.limits, job.inbound, leaf);
    let forwarded = forwarded_headers(job, leaf);
    let response = clock
        .within(job.state.upstream.post(request, forwarded))
        .await
        .ok_or_else(|| clock.timed_out(spec))?
        .map_err(|e| Failed::gateway(send_error(spec.id, e)))?;
    let status = response.status().as_u16();
    note.headroom = read_headroom(spec, response.headers());
    let limits = &job.state.settings.limits;
    if !(200..300).contains(&status) {
        return Err(upstream_failure(spec, response, &clock, limits.max_body_bytes).await);
    }
    if job.stream {
        let start = StreamStart { spec, translate: wire.translate(spec), max_event_bytes: limits.max_event_bytes };
        return stream_start(start, response, &clock).await;
    }
    read_answer(job, (leaf, spec), &wire, response, &clock).await
}

/// The client's `anthropic-version` and `anthropic-beta` on a Messages API call to Anthropic,
/// unless the target sets its own.
fn client_anthropic_headers(job: &Job<'_>, options: &ProviderOptions, request: &mut UpstreamRequest) {
    let configured = [options.anthropic_version.is_some(), options.anthropic_beta.is_some()];
    for (name, configured) in ["anthropic-version", "anthropic-beta"].into_iter().zip(configured) {
        let sent = job.client_headers.get(name).and_then(|v| v.to_str().ok());
        let Some(value) = sent.filter(|_| !configured) else { continue };
        request.headers.retain(|(n, _)| *n != name);
        request.headers.push((name, value.to_string()));
    }
}

/// A non-stream 2xx: its whole body within the deadline and the cap, checked to be an answer
/// (passed through) or translated into one.
async fn read_answer(
    job: &Job<'_>,
    (leaf, spec): (&Leaf, &'static ProviderSpec),
    wire: &Wire<'_>,
    response: reqwest::Response,
    clock: &Deadline,
) -> Result<Success, Failed> {
    let status = response.status().as_u16();
    let limits = &job.state.settings.limits;
    let bytes = clock
        .within(read_capped(response, limits.max_body_bytes))
        .await
        .ok_or_else(|| clock.timed_out(spec))?
        .map_err(|e| Failed::gateway(read_error(spec.id, e)))?;
    let (body, facts) = wire.answer(spec, &bytes).map_err(|e| codec_failure(leaf, spec, e))?;
    Ok(Success::Json { status, body, facts })
}

/// When an attempt must have its answer (its headers; a non-stream answer's whole body; a
/// stream's first real event): the target's `request_timeout`, else the request's header,
/// else the server's default, so that nothing waits forever.
pub struct Deadline {
    at: Instant,
    timeout_ms: u64,
}

impl Deadline {
    pub fn for_leaf(limits: &UpstreamLimits, inbound: &Inbound, leaf: &Leaf) -> Self {
        let timeout =
            leaf.request_timeout_ms.or(inbound.request_timeout_ms).map_or(limits.timeout, Duration::from_millis);
        Deadline::after(timeout)
    }

    pub fn after(timeout: Duration) -> Self {
        let at = Instant::now().checked_add(timeout).unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
        Deadline { at, timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX) }
    }

    /// Runs `fut` until the deadline; `None` when the deadline passed first.
    pub async fn within<F: Future>(&self, fut: F) -> Option<F::Output> {
        tokio::time::timeout_at(self.at.into(), fut).await.ok()
    }

    pub fn timed_out(&self, spec: &ProviderSpec) -> Failed {
        Failed::gateway(self.timeout_error(spec.id))
    }

    pub fn timeout_error(&self, provider: &str) -> GatewayError {
        GatewayError::Timeout { provider: provider.into(), timeout_ms: self.timeout_ms }
    }
}

fn codec_failure(leaf: &Leaf, spec: &ProviderSpec, err: CodecError) -> Failed {
    match err {
        CodecError::InvalidRequest(why) => {
            Failed::gateway(GatewayError::InvalidRequest(format!("{} ({}): {why}", leaf.path, spec.id)))
        }
        CodecError::BadResponse(detail) => malformed(spec, detail),
    }
}

fn malformed(spec: &ProviderSpec, detail: String) -> Failed {
    Failed::gateway(GatewayError::BadUpstream { provider: spec.id.into(), detail })
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
async fn upstream_failure(spec: &ProviderSpec, response: reqwest::Response, clock: &Deadline, cap: usize) -> Failed {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let body = match clock.within(read_capped(response, cap)).await {
        Some(Ok(body)) => body,
        // The status already says what went wrong; an unreadable body only loses detail.
        Some(Err(_)) | None => Bytes::new(),
    };
    let failure = Failure { status, retry_after, gateway: false };
    Failed { failure, reply: FailReply::Upstream { status, body: provider::translate_error(spec, status, &body) } }
}

/// `retry-after-ms` (OpenAI), `x-ms-retry-after-ms` (Azure) or `Retry-After` (seconds or an
/// HTTP-date), saturating.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    switchboard_core::retry_after::parse(
        text("retry-after"),
        text("retry-after-ms"),
        text("x-ms-retry-after-ms"),
        clock::now(),
    )
}

/// The provider's rate-limit headers, in its family's dialect; `None` when the answer has
/// none (one pass over its names instead of a lookup per header form).
fn read_headroom(spec: &ProviderSpec, headers: &reqwest::header::HeaderMap) -> Option<Headroom> {
    let has = |name: &str| name.starts_with("x-ratelimit-") || name.starts_with("anthropic-ratelimit-");
    if !headers.keys().any(|name| has(name.as_str())) {
        return None;
    }
    let dialect = match spec.family {
        Family::OpenAi => Dialect::OpenAi,
        Family::Azure => Dialect::Azure,
        Family::Anthropic => Dialect::Anthropic,
    };
    Some(headroom::read(dialect, |name| headers.get(name).and_then(|v| v.to_str().ok()), clock::now_ms()))
}

/// Reads a stream until its first real event and commits to it; everything read so far is
/// handed to the relay, which decodes it again from the start. A stream that fails before
/// that is a failed attempt (and may be retried or fall back).
/// What a stream's start needs to know about the request.
struct StreamStart {
    spec: &'static ProviderSpec,
    /// How the committed stream's events become the client's.
    translate: Translate,
    max_event_bytes: usize,
}

async fn stream_start(start: StreamStart, response: reqwest::Response, clock: &Deadline) -> Result<Success, Failed> {
    let (spec, max_event_bytes) = (start.spec, start.max_event_bytes);
    let mut upstream: relay::UpstreamStream = Box::pin(response.bytes_stream());
    let mut probe = Probe { spec, decoder: SseDecoder::new(), read: BytesMut::new() };
    loop {
        let chunk = clock.within(upstream.next()).await.ok_or_else(|| clock.timed_out(spec))?;
        let bytes = match chunk {
            Some(Ok(bytes)) => bytes,
            Some(Err(e)) => return Err(Failed::gateway(crate::gateway::upstream::transport_error(spec.id, e))),
            None => return Err(malformed(spec, "the stream ended before its first event".into())),
        };
        if probe.read.len() + bytes.len() > max_event_bytes {
            let limit = max_event_bytes;
            return Err(Failed::gateway(GatewayError::UpstreamTooLarge { provider: spec.id.into(), limit }));
        }
        if probe.push(&bytes)? {
            return Ok(Success::Stream { first: probe.read.freeze(), upstream, translate: start.translate });
        }
    }
}

/// The start of a stream, read until it shows a real event.
struct Probe {
    spec: &'static ProviderSpec,
    decoder: SseDecoder,
    read: BytesMut,
}

impl Probe {
    /// Takes the next bytes; `Ok(true)` once a real event has arrived.
    fn push(&mut self, bytes: &[u8]) -> Result<bool, Failed> {
        self.read.extend_from_slice(bytes);
        for event in self.decoder.push(bytes) {
            if self.is_real(&event)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether `event` commits the stream; an error event is the attempt's failure.
    fn is_real(&self, event: &SseEvent) -> Result<bool, Failed> {
        match self.spec.family {
            Family::Anthropic => anthropic_commits(event),
            Family::OpenAi | Family::Azure => openai_commits(self.spec, event),
        }
    }
}

fn anthropic_commits(event: &SseEvent) -> Result<bool, Failed> {
    let data: Option<Value> = serde_json::from_str(&event.data).ok();
    let kind = event.event.clone().or_else(|| data.as_ref()?.get("type")?.as_str().map(str::to_string));
    match kind.as_deref() {
        Some("ping" | "message_start") => Ok(false),
        Some("error") => {
            let mut probe = anthropic::ChatStream::new(false, 0);
            let body = match probe.on_event(event) {
                Err(anthropic::StreamError::Upstream(body)) => body,
                _ => serde_json::json!({"error": {"message": "anthropic error event", "type": "server_error"}}),
            };
            let status = anthropic::stream_error_status(&body);
            let failure = Failure::upstream(status);
            Err(Failed { failure, reply: FailReply::Upstream { status, body } })
        }
        _ => Ok(true),
    }
}

fn openai_commits(spec: &ProviderSpec, event: &SseEvent) -> Result<bool, Failed> {
    if event.data == "[DONE]" {
        return Ok(true);
    }
    match serde_json::from_str::<Map<String, Value>>(&event.data) {
        Ok(chunk) if chunk.contains_key("error") && !chunk.contains_key("choices") => {
            let message = chunk["error"].get("message").and_then(Value::as_str).unwrap_or("an error event");
            Err(malformed(spec, format!("the stream began with an error: {message}")))
        }
        Ok(_) => Ok(true),
        Err(_) if event.data.trim().is_empty() => Ok(false),
        Err(e) => Err(malformed(spec, format!("the stream's first event is not JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_deadline_ends_a_wait_that_would_never_end() {
        let clock = Deadline::after(Duration::from_secs(600));
        assert_eq!(clock.within(std::future::pending::<()>()).await, None);
        assert_eq!(clock.timeout_error("openai").to_string(), "openai: request timed out after 600000 ms");
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_lets_a_prompt_answer_through() {
        let clock = Deadline::after(Duration::from_millis(200));
        let answer = clock.within(async {
            tokio::time::sleep(Duration::from_millis(199)).await;
            "answer"
        });
        assert_eq!(answer.await, Some("answer"));
    }

    #[test]
    fn an_absurd_timeout_does_not_overflow_the_clock() {
        let clock = Deadline::after(Duration::from_secs(u64::MAX));
        assert_eq!(clock.timeout_ms, u64::MAX);
    }
}

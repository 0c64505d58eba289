//! The gateway's error type: every failure Switchboard itself produces (as opposed to an
//! error answered by a provider, which is relayed), and the one place such a failure gets
//! its HTTP status, its OpenAI error `type`, a short code (the log record's class and the
//! metric's label), and whether routing may move on after it. Core's errors (config
//! problems, codec failures) arrive here as data; this is where they meet HTTP. Messages
//! never contain a credential, and an internal error keeps its cause for the log while the
//! client sees a generic message with the trace ID.

use std::sync::Arc;

use serde_json::{json, Value};
use switchboard_core::problem::Problems;

/// The cause of an internal error, shared so the error stays `Clone`.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error("{0}")]
    InvalidConfig(Problems),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("request body is over the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// A write made with a dashboard session cookie but without its `x-csrf-token`.
    #[error("this request uses a dashboard session but lacks a valid x-csrf-token header: reload the dashboard")]
    CsrfFailed,
    /// A config the caller may not send (a virtual key's secret to a host the caller chose).
    #[error("{0}")]
    ForbiddenConfig(Problems),
    /// The egress policy refused the destination, before any connection was made.
    #[error("{provider}: the egress policy does not allow {host}: {reason}")]
    EgressDenied { provider: String, host: String, reason: String },
    #[error("{0}")]
    NoRoute(String),
    /// No target of the route can serve the request's endpoint; names each one and why.
    #[error("{0}")]
    Unsupported(String),
    #[error("{provider}: request timed out after {timeout_ms} ms")]
    Timeout { provider: String, timeout_ms: u64 },
    #[error("{provider}: could not reach the provider: {detail}")]
    Unreachable { provider: String, detail: String },
    /// A 2xx that is not an answer of the endpoint's shape.
    #[error("{provider}: the provider's answer is not a valid response: {detail}")]
    BadUpstream { provider: String, detail: String },
    #[error("{provider}: the provider's answer is over the limit of {limit} bytes")]
    UpstreamTooLarge { provider: String, limit: usize },
    /// Redirects are never followed: a provider's URL does not move, and following one
    /// would send the prompt (and headers) to a host no one chose.
    #[error("{provider}: the provider answered with a redirect (HTTP {status}), which is never followed")]
    UpstreamRedirect { provider: String, status: u16 },
    #[error("the gateway is at its limit of {limit} requests in flight; retry shortly")]
    Busy { limit: usize },
    /// Every target of the route is open, cooling, out of headroom or limited, and the
    /// config says `on_all_unavailable: "fail"` (or nothing was left to try).
    #[error(
        "every target of this route is unavailable (circuit open, cooling down after a Retry-After, \
         out of rate-limit headroom, or its key's limits spent); the first is expected back in {} s",
        whole_seconds(*wait_ms)
    )]
    TargetsUnavailable { wait_ms: u64 },
    /// A key's rolling window (`rate_limits`) is full; it has room again in `retry_after_ms`.
    #[error("{who} is over its rate limit; retry in {} s", whole_seconds(*retry_after_ms))]
    RateLimited { who: String, retry_after_ms: u64 },
    /// A key's budget (`usage_limits`) is spent until its period ends (`None`: it never resets).
    #[error("{who} has spent its budget ({})", match retry_after_ms {
        Some(ms) => format!("it resets in {} s", whole_seconds(*ms)),
        None => "it does not reset: an admin must raise or remove usage_limits".to_string(),
    })]
    QuotaExhausted { who: String, retry_after_ms: Option<u64> },
    /// A rate limit of 0 disables a key.
    #[error("{who} is disabled: one of its rate limits is 0")]
    KeyDisabled { who: String },
    /// `--limits-fail-closed` while the shared state (Redis) is unreachable.
    #[error("{who} has limits shared through Redis, which is unreachable; the gateway refuses its requests (--limits-fail-closed) until Redis answers again")]
    SharedStateUnavailable { who: String },
    /// The gateway's own failure: `what` it was doing and, when there is one, the cause.
    /// Both go to the log; the client sees [`GatewayError::client_message`].
    #[error("{what}")]
    Internal {
        what: &'static str,
        #[source]
        cause: Option<Cause>,
    },
}

impl GatewayError {
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::InvalidConfig(_)
            | GatewayError::InvalidRequest(_)
            | GatewayError::NoRoute(_)
            | GatewayError::Unsupported(_) => 400,
            GatewayError::BodyTooLarge { .. } => 413,
            GatewayError::NotFound(_) => 404,
            GatewayError::Unauthorized(_) => 401,
            GatewayError::Forbidden(_)
            | GatewayError::ForbiddenConfig(_)
            | GatewayError::EgressDenied { .. }
            | GatewayError::CsrfFailed => 403,
            GatewayError::Timeout { .. } => 408,
            GatewayError::Unreachable { .. }
            | GatewayError::BadUpstream { .. }
            | GatewayError::UpstreamTooLarge { .. }
            | GatewayError::UpstreamRedirect { .. } => 502,
            GatewayError::Busy { .. }
            | GatewayError::TargetsUnavailable { .. }
            | GatewayError::SharedStateUnavailable { .. } => 503,
            GatewayError::RateLimited { .. }
            | GatewayError::QuotaExhausted { .. }
            | GatewayError::KeyDisabled { .. } => 429,
            GatewayError::Internal { .. } => 500,
        }
    }

    /// OpenAI's `error.type` for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            GatewayError::InvalidConfig(_)
            | GatewayError::InvalidRequest(_)
            | GatewayError::NoRoute(_)
            | GatewayError::Unsupported(_)
            | GatewayError::NotFound(_)
            | GatewayError::BodyTooLarge { .. } => "invalid_request_error",
            GatewayError::Unauthorized(_) => "authentication_error",
            GatewayError::Forbidden(_)
            | GatewayError::ForbiddenConfig(_)
            | GatewayError::EgressDenied { .. }
            | GatewayError::CsrfFailed => "permission_error",
            GatewayError::Timeout { .. } => "timeout_error",
            GatewayError::Unreachable { .. }
            | GatewayError::BadUpstream { .. }
            | GatewayError::UpstreamTooLarge { .. }
            | GatewayError::UpstreamRedirect { .. }
            | GatewayError::Busy { .. }
            | GatewayError::TargetsUnavailable { .. }
            | GatewayError::SharedStateUnavailable { .. } => "api_error",
            // OpenAI's types for its own 429s.
            GatewayError::RateLimited { .. } | GatewayError::KeyDisabled { .. } => "requests",
            GatewayError::QuotaExhausted { .. } => "insufficient_quota",
            GatewayError::Internal { .. } => "server_error",
        }
    }

    /// A short, stable code: the `error.code` field, the log record's class, the metric label.
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::InvalidConfig(_) => "invalid_config",
            GatewayError::InvalidRequest(_) => "invalid_request",
            GatewayError::BodyTooLarge { .. } => "body_too_large",
            GatewayError::NotFound(_) => "not_found",
            GatewayError::Unauthorized(_) => "unauthorized",
            GatewayError::Forbidden(_) | GatewayError::ForbiddenConfig(_) => "forbidden",
            GatewayError::EgressDenied { .. } => "egress_denied",
            GatewayError::CsrfFailed => "csrf_failed",
            GatewayError::NoRoute(_) => "no_route",
            GatewayError::Unsupported(_) => "unsupported_endpoint",
            GatewayError::Timeout { .. } => "timeout",
            GatewayError::Unreachable { .. } => "upstream_unreachable",
            GatewayError::BadUpstream { .. } => "upstream_malformed",
            GatewayError::UpstreamTooLarge { .. } => "upstream_too_large",
            GatewayError::UpstreamRedirect { .. } => "upstream_redirect",
            GatewayError::Busy { .. } => "overloaded",
            GatewayError::TargetsUnavailable { .. } => "targets_unavailable",
            GatewayError::RateLimited { .. } | GatewayError::KeyDisabled { .. } => "rate_limit_exceeded",
            GatewayError::QuotaExhausted { .. } => "insufficient_quota",
            GatewayError::SharedStateUnavailable { .. } => "shared_state_unavailable",
            GatewayError::Internal { .. } => "internal",
        }
    }

    /// How long the client should wait before trying again, when the gateway knows: the
    /// answer's `Retry-After`.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        let ms = match self {
            GatewayError::RateLimited { retry_after_ms, .. } => Some(*retry_after_ms),
            GatewayError::QuotaExhausted { retry_after_ms, .. } => *retry_after_ms,
            GatewayError::TargetsUnavailable { wait_ms } => Some(*wait_ms),
            // Redis is tried again every second.
            GatewayError::SharedStateUnavailable { .. } => Some(1000),
            _ => None,
        };
        ms.map(std::time::Duration::from_millis)
    }

    /// Whether this is a key's own limit refusing (a virtual key inside a config is then
    /// passed over like an unhealthy target).
    pub fn is_key_limit(&self) -> bool {
        matches!(
            self,
            GatewayError::RateLimited { .. }
                | GatewayError::QuotaExhausted { .. }
                | GatewayError::KeyDisabled { .. }
                | GatewayError::SharedStateUnavailable { .. }
        )
    }

    /// Whether a fallback or retry may follow this error. Timeouts, network failures and
    /// answers that are not answers are the provider's trouble; everything else is the
    /// request's, the config's or the policy's and would fail the same way on the next target.
    pub fn is_upstream_failure(&self) -> bool {
        matches!(
            self,
            GatewayError::Timeout { .. }
                | GatewayError::Unreachable { .. }
                | GatewayError::BadUpstream { .. }
                | GatewayError::UpstreamTooLarge { .. }
                | GatewayError::UpstreamRedirect { .. }
        )
    }

    /// An internal error with its cause.
    pub fn internal(what: &'static str, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        GatewayError::Internal { what, cause: Some(Arc::new(cause)) }
    }

    /// An internal error with no cause beyond `what` (a bug, a panic).
    pub fn bug(what: &'static str) -> Self {
        GatewayError::Internal { what, cause: None }
    }

    /// What the client is told: the error itself, except for an internal one, whose cause
    /// (database text, a path) stays in the log under the request's trace ID.
    pub fn client_message(&self, trace_id: &str) -> String {
        match self {
            GatewayError::Internal { .. } if trace_id.is_empty() => {
                "the gateway failed while handling this request; its log has the details".into()
            }
            GatewayError::Internal { .. } => {
                format!(
                    "the gateway failed while handling this request; its log has the details under trace id {trace_id}"
                )
            }
            other => other.to_string(),
        }
    }

    /// The OpenAI error body: `{"error": {"message", "type", "param", "code"}}`.
    pub fn to_json(&self, trace_id: &str) -> Value {
        json!({"error": {"message": self.client_message(trace_id), "type": self.error_type(), "param": null,
                         "code": self.code()}})
    }
}

/// Milliseconds as whole seconds, rounded up (at least 1): what `Retry-After` says.
pub fn whole_seconds(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

/// An error and its chain of causes, `: `-joined: what the log shows of a failure.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(err) = cause {
        text.push_str(": ");
        text.push_str(&err.to_string());
        cause = err.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_for_the_log_and_out_of_the_answer() {
        let cause = std::io::Error::other("connection to postgres://db.internal:5432 refused");
        let err = GatewayError::internal("reading the control plane from the store", cause);
        assert!(chain(&err).contains("db.internal"), "{}", chain(&err));
        let body = err.to_json("trace-1");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.contains("db.internal") && !message.contains("postgres"), "{message}");
        assert!(message.contains("trace-1"), "{message}");
        assert_eq!((err.status(), body["error"]["code"].as_str()), (500, Some("internal")));
    }

    #[test]
    fn statuses_types_and_codes_come_from_one_table() {
        let cases = [
            (GatewayError::InvalidRequest("x".into()), 400, "invalid_request_error", "invalid_request"),
            (GatewayError::BodyTooLarge { limit: 1 }, 413, "invalid_request_error", "body_too_large"),
            (GatewayError::Unauthorized("x".into()), 401, "authentication_error", "unauthorized"),
            (GatewayError::Forbidden("x".into()), 403, "permission_error", "forbidden"),
            (GatewayError::Busy { limit: 1 }, 503, "api_error", "overloaded"),
            (GatewayError::Timeout { provider: "p".into(), timeout_ms: 1 }, 408, "timeout_error", "timeout"),
            (GatewayError::bug("x"), 500, "server_error", "internal"),
            (GatewayError::RateLimited { who: "k".into(), retry_after_ms: 1 }, 429, "requests", "rate_limit_exceeded"),
            (
                GatewayError::QuotaExhausted { who: "k".into(), retry_after_ms: None },
                429,
                "insufficient_quota",
                "insufficient_quota",
            ),
            (GatewayError::KeyDisabled { who: "k".into() }, 429, "requests", "rate_limit_exceeded"),
            (GatewayError::SharedStateUnavailable { who: "k".into() }, 503, "api_error", "shared_state_unavailable"),
        ];
        for (err, status, kind, code) in cases {
            assert_eq!((err.status(), err.error_type(), err.code()), (status, kind, code), "{err:?}");
        }
    }

    #[test]
    fn a_limit_refusal_says_when_to_retry_in_whole_seconds_rounded_up() {
        let err = GatewayError::RateLimited { who: "virtual key \"vk\"".into(), retry_after_ms: 1_001 };
        assert_eq!(err.to_string(), "virtual key \"vk\" is over its rate limit; retry in 2 s");
        assert_eq!(err.retry_after(), Some(std::time::Duration::from_millis(1_001)));
        assert_eq!(whole_seconds(1), 1);
        assert_eq!(whole_seconds(0), 1, "never Retry-After: 0");
        let spent = GatewayError::QuotaExhausted { who: "this API key".into(), retry_after_ms: Some(3_600_000) };
        assert_eq!(spent.to_string(), "this API key has spent its budget (it resets in 3600 s)");
    }

    #[test]
    fn only_provider_trouble_lets_routing_move_on() {
        assert!(GatewayError::Unreachable { provider: "p".into(), detail: "d".into() }.is_upstream_failure());
        assert!(!GatewayError::InvalidRequest("x".into()).is_upstream_failure());
        assert!(!GatewayError::bug("x").is_upstream_failure());
    }
}

//! The gateway's error type: every failure Switchboard itself produces (as opposed to an
//! error answered by a provider, which is relayed). Each error knows its HTTP status, its
//! OpenAI error `type`, a short code (the log record's class and the metric's label), and
//! whether routing may move on after it. Messages never contain a credential.

use serde_json::{json, Value};

use crate::config::ConfigErrors;

#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error("{0}")]
    InvalidConfig(ConfigErrors),
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
    /// A config the caller may not send (a virtual key's secret to a host the caller chose).
    #[error("{0}")]
    ForbiddenConfig(ConfigErrors),
    /// The egress policy refused the destination, before any connection was made.
    #[error("{provider}: the egress policy does not allow {host}: {reason}")]
    EgressDenied { provider: String, host: String, reason: String },
    #[error("{0}")]
    NoRoute(String),
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
    #[error("{0}")]
    Internal(String),
}

impl GatewayError {
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::InvalidConfig(_) | GatewayError::InvalidRequest(_) | GatewayError::NoRoute(_) => 400,
            GatewayError::BodyTooLarge { .. } => 413,
            GatewayError::NotFound(_) => 404,
            GatewayError::Unauthorized(_) => 401,
            GatewayError::Forbidden(_) | GatewayError::ForbiddenConfig(_) | GatewayError::EgressDenied { .. } => 403,
            GatewayError::Timeout { .. } => 408,
            GatewayError::Unreachable { .. }
            | GatewayError::BadUpstream { .. }
            | GatewayError::UpstreamTooLarge { .. }
            | GatewayError::UpstreamRedirect { .. } => 502,
            GatewayError::Busy { .. } => 503,
            GatewayError::Internal(_) => 500,
        }
    }

    /// OpenAI's `error.type` for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            GatewayError::InvalidConfig(_)
            | GatewayError::InvalidRequest(_)
            | GatewayError::NoRoute(_)
            | GatewayError::NotFound(_)
            | GatewayError::BodyTooLarge { .. } => "invalid_request_error",
            GatewayError::Unauthorized(_) => "authentication_error",
            GatewayError::Forbidden(_) | GatewayError::ForbiddenConfig(_) | GatewayError::EgressDenied { .. } => {
                "permission_error"
            }
            GatewayError::Timeout { .. } => "timeout_error",
            GatewayError::Unreachable { .. }
            | GatewayError::BadUpstream { .. }
            | GatewayError::UpstreamTooLarge { .. }
            | GatewayError::UpstreamRedirect { .. }
            | GatewayError::Busy { .. } => "api_error",
            GatewayError::Internal(_) => "server_error",
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
            GatewayError::NoRoute(_) => "no_route",
            GatewayError::Timeout { .. } => "timeout",
            GatewayError::Unreachable { .. } => "upstream_unreachable",
            GatewayError::BadUpstream { .. } => "upstream_malformed",
            GatewayError::UpstreamTooLarge { .. } => "upstream_too_large",
            GatewayError::UpstreamRedirect { .. } => "upstream_redirect",
            GatewayError::Busy { .. } => "overloaded",
            GatewayError::Internal(_) => "internal",
        }
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

    /// The OpenAI error body: `{"error": {"message", "type", "param", "code"}}`.
    pub fn to_json(&self) -> Value {
        json!({"error": {"message": self.to_string(), "type": self.error_type(), "param": null, "code": self.code()}})
    }
}

//! The gateway's error type: every failure Switchboard itself produces (as opposed to an
//! error answered by a provider, which is relayed). Each error knows its HTTP status, its
//! OpenAI error `type`, a short metric code, and whether routing may move on after it.
//! Messages never contain a credential.

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
    #[error("{0}")]
    NoRoute(String),
    #[error("{provider}: request timed out after {timeout_ms} ms")]
    Timeout { provider: String, timeout_ms: u64 },
    #[error("{provider}: could not reach the provider: {detail}")]
    Unreachable { provider: String, detail: String },
    #[error("{provider}: unexpected response from the provider: {detail}")]
    BadUpstream { provider: String, detail: String },
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
            GatewayError::Forbidden(_) => 403,
            GatewayError::Timeout { .. } => 408,
            GatewayError::Unreachable { .. } | GatewayError::BadUpstream { .. } => 502,
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
            GatewayError::Forbidden(_) => "permission_error",
            GatewayError::Timeout { .. } => "timeout_error",
            GatewayError::Unreachable { .. } | GatewayError::BadUpstream { .. } => "api_error",
            GatewayError::Internal(_) => "server_error",
        }
    }

    /// A short, stable code for metrics and the `error.code` field.
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::InvalidConfig(_) => "invalid_config",
            GatewayError::InvalidRequest(_) => "invalid_request",
            GatewayError::BodyTooLarge { .. } => "body_too_large",
            GatewayError::NotFound(_) => "not_found",
            GatewayError::Unauthorized(_) => "unauthorized",
            GatewayError::Forbidden(_) => "forbidden",
            GatewayError::NoRoute(_) => "no_route",
            GatewayError::Timeout { .. } => "timeout",
            GatewayError::Unreachable { .. } => "upstream_unreachable",
            GatewayError::BadUpstream { .. } => "bad_upstream_response",
            GatewayError::Internal(_) => "internal",
        }
    }

    /// Whether a fallback or retry may follow this error. Timeouts and network failures
    /// are the provider's trouble; everything else is the request's or the config's and
    /// would fail the same way on the next target.
    pub fn is_upstream_failure(&self) -> bool {
        matches!(
            self,
            GatewayError::Timeout { .. } | GatewayError::Unreachable { .. } | GatewayError::BadUpstream { .. }
        )
    }

    /// The OpenAI error body: `{"error": {"message", "type", "param", "code"}}`.
    pub fn to_json(&self) -> Value {
        json!({"error": {"message": self.to_string(), "type": self.error_type(), "param": null, "code": self.code()}})
    }
}

//! The control-plane APIs' one error type (the admin API and the logs API) and its rendering.
//! A failure of the request itself (body too large, not JSON, no key) arrives as a
//! [`GatewayError`] and keeps its status. Every error answers in OpenAI's shape
//! (`{"error": {"message", "type", "param", "code"}}`) with `x-portkey-gateway-exception:
//! true`, like the gateway's own errors. Messages name the field at fault and never quote a
//! secret: validation reports the kind of a bad value, not the value.

use crate::http::error::GatewayError;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use serde_json::json;
use switchboard_store::{StoreError, VaultError};

use crate::http::reply;
use switchboard_core::problem::Problems;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is wrong: every problem, each `path: what is wrong`.
    #[error("{0}")]
    Invalid(Problems),
    /// The query is wrong (a filter, a cursor), in the store's words.
    #[error("{0}")]
    BadQuery(String),
    #[error("{0}")]
    NotFound(String),
    /// A name is taken.
    #[error("{0}")]
    Conflict(String),
    /// Reading the request (body too large, not JSON).
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error("store: {0}")]
    Store(StoreError),
    #[error("vault: {0}")]
    Vault(#[from] VaultError),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict { entity, key } => ApiError::Conflict(format!("{entity} \"{key}\" already exists")),
            StoreError::InvalidQuery(message) => ApiError::BadQuery(message),
            other => ApiError::Store(other),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Invalid(_) | ApiError::BadQuery(_) => 400,
            ApiError::NotFound(_) => 404,
            ApiError::Conflict(_) => 409,
            ApiError::Gateway(err) => err.status(),
            ApiError::Store(_) | ApiError::Vault(_) | ApiError::Internal(_) => 500,
        }
    }

    /// OpenAI's `error.type`.
    pub fn error_type(&self) -> &'static str {
        match self {
            ApiError::Gateway(err) => err.error_type(),
            ApiError::Store(_) | ApiError::Vault(_) | ApiError::Internal(_) => "server_error",
            _ => "invalid_request_error",
        }
    }

    /// A short, stable code for the `error.code` field.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) | ApiError::BadQuery(_) => "invalid_request",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Gateway(err) => err.code(),
            ApiError::Store(err) => err.code(),
            ApiError::Vault(_) => "vault",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status() >= 500 {
            tracing::error!(code = self.code(), "control-plane API: {}", crate::http::error::chain(&self));
        }
        // The store's and the vault's own words (database text) go to the log, not the client.
        let message = match &self {
            ApiError::Store(_) | ApiError::Vault(_) => "the gateway's store failed; see the gateway's log".to_string(),
            other => other.to_string(),
        };
        let body = json!({"error": {"message": message, "type": self.error_type(), "param": null,
                                    "code": self.code()}});
        let mut response = reply::json_value(self.status(), &body);
        response.headers_mut().insert(reply::GATEWAY_EXCEPTION, HeaderValue::from_static("true"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::problem::Problem;

    #[test]
    fn store_conflicts_become_409_naming_the_key() {
        let err = ApiError::from(StoreError::Conflict { entity: "virtual key", key: "main".into() });
        assert_eq!(err.status(), 409);
        assert_eq!(err.to_string(), "virtual key \"main\" already exists");
    }

    #[tokio::test]
    async fn store_failures_keep_the_stores_words_out_of_the_answer() {
        let err = ApiError::Store(StoreError::DataDir {
            path: "/srv/secret-path".into(),
            source: std::io::Error::other("permission denied"),
        });
        let response = err.into_response();
        assert_eq!(response.status(), 500);
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("see the gateway's log") && !text.contains("secret-path"), "{text}");
    }

    #[test]
    fn invalid_lists_every_problem() {
        let problems = [("a", "bad"), ("b", "worse")]
            .map(|(path, message)| Problem { path: path.into(), message: message.into() });
        let err = ApiError::Invalid(Problems(problems.into()));
        assert_eq!((err.status(), err.to_string().as_str()), (400, "a: bad; b: worse"));
    }
}

//! The admin API's one error type and its rendering. Every error answers in OpenAI's shape
//! (`{"error": {"message", "type", "param", "code"}}`) with `x-portkey-gateway-exception:
//! true`, like the gateway's own errors. Messages name the field at fault and never quote a
//! secret: validation reports the kind of a bad value, not the value.

use crate::http::error::GatewayError;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use serde_json::json;
use switchboard_store::{StoreError, VaultError};

use crate::http::reply;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The body is wrong: every problem, each `path: what is wrong`.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("{0}")]
    NotFound(String),
    /// A name is taken.
    #[error("{0}")]
    Conflict(String),
    /// A Portkey admin feature Switchboard does not offer.
    #[error("{0}")]
    Unsupported(String),
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

impl From<StoreError> for AdminError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict { entity, key } => AdminError::Conflict(format!("{entity} \"{key}\" already exists")),
            other => AdminError::Store(other),
        }
    }
}

impl AdminError {
    pub fn status(&self) -> u16 {
        match self {
            AdminError::Invalid(_) | AdminError::Unsupported(_) => 400,
            AdminError::NotFound(_) => 404,
            AdminError::Conflict(_) => 409,
            AdminError::Gateway(err) => err.status(),
            AdminError::Store(_) | AdminError::Vault(_) | AdminError::Internal(_) => 500,
        }
    }

    /// OpenAI's `error.type`.
    pub fn error_type(&self) -> &'static str {
        match self {
            AdminError::Gateway(err) => err.error_type(),
            AdminError::Store(_) | AdminError::Vault(_) | AdminError::Internal(_) => "server_error",
            _ => "invalid_request_error",
        }
    }

    /// A short, stable code for the `error.code` field.
    pub fn code(&self) -> &'static str {
        match self {
            AdminError::Invalid(_) => "invalid_request",
            AdminError::NotFound(_) => "not_found",
            AdminError::Conflict(_) => "conflict",
            AdminError::Unsupported(_) => "unsupported",
            AdminError::Gateway(err) => err.code(),
            AdminError::Store(err) => err.code(),
            AdminError::Vault(_) => "vault",
            AdminError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        if self.status() >= 500 {
            tracing::error!(code = self.code(), "admin API: {}", crate::http::error::chain(&self));
        }
        // The store's and the vault's own words (database text) go to the log, not the client.
        let message = match &self {
            AdminError::Store(_) | AdminError::Vault(_) => {
                "the gateway's store failed; see the gateway's log".to_string()
            }
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

    #[test]
    fn store_conflicts_become_409_naming_the_key() {
        let err = AdminError::from(StoreError::Conflict { entity: "virtual key", key: "main".into() });
        assert_eq!(err.status(), 409);
        assert_eq!(err.to_string(), "virtual key \"main\" already exists");
    }

    #[tokio::test]
    async fn store_failures_keep_the_stores_words_out_of_the_answer() {
        let err = AdminError::Store(StoreError::DataDir {
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
        let err = AdminError::Invalid(vec!["a: bad".into(), "b: worse".into()]);
        assert_eq!((err.status(), err.to_string().as_str()), (400, "a: bad; b: worse"));
    }
}

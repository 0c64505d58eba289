//! One incoming provider request, read whole, and which endpoint it is for. No answering happens here: this module
//! only turns raw HTTP into facts the provider modules check.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, Method};
use serde_json::{json, Map, Value};

/// Bodies larger than this are refused; real providers cap far lower for JSON.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A request read whole.
pub(crate) struct Incoming {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    /// The body parsed as JSON; `None` when it is not JSON (or empty).
    pub json: Option<Value>,
    raw: bytes::Bytes,
}

impl Incoming {
    /// Reads the request; fails only when the body cannot be read (too large, connection lost).
    pub(crate) async fn read(request: Request) -> Result<Incoming, String> {
        let (parts, body) = request.into_parts();
        let raw = to_bytes(body, MAX_BODY_BYTES).await.map_err(|e| format!("could not read the request body: {e}"))?;
        Ok(Incoming {
            method: parts.method,
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or("").to_string(),
            headers: parts.headers,
            json: serde_json::from_slice(&raw).ok(),
            raw,
        })
    }

    /// A header's value, when present and text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body when it is a JSON object, as every provider endpoint requires.
    pub(crate) fn object(&self) -> Option<&Value> {
        self.json.as_ref().filter(|v| v.is_object())
    }

    /// Whether the body asks for a stream (`"stream": true`), as every provider here spells it.
    pub(crate) fn wants_stream(&self) -> bool {
        self.json.as_ref().and_then(|v| v.get("stream")).and_then(Value::as_bool).unwrap_or(false)
    }

    /// The record kept for `/_hits`: `{"method","path","query","headers","body"}` with lower-case header names.
    pub(crate) fn to_hit(&self) -> Value {
        let headers: Map<String, Value> =
            self.headers.iter().map(|(k, v)| (k.as_str().to_string(), Value::String(lossy(v.as_bytes())))).collect();
        json!({"method": self.method.as_str(), "path": self.path, "query": self.query,
               "headers": headers, "body": self.body_for_hit()})
    }

    fn body_for_hit(&self) -> Value {
        match &self.json {
            Some(v) => v.clone(),
            None if self.raw.is_empty() => Value::Null,
            None => Value::String(lossy(&self.raw)),
        }
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The three OpenAI-style operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Chat,
    Completions,
    Embeddings,
    Responses,
}

/// Which provider endpoint a request is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    OpenAi(Op),
    Models,
    Azure { deployment: String, op: Op },
    AnthropicMessages,
    AnthropicCountTokens,
    Unknown,
}

impl Endpoint {
    pub(crate) fn of(method: &Method, path: &str) -> Endpoint {
        match (method.as_str(), path) {
            ("GET", "/v1/models") => Endpoint::Models,
            ("POST", "/v1/messages") => Endpoint::AnthropicMessages,
            ("POST", "/v1/messages/count_tokens") => Endpoint::AnthropicCountTokens,
            ("POST", _) => post_endpoint(path),
            _ => Endpoint::Unknown,
        }
    }

    /// Whether errors on this endpoint take Anthropic's shape.
    pub(crate) fn is_anthropic(&self) -> bool {
        matches!(self, Endpoint::AnthropicMessages | Endpoint::AnthropicCountTokens)
    }
}

fn post_endpoint(path: &str) -> Endpoint {
    if let Some(rest) = path.strip_prefix("/openai/deployments/") {
        return azure_endpoint(rest);
    }
    if path == "/openai/responses" {
        // Azure's Responses API is not per deployment: the body's model names it.
        return Endpoint::Azure { deployment: String::new(), op: Op::Responses };
    }
    match path.strip_prefix("/v1/").and_then(op_of) {
        Some(op) => Endpoint::OpenAi(op),
        None => Endpoint::Unknown,
    }
}

fn azure_endpoint(rest: &str) -> Endpoint {
    let Some((deployment, tail)) = rest.split_once('/') else {
        return Endpoint::Unknown;
    };
    match op_of(tail) {
        Some(op) if !deployment.is_empty() => Endpoint::Azure { deployment: deployment.to_string(), op },
        _ => Endpoint::Unknown,
    }
}

fn op_of(tail: &str) -> Option<Op> {
    match tail {
        "chat/completions" => Some(Op::Chat),
        "completions" => Some(Op::Completions),
        "embeddings" => Some(Op::Embeddings),
        "responses" => Some(Op::Responses),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_recognised_by_method_and_path() {
        let post = Method::POST;
        assert_eq!(Endpoint::of(&post, "/v1/chat/completions"), Endpoint::OpenAi(Op::Chat));
        assert_eq!(
            Endpoint::of(&post, "/openai/deployments/gpt35/embeddings"),
            Endpoint::Azure { deployment: "gpt35".into(), op: Op::Embeddings }
        );
        assert_eq!(Endpoint::of(&post, "/v1/messages"), Endpoint::AnthropicMessages);
        assert_eq!(Endpoint::of(&Method::GET, "/v1/models"), Endpoint::Models);
    }

    #[test]
    fn wrong_method_or_path_is_unknown() {
        assert_eq!(Endpoint::of(&Method::GET, "/v1/chat/completions"), Endpoint::Unknown);
        assert_eq!(Endpoint::of(&Method::POST, "/chat/completions"), Endpoint::Unknown);
        assert_eq!(Endpoint::of(&Method::POST, "/openai/deployments//chat/completions"), Endpoint::Unknown);
    }
}

//! Building the upstream request for a target and reading its answer back, per family.
//! The OpenAI family passes bodies through untouched (no re-serialisation on the hot path
//! when nothing was overridden); Azure changes only the URL and auth; Anthropic translates.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::{anthropic, CodecError, Family, ProviderOptions, ProviderSpec};

/// The endpoints Switchboard serves: OpenAI's, and Anthropic's Messages API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    ChatCompletions,
    Completions,
    Embeddings,
    /// Anthropic's `/v1/messages`.
    Messages,
    /// Anthropic's `/v1/messages/count_tokens`.
    CountTokens,
    /// OpenAI's Responses API.
    Responses,
}

impl Endpoint {
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "/chat/completions",
            Endpoint::Completions => "/completions",
            Endpoint::Embeddings => "/embeddings",
            Endpoint::Messages => "/messages",
            Endpoint::CountTokens => "/messages/count_tokens",
            Endpoint::Responses => "/responses",
        }
    }

    /// Whether the client speaks Anthropic's API (its answers and errors take Anthropic's shape).
    pub fn is_anthropic(self) -> bool {
        matches!(self, Endpoint::Messages | Endpoint::CountTokens)
    }
}

/// Anthropic's API version sent when the target sets none.
pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";

/// Everything needed to call one target, resolved by the caller (credentials included).
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub spec: &'static ProviderSpec,
    pub endpoint: Endpoint,
    pub options: &'a ProviderOptions,
    pub custom_host: Option<&'a str>,
    pub api_key: &'a str,
    /// `max_tokens` for Anthropic when neither request nor config sets one.
    pub default_max_tokens: Option<u32>,
}

/// A request ready to send. Header values may hold the credential: never log them.
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

/// Builds the upstream request from the (already merged) OpenAI-shaped body. `raw`, when
/// given, is the client's body byte for byte (nothing was overridden): the OpenAI family
/// sends it as is instead of serialising `body` again.
pub fn build_request(
    call: &Call<'_>,
    body: &Map<String, Value>,
    raw: Option<Bytes>,
) -> Result<UpstreamRequest, CodecError> {
    let base = base_url(call)?;
    match call.spec.family {
        Family::OpenAi => Ok(UpstreamRequest {
            url: format!("{base}{}", call.endpoint.path()),
            headers: vec![("authorization", format!("Bearer {}", call.api_key))],
            body: raw.unwrap_or_else(|| to_bytes(body)),
        }),
        Family::Azure => azure_request(call, &base, raw.unwrap_or_else(|| to_bytes(body))),
        Family::Anthropic if call.endpoint.is_anthropic() => {
            Ok(anthropic_passthrough(call, &base, raw.unwrap_or_else(|| to_bytes(body))))
        }
        Family::Anthropic => anthropic_request(call, &base, body),
    }
}

fn to_bytes(body: &impl serde::Serialize) -> Bytes {
    serde_json::to_vec(body).map(Bytes::from).unwrap_or_default()
}

/// The provider's base URL: `custom_host`, or the table's (Azure's filled with the resource).
pub fn base_url(call: &Call<'_>) -> Result<String, CodecError> {
    if let Some(host) = call.custom_host {
        return Ok(host.trim_end_matches('/').to_string());
    }
    if call.spec.family != Family::Azure {
        return Ok(call.spec.base_url.to_string());
    }
    let resource =
        call.options.resource_name.as_deref().ok_or_else(|| {
            CodecError::InvalidRequest("azure-openai needs resource_name (or custom_host)".to_string())
        })?;
    Ok(call.spec.base_url.replace("{resource}", resource))
}

fn azure_request(call: &Call<'_>, base: &str, body: Bytes) -> Result<UpstreamRequest, CodecError> {
    let missing = |what: &str| CodecError::InvalidRequest(format!("azure-openai needs {what}"));
    let deployment = call.options.deployment_id.as_deref().ok_or_else(|| missing("deployment_id"))?;
    let version = call.options.api_version.as_deref().ok_or_else(|| missing("api_version"))?;
    if call.endpoint == Endpoint::Responses {
        return Ok(azure_responses(call, base, deployment, version, body));
    }
    Ok(UpstreamRequest {
        url: format!("{base}/deployments/{deployment}{}?api-version={version}", call.endpoint.path()),
        headers: vec![("api-key", call.api_key.to_string())],
        body,
    })
}

/// Azure's Responses API is not per deployment: `…/openai/responses?api-version=…`, with the
/// deployment as the body's `model`.
fn azure_responses(call: &Call<'_>, base: &str, deployment: &str, version: &str, body: Bytes) -> UpstreamRequest {
    let body = match serde_json::from_slice::<Map<String, Value>>(&body) {
        Ok(mut map) => {
            map.insert("model".into(), Value::String(deployment.to_string()));
            to_bytes(&map)
        }
        Err(_) => body,
    };
    UpstreamRequest {
        url: format!("{base}/responses?api-version={version}"),
        headers: vec![("api-key", call.api_key.to_string())],
        body,
    }
}

fn anthropic_request(call: &Call<'_>, base: &str, body: &Map<String, Value>) -> Result<UpstreamRequest, CodecError> {
    let opts = anthropic::RequestOptions { default_max_tokens: call.default_max_tokens };
    let translated = match call.endpoint {
        Endpoint::ChatCompletions => anthropic::chat_request(body, &opts)?,
        Endpoint::Completions => anthropic::completion_request(body, &opts)?,
        Endpoint::Embeddings | Endpoint::Messages | Endpoint::CountTokens | Endpoint::Responses => {
            let why = super::serves(call.spec, call.endpoint).err().unwrap_or("not translated for anthropic");
            return Err(CodecError::InvalidRequest(why.to_string()));
        }
    };
    Ok(UpstreamRequest {
        url: format!("{base}/messages"),
        headers: anthropic_headers(call),
        body: to_bytes(&translated),
    })
}

/// A Messages API request to an Anthropic target: the client's body as it is.
fn anthropic_passthrough(call: &Call<'_>, base: &str, body: Bytes) -> UpstreamRequest {
    UpstreamRequest { url: format!("{base}{}", call.endpoint.path()), headers: anthropic_headers(call), body }
}

fn anthropic_headers(call: &Call<'_>) -> Vec<(&'static str, String)> {
    let version = call.options.anthropic_version.as_deref().unwrap_or(DEFAULT_ANTHROPIC_VERSION);
    let mut headers = vec![("x-api-key", call.api_key.to_string()), ("anthropic-version", version.to_string())];
    if let Some(beta) = &call.options.anthropic_beta {
        headers.push(("anthropic-beta", beta.clone()));
    }
    headers
}

/// The `GET …/models` request for a provider (`/v1/models` lists what the target offers).
pub fn models_request(call: &Call<'_>) -> Result<UpstreamRequest, CodecError> {
    let base = base_url(call)?;
    let (url, headers) = match call.spec.family {
        Family::OpenAi => (format!("{base}/models"), vec![("authorization", format!("Bearer {}", call.api_key))]),
        Family::Azure => {
            let version = call.options.api_version.as_deref().unwrap_or("2024-02-01");
            (format!("{base}/models?api-version={version}"), vec![("api-key", call.api_key.to_string())])
        }
        Family::Anthropic => {
            let version = call.options.anthropic_version.as_deref().unwrap_or(DEFAULT_ANTHROPIC_VERSION);
            (
                format!("{base}/models"),
                vec![("x-api-key", call.api_key.to_string()), ("anthropic-version", version.into())],
            )
        }
    };
    Ok(UpstreamRequest { url, headers, body: Bytes::new() })
}

/// A provider's model list as OpenAI's `{"object":"list","data":[{"id","object":"model",…}]}`.
pub fn translate_models(spec: &ProviderSpec, body: &[u8]) -> Result<Vec<u8>, CodecError> {
    if spec.family != Family::Anthropic {
        return Ok(body.to_vec());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| CodecError::BadResponse(format!("anthropic answered invalid JSON: {e}")))?;
    let models = value.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
    let data: Vec<Value> = models
        .iter()
        .filter_map(|m| m.get("id"))
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "anthropic"}))
        .collect();
    Ok(to_bytes(&json!({"object": "list", "data": data})).to_vec())
}

/// Whether a successful answer of `endpoint` must be rewritten by the provider's codec
/// (Anthropic's answers to OpenAI's endpoints; its Messages answers pass through).
pub fn translates(spec: &ProviderSpec, endpoint: Endpoint) -> bool {
    spec.family == Family::Anthropic && !endpoint.is_anthropic()
}

/// A successful non-stream answer in OpenAI's shape. `created` is the Unix time to stamp on
/// translated answers (the core reads no clock).
pub fn translate_response(
    spec: &ProviderSpec,
    endpoint: Endpoint,
    body: &[u8],
    created: u64,
) -> Result<Vec<u8>, CodecError> {
    if !translates(spec, endpoint) {
        return Ok(body.to_vec());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| CodecError::BadResponse(format!("anthropic answered invalid JSON: {e}")))?;
    let out = match endpoint {
        Endpoint::Completions => anthropic::completion_response(&value, created)?,
        _ => anthropic::chat_response(&value, created)?,
    };
    Ok(serde_json::to_vec(&out).unwrap_or_default())
}

/// A provider's error answer in OpenAI's error shape, naming the provider.
pub fn translate_error(spec: &ProviderSpec, status: u16, body: &[u8]) -> Value {
    if spec.family == Family::Anthropic {
        return anthropic::error_response(status, body);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut v) if v.get("error").is_some_and(Value::is_object) => {
            if let Some(obj) = v.as_object_mut() {
                obj.insert("provider".into(), json!(spec.id));
            }
            v
        }
        _ => json!({
            "error": {"message": format!("{} error (HTTP {status}): {}", spec.id, snippet(body)),
                      "type": "api_error", "param": null, "code": null},
            "provider": spec.id,
        }),
    }
}

/// A short class for a provider's error status, for logs and metrics.
pub fn classify_status(status: u16) -> &'static str {
    match status {
        300..=399 => "upstream_redirect",
        400 | 422 => "invalid_request",
        401 | 403 => "auth",
        404 => "not_found",
        408 => "timeout",
        413 => "request_too_large",
        429 => "rate_limit",
        503 | 529 => "overloaded",
        500..=599 => "server_error",
        _ => "other",
    }
}

/// The start of a non-JSON body, for an error message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    crate::text::shorten(text.trim(), SNIPPET_MAX_BYTES, "…").into_owned()
}

/// How much of a non-JSON error body an error message quotes.
const SNIPPET_MAX_BYTES: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::lookup;

    fn call<'a>(id: &str, endpoint: Endpoint, options: &'a ProviderOptions, host: Option<&'a str>) -> Call<'a> {
        let spec = lookup(id).unwrap_or(&crate::provider::PROVIDERS[0]);
        Call { spec, endpoint, options, custom_host: host, api_key: "sk-test", default_max_tokens: None }
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn openai_url_is_base_plus_endpoint_with_bearer() {
        let opts = ProviderOptions::default();
        let req =
            build_request(&call("openai", Endpoint::ChatCompletions, &opts, None), &body(json!({"model": "m"})), None);
        let req = req.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.url, "https://api.openai.com/v1/chat/completions");
        assert_eq!(req.headers, vec![("authorization", "Bearer sk-test".to_string())]);
    }

    #[test]
    fn custom_host_replaces_base_including_version_path() {
        let opts = ProviderOptions::default();
        let c = call("anyscale", Endpoint::Embeddings, &opts, Some("http://127.0.0.1:9/v1/"));
        let req = build_request(&c, &body(json!({"model": "m"})), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.url, "http://127.0.0.1:9/v1/embeddings");
    }

    #[test]
    fn azure_url_has_resource_deployment_and_api_version() {
        let opts = ProviderOptions {
            resource_name: Some("res".into()),
            deployment_id: Some("gpt35".into()),
            api_version: Some("2024-02-01".into()),
            ..Default::default()
        };
        let req = build_request(&call("azure-openai", Endpoint::ChatCompletions, &opts, None), &body(json!({})), None);
        let req = req.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            req.url,
            "https://res.openai.azure.com/openai/deployments/gpt35/chat/completions?api-version=2024-02-01"
        );
        assert_eq!(req.headers, vec![("api-key", "sk-test".to_string())]);
    }

    #[test]
    fn azure_without_deployment_is_invalid_request() {
        let opts = ProviderOptions { resource_name: Some("r".into()), ..Default::default() };
        let err = build_request(&call("azure-openai", Endpoint::ChatCompletions, &opts, None), &body(json!({})), None);
        assert_eq!(err.err(), Some(CodecError::InvalidRequest("azure-openai needs deployment_id".into())));
    }

    #[test]
    fn anthropic_gets_messages_url_and_version_headers() {
        let opts = ProviderOptions { anthropic_beta: Some("tools-2024".into()), ..Default::default() };
        let c = call("anthropic", Endpoint::ChatCompletions, &opts, Some("http://h/v1"));
        let b = body(json!({"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}));
        let req = build_request(&c, &b, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.url, "http://h/v1/messages");
        assert_eq!(
            req.headers,
            vec![
                ("x-api-key", "sk-test".to_string()),
                ("anthropic-version", DEFAULT_ANTHROPIC_VERSION.to_string()),
                ("anthropic-beta", "tools-2024".to_string())
            ]
        );
    }

    #[test]
    fn anthropic_embeddings_refused_before_calling() {
        let opts = ProviderOptions::default();
        let err = build_request(&call("anthropic", Endpoint::Embeddings, &opts, None), &body(json!({})), None);
        assert!(matches!(err, Err(CodecError::InvalidRequest(m)) if m.contains("embeddings")));
    }

    #[test]
    fn status_classes_name_the_usual_failures() {
        let got: Vec<_> = [429, 529, 503, 500, 401, 400, 408, 302].iter().map(|s| classify_status(*s)).collect();
        assert_eq!(
            got,
            [
                "rate_limit",
                "overloaded",
                "overloaded",
                "server_error",
                "auth",
                "invalid_request",
                "timeout",
                "upstream_redirect"
            ]
        );
    }

    #[test]
    fn openai_error_body_passes_through_with_provider() {
        let spec = lookup("openai").unwrap_or(&crate::provider::PROVIDERS[0]);
        let got = translate_error(spec, 429, br#"{"error":{"message":"slow down","type":"rate_limit"}}"#);
        assert_eq!(got, json!({"error": {"message": "slow down", "type": "rate_limit"}, "provider": "openai"}));
    }

    #[test]
    fn non_json_error_body_is_wrapped_and_truncated() {
        let spec = lookup("groq").unwrap_or(&crate::provider::PROVIDERS[0]);
        let html = format!("<html>{}</html>", "x".repeat(500));
        let got = translate_error(spec, 502, html.as_bytes());
        let msg = got["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.starts_with("groq error (HTTP 502): <html>"), "{msg}");
        assert!(msg.chars().count() < 240, "{msg}");
    }
}

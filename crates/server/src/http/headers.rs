//! Portkey's request-header protocol, read once per request into [`Inbound`]: trace ID,
//! config, provider and credentials, metadata, timeouts, forwarded headers, provider options.

use crate::http::error::GatewayError;
use http::HeaderMap;
use serde_json::{Map, Value};
use switchboard_core::config::ProviderOptions;
use switchboard_core::secret::Secret;

pub const TRACE_ID: &str = "x-portkey-trace-id";
pub const CONFIG: &str = "x-portkey-config";
pub const PROVIDER: &str = "x-portkey-provider";
pub const VIRTUAL_KEY: &str = "x-portkey-virtual-key";
pub const CUSTOM_HOST: &str = "x-portkey-custom-host";
pub const METADATA: &str = "x-portkey-metadata";
pub const REQUEST_TIMEOUT: &str = "x-portkey-request-timeout";
pub const FORWARD_HEADERS: &str = "x-portkey-forward-headers";

/// Headers that carry a credential (a Switchboard key or a provider key), coming in or going out.
pub const CREDENTIAL_HEADERS: [&str; 4] = ["authorization", "x-portkey-api-key", "x-api-key", "api-key"];

/// Marks the client's credential headers sensitive, so a `Debug` of the headers (or of a
/// forwarded copy) prints `Sensitive` instead of the key.
pub fn mark_credentials_sensitive(headers: &mut HeaderMap) {
    for name in CREDENTIAL_HEADERS {
        if let http::header::Entry::Occupied(mut entry) = headers.entry(name) {
            entry.iter_mut().for_each(|value| value.set_sensitive(true));
        }
    }
}

/// Placeholder credentials the SDKs send when the user gave none: never a provider key.
const PLACEHOLDER_KEYS: [&str; 4] = ["OPENAI_API_KEY", "DUMMY-KEY", "PORTKEY_API_KEY", "sk-placeholder"];

/// What the request's headers ask for.
#[derive(Debug)]
pub struct Inbound {
    pub trace_id: String,
    pub config: Option<String>,
    pub provider: Option<String>,
    /// The `Authorization` credential (without `Bearer `), unless it is an SDK placeholder or
    /// the Switchboard key itself.
    pub api_key: Option<Secret>,
    pub virtual_key: Option<String>,
    pub custom_host: Option<String>,
    pub metadata: Map<String, Value>,
    pub request_timeout_ms: Option<u64>,
    pub forward_headers: Vec<String>,
    pub options: ProviderOptions,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub span_name: Option<String>,
    /// `x-portkey-debug: false` keeps this request's bodies out of the logs.
    pub debug: bool,
}

fn text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

fn owned(headers: &HeaderMap, name: &str) -> Option<String> {
    text(headers, name).map(str::to_string)
}

/// The client's trace ID, or a new UUID: never empty (the SDKs resend on every 5xx whose
/// trace ID is empty).
pub fn trace_id(headers: &HeaderMap) -> String {
    owned(headers, TRACE_ID)
        .or_else(|| traceparent(headers).map(|(trace, _)| trace.to_string()))
        .unwrap_or_else(crate::support::ids::trace_id)
}

/// A W3C `traceparent` (`00-<32 hex trace id>-<16 hex parent id>-<flags>`): its trace and
/// parent span IDs.
fn traceparent(headers: &HeaderMap) -> Option<(&str, &str)> {
    let mut parts = text(headers, "traceparent")?.split('-');
    let (_version, trace, parent) = (parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
    };
    (hex(trace, 32) && hex(parent, 16)).then_some((trace, parent))
}

impl Inbound {
    /// Reads the Portkey headers. When `authorization_is_switchboard_key`, `Authorization`
    /// carried the Switchboard key and is no provider credential.
    pub fn parse(
        headers: &HeaderMap,
        trace_id: String,
        authorization_is_switchboard_key: bool,
    ) -> Result<Self, GatewayError> {
        Ok(Inbound {
            trace_id,
            config: owned(headers, CONFIG),
            provider: owned(headers, PROVIDER),
            api_key: credential(headers).filter(|_| !authorization_is_switchboard_key),
            virtual_key: owned(headers, VIRTUAL_KEY),
            custom_host: owned(headers, CUSTOM_HOST),
            metadata: metadata(headers)?,
            request_timeout_ms: timeout(headers)?,
            forward_headers: text(headers, FORWARD_HEADERS).map(split_list).unwrap_or_default(),
            options: options(headers),
            span_id: owned(headers, "x-portkey-span-id"),
            parent_span_id: owned(headers, "x-portkey-parent-span-id")
                .or_else(|| traceparent(headers).map(|(_, parent)| parent.to_string())),
            span_name: owned(headers, "x-portkey-span-name"),
            debug: !text(headers, "x-portkey-debug").is_some_and(|v| v.eq_ignore_ascii_case("false")),
        })
    }
}

/// The credential in an `Authorization` value: what follows `Bearer ` (any case), or the
/// whole value when it names no scheme (some clients send the bare key). The one parser of
/// `Authorization` for both the gateway key and a provider key.
pub fn bearer(raw: &str) -> &str {
    let raw = raw.trim();
    match raw.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ if raw.eq_ignore_ascii_case("bearer") => "",
        _ => raw,
    }
}

fn credential(headers: &HeaderMap) -> Option<Secret> {
    let key = bearer(text(headers, "authorization")?);
    let placeholder = key.is_empty() || PLACEHOLDER_KEYS.contains(&key);
    (!placeholder).then(|| Secret::new(key))
}

fn metadata(headers: &HeaderMap) -> Result<Map<String, Value>, GatewayError> {
    let Some(raw) = text(headers, METADATA) else { return Ok(Map::new()) };
    let bad = |why: &str| GatewayError::InvalidRequest(format!("{METADATA}: {why}"));
    let value: Value = serde_json::from_str(raw).map_err(|e| bad(&format!("not valid JSON ({e})")))?;
    let Value::Object(map) = value else { return Err(bad("must be a JSON object of strings")) };
    if let Some((key, _)) = map.iter().find(|(_, v)| !v.is_string()) {
        return Err(bad(&format!("value of \"{key}\" must be a string")));
    }
    Ok(map)
}

fn timeout(headers: &HeaderMap) -> Result<Option<u64>, GatewayError> {
    let Some(raw) = text(headers, REQUEST_TIMEOUT) else { return Ok(None) };
    match raw.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Some(ms)),
        _ => Err(GatewayError::InvalidRequest(format!(
            "{REQUEST_TIMEOUT}: expected a positive number of milliseconds, got \"{raw}\""
        ))),
    }
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect()
}

fn options(headers: &HeaderMap) -> ProviderOptions {
    let either = |a: &str, b: &str| owned(headers, a).or_else(|| owned(headers, b));
    ProviderOptions {
        resource_name: owned(headers, "x-portkey-azure-resource-name"),
        deployment_id: owned(headers, "x-portkey-azure-deployment-id"),
        api_version: owned(headers, "x-portkey-azure-api-version"),
        anthropic_version: either("x-portkey-anthropic-version", "anthropic-version"),
        anthropic_beta: either("x-portkey-anthropic-beta", "anthropic-beta"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_are_marked_sensitive() {
        let mut h = HeaderMap::new();
        h.insert("authorization", http::HeaderValue::from_static("Bearer sk-secret-1"));
        h.insert("x-portkey-api-key", http::HeaderValue::from_static("sb-secret-2"));
        h.insert("x-portkey-trace-id", http::HeaderValue::from_static("trace-1"));
        mark_credentials_sensitive(&mut h);
        let printed = format!("{h:?}");
        assert!(!printed.contains("sk-secret-1") && !printed.contains("sb-secret-2"), "{printed}");
        assert!(printed.contains("trace-1"));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    fn parse(pairs: &[(&'static str, &'static str)]) -> Result<Inbound, GatewayError> {
        let h = headers(pairs);
        Inbound::parse(&h, trace_id(&h), false)
    }

    #[test]
    fn trace_id_is_generated_when_absent_and_kept_when_sent() {
        let generated = parse(&[]).map(|i| i.trace_id).unwrap_or_default();
        assert_eq!(generated.len(), 36);
        let kept = parse(&[(TRACE_ID, "request-loadbalance-fallback")]).map(|i| i.trace_id);
        assert_eq!(kept.ok().as_deref(), Some("request-loadbalance-fallback"));
    }

    #[test]
    fn w3c_traceparent_gives_trace_and_parent_span_ids() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let got = parse(&[("traceparent", tp)]).map(|i| (i.trace_id, i.parent_span_id));
        let want = ("4bf92f3577b34da6a3ce929d0e0e4736".to_string(), Some("00f067aa0ba902b7".to_string()));
        assert_eq!(got.ok(), Some(want));
        let portkey_wins = parse(&[("traceparent", tp), (TRACE_ID, "mine")]).map(|i| i.trace_id);
        assert_eq!(portkey_wins.ok().as_deref(), Some("mine"));
        let bad = parse(&[("traceparent", "00-zz-00-01")]).map(|i| i.trace_id.len());
        assert_eq!(bad.ok(), Some(36));
    }

    #[test]
    fn bearer_takes_the_credential_after_any_case_scheme_or_the_bare_value() {
        for (raw, key) in [
            ("Bearer sk-1", "sk-1"),
            ("bearer   sk-1 ", "sk-1"),
            ("BEARER sk-1", "sk-1"),
            ("sk-1", "sk-1"),
            ("Bearer", ""),
            ("  ", ""),
        ] {
            assert_eq!(bearer(raw), key, "{raw:?}");
        }
    }

    #[test]
    fn bearer_prefix_is_optional() {
        for raw in ["Bearer sk-1", "sk-1", "bearer sk-1"] {
            let h = headers(&[("authorization", Box::leak(raw.to_string().into_boxed_str()))]);
            assert_eq!(
                Inbound::parse(&h, String::new(), false)
                    .ok()
                    .and_then(|i| i.api_key)
                    .map(|k| k.expose().to_string())
                    .as_deref(),
                Some("sk-1")
            );
        }
    }

    #[test]
    fn sdk_placeholders_are_not_credentials() {
        for raw in ["Bearer OPENAI_API_KEY", "Bearer DUMMY-KEY", "Bearer "] {
            let h = headers(&[("authorization", Box::leak(raw.to_string().into_boxed_str()))]);
            assert_eq!(Inbound::parse(&h, String::new(), false).ok().and_then(|i| i.api_key), None, "{raw}");
        }
    }

    #[test]
    fn the_switchboard_key_in_authorization_is_not_a_credential() {
        let h = headers(&[("authorization", "Bearer sb-admin")]);
        assert_eq!(Inbound::parse(&h, String::new(), true).ok().and_then(|i| i.api_key), None);
    }

    #[test]
    fn metadata_must_be_object_of_strings() {
        let ok = parse(&[(METADATA, r#"{"plan":"paid"}"#)]).map(|i| i.metadata.len());
        assert_eq!(ok.ok(), Some(1));
        let err = parse(&[(METADATA, r#"{"n":1}"#)]).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("x-portkey-metadata: value of \"n\" must be a string"));
        let err = parse(&[(METADATA, "[1]")]).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("x-portkey-metadata: must be a JSON object of strings"));
    }

    #[test]
    fn request_timeout_must_be_positive_ms() {
        assert_eq!(parse(&[(REQUEST_TIMEOUT, "1500")]).ok().and_then(|i| i.request_timeout_ms), Some(1500));
        let err = parse(&[(REQUEST_TIMEOUT, "soon")]).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("x-portkey-request-timeout: expected a positive number of milliseconds, got \"soon\"")
        );
    }

    #[test]
    fn forward_headers_are_a_lowercased_list() {
        let got = parse(&[(FORWARD_HEADERS, "X-Org-Id, x-team ,")]).map(|i| i.forward_headers);
        assert_eq!(got.ok(), Some(vec!["x-org-id".to_string(), "x-team".to_string()]));
    }

    #[test]
    fn azure_and_anthropic_option_headers_are_read() {
        let got = parse(&[
            ("x-portkey-azure-resource-name", "res"),
            ("x-portkey-azure-deployment-id", "dep"),
            ("x-portkey-azure-api-version", "2024-02-01"),
            ("anthropic-beta", "b1"),
        ])
        .map(|i| i.options);
        let want = ProviderOptions {
            resource_name: Some("res".into()),
            deployment_id: Some("dep".into()),
            api_version: Some("2024-02-01".into()),
            anthropic_version: None,
            anthropic_beta: Some("b1".into()),
        };
        assert_eq!(got.ok(), Some(want));
    }
}

//! Gateway authentication: the admin key in `x-portkey-api-key`, compared in constant time.

use http::HeaderMap;
use switchboard_core::error::GatewayError;

pub const API_KEY_HEADER: &str = "x-portkey-api-key";

/// Checks the request's Switchboard key. With no key configured (`--insecure-no-auth`)
/// everything passes.
pub fn check(expected: Option<&str>, headers: &HeaderMap) -> Result<(), GatewayError> {
    let Some(expected) = expected else { return Ok(()) };
    let given = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok());
    match given {
        None => Err(GatewayError::Unauthorized(format!("missing {API_KEY_HEADER} header: send your Switchboard key"))),
        Some(key) if constant_time_eq(key.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(GatewayError::Unauthorized(format!("invalid Switchboard key in {API_KEY_HEADER}"))),
    }
}

/// Equal-length comparison that does not stop at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(key: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(k) = key {
            h.insert(API_KEY_HEADER, k.parse().unwrap_or_else(|_| http::HeaderValue::from_static("x")));
        }
        h
    }

    #[test]
    fn missing_key_is_unauthorized_and_says_which_header() {
        let err = check(Some("sb-1"), &headers(None)).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("missing x-portkey-api-key header: send your Switchboard key"));
    }

    #[test]
    fn wrong_key_is_unauthorized_without_echoing_it() {
        let err = check(Some("sb-1"), &headers(Some("sb-secret-guess"))).err().map(|e| e.to_string());
        assert!(err.is_some_and(|m| !m.contains("sb-secret-guess")));
    }

    #[test]
    fn right_key_passes_and_no_auth_passes_everything() {
        assert!(check(Some("sb-1"), &headers(Some("sb-1"))).is_ok());
        assert!(check(None, &headers(None)).is_ok());
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}

//! Property-based fuzzing of what a client sends before routing: the Portkey headers
//! (`Inbound::parse`, the trace ID) and authentication, over arbitrary header values and
//! bytes. None of it may panic; a bad header is an error naming the header, never a crash.
//! (cargo-fuzz covers the core's parsers in `fuzz/`; these live in the server crate, whose
//! build is too heavy for a fuzzing build, so proptest drives them here.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use switchboard::http::headers::{self, Inbound};

const NAMES: [&str; 16] = [
    "x-portkey-config",
    "x-portkey-provider",
    "x-portkey-virtual-key",
    "x-portkey-custom-host",
    "x-portkey-metadata",
    "x-portkey-request-timeout",
    "x-portkey-forward-headers",
    "x-portkey-trace-id",
    "x-portkey-span-id",
    "x-portkey-parent-span-id",
    "x-portkey-debug",
    "x-portkey-azure-resource-name",
    "x-portkey-anthropic-version",
    "authorization",
    "traceparent",
    "x-portkey-api-key",
];

/// Header values as a client may send them: any visible ASCII or opaque bytes, JSON-ish text.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        "[ -~]{0,80}".prop_map(String::into_bytes),
        r#"\{("[a-z_]{1,8}": ?("[ -~]{0,12}"|[0-9]{1,20}|-?[0-9.e+]{1,8}|null|true|\[\]|\{\}),? ?){0,4}\}"#
            .prop_map(String::into_bytes),
        "00-[0-9a-f]{0,34}-[0-9a-f]{0,18}-[0-9]{0,3}".prop_map(String::into_bytes),
        "(Bearer|bearer|Basic)? ?[ -~]{0,40}".prop_map(String::into_bytes),
    ]
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    proptest::collection::vec((0..NAMES.len(), value()), 0..12).prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, bytes) in pairs {
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                map.append(HeaderName::from_static(NAMES[name]), value);
            }
        }
        map
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

    #[test]
    fn inbound_headers_parse_or_fail_with_the_header_named(map in headers(), switchboard_key in any::<bool>()) {
        let trace_id = headers::trace_id(&map);
        prop_assert!(!trace_id.is_empty(), "the trace ID is never empty");
        match Inbound::parse(&map, trace_id, switchboard_key) {
            Ok(inbound) => prop_assert!(switchboard_key.then_some(()).is_none() || inbound.api_key.is_none()),
            Err(err) => prop_assert!(err.to_string().starts_with("x-portkey-"), "{err}"),
        }
    }
}

//! Any bytes as a provider's answer, for every endpoint and provider family: translation, error
//! translation and the shape check answer a value or an error, never a panic.
//! Input: two bytes (little-endian HTTP status for the error translation), then the body.
//!
//! The shape check is also held against a full parse: what it accepts, `serde_json` parses, and
//! what it refuses is said in a short reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use switchboard_core::provider::{check_answer, lookup, translate_error, translate_response, Endpoint};

const ENDPOINTS: [Endpoint; 3] = [Endpoint::ChatCompletions, Endpoint::Completions, Endpoint::Embeddings];

fuzz_target!(|data: &[u8]| {
    let Some((status, body)) = data.split_first_chunk::<2>() else { return };
    let status = u16::from_le_bytes(*status);
    let (Some(openai), Some(anthropic)) = (lookup("openai"), lookup("anthropic")) else { return };
    for endpoint in ENDPOINTS {
        let passed = translate_response(openai, endpoint, body, 1_700_000_000);
        assert_eq!(passed.ok().as_deref(), Some(body), "the OpenAI family passes bodies through");
        let _ = translate_response(anthropic, endpoint, body, 1_700_000_000);
        check_shape(endpoint, body);
    }
    for spec in [openai, anthropic] {
        assert!(translate_error(spec, status, body).get("error").is_some(), "an error answer has `error`");
    }
});

fn check_shape(endpoint: Endpoint, body: &[u8]) {
    let full = serde_json::from_slice::<Value>(body);
    match check_answer(endpoint, body) {
        // serde_json's tree parse stops at 128 levels of nesting; the scan has no such limit.
        Ok(()) => assert!(
            full.is_ok() || full.as_ref().is_err_and(|e| e.to_string().contains("recursion limit")),
            "accepted a body serde_json cannot parse: {full:?}"
        ),
        Err(reason) => assert!(reason.len() < 300, "{} byte reason: {reason}", reason.len()),
    }
}

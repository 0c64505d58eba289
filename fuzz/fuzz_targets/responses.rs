//! Any bytes as a provider's answer, for every endpoint and provider family: translation, error
//! translation and the shape check answer a value or an error, never a panic.
//! Input: two bytes (little-endian HTTP status for the error translation), then the body.
//!
//! The shape check is also held against a full parse: what it accepts, `serde_json` parses
//! (but for what only a tree parser refuses), and what it refuses is said in a short reason.
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
    match check_answer(endpoint, body) {
        Ok(()) => {
            if let Err(e) = serde_json::from_slice::<Value>(body) {
                assert!(tree_parser_only(&e.to_string(), body), "accepted a body that is not JSON: {e}");
            }
        }
        Err(reason) => assert!(reason.len() < 300, "{} byte reason: {reason}", reason.len()),
    }
}

/// What serde_json's tree parser refuses although JSON's grammar allows it, and which the shape
/// check therefore accepts: nesting past 128 levels, numbers past `f64` (`1e400`), and unpaired
/// surrogate escapes (`\ud800`), which a Rust `String` cannot hold. Invalid UTF-8 is reported by
/// the same "invalid unicode code point", so that one counts only for a body that is UTF-8.
fn tree_parser_only(error: &str, body: &[u8]) -> bool {
    let limits = ["recursion limit exceeded", "number out of range"];
    let escape = ["lone leading surrogate in hex escape", "unexpected end of hex escape"];
    limits.iter().chain(&escape).any(|e| error.contains(e))
        || (error.contains("invalid unicode code point") && std::str::from_utf8(body).is_ok())
}

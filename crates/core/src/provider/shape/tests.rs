//! `check_answer` rules, each pinned by a test named after it.

use super::*;
use serde_json::json;

const CHAT: Endpoint = Endpoint::ChatCompletions;
const EMBEDDINGS: Endpoint = Endpoint::Embeddings;

fn chat_answer() -> Vec<u8> {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000u64, "model": "gpt-4o",
           "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})
    .to_string()
    .into_bytes()
}

fn embeddings_answer() -> Vec<u8> {
    json!({"object": "list", "model": "text-embedding-3-small",
           "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2, 0.3]}],
           "usage": {"prompt_tokens": 2, "total_tokens": 2}})
    .to_string()
    .into_bytes()
}

/// The verdict's reason, failing the test when the body was accepted.
fn reason(endpoint: Endpoint, body: &[u8]) -> String {
    match check_answer(endpoint, body) {
        Ok(()) => panic!("{} should be refused", String::from_utf8_lossy(body)),
        Err(reason) => reason,
    }
}

#[test]
fn chat_and_completion_answers_need_choices() {
    assert_eq!(check_answer(CHAT, &chat_answer()), Ok(()));
    let completion = json!({"object": "text_completion", "choices": [{"text": "hi", "index": 0}]}).to_string();
    assert_eq!(check_answer(Endpoint::Completions, completion.as_bytes()), Ok(()));
    assert_eq!(reason(CHAT, br#"{"id": "x", "model": "m"}"#), "a chat completion needs `choices`; the body has none");
}

#[test]
fn embeddings_answers_need_data() {
    assert_eq!(check_answer(EMBEDDINGS, &embeddings_answer()), Ok(()));
    assert_eq!(reason(EMBEDDINGS, br#"{"object": "list"}"#), "an embeddings answer needs `data`; the body has none");
}

#[test]
fn another_endpoints_answer_is_refused_and_named() {
    let got = reason(EMBEDDINGS, &chat_answer());
    assert_eq!(
        got,
        "an embeddings answer needs `data`; the body has none (it has `choices`: the answer of another endpoint)"
    );
    assert!(reason(CHAT, &embeddings_answer()).contains("(it has `data`"));
}

#[test]
fn non_json_is_refused_without_echoing_the_body() {
    let html = format!("<!DOCTYPE html><html><body>{}</body></html>", "Bad gateway ".repeat(200));
    let got = reason(CHAT, html.as_bytes());
    assert_eq!(got, "not valid JSON: expected value at line 1 column 1");
    let got = reason(CHAT, b"\xff\xfe{}");
    assert!(got.starts_with("not valid JSON: invalid utf-8"), "{got}");
}

#[test]
fn truncated_json_is_not_valid_json() {
    let full = chat_answer();
    for cut in [1, 10, full.len() / 2, full.len() - 1] {
        let got = reason(CHAT, &full[..cut]);
        assert!(got.starts_with("not valid JSON: EOF while parsing"), "cut at {cut}: {got}");
    }
}

#[test]
fn invalid_syntax_anywhere_is_not_valid_json() {
    let cases: [&[u8]; 5] = [
        br#"{"choices": [], "usage": {"total_tokens": 01}}"#,
        br#"{"choices": [], "extra": [1, 2,]}"#,
        br#"{"choices": [], "note": "bad \q escape"}"#,
        br#"{"choices": []} trailing"#,
        b"{\"choices\": [], \"raw\": \"a\x01b\"}",
    ];
    for body in cases {
        assert!(reason(CHAT, body).starts_with("not valid JSON: "), "{}", String::from_utf8_lossy(body));
    }
}

/// Found by the `responses` fuzz target, which holds the scan against `serde_json::Value`: the
/// tree parser refuses these, but the grammar allows them and clients read them.
#[test]
fn grammar_valid_json_a_tree_parser_refuses_is_still_an_answer() {
    let surrogate = br#"{"choices": [{"message": {"content": "won\ud800ders"}}], "usage": {}}"#;
    assert!(serde_json::from_slice::<serde_json::Value>(surrogate).is_err());
    assert_eq!(check_answer(CHAT, surrogate), Ok(()));
    let huge = br#"{"choices": [], "usage": {"total_tokens": 241e400}}"#;
    assert!(serde_json::from_slice::<serde_json::Value>(huge).is_err());
    assert_eq!(check_answer(CHAT, huge), Ok(()));
    let deep = format!(r#"{{"choices": [], "extra": {}0{}}}"#, "[".repeat(200), "]".repeat(200));
    assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
    assert_eq!(check_answer(CHAT, deep.as_bytes()), Ok(()));
}

#[test]
fn valid_json_that_is_not_an_object_is_refused() {
    let cases: [(&[u8], &str); 5] = [
        (b"[]", "not a JSON object (an array)"),
        (b" [{\"choices\": []}] ", "not a JSON object (an array)"),
        (b"\"ok\"", "not a JSON object (a string)"),
        (b"null", "not a JSON object (null)"),
        (b"42", "not a JSON object (a number)"),
    ];
    for (body, want) in cases {
        assert_eq!(reason(CHAT, body), want);
    }
}

#[test]
fn empty_body_is_not_valid_json() {
    assert_eq!(reason(CHAT, b""), "not valid JSON: the body is empty");
    assert_eq!(reason(EMBEDDINGS, b" \r\n\t"), "not valid JSON: the body is empty");
}

#[test]
fn error_alone_is_refused_with_its_message() {
    let body = br#"{"error": {"message": "Rate limit reached", "type": "requests", "code": null}}"#;
    assert_eq!(reason(CHAT, body), "the body carries only an error: Rate limit reached");
    assert_eq!(reason(EMBEDDINGS, br#"{"error": "quota exceeded"}"#), "the body carries only an error: quota exceeded");
    let cases: [&[u8]; 3] = [br#"{"error": {"code": 500}}"#, br#"{"error": {"message": 7}}"#, br#"{"error": true}"#];
    for body in cases {
        assert_eq!(reason(CHAT, body), "the body carries only an error (without a message)");
    }
}

#[test]
fn error_object_style_bodies_are_errors_too() {
    let body =
        br#"{"object": "error", "message": "The model `x` does not exist.", "type": "NotFoundError", "code": 404}"#;
    assert_eq!(reason(CHAT, body), "the body carries only an error: The model `x` does not exist.");
}

#[test]
fn null_error_next_to_an_answer_is_an_answer() {
    let body = br#"{"error": null, "choices": [{"index": 0, "message": {"role": "assistant", "content": ""}}]}"#;
    assert_eq!(check_answer(CHAT, body), Ok(()));
    let body = br#"{"error": {"message": "partial"}, "data": []}"#;
    assert_eq!(check_answer(EMBEDDINGS, body), Ok(()));
    assert_eq!(
        reason(CHAT, br#"{"error": null, "choices": null}"#),
        "a chat completion needs `choices`; the body has none"
    );
}

#[test]
fn quoted_error_message_is_cut_at_200_bytes() {
    let long = "é".repeat(300);
    let body = json!({"error": {"message": long}}).to_string();
    let got = reason(CHAT, body.as_bytes());
    let quoted = got.trim_start_matches("the body carries only an error: ");
    assert!(quoted.ends_with('…') && quoted.len() <= QUOTE_MAX_BYTES + '…'.len_utf8(), "{} bytes", quoted.len());
}

#[test]
fn every_reason_is_short() {
    let big = format!("{{\"error\": {{\"message\": \"{}\"}}, \"padding\": \"{}\"", "m".repeat(5000), "p".repeat(5000));
    for body in [big.as_bytes(), &big.as_bytes()[..6000], "x".repeat(10_000).as_bytes()] {
        let got = reason(CHAT, body);
        assert!(got.len() < 300, "{} bytes: {got}", got.len());
    }
}

#[test]
fn escaped_keys_and_unknown_fields_are_read_like_any_other() {
    let body = br#"{"ch\u006fices": [], "system_fingerprint": {"deep": [[[{"x": null}]]]}}"#;
    assert_eq!(check_answer(CHAT, body), Ok(()));
}

#[test]
fn the_scan_that_checks_an_answer_also_reads_its_model_and_usage() {
    let facts = scan_answer(CHAT, &chat_answer());
    let usage = Usage { prompt_tokens: 3, completion_tokens: 1, ..Usage::default() };
    assert_eq!(facts, Ok(AnswerFacts { model: Some("gpt-4o".into()), usage: Some(usage) }));
    let odd = br#"{"choices": [], "model": 5, "usage": "none"}"#;
    assert_eq!(scan_answer(CHAT, odd), Ok(AnswerFacts::default()), "odd types are not facts, and not failures");
}

#[test]
fn usage_is_read_as_the_log_reads_it_elsewhere() {
    let usage = serde_json::json!({"prompt_tokens": 50, "completion_tokens": 5,
        "cache_creation_input_tokens": 30, "prompt_tokens_details": {"cached_tokens": 10}});
    let body = serde_json::json!({"choices": [], "usage": usage}).to_string();
    assert_eq!(scan_answer(CHAT, body.as_bytes()).map(|f| f.usage), Ok(Usage::from_openai(&usage)));
}

#[test]
fn a_responses_answer_needs_output_and_its_usage_is_read_by_its_own_names() {
    let answer = json!({"id": "resp_1", "object": "response", "model": "gpt-4o", "output": [],
        "usage": {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 2}, "output_tokens": 5, "total_tokens": 17}});
    let facts = scan_answer(Endpoint::Responses, answer.to_string().as_bytes()).unwrap_or_default();
    let usage = facts.usage.unwrap_or_default();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens), (12, 5, 2));
    assert_eq!(
        reason(Endpoint::Responses, &chat_answer()),
        "a response needs `output`; the body has none (it has `choices`: the answer of another endpoint)"
    );
}

#[test]
fn messages_and_token_counts_need_their_own_keys() {
    assert_eq!(check_answer(Endpoint::Messages, br#"{"type": "message", "content": []}"#), Ok(()));
    assert_eq!(check_answer(Endpoint::CountTokens, br#"{"input_tokens": 4}"#), Ok(()));
    assert!(check_answer(Endpoint::Messages, br#"{"type": "error", "error": {"message": "x"}}"#).is_err());
}

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::json;

use super::*;

/// 2024-06-30T12:00:00Z, the `now` of every test.
const NOW: u64 = 1_719_748_800_000;

fn read_pairs(dialect: Dialect, pairs: &[(&str, &str)]) -> Headroom {
    let headers: HashMap<&str, &str> = pairs.iter().copied().collect();
    read(dialect, |name| headers.get(name).copied(), NOW)
}

fn quota(remaining: u64, limit: Option<u64>, reset_in_ms: u64) -> Option<Quota> {
    Some(Quota { remaining, limit, reset_at_ms: NOW + reset_in_ms })
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

const OPENAI_BOTH: [(&str, &str); 6] = [
    ("x-ratelimit-limit-requests", "5000"),
    ("x-ratelimit-remaining-requests", "4999"),
    ("x-ratelimit-reset-requests", "12ms"),
    ("x-ratelimit-limit-tokens", "160000"),
    ("x-ratelimit-remaining-tokens", "159976"),
    ("x-ratelimit-reset-tokens", "6m0s"),
];

#[test]
fn openai_reports_both_quotas() {
    let got = read_pairs(Dialect::OpenAi, &OPENAI_BOTH);
    assert_eq!(got.requests, quota(4999, Some(5000), 12));
    assert_eq!(got.tokens, quota(159_976, Some(160_000), 360_000));
}

#[test]
fn openai_quota_needs_remaining_and_a_readable_reset() {
    let no_reset = [("x-ratelimit-remaining-requests", "3"), ("x-ratelimit-limit-requests", "10")];
    assert_eq!(read_pairs(Dialect::OpenAi, &no_reset), Headroom::default());
    let bad_reset = [("x-ratelimit-remaining-tokens", "3"), ("x-ratelimit-reset-tokens", "soon")];
    assert_eq!(read_pairs(Dialect::OpenAi, &bad_reset), Headroom::default());
    let no_remaining = [("x-ratelimit-reset-requests", "1s"), ("x-ratelimit-limit-requests", "10")];
    assert_eq!(read_pairs(Dialect::OpenAi, &no_remaining), Headroom::default());
    let no_limit = [("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "1s")];
    assert_eq!(read_pairs(Dialect::OpenAi, &no_limit).requests, quota(0, None, 1000));
}

#[test]
fn unreadable_counts_make_the_quota_unknown() {
    let bad = ["-1", "1000.0", "1e3", "+5", "", "  ", "many", "0x10", "18446744073709551616", "1 000", "١٢"];
    for text in bad {
        for header in ["x-ratelimit-remaining-requests", "x-ratelimit-limit-requests"] {
            let mut pairs = vec![
                ("x-ratelimit-remaining-requests", "7"),
                ("x-ratelimit-limit-requests", "10"),
                ("x-ratelimit-reset-requests", "1s"),
            ];
            pairs.retain(|(name, _)| *name != header);
            pairs.push((header, text));
            assert_eq!(read_pairs(Dialect::OpenAi, &pairs).requests, None, "{header}: {text:?}");
        }
    }
}

#[test]
fn values_are_trimmed_and_the_largest_count_reads() {
    let pairs = [("x-ratelimit-remaining-tokens", " 18446744073709551615 "), ("x-ratelimit-reset-tokens", " 1s")];
    assert_eq!(read_pairs(Dialect::OpenAi, &pairs).tokens, quota(u64::MAX, None, 1000));
}

#[test]
fn go_durations_openai_sends() {
    let ms = Duration::from_millis;
    let cases = [
        ("1s", ms(1000)),
        ("6m0s", ms(360_000)),
        ("12ms", ms(12)),
        ("23h47m36.648s", ms(((23 * 60 + 47) * 60 + 36) * 1000 + 648)),
        ("0.5s", ms(500)),
        (".5s", ms(500)),
        ("5.s", ms(5000)),
        ("1h", ms(3_600_000)),
        ("1.5h", ms(5_400_000)),
        ("250us", Duration::from_micros(250)),
        ("250\u{b5}s", Duration::from_micros(250)),
        ("250\u{3bc}s", Duration::from_micros(250)),
        ("7ns", Duration::from_nanos(7)),
        ("1h1m1s1ms1us1ns", Duration::new(3661, 1_001_001)),
        ("0", Duration::ZERO),
        ("0s", Duration::ZERO),
        ("0.000000001s", Duration::from_nanos(1)),
        ("0.1234567890123456789999s", Duration::from_nanos(123_456_789)),
    ];
    for (text, want) in cases {
        assert_eq!(go_duration(text), Some(want), "{text:?}");
    }
}

#[test]
fn go_duration_refuses_anything_else() {
    let garbage = [
        "", "s", "1", "10", "00", "-1s", "+1s", "1 s", " 1s", "1s ", "1S", "1sec", "1d", "1.2.3s", ".s", "ms", "1m-1s",
        "0.0", "1s1", "\u{b5}s", "1\u{b5}", "abc", "1.5", "\u{0}", "1e3s", "inf", "NaN",
    ];
    for text in garbage {
        assert_eq!(go_duration(text), None, "{text:?}");
    }
}

#[test]
fn go_duration_saturates_on_huge_values() {
    let huge = ["18446744073709551616s", "99999999999999999999999999999999999999999999h", "5124095576030432h"];
    for text in huge {
        assert_eq!(go_duration(text), Some(Duration::MAX), "{text:?}");
    }
    let at_limit = "18446744073709551615s999999999ns";
    assert_eq!(go_duration(at_limit), Some(Duration::MAX));
    let pairs = [("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", huge[1])];
    assert_eq!(
        read_pairs(Dialect::OpenAi, &pairs).requests,
        Some(Quota { remaining: 0, limit: None, reset_at_ms: u64::MAX })
    );
}

#[test]
fn a_sub_millisecond_reset_rounds_up_to_the_next_millisecond() {
    let pairs = [("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "250us")];
    assert_eq!(read_pairs(Dialect::OpenAi, &pairs).requests, quota(0, None, 1));
}

/// The four families, as Anthropic sends them; its token counts come rounded to thousands.
const ANTHROPIC_ALL: [(&str, &str); 12] = [
    ("anthropic-ratelimit-requests-limit", "50"),
    ("anthropic-ratelimit-requests-remaining", "49"),
    ("anthropic-ratelimit-requests-reset", "2024-06-30T12:00:01Z"),
    ("anthropic-ratelimit-tokens-limit", "90000"),
    ("anthropic-ratelimit-tokens-remaining", "80000"),
    ("anthropic-ratelimit-tokens-reset", "2024-06-30T12:00:10Z"),
    ("anthropic-ratelimit-input-tokens-limit", "50000"),
    ("anthropic-ratelimit-input-tokens-remaining", "30000"),
    ("anthropic-ratelimit-input-tokens-reset", "2024-06-30T12:00:20Z"),
    ("anthropic-ratelimit-output-tokens-limit", "40000"),
    ("anthropic-ratelimit-output-tokens-remaining", "5000"),
    ("anthropic-ratelimit-output-tokens-reset", "2024-06-30T12:00:30Z"),
];

#[test]
fn anthropic_tokens_are_the_most_restrictive_family() {
    let got = read_pairs(Dialect::Anthropic, &ANTHROPIC_ALL);
    assert_eq!(got.requests, quota(49, Some(50), 1000));
    assert_eq!(got.tokens, quota(5000, Some(40_000), 30_000), "output tokens have the least left");
    let without_output: Vec<_> = ANTHROPIC_ALL[..9].to_vec();
    assert_eq!(read_pairs(Dialect::Anthropic, &without_output).tokens, quota(30_000, Some(50_000), 20_000));
    let only_tokens: Vec<_> = ANTHROPIC_ALL[3..6].to_vec();
    assert_eq!(read_pairs(Dialect::Anthropic, &only_tokens).tokens, quota(80_000, Some(90_000), 10_000));
}

#[test]
fn anthropic_tie_takes_the_later_reset() {
    let pairs = [
        ("anthropic-ratelimit-input-tokens-remaining", "1000"),
        ("anthropic-ratelimit-input-tokens-reset", "2024-06-30T12:00:05Z"),
        ("anthropic-ratelimit-output-tokens-remaining", "1000"),
        ("anthropic-ratelimit-output-tokens-reset", "2024-06-30T12:00:07Z"),
    ];
    assert_eq!(read_pairs(Dialect::Anthropic, &pairs).tokens, quota(1000, None, 7000));
}

#[test]
fn anthropic_unreadable_family_is_left_out_of_the_minimum() {
    let mut pairs = ANTHROPIC_ALL.to_vec();
    pairs[10].1 = "5000.0";
    assert_eq!(read_pairs(Dialect::Anthropic, &pairs).tokens, quota(30_000, Some(50_000), 20_000));
    pairs[8].1 = "in 20 seconds";
    assert_eq!(read_pairs(Dialect::Anthropic, &pairs).tokens, quota(80_000, Some(90_000), 10_000));
}

#[test]
fn anthropic_reset_is_any_rfc3339_instant() {
    let cases = [
        ("2024-06-30T12:00:30Z", 30_000),
        ("2024-06-30T12:00:30.250Z", 30_250),
        ("2024-06-30T12:00:30.123456789Z", 30_123),
        ("2024-06-30T14:00:30+02:00", 30_000),
        ("2024-06-30T07:30:30-04:30", 30_000),
    ];
    for (reset, in_ms) in cases {
        let pairs = [("anthropic-ratelimit-requests-remaining", "0"), ("anthropic-ratelimit-requests-reset", reset)];
        assert_eq!(read_pairs(Dialect::Anthropic, &pairs).requests, quota(0, None, in_ms), "{reset}");
    }
    let past = [
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-ratelimit-requests-reset", "1969-12-31T23:59:59Z"),
    ];
    assert_eq!(read_pairs(Dialect::Anthropic, &past).requests.map(|q| q.reset_at_ms), Some(0));
    for bad in ["2024-06-30T12:00:30", "2024-06-30", "30s", "1719748830", "", "2024-13-30T12:00:30Z"] {
        let pairs = [("anthropic-ratelimit-requests-remaining", "0"), ("anthropic-ratelimit-requests-reset", bad)];
        assert_eq!(read_pairs(Dialect::Anthropic, &pairs).requests, None, "{bad:?}");
    }
}

#[test]
fn azure_minus_one_and_zero_mean_unknown() {
    for unknown in ["-1", "0"] {
        let pairs = [("x-ratelimit-remaining-requests", unknown), ("x-ratelimit-remaining-tokens", unknown)];
        assert_eq!(read_pairs(Dialect::Azure, &pairs), Headroom::default(), "{unknown}");
    }
    let openai_zero = [("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "1s")];
    assert_eq!(read_pairs(Dialect::OpenAi, &openai_zero).requests, quota(0, None, 1000), "0 is real on OpenAI");
}

#[test]
fn azure_without_a_reset_assumes_sixty_seconds() {
    let pairs = [("x-ratelimit-remaining-requests", "119"), ("x-ratelimit-remaining-tokens", "119000")];
    let got = read_pairs(Dialect::Azure, &pairs);
    assert_eq!(got.requests, quota(119, None, AZURE_ASSUMED_RESET_MS));
    assert_eq!(got.tokens, quota(119_000, None, 60_000));
}

#[test]
fn azure_reset_is_read_like_openai_or_as_whole_seconds() {
    let cases = [("6s", Some(6000)), ("1m30s", Some(90_000)), ("6", Some(6000)), ("soon", None), ("-6", None)];
    for (reset, in_ms) in cases {
        let pairs = [("x-ratelimit-remaining-tokens", "100"), ("x-ratelimit-reset-tokens", reset)];
        let want = in_ms.and_then(|ms| quota(100, None, ms));
        assert_eq!(read_pairs(Dialect::Azure, &pairs).tokens, want, "{reset:?}");
    }
    let with_limit = [("x-ratelimit-remaining-requests", "5"), ("x-ratelimit-limit-requests", "120")];
    assert_eq!(read_pairs(Dialect::Azure, &with_limit).requests, quota(5, Some(120), 60_000));
}

/// The server's header map hands out values borrowed from itself, not `'static` ones.
#[test]
fn read_takes_values_borrowed_from_the_callers_map() {
    let owned: HashMap<String, String> =
        OPENAI_BOTH.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
    let got = read(Dialect::OpenAi, |name| owned.get(name).map(String::as_str), NOW);
    assert_eq!(got, read_pairs(Dialect::OpenAi, &OPENAI_BOTH));
}

fn headroom(requests: Option<(u64, u64)>, tokens: Option<(u64, u64)>) -> Headroom {
    let quota = |(remaining, reset_at_ms)| Quota { remaining, limit: None, reset_at_ms };
    Headroom { requests: requests.map(quota), tokens: tokens.map(quota) }
}

#[test]
fn exhausted_requests_block_until_their_reset() {
    assert_eq!(headroom(Some((0, NOW + 500)), None).blocks(NOW, 1), Some(NOW + 500));
    assert_eq!(headroom(Some((1, NOW + 500)), None).blocks(NOW, 1), None);
}

#[test]
fn too_few_tokens_block_until_their_reset() {
    let short = headroom(None, Some((999, NOW + 700)));
    assert_eq!(short.blocks(NOW, 1000), Some(NOW + 700));
    assert_eq!(short.blocks(NOW, 999), None, "exactly enough left does not block");
    assert_eq!(short.blocks(NOW, 0), None);
}

#[test]
fn stale_hints_never_block() {
    let spent = headroom(Some((0, NOW)), Some((0, NOW - 1)));
    assert_eq!(spent.blocks(NOW, 10), None);
    assert_eq!(spent.blocks(NOW - 1, 10), Some(NOW), "the requests hint was still live a moment ago");
    assert_eq!(Headroom::default().blocks(NOW, u64::MAX), None, "unknown never blocks");
}

#[test]
fn when_both_block_the_later_reset_wins() {
    assert_eq!(headroom(Some((0, NOW + 100)), Some((5, NOW + 900))).blocks(NOW, 10), Some(NOW + 900));
    assert_eq!(headroom(Some((0, NOW + 900)), Some((5, NOW + 100))).blocks(NOW, 10), Some(NOW + 900));
    assert_eq!(headroom(Some((0, NOW + 900)), Some((5, NOW - 100))).blocks(NOW, 10), Some(NOW + 900));
}

#[test]
fn update_takes_the_newer_answers_quotas() {
    let mut known = headroom(Some((0, NOW + 1000)), Some((10, NOW + 1000)));
    known.update(headroom(Some((7, NOW + 2000)), Some((3, NOW + 50))), NOW);
    assert_eq!(known, headroom(Some((7, NOW + 2000)), Some((3, NOW + 50))));
}

#[test]
fn update_keeps_an_unreported_quota_until_it_is_stale() {
    let mut known = headroom(Some((0, NOW + 1000)), Some((10, NOW + 500)));
    known.update(headroom(None, Some((20, NOW + 3000))), NOW);
    assert_eq!(known, headroom(Some((0, NOW + 1000)), Some((20, NOW + 3000))));
    known.update(Headroom::default(), NOW + 1000);
    assert_eq!(known, headroom(None, Some((20, NOW + 3000))), "the requests hint went stale at its reset");
    known.update(Headroom::default(), NOW + 3001);
    assert_eq!(known, Headroom::default());
}

#[test]
fn estimate_counts_chat_messages_and_the_output_limit() {
    let body = object(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "abcd".repeat(10)},
            {"role": "user", "content": [
                {"type": "text", "text": "abcd".repeat(5)},
                {"type": "image_url", "image_url": {"url": "https://example.com/a-very-long-url.png"}},
            ]},
            {"role": "assistant", "content": null, "tool_calls": []},
        ],
        "max_tokens": 100,
    }));
    assert_eq!(estimate_tokens(&body, 4096), 15 + 100);
    let mut newer = body.clone();
    newer.remove("max_tokens");
    newer.insert("max_completion_tokens".into(), json!(50));
    assert_eq!(estimate_tokens(&newer, 4096), 15 + 50);
    newer.insert("max_tokens".into(), json!(70));
    assert_eq!(estimate_tokens(&newer, 4096), 15 + 70, "both present: the larger");
    newer.remove("max_tokens");
    newer.remove("max_completion_tokens");
    assert_eq!(estimate_tokens(&newer, 4096), 15 + 4096, "no limit stated: the default");
}

#[test]
fn estimate_counts_characters_not_bytes_and_rounds_down() {
    let body = object(json!({"messages": [{"role": "user", "content": "żółw🐢ab"}], "max_tokens": 0}));
    assert_eq!(estimate_tokens(&body, 9), 7 / 4);
}

#[test]
fn estimate_counts_a_completions_prompt() {
    let one = object(json!({"prompt": "abcd".repeat(8), "max_tokens": 16}));
    assert_eq!(estimate_tokens(&one, 4096), 8 + 16);
    let many = object(json!({"prompt": ["abcd".repeat(2), "abcd".repeat(6)]}));
    assert_eq!(estimate_tokens(&many, 16), 8 + 16);
    let token_ids = object(json!({"prompt": [1, 2, 3], "max_tokens": 16}));
    assert_eq!(estimate_tokens(&token_ids, 4096), 16, "token ids are not text");
}

#[test]
fn estimate_counts_embeddings_input() {
    let one = object(json!({"model": "text-embedding-3-small", "input": "abcd".repeat(25)}));
    assert_eq!(estimate_tokens(&one, 0), 25);
    let many = object(json!({"input": ["abcd", "abcdabcd", "abcd"]}));
    assert_eq!(estimate_tokens(&many, 0), 4);
}

#[test]
fn estimate_counts_a_top_level_system() {
    let text = object(json!({"system": "abcd".repeat(3), "messages": [{"role": "user", "content": "abcd"}]}));
    assert_eq!(estimate_tokens(&text, 1), 4 + 1);
    let parts = object(json!({"system": [{"type": "text", "text": "abcd".repeat(3)}], "messages": []}));
    assert_eq!(estimate_tokens(&parts, 1), 3 + 1);
}

#[test]
fn estimate_ignores_odd_shapes_and_saturates() {
    let odd = object(json!({
        "messages": {"not": "a list"},
        "prompt": 42,
        "input": {"text": 5},
        "system": [null, 1, {"text": ["x"]}],
        "max_tokens": -5,
        "max_completion_tokens": 1.5,
    }));
    assert_eq!(estimate_tokens(&odd, 7), 7);
    let huge = object(json!({"messages": [{"content": "abcd"}, 5, "x"], "max_tokens": u64::MAX}));
    assert_eq!(estimate_tokens(&huge, 7), u64::MAX);
    assert_eq!(estimate_tokens(&Map::new(), u64::MAX), u64::MAX);
}

/// Every header name any dialect reads, so random values land where they are looked for.
fn every_header_name() -> Vec<String> {
    let mut names = Vec::new();
    for kind in ["requests", "tokens"] {
        for field in ["limit", "remaining", "reset"] {
            names.push(format!("x-ratelimit-{field}-{kind}"));
        }
    }
    for family in ["requests", "tokens", "input-tokens", "output-tokens"] {
        for field in ["limit", "remaining", "reset"] {
            names.push(format!("anthropic-ratelimit-{family}-{field}"));
        }
    }
    names
}

/// Text like a header value: mostly the characters durations, numbers and dates are made of.
fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![".*", "[0-9.:+TZhmsunµμ-]{0,40}", "[0-9]{1,30}", "[0-9]{0,25}(\\.[0-9]{0,25})?(h|m|s|ms|us|ns)"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn read_never_panics_on_any_header_text(
        values in proptest::collection::vec(proptest::option::of(header_text()), 18),
        now_ms in prop_oneof![Just(0), Just(NOW), Just(u64::MAX), any::<u64>()],
        tokens in any::<u64>(),
    ) {
        let names = every_header_name();
        let headers: HashMap<&str, &str> = names
            .iter()
            .zip(&values)
            .filter_map(|(name, value)| Some((name.as_str(), value.as_deref()?)))
            .collect();
        for dialect in [Dialect::OpenAi, Dialect::Anthropic, Dialect::Azure] {
            let got = read(dialect, |name| headers.get(name).copied(), now_ms);
            let _ = got.blocks(now_ms, tokens);
            let mut known = got;
            known.update(got, now_ms);
        }
    }

    #[test]
    fn go_duration_never_panics_on_any_text(text in header_text()) {
        let _ = go_duration(&text);
    }
}

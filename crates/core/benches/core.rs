//! Criterion benches of `switchboard-core`'s hot path: everything the gateway does per request
//! that is pure CPU (config parse + validate, the planner's decisions, provider translation,
//! the shape check of a passed-through answer, SSE decoding). Inputs mirror the load benchmark
//! in `bench/` (the cookbook's loadbalance + nested fallback tree, its system + user request)
//! and the recorded Anthropic fixtures, so a slow figure here points at the same code a slow
//! figure there does.
//!
//! `cargo bench -p switchboard-core` (add `-- --quick` for a fast pass).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use serde_json::{json, Map, Value};
use switchboard_core::config::{parse_config, RequestFacts, RouteTree};
use switchboard_core::merge::deep_merge;
use switchboard_core::planner::{AllAvailable, Failure, Planner};
use switchboard_core::provider::{self, anthropic, Call, Endpoint};
use switchboard_core::sse::{encode_data, SseDecoder};

const HOST: &str = "http://127.0.0.1:9301/v1";

/// The single-target config the load benchmark's `single` scenario sends.
fn single_config() -> String {
    json!({"provider": "openai", "api_key": "sk-bench", "custom_host": HOST}).to_string()
}

/// The cookbook's loadbalance + nested fallback tree, with inline credentials.
fn cookbook_config() -> String {
    json!({
        "strategy": {"mode": "loadbalance"},
        "targets": [
            {"provider": "anthropic", "api_key": "sk-ant", "custom_host": HOST, "weight": 0.5,
             "override_params": {"max_tokens": 200, "model": "claude-3-opus-20240229"}},
            {"strategy": {"mode": "fallback"}, "weight": 0.5,
             "targets": [{"provider": "openai", "api_key": "sk-a", "custom_host": HOST},
                         {"provider": "openai", "api_key": "sk-b", "custom_host": HOST}]}
        ]
    })
    .to_string()
}

/// The cookbook's request, as the client sends it.
fn cookbook_request() -> Vec<u8> {
    json!({
        "model": "gpt-3.5-turbo",
        "messages": [
            {"role": "system", "content": "You are a very helpful assistant."},
            {"role": "user", "content": "What are 7 wonders in the world?"}
        ]
    })
    .to_string()
    .into_bytes()
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("expected a JSON object, got {other}"),
    }
}

fn tree(text: &str) -> RouteTree {
    parse_config(text).unwrap_or_else(|e| panic!("bench config is invalid: {e}"))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/anthropic/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An RNG that always answers its largest value: loadbalance then picks the last child
/// (the cookbook's fallback group), so the fallback step is the same every iteration.
struct LastPick;

impl RngCore for LastPick {
    fn next_u32(&mut self) -> u32 {
        u32::MAX
    }
    fn next_u64(&mut self) -> u64 {
        u64::MAX
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0xff);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        dest.fill(0xff);
        Ok(())
    }
}

fn config(c: &mut Criterion) {
    let mut g = c.benchmark_group("config");
    let single = single_config();
    let cookbook = cookbook_config();
    g.bench_function("parse_validate/single", |b| b.iter(|| parse_config(black_box(&single))));
    g.bench_function("parse_validate/cookbook", |b| b.iter(|| parse_config(black_box(&cookbook))));
    g.finish();
}

fn planner(c: &mut Criterion) {
    let mut g = c.benchmark_group("planner");
    let tree = tree(&cookbook_config());
    let metadata = Map::new();
    let params = object(serde_json::from_slice(&cookbook_request()).unwrap_or(Value::Null));
    let facts = || RequestFacts { metadata: &metadata, params: &params };
    // What the executor does per request: a fresh planner with an entropy-seeded RNG.
    g.bench_function("first/cookbook_entropy_rng", |b| {
        b.iter(|| {
            let mut planner = Planner::new(black_box(&tree), facts(), &AllAvailable, SmallRng::from_entropy());
            planner.first().map(|a| a.leaf.path.len())
        })
    });
    g.bench_function("first/cookbook_seeded_rng", |b| {
        let mut seed = 0u64;
        b.iter(|| {
            seed += 1;
            let mut planner = Planner::new(black_box(&tree), facts(), &AllAvailable, SmallRng::seed_from_u64(seed));
            planner.first().map(|a| a.leaf.path.len())
        })
    });
    // first() lands on fallback child 0 (openai sk-a); a 503 moves on to child 1.
    g.bench_function("first_then_fallback/cookbook", |b| {
        let failure = Failure::upstream(503);
        b.iter(|| {
            let mut planner = Planner::new(black_box(&tree), facts(), &AllAvailable, LastPick);
            let first = planner.first().map(|a| a.leaf.path.len());
            let next = planner.next(black_box(&failure)).map(|a| a.leaf.path.len());
            (first, next)
        })
    });
    g.finish();
}

fn anthropic_call(options: &switchboard_core::config::ProviderOptions) -> Call<'_> {
    Call {
        spec: provider::lookup("anthropic").unwrap_or_else(|| panic!("anthropic is not in the provider table")),
        endpoint: Endpoint::ChatCompletions,
        options,
        custom_host: Some(HOST),
        api_key: "sk-ant",
        default_max_tokens: None,
    }
}

fn translation(c: &mut Criterion) {
    let mut g = c.benchmark_group("anthropic");
    let raw = cookbook_request();
    let overrides = object(json!({"max_tokens": 200, "model": "claude-3-opus-20240229"}));
    let body = object(serde_json::from_slice(&raw).unwrap_or(Value::Null));
    let mut merged = body.clone();
    deep_merge(&mut merged, &overrides);
    let opts = anthropic::RequestOptions::default();
    g.bench_function("chat_request/cookbook_merged", |b| b.iter(|| anthropic::chat_request(black_box(&merged), &opts)));
    // The executor's whole per-attempt cost for this target: clone + merge the parsed body,
    // translate, serialise the upstream body, build URL and headers.
    let options = Default::default();
    let call = anthropic_call(&options);
    g.bench_function("build_request/cookbook_clone_merge_translate", |b| {
        b.iter(|| {
            let mut copy = black_box(&body).clone();
            deep_merge(&mut copy, &overrides);
            provider::build_request(&call, &copy, None).map(|r| r.body.len())
        })
    });
    let upstream = fixture("response_text.upstream.json");
    let parsed: Value = serde_json::from_slice(&upstream).unwrap_or(Value::Null);
    g.bench_function("chat_response/response_text", |b| {
        b.iter(|| anthropic::chat_response(black_box(&parsed), 1_700_000_000))
    });
    g.bench_function("translate_response/response_text_bytes", |b| {
        b.iter(|| {
            provider::translate_response(call.spec, Endpoint::ChatCompletions, black_box(&upstream), 1_700_000_000)
        })
    });
    for name in ["stream_text", "stream_tool_use"] {
        let sse = fixture(&format!("{name}.upstream.sse"));
        g.throughput(Throughput::Bytes(sse.len() as u64));
        g.bench_function(format!("stream/{name}"), |b| b.iter(|| translate_stream(black_box(&sse))));
    }
    g.finish();
}

/// What the relay does with a whole Anthropic stream: decode SSE, translate each event,
/// serialise and frame each client chunk.
fn translate_stream(sse: &[u8]) -> usize {
    let mut decoder = SseDecoder::new();
    let mut state = anthropic::ChatStream::new(true, 1_700_000_000);
    let mut out = 0;
    for event in decoder.push(sse) {
        let Ok(step) = state.on_event(&event) else { break };
        for chunk in &step.chunks {
            out += encode_data(&chunk.to_string()).len();
        }
        if step.done {
            break;
        }
    }
    out
}

/// An OpenAI stream of `words` content chunks plus role, finish and usage chunks, as the
/// mock provider sends it.
fn openai_stream(words: usize) -> Vec<u8> {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-mock-bench-1", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
               "model": "gpt-3.5-turbo", "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
               "logprobs": null}]})
    };
    let mut out = String::new();
    out += &format!("data: {}\n\n", chunk(json!({"role": "assistant", "content": ""}), Value::Null));
    for i in 0..words {
        out += &format!("data: {}\n\n", chunk(json!({"content": format!(" word{i}")}), Value::Null));
    }
    out += &format!("data: {}\n\n", chunk(json!({}), json!("stop")));
    out += "data: [DONE]\n\n";
    out.into_bytes()
}

fn sse(c: &mut Criterion) {
    let mut g = c.benchmark_group("sse");
    let stream = openai_stream(18); // 20 chunks + [DONE]
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("decode/openai_20_chunks_1KiB_reads", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new();
            let mut events = 0;
            for piece in black_box(&stream).chunks(1024) {
                events += decoder.push(piece).len();
            }
            events
        })
    });
    g.finish();
}

/// A typical non-stream chat completion of about 1 KiB, as an OpenAI-family provider answers.
fn openai_chat_answer() -> Vec<u8> {
    let content = "The seven wonders of the ancient world are the Great Pyramid of Giza, the Hanging Gardens of \
                   Babylon, the Statue of Zeus at Olympia, the Temple of Artemis at Ephesus, the Mausoleum at \
                   Halicarnassus, the Colossus of Rhodes and the Lighthouse of Alexandria. ";
    json!({"id": "chatcmpl-9xYzAbCdEfGhIjKlMnOpQrStUv", "object": "chat.completion", "created": 1_700_000_000u64,
           "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_6b68a8204b",
           "choices": [{"index": 0, "message": {"role": "assistant", "content": content.repeat(2), "refusal": null},
                        "logprobs": null, "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 27, "completion_tokens": 180, "total_tokens": 207,
                     "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                     "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                   "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}})
    .to_string()
    .into_bytes()
}

fn passthrough(c: &mut Criterion) {
    let mut g = c.benchmark_group("openai");
    let raw = Bytes::from(cookbook_request());
    let body = object(serde_json::from_slice(&raw).unwrap_or(Value::Null));
    let options = Default::default();
    let call = Call {
        spec: provider::lookup("openai").unwrap_or_else(|| panic!("openai is not in the provider table")),
        endpoint: Endpoint::ChatCompletions,
        options: &options,
        custom_host: Some(HOST),
        api_key: "sk-bench",
        default_max_tokens: None,
    };
    g.bench_function("build_request/passthrough_raw", |b| {
        b.iter(|| provider::build_request(&call, &body, Some(black_box(&raw).clone())).map(|r| r.body.len()))
    });
    // For scale: what the executor would pay if it re-serialised instead of passing bytes on.
    g.bench_function("build_request/reserialise", |b| {
        b.iter(|| provider::build_request(&call, black_box(&body), None).map(|r| r.body.len()))
    });
    g.bench_function("parse_request_body/cookbook", |b| {
        b.iter_batched(
            || raw.clone(),
            |raw| serde_json::from_slice::<Map<String, Value>>(&raw).map(|m| m.len()),
            BatchSize::SmallInput,
        )
    });
    // The shape check every passed-through non-stream answer gets before it is relayed.
    let answer = openai_chat_answer();
    g.throughput(Throughput::Bytes(answer.len() as u64));
    g.bench_function("check_answer/chat_1KiB", |b| {
        b.iter(|| provider::check_answer(Endpoint::ChatCompletions, black_box(&answer)))
    });
    g.finish();
}

criterion_group!(benches, config, planner, translation, sse, passthrough);
criterion_main!(benches);

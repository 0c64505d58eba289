//! Criterion bench of the request-log writer's cost per row, on each backend: batches of the gateway's own
//! batch size (500) of records shaped like the load benchmark's `single` scenario writes (trace id, one
//! attempt, both bodies logged, no saved config, virtual key or API key), into a table that grows as a
//! running gateway's does. The figure to read is the time per element (one logged request's write).
//!
//! ```sh
//! cargo bench -p switchboard-store --bench log_writer              # SQLite and PostgreSQL
//! cargo bench -p switchboard-store --bench log_writer -- sqlite    # one backend
//! ```
//!
//! PostgreSQL is `SWITCHBOARD_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`); the bench
//! writes into a schema of its own and drops it afterwards. It is skipped, saying so, when unreachable.
#![expect(clippy::unwrap_used, clippy::print_stderr, reason = "a bench: a failure should stop it loudly")]

use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::Map;
use sqlx::Connection as _;
use switchboard_store::{open, AttemptEntry, AttemptReason, Attempts, LogRecord, RouteEntry, Store, StoreLocation};

/// The server's `observe::sink::BATCH_SIZE`.
const BATCH: usize = 500;
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A record as the gateway writes one for the `single` scenario (ids are fresh, as a UUIDv7's are).
fn record(n: usize) -> LogRecord {
    let created_at = 1_780_000_000_000 + n as i64;
    LogRecord {
        // Time-ordered, as the gateway generates them (`support::ids`): random ones cost twice as much a row.
        trace_id: Some(format!("019a{n:012x}-{:016x}", (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))),
        metadata: Map::new(),
        strategy_mode: Some("single".to_owned()),
        target_path: Some("config".to_owned()),
        served_model: Some("gpt-4o-mini-2024-07-18".to_owned()),
        status: 200,
        latency_ms: 2,
        ttfb_ms: Some(2),
        prompt_tokens: Some(31),
        completion_tokens: Some(12),
        total_tokens: Some(43),
        cost_usd: Some(0.000_012_5),
        request_body: Some(
            r#"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write a haiku about resilient load balancing."}]}"#
                .to_owned(),
        ),
        response_body: Some(format!(
            r#"{{"id":"chatcmpl-{n}","object":"chat.completion","created":1780000000,"model":"gpt-4o-mini-2024-07-18","choices":[{{"index":0,"message":{{"role":"assistant","content":"Weights shift, calm and sure; one path fails, another holds; the answer arrives."}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":31,"completion_tokens":12,"total_tokens":43}}}}"#
        )),
        attempts: Attempts(vec![RouteEntry::Attempt(AttemptEntry {
            target_path: "config".to_owned(),
            provider: Some("openai".into()),
            model: Some("gpt-4o-mini".to_owned()),
            status: 200,
            latency_ms: 2,
            start_offset_ms: 0,
            error_class: None,
            retry: 0,
            backoff_ms: 0,
            reason: AttemptReason::Initial,
        })]),
        ..LogRecord::new(format!("019a{n:028x}"), created_at, "openai", "gpt-4o-mini")
    }
}

fn batch() -> Vec<LogRecord> {
    let start = NEXT.fetch_add(BATCH, Ordering::Relaxed);
    (start..start + BATCH).map(record).collect()
}

fn bench_backend(c: &mut Criterion, name: &str, rt: &tokio::runtime::Runtime, store: &Store) {
    let mut group = c.benchmark_group("log_writer");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    group.bench_function(format!("{name}/batch_of_{BATCH}"), |b| {
        b.iter_batched(batch, |mut rows| rt.block_on(store.insert_logs(&mut rows)).unwrap(), BatchSize::PerIteration);
    });
    group.finish();
}

fn sqlite(c: &mut Criterion) {
    let rt = runtime();
    let dir = std::env::temp_dir().join(format!("sb-bench-writer-{}", std::process::id()));
    let store = rt.block_on(open(&StoreLocation::Sqlite(dir.clone()))).unwrap();
    bench_backend(c, "sqlite", &rt, &store);
    rt.block_on(store.close());
    let _ = std::fs::remove_dir_all(dir);
}

fn postgres(c: &mut Criterion) {
    let rt = runtime();
    let url = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
    let schema = format!("bench_writer_{}", std::process::id());
    let admin = |sql: String| {
        let url = url.clone();
        async move {
            let mut conn = sqlx::PgConnection::connect(&url).await?;
            sqlx::query(&sql).execute(&mut conn).await?;
            conn.close().await
        }
    };
    if let Err(e) = rt.block_on(admin(format!("CREATE SCHEMA {schema}"))) {
        eprintln!("log_writer/postgres skipped: PostgreSQL at {url} is unreachable ({e})");
        return;
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    let location = StoreLocation::Postgres(format!("{url}{separator}options=-c%20search_path%3D{schema}"));
    let store = rt.block_on(open(&location)).unwrap();
    bench_backend(c, "postgres", &rt, &store);
    rt.block_on(store.close());
    rt.block_on(admin(format!("DROP SCHEMA {schema} CASCADE"))).unwrap();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);

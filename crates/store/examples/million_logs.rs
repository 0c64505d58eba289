//! Scale check for the SQLite log store: inserts 1,000,000 log rows (in the server's batch size) and times the
//! queries the logs API makes. Not a test; run it by hand:
//!
//! ```sh
//! cargo run --release -p switchboard-store --example million_logs [-- <data dir> [rows]]
//! ```
//!
//! Without a data dir it uses a fresh temp dir and deletes it afterwards.
#![expect(clippy::print_stdout, reason = "a command-line report")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Map};
use switchboard_store::{
    open, Attempts, GroupBy, LogQuery, LogRecord, RouteEntry, StatusFilter, Store, StoreError, StoreLocation,
};

mod common;
use common::Rows;

const BATCH: usize = 1_000;
const PROVIDERS: [&str; 5] = ["openai", "anthropic", "azure-openai", "bedrock", "groq"];
const MODELS: [&str; 4] = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "llama-3.1-70b"];

fn record(n: usize, start_ms: i64) -> LogRecord {
    LogRecord {
        id: format!("{:016x}-{n:08}", start_ms + n as i64),
        created_at: start_ms + n as i64 * 3,
        trace_id: Some(format!("trace-{}", n / 4)),
        span_id: Some(format!("span-{n}")),
        parent_span_id: None,
        span_name: None,
        metadata: Map::from_iter([("user".to_owned(), json!(format!("user-{}", n % 5_000)))]),
        api_key_id: Some(format!("key-{}", n % 20)),
        config_slug: Some(format!("config-{}", n % 50)),
        config_version: Some(1),
        strategy_mode: Some("fallback".to_owned()),
        target_path: Some("config.targets[0]".to_owned()),
        provider: PROVIDERS[n % PROVIDERS.len()].to_owned(),
        virtual_key: Some(format!("vk-{}", n % 30)),
        requested_model: MODELS[n % MODELS.len()].to_owned(),
        served_model: None,
        status: if n % 50 == 0 {
            429
        } else if n % 97 == 0 {
            500
        } else {
            200
        },
        latency_ms: (n * 7919 % 3_000) as i64,
        ttfb_ms: Some(120),
        stream: n % 3 == 0,
        retry_count: 0,
        cache_status: None,
        prompt_tokens: Some(250),
        completion_tokens: Some(120),
        total_tokens: Some(370),
        cost_usd: Some(0.0021),
        unpriced: false,
        request_body: Some(format!(
            r#"{{"model":"{}","messages":[{{"role":"user","content":"hello {n}"}}]}}"#,
            MODELS[0]
        )),
        response_body: Some(r#"{"id":"chatcmpl-1","choices":[{"message":{"content":"hi"}}]}"#.to_owned()),
        attempts: Attempts(vec![RouteEntry::Other(
            json!({"provider": PROVIDERS[n % PROVIDERS.len()], "status": 200, "latency_ms": 100}),
        )]),
        error: None,
        error_class: None,
    }
}

/// The best of five runs: the warm-cache latency an API call sees.
async fn time_query<F, Fut, T>(label: &str, run: F) -> Result<(), StoreError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
    T: std::fmt::Debug + Rows,
{
    let mut best = Duration::MAX;
    let mut rows = 0;
    for _ in 0..5 {
        let started = Instant::now();
        rows = run().await?.rows();
        best = best.min(started.elapsed());
    }
    println!("{label:<58} {:>9.2} ms  ({rows} rows)", best.as_secs_f64() * 1e3);
    Ok(())
}

async fn fill(store: &Store, rows: usize, start_ms: i64) -> Result<(), StoreError> {
    let started = Instant::now();
    for first in (0..rows).step_by(BATCH) {
        let mut batch: Vec<_> = (first..(first + BATCH).min(rows)).map(|n| record(n, start_ms)).collect();
        store.insert_logs(&mut batch).await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("inserted {rows} rows in batches of {BATCH}: {secs:.1} s ({:.0} rows/s)", rows as f64 / secs);
    Ok(())
}

async fn run(dir: PathBuf, rows: usize) -> Result<(), StoreError> {
    let store = open(&StoreLocation::Sqlite(dir.clone())).await?;
    let start_ms = 1_700_000_000_000;
    fill(&store, rows, start_ms).await?;
    let page = |q: LogQuery| {
        let store = store.clone();
        move || {
            let (store, q) = (store.clone(), q.clone());
            async move { store.query_logs(&q).await }
        }
    };
    let trace = LogQuery { trace_id: Some(format!("trace-{}", rows / 8)), ..LogQuery::default() };
    time_query("trace_id = one trace", page(trace)).await?;
    time_query("newest page (limit 50, no filter)", page(LogQuery::default())).await?;
    let status_4xx = Some(StatusFilter::Range { min: 400, max: 499 });
    let filtered = LogQuery {
        provider: Some("openai".to_owned()),
        model: Some("gpt-4o".to_owned()),
        status: status_4xx,
        limit: Some(50),
        ..LogQuery::default()
    };
    time_query("provider + model + status 4xx (limit 50, 1% match)", page(filtered.clone())).await?;
    let first = store.query_logs(&filtered).await?;
    let second = LogQuery { cursor: first.next_cursor, ..filtered };
    time_query("  same, second page via cursor", page(second)).await?;
    let nothing = LogQuery { provider: Some("anthropic".to_owned()), status: status_4xx, ..LogQuery::default() };
    time_query("provider + status 4xx, no row matches (worst case)", page(nothing)).await?;
    let by_vk = LogQuery { virtual_key: Some("vk-7".to_owned()), limit: Some(100), ..LogQuery::default() };
    time_query("virtual_key (limit 100)", page(by_vk)).await?;
    let meta = LogQuery { metadata: vec![("user".to_owned(), "user-42".to_owned())], ..LogQuery::default() };
    time_query("metadata user = user-42 (limit 50, ~200 matches)", page(meta)).await?;
    // Rows are 3 ms apart: the last minute holds 20,000 of them.
    let window = (Some(start_ms + rows as i64 * 3 - 60_000), None);
    let summary_store = store.clone();
    time_query("summary by provider, last minute (20k rows)", || {
        let store = summary_store.clone();
        async move { store.summary(GroupBy::Provider, window.0, window.1).await }
    })
    .await?;
    time_query("summary by provider, all rows", || {
        let store = summary_store.clone();
        async move { store.summary(GroupBy::Provider, None, None).await }
    })
    .await?;
    store.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), StoreError> {
    let mut args = std::env::args().skip(1);
    let given = args.next().map(PathBuf::from);
    let rows = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let dir = given.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("sb-million-{}", std::process::id())));
    println!("SQLite data dir: {}", dir.display());
    let outcome = run(dir.clone(), rows).await;
    if given.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    outcome
}

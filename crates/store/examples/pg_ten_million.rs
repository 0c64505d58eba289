//! Scale check for the PostgreSQL log store: generates 10,000,000 log rows over the last 30 days (so ~30 daily
//! partitions) in a database of its own, runs partition upkeep and `VACUUM ANALYZE`, then times through the `Store`
//! API the queries the logs API makes, and retention dropping whole days. Not a test; run it by hand:
//!
//! ```sh
//! cargo run -p switchboard-store --example pg_ten_million [-- [rows] [--reuse] [--keep-days]]
//! ```
//!
//! `SWITCHBOARD_BENCH_POSTGRES_URL` names the server (default `postgres://postgres@127.0.0.1:5432`, no database);
//! the data goes in its database `switchboard_bench`, dropped and made again unless `--reuse` finds a complete set
//! of the same size from an earlier run. `--keep-days` skips the retention timings (they drop the oldest days, so
//! the set is no longer complete after them). Rows are made by the server (`INSERT ... SELECT ... FROM
//! generate_series`), on two connections at once, with value shapes like `million_logs`: 10M rows took 7.5 min
//! on two cores plus 1.3 min of `VACUUM ANALYZE`, and 13 GB of disk; `DROP DATABASE switchboard_bench` frees it.
//! Each query runs five times unmeasured (the first reported on its own), then seven times: the table shows their
//! median, fastest and slowest. Times are the client's (a dev build unless `--release`), planning included.
#![expect(clippy::print_stdout, clippy::print_stderr, reason = "a command-line report, progress on stderr")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::{Connection as _, PgConnection};
use switchboard_store::{open, GroupBy, LogQuery, Store, StoreLocation, TailFrom};

mod common;
use common::Rows;

type Error = Box<dyn std::error::Error + Send + Sync>;

const DATABASE: &str = "switchboard_bench";
const DAY_MS: i64 = 86_400_000;
const DAYS: i64 = 30;
const RUNS: usize = 7;
/// Runs before the measured ones, the first of them reported on its own: a connection plans a statement for its
/// values its first five times, then may keep a generic plan, as a long-running gateway's connections do.
const WARM_UP: usize = 5;
/// Generation chunks: progress is reported after each.
const CHUNKS: usize = 100;

/// One row per `n` of the series, spread evenly over the 30 days before `$3`'s end. The value shapes follow
/// `million_logs`: 5 providers, 4 models, 20 API keys, 50 configs, 30 virtual keys, 5,000 users, 2 % 429s and
/// ~1 % 500s, latencies up to 3 s, a trace per 4 requests, bodies of ~100 bytes; plus a served model on successes.
const GENERATE: &str =
    "INSERT INTO request_logs (id, created_at, trace_id, span_id, metadata, api_key_id, config_slug, \
     config_version, strategy_mode, target_path, provider, virtual_key, requested_model, served_model, status, \
     latency_ms, ttfb_ms, stream, retry_count, prompt_tokens, completion_tokens, total_tokens, cost_usd, unpriced, \
     request_body, response_body, attempts, error, error_class, logged_at) \
     SELECT lpad(to_hex(created_at), 16, '0') || '-' || lpad(n::text, 8, '0'), created_at, 'trace-' || (n / 4), \
     'span-' || n, jsonb_build_object('user', 'user-' || (n % 5000)), 'key-' || (n % 20), 'config-' || (n % 50), 1, \
     'fallback', 'config.targets[0]', provider, 'vk-' || (n % 30), model, \
     CASE WHEN status = 200 THEN model || '-2024' END, status, latency, 120, n % 3 = 0, 0, 250, 120, 370, 0.0021, \
     false, '{\"model\":\"' || model || '\",\"messages\":[{\"role\":\"user\",\"content\":\"hello ' || n || '\"}]}', \
     '{\"id\":\"chatcmpl-1\",\"choices\":[{\"message\":{\"content\":\"hi\"}}]}', \
     jsonb_build_array(jsonb_build_object('provider', provider, 'status', status, 'latency_ms', latency)), \
     CASE status WHEN 429 THEN 'rate limited' WHEN 500 THEN 'upstream error' END, \
     CASE status WHEN 429 THEN 'rate_limit' WHEN 500 THEN 'internal' END, created_at + latency \
     FROM (SELECT n, $3 + n * $4 / $5 AS created_at, \
        (ARRAY['openai', 'anthropic', 'azure-openai', 'bedrock', 'groq'])[n % 5 + 1] AS provider, \
        (ARRAY['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet', 'llama-3.1-70b'])[n % 4 + 1] AS model, \
        CASE WHEN n % 50 = 0 THEN 429 WHEN n % 97 = 0 THEN 500 ELSE 200 END AS status, \
        (n * 7919) % 3000 AS latency \
        FROM generate_series($1::bigint, $2::bigint) AS n) AS g";

struct Bench {
    store: Store,
    rows: i64,
    start_ms: i64,
    now_ms: i64,
}

impl Bench {
    /// The `created_at` of row `n`.
    fn at(&self, n: i64) -> i64 {
        self.start_ms + n * (DAYS * DAY_MS) / self.rows
    }
}

fn server_url() -> String {
    std::env::var("SWITCHBOARD_BENCH_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

async fn admin() -> Result<PgConnection, Error> {
    Ok(PgConnection::connect(&format!("{}/postgres", server_url())).await?)
}

/// The `(rows, start_ms)` of a complete earlier fill, if the database holds one.
async fn complete_fill() -> Result<Option<(i64, i64)>, Error> {
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(DATABASE)
        .fetch_optional(&mut admin().await?)
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let mut conn = PgConnection::connect(&format!("{}/{DATABASE}", server_url())).await?;
    let marker = sqlx::query_as("SELECT rows, start_ms FROM bench_fill").fetch_optional(&mut conn).await;
    Ok(marker.ok().flatten())
}

async fn fresh_database() -> Result<(), Error> {
    let mut admin = admin().await?;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")).execute(&mut admin).await?;
    sqlx::raw_sql(&format!("CREATE DATABASE {DATABASE}")).execute(&mut admin).await?;
    Ok(())
}

/// Fills chunks of the series on one connection until none is left.
async fn fill_worker(bench: &Bench, next: &AtomicUsize, started: Instant) -> Result<(), Error> {
    let mut conn = PgConnection::connect(&format!("{}/{DATABASE}", server_url())).await?;
    sqlx::raw_sql("SET synchronous_commit = off").execute(&mut conn).await?;
    let per_chunk = (bench.rows + CHUNKS as i64 - 1) / CHUNKS as i64;
    loop {
        let chunk = next.fetch_add(1, Ordering::SeqCst);
        if chunk >= CHUNKS {
            return Ok(());
        }
        let first = chunk as i64 * per_chunk;
        let last = (first + per_chunk).min(bench.rows) - 1;
        sqlx::query(GENERATE)
            .bind(first)
            .bind(last)
            .bind(bench.start_ms)
            .bind(DAYS * DAY_MS)
            .bind(bench.rows)
            .execute(&mut conn)
            .await?;
        let secs = started.elapsed().as_secs_f64();
        eprintln!("  chunk {:>3}/{CHUNKS} (rows {first}..={last}) done at {secs:.0} s", chunk + 1);
    }
}

async fn fill(bench: &Bench) -> Result<(), Error> {
    let made = bench.store.ensure_log_partitions(bench.start_ms, (DAYS + 3) as u32).await?;
    eprintln!("partition upkeep: {made} daily partitions made; generating {} rows on two connections", bench.rows);
    let (next, started) = (AtomicUsize::new(0), Instant::now());
    let (a, b) = tokio::join!(fill_worker(bench, &next, started), fill_worker(bench, &next, started));
    a?;
    b?;
    let secs = started.elapsed().as_secs_f64();
    println!("generated {} rows in {secs:.0} s ({:.0} rows/s)", bench.rows, bench.rows as f64 / secs);
    let started = Instant::now();
    let mut conn = PgConnection::connect(&format!("{}/{DATABASE}", server_url())).await?;
    eprintln!("VACUUM ANALYZE (what autovacuum does to a day once it is written) ...");
    sqlx::raw_sql("VACUUM ANALYZE request_logs").execute(&mut conn).await?;
    println!("VACUUM ANALYZE: {:.0} s", started.elapsed().as_secs_f64());
    sqlx::raw_sql("CREATE TABLE bench_fill (rows BIGINT NOT NULL, start_ms BIGINT NOT NULL)")
        .execute(&mut conn)
        .await?;
    sqlx::query("INSERT INTO bench_fill VALUES ($1, $2)")
        .bind(bench.rows)
        .bind(bench.start_ms)
        .execute(&mut conn)
        .await?;
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Prints one table row: the first run, then the median, fastest and slowest of the measured runs, and the rows
/// the last run returned.
fn report(label: &str, first: Option<Duration>, mut samples: Vec<Duration>, rows: usize) {
    samples.sort();
    let (median, min, max) = (samples[samples.len() / 2], samples[0], samples[samples.len() - 1]);
    let first = first.map_or("–".to_owned(), |first| format!("{:.2}", ms(first)));
    println!("| {label} | {first} | {:.2} | {:.2} | {:.2} | {rows} |", ms(median), ms(min), ms(max));
}

/// Runs `call` [`WARM_UP`] times and then [`RUNS`] times, and reports the first run and the measured ones.
async fn time<F, Fut, T>(label: &str, call: F) -> Result<(), Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, switchboard_store::StoreError>>,
    T: Rows,
{
    let started = Instant::now();
    call().await?;
    let first = started.elapsed();
    for _ in 1..WARM_UP {
        call().await?;
    }
    let mut samples = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        rows = call().await?.rows();
        samples.push(started.elapsed());
    }
    report(label, Some(first), samples, rows);
    Ok(())
}

async fn page(bench: &Bench, label: &str, query: LogQuery) -> Result<(), Error> {
    time(label, || bench.store.query_logs(&query)).await
}

async fn time_pages(bench: &Bench) -> Result<(), Error> {
    let s = |value: &str| Some(value.to_owned());
    let q = LogQuery::default;
    let trace = format!("trace-{}", bench.rows / 8);
    page(bench, "trace_id = one trace (4 rows)", LogQuery { trace_id: Some(trace), ..q() }).await?;
    page(bench, "newest page (limit 50, no filter)", q()).await?;
    page(bench, "provider = openai (20 %)", LogQuery { provider: s("openai"), ..q() }).await?;
    page(bench, "model = gpt-4o (requested or served, 25 %)", LogQuery { model: s("gpt-4o"), ..q() }).await?;
    page(bench, "config = config-7 (2 %)", LogQuery { config: s("config-7"), ..q() }).await?;
    page(bench, "virtual_key = vk-7 (limit 100, 3 %)", LogQuery { virtual_key: s("vk-7"), limit: Some(100), ..q() })
        .await?;
    page(bench, "api key = key-3 (5 %)", LogQuery { api_key_id: s("key-3"), ..q() }).await?;
    let status_4xx = Some("4xx".parse()?);
    page(bench, "status 4xx (2 %)", LogQuery { status: status_4xx, ..q() }).await?;
    let filtered = LogQuery { provider: s("openai"), model: s("gpt-4o"), status: status_4xx, ..q() };
    page(bench, "provider + model + status 4xx (1 %)", filtered.clone()).await?;
    let first = bench.store.query_logs(&filtered).await?;
    page(bench, "  same, second page via cursor", LogQuery { cursor: first.next_cursor, ..filtered }).await?;
    let nothing = LogQuery { provider: s("anthropic"), status: status_4xx, ..q() };
    page(bench, "provider + status 4xx, no row matches (worst case)", nothing).await?;
    let meta = LogQuery { metadata: vec![("user".to_owned(), "user-42".to_owned())], ..q() };
    page(bench, "metadata user = user-42 (0.02 %)", meta).await?;
    time_deep_pages(bench).await
}

/// Pages 15 days back: the first page before a time (how the dashboard jumps), and the page after it by cursor.
async fn time_deep_pages(bench: &Bench) -> Result<(), Error> {
    let deep = LogQuery { to: Some(bench.at(bench.rows / 2)), ..LogQuery::default() };
    page(bench, "page 15 days back (to = mid-set)", deep.clone()).await?;
    let first = bench.store.query_logs(&deep).await?;
    page(bench, "  same, next page via cursor", LogQuery { cursor: first.next_cursor, ..deep.clone() }).await?;
    let deep_vk = LogQuery { virtual_key: Some("vk-7".to_owned()), ..deep };
    page(bench, "virtual_key = vk-7, 15 days back", deep_vk).await
}

async fn time_aggregates(bench: &Bench) -> Result<(), Error> {
    let store = &bench.store;
    let day = Some(bench.now_ms - DAY_MS);
    time("summary by provider, last day (333k rows)", || store.summary(GroupBy::Provider, day, None)).await?;
    time("summary by model, last day", || store.summary(GroupBy::Model, day, None)).await?;
    let hour = Some(bench.now_ms - DAY_MS / 24);
    time("summary by provider, last hour (14k rows)", || store.summary(GroupBy::Provider, hour, None)).await?;
    time("summary by provider, all 10M rows", || store.summary(GroupBy::Provider, None, None)).await?;
    let (from, to) = (bench.now_ms - DAY_MS, bench.now_ms);
    time("timeseries by provider, last day hourly", || store.timeseries(GroupBy::Provider, from, to, 3_600_000))
        .await?;
    let from = bench.start_ms;
    time("timeseries by provider, 30 days daily", || store.timeseries(GroupBy::Provider, from, to, DAY_MS)).await
}

async fn time_points(bench: &Bench) -> Result<(), Error> {
    let store = &bench.store;
    let id = format!("{:016x}-{:08}", bench.at(bench.rows / 3), bench.rows / 3);
    time("get_log by id (with bodies)", || store.get_log(&id)).await?;
    time("tail_now", || async { store.tail_now().await.map(|_| Vec::<()>::new()) }).await?;
    // The newest rows were logged before the bench started: resume from the last row's time, as a client would.
    let position = switchboard_store::TailPosition::Logged { at: bench.at(bench.rows - 1), id: String::new() };
    let resume = TailFrom::Resume(position.clone());
    let q = LogQuery::default();
    time("tail_logs resuming (5 s overlap, limit 100)", || store.tail_logs(&q, &resume, 100)).await?;
    let hour_ago = switchboard_store::TailPosition::Logged { at: bench.now_ms - 3_600_000, id: String::new() };
    let after = TailFrom::After(hour_ago);
    let openai = LogQuery { provider: Some("openai".to_owned()), ..LogQuery::default() };
    time("tail_logs provider = openai after an hour ago (limit 100)", || store.tail_logs(&openai, &after, 100)).await
}

/// Retention, destructive: each run drops the oldest whole day (the first is the partial day the set starts in),
/// then hourly sweeps into the next day delete an hour of rows each, as the gateway's hourly pass does.
async fn time_retention(bench: &Bench) -> Result<(), Error> {
    let mut conn = PgConnection::connect(&format!("{}/{DATABASE}", server_url())).await?;
    sqlx::raw_sql("DROP TABLE IF EXISTS bench_fill").execute(&mut conn).await?;
    let first_day = bench.start_ms.div_euclid(DAY_MS) * DAY_MS;
    let (mut samples, mut rows) = (Vec::new(), 0);
    for day in 1..=5 {
        let started = Instant::now();
        rows = bench.store.delete_logs_before(first_day + day * DAY_MS).await?;
        samples.push(started.elapsed());
    }
    report("retention: drop the oldest day's partition (5 days)", None, samples, usize::try_from(rows)?);
    let (mut samples, mut rows) = (Vec::new(), 0);
    for hour in 1..=5 {
        let started = Instant::now();
        rows = bench.store.delete_logs_before(first_day + 5 * DAY_MS + hour * 3_600_000).await?;
        samples.push(started.elapsed());
    }
    report("retention: hourly sweep, DELETE an hour of the straddling day", None, samples, usize::try_from(rows)?);
    Ok(())
}

async fn run(rows: i64, reuse: bool, keep_days: bool) -> Result<(), Error> {
    let earlier = if reuse { complete_fill().await? } else { None };
    let reused = earlier.is_some_and(|(earlier_rows, _)| earlier_rows == rows);
    if !reused {
        fresh_database().await?;
    }
    let store = open(&StoreLocation::Postgres(format!("{}/{DATABASE}", server_url()))).await?;
    let mut conn = PgConnection::connect(&format!("{}/{DATABASE}", server_url())).await?;
    let (now_ms,): (i64,) =
        sqlx::query_as("SELECT CAST(extract(epoch FROM now()) * 1000 AS BIGINT)").fetch_one(&mut conn).await?;
    let start_ms = earlier.filter(|_| reused).map_or(now_ms - DAYS * DAY_MS, |(_, start)| start);
    let bench = Bench { store, rows, start_ms, now_ms };
    if reused {
        eprintln!("reusing the {rows} rows of an earlier run");
    } else {
        fill(&bench).await?;
    }
    println!("\n{} partitions\n", bench.store.log_partitions().await?.len());
    println!("| query | first run ms | median ms | min | max | rows |\n|---|---|---|---|---|---|");
    time_pages(&bench).await?;
    time_aggregates(&bench).await?;
    time_points(&bench).await?;
    if !keep_days {
        time_retention(&bench).await?;
    }
    bench.store.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows = args.iter().find_map(|arg| arg.parse().ok()).unwrap_or(10_000_000);
    let flag = |name: &str| args.iter().any(|arg| arg == name);
    println!("PostgreSQL at {} (database {DATABASE}), {rows} rows over {DAYS} days", server_url());
    run(rows, flag("--reuse"), flag("--keep-days")).await
}

//! Request logs on both backends: batch writes, every filter, keyset pagination, retention, summaries, feedback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use serde_json::{json, Map};
use switchboard_store::{
    Feedback, FeedbackUpdate, GroupBy, LogQuery, LogRecord, RouteEntry, StatusFilter, Store, StoreError,
};

use common::log;

fn ids(records: &[LogRecord]) -> BTreeSet<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

/// Every page of `query`, following cursors; panics if paging does not end.
async fn all_pages(store: &Store, query: &LogQuery) -> Vec<LogRecord> {
    let mut query = query.clone();
    let mut seen = Vec::new();
    for _ in 0..10_000 {
        let page = store.query_logs(&query).await.unwrap();
        seen.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return seen,
        }
    }
    panic!("pagination did not end");
}

/// Twelve varied rows for the filter table.
fn filter_fixture() -> Vec<LogRecord> {
    (0..12)
        .map(|n| {
            let mut r = log(n, 1_000 + n as i64 * 10);
            r.trace_id = Some(format!("trace-{}", n % 4));
            r.provider = if n % 2 == 0 { "openai" } else { "anthropic" }.to_owned();
            r.requested_model = if n % 3 == 0 { "gpt-4o" } else { "claude-3-5-sonnet" }.to_owned();
            r.served_model = (n == 4).then(|| "gpt-4o-mini".to_owned());
            r.status = [200, 429, 500, 200][n % 4];
            r.virtual_key = (n % 5 != 0).then(|| format!("vk-{}", n % 2));
            r.config_slug = (n < 6).then(|| "support".to_owned());
            r.api_key_id = Some(format!("key-{}", n % 3));
            r
        })
        .collect()
}

fn expected(rows: &[LogRecord], keep: impl Fn(&LogRecord) -> bool) -> BTreeSet<String> {
    rows.iter().filter(|r| keep(r)).map(|r| r.id.clone()).collect()
}

on_both_backends!(
    log_batch_round_trips_every_field,
    typed_attempts_read_back_typed_and_older_shapes_as_stored,
    list_pages_omit_bodies_unless_asked,
    each_filter_selects_exactly_the_matching_rows,
    cursor_pagination_returns_every_row_exactly_once,
    cursor_pagination_keeps_filters_across_pages,
    metadata_filter_requires_every_pair,
    invalid_queries_are_rejected,
    reinserting_a_batch_does_not_duplicate_rows,
    batches_of_odd_sizes_land_whole,
    a_written_batch_is_given_back_for_a_retry,
    log_batches_and_control_plane_writes_interleave,
    retention_deletes_only_older_logs,
    summary_percentiles_on_known_data,
    summary_groups_and_time_window,
    feedback_round_trips_per_trace,
    feedback_update_changes_only_given_fields,
);

async fn log_batch_round_trips_every_field(store: &Store) {
    let mut sparse = log(2, 2_000);
    sparse.trace_id = None;
    sparse.span_id = None;
    sparse.span_name = None;
    sparse.metadata = Map::new();
    sparse.config_slug = None;
    sparse.config_version = None;
    sparse.served_model = None;
    sparse.ttfb_ms = None;
    sparse.prompt_tokens = None;
    sparse.cost_usd = None;
    sparse.unpriced = true;
    sparse.stream = true;
    sparse.retry_count = 3;
    sparse.request_body = None;
    sparse.attempts = switchboard_store::Attempts::default();
    sparse.error = Some("upstream timed out".to_owned());
    let mut nested = log(1, 1_000);
    nested.metadata = Map::from_iter([("env".to_owned(), json!("prod")), ("n".to_owned(), json!({"deep": [1, 2.5]}))]);
    store.insert_logs(&mut vec![nested.clone(), sparse.clone()]).await.unwrap();
    store.insert_logs(&mut Vec::<LogRecord>::new()).await.unwrap();
    assert_eq!(store.get_log(&nested.id).await.unwrap(), Some(nested));
    assert_eq!(store.get_log(&sparse.id).await.unwrap(), Some(sparse));
    assert_eq!(store.get_log("missing").await.unwrap(), None);
}

/// Every kind of entry, typed, and one of a shape no version wrote: PostgreSQL's JSONB reorders keys, and both
/// must still read back as they went in.
async fn typed_attempts_read_back_typed_and_older_shapes_as_stored(store: &Store) {
    let mut record = log(3, 3_000);
    record.attempts = serde_json::from_value(json!([
        {"reason": "skipped", "target_path": "config.targets[1]", "state": "unsupported", "until_ms": null,
         "provider": "anthropic", "virtual_key": null, "why": "no embeddings"},
        {"reason": "skipped", "target_path": "config.targets[2]", "state": "cooling", "until_ms": 9_000,
         "provider": null, "virtual_key": "vk-1"},
        {"reason": "sticky", "group_path": "config", "first_choice": "config.targets[0]",
         "target_path": "config.targets[0]"},
        {"reason": "failed_open"},
        {"target_path": "config.targets[0]", "provider": "openai", "model": "gpt-4o", "status": 503,
         "latency_ms": 12, "start_offset_ms": 3, "error_class": "overloaded", "retry": 0, "backoff_ms": 0,
         "reason": "initial"},
        {"target_path": "config.targets[0]", "status": 200, "reason": "fallback"},
    ]))
    .unwrap();
    let typed = record.attempts.iter().filter(|e| !matches!(e, RouteEntry::Other(_))).count();
    assert_eq!(typed, 5, "the last entry lacks most keys: kept as stored, not typed");
    store.insert_logs(&mut vec![record.clone()]).await.unwrap();
    assert_eq!(store.get_log(&record.id).await.unwrap(), Some(record));
}

async fn list_pages_omit_bodies_unless_asked(store: &Store) {
    let record = log(1, 1_000);
    store.insert_logs(&mut vec![record.clone()]).await.unwrap();
    let page = store.query_logs(&LogQuery::default()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!((page.items[0].request_body.as_ref(), page.items[0].response_body.as_ref()), (None, None));
    let with_bodies = LogQuery { include_bodies: true, ..LogQuery::default() };
    assert_eq!(store.query_logs(&with_bodies).await.unwrap().items, [record]);
}

async fn each_filter_selects_exactly_the_matching_rows(store: &Store) {
    let mut rows = filter_fixture();
    store.insert_logs(&mut rows).await.unwrap();
    let q = LogQuery::default;
    let s = |v: &str| Some(v.to_owned());
    let cases: Vec<(&str, LogQuery, BTreeSet<String>)> = vec![
        (
            "trace_id",
            LogQuery { trace_id: s("trace-1"), ..q() },
            expected(&rows, |r| r.trace_id.as_deref() == Some("trace-1")),
        ),
        ("provider", LogQuery { provider: s("anthropic"), ..q() }, expected(&rows, |r| r.provider == "anthropic")),
        ("requested model", LogQuery { model: s("gpt-4o"), ..q() }, expected(&rows, |r| r.requested_model == "gpt-4o")),
        ("served model", LogQuery { model: s("gpt-4o-mini"), ..q() }, expected(&rows, |r| r.id == "log-0000004")),
        (
            "exact status",
            LogQuery { status: Some(StatusFilter::Exact(429)), ..q() },
            expected(&rows, |r| r.status == 429),
        ),
        (
            "status class",
            LogQuery { status: Some("4xx".parse().unwrap()), ..q() },
            expected(&rows, |r| (400..500).contains(&r.status)),
        ),
        (
            "virtual key",
            LogQuery { virtual_key: s("vk-1"), ..q() },
            expected(&rows, |r| r.virtual_key.as_deref() == Some("vk-1")),
        ),
        ("config", LogQuery { config: s("support"), ..q() }, expected(&rows, |r| r.config_slug.is_some())),
        (
            "api key",
            LogQuery { api_key_id: s("key-2"), ..q() },
            expected(&rows, |r| r.api_key_id.as_deref() == Some("key-2")),
        ),
        ("from", LogQuery { from: Some(1_050), ..q() }, expected(&rows, |r| r.created_at >= 1_050)),
        ("to", LogQuery { to: Some(1_050), ..q() }, expected(&rows, |r| r.created_at < 1_050)),
        (
            "combined",
            LogQuery { provider: s("openai"), status: Some(StatusFilter::Exact(200)), from: Some(1_010), ..q() },
            expected(&rows, |r| r.provider == "openai" && r.status == 200 && r.created_at >= 1_010),
        ),
        ("nothing matches", LogQuery { provider: s("mistral"), ..q() }, BTreeSet::new()),
    ];
    for (name, query, want) in cases {
        assert!(!want.is_empty() || name == "nothing matches", "{name}: fixture selects nothing");
        let got = store.query_logs(&LogQuery { limit: Some(100), ..query }).await.unwrap();
        assert_eq!(ids(&got.items), want, "filter: {name}");
        assert_eq!(got.next_cursor, None, "filter: {name}");
    }
}

async fn cursor_pagination_returns_every_row_exactly_once(store: &Store) {
    // 1,203 rows (more than one INSERT chunk) with many sharing a created_at, so paging must break ties by id.
    let mut rows: Vec<_> = (0..1_203).map(|n| log(n, 10_000 + (n / 7) as i64)).collect();
    store.insert_logs(&mut rows).await.unwrap();
    for page_size in [1_000, 50, 7] {
        let query = LogQuery { limit: Some(page_size), ..LogQuery::default() };
        let seen = all_pages(store, &query).await;
        assert_eq!(seen.len(), rows.len(), "page size {page_size}: no row repeats");
        assert_eq!(ids(&seen), ids(&rows), "page size {page_size}: no row is missed");
        let keys: Vec<_> = seen.iter().map(|r| (r.created_at, r.id.clone())).collect();
        assert!(keys.windows(2).all(|w| w[0] > w[1]), "page size {page_size}: newest first, strictly");
    }
}

async fn cursor_pagination_keeps_filters_across_pages(store: &Store) {
    let mut rows: Vec<_> = (0..100).map(|n| log(n, 5_000 + n as i64 / 3)).collect();
    store.insert_logs(&mut rows).await.unwrap();
    let query = LogQuery { trace_id: Some("trace-3".to_owned()), limit: Some(3), ..LogQuery::default() };
    let seen = all_pages(store, &query).await;
    assert_eq!(seen.len(), 10);
    assert_eq!(ids(&seen), expected(&rows, |r| r.trace_id.as_deref() == Some("trace-3")));
}

async fn metadata_filter_requires_every_pair(store: &Store) {
    let meta =
        |pairs: &[(&str, serde_json::Value)]| Map::from_iter(pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let mut rows: Vec<_> = (0..4).map(|n| log(n, 1_000 + n as i64)).collect();
    rows[0].metadata = meta(&[("env", json!("prod")), ("user.id", json!("42"))]);
    rows[1].metadata = meta(&[("env", json!("prod")), ("user.id", json!("7"))]);
    rows[2].metadata = meta(&[("env", json!("dev")), ("user", json!({"id": "42"}))]);
    rows[3].metadata = Map::new();
    store.insert_logs(&mut rows).await.unwrap();
    let filter = |pairs: &[(&str, &str)]| LogQuery {
        metadata: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..LogQuery::default()
    };
    let found = |q: LogQuery| async move { ids(&store.query_logs(&q).await.unwrap().items) };
    let set = |ids: &[&str]| ids.iter().map(|id| (*id).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(found(filter(&[("env", "prod")])).await, set(&["log-0000000", "log-0000001"]));
    assert_eq!(found(filter(&[("env", "prod"), ("user.id", "42")])).await, set(&["log-0000000"]));
    // A dot is part of the key, not a path into nested objects.
    assert_eq!(found(filter(&[("user.id", "42")])).await, set(&["log-0000000"]));
    assert_eq!(found(filter(&[("env", "staging")])).await, set(&[]));
}

async fn invalid_queries_are_rejected(store: &Store) {
    let bad = [
        LogQuery { limit: Some(0), ..LogQuery::default() },
        LogQuery { limit: Some(1_001), ..LogQuery::default() },
        LogQuery { cursor: Some("not-a-cursor".to_owned()), ..LogQuery::default() },
        LogQuery { metadata: vec![("bad'key".to_owned(), "v".to_owned())], ..LogQuery::default() },
        LogQuery { metadata: vec![(String::new(), "v".to_owned())], ..LogQuery::default() },
    ];
    for query in bad {
        let err = store.query_logs(&query).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidQuery(_)), "{query:?} gave {err:?}");
    }
}

async fn a_written_batch_is_given_back_for_a_retry(store: &Store) {
    let sent: Vec<_> = (0..3).map(|n| log(n, 1_000)).collect();
    let mut batch = sent.clone();
    store.insert_logs(&mut batch).await.unwrap();
    assert_eq!(batch, sent, "the writer lends the records and returns them unchanged");
}

/// The log writer and the control plane write the same SQLite file through different connections: each waits
/// for the other's transaction instead of failing with "database is locked".
async fn log_batches_and_control_plane_writes_interleave(store: &Store) {
    let logs = async {
        for round in 0..20 {
            let mut batch: Vec<_> = (0..50).map(|n| log(round * 50 + n, 1_000)).collect();
            store.insert_logs(&mut batch).await.unwrap();
        }
    };
    let configs = async {
        for n in 0..20 {
            store.create_config(&format!("cfg-{n}"), "c", r#"{"provider":"openai"}"#).await.unwrap();
        }
    };
    tokio::join!(logs, configs);
    assert_eq!(all_pages(store, &LogQuery { limit: Some(1000), ..LogQuery::default() }).await.len(), 1000);
}

async fn reinserting_a_batch_does_not_duplicate_rows(store: &Store) {
    let mut rows: Vec<_> = (0..5).map(|n| log(n, 1_000)).collect();
    store.insert_logs(&mut rows).await.unwrap();
    store.insert_logs(&mut rows).await.unwrap();
    assert_eq!(store.query_logs(&LogQuery::default()).await.unwrap().items.len(), 5);
}

/// 49 rows go as statements of 32, 16 and 1 rows, 113 as 50, 50, 8, 4 and 1.
async fn batches_of_odd_sizes_land_whole(store: &Store) {
    let rows: Vec<_> = (0..162).map(|n| log(n, 1_000 + n as i64)).collect();
    store.insert_logs(&mut rows[..49].to_vec()).await.unwrap();
    store.insert_logs(&mut rows[49..].to_vec()).await.unwrap();
    let seen = all_pages(store, &LogQuery { limit: Some(1000), ..LogQuery::default() }).await;
    assert_eq!((seen.len(), ids(&seen)), (rows.len(), ids(&rows)));
}

async fn retention_deletes_only_older_logs(store: &Store) {
    let mut rows: Vec<_> = (0..10).map(|n| log(n, 1_000 * n as i64)).collect();
    store.insert_logs(&mut rows).await.unwrap();
    assert_eq!(store.delete_logs_before(4_000).await.unwrap(), 4);
    let left = ids(&store.query_logs(&LogQuery::default()).await.unwrap().items);
    assert_eq!(left, expected(&rows, |r| r.created_at >= 4_000));
    assert_eq!(store.delete_logs_before(4_000).await.unwrap(), 0);
}

async fn summary_percentiles_on_known_data(store: &Store) {
    // openai: latencies 1..=100 ms; every tenth request failed; cost 0.5 each; 3 prompt + 2 completion tokens.
    let mut rows: Vec<_> = (1..=100)
        .map(|n| {
            let mut r = log(n, 1_000 + n as i64);
            r.latency_ms = (101 - n) as i64;
            r.status = if n % 10 == 0 { 502 } else { 200 };
            r.cost_usd = Some(0.5);
            r.unpriced = n <= 3;
            (r.prompt_tokens, r.completion_tokens, r.total_tokens) = (Some(3), Some(2), Some(5));
            r
        })
        .collect();
    store.insert_logs(&mut rows).await.unwrap();
    let summary = store.summary(GroupBy::Provider, None, None).await.unwrap();
    assert_eq!(summary.len(), 1);
    let row = &summary[0];
    assert_eq!(row.key.as_deref(), Some("openai"));
    assert_eq!((row.requests, row.errors, row.unpriced), (100, 10, 3));
    assert_eq!((row.prompt_tokens, row.completion_tokens, row.total_tokens), (300, 200, 500));
    assert!((row.cost_usd - 50.0).abs() < 1e-9, "{}", row.cost_usd);
    assert_eq!((row.latency_p50_ms, row.latency_p95_ms, row.latency_p99_ms), (50, 95, 99));
}

async fn summary_groups_and_time_window(store: &Store) {
    // Group a: latencies [10, 20, 30]; group b: [5]; group c: one slow request, counted in a 100 ms bucket; and a
    // row outside the window that would change group a.
    let mut rows = Vec::new();
    let fixture = [("a", 30, 100), ("a", 10, 101), ("a", 20, 102), ("b", 5, 103), ("c", 12_345, 104), ("a", 1_000, 10)];
    for (n, (provider, latency, created_at)) in fixture.into_iter().enumerate() {
        let mut r = log(n, created_at);
        r.provider = provider.to_owned();
        r.latency_ms = latency;
        r.cost_usd = None;
        r.config_slug = (provider == "a").then(|| "cfg".to_owned());
        rows.push(r);
    }
    store.insert_logs(&mut rows).await.unwrap();
    let summary = store.summary(GroupBy::Provider, Some(100), Some(200)).await.unwrap();
    let keys: Vec<_> = summary.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys, [Some("a".to_owned()), Some("b".to_owned()), Some("c".to_owned())], "busiest group first");
    let a = &summary[0];
    assert_eq!((a.requests, a.latency_p50_ms, a.latency_p95_ms, a.latency_p99_ms), (3, 20, 30, 30));
    assert_eq!(a.cost_usd, 0.0);
    assert_eq!((summary[1].latency_p50_ms, summary[1].latency_p99_ms), (5, 5));
    assert_eq!(summary[2].latency_p50_ms, 12_300);

    let by_config = store.summary(GroupBy::Config, Some(100), None).await.unwrap();
    let mut config_keys: Vec<_> = by_config.iter().map(|r| (r.key.clone(), r.requests)).collect();
    config_keys.sort();
    assert_eq!(config_keys, [(None, 2), (Some("cfg".to_owned()), 3)]);
    let by_model = store.summary(GroupBy::Model, None, None).await.unwrap();
    assert_eq!(by_model.len(), 1);
    assert_eq!(by_model[0].key.as_deref(), Some("gpt-4o-2024-08-06"));
    let by_vk = store.summary(GroupBy::VirtualKey, None, None).await.unwrap();
    assert_eq!(by_vk[0].requests, 6);
    assert!(store.summary(GroupBy::Provider, Some(5_000), None).await.unwrap().is_empty());
}

async fn feedback_round_trips_per_trace(store: &Store) {
    let feedback = |id: &str, trace_id: &str, created_at: i64| Feedback {
        id: id.to_owned(),
        trace_id: trace_id.to_owned(),
        value: -3,
        weight: 0.75,
        metadata: Map::from_iter([("reviewer".to_owned(), json!("qa"))]),
        created_at,
    };
    let (first, second) = (feedback("f1", "t1", 1), feedback("f2", "t1", 2));
    store.insert_feedback(&second).await.unwrap();
    store.insert_feedback(&first).await.unwrap();
    store.insert_feedback(&feedback("f3", "t2", 3)).await.unwrap();
    assert_eq!(store.feedback_for_trace("t1").await.unwrap(), [first.clone(), second]);
    let err = store.insert_feedback(&first).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { entity: "feedback", .. }), "{err:?}");
}

async fn feedback_update_changes_only_given_fields(store: &Store) {
    let original = Feedback {
        id: "f1".to_owned(),
        trace_id: "t1".to_owned(),
        value: 1,
        weight: 1.0,
        metadata: Map::from_iter([("reviewer".to_owned(), json!("qa"))]),
        created_at: 1,
    };
    store.insert_feedback(&original).await.unwrap();
    let update = FeedbackUpdate { value: Some(-5), weight: Some(0.5), ..FeedbackUpdate::default() };
    assert!(store.update_feedback("f1", &update).await.unwrap());
    assert!(store.update_feedback("f1", &FeedbackUpdate::default()).await.unwrap(), "an empty update finds the row");
    assert!(!store.update_feedback("missing", &update).await.unwrap());
    let stored = store.feedback_for_trace("t1").await.unwrap();
    assert_eq!(stored, [Feedback { value: -5, weight: 0.5, ..original.clone() }]);
    let metadata = Map::from_iter([("reviewer".to_owned(), json!("lead"))]);
    let update = FeedbackUpdate { metadata: Some(metadata.clone()), ..FeedbackUpdate::default() };
    store.update_feedback("f1", &update).await.unwrap();
    assert_eq!(store.feedback_for_trace("t1").await.unwrap()[0].metadata, metadata);
}

//! What the dashboard needs of the store, on both backends: sessions, editable API keys, the live tail's
//! order, and the time-bucketed analytics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use switchboard_store::{
    hash_api_key, hint, ApiKeyScope, ApiKeyUpdate, GroupBy, LogQuery, NewApiKey, Store, StoreError, TailFrom,
    TailPosition,
};

use common::log;

on_both_backends!(
    sessions_live_until_they_expire_or_are_deleted,
    api_key_update_changes_only_given_fields_of_live_keys,
    tail_follows_the_write_order_and_resumes_after_a_position,
    timeseries_buckets_by_interval_and_group,
    timeseries_refuses_too_many_buckets,
);

#[expect(clippy::disallowed_methods, reason = "sessions expire by the store's wall clock")]
fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn sessions_live_until_they_expire_or_are_deleted(store: &Store) {
    store.create_ui_session("h-live", "key-1", now() + 60_000).await.unwrap();
    store.create_ui_session("h-old", "key-1", now() - 1).await.unwrap();
    store.create_ui_session("h-other", "key-2", now() + 60_000).await.unwrap();
    let live = store.find_ui_session("h-live").await.unwrap().unwrap();
    assert_eq!(live.principal, "key-1");
    assert_eq!(store.find_ui_session("h-old").await.unwrap(), None, "an expired session is gone");
    assert_eq!(store.find_ui_session("nope").await.unwrap(), None);
    assert!(store.delete_ui_session("h-live").await.unwrap());
    assert!(!store.delete_ui_session("h-live").await.unwrap());
    assert_eq!(store.find_ui_session("h-live").await.unwrap(), None);
    // Creating a session purges the expired one; deleting by principal ends the rest.
    store.create_ui_session("h-new", "key-2", now() + 60_000).await.unwrap();
    assert_eq!(store.delete_ui_sessions_of("key-2").await.unwrap(), 2);
    assert_eq!(store.find_ui_session("h-other").await.unwrap(), None);
}

fn new_key(key: &str) -> NewApiKey {
    NewApiKey {
        name: "before".to_owned(),
        key_hash: hash_api_key(key),
        hint: hint(key),
        scope: ApiKeyScope::Gateway,
        allowed_configs: vec!["cfg-a".to_owned()],
        allowed_virtual_keys: vec![],
        default_config: Some("cfg-a".to_owned()),
        rate_limits: Some(serde_json::json!([{"type": "requests", "unit": "rpm", "value": 5}])),
        usage_limits: None,
    }
}

async fn api_key_update_changes_only_given_fields_of_live_keys(store: &Store) {
    let created = store.create_api_key(&new_key("sb-0123456789abcdefghij")).await.unwrap();
    let generation = store.control_generation().await.unwrap();
    let update = ApiKeyUpdate {
        name: Some("after".to_owned()),
        scope: Some(ApiKeyScope::Admin),
        default_config: Some(None),
        rate_limits: Some(None),
        ..ApiKeyUpdate::default()
    };
    let updated = store.update_api_key(&created.id, &update).await.unwrap().unwrap();
    assert_eq!((updated.name.as_str(), updated.scope), ("after", ApiKeyScope::Admin));
    assert_eq!((&updated.default_config, &updated.rate_limits), (&None, &None));
    assert_eq!(updated.allowed_configs, ["cfg-a"], "untouched");
    assert_eq!(updated.key_hash, created.key_hash, "the key itself never changes");
    assert!(store.control_generation().await.unwrap() > generation, "other instances see the change");
    assert_eq!(store.find_api_key(&created.id).await.unwrap(), Some(updated));
    assert!(store.update_api_key("missing", &update).await.unwrap().is_none());
    store.create_ui_session("h-demoted", &created.id, now() + 60_000).await.unwrap();
    let demote = ApiKeyUpdate { scope: Some(ApiKeyScope::Gateway), ..ApiKeyUpdate::default() };
    store.update_api_key(&created.id, &demote).await.unwrap().unwrap();
    assert_eq!(store.find_ui_session("h-demoted").await.unwrap(), None, "a key leaving admin ends its sessions");
    store.create_ui_session("h-revoked", &created.id, now() + 60_000).await.unwrap();
    store.revoke_api_key(&created.id).await.unwrap();
    assert_eq!(store.find_ui_session("h-revoked").await.unwrap(), None, "revoking ends its sessions");
    assert!(store.update_api_key(&created.id, &update).await.unwrap().is_none(), "a revoked key stays revoked");
}

async fn tail_follows_the_write_order_and_resumes_after_a_position(store: &Store) {
    let start = store.tail_now().await.unwrap();
    // The second batch holds a row created earlier (a long request): the tail still sees it, after the first.
    store.insert_logs(&mut vec![log(1, 5_000), log(2, 6_000)]).await.unwrap();
    store.insert_logs(&mut vec![log(3, 1_000)]).await.unwrap();
    let all = store.tail_logs(&LogQuery::default(), &TailFrom::Resume(start.clone()), 100).await.unwrap();
    let order: Vec<&str> = all.iter().map(|r| r.record.id.as_str()).collect();
    assert_eq!(order.len(), 3, "{order:?}");
    assert_eq!(order[2], "log-0000003", "{order:?}");
    assert!(all.iter().all(|r| r.record.request_body.is_none()), "no bodies in the tail");

    // Continuing exactly after the first row gives the other two; a position round-trips through its text.
    let text = all[0].position.to_string();
    let first = TailPosition::parse(&text, store.backend()).unwrap();
    let rest = store.tail_logs(&LogQuery::default(), &TailFrom::After(first), 100).await.unwrap();
    let rest: BTreeSet<_> = rest.into_iter().map(|r| r.record.id).collect();
    assert_eq!(rest, BTreeSet::from(["log-0000002".to_owned(), "log-0000003".to_owned()]));
    let now = store.tail_now().await.unwrap();
    let after_now = store.tail_logs(&LogQuery::default(), &TailFrom::After(now), 100).await.unwrap();
    assert!(after_now.is_empty(), "nothing after the present: {after_now:?}");

    let filtered = LogQuery { trace_id: Some("trace-3".to_owned()), ..LogQuery::default() };
    let only = store.tail_logs(&filtered, &TailFrom::Resume(start), 100).await.unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].record.id, "log-0000003");
}

async fn timeseries_buckets_by_interval_and_group(store: &Store) {
    let mut rows = Vec::new();
    for (n, (created_at, provider, latency, status)) in [
        (0, "openai", 10, 200),
        (59_999, "openai", 30, 502),
        (60_000, "openai", 20, 200),
        (61_000, "anthropic", 1_234, 200),
        (200_000, "openai", 5, 200),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = log(n, created_at);
        r.provider = provider.to_owned();
        r.latency_ms = latency;
        r.status = status;
        (r.total_tokens, r.cost_usd) = (Some(10), Some(0.5));
        rows.push(r);
    }
    store.insert_logs(&mut rows).await.unwrap();
    let points = store.timeseries(GroupBy::Provider, 0, 120_000, 60_000).await.unwrap();
    let shape: Vec<_> = points
        .iter()
        .map(|p| (p.start, p.totals.key.as_deref().unwrap(), p.totals.requests, p.totals.errors))
        .collect();
    assert_eq!(shape, [(0, "openai", 2, 1), (60_000, "anthropic", 1, 0), (60_000, "openai", 1, 0)]);
    assert_eq!((points[0].totals.latency_p50_ms, points[0].totals.latency_p99_ms), (10, 30));
    assert_eq!(points[1].totals.latency_p50_ms, 1_200, "a 1.2 s latency counts in its 100 ms bucket");
    assert_eq!((points[0].totals.total_tokens, points[0].totals.cost_usd), (20, 1.0));
}

async fn timeseries_refuses_too_many_buckets(store: &Store) {
    let err = store.timeseries(GroupBy::Model, 0, 10_000_000, 1_000).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidQuery(_)), "{err}");
}

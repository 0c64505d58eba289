//! The logs read API through the real app: filters, metadata, time ranges, keyset paging,
//! limits and bad parameters on `GET /v1/logs`; one record with attempts and feedback; NDJSON
//! and CSV exports streamed across store pages; analytics on known data; admin-only access.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use common::*;
use serde_json::{json, Map, Value};
use switchboard_store::{ApiKeyScope, Feedback, LogRecord, NewApiKey};

/// 2024-06-10T06:13:20Z.
const BASE: i64 = 1_718_000_000_000;
const PROVIDERS: [&str; 3] = ["openai", "anthropic", "azure-openai"];
const MODELS: [&str; 4] = ["gpt-4o", "claude-3-opus-20240229", "gpt-35-turbo", "gpt-4o-mini"];

/// Record `i` of a synthetic history. Pairs share a millisecond, so paging must break ties
/// by id; ids sort with `i`, so newest first is descending `i`.
fn synthetic(i: usize) -> LogRecord {
    let status = if nth(i, 10) {
        500
    } else if nth(i, 7) {
        429
    } else {
        200
    };
    let model = MODELS[i % 4];
    let served = if model == "gpt-4o" { "gpt-4o-2024-08-06" } else { model };
    let n = i as i64;
    LogRecord {
        id: format!("log-{i:04}"),
        created_at: BASE + n / 2 * 1000,
        trace_id: Some(format!("trace-{}", i / 3)),
        span_id: None,
        parent_span_id: None,
        span_name: None,
        metadata: object(json!({"user": format!("user-{}", i % 5), "env": if nth(i, 2) { "prod" } else { "dev" }})),
        api_key_id: Some("admin".into()),
        config_slug: nth(i, 3).then(|| "pc-main".to_string()),
        config_version: nth(i, 3).then_some(2),
        strategy_mode: Some("fallback".into()),
        target_path: Some(format!("config.targets[{}]", i % 2)),
        provider: PROVIDERS[i % 3].into(),
        virtual_key: (i % 4 != 3).then(|| format!("vk-{}", i % 2)),
        requested_model: model.into(),
        served_model: (status == 200).then(|| served.to_string()),
        status,
        latency_ms: 100 + (n * 37) % 50,
        ttfb_ms: Some(20 + n % 5),
        stream: i % 2 == 1,
        retry_count: (i % 3) as u32,
        cache_status: None,
        prompt_tokens: Some(10 + n),
        completion_tokens: Some(5 + n % 7),
        total_tokens: Some(15 + n + n % 7),
        cost_usd: (!nth(i, 11)).then_some(0.001 * n as f64),
        unpriced: nth(i, 11),
        request_body: Some(format!("{{\"model\":\"{model}\"}}")),
        response_body: Some("{\"ok\":true}".into()),
        // Shapes older than the typed attempts: the API gives them back as stored.
        attempts: serde_json::from_value(
            json!([{"target_path": "config.targets[0]", "status": 503, "reason": "initial"},
                         {"target_path": "config.targets[1]", "status": status, "reason": "fallback"}]),
        )
        .unwrap(),
        error: (status >= 400).then(|| "upstream said \"no\", twice".to_string()),
        error_class: None,
    }
}

/// Whether record `i` is one of every `n` (`is_multiple_of` is newer than the workspace MSRV).
fn nth(i: usize, n: usize) -> bool {
    matches!(i % n, 0)
}

fn object(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

async fn seeded(count: usize) -> (Gateway, Vec<LogRecord>) {
    let gw = gateway().await;
    let mut records: Vec<LogRecord> = (0..count).map(synthetic).collect();
    gw.state.control.store.insert_logs(&mut records).await.unwrap();
    (gw, records)
}

fn admin() -> Vec<(&'static str, String)> {
    vec![("x-portkey-api-key", ADMIN_KEY.to_string())]
}

/// Ids of `records` matching `keep`, newest first.
fn expected(records: &[LogRecord], keep: impl Fn(&LogRecord) -> bool) -> Vec<String> {
    let mut matching: Vec<&LogRecord> = records.iter().filter(|r| keep(r)).collect();
    matching.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    matching.into_iter().map(|r| r.id.clone()).collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

/// Every id `GET /v1/logs?{query}` serves, following `next_cursor` with pages of `limit`.
async fn all_ids(gw: &Gateway, query: &str, limit: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor.as_deref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let answer = gw.get(&format!("/v1/logs?{query}&limit={limit}{after}"), &admin()).await;
        assert_eq!(answer.status, 200, "{query}: {}", answer.text);
        let page = answer.json();
        assert_eq!(page["object"], "list");
        assert!(page["data"].as_array().unwrap().len() <= limit as usize);
        out.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return out,
        }
    }
}

fn error_message(answer: &Answer) -> String {
    answer.json()["error"]["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn trace_id_finds_every_record_of_the_trace() {
    let (gw, _) = seeded(60).await;
    let answer = gw.get("/v1/logs?trace_id=trace-7", &admin()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(ids(&answer.json()), ["log-0023", "log-0022", "log-0021"]);
    assert_eq!(answer.json()["next_cursor"], Value::Null);
}

#[tokio::test]
async fn each_filter_returns_exactly_the_matching_records() {
    let (gw, records) = seeded(300).await;
    type Keep = fn(&LogRecord) -> bool;
    let cases: [(&str, Keep); 16] = [
        ("provider=anthropic", |r| r.provider == "anthropic"),
        ("model=gpt-35-turbo", |r| r.requested_model == "gpt-35-turbo"),
        ("model=gpt-4o-2024-08-06", |r| r.served_model.as_deref() == Some("gpt-4o-2024-08-06")),
        ("status=200", |r| r.status == 200),
        ("status=429", |r| r.status == 429),
        ("status=4xx", |r| (400..500).contains(&r.status)),
        ("status=5xx", |r| (500..600).contains(&r.status)),
        ("status=error", |r| r.status >= 400),
        ("virtual_key=vk-1", |r| r.virtual_key.as_deref() == Some("vk-1")),
        ("config=pc-main", |r| r.config_slug.as_deref() == Some("pc-main")),
        ("api_key_id=admin", |_| true),
        ("metadata.user=user-3", |r| r.metadata["user"] == "user-3"),
        ("metadata.user=user-3&metadata.env=dev", |r| r.metadata["user"] == "user-3" && r.metadata["env"] == "dev"),
        ("metadata.env=prod&provider=openai&status=200", |r| {
            r.metadata["env"] == "prod" && r.provider == "openai" && r.status == 200
        }),
        ("metadata.user=nobody", |_| false),
        ("provider=openai&model=claude-3-opus-20240229", |r| {
            r.provider == "openai" && r.requested_model == "claude-3-opus-20240229"
        }),
    ];
    for (query, keep) in cases {
        let want = expected(&records, keep);
        assert!(!want.is_empty() || query.contains("nobody"), "{query} should match some records");
        assert_eq!(all_ids(&gw, query, 1000).await, want, "{query}");
    }
}

#[tokio::test]
async fn from_is_inclusive_and_to_exclusive_in_unix_ms_or_rfc3339() {
    let (gw, records) = seeded(300).await;
    let want = expected(&records, |r| (BASE + 50_000..BASE + 100_000).contains(&r.created_at));
    assert_eq!(want.len(), 100);
    for query in [
        format!("from={}&to={}", BASE + 50_000, BASE + 100_000),
        "from=2024-06-10T06:14:10Z&to=2024-06-10T06:15:00Z".to_string(),
        "from=2024-06-10T08:14:10.000%2B02:00&to=2024-06-10T01:15:00-05:00".to_string(),
    ] {
        assert_eq!(all_ids(&gw, &query, 1000).await, want, "{query}");
    }
    let only_from = all_ids(&gw, "from=2024-06-10T06:15:00Z", 1000).await;
    assert_eq!(only_from, expected(&records, |r| r.created_at >= BASE + 100_000));
}

#[tokio::test]
async fn cursor_pagination_yields_every_row_exactly_once_newest_first() {
    let (gw, records) = seeded(300).await;
    let served = all_ids(&gw, "", 7).await;
    assert_eq!(served.len(), 300);
    assert_eq!(served.iter().collect::<HashSet<_>>().len(), 300, "no row twice");
    assert_eq!(served, expected(&records, |_| true));
    assert_eq!(
        all_ids(&gw, "status=200&metadata.env=dev", 9).await,
        expected(&records, |r| { r.status == 200 && r.metadata["env"] == "dev" })
    );
}

#[tokio::test]
async fn limit_is_between_one_and_a_thousand() {
    let (gw, _) = seeded(300).await;
    let one = gw.get("/v1/logs?limit=1", &admin()).await.json();
    assert_eq!(ids(&one), ["log-0299"]);
    assert!(one["next_cursor"].is_string());
    let default = gw.get("/v1/logs", &admin()).await.json();
    assert_eq!(ids(&default).len(), 50, "default page size");
    for limit in [300, 1000] {
        let page = gw.get(&format!("/v1/logs?limit={limit}"), &admin()).await.json();
        assert_eq!((ids(&page).len(), &page["next_cursor"]), (300, &Value::Null), "limit={limit}");
    }
    for (limit, shown) in [("0", "0"), ("1001", "1001"), ("5000", "5000"), ("-1", "\"-1\""), ("ten", "\"ten\"")] {
        let answer = gw.get(&format!("/v1/logs?limit={limit}"), &admin()).await;
        assert_eq!(answer.status, 400, "limit={limit}");
        assert_eq!(error_message(&answer), format!("limit: expected 1 to 1000, got {shown}"));
    }
}

#[tokio::test]
async fn bad_parameters_are_refused_naming_them() {
    let (gw, _) = seeded(3).await;
    let cases = [
        ("status=abc", "status: "),
        ("status=42", "status: "),
        ("from=yesterday", "from: expected Unix milliseconds or an RFC 3339 timestamp"),
        ("to=2024-13-01", "to: expected Unix milliseconds"),
        ("from=2000&to=1000", "to: must be after from"),
        ("provder=openai", "provder: unknown query parameter"),
        ("limit=5&limit=6", "limit: given more than once"),
        ("include_bodies=maybe", "include_bodies: expected true or false"),
        ("cursor=!!", "cursor is not one returned by this API"),
        ("metadata.bad%20key=x", "metadata key `bad key` must be"),
    ];
    for (query, message) in cases {
        let answer = gw.get(&format!("/v1/logs?{query}"), &admin()).await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.text);
        assert!(error_message(&answer).contains(message), "{query}: {}", answer.text);
        assert_eq!(answer.json()["error"]["type"], "invalid_request_error");
        assert_eq!(answer.header("x-portkey-gateway-exception"), Some("true"));
    }
}

#[tokio::test]
async fn one_log_comes_with_bodies_attempts_and_its_trace_feedback() {
    let (gw, records) = seeded(30).await;
    let feedback = Feedback {
        id: "fb-1".into(),
        trace_id: "trace-7".into(),
        value: -3,
        weight: 0.5,
        metadata: object(json!({"comment": "too long"})),
        created_at: BASE,
    };
    gw.state.control.store.insert_feedback(&feedback).await.unwrap();
    let answer = gw.get("/v1/logs/log-0021", &admin()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let mut body = answer.json();
    let got_feedback = body.as_object_mut().unwrap().remove("feedback").unwrap();
    assert_eq!(body, serde_json::to_value(&records[21]).unwrap(), "the whole record, attempts and bodies included");
    assert_eq!(got_feedback, json!([serde_json::to_value(&feedback).unwrap()]));
    assert_eq!(body["attempts"][1]["reason"], "fallback");

    let other = gw.get("/v1/logs/log-0001", &admin()).await.json();
    assert_eq!(other["feedback"], json!([]));
    let missing = gw.get("/v1/logs/no-such-log", &admin()).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["message"], "log \"no-such-log\" does not exist");
}

#[tokio::test]
async fn list_pages_leave_bodies_out_unless_asked() {
    let (gw, records) = seeded(5).await;
    let lean = gw.get("/v1/logs?limit=1", &admin()).await.json();
    let mut want = records[4].clone();
    (want.request_body, want.response_body) = (None, None);
    assert_eq!(lean["data"][0], serde_json::to_value(&want).unwrap());
    let full = gw.get("/v1/logs?limit=1&include_bodies=true", &admin()).await.json();
    assert_eq!(full["data"][0], serde_json::to_value(&records[4]).unwrap());
}

#[tokio::test]
async fn ndjson_export_streams_every_matching_record_as_one_line_each() {
    let (gw, records) = seeded(300).await;
    let answer = gw.get("/v1/logs/export?format=ndjson&status=200&metadata.env=prod", &admin()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("content-type"), Some("application/x-ndjson"));
    assert_eq!(answer.header("content-disposition"), Some("attachment; filename=\"switchboard-logs.ndjson\""));
    let lines: Vec<Value> = answer.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let want = expected(&records, |r| r.status == 200 && r.metadata["env"] == "prod");
    assert_eq!(lines.iter().map(|l| l["id"].as_str().unwrap().to_string()).collect::<Vec<_>>(), want);
    assert_eq!(lines[0]["request_body"], Value::Null, "bodies only when asked");
    let with_bodies = gw.get("/v1/logs/export?include_bodies=true&limit_free=1", &admin()).await;
    assert_eq!(with_bodies.status, 400, "unknown parameters are refused here too");
    let with_bodies = gw.get("/v1/logs/export?include_bodies=true", &admin()).await;
    let first: Value = serde_json::from_str(with_bodies.text.lines().next().unwrap()).unwrap();
    assert_eq!(first, serde_json::to_value(&records[299]).unwrap());
}

#[tokio::test]
async fn export_follows_the_cursor_across_store_pages() {
    let (gw, _) = seeded(2345).await;
    let answer = gw.get("/v1/logs/export", &admin()).await;
    assert_eq!(answer.status, 200);
    let ids: Vec<String> =
        answer.text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().into()).collect();
    assert_eq!(ids.len(), 2345);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 2345);
    assert_eq!((ids[0].as_str(), ids[2344].as_str()), ("log-2344", "log-0000"));
}

/// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field, mut quoted) = (Vec::new(), Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn csv_export_has_the_fixed_columns_one_row_per_log_and_quotes_fields() {
    let (gw, records) = seeded(300).await;
    let answer = gw.get("/v1/logs/export?format=csv", &admin()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(answer.header("content-disposition"), Some("attachment; filename=\"switchboard-logs.csv\""));
    assert!(answer.text.contains(",\"upstream said \"\"no\"\", twice\"\r\n"), "quoted as RFC 4180 says");
    let rows = parse_csv(&answer.text);
    let header = "id,created_at,trace_id,provider,requested_model,served_model,status,latency_ms,ttfb_ms,stream,\
                  retry_count,prompt_tokens,completion_tokens,total_tokens,cost_usd,unpriced,target_path,config_slug,\
                  virtual_key,error";
    assert_eq!(rows[0].join(","), header);
    assert_eq!(rows.len(), 301);
    assert!(rows.iter().all(|r| r.len() == 20));
    let row_10 = rows.iter().find(|r| r[0] == "log-0010").unwrap();
    let r = &records[10];
    assert_eq!(row_10[1], "2024-06-10T06:13:25.000Z");
    assert_eq!(row_10[6..8], [r.status.to_string(), r.latency_ms.to_string()]);
    assert_eq!((row_10[15].as_str(), row_10[19].as_str()), ("false", "upstream said \"no\", twice"));
    let row_11 = rows.iter().find(|r| r[0] == "log-0011").unwrap();
    assert_eq!((row_11[14].as_str(), row_11[15].as_str(), row_11[17].as_str()), ("", "true", ""));
    let empty = gw.get("/v1/logs/export?format=csv&provider=nobody", &admin()).await;
    assert_eq!(parse_csv(&empty.text).len(), 1, "just the header");
}

#[tokio::test]
async fn export_refuses_bad_format_and_paging_parameters() {
    let (gw, _) = seeded(3).await;
    let answer = gw.get("/v1/logs/export?format=xml", &admin()).await;
    assert_eq!((answer.status, error_message(&answer).as_str()), (400, "format: expected ndjson or csv, got \"xml\""));
    let answer = gw.get("/v1/logs/export?limit=10", &admin()).await;
    assert!(error_message(&answer).starts_with("limit: unknown query parameter"), "{}", answer.text);
    let answer = gw.get("/v1/logs/export?cursor=nope", &admin()).await;
    assert_eq!(answer.status, 400, "a bad cursor is a 400, not a broken stream");
}

/// Nearest rank: the value at ⌈p·n/100⌉ of the sorted latencies.
fn percentile(latencies: &mut [i64], p: usize) -> i64 {
    latencies.sort_unstable();
    latencies[(p * latencies.len()).div_ceil(100) - 1]
}

fn summary_of(records: &[&LogRecord]) -> Value {
    let sum = |f: fn(&LogRecord) -> Option<i64>| records.iter().filter_map(|r| f(r)).sum::<i64>();
    let mut latencies: Vec<i64> = records.iter().map(|r| r.latency_ms).collect();
    json!({
        "requests": records.len(),
        "errors": records.iter().filter(|r| r.status >= 400).count(),
        "unpriced": records.iter().filter(|r| r.unpriced).count(),
        "prompt_tokens": sum(|r| r.prompt_tokens),
        "completion_tokens": sum(|r| r.completion_tokens),
        "total_tokens": sum(|r| r.total_tokens),
        "latency_ms": {"p50": percentile(&mut latencies, 50), "p95": percentile(&mut latencies, 95),
                       "p99": percentile(&mut latencies, 99)},
    })
}

#[tokio::test]
async fn analytics_summary_adds_up_the_records_of_each_group() {
    let (gw, records) = seeded(300).await;
    let answer = gw.get("/v1/analytics/summary?group_by=provider", &admin()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!((&body["object"], &body["group_by"]), (&json!("list"), &json!("provider")));
    let groups = body["data"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    for group in groups {
        let key = group["key"].as_str().unwrap();
        let mine: Vec<&LogRecord> = records.iter().filter(|r| r.provider == key).collect();
        let mut got = group.clone();
        let cost = got.as_object_mut().unwrap().remove("cost_usd").unwrap().as_f64().unwrap();
        got.as_object_mut().unwrap().remove("key");
        assert_eq!(got, summary_of(&mine), "{key}");
        let want_cost: f64 = mine.iter().filter_map(|r| r.cost_usd).sum();
        assert!((cost - want_cost).abs() < 1e-9, "{key}: {cost} vs {want_cost}");
    }
    let by_model = gw.get("/v1/analytics/summary?group_by=model", &admin()).await.json();
    let gpt4o = by_model["data"].as_array().unwrap().iter().find(|g| g["key"] == "gpt-4o-2024-08-06").unwrap();
    let served: Vec<&LogRecord> =
        records.iter().filter(|r| r.served_model.as_deref() == Some("gpt-4o-2024-08-06")).collect();
    assert_eq!(gpt4o["requests"], served.len());
    let by_config = gw.get("/v1/analytics/summary?group_by=config", &admin()).await.json();
    let no_config = by_config["data"].as_array().unwrap().iter().find(|g| g["key"].is_null()).unwrap();
    assert_eq!(no_config["requests"], 200, "requests without a saved config are one null group");
}

#[tokio::test]
async fn analytics_percentiles_and_sums_on_known_latencies() {
    let gw = gateway().await;
    let mut rows: Vec<LogRecord> = [(40, 200, 0.25), (10, 200, 0.5), (30, 502, 0.0), (20, 200, 0.125)]
        .iter()
        .enumerate()
        .map(|(i, (latency, status, cost))| LogRecord {
            latency_ms: *latency,
            status: *status,
            cost_usd: Some(*cost),
            unpriced: false,
            provider: "openai".into(),
            created_at: BASE + i as i64,
            ..synthetic(i + 1)
        })
        .collect();
    gw.state.control.store.insert_logs(&mut rows).await.unwrap();
    let body = gw.get("/v1/analytics/summary", &admin()).await.json();
    assert_eq!(body["group_by"], "provider", "provider is the default grouping");
    let want = json!([{"key": "openai", "requests": 4, "errors": 1, "unpriced": 0, "prompt_tokens": 11 + 12 + 13 + 14,
        "completion_tokens": 6 + 7 + 8 + 9, "total_tokens": 17 + 19 + 21 + 23, "cost_usd": 0.875,
        "latency_ms": {"p50": 20, "p95": 40, "p99": 40}}]);
    assert_eq!(body["data"], want);
    let later = gw.get(&format!("/v1/analytics/summary?from={}", BASE + 2), &admin()).await.json();
    assert_eq!(later["data"][0]["requests"], 2);
    assert_eq!(later["data"][0]["latency_ms"], json!({"p50": 20, "p95": 30, "p99": 30}));
    let bad = gw.get("/v1/analytics/summary?group_by=team", &admin()).await;
    assert_eq!(bad.status, 400);
    assert!(error_message(&bad).starts_with("group_by: cannot group by `team`"), "{}", bad.text);
}

async fn api_key(gw: &Gateway, key: &str, scope: ApiKeyScope) {
    let new = NewApiKey {
        name: format!("{scope:?}"),
        key_hash: switchboard_store::hash_api_key(key),
        hint: "sb-…".into(),
        scope,
        allowed_configs: vec![],
        allowed_virtual_keys: vec![],
        default_config: None,
        rate_limits: None,
        usage_limits: None,
    };
    gw.state.control.store.create_api_key(&new).await.unwrap();
}

async fn send(gw: &Gateway, method: &str, path: &str, key: Option<&str>, body: &Value) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new().request(method.clone(), format!("{}{path}", gw.url));
    if let Some(key) = key {
        req = req.header("x-portkey-api-key", key);
    }
    if method != reqwest::Method::GET {
        req = req.header("content-type", "application/json").body(body.to_string());
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    Answer { status, headers, text: resp.text().await.unwrap() }
}

#[tokio::test]
async fn every_route_needs_an_admin_scoped_key() {
    let (gw, _) = seeded(3).await;
    api_key(&gw, "sb-gateway-only", ApiKeyScope::Gateway).await;
    api_key(&gw, "sb-second-admin", ApiKeyScope::Admin).await;
    let feedback = Feedback {
        id: "fb-auth".into(),
        trace_id: "trace-0".into(),
        value: 1,
        weight: 1.0,
        metadata: Map::new(),
        created_at: BASE,
    };
    gw.state.control.store.insert_feedback(&feedback).await.unwrap();
    let routes = [
        ("GET", "/v1/logs", json!(null)),
        ("GET", "/v1/logs/log-0001", json!(null)),
        ("GET", "/v1/logs/export?format=csv", json!(null)),
        ("GET", "/v1/analytics/summary", json!(null)),
        ("POST", "/v1/logs", json!({"request": {"body": {"model": "m"}}, "response": {"status": 200}})),
        ("POST", "/v1/feedback", json!({"trace_id": "trace-0", "value": 1})),
        ("PUT", "/v1/feedback/fb-auth", json!({"value": 2})),
    ];
    for (method, path, body) in &routes {
        let none = send(&gw, method, path, None, body).await;
        assert_eq!((none.status, &none.json()["error"]["type"]), (401, &json!("authentication_error")), "{path}");
        let wrong = send(&gw, method, path, Some("sb-not-a-key"), body).await;
        assert_eq!(wrong.status, 401, "{path}");
        let gateway_scope = send(&gw, method, path, Some("sb-gateway-only"), body).await;
        assert_eq!(gateway_scope.status, 403, "{path}");
        assert_eq!(gateway_scope.json()["error"]["type"], "permission_error");
        for key in [ADMIN_KEY, "sb-second-admin"] {
            let ok = send(&gw, method, path, Some(key), body).await;
            assert_eq!(ok.status, 200, "{method} {path} with {key}: {}", ok.text);
        }
    }
}

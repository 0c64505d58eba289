//! Two `switchboard serve` processes on one PostgreSQL database and one Redis, as a user
//! runs them: a target whose breaker one of them trips is skipped by the other, and a
//! virtual key at 5 requests a minute serves 5 in total, wherever the requests land.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::services::*;
use common::*;
use serde_json::{json, Value};

struct Pair {
    a: Process,
    b: Process,
    client: reqwest::Client,
    database: String,
}

async fn pair() -> Option<Pair> {
    let database = postgres_schema().await?;
    let (redis, namespace) = (machine_redis(), redis_namespace());
    let start = || {
        let dir = std::env::temp_dir().join(format!("switchboard-pair-{}", uuid::Uuid::new_v4().simple()));
        let args = ["--database-url", &database, "--redis-url", &redis, "--redis-namespace", &namespace];
        Process::serve(&dir, &args)
    };
    Some(Pair { a: start(), b: start(), client: reqwest::Client::new(), database })
}

impl Pair {
    async fn post(&self, base: &str, path: &str, headers: &[(&str, String)], body: &Value) -> (u16, Value) {
        let mut request = self.client.post(format!("{base}{path}")).header("x-portkey-api-key", ADMIN_KEY);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.header("content-type", "application/json").body(body.to_string()).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn chat(&self, base: &str, config: &Value) -> (u16, Value) {
        self.post(base, "/v1/chat/completions", &[("x-portkey-config", config.to_string())], &chat_body()).await
    }

    /// The state `base`'s explainer gives `path` under `config`.
    async fn state(&self, base: &str, config: &Value, path: &str) -> String {
        let body = json!({"config": config, "request": {"model": "gpt-3.5-turbo"}});
        let (_, explained) = self.post(base, "/v1/route/explain", &[], &body).await;
        let order = explained["order"].as_array().cloned().unwrap_or_default();
        let entry = order.iter().find(|e| e["target_path"] == path);
        entry.and_then(|e| e["state"].as_str()).unwrap_or_default().to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_tripped_through_one_process_is_skipped_by_the_other() {
    let Some(pair) = pair().await else { return };
    let (primary, secondary) = (mock("primary").await, mock("secondary").await);
    primary.script(Script { status: Some(503), count: -1, ..Script::default() });
    let config = json!({"strategy": {"mode": "fallback", "cb_config": {"failure_threshold": 2, "cooldown_interval": 60000}},
        "targets": [target("openai", &primary), target("openai", &secondary)]});
    for _ in 0..2 {
        assert_eq!(pair.chat(&pair.a.url, &config).await.0, 200);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while pair.state(&pair.b.url, &config, "config.targets[0]").await != "open" {
        assert!(Instant::now() < deadline, "process b never saw the breaker open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..10 {
        let (status, answer) = pair.chat(&pair.b.url, &config).await;
        assert_eq!(status, 200);
        assert!(answer["choices"][0]["message"]["content"].as_str().unwrap().contains("secondary"));
    }
    assert_eq!(primary.hits().len(), 2, "process b never called the tripped primary");
    drop_schema(&pair.database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5_rpm_virtual_key_serves_5_requests_in_total_across_two_processes() {
    let Some(pair) = pair().await else { return };
    let provider = mock("limited").await;
    let key = json!({"name": "limited", "provider": "openai", "key": "sk-test-0000000000000001",
        "custom_host": format!("{}/v1", provider.base_url()),
        "rate_limits": [{"type": "requests", "unit": "rpm", "value": 5}]});
    let (status, created) = pair.post(&pair.a.url, "/v1/virtual-keys", &[], &key).await;
    assert_eq!(status, 200, "{created}");
    let config = json!({"virtual_key": created["slug"]});
    let mut statuses = Vec::new();
    for i in 0..8 {
        let base = if i % 2 == 0 { &pair.a.url } else { &pair.b.url };
        let (status, answer) = pair.chat(base, &config).await;
        if status == 429 {
            assert_eq!(answer["error"]["code"], "rate_limit_exceeded", "{answer}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429], "five in total, wherever they arrive");
    assert_eq!(provider.hits().len(), 5);
    drop_schema(&pair.database).await;
}

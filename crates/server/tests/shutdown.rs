//! The real binary: a clean stop (SIGTERM) lets in-flight requests finish and writes every
//! request log before exiting; after a restart the logs are all there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command};

use common::*;
use switchboard_store::{LogQuery, StoreLocation};

/// Starts `switchboard serve --port 0` on `dir`; returns the child and its base URL.
fn start(dir: &std::path::Path) -> (Child, String) {
    start_with(dir, &[])
}

fn start_with(dir: &std::path::Path, extra: &[&str]) -> (Child, String) {
    services::spawn_serve(dir, extra)
}

fn sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_and_loses_no_log() {
    let provider = mock("slow").await;
    provider.script(Script { delay_ms: 300, ..Script::default() });
    let dir = std::env::temp_dir().join(format!("switchboard-shutdown-{}", uuid::Uuid::new_v4().simple()));
    let (mut child, url) = start(&dir);
    let client = reqwest::Client::new();
    let config = target("openai", &provider).to_string();
    let sends = (0..40).map(|i| {
        let (client, url, config) = (client.clone(), url.clone(), config.clone());
        switchboard::support::tasks::spawn(async move {
            let response = client
                .post(format!("{url}/v1/chat/completions"))
                .header("x-portkey-api-key", ADMIN_KEY)
                .header("x-portkey-config", config)
                .header("x-portkey-trace-id", format!("shutdown-{i}"))
                .header("content-type", "application/json")
                .body(chat_body().to_string())
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        })
    });
    let sends: Vec<_> = sends.collect();
    while provider.hits().len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    sigterm(&child);
    for send in sends {
        assert_eq!(send.await.unwrap(), 200, "an in-flight request was cut by the shutdown");
    }
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(exit.success(), "{exit:?}");

    let (mut again, _) = start(&dir);
    let store = switchboard_store::open(&StoreLocation::Sqlite(dir.clone())).await.unwrap();
    let page = store.query_logs(&LogQuery { limit: Some(1000), ..LogQuery::default() }).await.unwrap();
    let mut traces: Vec<_> = page.items.iter().filter_map(|r| r.trace_id.clone()).collect();
    traces.sort();
    let mut want: Vec<_> = (0..40).map(|i| format!("shutdown-{i}")).collect();
    want.sort();
    assert_eq!(traces, want);
    sigterm(&again);
    again.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_the_otlp_queue_after_the_in_flight_requests() {
    let (collector, received) = otlp_collector().await;
    let provider = mock("slow").await;
    provider.script(Script { delay_ms: 300, ..Script::default() });
    let dir = std::env::temp_dir().join(format!("switchboard-shutdown-{}", uuid::Uuid::new_v4().simple()));
    let (mut child, url) = start_with(&dir, &["--otlp-endpoint", &collector]);
    let client = reqwest::Client::new();
    let config = target("openai", &provider).to_string();
    let sends: Vec<_> = (0..10)
        .map(|_| {
            let request = client
                .post(format!("{url}/v1/chat/completions"))
                .header("x-portkey-api-key", ADMIN_KEY)
                .header("x-portkey-config", config.clone())
                .header("content-type", "application/json")
                .body(chat_body().to_string());
            switchboard::support::tasks::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    while provider.hits().len() < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    sigterm(&child);
    for send in sends {
        assert_eq!(send.await.unwrap(), 200);
    }
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(exit.success(), "{exit:?}");
    let exports = received.lock().unwrap().clone();
    let roots = exports.iter().flat_map(otlp_spans).filter(|span| span.parent_span_id.is_empty()).count();
    assert_eq!(roots, 10, "every request's span reached the collector before the process exited");
}

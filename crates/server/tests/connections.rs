//! Hostile clients at the connection level: a slowloris head, thousands of idle
//! connections, and a handler that panics. Raw TCP, so the test sees what a socket sees.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use common::*;
use switchboard::http::listen::ListenOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn gateway_listening(options: ListenOptions) -> Gateway {
    count_panics();
    let control = Arc::new(control().await);
    let (logs, writer) = switchboard::observe::spawn_writer(
        control.store.clone(),
        10_000,
        Arc::new(switchboard::observe::metrics::Metrics::default()),
    );
    let upstream = switchboard::gateway::upstream::Upstream::new(Duration::from_secs(2)).unwrap();
    let state = Arc::new(switchboard::state::AppState::new(settings(), upstream, control, logs));
    serve_listening(state, Some(writer), options).await
}

fn addr(gw: &Gateway) -> String {
    gw.url.trim_start_matches("http://").to_string()
}

/// Reads until the peer closes; what it sent before.
async fn read_to_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_slowloris_head_is_disconnected_after_the_header_timeout() {
    let options = ListenOptions { header_read_timeout: Duration::from_millis(300), ..ListenOptions::default() };
    let gw = gateway_listening(options).await;
    let mut slow = TcpStream::connect(addr(&gw)).await.unwrap();
    slow.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nx-portkey-api-key: sb").await.unwrap();
    // A hang here would be the bug: nextest's timeout fails the test.
    let answer = read_to_close(&mut slow).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "closed, at most with a 408: {text}");
    let health = gw.get("/health", &[]).await;
    assert_eq!(health.status, 200, "the gateway still serves");
    assert_no_panics();
}

#[tokio::test]
async fn thousands_of_idle_connections_are_held_while_requests_are_served() {
    let gw = gateway_listening(ListenOptions::default()).await;
    let provider = mock("busy").await;
    let mut idle = Vec::with_capacity(3_000);
    for _ in 0..3_000 {
        idle.push(TcpStream::connect(addr(&gw)).await.unwrap());
    }
    for _ in 0..20 {
        let answer = gw.chat(&target("openai", &provider), &chat_body()).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    // The idle connections are still open: each can still send a request and be answered.
    for tcp in idle.iter_mut().step_by(500) {
        tcp.write_all(b"GET /health HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n").await.unwrap();
        let answer = read_to_close(tcp).await;
        assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    }
    assert_eq!(gw.logs().await.len(), 20);
    assert_no_panics();
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_connection_survives() {
    let _ = count_panics();
    let router = axum::Router::new()
        .route("/boom", get(|| async { panic!("scripted panic") as &'static str }))
        .route("/fine", get(|| async { "fine" }));
    let app = switchboard::http::layers::catch_panics(router);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap();
    switchboard::support::tasks::spawn(switchboard::http::listen::serve(
        listener,
        app,
        ListenOptions::default(),
        std::future::pending(),
    ));
    let mut tcp = TcpStream::connect(local).await.unwrap();
    tcp.write_all(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    let first = read_response(&mut tcp).await;
    assert!(first.starts_with("HTTP/1.1 500"), "{first}");
    assert!(first.to_ascii_lowercase().contains("x-portkey-gateway-exception: true"), "{first}");
    assert!(first.contains("\"code\":\"internal\""), "{first}");
    tcp.write_all(b"GET /fine HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    let second = String::from_utf8_lossy(&read_to_close(&mut tcp).await).to_string();
    assert!(second.starts_with("HTTP/1.1 200") && second.ends_with("fine"), "same connection: {second}");
}

/// One HTTP/1.1 response with a `content-length` body, read from a kept-alive connection.
async fn read_response(tcp: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&out));
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
    }
}

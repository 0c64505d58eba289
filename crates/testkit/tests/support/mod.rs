//! A tiny raw HTTP/1.1 client for the mock's tests: writes one request with `Connection: close`, reads until the
//! server closes (or, with [`open`], a piece at a time, for streams that never end), and tells whether the body
//! ended cleanly (last chunk or full length) and where its chunks began — which a real client library would hide,
//! and which the cut, stall and events scripts are about.

// Not `expect`: each test binary compiles this module and uses a different part of it.
#![allow(dead_code, reason = "shared by several test binaries")]

use serde_json::Value;
use std::error::Error;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub type TestResult<T = ()> = Result<T, Box<dyn Error>>;

/// A response as read off the wire.
pub struct Raw {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body's whole chunks as sent (chunked bodies only).
    pub chunks: Vec<Vec<u8>>,
    /// The body ended as HTTP says it should (a last chunk, or the whole `Content-Length`).
    pub complete: bool,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> TestResult<Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `data:` payloads of an SSE body, in order.
    pub fn sse_data(&self) -> Vec<String> {
        self.text().lines().filter_map(|l| l.strip_prefix("data: ")).map(str::to_string).collect()
    }

    /// The `event:` names of an SSE body, in order.
    pub fn sse_events(&self) -> Vec<String> {
        self.text().lines().filter_map(|l| l.strip_prefix("event: ")).map(str::to_string).collect()
    }
}

/// Sends one request and reads the whole answer. `body`, when given, is sent as JSON.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> TestResult<Raw> {
    let mut open = open(addr, method, target, headers, body).await?;
    parse(&read_all(&mut open.stream).await)
}

/// A request whose answer is read a piece at a time.
pub struct Open {
    stream: TcpStream,
    wire: Vec<u8>,
}

/// Sends one request without reading the answer.
pub async fn open(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> TestResult<Open> {
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut head = format!("{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if body.is_some() {
        head.push_str("content-type: application/json\r\n");
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", payload.len()));
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(payload.as_bytes()).await?;
    Ok(Open { stream, wire: Vec::new() })
}

impl Open {
    /// Reads once; `0` when the server closed.
    pub async fn read_more(&mut self) -> TestResult<usize> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        self.wire.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads until the answer holds `n` body chunks.
    pub async fn read_chunks(&mut self, n: usize) -> TestResult<Raw> {
        loop {
            if let Ok(raw) = self.so_far() {
                if raw.chunks.len() >= n {
                    return Ok(raw);
                }
            }
            if self.read_more().await? == 0 {
                return Err(format!("the server closed before {n} chunks: {:?}", self.so_far()?.text()).into());
            }
        }
    }

    /// The answer as read so far.
    pub fn so_far(&self) -> TestResult<Raw> {
        parse(&self.wire)
    }
}

/// Reads until the peer closes; a reset ends the read like a close does (a cut stream may reset).
async fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(n @ 1..) = stream.read(&mut chunk).await {
        buf.extend_from_slice(&chunk[..n]);
    }
    buf
}

fn parse(wire: &[u8]) -> TestResult<Raw> {
    let end = find(wire, b"\r\n\r\n").ok_or("no end of headers")?;
    let head = std::str::from_utf8(&wire[..end])?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let status = status_line.split(' ').nth(1).ok_or("no status")?.parse()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &wire[end + 4..];
    let mut raw = Raw { status, headers, body: Vec::new(), chunks: Vec::new(), complete: false };
    if raw.header("transfer-encoding") == Some("chunked") {
        (raw.body, raw.chunks, raw.complete) = dechunk(rest);
    } else {
        let length: Option<usize> = raw.header("content-length").and_then(|v| v.parse().ok());
        raw.body = rest.to_vec();
        raw.complete = length == Some(rest.len());
    }
    Ok(raw)
}

/// Decodes a chunked body: the bytes so far (a partial last chunk included), the chunks read whole with their
/// closing CRLF, and `true` when the last (zero-size) chunk arrived.
fn dechunk(mut rest: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>, bool) {
    let (mut body, mut chunks) = (Vec::new(), Vec::new());
    while let Some(line_end) = find(rest, b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let Ok(size) = usize::from_str_radix(size_text.trim(), 16) else {
            break;
        };
        if size == 0 {
            return (body, chunks, true);
        }
        let start = line_end + 2;
        let Some(data) = rest.get(start..start + size) else {
            body.extend_from_slice(&rest[start.min(rest.len())..]);
            break;
        };
        body.extend_from_slice(data);
        let Some(after) = rest.get(start + size..).and_then(|r| r.strip_prefix(b"\r\n")) else {
            break;
        };
        chunks.push(data.to_vec());
        rest = after;
    }
    (body, chunks, false)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

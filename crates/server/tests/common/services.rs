//! The real services multi-instance tests run on: a fresh PostgreSQL schema, the machine's
//! Redis, a `redis-server` of the test's own (to stop mid-test), and the gateway binary as a
//! process of its own.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection as _;

/// A fresh schema in the test database; `None` with `SWITCHBOARD_SKIP_POSTGRES=1`.
pub async fn postgres_schema() -> Option<String> {
    if std::env::var("SWITCHBOARD_SKIP_POSTGRES").as_deref() == Ok("1") {
        #[expect(clippy::print_stderr, reason = "a test saying it skipped, where the test runner shows it")]
        {
            eprintln!("SWITCHBOARD_SKIP_POSTGRES=1: skipping");
        }
        return None;
    }
    let url = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let schema = format!("gw_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL unreachable at {url}: {e} (SWITCHBOARD_SKIP_POSTGRES=1 skips)"));
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.unwrap();
    Some(format!("{url}?options=-c%20search_path%3D{schema}"))
}

pub async fn drop_schema(url: &str) {
    let (base, schema) = url.split_once("?options=-c%20search_path%3D").unwrap();
    let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await.unwrap();
}

pub fn machine_redis() -> String {
    std::env::var("SWITCHBOARD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A Redis key namespace of the test's own.
pub fn redis_namespace() -> String {
    format!("test-{}:", uuid::Uuid::new_v4().simple())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `redis-server` of the test's own on `port`, killed when stopped or dropped.
pub struct OwnRedis(Child);

impl OwnRedis {
    pub async fn start(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("this test needs redis-server on the PATH (apt-get install redis-server): {e}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        OwnRedis(child)
    }

    pub fn stop(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub const MASTER_KEY: &str = "0707070707070707070707070707070707070707070707070707070707070707";

/// Starts `switchboard serve --port 0 --data-dir DIR EXTRA…`; returns the child and its base
/// URL, read from its "listening on" line.
pub fn spawn_serve(dir: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env("SWITCHBOARD_ADMIN_KEY", super::ADMIN_KEY)
        .env("SWITCHBOARD_MASTER_KEY", MASTER_KEY)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the server exited before listening").unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.trim().to_string();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

/// A gateway process killed when dropped.
pub struct Process {
    pub child: Child,
    pub url: String,
}

impl Process {
    pub fn serve(dir: &std::path::Path, extra: &[&str]) -> Process {
        let (child, url) = spawn_serve(dir, extra);
        Process { child, url }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

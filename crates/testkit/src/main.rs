//! `mock-provider`: the mock provider as a process, for the end-to-end tests.
//!
//! `mock-provider --port 0 --name openai-a` prints exactly one line, `listening on http://127.0.0.1:PORT`, once
//! bound, then serves until interrupted or killed. Dev-only, so plain stdout is its interface.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use switchboard_testkit::MockProvider;

const USAGE: &str = "usage: mock-provider [--port PORT] [--name NAME]";

struct Args {
    port: u16,
    name: String,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args { port: 0, name: "mock".to_string() };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--port" => parsed.port = value.parse().map_err(|_| format!("bad port `{value}`"))?,
            "--name" => parsed.name = value,
            _ => return Err(format!("unknown argument `{flag}`\n{USAGE}")),
        }
    }
    Ok(parsed)
}

async fn run() -> Result<(), String> {
    let args = parse_args(std::env::args().skip(1))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let mock = MockProvider::start_on(addr, &args.name).await.map_err(|e| format!("cannot bind {addr}: {e}"))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", mock.base_url())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(stdout);
    tokio::signal::ctrl_c().await.map_err(|e| format!("cannot wait for a signal: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            writeln!(std::io::stderr(), "mock-provider: {message}").ok();
            ExitCode::FAILURE
        }
    }
}

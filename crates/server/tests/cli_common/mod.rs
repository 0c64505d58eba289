//! Helpers for tests that run the real `switchboard` binary on a temporary data directory:
//! a clean environment (no SWITCHBOARD_* leaking in from the caller), outputs captured as
//! text, `--json` outputs parsed, and a bounded wait for a process that should exit.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Variables that would change what the binary does if inherited.
const CLEARED: [&str; 8] = [
    "SWITCHBOARD_MASTER_KEY",
    "SWITCHBOARD_DATA_DIR",
    "SWITCHBOARD_DATABASE_URL",
    "SWITCHBOARD_CONFIG_FILE",
    "SWITCHBOARD_ADMIN_KEY",
    "SWITCHBOARD_LOG_FORMAT",
    "SWITCHBOARD_PORT",
    "RUST_LOG",
];

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn data(&self) -> PathBuf {
        self.0.join("data")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run printed.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts success and parses stdout as JSON.
    pub fn json(&self) -> Value {
        assert_eq!(self.code, Some(0), "{self:?}");
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "{self:?}");
        self
    }

    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// The binary with a clean environment.
pub fn switchboard() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    for var in CLEARED {
        command.env_remove(var);
    }
    command.stdin(Stdio::null());
    command
}

/// Runs a control-plane command on `data` with extra env vars.
pub fn run_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = switchboard();
    command.args(args).arg("--data-dir").arg(data);
    command.envs(env.iter().copied());
    Run::from(command.output().unwrap())
}

pub fn run(data: &Path, args: &[&str]) -> Run {
    run_env(data, args, &[])
}

/// Runs a command with `input` on stdin.
pub fn run_stdin(data: &Path, args: &[&str], input: &str) -> Run {
    let mut command = switchboard();
    command.args(args).arg("--data-dir").arg(data).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    Run::from(child.wait_with_output().unwrap())
}

/// Waits for a process that is expected to exit on its own; kills it and fails after `limit`.
pub fn wait_exit(mut child: Child, limit: Duration) -> Run {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("the process did not exit within {limit:?}");
        }
        #[expect(clippy::disallowed_methods, reason = "a plain #[test] polling a child process; no runtime to block")]
        std::thread::sleep(Duration::from_millis(20));
    }
    Run::from(child.wait_with_output().unwrap())
}

//! The `switchboard` binary: parses the command line, then either runs the server (with the
//! process's logging) or one control-plane command (quiet logging, result on stdout, one
//! `error: …` line and exit code 1 on failure; clap exits with 2 on a usage error).

use std::process::ExitCode;

use clap::Parser;
use switchboard::cli::commands::{self, output, CommandError};
use switchboard::cli::{Cli, Command, LogFormat};

/// mimalloc: the request path allocates a lot (headers, JSON maps, log records); with glibc's
/// malloc ~12 % of the core went to it. Max rps without logs 16.5k -> 22k in a same-core
/// check (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.log_format;
    match cli.command {
        Command::Serve(args) => serve(format, *args),
        Command::VirtualKeys(args) => command(format, commands::virtual_keys::run(args)),
        Command::Configs(args) => command(format, commands::configs::run(args)),
        Command::ApiKeys(args) => command(format, commands::api_keys::run(args)),
        Command::RotateMasterKey(args) => command(format, commands::rotate::run(args)),
    }
}

fn serve(format: LogFormat, args: switchboard::cli::ServeArgs) -> ExitCode {
    switchboard::cli::telemetry::init(format);
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| switchboard::serve::StartError::Runtime(e.to_string()))
        .and_then(|runtime| runtime.block_on(switchboard::serve::run(args)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

fn command(format: LogFormat, work: impl std::future::Future<Output = Result<(), CommandError>>) -> ExitCode {
    commands::init_logging(format);
    match commands::block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::error(&err);
            ExitCode::FAILURE
        }
    }
}

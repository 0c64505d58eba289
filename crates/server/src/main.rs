//! The `switchboard` binary: parses the command line, sets up logging and runs the server.

use clap::Parser;
use switchboard::cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    switchboard::telemetry::init(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => run_serve(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_serve(args: switchboard::cli::ServeArgs) -> Result<(), switchboard::serve::StartError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| switchboard::serve::StartError::Runtime(e.to_string()))?;
    runtime.block_on(switchboard::serve::run(args))
}

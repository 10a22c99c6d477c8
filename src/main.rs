//! Binary entry point: parse the command line, start logging, dispatch.

use std::process::ExitCode;

use clap::Parser as _;
use samskap::cli::{Cli, Command};
use samskap::telemetry::{self, LogFormat};

/// See Cargo.toml: glibc's allocator was a third of a dashboard's time under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match LogFormat::from_env() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("invalid configuration:\n  {e}");
            return ExitCode::from(samskap::commands::EXIT_CONFIG);
        }
    };
    let default_filter = match cli.command {
        Command::Serve { .. } => "info",
        _ => "warn",
    };
    telemetry::init(format, default_filter);
    match samskap::commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! Binary entry point: parse the command line, start logging, dispatch.

use std::process::ExitCode;

use clap::Parser as _;
use samskap::cli::{Cli, Command};
use samskap::infra::telemetry::{self, LogFormat};

/// See Cargo.toml: glibc's allocator was a third of a dashboard's time under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Everything samskap writes (the SQLite database and its WAL and SHM files, the data
    // and mail folders, invitation e-mails with live links, export bundles and their
    // working folders) holds personal data: readable by this user only (files 0600,
    // folders 0700), whatever the shell's umask.
    #[cfg(target_os = "linux")]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    let format = match LogFormat::from_env() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("invalid configuration:\n  {e}");
            return ExitCode::from(samskap::cli::commands::EXIT_CONFIG);
        }
    };
    let default_filter = match cli.command {
        Command::Serve { .. } => "info",
        _ => "warn",
    };
    telemetry::init(format, default_filter);
    match samskap::cli::commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

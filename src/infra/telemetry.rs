//! Logging: `tracing` with `RUST_LOG` filtering, human-readable by default and JSON lines
//! with `LOG_FORMAT=json`. Logs go to stderr so command output on stdout stays clean.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Output format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// Reads `LOG_FORMAT` (`text` or `json`; unset means `text`).
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("LOG_FORMAT").as_deref() {
            Err(_) | Ok("" | "text") => Ok(Self::Text),
            Ok("json") => Ok(Self::Json),
            Ok(other) => Err(format!("LOG_FORMAT: expected text or json, got {other:?}")),
        }
    }
}

/// Installs the global subscriber. `default_filter` applies when `RUST_LOG` is unset.
pub fn init(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_target(false),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
    // A second init (tests spawning several apps) is harmless: keep the first subscriber.
    drop(result);
}

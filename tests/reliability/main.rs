//! The reliability harness (issue 9): the real `samskap` binary under load while things
//! break — the server killed with SIGKILL, PostgreSQL stopped and started, the SMTP server
//! gone during a reminder run — and afterwards a check that nothing acknowledged was lost,
//! nothing was stored twice, and the app came back by itself.
//!
//! Every test here is short enough for the test suite; `perf/crash.sh` runs the long
//! versions (`SAMSKAP_CRASH_SECONDS`, `SAMSKAP_CRASH_CONNECTIONS`). The tests of this binary
//! run one at a time (see [`serial`]): each drives the machine as hard as it can, and two
//! at once would only measure each other.

#[path = "../api/helpers.rs"]
#[allow(
    dead_code,
    reason = "shared with the API tests; this binary uses only part of it"
)]
mod helpers;
#[path = "../api/smtp.rs"]
#[allow(
    dead_code,
    reason = "shared with the API tests; this binary uses only part of it"
)]
mod smtp;

mod crash;
mod load;
mod pg_outage;
mod private_pg;
mod server;
mod smtp_outage;

/// Held by each test for its whole run, so the tests of this binary never overlap.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A whole number from the environment, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

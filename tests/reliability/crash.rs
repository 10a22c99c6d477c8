//! Load + crash: complete responses at full speed over many connections; the server is
//! killed with SIGKILL at random moments and started again at once while the load goes
//! on. Afterwards every acknowledged submission is stored exactly once, whole, and every
//! submission that got no answer can be sent again and is then stored exactly once.
//!
//! Runs on the suite's backend (SQLite, or PostgreSQL with `TEST_DATABASE_URL`).
//! `SAMSKAP_CRASH_SECONDS` (default 8), `SAMSKAP_CRASH_CONNECTIONS` (default 32),
//! `SAMSKAP_CRASH_KILLS` (default 1) and `SAMSKAP_CRASH_SEED` (default: the clock) set the
//! run; `perf/crash.sh` runs 60 s on both backends.

use std::time::Duration;

use crate::helpers::{TestDb, stderr, stdout};
use crate::load::{self, Plan};
use crate::server::{Server, Site};
use crate::smtp::free_port;

/// A database with an open wave of `invitations` manager invitations; returns the wave
/// id, the tokens and the submission body.
pub fn prepare(site: &Site, invitations: u64) -> (String, Vec<String>, String) {
    let migrate = site.samskap(&["migrate"]);
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let out = site.dir.join("tokens.txt");
    let prepared = site.samskap(&[
        "bench",
        "prepare",
        "--invitations",
        &invitations.to_string(),
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(prepared.status.success(), "{}", stderr(&prepared));
    // "wave <id>: N tokens in FILE, body in FILE"
    let wave = stdout(&prepared)
        .split_whitespace()
        .nth(1)
        .expect("wave id")
        .trim_end_matches(':')
        .to_owned();
    let tokens = std::fs::read_to_string(&out)
        .expect("tokens")
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let body = std::fs::read_to_string(out.with_extension("json")).expect("body");
    (wave, tokens, body)
}

/// Answer rows one complete submission stores (every item of the body has a value).
pub fn answers_in(body: &str) -> usize {
    let json: serde_json::Value = serde_json::from_str(body).expect("body");
    json["answers"]
        .as_object()
        .expect("answers")
        .values()
        .filter(|v| !v.is_null())
        .count()
}

#[tokio::test(flavor = "current_thread")]
#[expect(
    clippy::await_holding_lock,
    reason = "the guard only keeps this binary's tests apart; each test has a runtime of its own"
)]
async fn sigkill_under_load_loses_nothing_acknowledged_and_stores_nothing_twice() {
    let _serial = crate::serial();
    let seconds = crate::env_number("SAMSKAP_CRASH_SECONDS", 8);
    let connections =
        usize::try_from(crate::env_number("SAMSKAP_CRASH_CONNECTIONS", 32)).unwrap_or(32);
    let kills = crate::env_number("SAMSKAP_CRASH_KILLS", 1).max(1);
    let seed = crate::env_number(
        "SAMSKAP_CRASH_SEED",
        u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .subsec_nanos(),
        ),
    );
    let db = TestDb::new();
    let site = Site::of(&db);
    // Enough fresh tokens for the run; when they run out the load resends acknowledged
    // ones, which is a test of its own.
    let (wave, tokens, body) = prepare(
        &site,
        crate::env_number("SAMSKAP_CRASH_INVITATIONS", seconds * 1500),
    );
    let answers_each = answers_in(&body);
    let port = free_port();
    let mut server = Server::start(site.server_command(), port, &db.path("server.log"));
    let client = reqwest::Client::new();
    server.wait_ready(&client, Duration::from_secs(60)).await;

    let plan = Plan {
        base: server.base.clone(),
        body,
        connections,
        duration: Duration::from_secs(seconds),
        resend_every: 20,
        stop_with_during: false,
        seed,
    };
    // Kill moments: one in each equal slice of the middle 80 % of the run.
    let slice = plan
        .duration
        .mul_f64(0.8 / f64::from(u32::try_from(kills).unwrap_or(u32::MAX)));
    let moments: Vec<Duration> = (0..kills)
        .map(|k| {
            let from = plan.duration.mul_f64(0.1) + slice * u32::try_from(k).unwrap_or(0);
            load::moment(seed + k, from, from + slice)
        })
        .collect();
    let started = std::time::Instant::now();
    let (record, downtime) = load::run(&plan, tokens, async {
        let mut down = Duration::ZERO;
        for at in &moments {
            tokio::time::sleep_until((started + *at).into()).await;
            let t = std::time::Instant::now();
            server.restart();
            server.wait_ready(&client, Duration::from_secs(60)).await;
            down += t.elapsed();
        }
        down
    })
    .await;
    eprintln!(
        "crash run ({}): seed {seed}, {seconds} s, {connections} connections, SIGKILL at {moments:?}, \
         down {downtime:?} in all; {} requests, {} acknowledged, {} unanswered, outcomes {:?}",
        crate::helpers::expected_backend(),
        record.requests,
        record.acked.len(),
        record.unknown.len(),
        record.outcomes
    );
    assert!(
        !record.acked.is_empty(),
        "the load stored nothing: {:?}",
        record.samples
    );
    let acked_after_last_kill = record
        .acked_at
        .iter()
        .filter(|t| {
            **t > (moments.last().copied().unwrap_or_default()
                + downtime / u32::try_from(kills).unwrap_or(1))
            .as_secs_f64()
        })
        .count();
    assert!(
        acked_after_last_kill > 0,
        "nothing was acknowledged after the restart"
    );
    // Only connection losses at the kill: never an error answer from a running server.
    let answered_errors: Vec<(&String, &usize)> = record
        .outcomes
        .iter()
        .filter(|(k, _)| k.as_str() != "200" && k.as_str() != "transport error")
        .collect();
    assert!(
        answered_errors.is_empty(),
        "{answered_errors:?}: {:?}",
        record.samples
    );

    load::check_then_resend(
        &server.base,
        &plan.body,
        &record,
        &mut db.connect(),
        &wave,
        answers_each,
    )
    .await;
}

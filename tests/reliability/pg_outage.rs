//! PostgreSQL stopped and started again while submissions pour in: while it is down the
//! app answers every request with a clear 503 (`"code": "unavailable"`, `Retry-After`)
//! and `/healthz` says the database does not answer; once it is back the app recovers by
//! itself (new connections, no restart) and nothing acknowledged is lost.
//!
//! `SAMSKAP_OUTAGE_DOWN_SECONDS` (default 3) sets how long it stays down.
//!
//! Runs on a PostgreSQL server of its own (see `private_pg.rs`), once: in the PostgreSQL
//! run of the suite (`TEST_DATABASE_URL` set). The SQLite run would repeat the same
//! minute against the same private server, since nothing in it depends on the suite's
//! backend.

use std::time::{Duration, Instant};

use crate::crash::{answers_in, prepare};
use crate::load::{self, Plan};
use crate::private_pg::PrivatePg;
use crate::server::{Server, Site};
use crate::smtp::free_port;

#[tokio::test(flavor = "current_thread")]
#[expect(
    clippy::await_holding_lock,
    reason = "the guard only keeps this binary's tests apart; each test has a runtime of its own"
)]
async fn postgres_stopped_under_load_gives_clear_503s_then_recovers_losing_nothing() {
    if std::env::var_os("TEST_DATABASE_URL").is_none() {
        eprintln!(
            "pg_outage: runs in the PostgreSQL run of the suite (TEST_DATABASE_URL); the SQLite run would repeat it unchanged"
        );
        return;
    }
    let _serial = crate::serial();
    let pg = PrivatePg::start();
    pg.create_database("samskap");
    let dir = tempfile::tempdir().expect("dir");
    let site = Site {
        url: pg.url("samskap"),
        dir: dir.path().to_path_buf(),
    };
    // The load runs until 3 s after the app is healthy again, at most this long.
    let seconds = crate::env_number("SAMSKAP_OUTAGE_SECONDS", 60);
    // How long PostgreSQL stays down (after the first half second).
    let down_for = crate::env_number("SAMSKAP_OUTAGE_DOWN_SECONDS", 3);
    let (wave, tokens, body) = prepare(&site, 20_000);
    let answers_each = answers_in(&body);
    let mut server = Server::start(
        site.server_command(),
        free_port(),
        &dir.path().join("server.log"),
    );
    let client = reqwest::Client::new();
    server.wait_ready(&client, Duration::from_secs(60)).await;

    let plan = Plan {
        base: server.base.clone(),
        body,
        connections: 16,
        duration: Duration::from_secs(seconds),
        resend_every: 20,
        stop_with_during: true,
        seed: 9,
    };
    let health = format!("{}/healthz", server.base);
    let started = Instant::now();
    let (record, (health_down, down_at, recovered_at)) = load::run(&plan, tokens, async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let stop_called = started.elapsed();
        pg.stop_server();
        let down_at = started.elapsed();
        eprintln!("PostgreSQL stop called at {stop_called:?}, done at {down_at:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let res = client
            .get(&health)
            .send()
            .await
            .expect("healthz while down");
        let retry_after = res.headers().get("retry-after").is_some();
        let health_down = (
            res.status().as_u16(),
            retry_after,
            res.text().await.unwrap_or_default(),
        );
        tokio::time::sleep(Duration::from_secs(down_for)).await;
        let start_called = started.elapsed();
        let t = Instant::now();
        pg.start_server();
        eprintln!(
            "PostgreSQL start called at {start_called:?}, took {:?}",
            t.elapsed()
        );
        let back = Instant::now();
        loop {
            if client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            assert!(
                back.elapsed() < Duration::from_secs(30),
                "the app did not recover in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let recovered_at = started.elapsed();
        // Load goes on for a while after recovery (the load then stops with this).
        tokio::time::sleep(Duration::from_secs(3)).await;
        (health_down, down_at, recovered_at)
    })
    .await;
    eprintln!(
        "PostgreSQL outage: down at {down_at:?}, app healthy again at {recovered_at:?}; {} requests, \
         {} acknowledged, {} unanswered, outcomes {:?}",
        record.requests,
        record.acked.len(),
        record.unknown.len(),
        record.outcomes
    );

    let (status, retry_after, text) = &health_down;
    assert_eq!(*status, 503, "healthz while PostgreSQL is down: {text}");
    assert!(*retry_after, "healthz 503 carries Retry-After");
    assert!(
        text.contains("\"database\":\"postgres\"") && text.contains("does not answer"),
        "{text}"
    );

    // While it was down: clear 503s, never a 500, and the server never dropped a connection.
    let unclear: Vec<(&String, &usize)> = record
        .outcomes
        .iter()
        .filter(|(k, _)| k.as_str() != "200" && k.as_str() != "503 unavailable")
        .collect();
    assert!(
        unclear.is_empty(),
        "answers other than 200 or a clear 503: {unclear:?}: {:?}",
        record.samples
    );
    assert!(
        record.outcomes.get("503 unavailable").copied().unwrap_or(0) > 0,
        "the outage was noticed by no request: {:?}",
        record.outcomes
    );
    let acked_after = record
        .acked_at
        .iter()
        .filter(|t| **t > recovered_at.as_secs_f64())
        .count();
    assert!(acked_after > 0, "nothing acknowledged after recovery");

    load::check_then_resend(
        &server.base,
        &plan.body,
        &record,
        &mut site.connect(),
        &wave,
        answers_each,
    )
    .await;
    drop(server);
}

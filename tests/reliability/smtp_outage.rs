//! The SMTP server goes away during a reminder run: the reminders wait in the outbox,
//! `samskap wave status` says why and when the next attempt is, the web app stays healthy,
//! and when the SMTP server is back every reminder goes out exactly once, without anyone
//! touching anything.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::helpers::{TestDb, stderr, stdout};
use crate::server::{Server, Site};
use crate::smtp::{SmtpServer, free_port};

const PEOPLE: usize = 30;

fn reminders(mails: &[crate::smtp::Mail]) -> Vec<&crate::smtp::Mail> {
    mails
        .iter()
        .filter(|m| m.subject.starts_with("Reminder") || m.subject.starts_with("Påminnelse"))
        .collect()
}

#[tokio::test(flavor = "current_thread")]
#[expect(
    clippy::await_holding_lock,
    reason = "the guard only keeps this binary's tests apart; each test has a runtime of its own"
)]
async fn smtp_down_during_a_reminder_run_delays_but_loses_and_repeats_nothing() {
    let _serial = crate::serial();
    let db = TestDb::new();
    let site = Site::of(&db);
    let maildir = db.path("maildir");
    let smtp_port = free_port();
    let mut smtp = SmtpServer::start_on(smtp_port, &maildir);
    let web_port = free_port();
    let with_smtp = {
        let site = site.clone();
        move || {
            let mut cmd = site.command();
            cmd.env("SAMSKAP_MAIL_TRANSPORT", "smtp")
                .env("SAMSKAP_SMTP_HOST", "127.0.0.1")
                .env("SAMSKAP_SMTP_PORT", smtp_port.to_string())
                .env("SAMSKAP_SMTP_TLS", "none")
                .env("SAMSKAP_OUTBOX_INTERVAL_MS", "100")
                .env("SAMSKAP_MAIL_RETRY_SECONDS", "1")
                .env("SAMSKAP_BASE_URL", format!("http://127.0.0.1:{web_port}"));
            cmd
        }
    };
    let run = |args: &[&str]| {
        let out = with_smtp().args(args).output().expect("run samskap");
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    };
    run(&["migrate"]);
    run(&["demo", "--services", "12", "--seed", "4"]);
    run(&[
        "wave",
        "create",
        "--name",
        "Outage",
        "--reminders",
        "1",
        "--reminder-days",
        "0",
    ]);
    run(&["wave", "open", "Outage"]);
    let codes: Vec<String> = {
        let conn = &mut db.connect();
        samskap::infra::db::schema::services::table
            .select(samskap::infra::db::schema::services::code)
            .order(samskap::infra::db::schema::services::code)
            .load(conn)
            .expect("service codes")
    };
    let mut csv = String::from("service_code,role,email,language\n");
    for i in 0..PEOPLE {
        writeln!(
            csv,
            "{},peer_worker,person{i}@example.no,en",
            codes[i % codes.len()]
        )
        .expect("write to a String");
    }
    let file = db.write("invite.csv", &csv);
    run(&["wave", "invite", "Outage", file.to_str().expect("utf-8")]);

    let mut server = Server::start(with_smtp.clone(), web_port, &db.path("server.log"));
    let client = reqwest::Client::new();
    server.wait_ready(&client, Duration::from_secs(60)).await;
    assert_eq!(
        smtp.wait_for(PEOPLE).len(),
        PEOPLE,
        "the invitations went out"
    );

    // The SMTP server goes away; the reminder run is queued.
    smtp.stop();
    let queued = run(&["wave", "remind", "Outage"]);
    assert!(queued.contains(&format!("{PEOPLE}")), "{queued}");

    // The worker tries, fails, and says so; the app itself stays healthy.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let status = run(&["wave", "status", "Outage"]);
        if status.contains(&format!("e-mail: {PEOPLE} could not be sent yet")) {
            break status;
        }
        assert!(Instant::now() < deadline, "no retry reported: {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        status.contains("will be retried by the server, next at")
            && status.contains("last error: "),
        "{status}"
    );
    let error = status.split("last error: ").nth(1).unwrap_or_default();
    assert!(
        error.to_lowercase().contains("connect") || error.contains("SMTP"),
        "the error names the cause: {error}"
    );
    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(
        health.status(),
        200,
        "the web app does not depend on the SMTP server"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The SMTP server is back: the worker delivers every reminder by itself.
    let smtp = SmtpServer::start_on(smtp_port, &maildir);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if reminders(&smtp.messages()).len() >= PEOPLE {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "reminders not delivered after the SMTP server came back: {}",
            run(&["wave", "status", "Outage"])
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mails = smtp.messages();
    let got = reminders(&mails);
    let mut to: Vec<&str> = got.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    to.dedup();
    assert_eq!(got.len(), PEOPLE, "each reminder exactly once");
    assert_eq!(to.len(), PEOPLE, "one reminder per person");
    assert_eq!(
        mails.len(),
        PEOPLE + PEOPLE,
        "invitations and reminders, nothing else"
    );
    let status = run(&["wave", "status", "Outage"]);
    assert!(
        status.contains(&format!(
            "0 pending, 0 sending, {} sent, 0 failed",
            2 * PEOPLE
        )),
        "{status}"
    );
    assert!(!status.contains("could not be sent yet"), "{status}");
    drop(server);
}

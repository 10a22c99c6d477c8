//! Waves end to end: invitations through a real SMTP server, the questionnaire in a
//! browser-like client, reminders, outages, resume, submit once, withdraw, bad input.

use std::collections::BTreeMap;
use std::time::Duration;

use samskap::core::domain::{UserRole, WaveId};
use samskap::infra::config::{MailTransport, SmtpSettings, SmtpTls};
use samskap::infra::models::{Answer, InstrumentRow, OutboxMessage, Response, WaveService};
use samskap::tools::demo::{self, DemoOptions};

use crate::auth_helpers::{browser, create_user, csrf_in, post_form, signed_in};
use crate::helpers::{TestApp, spawn_app_with};
use crate::smtp::{Mail, SmtpServer, free_port};

async fn app_with_smtp(port: u16) -> TestApp {
    spawn_app_with(|s| {
        s.mail.transport = MailTransport::Smtp;
        s.mail.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
        });
        s.outbox_interval = Duration::from_millis(100);
    })
    .await
}

/// Demo services, an admin, and an open wave created through the admin pages.
async fn open_wave(app: &TestApp, anonymous: bool) -> (reqwest::Client, WaveId, Vec<String>) {
    let (instrument, codes) = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 12,
                seed: 4,
            },
        )
        .expect("demo");
        let codes = samskap::infra::models::Service::all(conn)
            .expect("services")
            .into_iter()
            .map(|s| s.code)
            .collect();
        (
            InstrumentRow::all(conn).expect("instruments").remove(0).id,
            codes,
        )
    };
    create_user(app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(app, "admin@test.no").await;
    let created = post_form(
        app,
        &admin,
        "/admin/waves",
        &[
            ("name", "Test wave"),
            ("instrument", instrument.as_str()),
            ("anonymity", if anonymous { "anonymous" } else { "linked" }),
            ("closes", ""),
            ("reminders", "2"),
            ("reminder_days", "0"),
            ("retention_days", "90"),
        ],
    )
    .await;
    assert_eq!(created.status(), 303, "{:?}", created.text().await);
    let location = created.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let wave = WaveId::from_string(location.trim_start_matches("/admin/waves/"));
    // Opening asks for a tick first; nothing changes without it.
    let unconfirmed = post_form(app, &admin, &format!("/admin/waves/{wave}/open"), &[]).await;
    assert_eq!(unconfirmed.status(), 422);
    assert!(
        unconfirmed
            .text()
            .await
            .expect("body")
            .contains("Tick the box to confirm that you want to open the wave.")
    );
    {
        let conn = &mut app.db.connect();
        let w = samskap::infra::models::Wave::find(conn, &wave).expect("wave");
        assert_eq!(
            w.status,
            samskap::core::domain::WaveStatus::Draft,
            "not opened"
        );
    }
    let opened = post_form(
        app,
        &admin,
        &format!("/admin/waves/{wave}/open"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(opened.status(), 303);
    let page = followed(app, &admin, opened).await;
    assert!(
        page.contains("The wave is open"),
        "the page says what happened"
    );
    (admin, wave, codes)
}

/// The page an action redirected to (303: reloading it repeats nothing).
async fn followed(app: &TestApp, client: &reqwest::Client, res: reqwest::Response) -> String {
    assert_eq!(res.status(), 303, "an action redirects");
    let to = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    client
        .get(format!("{}{to}", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body")
}

async fn invite(
    app: &TestApp,
    admin: &reqwest::Client,
    wave: &WaveId,
    csv: &str,
) -> reqwest::Response {
    post_form(
        app,
        admin,
        &format!("/admin/waves/{wave}/invite"),
        &[("csv", csv)],
    )
    .await
}

fn path_of(link: &str) -> String {
    let start = link.find("/s/").expect("questionnaire link");
    link[start..].to_owned()
}

/// A valid raw answer for every item the role is asked, from the respondent API.
async fn plan_answers(app: &TestApp, token: &str) -> BTreeMap<String, String> {
    let q: serde_json::Value = reqwest::get(format!("{}/api/v1/respondent/{token}", app.address))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let mut out = BTreeMap::new();
    let cycle = ["0", "1", "2", "3", "4", "DK", "NA"];
    let mut n = 0;
    for page in q["pages"].as_array().expect("pages") {
        for item in page["items"].as_array().expect("items") {
            let code = item["code"].as_str().expect("code").to_owned();
            let raw = match item["type"].as_str().expect("type") {
                "scale" => {
                    n += 1;
                    cycle[n % cycle.len()].to_owned()
                }
                "year" => "2019".into(),
                "integer" => "2".into(),
                "number" => "1,5".into(),
                "percentage" => "50".into(),
                "single_choice" => item["options"][0]["code"]
                    .as_str()
                    .expect("option")
                    .to_owned(),
                "yes_no" => "yes".into(),
                "rating" => "4".into(),
                other => panic!("unexpected item type {other}"),
            };
            out.insert(code, raw);
        }
    }
    out
}

/// (value, text, missing code) as stored.
type StoredTriple = (Option<f64>, Option<String>, Option<String>);

fn expected_stored(raw: &str) -> StoredTriple {
    match raw {
        "DK" | "NA" | "NEVER" => (None, None, Some(raw.to_owned())),
        "yes" => (Some(1.0), None, None),
        "1,5" => (Some(1.5), None, None),
        r => r
            .parse::<f64>()
            .map_or((None, Some(r.to_owned()), None), |v| (Some(v), None, None)),
    }
}

/// Goes through the questionnaire like a browser: consent, every page, review, submit.
async fn answer_all(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    answers: &BTreeMap<String, String>,
    submit: bool,
) {
    let base = &app.address;
    let page = client
        .get(format!("{base}{path}"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("name=\"consent\""),
        "starts at consent: {page}"
    );
    let csrf = csrf_in(&page);
    let res = client
        .post(format!("{base}{path}"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("page", "consent"),
            ("consent", "yes"),
            ("lang", "en"),
        ])
        .send()
        .await
        .expect("consent");
    assert_eq!(res.status(), 303);
    let mut next = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    loop {
        let html = client
            .get(format!("{base}{next}"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("body");
        let page_id = next
            .split("page=")
            .nth(1)
            .and_then(|p| p.split('&').next())
            .expect("page id")
            .to_owned();
        if page_id == "review" {
            if submit {
                let res = client
                    .post(format!("{base}{path}"))
                    .form(&[
                        ("_csrf", csrf.as_str()),
                        ("page", "review"),
                        ("action", "submit"),
                        ("lang", "en"),
                    ])
                    .send()
                    .await
                    .expect("submit");
                assert_eq!(res.status(), 200);
                assert!(
                    res.text()
                        .await
                        .expect("body")
                        .contains("Thank you for your answers!")
                );
            }
            return;
        }
        let mut form: Vec<(String, String)> = vec![
            ("_csrf".into(), csrf.clone()),
            ("page".into(), page_id.clone()),
            ("lang".into(), "en".into()),
            ("action".into(), "continue".into()),
        ];
        for (code, raw) in answers {
            if html.contains(&format!("name=\"{code}\"")) {
                form.push((code.clone(), raw.clone()));
            }
        }
        let res = client
            .post(format!("{base}{path}"))
            .form(&form)
            .send()
            .await
            .expect("save page");
        assert_eq!(
            res.status(),
            303,
            "page {page_id} saved: {:?}",
            res.text().await
        );
        next = res.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
    }
}

fn stored_answers(app: &TestApp, wave: &WaveId) -> Vec<(String, Vec<Answer>)> {
    use diesel::prelude::*;
    use samskap::infra::db::schema::responses;
    let conn = &mut app.db.connect();
    let rs: Vec<Response> = responses::table
        .filter(responses::wave_id.eq(wave))
        .select(Response::as_select())
        .load(conn)
        .expect("responses");
    rs.into_iter()
        .map(|r| {
            (
                r.id.to_string(),
                Answer::for_response(conn, &r.id).expect("answers"),
            )
        })
        .collect()
}

#[actix_web::test]
async fn invite_answer_submit_and_remind_through_real_smtp() {
    let dir = tempfile::tempdir().expect("dir");
    let smtp = SmtpServer::start(&dir.path().join("maildir"));
    let app = app_with_smtp(smtp.port).await;
    let (admin, wave, codes) = open_wave(&app, false).await;
    let csv = format!(
        "service_code,role,email,language\n{c0},manager,leder@example.no,en\n{c0},peer_worker,peer1@example.no,en\n{c1},peer_worker,peer2@example.no,nb\n",
        c0 = codes[0],
        c1 = codes[1]
    );
    let res = invite(&app, &admin, &wave, &csv).await;
    let page = followed(&app, &admin, res).await;
    assert!(page.contains("3 invitations created and queued."), "{page}");

    let mails = smtp.wait_for(3);
    let by_to = |to: &str| -> Mail {
        mails
            .iter()
            .find(|m| m.to.contains(to))
            .cloned()
            .unwrap_or_else(|| panic!("no mail to {to}"))
    };
    assert!(
        by_to("peer2@").subject.starts_with("Invitasjon"),
        "Norwegian for nb"
    );
    assert!(by_to("leder@").subject.starts_with("Invitation"));

    // The manager answers everything and submits.
    let link = by_to("leder@").link();
    let path = path_of(&link);
    let token = path.trim_start_matches("/s/").to_owned();
    let planned = plan_answers(&app, &token).await;
    assert!(planned.len() > 20, "scored and context items");
    answer_all(&app, &browser(), &path, &planned, true).await;

    let stored = stored_answers(&app, &wave);
    assert_eq!(stored.len(), 1);
    let got: BTreeMap<String, StoredTriple> = stored[0]
        .1
        .iter()
        .map(|a| {
            (
                a.item_code.clone(),
                (a.value, a.text_value.clone(), a.missing_code.clone()),
            )
        })
        .collect();
    let want: BTreeMap<String, StoredTriple> = planned
        .iter()
        .map(|(k, v)| (k.clone(), expected_stored(v)))
        .collect();
    assert_eq!(got, want, "the stored answers equal what was sent");
    {
        let conn = &mut app.db.connect();
        let response = Response::find(
            conn,
            &samskap::core::domain::ResponseId::from_string(stored[0].0.clone()),
        )
        .expect("response");
        assert!(response.submitted_at.is_some() && response.panel_pseudonym.is_some());
    }

    // peer1 starts but does not submit; peer2 does nothing. Reminders go to both, not to the manager.
    let peer1 = path_of(&by_to("peer1@").link());
    answer_all(&app, &browser(), &peer1, &BTreeMap::new(), false).await;
    let res = post_form(&app, &admin, &format!("/admin/waves/{wave}/remind"), &[]).await;
    assert!(
        followed(&app, &admin, res)
            .await
            .contains("2 reminders queued.")
    );
    let all = smtp.wait_for(5);
    let reminders: Vec<&Mail> = all
        .iter()
        .filter(|m| m.subject.starts_with("Reminder") || m.subject.starts_with("Påminnelse"))
        .collect();
    let mut to: Vec<&str> = reminders.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to.len(), 2);
    assert!(
        to[0].contains("peer1@") && to[1].contains("peer2@"),
        "{to:?}"
    );
    // The reminder's fresh link continues peer1's saved response; the old link works too.
    let fresh = path_of(
        &reminders
            .iter()
            .find(|m| m.to.contains("peer1@"))
            .expect("peer1 reminder")
            .link(),
    );
    assert_ne!(fresh, peer1);
    let page = browser()
        .get(format!("{}{fresh}", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(!page.contains("name=\"consent\""), "resumes past consent");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(smtp.messages().len(), 5, "nothing sent twice");
}

#[actix_web::test]
async fn smtp_down_then_back_delivers_each_message_exactly_once() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let app = app_with_smtp(port).await;
    let (admin, wave, codes) = open_wave(&app, false).await;
    let csv = format!(
        "service_code,role,email,language\n{c},manager,a@example.no,en\n{c},peer_worker,b@example.no,en\n{c},peer_worker,c@example.no,nb\n",
        c = codes[2]
    );
    assert_eq!(invite(&app, &admin, &wave, &csv).await.status(), 303);

    // The worker tries, fails and schedules retries.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let failed: Vec<OutboxMessage> = {
            let conn = &mut app.db.connect();
            (1..=3)
                .filter_map(|id| OutboxMessage::find(conn, id).ok())
                .filter(|m| m.last_error.is_some())
                .collect()
        };
        if failed.len() == 3 {
            assert!(failed.iter().all(|m| m.status
                == samskap::core::domain::OutboxStatus::Pending
                && m.attempts >= 1));
            assert!(
                failed[0]
                    .last_error
                    .as_deref()
                    .unwrap_or_default()
                    .contains("SMTP"),
                "{:?}",
                failed[0].last_error
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker did not try"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The server comes back; time passes (the retry becomes due).
    let smtp = SmtpServer::start_on(port, &dir.path().join("maildir"));
    {
        use diesel::prelude::*;
        let conn = &mut app.db.connect();
        diesel::update(samskap::infra::db::schema::outbox::table)
            .set(samskap::infra::db::schema::outbox::next_attempt_at.eq(samskap::infra::db::now()))
            .execute(conn)
            .expect("time passes");
    }
    let mails = smtp.wait_for(3);
    std::thread::sleep(Duration::from_millis(500));
    let mails_after = smtp.messages();
    assert_eq!(mails_after.len(), 3, "exactly once: {mails:?}");
    let mut ids: Vec<&str> = mails_after.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    let conn = &mut app.db.connect();
    for id in 1..=3 {
        let m = OutboxMessage::find(conn, id).expect("message");
        assert_eq!(m.status, samskap::core::domain::OutboxStatus::Sent);
        assert_eq!(
            m.body_text,
            samskap::infra::mail::SCRUBBED,
            "the personal link is not kept after sending"
        );
    }
}

/// An app whose e-mail goes to files, with one open wave and one invitation; returns the
/// questionnaire path.
async fn one_invitation(anonymous: bool) -> (TestApp, WaveId, String) {
    let app = spawn_app_with(|s| {
        s.outbox_interval = Duration::from_millis(100);
        s.privacy.controller = Some("Universitetet i Testby".into());
        s.privacy.contact = Some("personvern@testby.no".into());
    })
    .await;
    let (admin, wave, codes) = open_wave(&app, anonymous).await;
    let res = invite(
        &app,
        &admin,
        &wave,
        &format!(
            "service_code,role,email,language\n{},peer_worker,x@example.no,en\n",
            codes[0]
        ),
    )
    .await;
    assert_eq!(res.status(), 303);
    // Read the link from the .eml the file transport wrote.
    let dir = app.db.path("mail");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let done = std::fs::read_dir(&dir).ok().and_then(|d| {
            d.filter_map(Result::ok)
                .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
        });
        if let Some(entry) = done {
            break std::fs::read(entry.path()).expect("eml");
        }
        assert!(std::time::Instant::now() < deadline, "no .eml written");
        std::thread::sleep(Duration::from_millis(50));
    };
    let parsed = mailparse::parse_mail(&text).expect("parse");
    let body = parsed
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/plain")
        .expect("text part")
        .get_body()
        .expect("body");
    let mail = Mail {
        to: String::new(),
        subject: String::new(),
        text: body,
        message_id: String::new(),
    };
    (app, wave, path_of(&mail.link()))
}

#[actix_web::test]
async fn save_and_resume_across_two_browsers() {
    let (app, wave, path) = one_invitation(false).await;
    let first = browser();
    // The consent page says once each who holds the answers, how to reach them, on what
    // basis, for what, and how long the address is kept (the wave's 90 days).
    let consent = first
        .get(format!("{}{path}?lang=en", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    for (needle, times) in [
        ("Universitetet i Testby (contact: personvern@testby.no)", 1),
        ("Legal basis", 1),
        ("GDPR article 6(1)(a)", 1),
        ("What the answers are used for", 1),
        ("erased 90 days after the survey closes", 1),
        ("Nobody sees your answers one by one", 1),
    ] {
        assert_eq!(
            consent.matches(needle).count(),
            times,
            "{needle} in {consent}"
        );
    }
    let token = path.trim_start_matches("/s/").to_owned();
    let mut planned = plan_answers(&app, &token).await;
    planned.retain(|k, _| k.starts_with('A'));
    answer_all(&app, &first, &path, &planned, false).await;
    // A second browser (no cookies) with the same link continues where the first left off.
    let second = browser();
    let html = second
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(!html.contains("name=\"consent\""));
    let a = second
        .get(format!("{}{path}?page=A", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let (code, raw) = planned.iter().next().expect("an A item");
    assert!(
        a.contains(&format!("name=\"{code}\" value=\"{raw}\" checked")),
        "the saved answer is shown"
    );
    assert_eq!(stored_answers(&app, &wave)[0].1.len(), planned.len());
}

#[actix_web::test]
async fn submitting_twice_stores_once_and_withdraw_deletes() {
    let (app, wave, path) = one_invitation(true).await;
    let token = path.trim_start_matches("/s/").to_owned();
    let api = reqwest::Client::new();
    let base = format!("{}/api/v1/respondent/{token}", app.address);
    assert_eq!(
        api.post(format!("{base}/submit"))
            .send()
            .await
            .expect("post")
            .status(),
        409,
        "consent first"
    );
    assert_eq!(
        api.post(format!("{base}/consent"))
            .json(&serde_json::json!({"language": "nb"}))
            .send()
            .await
            .expect("post")
            .status(),
        200
    );
    let saved = api
        .put(format!("{base}/answers"))
        .json(&serde_json::json!({"answers": {"A1": 3, "A2": "NA", "P_POSITION_PERCENT": 40}}))
        .send()
        .await
        .expect("put");
    assert_eq!(saved.status(), 200);
    let first: serde_json::Value = api
        .post(format!("{base}/submit"))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let second: serde_json::Value = api
        .post(format!("{base}/submit"))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(first["first_time"], true);
    assert_eq!(second["first_time"], false);
    assert_eq!(first["submitted_at"], second["submitted_at"]);
    let stored = stored_answers(&app, &wave);
    assert_eq!(stored.len(), 1, "one response");
    {
        let conn = &mut app.db.connect();
        let r = Response::find(
            conn,
            &samskap::core::domain::ResponseId::from_string(stored[0].0.clone()),
        )
        .expect("response");
        assert!(
            r.invitation_id.is_none() && r.panel_pseudonym.is_none(),
            "anonymous: no link to the invitation"
        );
        assert_eq!(
            r.submitted_at.map(|t| t.time()),
            chrono::NaiveTime::from_hms_opt(0, 0, 0),
            "kept to the day"
        );
        assert_eq!(WaveService::for_wave(conn, &wave).expect("ws").len(), 12);
    }
    let html = browser()
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        html.contains("Du har allerede svart"),
        "in the language chosen at consent: {html}"
    );
    let late = api
        .put(format!("{base}/answers"))
        .json(&serde_json::json!({"answers": {"A1": 1}}))
        .send()
        .await
        .expect("put");
    assert_eq!(late.status(), 409, "no changes after submitting");

    let client = browser();
    let confirm = client
        .get(format!("{}{path}/withdraw", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let res = client
        .post(format!("{}{path}/withdraw", app.address))
        .form(&[("_csrf", csrf_in(&confirm).as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    assert!(stored_answers(&app, &wave).is_empty(), "answers deleted");
    let gone = browser()
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(gone.status(), 410);
    assert!(
        gone.text()
            .await
            .expect("body")
            .contains("Your answers have been deleted"),
        "in the invitation's language: the response is gone"
    );
}

#[actix_web::test]
async fn bad_input_names_the_field_and_keeps_what_was_saved() {
    let (app, wave, path) = one_invitation(false).await;
    let client = browser();
    let token = path.trim_start_matches("/s/").to_owned();
    let mut planned = plan_answers(&app, &token).await;
    planned.retain(|k, _| k.starts_with('A'));
    answer_all(&app, &client, &path, &planned, false).await;
    let before = stored_answers(&app, &wave)[0].1.len();

    let html = client
        .get(format!("{}{path}?page=context", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let form = [
        ("_csrf", csrf_in(&html)),
        ("page", "context".into()),
        ("lang", "en".into()),
        ("P_POSITION_PERCENT", "150".into()),
        ("P_YEARS_IN_ROLE", "abc".into()),
        ("P_ROLE_CLARITY", "4".into()),
    ];
    let res = client
        .post(format!("{}{path}", app.address))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 422);
    let page = res.text().await.expect("body");
    assert!(page.contains("There is a problem"));
    assert!(
        page.contains("href=\"#item-P_POSITION_PERCENT\""),
        "the summary links to the field"
    );
    assert!(page.contains("The answer must be between 0 and 100."));
    assert!(page.contains("href=\"#item-P_YEARS_IN_ROLE\"") && page.contains("Enter a number"));
    assert!(
        page.contains("value=\"abc\""),
        "what was typed is shown again"
    );
    let after = &stored_answers(&app, &wave)[0].1;
    assert_eq!(
        after.len(),
        before + 1,
        "the good answer on the page was saved, the earlier ones kept"
    );
    assert!(
        after
            .iter()
            .any(|a| a.item_code == "P_ROLE_CLARITY" && a.value == Some(4.0))
    );

    let api = reqwest::Client::new();
    let bad = api
        .put(format!("{}/api/v1/respondent/{token}/answers", app.address))
        .json(&serde_json::json!({"answers": {"A1": 9, "NOPE": 1, "A2": 2}}))
        .send()
        .await
        .expect("put");
    assert_eq!(bad.status(), 422);
    let body: serde_json::Value = bad.json().await.expect("json");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["answers.A1", "answers.NOPE"]);
    assert_eq!(
        stored_answers(&app, &wave)[0].1.len(),
        before + 1,
        "nothing saved from a bad request"
    );

    let consent_missing = client
        .post(format!("{}{path}", app.address))
        .form(&[
            ("_csrf", csrf_in(&html).as_str()),
            ("page", "nowhere"),
            ("lang", "en"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(consent_missing.status(), 400);
    assert!(
        consent_missing
            .text()
            .await
            .expect("body")
            .contains("page: ")
    );
}

#[actix_web::test]
async fn unknown_and_closed_links_get_clear_pages() {
    let (app, wave, path) = one_invitation(false).await;
    let unknown = browser()
        .get(format!("{}/s/{}", app.address, "a".repeat(40)))
        .send()
        .await
        .expect("get");
    assert_eq!(unknown.status(), 404);
    assert!(
        unknown
            .text()
            .await
            .expect("body")
            .contains("We do not recognise this link")
    );
    {
        let conn = &mut app.db.connect();
        samskap::app::waves::close(conn, &wave, &samskap::app::audit::Actor::cli()).expect("close");
    }
    let closed = browser()
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get");
    assert_eq!(closed.status(), 410);
    assert!(
        closed
            .text()
            .await
            .expect("body")
            .contains("The survey has closed")
    );
    let api: serde_json::Value = reqwest::get(format!(
        "{}/api/v1/respondent/{}",
        app.address,
        path.trim_start_matches("/s/")
    ))
    .await
    .expect("get")
    .json()
    .await
    .expect("json");
    assert_eq!(api["error"]["code"], "closed");
}

#[actix_web::test]
async fn bad_respondent_lists_are_reported_by_line_and_nothing_is_written() {
    let app = spawn_app_with(|_| {}).await;
    let (admin, wave, codes) = open_wave(&app, false).await;
    let csv = format!(
        "service_code,role,email,language\n{c},manager,ok@example.no,en\nNOPE,manager,x@example.no,en\n{c},boss,y@example.no,en\n{c},manager,not-an-email,en\n{c},manager,OK@example.no,sv\nNOPE,boss,a@@b.no,x\n",
        c = codes[0]
    );
    let res = invite(&app, &admin, &wave, &csv).await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.expect("body");
    for needle in [
        "csv:3: &#x60;service_code&#x60; &quot;NOPE&quot; does not take part",
        "csv:4: Role: &quot;boss&quot; is not one of this survey&#x27;s roles (manager, peer_worker, staff)",
        "csv:5: E-mail: &quot;not-an-email&quot; is not an e-mail address",
        "csv:6: &#x60;language&#x60;",
        "already appears on line 2",
        // Every problem of a row at once.
        "csv:7: &#x60;service_code&#x60; &quot;NOPE&quot; does not take part in this wave; Role: &quot;boss&quot; is not one of this survey&#x27;s roles (manager, peer_worker, staff); E-mail: &quot;a@@b.no&quot; is not an e-mail address; Language: between 2 and 16 characters",
    ] {
        assert!(html.contains(needle), "{needle} missing from {html}");
    }
    {
        let conn = &mut app.db.connect();
        assert!(
            samskap::infra::models::Invitation::for_wave(conn, &wave)
                .expect("inv")
                .is_empty()
        );
    }
    // Reminders with nobody invited: none queued, and the page says why.
    let res = post_form(&app, &admin, &format!("/admin/waves/{wave}/remind"), &[]).await;
    let page = followed(&app, &admin, res).await;
    assert!(
        page.contains("No reminders queued: everyone invited has answered, has had the wave&#x27;s 2 reminders, or has no invitation sent yet."),
        "{page}"
    );
    // On a Norwegian page, the problems are in Norwegian.
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/invite?lang=nb"),
        &[("csv", &csv)],
    )
    .await;
    let html = res.text().await.expect("body");
    for needle in [
        "csv:3: &#x60;service_code&#x60; «NOPE» er ikke med i denne runden",
        "står allerede på linje 2",
        "E-post: «not-an-email» er ikke en e-postadresse",
    ] {
        assert!(html.contains(needle), "{needle} missing from {html}");
    }
}

#[actix_web::test]
async fn the_openapi_document_describes_every_api_route() {
    let app = spawn_app_with(|_| {}).await;
    let doc: serde_json::Value = reqwest::get(format!("{}/api/v1/openapi.json", app.address))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["openapi"], "3.0.3");
    for route in samskap::web::routes::ROUTES
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
    {
        let op = &doc["paths"][route.path][route.method.to_lowercase()];
        assert!(
            op.is_object(),
            "{} {} is not in the OpenAPI document",
            route.method,
            route.path
        );
    }
}

#[actix_web::test]
async fn a_whole_response_in_one_request() {
    let (app, wave, path) = one_invitation(false).await;
    let token = path.trim_start_matches("/s/").to_owned();
    let url = format!("{}/api/v1/respondent/{token}/submit", app.address);
    let api = reqwest::Client::new();
    let bad = api
        .post(&url)
        .json(&serde_json::json!({"consent": true, "answers": {"A1": "maybe"}}))
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 422, "checked before anything is stored");
    assert!(stored_answers(&app, &wave).is_empty());
    let no_consent = api
        .post(&url)
        .json(&serde_json::json!({"answers": {"A1": 2}}))
        .send()
        .await
        .expect("post");
    assert_eq!(no_consent.status(), 409);
    let body = serde_json::json!({"consent": true, "language": "en", "answers": {"A1": 2, "A2": "DK", "P_ROLE_CLARITY": 5, "P_TASKS_OUTSIDE_ROLE": "often"}});
    let first: serde_json::Value = api
        .post(&url)
        .json(&body)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(first["first_time"], true);
    let again: serde_json::Value = api
        .post(&url)
        .json(&body)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(again["first_time"], false, "submitting twice stores once");
    let stored = stored_answers(&app, &wave);
    assert_eq!(stored.len(), 1);
    let mut got: Vec<(String, StoredTriple)> = stored[0]
        .1
        .iter()
        .map(|a| {
            (
                a.item_code.clone(),
                (a.value, a.text_value.clone(), a.missing_code.clone()),
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            ("A1".to_owned(), (Some(2.0), None, None)),
            ("A2".to_owned(), (None, None, Some("DK".to_owned()))),
            ("P_ROLE_CLARITY".to_owned(), (Some(5.0), None, None)),
            (
                "P_TASKS_OUTSIDE_ROLE".to_owned(),
                (None, Some("often".to_owned()), None)
            ),
        ]
    );
}

#[actix_web::test]
async fn email_addresses_are_erased_after_retention_and_pseudonyms_stay() {
    use diesel::prelude::*;
    let (app, wave, _path) = one_invitation(false).await;
    let conn = &mut app.db.connect();
    let before = samskap::infra::models::Invitation::for_wave(conn, &wave)
        .expect("inv")
        .remove(0);
    assert!(before.email.is_some());
    // Not yet: the wave is open.
    assert_eq!(
        samskap::app::waves::erase_due_emails(conn).expect("round"),
        0
    );
    let refused =
        samskap::app::waves::erase_emails(conn, &wave, false, &samskap::app::audit::Actor::cli());
    assert!(
        format!("{:#}", refused.expect_err("open wave"))
            .contains("status: e-mail addresses are erased only after the wave has closed")
    );

    samskap::app::waves::close(conn, &wave, &samskap::app::audit::Actor::cli()).expect("close");
    assert_eq!(
        samskap::app::waves::erase_due_emails(conn).expect("round"),
        0,
        "90 days of retention first"
    );
    diesel::update(samskap::infra::db::schema::waves::table.find(&wave))
        .set(samskap::infra::db::schema::waves::email_retention_days.eq(0))
        .execute(conn)
        .expect("shorter retention");
    assert_eq!(
        samskap::app::waves::erase_due_emails(conn).expect("round"),
        1
    );
    assert_eq!(
        samskap::app::waves::erase_due_emails(conn).expect("round"),
        0,
        "nothing left to erase"
    );

    let after = samskap::infra::models::Invitation::for_wave(conn, &wave)
        .expect("inv")
        .remove(0);
    assert_eq!(after.email, None);
    assert!(after.email_erased_at.is_some());
    assert_eq!(
        after.panel_pseudonym, before.panel_pseudonym,
        "the panel can still be followed"
    );
    let outbox = samskap::infra::models::OutboxMessage::find(conn, 1).expect("message");
    assert_eq!(outbox.to_address, "[erased]");
    let actions: Vec<String> = samskap::infra::models::AuditEntry::recent(conn, 5)
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"wave.erase_emails".to_owned()),
        "{actions:?}"
    );
}

/// A new-wave form with several mistakes lists every one at once, each naming its field,
/// keeps what was typed, and creates nothing; in Norwegian too.
#[actix_web::test]
async fn a_wave_form_with_mistakes_lists_them_all_and_keeps_what_was_typed() {
    let app = crate::helpers::spawn_app().await;
    let instrument = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 4,
                seed: 4,
            },
        )
        .expect("demo");
        InstrumentRow::all(conn).expect("instruments").remove(0).id
    };
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let form = [
        ("name", "  "),
        ("instrument", instrument.as_str()),
        ("anonymity", "anonymous"),
        ("closes", "2026-13-01"),
        ("reminders", "twice"),
        ("reminder_days", "400"),
        ("retention_days", "90"),
    ];
    let res = post_form(&app, &admin, "/admin/waves", &form).await;
    assert_eq!(res.status(), 400);
    let page = res.text().await.expect("page");
    // Each problem links to its field, which says it beside itself.
    for (field, problem) in [
        ("name", "Name: required"),
        (
            "closes",
            "Closes: &quot;2026-13-01&quot; is not a date (YYYY-MM-DD)",
        ),
        (
            "reminders",
            "Reminders at most: &quot;twice&quot; is not a whole number",
        ),
        ("reminder_days", "Days between reminders: between 0 and 90"),
    ] {
        assert!(
            page.contains(&format!("<li><a href=\"#{field}\">{problem}</a></li>")),
            "{problem}\n{page}"
        );
        assert!(
            page.contains(&format!(
                "<p class=\"field-error\" id=\"{field}-error\">{problem}</p>"
            )),
            "{field}'s own message\n{page}"
        );
        assert!(
            page.contains(&format!("aria-describedby=\"{field}-error\"")),
            "{field} is described by its message"
        );
    }
    assert!(page.contains(r#"value="twice""#), "what was typed is kept");
    // A date input would drop a value that is not a date: it becomes a text field.
    assert!(
        page.contains(r#"type="text" placeholder="YYYY-MM-DD" value="2026-13-01""#),
        "{page}"
    );
    assert!(
        page.contains(r#"value="anonymous" selected"#),
        "the mode is kept"
    );
    assert!(!page.contains("Retention"), "a right field has no problem");
    let conn = &mut app.db.connect();
    assert!(
        samskap::infra::models::Wave::all(conn)
            .expect("waves")
            .is_empty()
    );

    let res = post_form(&app, &admin, "/admin/waves?lang=nb", &form).await;
    let page = res.text().await.expect("page");
    assert!(
        page.contains("Maksimalt antall påminnelser: «twice» er ikke et heltall</a></li>"),
        "{page}"
    );
}

#[actix_web::test]
async fn sending_with_questions_unanswered_needs_a_tick_and_lists_them() {
    let (app, wave, path) = one_invitation(false).await;
    let client = browser();
    let token = path.trim_start_matches("/s/").to_owned();
    let mut planned = plan_answers(&app, &token).await;
    let total = planned.len();
    // Answer all but the co-define phase.
    planned.retain(|k, _| !k.starts_with('A'));
    let skipped = total - planned.len();
    assert!(skipped > 0, "the survey has co-define items");
    answer_all(&app, &client, &path, &planned, false).await;
    let base = &app.address;
    let review = client
        .get(format!("{base}{path}?page=review&lang=en"))
        .send()
        .await
        .expect("review")
        .text()
        .await
        .expect("body");
    assert!(
        review.contains(&format!(
            "You have not answered {skipped} of the {total} questions:"
        )),
        "the review says how many are unanswered"
    );
    assert!(
        review.contains("#item-A1\""),
        "each unanswered question is linked"
    );
    let csrf = csrf_in(&review);
    // Send without the tick: refused, named, nothing submitted.
    let res = client
        .post(format!("{base}{path}"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("page", "review"),
            ("action", "submit"),
            ("lang", "en"),
        ])
        .send()
        .await
        .expect("submit");
    assert_eq!(res.status(), 422);
    let body = res.text().await.expect("body");
    assert!(
        body.contains(&format!(
            "{skipped} questions are not answered. Answer them, or tick the box"
        )),
        "the refusal says why"
    );
    let submitted = |app: &TestApp| {
        use diesel::prelude::*;
        use samskap::infra::db::schema::responses;
        let conn = &mut app.db.connect();
        let n: i64 = responses::table
            .filter(responses::wave_id.eq(&wave))
            .filter(responses::submitted_at.is_not_null())
            .count()
            .get_result(conn)
            .expect("count");
        n
    };
    assert_eq!(submitted(&app), 0, "nothing sent without the tick");
    // Enter in the form (its default button, `stay`) saves and shows the same page.
    let res = client
        .post(format!("{base}{path}"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("page", "A"),
            ("action", "stay"),
            ("A1", "2"),
            ("lang", "en"),
        ])
        .send()
        .await
        .expect("stay");
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .expect("ascii")
            .contains("page=A&"),
        "the same page again"
    );
    // With it, the answers go.
    let res = client
        .post(format!("{base}{path}"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("page", "review"),
            ("action", "submit"),
            ("send_unanswered", "yes"),
            ("lang", "en"),
        ])
        .send()
        .await
        .expect("submit");
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("Thank you for your answers!")
    );
    assert_eq!(submitted(&app), 1);
}

#[actix_web::test]
async fn a_bounced_address_fails_at_once_and_the_wave_page_lists_it() {
    let dir = tempfile::tempdir().expect("dir");
    let smtp = SmtpServer::start(&dir.path().join("maildir"));
    let app = app_with_smtp(smtp.port).await;
    let (admin, wave, codes) = open_wave(&app, false).await;
    let csv = format!(
        "service_code,role,email,language\n{c},manager,leder@example.no,en\n{c},peer_worker,bounce.peer@example.no,en\n",
        c = codes[0]
    );
    let res = invite(&app, &admin, &wave, &csv).await;
    assert_eq!(res.status(), 303);
    // The good address arrives; the refused one is failed after one try, not retried.
    let delivered = smtp.wait_for(1);
    assert!(
        delivered.iter().all(|m| m.to.contains("leder@")),
        "{delivered:?}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let bounced = loop {
        let conn = &mut app.db.connect();
        let failed = OutboxMessage::failed_for_wave(conn, &wave).expect("outbox");
        if let Some(m) = failed.into_iter().next() {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the refused message was not failed"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(bounced.to_address, "bounce.peer@example.no");
    assert_eq!(bounced.attempts, 1, "a permanent refusal is not retried");
    assert!(
        bounced
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("550")),
        "{:?}",
        bounced.last_error
    );
    {
        let conn = &mut app.db.connect();
        let statuses: Vec<_> = samskap::infra::models::Invitation::for_wave(conn, &wave)
            .expect("invitations")
            .into_iter()
            .map(|i| i.status)
            .collect();
        assert!(
            statuses.contains(&samskap::core::domain::InvitationStatus::Failed),
            "the bounced invitation is marked failed: {statuses:?}"
        );
    }
    let page = admin
        .get(format!("{}/admin/waves/{wave}?lang=en", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let list = page
        .split("id=\"undelivered-h\"")
        .nth(1)
        .expect("a list of undelivered messages");
    assert!(
        list.contains("bounce.peer@example.no") && list.contains("550"),
        "the address and the server's reason: {list}"
    );
    assert!(
        !list.contains("leder@example.no"),
        "only the refused address"
    );
}

/// The settings of [`app_with_smtp`], for a second instance on the same database.
fn smtp_settings(app: &TestApp, port: u16) -> samskap::infra::config::Settings {
    let mut s = app.db.settings();
    s.surveys_dir = app.db.path("no-surveys-dir");
    s.mail.transport = MailTransport::Smtp;
    s.mail.smtp = Some(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::None,
        username: None,
        password: None,
    });
    s.outbox_interval = Duration::from_millis(100);
    s
}

#[actix_web::test]
async fn reminders_go_out_on_the_schedule_once_and_can_be_paused() {
    let dir = tempfile::tempdir().expect("dir");
    let smtp = SmtpServer::start(&dir.path().join("maildir"));
    let app = app_with_smtp(smtp.port).await;
    let (admin, wave, codes) = open_wave(&app, false).await;
    // On PostgreSQL a second instance runs the same schedule against the same database.
    if crate::helpers::expected_backend() == "postgres" {
        let second = samskap::web::Application::build(smtp_settings(&app, smtp.port), Some(1))
            .await
            .expect("a second instance starts");
        actix_web::rt::spawn(second.run_until_stopped());
    }
    let page = |path: String| {
        let admin = admin.clone();
        let address = app.address.clone();
        async move {
            admin
                .get(format!("{address}{path}"))
                .send()
                .await
                .expect("get")
                .text()
                .await
                .expect("body")
        }
    };
    // 0 days between reminders: only the button sends them.
    assert!(
        page(format!("/admin/waves/{wave}?lang=en"))
            .await
            .contains("Reminders go out only when you send them")
    );
    // A bad schedule names its fields and changes nothing.
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/schedule?lang=en"),
        &[
            ("closes", "2020-01-01"),
            ("reminders", "1"),
            ("reminder_days", "x"),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.expect("body");
    assert!(
        html.contains("value=\"x\""),
        "what was typed is kept: {html}"
    );
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/schedule?lang=en"),
        &[
            ("closes", "2020-01-01"),
            ("reminders", "1"),
            ("reminder_days", "1"),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("the closing date has passed")
    );
    // One reminder a day after the invitation; the wave extended to a later date.
    let later = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/schedule?lang=en"),
        &[
            ("closes", &later),
            ("reminders", "1"),
            ("reminder_days", "1"),
        ],
    )
    .await;
    assert!(
        followed(&app, &admin, res)
            .await
            .contains("The schedule is saved.")
    );
    let csv = format!(
        "service_code,role,email,language\n{c},manager,leder@example.no,en\n{c},peer_worker,peer@example.no,nb\n",
        c = codes[0]
    );
    let res = invite(&app, &admin, &wave, &csv).await;
    assert_eq!(res.status(), 303);
    smtp.wait_for(2);
    let html = page(format!("/admin/waves/{wave}?lang=en")).await;
    assert!(
        html.contains("Automatic reminders are on: the next falls due at"),
        "{html}"
    );
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/reminders"),
        &[("paused", "yes")],
    )
    .await;
    assert!(followed(&app, &admin, res).await.contains("paused"));
    // A day has passed for both (their invitations are moved back two days).
    {
        use samskap::infra::models::{Invitation, InvitationChanges};
        let conn = &mut app.db.connect();
        let two_days_ago = samskap::infra::db::now() - chrono::Duration::days(2);
        for inv in Invitation::for_wave(conn, &wave).expect("inv") {
            let back = InvitationChanges {
                sent_at: Some(Some(two_days_ago)),
                ..Default::default()
            };
            Invitation::update(conn, &inv.id, &back).expect("backdated");
        }
    }
    // Paused: a housekeeping round (every 3 s here) sends nothing.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(smtp.messages().len(), 2, "nothing while paused");
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/reminders"),
        &[("paused", "no")],
    )
    .await;
    assert!(followed(&app, &admin, res).await.contains("on again"));
    let all = smtp.wait_for(4);
    let reminded: Vec<&str> = all
        .iter()
        .filter(|m| m.subject.starts_with("Reminder") || m.subject.starts_with("Påminnelse"))
        .map(|m| m.to.as_str())
        .collect();
    assert_eq!(reminded.len(), 2, "{reminded:?}");
    // Exactly once: later rounds (of both instances) send nothing more.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(smtp.messages().len(), 4, "each reminder once");
    let conn = &mut app.db.connect();
    for inv in samskap::infra::models::Invitation::for_wave(conn, &wave).expect("inv") {
        assert_eq!(inv.reminder_count, 1);
    }
    let audit = samskap::app::audit::search(
        conn,
        &samskap::app::audit::Filter {
            action: Some("wave.remind".into()),
            ..Default::default()
        },
        10,
    )
    .expect("audit");
    assert!(
        audit.iter().any(|e| e.actor == "reminder schedule"),
        "recorded as the schedule's"
    );
}

#[actix_web::test]
async fn a_closed_wave_reopens_until_a_new_date_unless_its_results_are_final() {
    let app = spawn_app_with(|_| {}).await;
    let (admin, wave, codes) = open_wave(&app, false).await;
    let csv = format!(
        "service_code,role,email,language\n{c},manager,leder@example.no,en\n",
        c = codes[0]
    );
    assert_eq!(invite(&app, &admin, &wave, &csv).await.status(), 303);
    let closed = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/close"),
        &[("confirm", "yes")],
    )
    .await;
    let html = followed(&app, &admin, closed).await;
    assert!(html.contains("Reopen the wave"), "{html}");
    let url = format!("/admin/waves/{wave}/reopen?lang=en");
    let res = post_form(&app, &admin, &url, &[("closes", "")]).await;
    assert_eq!(res.status(), 422, "a tick first");
    let res = post_form(
        &app,
        &admin,
        &url,
        &[("confirm", "yes"), ("closes", "2020-01-01")],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("the closing date has passed")
    );
    let res = post_form(
        &app,
        &admin,
        &url,
        &[("confirm", "yes"), ("closes", "31.12.2030")],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("is not a date; use YYYY-MM-DD")
    );
    let res = post_form(
        &app,
        &admin,
        &url,
        &[("confirm", "yes"), ("closes", "2030-12-31")],
    )
    .await;
    assert!(
        followed(&app, &admin, res)
            .await
            .contains("The wave is open again.")
    );
    let w = samskap::infra::models::Wave::find(&mut app.db.connect(), &wave).expect("wave");
    assert_eq!(w.status, samskap::core::domain::WaveStatus::Open);
    assert_eq!(
        w.closes_at.map(|c| c.to_string()).as_deref(),
        Some("2030-12-31 22:59:59"),
        "the end of the day in Oslo (CET, UTC+1), stored in UTC"
    );
    // Pages show the closing time in the zone (SAMSKAP_TIMEZONE, Europe/Oslo here).
    let page = page_of(&app, &admin, &format!("/admin/waves/{wave}?lang=en")).await;
    assert!(page.contains("2030-12-31 23:59 CET"), "{page}");
    // Closed again and its addresses erased: final, and reopening is refused.
    let res = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/close"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(res.status(), 303);
    samskap::app::waves::erase_emails(
        &mut app.db.connect(),
        &wave,
        true,
        &samskap::app::audit::Actor::cli(),
    )
    .expect("erased");
    assert!(
        page_of(&app, &admin, &format!("/admin/waves/{wave}?lang=en"))
            .await
            .contains("cannot be reopened")
    );
    let res = post_form(&app, &admin, &url, &[("confirm", "yes"), ("closes", "")]).await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("results are final")
    );
}

async fn page_of(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body")
}

//! Issue 22: respondent roles come from the survey file. A fourth role, declared only in a
//! survey file, goes the whole way without a line of code: loaded, invited from a
//! respondent list, answered through the questionnaire's API, published with its gaps to
//! every other role, shown on the service dashboard and exported for research.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use samskap::core::domain::{UserRole, WaveId};
use samskap::infra::models::{InstrumentRow, Service};
use samskap::tools::demo::{self, DemoOptions};

use crate::auth_helpers::{create_user, post_form, signed_in};
use crate::helpers::{TestApp, spawn_app_with, stderr};

/// The shipped survey as version 2.1.0 with a fourth role, `board_member` (members of the
/// service's user board), asked every scored item and one context question of its own.
fn four_role_survey() -> String {
    let text = samskap::core::instrument::BUILT_IN[0].1;
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        if let Some(rest) = line.strip_prefix("text.staff = ") {
            let board = rest
                .replace(
                    "i tjenesten din",
                    "i tjenesten du er brukerrepresentant for",
                )
                .replace("at your service", "at the service whose board you sit on");
            writeln!(out, "text.board_member = {board}").expect("writing to a string");
        }
    }
    let board_role = "\n[roles.board_member]\n\
        label = { nb = \"Brukerrådsmedlem\", en = \"Board member\" }\n\
        plural = { nb = \"Brukerrådsmedlemmer\", en = \"Board members\" }\n\
        intro = { nb = \"Svar som medlem av brukerrådet.\", en = \"Answer as a member of the user board.\" }\n";
    let at = out.find("\n[roles.staff]").expect("the staff role");
    out.insert_str(at, board_role);
    let context = "[[context]]\ncode = \"B_MEETINGS\"\nroles = [\"board_member\"]\n\
        type = \"integer\"\n\
        text = { nb = \"Hvor mange møter hadde brukerrådet siste år?\", en = \"How many times did the user board meet last year?\" }\n\
        min = 0\nmax = 52\n\n";
    let scoring = out.find("# ---------------------------------------------------------------------------\n# Scoring").expect("scoring");
    out.insert_str(scoring, context);
    out.replacen("version = \"2.0.0\"", "version = \"2.1.0\"", 1)
}

/// A demo catalogue of four services (random seed `seed`) and an open wave called `name`
/// on it with the shipped instrument: the wave and the services.
fn demo_wave(app: &TestApp, seed: u64, name: &str) -> (samskap::infra::models::Wave, Vec<Service>) {
    let conn = &mut app.db.connect();
    demo::load(conn, DemoOptions { services: 4, seed }).expect("demo");
    (
        crate::fixtures::open_wave(conn, name),
        Service::all(conn).expect("services"),
    )
}

/// Waits for the outbox to write `n` messages and returns each one's recipient and
/// questionnaire token.
fn tokens_from_mail(app: &TestApp, n: usize) -> Vec<(String, String)> {
    let dir = app.db.path("mail");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        if files.len() >= n {
            return files
                .iter()
                .map(|f| {
                    let raw = std::fs::read(f).expect("eml");
                    let mail = mailparse::parse_mail(&raw).expect("parse");
                    let to = mail
                        .headers
                        .iter()
                        .find(|h| h.get_key_ref().eq_ignore_ascii_case("to"))
                        .map(mailparse::MailHeader::get_value)
                        .expect("To");
                    let body = mail
                        .subparts
                        .iter()
                        .find(|p| p.ctype.mimetype == "text/plain")
                        .expect("text part")
                        .get_body()
                        .expect("body");
                    let start = body.find("/s/").expect("a questionnaire link") + 3;
                    let token: String = body[start..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect();
                    (to, token)
                })
                .collect();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {n} invitations written",
            files.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[actix_web::test]
async fn a_fourth_role_from_a_survey_file_goes_from_invitation_to_dashboard_and_export() {
    let app = spawn_app_with(|s| {
        s.min_cell = 3;
        s.outbox_interval = Duration::from_millis(100);
    })
    .await;
    // The survey file is all there is to the new role.
    let file = app.db.write("four-roles.toml", &four_role_survey());
    let checked = app
        .db
        .samskap(&["survey", "check", file.to_str().expect("path")]);
    assert!(checked.status.success(), "{}", stderr(&checked));
    let loaded = app
        .db
        .samskap(&["survey", "load", file.to_str().expect("path")]);
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    let (instrument, service) = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 6,
                seed: 22,
            },
        )
        .expect("demo");
        let instrument = InstrumentRow::all(conn)
            .expect("instruments")
            .into_iter()
            .find(|r| r.version == "2.1.0")
            .expect("the four-role version")
            .id;
        (instrument, Service::all(conn).expect("services").remove(0))
    };

    // An admin creates and opens the wave, and invites from a respondent list.
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let created = post_form(
        &app,
        &admin,
        "/admin/waves",
        &[
            ("name", "Fire roller"),
            ("instrument", instrument.as_str()),
            ("anonymity", "linked"),
            ("closes", ""),
            ("reminders", "0"),
            ("reminder_days", "0"),
            ("retention_days", "90"),
        ],
    )
    .await;
    assert_eq!(created.status(), 303, "{:?}", created.text().await);
    let wave = WaveId::from_string(
        created.headers()["location"]
            .to_str()
            .expect("ascii")
            .trim_start_matches("/admin/waves/"),
    );
    let opened = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/open"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(opened.status(), 303);
    // A role the file does not declare is refused, naming the roles it does.
    let wrong = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/invite"),
        &[(
            "csv",
            &format!(
                "service_code,role,email,language\n{},board,x@example.no,en\n",
                service.code
            ),
        )],
    )
    .await;
    assert_eq!(wrong.status(), 400);
    assert!(
        wrong.text().await.expect("body").contains(
            "Role: &quot;board&quot; is not one of this survey&#x27;s roles (board_member, manager, peer_worker, staff)"
        ),
        "the refusal names the declared roles"
    );
    let mut csv = String::from("service_code,role,email,language\n");
    for i in 0..3 {
        writeln!(csv, "{},manager,leder{i}@example.no,en", service.code).expect("csv");
        writeln!(csv, "{},board_member,styre{i}@example.no,en", service.code).expect("csv");
    }
    let invited = post_form(
        &app,
        &admin,
        &format!("/admin/waves/{wave}/invite"),
        &[("csv", &csv)],
    )
    .await;
    assert_eq!(invited.status(), 303, "{:?}", invited.text().await);

    // Each answers through the questionnaire's API: the board members see their own
    // wording, and rate every phase 1 where the managers say 3.
    for (to, token) in tokens_from_mail(&app, 6) {
        let board = to.contains("styre");
        let q: Value = reqwest::get(format!("{}/api/v1/respondent/{token}", app.address))
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(q["role"], if board { "board_member" } else { "manager" });
        let texts: Vec<&str> = q["pages"]
            .as_array()
            .expect("pages")
            .iter()
            .flat_map(|p| p["items"].as_array().expect("items"))
            .filter_map(|i| i["text"].as_str())
            .collect();
        if board {
            assert!(
                texts
                    .iter()
                    .any(|t| t.contains("the service whose board you sit on")),
                "the board member's own wording"
            );
            assert!(texts.iter().any(|t| t.contains("user board meet")));
        }
        let mut answers = crate::fixtures::uniform_answers(if board { 1 } else { 3 });
        if board {
            answers["B_MEETINGS"] = json!(6);
        }
        let res = reqwest::Client::new()
            .post(format!("{}/api/v1/respondent/{token}/submit", app.address))
            .json(&json!({"consent": true, "answers": answers}))
            .send()
            .await
            .expect("submit");
        assert_eq!(res.status(), 200, "{:?}", res.text().await);
    }

    // Published: the fourth role's cells, and its gap to every other role.
    let results: Value = admin
        .get(format!(
            "{}/api/v1/waves/{wave}/services/{}/results",
            app.address, service.code
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let svc = &results["service"];
    let roles: Vec<&str> = svc["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r["role"].as_str().expect("code"))
        .collect();
    assert_eq!(roles, ["board_member", "manager", "peer_worker", "staff"]);
    let board = &svc["roles"][0];
    assert_eq!(board["index"]["status"], "shown", "{board}");
    assert_eq!(board["index"]["n"], 3);
    assert_eq!(board["phases"][0]["stats"]["value"]["mean"], 1.0);
    let gaps = svc["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 4 * 6, "every phase × every pair of four roles");
    let pair = gaps
        .iter()
        .find(|g| g["phase"] == "A" && g["first"] == "board_member" && g["second"] == "manager")
        .expect("the board members' gap to the managers");
    assert_eq!(pair["gap"]["status"], "shown");
    assert_eq!(pair["gap"]["value"]["gap"], -2.0);
    assert_eq!(pair["gap"]["value"]["flagged"], true);
    // Nobody answered as a peer worker: that pair is empty, not a number.
    let empty = gaps
        .iter()
        .find(|g| g["phase"] == "A" && g["first"] == "board_member" && g["second"] == "peer_worker")
        .expect("the board members' gap to the peer workers");
    assert_eq!(empty["gap"]["status"], "empty");

    // The dashboard names the role as the file does and puts it beside the managers.
    let html = admin
        .get(format!(
            "{}/services/{}?wave={wave}&lang=en",
            app.address, service.code
        ))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        html.contains("<th scope=\"col\">Board members</th>"),
        "{html}"
    );
    assert!(
        html.contains("Managers rate this phase 2.00 points higher than board members do."),
        "the gap in words"
    );
    assert!(
        !html.contains("<th scope=\"col\">Peer workers</th>"),
        "no column for a role nobody at the service was asked in"
    );

    // The research export carries the role's rows, its question texts and its context
    // question.
    let dir = app.db.path("bundle");
    let out = app.db.samskap(&[
        "export",
        "--wave",
        wave.as_str(),
        "--out",
        dir.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let wide = std::fs::read_to_string(dir.join("wide.csv")).expect("wide");
    assert_eq!(
        wide.lines()
            .filter(|l| l.contains(",board_member,"))
            .count(),
        3,
        "{wide}"
    );
    assert!(wide.lines().next().expect("header").contains("b_meetings"));
    let redcap = std::fs::read_to_string(dir.join("redcap-peer-involvement-2.1.0.csv"))
        .expect("the REDCap dictionary");
    assert!(redcap.contains("a1_board_member,board_member,"), "{redcap}");
}

/// Issue 22: evidence of action against a hand-computed fixture. Four managers of one
/// service (k = 3) rate each phase and answer its evidence question:
///
/// | phase | ratings (each item) | occasion named      | high | backed | mean | published               |
/// |-------|---------------------|---------------------|------|--------|------|-------------------------|
/// | A     | 4, 3, 3, 1          | yes, none, —, yes   | 3    | 1      | 2.75 | 3, 1: stated, not shown |
/// | B     | 3, 3, 3, 3          | yes, yes, yes, none | 4    | 3      | 3.00 | 4, 3                    |
/// | C     | 3, 3, 3, 3          | yes ×4              | 4    | 4      | 3.00 | withheld: uniform       |
/// | D     | 3, 2, 2, 2          | none ×4             | 1    | 0      | 2.25 | withheld: few high      |
///
/// High is a phase score of 2.5 (band 3, Partner) or more; the fourth manager's
/// occasion in A backs no high rating; an unanswered question backs nothing. In C every
/// manager rated high and named an occasion: the counts would tell each one's answer.
/// In D one manager rated high: fewer than k. Peer workers are not asked, so their
/// cells carry no evidence.
#[actix_web::test]
async fn the_evidence_share_matches_a_hand_computed_fixture() {
    let app = spawn_app_with(|s| s.min_cell = 3).await;
    let (wave, mut services) = demo_wave(&app, 9, "Bevis");
    let service = services.remove(0);
    let ratings = [[4, 3, 3, 3], [3, 3, 3, 2], [3, 3, 3, 2], [1, 3, 3, 2]];
    let occasions = [
        ["decision_meeting", "user_activity", "user_activity", "none"],
        ["none", "working_group", "evaluation", "none"],
        ["", "written_document", "other", "none"],
        ["evaluation", "none", "user_activity", "none"],
    ];
    for (i, (rating, occasion)) in ratings.iter().zip(&occasions).enumerate() {
        let mut answers = serde_json::Map::new();
        for (p, phase) in ["A", "B", "C", "D"].iter().enumerate() {
            for n in 1..=5 {
                answers.insert(format!("{phase}{n}"), json!(rating[p]));
            }
            if !occasion[p].is_empty() {
                answers.insert(format!("{phase}_OCCASION"), json!(occasion[p]));
            }
        }
        crate::fixtures::invite_and_submit(
            &app,
            &wave,
            &service,
            samskap::core::domain::RespondentRole::parse("manager").expect("role"),
            &format!("leder{i}@example.no"),
            Value::Object(answers),
        )
        .await;
    }
    for i in 0..3 {
        crate::fixtures::invite_and_submit(
            &app,
            &wave,
            &service,
            samskap::core::domain::RespondentRole::parse("peer_worker").expect("role"),
            &format!("ek{i}@example.no"),
            crate::fixtures::uniform_answers(3),
        )
        .await;
    }
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let results: Value = admin
        .get(format!(
            "{}/api/v1/waves/{}/services/{}/results",
            app.address, wave.id, service.code
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let roles = results["service"]["roles"].as_array().expect("roles");
    let of = |code: &str| {
        roles
            .iter()
            .find(|r| r["role"] == code)
            .expect("the role's results")
    };
    let expected = [
        ("A", json!(3), json!(1), true, json!(null), 2.75),
        ("B", json!(4), json!(3), false, json!(null), 3.0),
        ("C", json!(null), json!(null), false, json!("uniform"), 3.0),
        (
            "D",
            json!(null),
            json!(null),
            false,
            json!("few_high_ratings"),
            2.25,
        ),
    ];
    for (p, (phase, high, backed, flagged, withheld, mean)) in expected.iter().enumerate() {
        let stats = &of("manager")["phases"][p]["stats"];
        assert_eq!(stats["status"], "shown", "{phase}: {stats}");
        assert_eq!(stats["value"]["mean"], *mean, "{phase}");
        let e = &stats["value"]["evidence"];
        assert_eq!(
            (
                &e["high"],
                &e["backed"],
                &e["stated_not_shown"],
                &e["withheld"]
            ),
            (high, backed, &json!(flagged), withheld),
            "{phase}: {e}"
        );
        let peers = &of("peer_worker")["phases"][p]["stats"]["value"];
        assert!(
            peers["evidence"].is_null(),
            "peer workers are not asked: {peers}"
        );
    }

    // Responses stored without slots (before migration 000004) are scored from their
    // answer rows: the evidence answers too, to the same publication.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                use diesel::prelude::*;
                use samskap::infra::db::schema::responses;
                let conn = &mut app.db.connect();
                let k = samskap::app::analytics::MinCell::new(3);
                let publish = |conn: &mut samskap::infra::db::DbConn| {
                    crate::fixtures::publication_json(conn, &wave.id, k)
                };
                let before = publish(conn);
                diesel::update(responses::table.filter(responses::wave_id.eq(&wave.id)))
                    .set(responses::answer_slots.eq(None::<Vec<u8>>))
                    .execute(conn)
                    .expect("clear slots");
                assert_eq!(before, publish(conn), "scored from the answer rows");
            })
            .join()
            .expect("the check panicked");
    });

    // The dashboard: the share per phase, the flag where it applies.
    let html = admin
        .get(format!(
            "{}/services/{}?wave={}&lang=en",
            app.address, service.code, wave.id
        ))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let start = html
        .find("id=\"evidence-h\"")
        .expect("the evidence section");
    let section = &html[start
        ..html[start..]
            .find("</section>")
            .map_or(html.len(), |e| start + e)];
    assert!(section.contains("of those who rated a phase high (Partner or Peer-led)"));
    assert!(
        section.contains("33 %") && section.contains("75 %"),
        "{section}"
    );
    assert!(
        section.contains("Not shown: everyone rated it high and gave the same answer"),
        "C: {section}"
    );
    assert!(
        section.contains("Not shown: fewer than 3 rated it high."),
        "D: {section}"
    );
    assert_eq!(
        section
            .matches("<span class=\"flag\">Stated, not shown</span>")
            .count(),
        1,
        "A and D: {section}"
    );

    // The research export carries the answers themselves, labelled.
    let dir = app.db.path("bundle");
    let out = app.db.samskap(&[
        "export",
        "--wave",
        wave.id.as_str(),
        "--out",
        dir.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let codebook = std::fs::read_to_string(dir.join("codebook.csv")).expect("codebook");
    assert!(
        codebook
            .lines()
            .any(|l| l.starts_with("a_occasion,")
                && l.contains("1=No, I cannot point to such an occasion; 2=Yes: a meeting where something was decided with peer workers")),
        "{codebook}"
    );
}

/// The psychometrics add every role of the wave together. With staff asked at one
/// service only (two of them, fewer than k nationally), the wave's item statistics minus
/// the managers' and peer workers' national cells would give the two staff members'
/// answers away; so the phases' psychometrics are hidden while the staff's national cell
/// is, and shown once nobody but managers and peer workers answered.
#[actix_web::test]
async fn psychometrics_over_every_role_hide_with_a_hidden_role() {
    let app = spawn_app_with(|s| s.min_cell = 5).await;
    let (wave, services) = demo_wave(&app, 3, "Psykometri");
    let role = |code: &str| samskap::core::domain::RespondentRole::parse(code).expect("role");
    let mut n = 0;
    for service in services.iter().take(2) {
        for code in ["manager", "peer_worker"] {
            for v in [1, 2, 3, 2, 3, 4] {
                n += 1;
                crate::fixtures::invite_and_submit(
                    &app,
                    &wave,
                    service,
                    role(code),
                    &format!("r{n}@example.no"),
                    crate::fixtures::uniform_answers(v),
                )
                .await;
            }
        }
    }
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let statuses = || async {
        let p: Value = admin
            .get(format!(
                "{}/api/v1/waves/{}/psychometrics",
                app.address, wave.id
            ))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        p["psychometrics"]
            .as_array()
            .expect("phases")
            .iter()
            .map(|ph| {
                (
                    ph["alpha"]["status"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    ph["items"][0]["stats"]["status"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let shown = ("shown".to_owned(), "shown".to_owned());
    assert_eq!(
        statuses().await,
        vec![shown.clone(); 4],
        "two roles, all shown"
    );

    for (i, v) in [4, 1].into_iter().enumerate() {
        crate::fixtures::invite_and_submit(
            &app,
            &wave,
            &services[0],
            role("staff"),
            &format!("ansatt{i}@example.no"),
            crate::fixtures::uniform_answers(v),
        )
        .await;
    }
    let hidden = ("suppressed".to_owned(), "suppressed".to_owned());
    assert_eq!(
        statuses().await,
        vec![hidden; 4],
        "two staff members nationally: every phase's psychometrics hidden"
    );
}

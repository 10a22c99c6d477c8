//! Dashboards and reports as users get them: numbers where the gate shows a group, a
//! notice (and no number) where it hides one, in bokmål and English; the printable
//! report; `samskap report` writing every service's report and e-mailing managers.

use diesel::prelude::*;
use samskap::app::waves;
use samskap::core::domain::{RespondentRole, ScopeKind, UserRole};
use samskap::infra::crypto::DerivedKeys;
use samskap::infra::db::schema::outbox;
use samskap::infra::models::{Service, Wave};
use samskap::tools::demo::{self, DemoOptions};
use serde_json::{Value, json};

use crate::auth_helpers::{create_user, signed_in};
use crate::helpers::{TestApp, spawn_app_with, stdout};

const K: u32 = 3;

/// Every scored item answered with `v`: the respondent's phase scores are all `v`.
use crate::fixtures::uniform_answers as answers;

struct Fixture {
    app: TestApp,
    wave: Wave,
    s1: Service,
    s2: Service,
}

/// Three services: s1 with managers answering 3, 2, 3, 4 (mean 3.00) and peer workers
/// 1, 2, 1 (mean 1.33); s2 with managers 2, 2, 3 (mean 2.33) and one peer worker (4),
/// whom the gate must hide at k = 3; s3, a neighbour of s2 of the same type, with two
/// peer workers (2, 3), hidden too. Their (municipality, type) cell has three and is
/// shown; without s3, s2's lone peer worker would be hidden all the way up the region
/// tables, and where that branch meets s1's the joint gate would hide s1's peers too.
async fn fixture() -> Fixture {
    let app = spawn_app_with(|s| s.min_cell = K).await;
    let (wave, s1, s2, s3) = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 12,
                seed: 4,
            },
        )
        .expect("demo");
        let services = Service::all(conn).expect("services");
        let s3 = crate::fixtures::sibling_service(conn, &services[1]);
        let wave = crate::fixtures::open_wave(conn, "Kartlegging test");
        (wave, services[0].clone(), services[1].clone(), s3)
    };
    let groups: [(&Service, RespondentRole, &[i32]); 5] = [
        (
            &s1,
            RespondentRole::parse("manager").expect("role"),
            &[3, 2, 3, 4],
        ),
        (
            &s1,
            RespondentRole::parse("peer_worker").expect("role"),
            &[1, 2, 1],
        ),
        (
            &s2,
            RespondentRole::parse("manager").expect("role"),
            &[2, 2, 3],
        ),
        (
            &s2,
            RespondentRole::parse("peer_worker").expect("role"),
            &[4],
        ),
        (
            &s3,
            RespondentRole::parse("peer_worker").expect("role"),
            &[2, 3],
        ),
    ];
    for (g, (service, role, values)) in groups.iter().enumerate() {
        for (i, v) in values.iter().enumerate() {
            crate::fixtures::invite_and_submit(
                &app,
                &wave,
                service,
                role.clone(),
                &format!("p{g}-{i}@example.no"),
                answers(*v),
            )
            .await;
        }
    }
    Fixture { app, wave, s1, s2 }
}

async fn page(client: &reqwest::Client, url: String) -> String {
    let res = client.get(&url).send().await.expect("get");
    assert_eq!(res.status(), 200, "{url}");
    res.text().await.expect("body")
}

/// The part of `html` between two markers.
fn section<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html.find(from).unwrap_or_else(|| panic!("{from} missing"));
    let end = html[start..].find(to).map_or(html.len(), |e| start + e);
    &html[start..end]
}

/// Every "n = N" on a page: no shown number may rest on fewer than k respondents.
fn assert_no_small_cells(html: &str, what: &str) {
    let mut rest = html;
    let mut seen = 0;
    while let Some(i) = rest.find("n = ") {
        let digits: String = rest[i + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = digits.parse::<u32>() {
            assert!(n >= K, "{what}: a cell with n = {n} < {K}");
            seen += 1;
        }
        rest = &rest[i + 4..];
    }
    assert!(seen > 0, "{what}: no cell shown at all");
}

#[actix_web::test]
async fn dashboards_show_what_the_gate_allows_in_both_languages() {
    let f = fixture().await;
    create_user(&f.app, "admin@test.no", UserRole::Admin, &[]);
    create_user(
        &f.app,
        "manager@test.no",
        UserRole::Manager,
        &[(ScopeKind::Service, &f.s1.code)],
    );
    let admin = signed_in(&f.app, "admin@test.no").await;
    let manager = signed_in(&f.app, "manager@test.no").await;
    let base = &f.app.address;

    // Service 1 in English: both roles shown, the gap flagged, the chart accessible.
    let html = page(&manager, format!("{base}/services/{}?lang=en", f.s1.code)).await;
    let profile = section(&html, "id=\"profile-h\"", "id=\"gap-h\"");
    assert!(profile.contains("3.00"), "managers' mean");
    assert!(profile.contains("1.33"), "peer workers' mean");
    assert!(!profile.contains("Too few responses to show"));
    assert!(profile.contains(r#"role="img" aria-labelledby="profile-t profile-d""#));
    assert!(profile.contains("<details class=\"data-table\">"));
    assert!(profile.contains("<th scope=\"col\">95 % confidence interval</th>"));
    let gaps = section(&html, "id=\"gap-h\"", "id=\"index-h\"");
    assert!(gaps.contains("Managers rate this phase 1.67 points higher than peer workers do."));
    assert!(gaps.contains("Large gap"));
    assert!(html.contains("Recommended next step"));
    assert!(html.contains("<html lang=\"en\">"));
    assert_no_small_cells(&html, "service 1");

    // Service 2 in bokmål, as the admin: the lone peer worker is hidden, never shown.
    let html = page(&admin, format!("{base}/services/{}?lang=nb", f.s2.code)).await;
    assert!(html.contains("<html lang=\"nb\">"));
    let profile = section(&html, "id=\"profile-h\"", "id=\"gap-h\"");
    assert!(
        profile.contains("2,33"),
        "managers' mean with a decimal comma"
    );
    assert!(profile.contains("For få svar til å vise"));
    assert!(
        !html.contains("4,00"),
        "the single peer worker's score leaked"
    );
    let gaps = section(&html, "id=\"gap-h\"", "id=\"index-h\"");
    assert!(
        gaps.contains(
            "Ledere og erfaringskonsulenter: vises ikke, en av gruppene har for få svar."
        )
    );
    assert!(
        !gaps.contains("poeng høyere"),
        "a gap against a hidden group"
    );
    assert_no_small_cells(&html, "service 2");
    // The language is remembered.
    let again = page(&admin, format!("{base}/services/{}", f.s2.code)).await;
    assert!(again.contains("<html lang=\"nb\">"));

    // The manager of service 1 does not see service 2.
    let res = manager
        .get(format!("{base}/services/{}", f.s2.code))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 403);

    // The printable report: A4, with the methods note and open tables, styled by the
    // site's stylesheet (the page's Content-Security-Policy blocks inline styles).
    let report = page(
        &manager,
        format!(
            "{base}/reports/{}/services/{}?lang=en",
            f.wave.id, f.s1.code
        ),
    )
    .await;
    assert!(report.contains("How the numbers are made"));
    assert!(report.contains("Based on the answers of 4 managers and 3 peer workers"));
    assert!(report.contains("<details class=\"data-table\" open>"));
    assert!(
        report.contains("<link rel=\"stylesheet\" href=\"/static/samskap.css\">")
            && !report.contains("<style")
            && !report.contains("style=\""),
        "no inline styles under the CSP: the stylesheet is linked"
    );
    let css = page(&manager, format!("{base}/static/samskap.css")).await;
    assert!(
        css.contains("@page { size: A4"),
        "the linked stylesheet prints on A4"
    );
    assert_no_small_cells(&report, "report");

    // Aggregate CSV for the manager: hidden cells say so and carry no number.
    let res = admin
        .get(format!("{base}/services/{}/results.csv", f.s2.code))
        .send()
        .await
        .expect("get");
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"service-results.csv\""
    );
    let csv = res.text().await.expect("body");
    assert!(
        csv.starts_with("wave,service,role,measure,status,n,mean"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("{},peer_worker,A,suppressed,,,", f.s2.code)),
        "{csv}"
    );
    assert!(csv.contains(",manager,A,shown,3,2.333333"), "{csv}");
    assert!(
        !csv.contains("4.000000"),
        "the lone peer worker's score leaked: {csv}"
    );
    // The same service's tables for Norwegian Excel: labelled, decimal commas, the lone
    // peer worker nowhere.
    let sheet = page(
        &admin,
        format!(
            "{base}/services/{}/results.csv?format=spreadsheet&lang=nb",
            f.s2.code
        ),
    )
    .await;
    assert!(
        sheet.contains("Samdefinere;Ledere;3;2,33;"),
        "the managers' co-define row, labelled: {sheet}"
    );
    assert!(
        sheet.contains("Samdefinere;Erfaringskonsulenter;;For få svar til å vise"),
        "the hidden peer worker row says why: {sheet}"
    );
    assert!(
        !sheet.contains("4,00") && !sheet.contains("4.00"),
        "the lone peer worker's score leaked: {sheet}"
    );
    // Psychometrics of the wave, as a page and CSV.
    let psy = page(
        &admin,
        format!("{base}/waves/{}/psychometrics?lang=en", f.wave.id),
    )
    .await;
    assert!(
        psy.contains("alpha") && psy.contains("ICC(1)") && psy.contains("0.70 acceptable"),
        "psychometrics page: each statistic named, with its convention"
    );
    // Rounded: no long run of decimals.
    let long_decimals = psy
        .as_bytes()
        .windows(6)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2..].iter().all(u8::is_ascii_digit));
    assert!(!long_decimals, "psychometrics rounded for reading");
    assert!(!psy.contains("count_0"), "codes are labelled");

    // The region page: no cell below k, hidden ones marked.
    let region = f.s1.health_region_id.to_string();
    let html = page(
        &admin,
        format!("{base}/regions/{region}?lang=en&role=peer_worker"),
    )
    .await;
    assert!(
        html.contains("and its counties, phase by phase"),
        "the first table is named for its rows"
    );
    assert!(
        html.contains("How each group sees it"),
        "the region's perception gap"
    );
    // The page's tables for Norwegian Excel: a byte-order mark, `;`, decimal commas,
    // phase names instead of codes.
    let res = admin
        .get(format!(
            "{base}/regions/{region}/results.csv?format=spreadsheet&lang=nb&role=manager"
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.expect("body");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a byte-order mark");
    let sheet = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    assert!(
        sheet.contains("Område;Samdefinere;Samdesigne;Samlevere;Samevaluere;Indeks"),
        "{sheet}"
    );
    assert!(
        sheet
            .lines()
            .skip(2)
            .take_while(|l| !l.is_empty())
            .all(|l| l.split(';').count() == 7
                && l.split(';').nth(1).is_some_and(|c| !c.contains('.'))),
        "each area a row of seven cells, decimal commas: {sheet}"
    );
    let csv = page(&admin, format!("{base}/regions/{region}/results.csv")).await;
    assert!(csv.lines().count() > 1, "region cells");
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields[6] == "shown" {
            let n: u32 = fields[7].parse().expect("n");
            assert!(n >= K, "region CSV shows a cell of {n}: {line}");
        } else {
            assert!(fields[8].is_empty(), "a hidden cell with a mean: {line}");
        }
    }
    for cell in html.split("n = ").skip(1) {
        let n: u32 = cell
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .expect("a count");
        assert!(n >= K, "region page shows a cell of {n}");
    }
    // Every aggregate download is on record: what was taken, by whom (viewing the
    // psychometrics page above is not a download).
    let _ = page(
        &admin,
        format!("{base}/waves/{}/psychometrics.csv", f.wave.id),
    )
    .await;
    let conn = &mut f.app.db.connect();
    // (action, target, the spreadsheet's format mark)
    let downloads: Vec<(String, Option<String>, bool)> =
        samskap::infra::models::AuditEntry::recent(conn, 100)
            .expect("audit")
            .into_iter()
            .rev()
            .filter(|e| e.action.starts_with("download."))
            .map(|e| {
                let sheet = e
                    .details
                    .as_deref()
                    .is_some_and(|d| d.contains("\"format\":\"spreadsheet\""));
                (e.action, e.target_id, sheet)
            })
            .collect();
    let csv = "download.results_csv".to_owned();
    assert_eq!(
        downloads,
        [
            (csv.clone(), Some(f.s2.code.clone()), false),
            (csv.clone(), Some(f.s2.code.clone()), true),
            (csv.clone(), Some(region.clone()), true),
            (csv, Some(region), false),
            (
                "download.psychometrics_csv".to_owned(),
                Some(f.wave.id.to_string()),
                false
            ),
        ]
    );
}

#[actix_web::test]
async fn the_report_command_writes_every_report_and_mails_managers() {
    let f = fixture().await;
    create_user(
        &f.app,
        "manager@test.no",
        UserRole::Manager,
        &[(ScopeKind::Service, &f.s1.code)],
    );
    let out = f.app.db.path("reports");
    let out_str = out.to_str().expect("path");
    let run = f.app.db.samskap_with_env(
        &[
            "report",
            "--wave",
            f.wave.id.as_str(),
            "--out",
            out_str,
            "--lang",
            "en",
            "--mail",
        ],
        &[
            ("SAMSKAP_MIN_CELL", "3"),
            ("SAMSKAP_BASE_URL", "https://samskap.example.no"),
        ],
    );
    assert!(run.status.success(), "{run:?}");
    let services = {
        let conn = &mut f.app.db.connect();
        samskap::infra::models::WaveService::for_wave(conn, &f.wave.id)
            .expect("services")
            .len()
    };
    assert!(
        stdout(&run).contains(&format!("wrote {services} reports")),
        "{}",
        stdout(&run)
    );
    assert!(
        stdout(&run).contains("queued 1 e-mails to managers"),
        "{}",
        stdout(&run)
    );
    let s1 = std::fs::read_to_string(out.join(format!("{}.html", f.s1.code))).expect("s1 report");
    assert!(s1.contains("3.00") && s1.contains("1.33"));
    assert!(
        s1.contains("@page { size: A4") && !s1.contains("href=\"/static/"),
        "a report file carries its styles: it opens styled from disk"
    );
    let index = std::fs::read_to_string(out.join("index.html")).expect("index");
    assert!(index.contains(&format!("href=\"{}.html\"", f.s2.code)));

    let conn = &mut f.app.db.connect();
    let mails: Vec<(String, String, String)> = outbox::table
        .filter(outbox::kind.eq("report"))
        .select((outbox::to_address, outbox::subject, outbox::body_text))
        .load(conn)
        .expect("outbox");
    assert_eq!(mails.len(), 1, "only the manager of service 1");
    assert_eq!(mails[0].0, "manager@test.no");
    assert!(mails[0].1.contains(&f.s1.name));
    assert!(mails[0].2.contains(&format!(
        "https://samskap.example.no/reports/{}/services/{}",
        f.wave.id, f.s1.code
    )));
    // The same action as the admin page's button, with its audit record.
    let audited: Vec<(String, Option<String>)> = samskap::infra::db::schema::audit_log::table
        .filter(samskap::infra::db::schema::audit_log::action.eq("wave.mail_reports"))
        .select((
            samskap::infra::db::schema::audit_log::actor,
            samskap::infra::db::schema::audit_log::details,
        ))
        .load(conn)
        .expect("audit");
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(audited[0].0, "cli");
    assert!(
        audited[0]
            .1
            .as_deref()
            .unwrap_or_default()
            .contains("\"queued\":1"),
        "{audited:?}"
    );

    // Bad input names the problem.
    let bad = f.app.db.samskap(&[
        "report",
        "--wave",
        f.wave.id.as_str(),
        "--out",
        out_str,
        "--lang",
        "de",
    ]);
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("--lang") && err.contains("[possible values: nb, en]"),
        "{err}"
    );
}

/// Two services of the same type in one municipality: five peer workers in one, one in
/// the other. The municipality's peer cell (n = 6) is published, so showing the larger
/// service's cell would give away the lone peer worker's score by subtraction: the gate
/// hides it as complementary, and no page or API response shows it.
#[actix_web::test]
async fn a_service_beside_a_lone_hidden_one_is_hidden_too() {
    use samskap::infra::db::schema::services;
    let app = spawn_app_with(|s| s.min_cell = K).await;
    let (wave, big, lone) = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 12,
                seed: 4,
            },
        )
        .expect("demo");
        let all = Service::all(conn).expect("services");
        let (big, lone) = (all[0].clone(), all[1].clone());
        diesel::update(services::table.find(&lone.id))
            .set((
                services::service_type.eq(big.service_type.as_str()),
                services::municipality_id.eq(big.municipality_id.as_str()),
                services::county_id.eq(big.county_id.as_str()),
                services::health_region_id.eq(big.health_region_id.as_str()),
            ))
            .execute(conn)
            .expect("move the service");
        let wave = crate::fixtures::open_wave(conn, "Neighbours");
        (wave, big, lone)
    };
    let keys = DerivedKeys::new(&app.db.settings().secret_key().expect("secret"));
    let api = reqwest::Client::new();
    for (g, (service, values)) in [(&big, &[2, 2, 2, 3, 3][..]), (&lone, &[4][..])]
        .iter()
        .enumerate()
    {
        for (i, v) in values.iter().enumerate() {
            let token = {
                let conn = &mut app.db.connect();
                waves::create_invitation(
                    conn,
                    &keys,
                    &wave,
                    &service.id,
                    &RespondentRole::parse("peer_worker").expect("role"),
                    &format!("n{g}-{i}@example.no"),
                    "nb",
                )
                .expect("invitation")
                .1
            };
            let res = api
                .post(format!("{}/api/v1/respondent/{token}/submit", app.address))
                .json(&json!({"consent": true, "answers": answers(*v)}))
                .send()
                .await
                .expect("submit");
            assert_eq!(res.status(), 200);
        }
    }
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let results: Value = admin
        .get(format!(
            "{}/api/v1/waves/{}/services/{}/results",
            app.address, wave.id, big.code
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let peers = &results["service"]["roles"][1];
    assert_eq!(peers["role"], "peer_worker");
    for phase in peers["phases"].as_array().expect("phases") {
        assert_eq!(phase["stats"]["status"], "suppressed", "{phase}");
        assert_eq!(phase["stats"]["reason"], "complementary", "{phase}");
    }
    assert_eq!(peers["index"]["status"], "suppressed");
    // The municipality's cell is shown (the two services together).
    let regions: Value = admin
        .get(format!(
            "{}/api/v1/waves/{}/regions?level=municipality&role=peer_worker&measure=A",
            app.address, wave.id
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let municipality = regions["regions"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["region_id"] == big.municipality_id.as_str() && c["service_type"].is_null())
        .unwrap_or_else(|| panic!("no municipality cell in {regions}"));
    assert_eq!(municipality["stats"]["status"], "shown", "{municipality}");
    assert_eq!(municipality["stats"]["n"], 6);
    // And the dashboard shows the notice, not the five peer workers' mean of 2.40.
    let html = page(
        &admin,
        format!("{}/services/{}?lang=en", app.address, big.code),
    )
    .await;
    let profile = section(&html, "id=\"profile-h\"", "id=\"gap-h\"");
    assert!(!profile.contains("2.40"));
    assert!(profile.contains("Too few responses to show"));
}

/// Opening a new wave does not blank the dashboards: until it has numbers to show, the
/// service and region pages show the newest wave with results and say why; the new wave
/// is still there to pick.
#[actix_web::test]
async fn a_new_wave_without_answers_leaves_the_dashboards_on_the_previous_one() {
    let f = fixture().await;
    let newer = crate::fixtures::open_wave(&mut f.app.db.connect(), "Vår 2027");
    create_user(&f.app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&f.app, "admin@test.no").await;
    let base = &f.app.address;
    let chosen = |html: &str| {
        html.split("<option")
            .find(|o| o.contains(" selected"))
            .map(|o| {
                o.split('>')
                    .nth(1)
                    .unwrap_or_default()
                    .split('<')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
    };

    let html = page(&admin, format!("{base}/services/{}?lang=en", f.s1.code)).await;
    assert_eq!(
        chosen(&html).as_deref(),
        Some(f.wave.name.as_str()),
        "the wave with results"
    );
    assert!(
        html.contains(&format!(
            "“{}” is open but has too few answers to show yet. Showing “{}”",
            newer.name, f.wave.name
        )),
        "the page says why"
    );
    assert!(
        html.contains("3.00"),
        "the managers' mean of the wave shown"
    );
    let asked = page(
        &admin,
        format!("{base}/services/{}?lang=en&wave={}", f.s1.code, newer.id),
    )
    .await;
    assert_eq!(
        chosen(&asked).as_deref(),
        Some(newer.name.as_str()),
        "the wave asked for"
    );
    assert!(
        !asked.contains("data-passed-over"),
        "no notice for the wave asked for"
    );

    let region = f.s1.health_region_id.to_string();
    let html = page(&admin, format!("{base}/regions/{region}?lang=nb")).await;
    assert_eq!(
        chosen(&html).as_deref(),
        Some(f.wave.name.as_str()),
        "the region page too"
    );
    assert!(
        html.contains(&format!("«{}» er åpen, men har for få svar", newer.name)),
        "in bokmål"
    );

    // The exports page ticks the newest wave with answers, and says how many each has.
    let html = page(&admin, format!("{base}/exports?lang=en")).await;
    let ticked: Vec<&str> = html
        .split("<input type=\"checkbox\"")
        .skip(1)
        .filter(|i| {
            i.split('>')
                .next()
                .is_some_and(|tag| tag.contains(" checked"))
        })
        .collect();
    assert_eq!(ticked.len(), 1, "one wave ticked");
    assert!(
        ticked[0].contains(&format!("value=\"{}\"", f.wave.id)),
        "the wave with answers is ticked: {}",
        ticked[0]
    );
    assert!(
        html.contains(&format!("{} (open, 0 answered)", newer.name))
            && html.contains(&format!("{} (open, 13 answered)", f.wave.name)),
        "answers per wave"
    );
}

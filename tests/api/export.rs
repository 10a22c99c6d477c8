//! Research bundles opened by the real tools: GNU PSPP runs the SPSS syntax, R runs the R
//! script, DuckDB reads the files; labels are present and the numbers are the ones
//! submitted. Only consented, submitted responses leave; pseudonyms are stable within a
//! project and differ between projects.

use std::path::Path;
use std::process::Command;

use diesel::prelude::*;
use samskap::app::waves;
use samskap::core::domain::{RespondentRole, ScopeKind, UserRole};
use samskap::infra::crypto::DerivedKeys;
use samskap::infra::db::schema::audit_log;
use samskap::infra::models::{Service, Wave};
use samskap::tools::demo::{self, DemoOptions};
use serde_json::{Value, json};

use crate::auth_helpers::{create_user, signed_in};
use crate::helpers::{TestApp, spawn_app_with, stdout};

fn answers(v: i32) -> Value {
    let Value::Object(mut map) = crate::fixtures::uniform_answers(v) else {
        unreachable!("answers are an object")
    };
    map.insert("A5".into(), json!("DK"));
    map.insert("M_EMPLOYMENT".into(), json!("temporary"));
    map.insert("M_PEER_COUNT".into(), json!(v + 1));
    Value::Object(map)
}

/// Managers of two services answering 1, 2, 3 and 4 on every scored item (A5: don't
/// know), one started response that was never submitted.
async fn fixture() -> (TestApp, Wave, Vec<i32>, Service) {
    let app = spawn_app_with(|s| s.min_cell = 3).await;
    let (wave, services) = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 8,
                seed: 5,
            },
        )
        .expect("demo");
        let wave = crate::fixtures::open_wave(conn, "Export test");
        (wave, Service::all(conn).expect("services"))
    };
    let keys = DerivedKeys::new(&app.db.settings().secret_key().expect("secret"));
    let api = reqwest::Client::new();
    let values = vec![1, 2, 3, 4];
    let mut tokens = Vec::new();
    for (i, v) in values.iter().chain(std::iter::once(&0)).enumerate() {
        let token = {
            let conn = &mut app.db.connect();
            waves::create_invitation(
                conn,
                &keys,
                &wave,
                &services[0].id,
                RespondentRole::Manager,
                &format!("m{i}@example.no"),
                "nb",
            )
            .expect("invitation")
            .1
        };
        tokens.push((token, *v));
    }
    for (token, v) in &tokens[..4] {
        let res = api
            .post(format!("{}/api/v1/respondent/{token}/submit", app.address))
            .json(&json!({"consent": true, "answers": answers(*v)}))
            .send()
            .await
            .expect("submit");
        assert_eq!(res.status(), 200, "{:?}", res.text().await);
    }
    // The fifth consents and saves, but never submits: it must not be exported.
    let (token, _) = &tokens[4];
    let res = api
        .post(format!("{}/api/v1/respondent/{token}/consent", app.address))
        .send()
        .await
        .expect("consent");
    assert!(res.status().is_success(), "{:?}", res.text().await);
    let service = services[0].clone();
    (app, wave, values, service)
}

fn run(cmd: &mut Command, tool: &str, package: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{tool} is needed for this test ({e}): apt-get install {package}")
    });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool} failed:\n{text}");
    text
}

fn export(app: &TestApp, wave: &Wave, project: &str, dir: &Path) {
    let out = app.db.samskap(&[
        "export",
        "--wave",
        wave.id.as_str(),
        "--project",
        project,
        "--out",
        dir.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("wrote 4 responses"),
        "{}",
        stdout(&out)
    );
}

#[actix_web::test]
async fn the_bundle_opens_with_labels_in_pspp_r_and_duckdb() {
    let (app, wave, values, service) = fixture().await;
    let dir = app.db.path("bundle");
    export(&app, &wave, "study-a", &dir);
    for f in [
        "long.csv",
        "wide.csv",
        "long.parquet",
        "wide.parquet",
        "scores.csv",
        "codebook.csv",
        "datapackage.json",
        "samskap.sps",
        "samskap.do",
        "samskap.R",
        "README.md",
        "survey-peer-involvement-1.0.0.toml",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let wide = std::fs::read_to_string(dir.join("wide.csv")).expect("wide");
    assert_eq!(
        wide.lines().count(),
        1 + 4,
        "header and the four submitted responses"
    );
    assert!(!wide.contains(wave.id.as_str()), "no real ids");
    let package: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("datapackage.json")).expect("dp"))
            .expect("json");
    let a1 = package["resources"][0]["schema"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == "a1")
        .expect("a1");
    assert_eq!(a1["categories"][0]["label"], "Not involved");

    // GNU PSPP: labels, user-missing DK, and the mean of a1 over the four managers.
    std::fs::write(
        dir.join("check.sps"),
        "INCLUDE FILE='samskap.sps'.\nDISPLAY DICTIONARY /VARIABLES=a1 a5 m_employment.\nDESCRIPTIVES a1 a5 m_peer_count /STATISTICS=MEAN.\n",
    )
    .expect("write");
    let pspp = run(
        Command::new("pspp")
            .args(["-O", "format=txt", "check.sps"])
            .current_dir(&dir),
        "GNU PSPP",
        "pspp",
    );
    assert!(pspp.contains("Not involved"), "{pspp}");
    assert!(pspp.contains("DK: Don't know"), "{pspp}");
    assert!(pspp.contains("Temporary"), "{pspp}");
    let mean = f64::from(values.iter().sum::<i32>()) / 4.0;
    assert!(
        pspp.contains(&format!("{mean:.2}")),
        "a1 mean {mean} in\n{pspp}"
    );

    // R: factors with the labels, DK as NA, all rows.
    let r = run(
        Command::new("Rscript")
            .args([
                "-e",
                "source('samskap.R'); cat('rows', nrow(samskap), '\\n'); cat('levels', levels(samskap$a1), sep='|'); cat('\\n'); cat('dk_na', sum(is.na(samskap$a5)), '\\n'); cat('label', attr(samskap$a1, 'label'), '\\n'); cat('emp', as.character(samskap$m_employment[1]), '\\n')",
            ])
            .current_dir(&dir),
        "R",
        "r-base-core",
    );
    assert!(r.contains("rows 4"), "{r}");
    assert!(
        r.contains("levels|Not involved|Informed|Consulted|Partner|Peer-led")
            || r.contains("levelsNot involved|Informed|Consulted|Partner|Peer-led"),
        "{r}"
    );
    assert!(r.contains("dk_na 4"), "{r}");
    assert!(r.contains("emp Temporary"), "{r}");

    // DuckDB (Python): phase score A per response from scores.csv: the mean of A1-A4
    // (A5 is "don't know") is each manager's value.
    let duck = run(
        Command::new("python3")
            .args([
                "-c",
                "import duckdb; print(duckdb.connect().execute(\"SELECT string_agg(CAST(score_a AS VARCHAR), ',' ORDER BY score_a) FROM read_csv_auto('scores.csv')\").fetchone()[0])",
            ])
            .current_dir(&dir),
        "DuckDB",
        "python3 -m pip install duckdb",
    );
    assert!(duck.trim().starts_with("1.0,2.0,3.0,4.0"), "{duck}");

    // DuckDB reads the Parquet and reproduces the phase means samskap reports for the
    // service, to 1e-9: phase score = mean of the phase's valid answers (>= 0) when at
    // least 3 of its 5 items are valid, then the mean over the service's managers.
    // (On a thread of its own: polars must not block inside the test's async runtime.)
    let reported = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let conn = &mut app.db.connect();
                let results = samskap::app::analytics::compute(
                    conn,
                    &wave.id,
                    samskap::app::analytics::MinCell::new(3),
                )
                .expect("results");
                serde_json::to_value(&results).expect("json")
            })
            .join()
            .expect("compute")
    });
    let mine = reported["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["code"] == service.code.as_str())
        .expect("the service");
    let keys = DerivedKeys::new(&app.db.settings().secret_key().expect("secret"));
    let pseudonym = samskap::app::export::Pseudonyms::new(&keys, "study-a").of(
        "s",
        "service",
        service.id.as_str(),
    );
    let sql = format!(
        "WITH r AS (SELECT service, {phases} FROM read_parquet('wide.parquet') WHERE role = 'manager') \
         SELECT {means} FROM r WHERE service = '{pseudonym}'",
        phases = ["a", "b", "c", "d"]
            .iter()
            .map(|p| {
                let items: Vec<String> = (1..=5).map(|i| format!("{p}{i}")).collect();
                let valid = items
                    .iter()
                    .map(|i| format!("(CASE WHEN {i} >= 0 THEN 1 ELSE 0 END)"))
                    .collect::<Vec<_>>()
                    .join(" + ");
                let sum = items
                    .iter()
                    .map(|i| format!("(CASE WHEN {i} >= 0 THEN {i} ELSE 0 END)"))
                    .collect::<Vec<_>>()
                    .join(" + ");
                format!("CASE WHEN ({valid}) >= 3 THEN ({sum}) / ({valid}) END AS score_{p}")
            })
            .collect::<Vec<_>>()
            .join(", "),
        means = ["a", "b", "c", "d"]
            .iter()
            .map(|p| format!("avg(score_{p})"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let duck = run(
        Command::new("python3")
            .args(["-c", &format!("import duckdb; print(','.join(repr(x) for x in duckdb.connect().execute({sql:?}).fetchone()))")])
            .current_dir(&dir),
        "DuckDB",
        "python3 -m pip install duckdb",
    );
    let means: Vec<f64> = duck
        .trim()
        .split(',')
        .map(|x| x.parse().expect("a mean"))
        .collect();
    for (p, got) in means.iter().enumerate() {
        let want = mine["roles"][0]["phases"][p]["stats"]["value"]["mean"]
            .as_f64()
            .unwrap_or_else(|| panic!("phase {p} shown in {}", mine["roles"][0]));
        assert!(
            (got - want).abs() < 1e-9,
            "phase {p}: DuckDB {got}, samskap {want}"
        );
    }

    // Pseudonyms: the same project again gives the same, another project others.
    let again = app.db.path("again");
    export(&app, &wave, "study-a", &again);
    let other = app.db.path("other");
    export(&app, &wave, "study-b", &other);
    let column = |d: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(d.join("wide.csv")).expect("wide");
        let mut v: Vec<String> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap_or_default().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(column(&dir), column(&again));
    let (a, b) = (column(&dir), column(&other));
    assert!(
        a.iter().all(|x| !b.contains(x)),
        "projects must not share pseudonyms"
    );
}

#[actix_web::test]
async fn researchers_download_granted_waves_and_nobody_else_does() {
    let (app, wave, _, service) = fixture().await;
    create_user(
        &app,
        "researcher@test.no",
        UserRole::Researcher,
        &[(ScopeKind::Wave, wave.id.as_str())],
    );
    create_user(&app, "other@test.no", UserRole::Researcher, &[]);
    create_user(
        &app,
        "manager@test.no",
        UserRole::Manager,
        &[(ScopeKind::Service, &service.code)],
    );
    let url = format!(
        "{}/exports/bundle?wave={}&project=study-a",
        app.address, wave.id
    );
    let researcher = signed_in(&app, "researcher@test.no").await;
    let page = researcher
        .get(format!("{}/exports", app.address))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    assert!(page.contains("Export test"), "the granted wave is offered");
    let res = researcher.get(&url).send().await.expect("download");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/zip")
    );
    let zip = res.bytes().await.expect("zip");
    assert!(zip.starts_with(b"PK"), "a zip archive");
    let names = String::from_utf8_lossy(&zip);
    for f in [
        "samskap-bundle/wide.csv",
        "samskap-bundle/samskap.sps",
        "samskap-bundle/psychometrics.csv",
    ] {
        assert!(names.contains(f), "{f} in the zip");
    }
    for who in ["other@test.no", "manager@test.no"] {
        let client = signed_in(&app, who).await;
        let res = client.get(&url).send().await.expect("download");
        assert_eq!(res.status(), 403, "{who}");
    }
    let conn = &mut app.db.connect();
    let logged: i64 = audit_log::table
        .filter(audit_log::action.eq("export.bundle"))
        .count()
        .get_result(conn)
        .expect("audit");
    assert_eq!(
        logged, 1,
        "the download is audit-logged, the refusals export nothing"
    );
    let details: Option<String> = audit_log::table
        .filter(audit_log::action.eq("export.bundle"))
        .select(audit_log::details)
        .first(conn)
        .expect("audit");
    let details: serde_json::Value =
        serde_json::from_str(&details.expect("details")).expect("json");
    assert_eq!(details["via"], "web");
    assert_eq!(details["format"], "bundle");
    assert!(
        details["responses"].as_u64().is_some_and(|n| n > 0),
        "{details}"
    );
}

/// Two waves pooled: one row per response of each, the same person keeps one panel
/// pseudonym across them; `--format parquet` and `csv` keep their own files.
#[actix_web::test]
async fn pooled_waves_keep_one_panel_pseudonym_per_person() {
    let (app, first, _, service) = fixture().await;
    // The same (only) instrument as the first wave.
    let second = crate::fixtures::open_wave(&mut app.db.connect(), "Export test 2");
    assert_eq!(second.instrument_id, first.instrument_id);
    crate::fixtures::invite_and_submit(
        &app,
        &second,
        &service,
        RespondentRole::Manager,
        "m0@example.no",
        answers(2),
    )
    .await;

    let dir = app.db.path("pooled");
    let out = app.db.samskap(&[
        "export",
        "--pooled",
        "--format",
        "csv",
        "--out",
        dir.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("wrote 5 responses"),
        "{}",
        stdout(&out)
    );
    assert!(dir.join("wide.csv").is_file() && !dir.join("wide.parquet").exists());
    let wide = std::fs::read_to_string(dir.join("wide.csv")).expect("wide");
    let rows: Vec<Vec<&str>> = wide
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 5);
    let in_second: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == "Export test 2").collect();
    assert_eq!(in_second.len(), 1);
    let panel = in_second[0][2];
    assert!(!panel.is_empty());
    assert_eq!(
        rows.iter().filter(|r| r[2] == panel).count(),
        2,
        "m0 answered both waves under one panel pseudonym"
    );

    let parquet = app.db.path("parquet");
    let out = app.db.samskap(&[
        "export",
        "--wave",
        second.id.as_str(),
        "--format",
        "parquet",
        "--out",
        parquet.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(parquet.join("wide.parquet").is_file() && !parquet.join("wide.csv").exists());
    let bad = app
        .db
        .samskap(&["export", "--pooled", "--format", "xlsx", "--out", "x"]);
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("--format") && err.contains("[possible values: bundle, csv, parquet]"),
        "{err}"
    );
}

/// A wave named like a spreadsheet formula (issue 16): every cell of every CSV in the
/// bundle is one a spreadsheet shows as text, while negative numbers (missing codes) stay
/// numbers.
#[actix_web::test]
async fn no_csv_cell_of_the_bundle_runs_as_a_formula() {
    use samskap::infra::db::schema::waves;
    let (app, wave, _, _) = fixture().await;
    let evil = "=HYPERLINK(\"https://evil.example\",\"x\")";
    diesel::update(waves::table.filter(waves::id.eq(&wave.id)))
        .set(waves::name.eq(evil))
        .execute(&mut app.db.connect())
        .expect("rename");
    let dir = app.db.path("bundle");
    export(&app, &wave, "study-a", &dir);
    let mut negative_numbers = 0;
    let mut guarded = 0;
    for file in std::fs::read_dir(&dir).expect("bundle") {
        let path = file.expect("entry").path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let mut reader = csv::Reader::from_path(&path).expect("csv");
        for record in reader.records() {
            for cell in &record.expect("record") {
                if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    assert!(
                        cell.parse::<f64>().is_ok(),
                        "{}: {cell:?} would run as a formula",
                        path.display()
                    );
                    negative_numbers += 1;
                }
                if cell == format!("'{evil}") {
                    guarded += 1;
                }
            }
        }
    }
    assert!(
        guarded >= 4,
        "the wave's name is kept, as text ({guarded} cells)"
    );
    assert!(negative_numbers > 0, "missing codes stay numbers");
}

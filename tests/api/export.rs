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
                &RespondentRole::parse("manager").expect("role"),
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
        "samskap.sav",
        "samskap.dta",
        "codebook.xml",
        "redcap-peer-involvement-2.0.0.csv",
        "README.md",
        "survey-peer-involvement-2.0.0.toml",
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

    // REDCap: its 18 columns in order, a form per role, the same codes as the data.
    let mut redcap =
        csv::Reader::from_path(dir.join("redcap-peer-involvement-2.0.0.csv")).expect("redcap");
    let header: Vec<String> = redcap
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, samskap::app::export::REDCAP_COLUMNS);
    let fields: Vec<csv::StringRecord> = redcap.records().map(|r| r.expect("row")).collect();
    assert_eq!(
        &fields[0][0], "record_id",
        "REDCap's first field is the record id"
    );
    let field = |name: &str| {
        fields
            .iter()
            .find(|f| &f[0] == name)
            .unwrap_or_else(|| panic!("{name} in the dictionary"))
    };
    let a1 = field("a1_manager");
    assert_eq!((&a1[1], &a1[3]), ("manager", "radio"));
    assert!(
        a1[5].starts_with("0, Not involved | 1, Informed"),
        "{:?}",
        &a1[5]
    );
    assert!(
        a1[5].ends_with("-2, Don't know | -3, Did not take place"),
        "{:?}",
        &a1[5]
    );
    assert_eq!(&field("a1_peer_worker")[1], "peer_worker");
    let year = field("m_first_year_manager");
    assert_eq!(
        (&year[3], &year[7], &year[8], &year[9]),
        ("text", "integer", "1990", "2026")
    );
    assert!(
        year[6].contains("-4 = We have never employed a peer worker"),
        "{:?}",
        &year[6]
    );
    assert!(
        fields
            .iter()
            .all(|f| matches!(&f[1], "manager" | "peer_worker" | "staff")),
        "every field on a role's form"
    );

    // DDI Codebook 2.5: well-formed, every variable of wide.csv, missing codes marked,
    // and a1's statistics only as the gate published them in psychometrics.csv: withheld
    // at the default minimum cell of 5 (four managers), shown at 3.
    let columns = wide.lines().next().expect("header").split(',').count();
    let read_ddi = |dir: &Path| {
        run(
            Command::new("python3")
                .args([
                    "-c",
                    "import xml.etree.ElementTree as E, csv\n\
                     ns = {'d': 'ddi:codebook:2_5'}\n\
                     root = E.parse('codebook.xml').getroot()\n\
                     vs = root.findall('d:dataDscr/d:var', ns)\n\
                     print('vars', len(vs))\n\
                     a1 = [v for v in vs if v.get('name') == 'a1'][0]\n\
                     print('missing', [c.find('d:catValu', ns).text for c in a1.findall('d:catgry', ns) if c.get('missing') == 'Y'])\n\
                     m = a1.find(\"d:sumStat[@type='mean']\", ns)\n\
                     print('mean', m.text if m is not None else 'none')\n\
                     print('notes', a1.find('d:notes', ns) is not None)\n\
                     print('qstn', len(a1.findall('d:qstn', ns)))\n\
                     print('freq', [(c.find('d:catValu', ns).text, c.find(\"d:catStat[@type='freq']\", ns).text) for c in a1.findall('d:catgry', ns) if c.get('missing') != 'Y' and c.find('d:catStat', ns) is not None])\n\
                     v = a1.find(\"d:sumStat[@type='vald']\", ns)\n\
                     print('vald', v.text if v is not None else 'none')\n\
                     rows = [r for r in csv.DictReader(open('psychometrics.csv')) if r['item'] == 'a1' and r['statistic'] == 'mean']\n\
                     print('published', rows[0]['value'])",
                ])
                .current_dir(dir),
            "Python",
            "python3",
        )
    };
    let ddi = read_ddi(&dir);
    assert!(ddi.contains(&format!("vars {columns}\n")), "{ddi}");
    assert!(ddi.contains("missing ['-2', '-3']"), "{ddi}");
    assert!(
        ddi.contains("qstn 3"),
        "a question text per role (three roles): {ddi}"
    );
    assert!(
        ddi.contains("mean none")
            && ddi.contains("notes True")
            && ddi.contains("published suppressed"),
        "four managers are under the default minimum cell: {ddi}"
    );
    let shown = app.db.path("k3");
    let out = app.db.samskap_with_env(
        &[
            "export",
            "--wave",
            wave.id.as_str(),
            "--out",
            shown.to_str().expect("path"),
        ],
        &[("SAMSKAP_MIN_CELL", "3")],
    );
    assert!(out.status.success(), "{out:?}");
    let ddi = read_ddi(&shown);
    let number = |key: &str| -> f64 {
        ddi.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{key} in {ddi}"))
    };
    assert!((number("mean ") - 2.5).abs() < 1e-9, "{ddi}");
    // The four managers answered 1, 2, 3 and 4: one each, none at 0; all four valid.
    assert!(
        ddi.contains("freq [('0', '0'), ('1', '1'), ('2', '1'), ('3', '1'), ('4', '1')]\n")
            && ddi.contains("vald 4\n"),
        "{ddi}"
    );
    assert!(
        (number("published ") - number("mean ")).abs() < 1e-9,
        "{ddi}"
    );

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
        "samskap-bundle/samskap.sav",
        "samskap-bundle/samskap.dta",
        "samskap-bundle/psychometrics.csv",
    ] {
        assert!(names.contains(f), "{f} in the zip");
    }
    // The streamed zip is whole: every member's checksum holds, and pyreadstat opens the
    // .sav inside it.
    let saved = app.db.path("bundle.zip");
    std::fs::write(&saved, &zip).expect("save");
    let checked = run(
        Command::new("python3").args([
            "-c",
            "import sys, zipfile, pyreadstat, tempfile, os\n\
             z = zipfile.ZipFile(sys.argv[1]); print('bad', z.testzip()); print('members', len(z.namelist())); print('first', z.namelist()[0])\n\
             d = tempfile.mkdtemp(); z.extract('samskap-bundle/samskap.sav', d)\n\
             df, meta = pyreadstat.read_sav(os.path.join(d, 'samskap-bundle', 'samskap.sav')); print('rows', len(df))",
            saved.to_str().expect("path"),
        ]),
        "Python",
        "python3 -m pip install pyreadstat",
    );
    assert!(checked.contains("bad None"), "{checked}");
    assert!(checked.contains("rows 4"), "{checked}");
    // long.csv leads: it is sent while the bundle is still being written.
    assert!(
        checked.contains("first samskap-bundle/long.csv\n"),
        "{checked}"
    );
    // A download dropped after its headers: the bundle's temporary directory (microdata)
    // is removed, as after the whole download. Directories of other tests' downloads
    // come and go too; each must go.
    let bundles = || -> std::collections::BTreeSet<std::ffi::OsString> {
        std::fs::read_dir(std::env::temp_dir())
            .expect("temp dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .filter(|n| n.to_string_lossy().starts_with("samskap-export-"))
            .collect()
    };
    let before = bundles();
    let abandoned = researcher.get(&url).send().await.expect("download");
    assert_eq!(abandoned.status(), 200);
    drop(abandoned);
    // The bundle is written on a thread of its own, which goes on after the reader left:
    // its directory appears, then goes.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..500 {
        seen = bundles().difference(&before).cloned().collect();
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(
        !seen.is_empty(),
        "the abandoned bundle's directory never appeared"
    );
    let mut left = seen.clone();
    for _ in 0..100 {
        left = bundles().intersection(&seen).cloned().collect();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(left.is_empty(), "bundle directories left behind: {left:?}");
    // A language the labels cannot be written in is refused by name, and nothing leaves.
    let res = researcher
        .get(format!("{url}&labels=sv"))
        .send()
        .await
        .expect("download");
    assert_eq!(res.status(), 400);
    let body = res.text().await.expect("body");
    assert!(body.contains("labels can be written in en or nb"), "{body}");
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
        logged, 2,
        "the downloads are audit-logged, the refusals export nothing"
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
        RespondentRole::parse("manager").expect("role"),
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
    // The data files are not spreadsheets: they keep the name as it is.
    let names = run(
        Command::new("python3")
            .args([
                "-c",
                "import pyreadstat\n\
                 for f in ['samskap.sav', 'samskap.dta']:\n\
                 \x20   r = pyreadstat.read_sav if f.endswith('sav') else pyreadstat.read_dta\n\
                 \x20   print(f, sorted(set(r(f)[0]['wave'])))",
            ])
            .current_dir(&dir),
        "pyreadstat",
        "python3 -m pip install pyreadstat",
    );
    for file in ["samskap.sav", "samskap.dta"] {
        assert!(
            names.contains(&format!("{file} ['{evil}']")),
            "{file} keeps the name: {names}"
        );
    }
}

/// The built-in survey as version 2.1.0, with seven extra missing codes on the year of
/// the first peer worker (the shipped file has one).
fn seven_codes_survey() -> String {
    let codes: Vec<String> = std::iter::once((
        "NEVER".to_owned(),
        "Vi har aldri hatt erfaringskonsulent".to_owned(),
    ))
    .chain((2..=7).map(|i| (format!("C{i}"), format!("Kode {i}"))))
    .map(|(c, nb)| format!("{{ code = \"{c}\", label = {{ nb = \"{nb}\", en = \"Code {c}\" }} }}"))
    .collect();
    let text = samskap::core::instrument::BUILT_IN[0].1;
    let line = text
        .lines()
        .find(|l| l.starts_with("extra_codes"))
        .expect("the shipped extra code");
    text.replacen(line, &format!("extra_codes = [ {} ]", codes.join(", ")), 1)
        .replacen("version = \"2.0.0\"", "version = \"2.1.0\"", 1)
}

/// Issue 21: every missing code is missing in every format. Eight managers answer the
/// year of their first peer worker with one valid year and each of seven extra codes,
/// and one item with "did not take place" (stored as `NA`); the bundle, in bokmål, is
/// read by GNU PSPP (the syntax and the .sav), pyreadstat (.sav and .dta), R's haven
/// (.sav and .dta) and the R script: each sees the one year as the only valid value,
/// every code as missing with its label, and the codebook, datapackage.json and
/// long.csv name all seven.
#[actix_web::test]
async fn seven_extra_missing_codes_are_missing_in_every_format() {
    let app = spawn_app_with(|s| s.min_cell = 3).await;
    let survey = app.db.write("survey-7.toml", &seven_codes_survey());
    let out = app
        .db
        .samskap(&["survey", "load", survey.to_str().expect("path")]);
    assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
    let (wave, service) = {
        let conn = &mut app.db.connect();
        demo::load(
            conn,
            DemoOptions {
                services: 8,
                seed: 5,
            },
        )
        .expect("demo");
        let instrument = samskap::infra::models::InstrumentRow::all(conn)
            .expect("instruments")
            .into_iter()
            .find(|r| r.version == "2.1.0")
            .expect("the loaded version")
            .id;
        let wave = crate::fixtures::open_wave_with(conn, "Koder", instrument);
        (wave, Service::all(conn).expect("services").remove(0))
    };
    let years: Vec<Value> = std::iter::once(json!(2015))
        .chain(std::iter::once(json!("NEVER")))
        .chain((2..=7).map(|i| json!(format!("C{i}"))))
        .collect();
    for (i, year) in years.iter().enumerate() {
        let mut a = answers(2);
        a["M_FIRST_YEAR"] = year.clone();
        a["A2"] = json!("NA");
        a["M_PEER_FTE"] = json!(5.6);
        crate::fixtures::invite_and_submit(
            &app,
            &wave,
            &service,
            RespondentRole::parse("manager").expect("role"),
            &format!("m{i}@example.no"),
            a,
        )
        .await;
    }
    let dir = app.db.path("bundle");
    let out = app.db.samskap(&[
        "export",
        "--wave",
        wave.id.as_str(),
        "--lang",
        "nb",
        "--out",
        dir.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("wrote 8 responses"),
        "{}",
        stdout(&out)
    );

    // The codebook numbers the codes -4 to -10 below the years and labels them in bokmål.
    let codebook = std::fs::read_to_string(dir.join("codebook.csv")).expect("codebook");
    let row = codebook
        .lines()
        .find(|l| l.starts_with("m_first_year,"))
        .expect("m_first_year in the codebook");
    assert!(
        row.contains("-4=NEVER (Vi har aldri hatt erfaringskonsulent)"),
        "{row}"
    );
    assert!(row.contains("-10=C7 (Kode 7)"), "{row}");
    assert!(
        row.starts_with("m_first_year,Hvilket år"),
        "bokmål label: {row}"
    );

    // datapackage.json: every code is a missing value, for the field and the schema.
    let package: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("datapackage.json")).expect("dp"))
            .expect("json");
    let wide = &package["resources"][0]["schema"];
    let field = wide["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == "m_first_year")
        .expect("m_first_year");
    let want: Vec<String> = std::iter::once(String::new())
        .chain((4..=10).map(|i| format!("-{i}")))
        .collect();
    assert_eq!(field["missingValues"], json!(want));
    for code in ["-2", "-3", "-10"] {
        assert!(
            wide["missingValues"]
                .as_array()
                .expect("schema missing values")
                .contains(&json!(code)),
            "{code} in {}",
            wide["missingValues"]
        );
    }

    // long.csv: "did not take place" is not the text R and pandas read as empty.
    let long = std::fs::read_to_string(dir.join("long.csv")).expect("long");
    let a2: Vec<&str> = long.lines().filter(|l| l.contains(",a2,")).collect();
    assert_eq!(a2.len(), 8);
    assert!(
        a2.iter().all(|l| l.ends_with(",-3,not_applicable")),
        "{a2:?}"
    );
    assert!(!long.lines().any(|l| l.ends_with(",NA")), "no NA code left");
    // Numbers as typed, without binary noise.
    let wide_csv = std::fs::read_to_string(dir.join("wide.csv")).expect("wide");
    assert!(
        wide_csv.contains(",5.6,") || wide_csv.contains(",5.6\n"),
        "{wide_csv}"
    );

    // GNU PSPP: the syntax over wide.csv, then the .sav; only 2015 is valid.
    std::fs::write(
        dir.join("check.sps"),
        "INCLUDE FILE='samskap.sps'.\nDESCRIPTIVES m_first_year a2 /STATISTICS=MEAN MIN MAX.\n\
         GET FILE='samskap.sav'.\nDISPLAY DICTIONARY /VARIABLES=m_first_year.\nDESCRIPTIVES m_first_year /STATISTICS=MEAN MIN MAX.\n",
    )
    .expect("write");
    let pspp = run(
        Command::new("pspp")
            .args(["-O", "format=txt", "check.sps"])
            .current_dir(&dir),
        "GNU PSPP",
        "pspp",
    );
    assert!(!pspp.contains("warning"), "{pspp}");
    let valid_year_rows = pspp.lines().filter(|l| l.contains("|1|2015.00|")).count();
    assert!(valid_year_rows >= 2, "syntax and .sav give 2015:\n{pspp}");
    assert!(
        pspp.contains("Kode 7"),
        "the .sav labels its codes:\n{pspp}"
    );
    assert!(
        pspp.contains("Hvilket år"),
        "bokmål variable label:\n{pspp}"
    );

    // pyreadstat: both native files, with every label and missing value.
    let py = run(
        Command::new("python3")
            .args([
                "-c",
                r#"
import pyreadstat, math
for f in ["samskap.sav", "samskap.dta"]:
    read = pyreadstat.read_sav if f.endswith(".sav") else pyreadstat.read_dta
    df, meta = read(f)
    years = [y for y in df["m_first_year"] if not math.isnan(y)]
    print(f, "rows", len(df), "valid", years)
    labels = meta.variable_value_labels["m_first_year"]
    print(f, "labels", sorted(str(v) for v in labels.values()))
    print(f, "a1", meta.column_names_to_labels["a1"][:20])
    df, meta = read(f, user_missing=True)
    if f.endswith(".sav"):
        print(f, "ranges", meta.missing_ranges["m_first_year"])
    else:
        print(f, "tags", sorted(set(v for v in df["m_first_year"] if isinstance(v, str))))
"#,
            ])
            .current_dir(&dir),
        "pyreadstat",
        "python3 -m pip install pyreadstat",
    );
    for f in ["samskap.sav", "samskap.dta"] {
        assert!(py.contains(&format!("{f} rows 8 valid [2015.0]")), "{py}");
        assert!(py.contains(&format!("{f} a1 ")), "{py}");
    }
    assert!(py.contains("C7: Kode 7"), "the codes' labels: {py}");
    assert!(py.contains("'lo': -10.0, 'hi': -4.0"), "{py}");
    assert!(
        py.contains("tags ['a', 'b', 'c', 'd', 'e', 'f', 'g']"),
        "seven Stata codes .a to .g: {py}"
    );

    // R: haven reads both files; the script gives the same NA count.
    let r = run(
        Command::new("Rscript")
            .args([
                "-e",
                "library(haven); s <- read_sav('samskap.sav'); d <- read_dta('samskap.dta'); \
                 cat('sav', mean(s$m_first_year, na.rm = TRUE), sum(is.na(s$m_first_year)), '\\n'); \
                 cat('dta', mean(d$m_first_year, na.rm = TRUE), paste(sort(na.omit(na_tag(d$m_first_year))), collapse = ''), '\\n'); \
                 u <- read_sav('samskap.sav', user_na = TRUE); cat('range', attr(u$m_first_year, 'na_range'), '\\n'); \
                 source('samskap.R'); cat('script', sum(is.na(samskap$m_first_year)), '\\n')",
            ])
            .current_dir(&dir),
        "R with haven",
        "r-base-core r-cran-haven",
    );
    assert!(r.contains("sav 2015 7"), "{r}");
    assert!(r.contains("dta 2015 abcdefg"), "{r}");
    assert!(r.contains("range -10 -4"), "{r}");
    assert!(r.contains("script 7"), "{r}");
}

use samskap::core::instrument;

use crate::helpers::{TestDb, spawn_app_with, stderr, stdout};

fn repo_surveys() -> String {
    format!("{}/surveys", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_shipped_instrument_passes_survey_check() {
    let db = TestDb::new();
    let out = db.samskap(&["survey", "check", &repo_surveys()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("peer-involvement 2.0.0 ok (sha256:"),
        "{}",
        stdout(&out)
    );
}

/// A file with eight different planted errors: each is reported, with its line and
/// column, in one run, and nothing else is.
const BROKEN: &str = r#"id = "broken"
version = "1"
languages = ["nb", "en"]
title = { nb = "Test", en = "Test" }
colour = "blue"

[roles.manager]
label = { nb = "Leder", en = "Manager" }

[roles.peer_worker]
label = { nb = "Erfaringskonsulent" }

[scales.s]
[[scales.s.points]]
value = 0
label = { nb = "Null", en = "Zero" }
[[scales.s.points]]
value = 1
label = { nb = "En", en = "One" }

[[phases]]
code = "A"
key = "a"
title = { nb = "A", en = "A" }

[[items]]
code = "A1"
phase = "A"
scale = "s"
text.manager = { nb = "Spørsmål", en = "Question" }

[[items]]
code = "A1"
phase = "Z"
scale = "nope"
text.manager = { nb = "Spørsmål", en = "Question" }

[scoring]
min_valid_items = 3
index_multiplier = 25

[[scoring.bands]]
level = 0
from = 0.0
to = 0.4
label = { nb = "Lav", en = "Low" }

[[scoring.bands]]
level = 1
from = 0.3
to = 1.0
label = { nb = "Høy", en = "High" }

[[next_steps]]
phase = "A"
level = 0
text = { nb = "Start", en = "Start" }

[[next_steps]]
phase = "A"
level = 1
text = { nb = "Fortsett", en = "Go on" }
"#;

#[test]
fn every_planted_error_is_reported_with_line_and_column() {
    let db = TestDb::new();
    let file = db.write("broken.toml", BROKEN);
    let name = file.to_str().expect("utf8");
    let out = db.samskap(&["survey", "check", name]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with(name)).collect();
    let expected = [
        "5:1: unknown key `colour`",
        "10:8: role `peer_worker` has no items",
        "11:9: missing `en` translation",
        "33:8: duplicate item code `A1` (first defined at line 27, column 8)",
        "34:9: item `A1` points at undefined phase `Z`",
        "35:9: item `A1` points at undefined scale `nope`",
        "39:19: `min_valid_items` is 3 but phase `A` has only 1 item",
        "50:8: band 1 overlaps band 0: it starts at 0.3 but band 0 ends at 0.4",
    ]
    .map(|e| format!("{name}:{e}"));
    assert_eq!(lines, expected, "{err}");
    assert!(err.contains("8 problems found."), "{err}");
}

#[test]
fn bands_that_do_not_cover_the_scale_are_reported() {
    let db = TestDb::new();
    let gap = BROKEN
        .replace("from = 0.3", "from = 0.5")
        .replace("to = 1.0", "to = 0.9");
    let file = db.write("gap.toml", &gap);
    let name = file.to_str().expect("utf8");
    let err = stderr(&db.samskap(&["survey", "check", name]));
    assert!(
        err.contains(&format!("{name}:50:8: bands leave 0.4–0.5 uncovered")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{name}:51:6: bands do not cover the scale: they end at 0.9 but the scale ends at 1"
        )),
        "{err}"
    );
}

#[test]
fn survey_show_prints_the_peer_form_in_norwegian() {
    let db = TestDb::new();
    let out = db
        .command(&[
            "survey",
            "show",
            "peer-involvement",
            "--lang",
            "nb",
            "--role",
            "peer_worker",
        ])
        .env("SAMSKAP_SURVEYS_DIR", repo_surveys())
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Skjema: Erfaringskonsulent"), "{text}");
    assert!(text.contains("Svarskala"), "{text}");
    assert!(
        text.contains("A1  Hvordan var du eller de andre erfaringskonsulentene"),
        "{text}"
    );
    assert!(text.contains("Bakgrunnsspørsmål"), "{text}");
    assert!(
        !text.contains("M_FIRST_YEAR"),
        "manager-only context is left out"
    );
    assert!(text.contains("P_ROLE_CLARITY"), "{text}");
}

#[test]
fn survey_show_names_what_is_wrong() {
    let db = TestDb::new();
    let out = db.samskap(&["survey", "show", "peer-involvement", "--lang", "sv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--lang sv: `peer-involvement` is offered in nb, en"),
        "{}",
        stderr(&out)
    );
    let out = db.samskap(&["survey", "show", "nope"]);
    assert!(
        stderr(&out).contains("no survey `nope`; known: peer-involvement 2.0.0"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_changed_file_under_a_stored_version_is_refused() {
    let db = TestDb::new();
    let text = instrument::BUILT_IN[0].1;
    let file = db.write("peer-involvement.toml", text);
    let path = file.to_str().expect("utf8");

    let first = db.samskap(&["survey", "load", path]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("peer-involvement 2.0.0 (sha256:")
            && stdout(&first).contains("): stored")
    );
    let again = db.samskap(&["survey", "load", path]);
    assert!(
        stdout(&again).contains("already stored"),
        "{}",
        stdout(&again)
    );

    db.write(
        "peer-involvement.toml",
        &text.replacen("Peer worker involvement", "Peer involvement", 1),
    );
    let changed = db.samskap(&["survey", "load", path]);
    assert_eq!(changed.status.code(), Some(1));
    let err = stderr(&changed);
    assert!(
        err.contains("`peer-involvement` version 2.0.0 is already stored with different content"),
        "{err}"
    );
    assert!(err.contains("bump `version`"), "{err}");

    // The stored version is untouched; a bumped version is stored beside it.
    db.write(
        "peer-involvement.toml",
        &text
            .replacen("Peer worker involvement", "Peer involvement", 1)
            .replacen("version = \"2.0.0\"", "version = \"2.1.0\"", 1),
    );
    let bumped = db.samskap(&["survey", "load", path]);
    assert!(bumped.status.success(), "{}", stderr(&bumped));
    let conn = &mut db.connect();
    let rows = samskap::infra::models::InstrumentRow::all(conn).expect("rows");
    assert_eq!(rows.len(), 2);
    let v1 = rows.iter().find(|r| r.version == "2.0.0").expect("2.0.0");
    assert_eq!(
        v1.content_hash,
        instrument::parse("x", text).expect("valid").content_hash
    );
    assert!(v1.source.contains("Peer worker involvement"));
}

#[actix_web::test]
async fn the_server_stores_its_instruments_and_refuses_a_changed_version() {
    let app = spawn_app_with(|_| {}).await;
    {
        let conn = &mut app.db.connect();
        let rows = samskap::infra::models::InstrumentRow::all(conn).expect("rows");
        assert_eq!(rows.len(), 1, "the built-in instrument is stored at start");
        assert_eq!(rows[0].survey_id, "peer-involvement");
    }
    let dir = app.db.path("surveys");
    std::fs::create_dir_all(&dir).expect("dir");
    let changed = instrument::BUILT_IN[0]
        .1
        .replacen("Peer worker involvement", "Changed", 1);
    std::fs::write(dir.join("peer-involvement.toml"), changed).expect("write");
    let mut settings = app.db.settings();
    settings.surveys_dir = dir;
    let err = samskap::web::Application::build(settings, Some(1))
        .await
        .expect_err("refused");
    assert!(format!("{err:#}").contains("bump `version`"), "{err:#}");
}

#[test]
fn the_committed_json_schema_matches_the_rust_types() {
    let committed = std::fs::read_to_string(format!(
        "{}/docs/survey-format.schema.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("docs/survey-format.schema.json exists");
    let generated =
        serde_json::to_string_pretty(&instrument::format::json_schema()).expect("json") + "\n";
    assert_eq!(
        committed, generated,
        "regenerate with `samskap survey schema > docs/survey-format.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&committed).expect("json");
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown keys are refused by editors too"
    );
    assert!(
        schema["required"]
            .as_array()
            .expect("required")
            .iter()
            .any(|k| k == "items")
    );
}

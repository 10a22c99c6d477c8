use crate::helpers::{TestDb, stderr, stdout};

#[test]
fn bad_values_are_refused_naming_the_key() {
    let db = TestDb::new();
    let out = db.samskap_with_env(&["migrate"], &[("SAMSKAP_MIN_CELL", "2")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("SAMSKAP_MIN_CELL: must be at least 3, got 2"),
        "{err}"
    );

    let out = db.samskap_with_env(&["migrate"], &[("SAMSKAP_BIND", "everywhere")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SAMSKAP_BIND"), "{}", stderr(&out));
}

#[test]
fn unknown_keys_are_refused_naming_the_key() {
    let db = TestDb::new();
    let out = db.samskap_with_env(&["migrate"], &[("SAMSKAP_MINCELL", "5")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("SAMSKAP_MINCELL: unknown setting"), "{err}");
    assert!(
        err.contains("SAMSKAP_MIN_CELL"),
        "lists the known keys: {err}"
    );
}

#[test]
fn config_file_problems_are_located() {
    let db = TestDb::new();
    db.write(
        "samskap.toml",
        "# settings\nmin_cell = 6\ncolour = \"blue\"\n",
    );
    let out = db.samskap(&["migrate"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("samskap.toml:3:1: unknown setting `colour`"),
        "{err}"
    );

    db.write("samskap.toml", "min_cell = 6\n");
    let out = db.samskap(&["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn bad_log_format_is_refused() {
    let db = TestDb::new();
    let out = db.samskap_with_env(&["migrate"], &[("LOG_FORMAT", "xml")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("LOG_FORMAT"), "{}", stderr(&out));
}

#[test]
fn postgres_without_a_secret_key_is_refused() {
    let db = TestDb::new();
    let out = db
        .command(&["migrate"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env_remove("SAMSKAP_SECRET_KEY")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("SAMSKAP_SECRET_KEY: required with PostgreSQL"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unreachable_database_is_reported_clearly() {
    let db = TestDb::new();
    let out = db
        .command(&["migrate"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("could not connect to PostgreSQL"),
        "{}",
        stderr(&out)
    );
}

/// A database with the demo catalogue and an open wave `name`, made with the command line;
/// returns it with the code of one of the wave's services.
fn open_wave_by_cli(name: &str) -> (TestDb, String) {
    let db = TestDb::new();
    for args in [
        &["migrate"][..],
        &["demo", "--services", "4", "--seed", "3"],
        &["wave", "create", "--name", name],
        &["wave", "open", name],
    ] {
        let out = db.samskap(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let code = {
        let conn = &mut db.connect();
        samskap::infra::models::Service::all(conn).expect("services")[0]
            .code
            .clone()
    };
    (db, code)
}

/// `wave invite` and `wave remind` e-mail links that leave the machine: without an
/// explicit `SAMSKAP_BASE_URL` they refuse, naming it, and nothing reaches the outbox;
/// with it, the links carry it.
#[test]
fn invitations_need_an_explicit_base_url() {
    use diesel::prelude::*;
    use samskap::infra::db::schema::outbox;
    let (db, code) = open_wave_by_cli("Links");
    let file = db.write(
        "people.csv",
        &format!("service_code,role,email,language\n{code},manager,kari@example.no,nb\n"),
    );
    let file = file.to_str().expect("utf-8");
    let queued = |db: &TestDb| -> i64 {
        outbox::table
            .count()
            .get_result(&mut db.connect())
            .expect("outbox")
    };
    let before = queued(&db);
    for args in [
        &["wave", "invite", "Links", file][..],
        &["wave", "remind", "Links"],
    ] {
        let out = db.samskap(args);
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("SAMSKAP_BASE_URL is not set"), "{err}");
        assert!(err.contains("nothing was sent"), "{err}");
    }
    assert_eq!(queued(&db), before, "nothing queued");
    let out = db.samskap_with_env(
        &["wave", "invite", "Links", file],
        &[("SAMSKAP_BASE_URL", "https://samskap.example.org")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(queued(&db), before + 1);
}

/// Long commands report progress on stderr (a line per 10 % when stderr is no terminal),
/// and stdout keeps only the result, so a script can read it.
#[test]
fn progress_goes_to_stderr_and_the_result_to_stdout() {
    let (db, code) = open_wave_by_cli("Many");
    let csv: String = std::iter::once("service_code,role,email,language\n".to_owned())
        .chain((0..250).map(|i| format!("{code},peer_worker,person{i}@example.no,nb\n")))
        .collect();
    let file = db.write("many.csv", &csv);
    let out = db.samskap_with_env(
        &["wave", "invite", "Many", file.to_str().expect("utf-8")],
        &[("SAMSKAP_BASE_URL", "https://samskap.example.org")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (out_text, err_text) = (stdout(&out), stderr(&out));
    assert_eq!(
        out_text.trim(),
        "Invited 250 respondents to Many; the messages are in the outbox.",
        "stdout holds the result only"
    );
    let lines: Vec<&str> = err_text
        .lines()
        .filter(|l| l.ends_with(" invitations"))
        .collect();
    assert!(
        lines.len() >= 5 && lines.last() == Some(&"250/250 invitations"),
        "{err_text}"
    );
}

#[test]
fn export_reports_its_pass_and_each_file_on_stderr() {
    let db = TestDb::new();
    let demo = db.samskap(&["demo", "--services", "40"]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let out_dir = db.path("bundle");
    let out = db.samskap(&[
        "export",
        "--pooled",
        "--out",
        out_dir.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("wrote "), "{}", stdout(&out));
    let err = stderr(&out);
    let counted: Vec<&str> = err.lines().filter(|l| l.ends_with(" responses")).collect();
    let total = counted
        .last()
        .and_then(|l| l.split_once('/'))
        .unwrap_or_else(|| panic!("a count of responses: {err}"));
    assert_eq!(
        total.0,
        total.1.trim_end_matches(" responses"),
        "the pass ends at its total: {err}"
    );
    let notes: Vec<&str> = err.lines().filter(|l| l.starts_with("writing ")).collect();
    assert_eq!(
        notes,
        [
            "writing Parquet tables…",
            "writing psychometrics…",
            "writing SPSS and Stata files…",
            "writing codebooks and dictionaries…"
        ],
        "{err}"
    );
}

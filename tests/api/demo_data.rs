//! The demo waves, and proof that the bulk path stores what the normal path stores.
#![expect(clippy::type_complexity, reason = "row tuples compared as wholes")]

use diesel::prelude::*;
use samskap::core::domain::ServiceType;
use samskap::infra::crypto::DerivedKeys;
use samskap::infra::db::schema::{answers, invitations, responses, waves};
use samskap::tools::demo::{self, DemoOptions, responses as sim};

use crate::helpers::{TestDb, stdout};

fn prepared(
    db: &TestDb,
) -> (
    samskap::infra::db::DbConn,
    Vec<(i32, samskap::infra::models::Wave)>,
    Vec<(String, ServiceType)>,
) {
    let mut conn = db.connect();
    demo::load(
        &mut conn,
        DemoOptions {
            services: 15,
            seed: 9,
        },
    )
    .expect("catalogue");
    let (instruments, problems) = samskap::core::instrument::built_in();
    assert!(problems.is_empty());
    samskap::cli::commands::store_instruments(&mut conn, &instruments).expect("instrument");
    let waves = sim::create_waves(&mut conn).expect("waves");
    let services = samskap::infra::models::Service::all(&mut conn)
        .expect("services")
        .into_iter()
        .map(|s| (s.code, s.service_type))
        .collect();
    (conn, waves, services)
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    String,
    bool,
    Vec<(String, Option<String>, Option<String>, Option<String>)>,
);

/// Everything stored about responses, without ids and timestamps, sorted.
fn snapshot(conn: &mut samskap::infra::db::DbConn) -> (Vec<Row>, Vec<(String, String, String)>) {
    let rs: Vec<(
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<chrono::NaiveDateTime>,
    )> = responses::table
        .inner_join(waves::table)
        .select((
            responses::id,
            waves::name,
            responses::service_id,
            responses::role,
            responses::panel_pseudonym,
            responses::language,
            responses::submitted_at,
        ))
        .load(conn)
        .expect("responses");
    let mut rows: Vec<Row> = rs
        .into_iter()
        .map(|(id, wave, service, role, panel, lang, submitted)| {
            let mut a: Vec<(String, Option<String>, Option<String>, Option<String>)> =
                answers::table
                    .filter(answers::response_id.eq(&id))
                    .select((
                        answers::item_code,
                        answers::value,
                        answers::text_value,
                        answers::missing_code,
                    ))
                    .load::<(String, Option<f64>, Option<String>, Option<String>)>(conn)
                    .expect("answers")
                    .into_iter()
                    .map(|(c, v, t, m)| (c, v.map(|v| v.to_string()), t, m))
                    .collect();
            a.sort();
            (wave, service, role, panel, lang, submitted.is_some(), a)
        })
        .collect();
    rows.sort();
    let mut inv: Vec<(String, String, String)> = invitations::table
        .select((
            invitations::panel_pseudonym,
            invitations::role,
            invitations::status,
        ))
        .load(conn)
        .expect("invitations");
    inv.sort();
    (rows, inv)
}

#[test]
fn the_bulk_path_stores_exactly_what_the_normal_path_stores() {
    let (normal_db, bulk_db) = (TestDb::new(), TestDb::new());
    let keys = DerivedKeys::new(&samskap::infra::config::Secret::new(
        "the same key for both databases, long enough",
    ));
    let (mut a, waves_a, services) = prepared(&normal_db);
    let (mut b, waves_b, services_b) = prepared(&bulk_db);
    assert_eq!(services, services_b);
    let sims = sim::simulate(&services, 3);
    assert!(
        sims.iter().any(|s| !s.responded),
        "some are invited and never answer"
    );
    let n = sim::write_normal(&mut a, &keys, &waves_a, &sims).expect("normal path");
    let m = sim::write_bulk(&mut b, &keys, &waves_b, &sims, 7, |_| {}).expect("bulk path");
    assert_eq!(n, m);
    assert!(n > 30);
    // Service ids differ between the databases; compare by code.
    let code_of =
        |conn: &mut samskap::infra::db::DbConn| -> std::collections::HashMap<String, String> {
            samskap::infra::models::Service::all(conn)
                .expect("s")
                .into_iter()
                .map(|s| (s.id.to_string(), s.code))
                .collect()
        };
    let (codes_a, codes_b) = (code_of(&mut a), code_of(&mut b));
    let (mut rows_a, inv_a) = snapshot(&mut a);
    let (mut rows_b, inv_b) = snapshot(&mut b);
    for r in &mut rows_a {
        r.1 = codes_a[&r.1].clone();
    }
    for r in &mut rows_b {
        r.1 = codes_b[&r.1].clone();
    }
    rows_a.sort();
    rows_b.sort();
    assert_eq!(rows_a.len(), n);
    assert_eq!(rows_a, rows_b, "same responses and answers");
    assert_eq!(inv_a, inv_b, "same invitations");
    let status = |conn: &mut samskap::infra::db::DbConn| -> Vec<(String, String)> {
        waves::table
            .select((waves::name, waves::status))
            .order(waves::name)
            .load(conn)
            .expect("waves")
    };
    assert_eq!(status(&mut a), status(&mut b));
}

#[test]
fn the_demo_holds_three_waves_of_realistic_responses() {
    let db = TestDb::new();
    let out = db.samskap(&["demo", "--services", "60"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("60 services, 3 waves"),
        "{}",
        stdout(&out)
    );
    let conn = &mut db.connect();
    let mut w: Vec<(String, String)> = waves::table
        .select((waves::name, waves::status))
        .load(conn)
        .expect("waves");
    w.sort();
    assert_eq!(
        w,
        [
            ("Kartlegging 2024".into(), "closed".into()),
            ("Kartlegging 2025".into(), "closed".into()),
            ("Kartlegging 2026".into(), "open".into())
        ]
    );
    // Co-deliver highest, co-define lowest; growth from the first to the last wave.
    let mean = |conn: &mut samskap::infra::db::DbConn, pattern: &str, wave: Option<&str>| -> f64 {
        let mut q = answers::table
            .inner_join(waves::table)
            .filter(answers::item_code.like(pattern))
            .select(answers::value)
            .into_boxed();
        if let Some(w) = wave {
            q = q.filter(waves::name.eq(w.to_owned()));
        }
        let v: Vec<Option<f64>> = q.load(conn).expect("values");
        let v: Vec<f64> = v.into_iter().flatten().collect();
        #[expect(clippy::cast_precision_loss, reason = "test")]
        let n = v.len() as f64;
        v.iter().sum::<f64>() / n
    };
    assert!(mean(conn, "C_", None) > mean(conn, "A_", None) + 0.5);
    assert!(
        mean(conn, "B_", Some("Kartlegging 2026")) > mean(conn, "B_", Some("Kartlegging 2024"))
    );
    // Few peer workers per service (often 1-3; larger specialist services more): most
    // services have fewer than 5 peer responses a wave.
    let per_service: Vec<(String, String, i64)> = responses::table
        .filter(responses::role.eq("peer_worker"))
        .group_by((responses::wave_id, responses::service_id))
        .select((
            responses::wave_id,
            responses::service_id,
            diesel::dsl::count_star(),
        ))
        .load(conn)
        .expect("counts");
    assert!(!per_service.is_empty());
    assert!(
        per_service.iter().filter(|(_, _, n)| *n < 5).count() * 4 > per_service.len() * 3,
        "peer cells mostly below k=5"
    );
}

//! Results computed off the request path (issue 18): pages and the API serve the latest
//! publication at once, a submission is published within seconds, and several instances
//! on one PostgreSQL database compute each version once.

use std::time::{Duration, Instant};

use samskap::core::domain::{RespondentRole, UserRole};
use samskap::infra::models::{Service, Wave};
use samskap::tools::demo::{self, DemoOptions};
use serde_json::Value;

use crate::auth_helpers::{create_user, signed_in};
use crate::helpers::{TestApp, expected_backend, spawn_app_with};

use crate::fixtures::uniform_answers as answers;

/// A demo catalogue and an open wave; returns the wave and the first service.
fn wave_with_service(app: &TestApp) -> (Wave, Service) {
    let conn = &mut app.db.connect();
    demo::load(
        conn,
        DemoOptions {
            services: 6,
            seed: 7,
        },
    )
    .expect("demo");
    let wave = crate::fixtures::open_wave(conn, "Live");
    let service = Service::all(conn).expect("services").remove(0);
    (wave, service)
}

/// An app with [`wave_with_service`] and `n` managers of the service answered.
async fn answered(n: usize) -> (TestApp, Wave, Service) {
    let app = spawn_app_with(|_| {}).await;
    let (wave, service) = wave_with_service(&app);
    for i in 0..n {
        submit(&app, &wave, &service, i).await;
    }
    (app, wave, service)
}

/// Invites one manager of `service` and submits their answers through the API.
async fn submit(app: &TestApp, wave: &Wave, service: &Service, i: usize) {
    crate::fixtures::invite_and_submit(
        app,
        wave,
        service,
        RespondentRole::parse("manager").expect("role"),
        &format!("m{i}@example.no"),
        answers(2),
    )
    .await;
}

/// The managers' n of phase A in the service's published results, and when they were
/// computed.
async fn published(
    client: &reqwest::Client,
    address: &str,
    wave: &Wave,
    service: &Service,
) -> (Option<u64>, String) {
    let res = client
        .get(format!(
            "{address}/api/v1/waves/{}/services/{}/results",
            wave.id, service.code
        ))
        .send()
        .await
        .expect("results");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    (
        body["service"]["roles"][0]["phases"][0]["stats"]["n"].as_u64(),
        body["computed_at"].as_str().unwrap_or_default().to_owned(),
    )
}

#[actix_web::test]
async fn pages_serve_the_previous_publication_until_the_next_is_computed() {
    // Changes to one wave are coalesced for five seconds: the window in which a
    // recomputation is due but not done.
    let app = spawn_app_with(|s| s.publish_interval = Duration::from_secs(5)).await;
    let (wave, service) = wave_with_service(&app);
    for i in 0..5 {
        submit(&app, &wave, &service, i).await;
    }
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    let (n, first) = published(&admin, &app.address, &wave, &service).await;
    assert_eq!(n, Some(5), "the first publication waits for a small wave");

    // A sixth manager: the submission succeeds at once, and the dashboard answers at
    // once from the previous publication, saying when it was computed.
    submit(&app, &wave, &service, 5).await;
    let asked = Instant::now();
    let (n, computed_at) = published(&admin, &app.address, &wave, &service).await;
    assert!(
        asked.elapsed() < Duration::from_millis(2500),
        "a request waited {:?} for a recomputation",
        asked.elapsed()
    );
    assert_eq!((n, computed_at.as_str()), (Some(5), first.as_str()));
    let page = admin
        .get(format!("{}/services/{}", app.address, service.code))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let when = chrono::NaiveDateTime::parse_from_str(&first[..19], "%Y-%m-%dT%H:%M:%S")
        .expect("the API's computed_at");
    assert!(
        page.contains(&samskap::infra::time::shown(when)),
        "the page says when, in local time: {first}"
    );

    // Published within the interval and a computation.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (n, computed_at) = published(&admin, &app.address, &wave, &service).await;
        if n == Some(6) {
            assert_ne!(computed_at, first);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sixth answer was not published in 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[actix_web::test]
async fn two_instances_on_one_postgresql_compute_a_version_once() {
    if expected_backend() != "postgres" {
        // One SQLite file belongs to one server process: there is no second instance
        // to share the work with. The suite's PostgreSQL run checks this.
        return;
    }
    let (first, wave, service) = answered(5).await;
    let second = samskap::web::Application::build(first.db.settings(), Some(1))
        .await
        .expect("a second instance starts");
    let second_address = format!("http://127.0.0.1:{}", second.port());
    actix_web::rt::spawn(second.run_until_stopped());
    create_user(&first, "admin@test.no", UserRole::Admin, &[]);
    let one = signed_in(&first, "admin@test.no").await;
    let two = crate::auth_helpers::signed_in_at(&second_address, "admin@test.no").await;

    // Both ask for the same version at the same time: one computes, the other reads
    // what it stored.
    let (a, b) = tokio::join!(
        published(&one, &first.address, &wave, &service),
        published(&two, &second_address, &wave, &service)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut b = b;
    while b.0.is_none() {
        assert!(
            Instant::now() < deadline,
            "the second instance never published"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        b = published(&two, &second_address, &wave, &service).await;
    }
    assert_eq!(a.0, Some(5));
    assert_eq!(a, b, "both instances serve the one computation");
    let stored: i64 = {
        use diesel::prelude::*;
        let conn = &mut first.db.connect();
        samskap::infra::db::schema::analytics_cache::table
            .filter(samskap::infra::db::schema::analytics_cache::wave_id.eq(&wave.id))
            .count()
            .get_result(conn)
            .expect("count")
    };
    assert_eq!(stored, 1, "one stored publication for the version");
}

/// While another instance holds a wave's lease (computing it), an instance serves that
/// instance's newest stored result instead of its own older one, and the current one once
/// the lease is free: two instances stay as fresh as the one that computes.
#[actix_web::test]
async fn while_another_instance_computes_its_newer_result_is_served() {
    if expected_backend() != "postgres" {
        // One SQLite file has one server: no other instance stores results.
        return;
    }
    let (app, wave, service) = answered(5).await;
    create_user(&app, "admin@test.no", UserRole::Admin, &[]);
    let admin = signed_in(&app, "admin@test.no").await;
    assert_eq!(
        published(&admin, &app.address, &wave, &service).await.0,
        Some(5)
    );

    // "Another instance": the test holds the wave's lease, and stores a result at seven
    // answers; an eighth arrives after it, so nothing is stored at the current version.
    // The app's publisher holds the lease until it has stored the copy it just served:
    // take it as another instance would, once it is free.
    let mut lease = app.db.connect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !samskap::app::analytics::publisher::Lease::take(&mut lease, &wave.id).expect("lease") {
        assert!(
            Instant::now() < deadline,
            "the app's publisher kept the lease"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for i in 5..7 {
        submit(&app, &wave, &service, i).await;
    }
    let (db_url, wave_id) = (app.db.database_url(), wave.id.clone());
    // Computing blocks: on a thread of its own, not the test's async runtime.
    let stored = std::thread::spawn(move || {
        let conn = &mut db_url.connect().expect("connect");
        let k = samskap::app::analytics::MinCell::new(5);
        samskap::app::analytics::publication(conn, &wave_id, k).map(|p| p.data_version)
    });
    stored.join().expect("thread").expect("stored at seven");
    submit(&app, &wave, &service, 7).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (n, _) = published(&admin, &app.address, &wave, &service).await;
        assert_ne!(
            n,
            Some(8),
            "computed here although another instance held the lease"
        );
        if n == Some(7) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the other instance's newer result was not served (n = {n:?})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The lease is free again: the current version is computed here.
    samskap::app::analytics::publisher::Lease::release(&mut lease, &wave.id).expect("release");
    let deadline = Instant::now() + Duration::from_secs(10);
    while published(&admin, &app.address, &wave, &service).await.0 != Some(8) {
        assert!(
            Instant::now() < deadline,
            "the eighth answer was not published"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Instances store their publications in any order; an older one never replaces a newer
/// one (whose readers would otherwise go back in time).
#[actix_web::test]
async fn a_stored_publication_is_never_replaced_by_an_older_one() {
    use samskap::infra::models::{AnalyticsCacheEntry, NewAnalyticsCacheEntry};
    let app = spawn_app_with(|_| {}).await;
    let (wave, _) = wave_with_service(&app);
    let conn = &mut app.db.connect();
    let entry = |version: i64, payload: &[u8]| NewAnalyticsCacheEntry {
        wave_id: wave.id.clone(),
        cache_key: "publication:k=5:previous=-1".into(),
        data_version: version,
        payload: payload.to_vec(),
        computed_at: samskap::infra::db::now(),
    };
    let put = |conn: &mut _, e: &NewAnalyticsCacheEntry| {
        AnalyticsCacheEntry::put(conn, e, "publication:k=5:").expect("put");
    };
    put(conn, &entry(10, b"ten"));
    put(conn, &entry(7, b"seven"));
    let key = "publication:k=5:previous=-1";
    assert!(
        AnalyticsCacheEntry::get(conn, &wave.id, key, 7)
            .expect("get")
            .is_none()
    );
    let kept = AnalyticsCacheEntry::get(conn, &wave.id, key, 10).expect("get");
    assert_eq!(kept.map(|e| e.payload), Some(b"ten".to_vec()));
    put(conn, &entry(12, b"twelve"));
    let newest = AnalyticsCacheEntry::newer(conn, &wave.id, key, 0).expect("newer");
    assert_eq!(newest.map(|e| e.data_version), Some(12));
}

/// The publisher reads only what was submitted since its last computation: after new
/// submissions, and after a withdrawal (which it must notice and read everything again),
/// its publication equals one computed from scratch.
#[actix_web::test]
async fn reading_only_new_responses_gives_what_reading_all_gives() {
    let (app, wave, service) = answered(6).await;
    // One answered ten minutes ago, before the window of recent responses counted on
    // each read: only the wave's removal count tells when it is withdrawn.
    let old: String = {
        use diesel::prelude::*;
        use samskap::infra::db::schema::responses;
        let conn = &mut app.db.connect();
        let id: String = responses::table
            .filter(responses::wave_id.eq(&wave.id))
            .select(responses::id)
            .first(conn)
            .expect("a response");
        diesel::update(responses::table.find(&id))
            .set(
                responses::submitted_at
                    .eq(chrono::Utc::now().naive_utc() - chrono::TimeDelta::minutes(10)),
            )
            .execute(conn)
            .expect("back-date it");
        id
    };
    let k = samskap::app::analytics::MinCell::new(5);
    let same = |conn: &mut samskap::infra::db::DbConn,
                rows: &mut std::collections::HashMap<_, _>,
                what: &str| {
        let mut since =
            samskap::app::analytics::compute_since(conn, &wave.id, k, rows).expect("since");
        let mut all = samskap::app::analytics::compute(conn, &wave.id, k).expect("all");
        since.computed_at = chrono::NaiveDateTime::default();
        all.computed_at = chrono::NaiveDateTime::default();
        assert!(
            serde_json::to_value(&since).expect("json")
                == serde_json::to_value(&all).expect("json"),
            "{what}: reading only new responses gave another publication"
        );
        since.services[0].roles[0].phases[0].stats.n()
    };
    // Polars must not block inside the test's async runtime: each step on a thread.
    let mut rows = std::collections::HashMap::new();
    let step = |rows: &mut std::collections::HashMap<_, _>, what: &'static str| {
        std::thread::scope(|scope| {
            scope
                .spawn(|| same(&mut app.db.connect(), rows, what))
                .join()
                .expect("the check panicked")
        })
    };
    assert_eq!(step(&mut rows, "first read"), Some(6));
    for i in 6..9 {
        submit(&app, &wave, &service, i).await;
    }
    assert_eq!(step(&mut rows, "after three more"), Some(9));
    {
        use diesel::prelude::*;
        use samskap::infra::db::schema::responses;
        let conn = &mut app.db.connect();
        // As a withdrawal does: the response goes, and the wave counts a removal.
        diesel::delete(responses::table.filter(responses::id.eq(&old)))
            .execute(conn)
            .expect("withdraw");
        samskap::infra::models::Wave::bump_removals(conn, &wave.id).expect("count it");
    }
    assert_eq!(step(&mut rows, "after a withdrawal"), Some(8));

    // A submission whose transaction commits after a later one was read: its time lies
    // before the latest time read, so reading only later ones would miss it. The count
    // of the last minute's responses catches it.
    submit(&app, &wave, &service, 9).await;
    {
        use diesel::prelude::*;
        use samskap::infra::db::schema::responses;
        let conn = &mut app.db.connect();
        let times: Vec<chrono::NaiveDateTime> = responses::table
            .filter(responses::wave_id.eq(&wave.id))
            .filter(responses::submitted_at.is_not_null())
            .order(responses::submitted_at.desc())
            .select(responses::submitted_at.assume_not_null())
            .limit(2)
            .load(conn)
            .expect("times");
        diesel::update(
            responses::table
                .filter(responses::wave_id.eq(&wave.id))
                .filter(responses::submitted_at.eq(times[0])),
        )
        .set(responses::submitted_at.eq(times[1] - chrono::TimeDelta::milliseconds(1)))
        .execute(conn)
        .expect("back-date the newest");
    }
    assert_eq!(step(&mut rows, "after a late commit"), Some(9));
}

/// The copy other instances read is the publication, bit for bit: every shown,
/// suppressed and empty cell comes back as it was; a copy in an unknown format is refused
/// (and then computed again) rather than misread.
#[actix_web::test]
async fn the_stored_copy_reads_back_as_the_publication() {
    let (app, wave, _) = answered(6).await;
    let (db_url, wave_id) = (app.db.database_url(), wave.id.clone());
    std::thread::spawn(move || {
        let conn = &mut db_url.connect().expect("connect");
        let k = samskap::app::analytics::MinCell::new(5);
        let publication = samskap::app::analytics::compute(conn, &wave_id, k).expect("computed");
        let cells: Vec<_> = publication.services[0]
            .roles
            .iter()
            .flat_map(|r| r.phases.iter().map(|p| (p.stats.n(), p.stats.is_empty())))
            .collect();
        assert!(
            cells.iter().any(|(n, _)| n.is_some()) && cells.iter().any(|(_, empty)| *empty),
            "the fixture has shown and empty cells: {cells:?}"
        );
        let stored = samskap::app::analytics::encode(&publication).expect("encoded");
        let read = samskap::app::analytics::decode(&stored).expect("decoded");
        assert_eq!(
            serde_json::to_value(&read).expect("json"),
            serde_json::to_value(&publication).expect("json"),
            "the stored copy reads back as another publication"
        );
        let mut other_format = stored;
        other_format[0] = 1;
        let refused = samskap::app::analytics::decode(&other_format)
            .expect_err("a copy in another format is not read");
        assert!(refused.to_string().contains("format 1"), "{refused}");
    })
    .join()
    .expect("the check panicked");
}

//! Small fixtures shared by the black-box tests.

use samskap::app::audit::Actor;
use samskap::app::waves::{self, WaveSpec};
use samskap::core::domain::Anonymity;
use samskap::infra::db::DbConn;
use samskap::infra::models::{InstrumentRow, Wave};

/// Creates and opens a linked wave called `name` on every active service, with the first
/// stored instrument, no dates and no reminders.
pub fn open_wave(conn: &mut DbConn, name: &str) -> Wave {
    let instrument = InstrumentRow::all(conn).expect("instruments").remove(0).id;
    open_wave_with(conn, name, instrument)
}

/// [`open_wave`] with a given instrument version.
pub fn open_wave_with(
    conn: &mut DbConn,
    name: &str,
    instrument: samskap::core::domain::InstrumentId,
) -> Wave {
    let actor = Actor {
        user_id: None,
        label: "test".into(),
        ip: None,
    };
    let spec = WaveSpec {
        name: name.into(),
        instrument,
        anonymity: Anonymity::Linked,
        opens_at: None,
        closes_at: None,
        reminder_max: 0,
        reminder_interval_days: 0,
        email_retention_days: 30,
        service_types: Vec::new(),
    };
    let wave = waves::create(conn, &spec, &actor).expect("wave");
    waves::open(conn, &wave.id, &actor).expect("open");
    Wave::find(conn, &wave.id).expect("wave")
}

/// Adds an active service of the same type, in the same municipality and organisation as
/// `of`, and returns it: a neighbour whose small groups add up with `of`'s in the region
/// tables.
pub fn sibling_service(
    conn: &mut DbConn,
    of: &samskap::infra::models::Service,
) -> samskap::infra::models::Service {
    use samskap::core::domain::ServiceId;
    use samskap::infra::models::{NewService, Service};
    let now = samskap::infra::db::now();
    let id = ServiceId::generate();
    Service::insert(
        conn,
        &NewService {
            id: id.clone(),
            code: format!("{}-B", of.code),
            name: format!("{} B", of.name),
            service_type: of.service_type,
            size_band: of.size_band,
            organisation_id: of.organisation_id.clone(),
            municipality_id: of.municipality_id.clone(),
            county_id: of.county_id.clone(),
            health_region_id: of.health_region_id.clone(),
            active: true,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("service");
    Service::all(conn)
        .expect("services")
        .into_iter()
        .find(|s| s.id == id)
        .expect("the new service")
}

/// Answers `v` to every scored item of the built-in instrument.
pub fn uniform_answers(v: i32) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for phase in ["A", "B", "C", "D"] {
        for n in 1..=5 {
            map.insert(format!("{phase}{n}"), serde_json::json!(v));
        }
    }
    serde_json::Value::Object(map)
}

/// Invites `email` as `role` of `service` to `wave` and submits `answers` (with consent)
/// through the respondent API; the submission must be accepted.
pub async fn invite_and_submit(
    app: &crate::helpers::TestApp,
    wave: &Wave,
    service: &samskap::infra::models::Service,
    role: samskap::core::domain::RespondentRole,
    email: &str,
    answers: serde_json::Value,
) {
    let keys =
        samskap::infra::crypto::DerivedKeys::new(&app.db.settings().secret_key().expect("secret"));
    let token = {
        let conn = &mut app.db.connect();
        waves::create_invitation(conn, &keys, wave, &service.id, &role, email, "nb")
            .expect("invitation")
            .1
    };
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/respondent/{token}/submit", app.address))
        .json(&serde_json::json!({"consent": true, "answers": answers}))
        .send()
        .await
        .expect("submit");
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
}

/// `wave`'s publication under threshold `k`, computed now, as JSON without the time it
/// was computed: two computations of the same data compare equal.
pub fn publication_json(
    conn: &mut DbConn,
    wave: &samskap::core::domain::WaveId,
    k: samskap::app::analytics::MinCell,
) -> serde_json::Value {
    let mut p = samskap::app::analytics::compute(conn, wave, k).expect("compute");
    p.computed_at = chrono::NaiveDateTime::default();
    serde_json::to_value(p).expect("json")
}

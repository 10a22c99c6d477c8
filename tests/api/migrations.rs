use chrono::NaiveDateTime;
use diesel::prelude::*;
use samskap::core::domain::*;
use samskap::infra::db::schema::TABLES;
use samskap::infra::db::{self, DbConn};
use samskap::infra::models::*;

use crate::helpers::{TestDb, stdout};

#[test]
fn migrate_applies_from_zero_and_is_idempotent() {
    let db = TestDb::new();
    let first = db.samskap(&["migrate"]);
    assert!(first.status.success(), "{first:?}");
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .expect("migrations")
        .count();
    assert!(
        stdout(&first).contains(&format!("Applied {migrations} migration(s)")),
        "{}",
        stdout(&first)
    );

    let second = db.samskap(&["migrate"]);
    assert!(second.status.success(), "{second:?}");
    assert!(
        stdout(&second).contains("is up to date"),
        "{}",
        stdout(&second)
    );

    let mut conn = db.connect();
    for table in TABLES {
        let n: i64 = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(&mut conn)
            .unwrap_or_else(|e| panic!("table {table} missing: {e}"))
            .n;
        assert_eq!(n, 0, "{table} starts empty");
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("timestamp")
}

/// Helse Vest, its county Vestland and the municipality Bergen: (health region, county,
/// municipality).
fn regions(conn: &mut DbConn) -> (RegionId, RegionId, RegionId) {
    let now = db::now();
    let hr = RegionId::generate();
    let county = RegionId::generate();
    let muni = RegionId::generate();
    for (id, kind, name, parent) in [
        (&hr, RegionKind::HealthRegion, "Helse Vest", None),
        (&county, RegionKind::County, "Vestland", Some(&hr)),
        (&muni, RegionKind::Municipality, "Bergen", Some(&county)),
    ] {
        Region::insert(
            conn,
            &NewRegion {
                id: id.clone(),
                kind,
                name: name.into(),
                code: None,
                parent_id: parent.cloned(),
                created_at: now,
            },
        )
        .expect("region");
    }
    (hr, county, muni)
}

/// Writes one row to every table through the models and reads each back: the schema,
/// the typed ids and enums, timestamps, booleans, doubles and generated ids all round-trip
/// on the backend under test.
#[test]
#[expect(clippy::too_many_lines, reason = "one row per table, written out")]
fn every_table_round_trips_through_its_model() {
    let db = TestDb::new();
    let conn = &mut db.connect();
    let now = db::now();
    let when = t("2026-03-01 12:34:56.123456");

    let (hr, county, muni) = regions(conn);
    let org = OrganisationId::generate();
    Organisation::insert(
        conn,
        &NewOrganisation {
            id: org.clone(),
            name: "Helse Bergen HF".into(),
            org_number: Some("983974724".into()),
            created_at: now,
            updated_at: now,
        },
    )
    .expect("organisation");
    let service = ServiceId::generate();
    Service::insert(
        conn,
        &NewService {
            id: service.clone(),
            code: "S1".into(),
            name: "DPS Bergen".into(),
            service_type: ServiceType::Dps,
            size_band: SizeBand::Large,
            organisation_id: org.clone(),
            municipality_id: muni.clone(),
            county_id: county.clone(),
            health_region_id: hr.clone(),
            active: true,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("service");
    let stored = Service::find(conn, &service).expect("service back");
    assert_eq!(stored.service_type, ServiceType::Dps);
    assert_eq!(stored.size_band, SizeBand::Large);
    assert!(stored.active);
    assert_eq!(
        stored.created_at, now,
        "timestamps round-trip to the microsecond"
    );

    let instrument = InstrumentId::generate();
    InstrumentRow::insert(
        conn,
        &NewInstrument {
            id: instrument.clone(),
            survey_id: "peer-involvement".into(),
            version: "1.0.0".into(),
            content_hash: "abc".into(),
            title: "Peer involvement".into(),
            definition: "{}".into(),
            source: "id = 'x'".into(),
            loaded_at: now,
        },
    )
    .expect("instrument");
    let wave = WaveId::generate();
    Wave::insert(
        conn,
        &NewWave {
            id: wave.clone(),
            name: "2026".into(),
            instrument_id: instrument.clone(),
            status: WaveStatus::Draft,
            anonymity: Anonymity::Linked,
            opens_at: Some(when),
            closes_at: None,
            reminder_max: 2,
            reminder_interval_days: 7,
            email_retention_days: 90,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("wave");
    assert_eq!(Wave::data_version(conn, &wave).expect("version"), 0);
    for _ in 0..40 {
        Wave::bump_data_version(conn, &wave).expect("bump");
    }
    // Forty bumps spread over the shards still add up to forty.
    assert_eq!(Wave::data_version(conn, &wave).expect("version"), 40);
    let stored = Wave::find(conn, &wave).expect("wave back");
    assert_eq!(stored.opens_at, Some(when));
    assert_eq!(stored.anonymity, Anonymity::Linked);

    let inserted = WaveService::insert_all(
        conn,
        &[NewWaveService {
            wave_id: wave.clone(),
            service_id: service.clone(),
            service_code: "S1".into(),
            service_name: "DPS Bergen".into(),
            service_type: ServiceType::Dps,
            size_band: SizeBand::Large,
            organisation_id: org.clone(),
            municipality_id: muni.clone(),
            county_id: county.clone(),
            health_region_id: hr.clone(),
        }],
    )
    .expect("wave service");
    assert_eq!(inserted, 1);
    assert_eq!(WaveService::for_wave(conn, &wave).expect("frozen").len(), 1);

    let invitation = InvitationId::generate();
    Invitation::insert(
        conn,
        &NewInvitation {
            id: invitation.clone(),
            wave_id: wave.clone(),
            service_id: service.clone(),
            role: RespondentRole::parse("peer_worker").expect("role"),
            email: Some("peer@example.org".into()),
            language: "nb".into(),
            token_hash: "hash".into(),
            panel_pseudonym: "p1".into(),
            status: InvitationStatus::Pending,
            expires_at: None,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("invitation");
    assert_eq!(
        Invitation::find_by_token_hash(conn, "hash")
            .expect("query")
            .expect("found")
            .role,
        RespondentRole::parse("peer_worker").expect("role")
    );

    let response = ResponseId::generate();
    Response::insert(
        conn,
        &NewResponse {
            id: response.clone(),
            wave_id: wave.clone(),
            service_id: service.clone(),
            role: RespondentRole::parse("peer_worker").expect("role"),
            invitation_id: Some(invitation.clone()),
            resume_key_hash: None,
            panel_pseudonym: Some("p1".into()),
            language: "nb".into(),
            consent_at: Some(now),
            current_page: None,
            started_at: now,
            updated_at: now,
            submitted_at: None,
            answer_slots: None,
        },
    )
    .expect("response");
    let answers = [
        (Some(3.0), None, None),
        (None, Some("monthly".to_owned()), None),
        (None, None, Some("NA".to_owned())),
    ];
    let rows: Vec<NewAnswer> = answers
        .iter()
        .enumerate()
        .map(|(i, (value, text, missing))| NewAnswer {
            response_id: response.clone(),
            wave_id: wave.clone(),
            item_code: format!("A{}", i + 1),
            value: *value,
            text_value: text.clone(),
            missing_code: missing.clone(),
            updated_at: now,
        })
        .collect();
    assert_eq!(Answer::insert_all(conn, &rows).expect("answers"), 3);
    let back = Answer::for_response(conn, &response).expect("answers back");
    assert_eq!(back.len(), 3);
    assert_eq!(back[0].value, Some(3.0));
    assert_eq!(back[1].text_value.as_deref(), Some("monthly"));
    assert_eq!(back[2].missing_code.as_deref(), Some("NA"));
    assert_eq!(Answer::count_for_wave(conn, &wave).expect("count"), 3);
    let both = NewAnswer {
        item_code: "B1".into(),
        value: Some(1.0),
        missing_code: Some("DK".into()),
        ..rows[0].clone()
    };
    assert!(
        Answer::insert_all(conn, &[both]).is_err(),
        "a value and a missing code at once is refused"
    );

    let user = UserId::generate();
    User::insert(
        conn,
        &NewUser {
            id: user.clone(),
            email: "manager@example.org".into(),
            display_name: "Manager".into(),
            role: UserRole::Manager,
            password_hash: "$argon2id$…".into(),
            active: true,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("user");
    UserScope::insert(
        conn,
        &NewUserScope {
            id: UserScopeId::generate(),
            user_id: user.clone(),
            scope_kind: ScopeKind::Service,
            scope_id: service.to_string(),
            created_at: now,
        },
    )
    .expect("scope");
    assert_eq!(
        UserScope::for_user(conn, &user).expect("scopes")[0].scope_kind,
        ScopeKind::Service
    );
    ApiToken::insert(
        conn,
        &NewApiToken {
            id: ApiTokenId::generate(),
            user_id: user.clone(),
            name: "ci".into(),
            token_hash: "th".into(),
            created_at: now,
            expires_at: None,
        },
    )
    .expect("token");
    assert!(ApiToken::find_by_hash(conn, "th").expect("query").is_some());

    for action in ["login.success", "wave.create"] {
        AuditEntry::append(
            conn,
            &NewAuditEntry {
                occurred_at: now,
                actor_user_id: Some(user.clone()),
                actor: "manager@example.org".into(),
                action: action.into(),
                target_kind: None,
                target_id: None,
                details: Some("{}".into()),
                ip: Some("127.0.0.1".into()),
            },
        )
        .expect("audit");
    }
    let audit = AuditEntry::recent(conn, 10).expect("audit back");
    assert_eq!(audit.len(), 2);
    assert!(audit[0].id > audit[1].id, "generated ids increase");

    OutboxMessage::insert(
        conn,
        &NewOutboxMessage {
            kind: "invitation".into(),
            dedupe_key: format!("invitation:{invitation}"),
            to_address: "peer@example.org".into(),
            language: "nb".into(),
            subject: "Invitasjon".into(),
            body_text: "Hei".into(),
            body_html: "<p>Hei</p>".into(),
            wave_id: Some(wave.clone()),
            invitation_id: Some(invitation.clone()),
            status: OutboxStatus::Pending,
            next_attempt_at: now,
            created_at: now,
        },
    )
    .expect("outbox");
    assert_eq!(
        OutboxMessage::count_by_status(conn, OutboxStatus::Pending).expect("count"),
        1
    );

    AnalyticsCacheEntry::put(
        conn,
        &NewAnalyticsCacheEntry {
            wave_id: wave.clone(),
            cache_key: "k".into(),
            data_version: 1,
            payload: b"{}".to_vec(),
            computed_at: now,
        },
        "k:",
    )
    .expect("cache");
    assert!(
        AnalyticsCacheEntry::get(conn, &wave, "k", 1)
            .expect("get")
            .is_some()
    );
    assert!(
        AnalyticsCacheEntry::get(conn, &wave, "k", 2)
            .expect("get")
            .is_none(),
        "stale versions miss"
    );

    // Withdrawing a response removes its answers with it.
    Response::delete(conn, &response).expect("delete");
    assert_eq!(Answer::count_for_wave(conn, &wave).expect("count"), 0);
}

#[test]
fn foreign_keys_and_checks_are_enforced() {
    let db = TestDb::new();
    let conn = &mut db.connect();
    let now = db::now();
    let orphan = Answer::insert_all(
        conn,
        &[NewAnswer {
            response_id: ResponseId::from_string("missing"),
            wave_id: WaveId::from_string("missing"),
            item_code: "A1".into(),
            value: Some(1.0),
            text_value: None,
            missing_code: None,
            updated_at: now,
        }],
    );
    assert!(orphan.is_err(), "an answer without its response is refused");

    let region = Region::insert(
        conn,
        &NewRegion {
            id: RegionId::generate(),
            kind: RegionKind::County,
            name: "Nowhere".into(),
            code: None,
            parent_id: None,
            created_at: now,
        },
    );
    assert!(
        region.is_err(),
        "a county without a health region is refused"
    );
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

#[test]
fn sqlite_connections_honour_the_durability_promise() {
    let db = TestDb::new();
    let DbConn::Sqlite(conn) = &mut db.connect() else {
        return; // PostgreSQL: server defaults (fsync, synchronous_commit) hold the promise.
    };
    let pragma = |conn: &mut diesel::SqliteConnection, name: &str| -> String {
        let column = if name == "busy_timeout" {
            "timeout"
        } else {
            name
        };
        diesel::sql_query(format!(
            "SELECT CAST({column} AS TEXT) AS v FROM pragma_{name}"
        ))
        .get_result::<Text>(conn)
        .expect("pragma")
        .v
    };
    assert_eq!(pragma(conn, "journal_mode"), "wal");
    assert_eq!(pragma(conn, "synchronous"), "2", "FULL");
    assert_eq!(pragma(conn, "foreign_keys"), "1");
    assert_eq!(pragma(conn, "busy_timeout"), "10000");
}

/// One service with a manager's and a peer worker's submitted response and their answers,
/// written through the models. Returns the wave and the service.
fn seed_two_roles(conn: &mut DbConn) -> (WaveId, ServiceId) {
    let now = db::now();
    let (hr, county, muni) = regions(conn);
    let org = OrganisationId::generate();
    Organisation::insert(
        conn,
        &NewOrganisation {
            id: org.clone(),
            name: "Helse Bergen HF".into(),
            org_number: None,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("organisation");
    let service = ServiceId::generate();
    Service::insert(
        conn,
        &NewService {
            id: service.clone(),
            code: "S1".into(),
            name: "DPS Bergen".into(),
            service_type: ServiceType::Dps,
            size_band: SizeBand::Large,
            organisation_id: org.clone(),
            municipality_id: muni.clone(),
            county_id: county.clone(),
            health_region_id: hr.clone(),
            active: true,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("service");
    let instrument = InstrumentId::generate();
    InstrumentRow::insert(
        conn,
        &NewInstrument {
            id: instrument.clone(),
            survey_id: "peer-involvement".into(),
            version: "1.0.0".into(),
            content_hash: "abc".into(),
            title: "Peer involvement".into(),
            definition: "{}".into(),
            source: "id = 'x'".into(),
            loaded_at: now,
        },
    )
    .expect("instrument");
    let wave = WaveId::generate();
    Wave::insert(
        conn,
        &NewWave {
            id: wave.clone(),
            name: "2025".into(),
            instrument_id: instrument,
            status: WaveStatus::Open,
            anonymity: Anonymity::Linked,
            opens_at: Some(now),
            closes_at: None,
            reminder_max: 2,
            reminder_interval_days: 7,
            email_retention_days: 90,
            created_at: now,
            updated_at: now,
        },
    )
    .expect("wave");
    WaveService::insert_all(
        conn,
        &[NewWaveService {
            wave_id: wave.clone(),
            service_id: service.clone(),
            service_code: "S1".into(),
            service_name: "DPS Bergen".into(),
            service_type: ServiceType::Dps,
            size_band: SizeBand::Large,
            organisation_id: org,
            municipality_id: muni,
            county_id: county,
            health_region_id: hr,
        }],
    )
    .expect("wave service");
    for (i, role) in ["manager", "peer_worker"].into_iter().enumerate() {
        let role = RespondentRole::parse(role).expect("role");
        let invitation = InvitationId::generate();
        Invitation::insert(
            conn,
            &NewInvitation {
                id: invitation.clone(),
                wave_id: wave.clone(),
                service_id: service.clone(),
                role: role.clone(),
                email: Some(format!("p{i}@example.org")),
                language: "nb".into(),
                token_hash: format!("hash{i}"),
                panel_pseudonym: format!("p{i}"),
                status: InvitationStatus::Submitted,
                expires_at: None,
                created_at: now,
                updated_at: now,
            },
        )
        .expect("invitation");
        let response = ResponseId::generate();
        Response::insert(
            conn,
            &NewResponse {
                id: response.clone(),
                wave_id: wave.clone(),
                service_id: service.clone(),
                role,
                invitation_id: Some(invitation),
                resume_key_hash: None,
                panel_pseudonym: Some(format!("p{i}")),
                language: "nb".into(),
                consent_at: Some(now),
                current_page: Some("review".into()),
                started_at: now,
                updated_at: now,
                submitted_at: Some(now),
                answer_slots: None,
            },
        )
        .expect("response");
        let rows: Vec<NewAnswer> = ["A1", "A2", "A3"]
            .into_iter()
            .map(|item| NewAnswer {
                response_id: response.clone(),
                wave_id: wave.clone(),
                item_code: item.into(),
                value: Some(2.0),
                text_value: None,
                missing_code: None,
                updated_at: now,
            })
            .collect();
        Answer::insert_all(conn, &rows).expect("answers");
    }
    (wave, service)
}

fn role_rows(conn: &mut DbConn, wave: &WaveId) -> (usize, usize, i64) {
    (
        Invitation::for_wave(conn, wave).expect("invitations").len(),
        diesel::sql_query(format!(
            "SELECT COUNT(*) AS n FROM responses WHERE wave_id = '{wave}'"
        ))
        .get_result::<Count>(conn)
        .expect("responses")
        .n
        .try_into()
        .expect("small"),
        Answer::count_for_wave(conn, wave).expect("answers"),
    )
}

/// Migration 000010 (roles from the survey file) on a database that holds a wave's
/// invitations, responses and answers: everything survives (on SQLite the role CHECKs are
/// edited in place; rebuilding `responses` inside the migration's transaction, where
/// foreign keys stay on, would have deleted every answer through ON DELETE CASCADE), a
/// third role is accepted after it and malformed codes still are not, and reverting it
/// is refused while a role the old constraint does not know has rows.
#[test]
fn the_survey_roles_migration_keeps_every_answer_and_admits_new_roles() {
    let db = TestDb::new();
    let conn = &mut db.connect();
    let reverted = db::revert_last_migration(conn).expect("revert");
    assert!(reverted.contains("000010"), "{reverted}");
    let (wave, service) = seed_two_roles(conn);
    let staff = |conn: &mut DbConn, code: &str, i: u32| {
        let now = db::now();
        Invitation::insert(
            conn,
            &NewInvitation {
                id: InvitationId::generate(),
                wave_id: wave.clone(),
                service_id: service.clone(),
                role: RespondentRole::parse(code).expect("a well-formed code"),
                email: Some(format!("s{i}@example.org")),
                language: "nb".into(),
                token_hash: format!("staff{i}"),
                panel_pseudonym: format!("s{i}"),
                status: InvitationStatus::Pending,
                expires_at: None,
                created_at: now,
                updated_at: now,
            },
        )
    };
    assert!(
        staff(conn, "staff", 0).is_err(),
        "before the migration the old CHECK refuses a third role"
    );
    let before = role_rows(conn, &wave);
    assert_eq!(before, (2, 2, 6));
    // Another pool member, opened (and its schema read) before the migration: it must
    // see the new constraint after it without reconnecting.
    let other = &mut db.database_url().connect().expect("connect");
    assert_eq!(role_rows(other, &wave), before);

    let applied = db::run_migrations(conn).expect("migrate");
    assert_eq!(applied.len(), 1, "{applied:?}");
    assert_eq!(role_rows(conn, &wave), before, "nothing lost");
    staff(conn, "staff", 1).expect("a third role is accepted");
    staff(other, "board_member", 2)
        .expect("and a fourth, on the connection opened before the migration");
    for bad in ["Staff", "peer-worker", "2nd"] {
        let refused = diesel::sql_query(format!(
            "INSERT INTO invitations (id, wave_id, service_id, role, email, language, token_hash, panel_pseudonym, status, reminder_count, created_at, updated_at) \
             SELECT 'x{bad}', wave_id, service_id, '{bad}', NULL, 'nb', 'tx{bad}', 'px{bad}', 'pending', 0, created_at, updated_at FROM invitations WHERE wave_id = '{wave}' LIMIT 1"
        ))
        .execute(other);
        assert!(
            refused.is_err(),
            "the database refuses the role code {bad:?}"
        );
    }
    // Responses, answers and the foreign keys around them behave as before.
    let (invitations, responses, answers) = role_rows(other, &wave);
    assert_eq!((invitations, responses, answers), (4, 2, 6));

    assert!(
        db::revert_last_migration(other).is_err(),
        "reverting is refused while other roles have rows"
    );
    assert_eq!(
        role_rows(other, &wave),
        (4, 2, 6),
        "and the refusal loses nothing"
    );
}

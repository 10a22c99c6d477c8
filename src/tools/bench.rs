//! Benchmark support behind the hidden `samskap bench` verbs: invitations with known
//! tokens for load tests, and the raw in-process insert rate of complete responses (the
//! floor an HTTP submission is compared with), used by `perf/submit.sh`; the large wave,
//! timed analysis and Parquet export of [`analytics`], used by `perf/analytics.sh`.

pub mod analytics;

use std::time::Instant;

use anyhow::Context as _;
use diesel::prelude::*;

use crate::app::audit::Actor;
use crate::app::questionnaire::Stored;
use crate::app::waves::{self, WaveSpec};
use crate::core::domain::{Anonymity, InvitationStatus, RespondentRole, ResponseId, WaveId};
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::{self, DbConn};
use crate::infra::models::{
    Answer, InstrumentRow, Invitation, InvitationChanges, NewAnswer, NewResponse, Response, Wave,
    WaveService,
};

/// A complete manager response (every scored and context item), as the API takes it.
pub fn manager_answers_json() -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (i, phase) in ["A", "B", "C", "D"].iter().enumerate() {
        for n in 1..=5 {
            m.insert(format!("{phase}{n}"), serde_json::json!((i + n) % 5));
        }
    }
    for (k, v) in [
        ("M_FIRST_YEAR", serde_json::json!(2018)),
        ("M_PEER_COUNT", serde_json::json!(2)),
        ("M_PEER_FTE", serde_json::json!(1.5)),
        ("M_EMPLOYMENT", serde_json::json!("permanent")),
        ("M_TRAINING", serde_json::json!("internal")),
        ("M_SUPERVISION", serde_json::json!("monthly")),
        ("M_POLICY_PLAN", serde_json::json!(true)),
        ("M_POLICY_BUDGET", serde_json::json!(false)),
        ("M_POLICY_JOB_DESCRIPTION", serde_json::json!(true)),
        ("M_POLICY_MANAGEMENT", serde_json::json!(false)),
    ] {
        m.insert(k.into(), v);
    }
    serde_json::Value::Object(m)
}

/// An open benchmark wave with `n` manager invitations; returns the wave and the tokens.
pub fn prepare(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    n: usize,
    into: Option<&WaveId>,
) -> anyhow::Result<(WaveId, Vec<String>)> {
    if crate::infra::models::Service::count(conn)? == 0 {
        crate::tools::demo::load(conn, crate::tools::demo::DemoOptions::default())?;
    }
    let instrument = InstrumentRow::all(conn)?
        .into_iter()
        .find(|r| r.survey_id == "peer-involvement")
        .context("store the instrument first")?;
    let actor = Actor {
        user_id: None,
        label: "bench".into(),
        ip: None,
    };
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S%f").to_string();
    let wave = if let Some(id) = into {
        Wave::find(conn, id).context("--wave: no such wave")?
    } else {
        new_open_wave(conn, instrument.id, &stamp, &actor)?
    };
    let services = WaveService::for_wave(conn, &wave.id)?;
    let mut tokens = Vec::with_capacity(n);
    // Any role the instrument declares will do: the benchmark measures links, not roles.
    let manager = RespondentRole::parse("manager").map_err(anyhow::Error::msg)?;
    for chunk_start in (0..n).step_by(1000) {
        crate::infra::db::write_transaction(conn, |conn| -> anyhow::Result<()> {
            for i in chunk_start..(chunk_start + 1000).min(n) {
                let service = &services[i % services.len()].service_id;
                let email = format!("bench{i}.{stamp}@bench.invalid");
                let (_, token) =
                    waves::create_invitation(conn, keys, &wave, service, &manager, &email, "nb")?;
                tokens.push(token);
            }
            Ok(())
        })?;
    }
    Ok((wave.id, tokens))
}

/// A new open wave on every service, named after `stamp`.
fn new_open_wave(
    conn: &mut DbConn,
    instrument: crate::core::domain::InstrumentId,
    stamp: &str,
    actor: &Actor,
) -> anyhow::Result<Wave> {
    let spec = WaveSpec {
        name: format!("Benchmark {stamp}"),
        instrument,
        anonymity: Anonymity::Linked,
        opens_at: None,
        closes_at: None,
        reminder_max: 0,
        reminder_interval_days: 0,
        email_retention_days: 0,
        service_types: Vec::new(),
    };
    let wave = waves::create(conn, &spec, actor)?;
    waves::open(conn, &wave.id, actor)?;
    Ok(Wave::find(conn, &wave.id)?)
}

/// Result of [`raw_insert_rate`].
#[derive(Debug, Clone, Copy)]
pub struct RawRate {
    pub responses: usize,
    pub seconds: f64,
    /// CPU time (user + system) this process spent, in seconds.
    pub cpu_seconds: f64,
}

/// User + system CPU time of this process so far, in seconds (Linux; 0 elsewhere).
pub fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Stores `n` complete responses in-process, one durable transaction each, writing the
/// rows an HTTP submission writes (response, answers, invitation status, data version) and
/// nothing else: no HTTP, no parsing, no checks.
pub fn raw_insert_rate(conn: &mut DbConn, keys: &DerivedKeys, n: usize) -> anyhow::Result<RawRate> {
    let (wave_id, _) = prepare(conn, keys, n, None)?;
    let wave = Wave::find(conn, &wave_id)?;
    let invitations = Invitation::for_wave(conn, &wave_id)?;
    let answers: Vec<(String, Stored)> = manager_answers_json()
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let s = match v {
                        serde_json::Value::String(t) => Stored {
                            value: None,
                            text: Some(t.clone()),
                            missing: None,
                        },
                        serde_json::Value::Bool(b) => Stored {
                            value: Some(if *b { 1.0 } else { 0.0 }),
                            text: None,
                            missing: None,
                        },
                        other => Stored {
                            value: other.as_f64(),
                            text: None,
                            missing: None,
                        },
                    };
                    (k.clone(), s)
                })
                .collect()
        })
        .unwrap_or_default();
    let survey = crate::app::waves::instrument_of(conn, &wave)?;
    let slots = crate::app::questionnaire::answer_slots(
        &wave,
        &survey,
        answers.iter().map(|(c, s)| (c.as_str(), s)),
    );
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    for inv in &invitations {
        crate::infra::db::write_transaction(conn, |conn| -> QueryResult<()> {
            let now = db::now();
            let id = ResponseId::generate();
            Response::insert(
                conn,
                &NewResponse {
                    id: id.clone(),
                    wave_id: wave.id.clone(),
                    service_id: inv.service_id.clone(),
                    role: inv.role.clone(),
                    invitation_id: Some(inv.id.clone()),
                    resume_key_hash: None,
                    panel_pseudonym: Some(inv.panel_pseudonym.clone()),
                    language: inv.language.clone(),
                    consent_at: Some(now),
                    current_page: Some("review".into()),
                    started_at: now,
                    updated_at: now,
                    submitted_at: Some(now),
                    answer_slots: Some(slots.clone()),
                },
            )?;
            let rows: Vec<NewAnswer> = answers
                .iter()
                .map(|(code, s)| s.row(&id, &wave.id, code, now))
                .collect();
            Answer::insert_all(conn, &rows)?;
            Invitation::update(
                conn,
                &inv.id,
                &InvitationChanges {
                    status: Some(InvitationStatus::Submitted),
                    updated_at: Some(now),
                    ..Default::default()
                },
            )?;
            Wave::bump_data_version(conn, &wave.id)
        })?;
    }
    Ok(RawRate {
        responses: invitations.len(),
        seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: process_cpu_seconds() - cpu_before,
    })
}

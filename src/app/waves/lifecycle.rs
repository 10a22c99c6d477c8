//! A wave's life: creating it (pinning an instrument version and freezing the
//! participating services with their place in the hierarchy), opening and closing it,
//! each with its audit record.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::app::audit::{self, Actor};
use crate::core::domain::{Anonymity, InstrumentId, ServiceType, WaveId, WaveStatus};
use crate::infra::db::{self, DbConn};
use crate::infra::models::{
    InstrumentRow, NewWave, NewWaveService, Service, Wave, WaveChanges, WaveService,
};

use super::invalid;

/// What a new wave needs. [`create`] checks it ([`crate::app::validation`]): every problem
/// at once.
#[derive(Debug, Clone, crate::app::validation::Validate)]
pub struct WaveSpec {
    #[validate(
        custom(function = "crate::app::validation::not_blank"),
        length(max = 200)
    )]
    pub name: String,
    pub instrument: InstrumentId,
    pub anonymity: Anonymity,
    pub opens_at: Option<NaiveDateTime>,
    pub closes_at: Option<NaiveDateTime>,
    #[validate(range(min = 0, max = 10))]
    pub reminder_max: i32,
    #[validate(range(min = 0, max = 90))]
    pub reminder_interval_days: i32,
    #[validate(range(min = 0, max = 3650))]
    pub email_retention_days: i32,
    /// Only services of these types (empty: all active services).
    pub service_types: Vec<ServiceType>,
}

/// The fields of [`WaveSpec`] in the order forms show them.
pub const SPEC_FIELDS: &[&str] = &[
    "name",
    "instrument",
    "anonymity",
    "closes_at",
    "reminder_max",
    "reminder_interval_days",
    "email_retention_days",
];

/// Creates a draft wave and freezes its services. One transaction. A spec with problems
/// fails with [`crate::app::validation::Problems`], all of them.
pub fn create(conn: &mut DbConn, spec: &WaveSpec, actor: &Actor) -> anyhow::Result<Wave> {
    crate::app::validation::check(spec, SPEC_FIELDS)?;
    if let (Some(o), Some(c)) = (spec.opens_at, spec.closes_at)
        && c <= o
    {
        return Err(invalid("closes", "must be after the opening date"));
    }
    crate::infra::db::write_transaction(conn, |conn| {
        InstrumentRow::find(conn, &spec.instrument)
            .optional()?
            .ok_or_else(|| invalid("instrument", "no such instrument version"))?;
        let now = db::now();
        let id = WaveId::generate();
        Wave::insert(
            conn,
            &NewWave {
                id: id.clone(),
                name: spec.name.trim().to_owned(),
                instrument_id: spec.instrument.clone(),
                status: WaveStatus::Draft,
                anonymity: spec.anonymity,
                opens_at: spec.opens_at,
                closes_at: spec.closes_at,
                reminder_max: spec.reminder_max,
                reminder_interval_days: spec.reminder_interval_days,
                email_retention_days: spec.email_retention_days,
                created_at: now,
                updated_at: now,
            },
        )?;
        let frozen: Vec<NewWaveService> = Service::all(conn)?
            .into_iter()
            .filter(|s| {
                s.active
                    && (spec.service_types.is_empty()
                        || spec.service_types.contains(&s.service_type))
            })
            .map(|s| NewWaveService {
                wave_id: id.clone(),
                service_id: s.id,
                service_code: s.code,
                service_name: s.name,
                service_type: s.service_type,
                size_band: s.size_band,
                organisation_id: s.organisation_id,
                municipality_id: s.municipality_id,
                county_id: s.county_id,
                health_region_id: s.health_region_id,
            })
            .collect();
        if frozen.is_empty() {
            return Err(invalid(
                "services",
                "no active services match; import a catalogue first",
            ));
        }
        WaveService::insert_all(conn, &frozen)?;
        audit::record(
            conn,
            actor,
            "wave.create",
            Some(("wave", id.as_str())),
            Some(json!({"name": spec.name, "services": frozen.len(), "anonymity": spec.anonymity})),
        )?;
        Ok(Wave::find(conn, &id)?)
    })
}

fn transition(
    conn: &mut DbConn,
    wave: &WaveId,
    from: WaveStatus,
    to: WaveStatus,
    actor: &Actor,
) -> anyhow::Result<Wave> {
    crate::infra::db::write_transaction(conn, |conn| {
        let current = Wave::find(conn, wave)?;
        if current.status != from {
            return Err(invalid(
                "status",
                format!("the wave is {}, so it cannot become {to}", current.status),
            ));
        }
        let now = db::now();
        let mut changes = WaveChanges {
            status: Some(to),
            updated_at: Some(now),
            ..Default::default()
        };
        match to {
            WaveStatus::Open => changes.opened_at = Some(Some(now)),
            WaveStatus::Closed => changes.closed_at = Some(Some(now)),
            WaveStatus::Draft => {}
        }
        Wave::update(conn, wave, &changes)?;
        audit::record(
            conn,
            actor,
            &format!(
                "wave.{}",
                if to == WaveStatus::Open {
                    "open"
                } else {
                    "close"
                }
            ),
            Some(("wave", wave.as_str())),
            None,
        )?;
        Ok(Wave::find(conn, wave)?)
    })
}

pub fn open(conn: &mut DbConn, wave: &WaveId, actor: &Actor) -> anyhow::Result<Wave> {
    transition(conn, wave, WaveStatus::Draft, WaveStatus::Open, actor)
}

pub fn close(conn: &mut DbConn, wave: &WaveId, actor: &Actor) -> anyhow::Result<Wave> {
    transition(conn, wave, WaveStatus::Open, WaveStatus::Closed, actor)
}

/// A wave's schedule as the admin may change it while the wave is a draft or open:
/// when it closes (a later date extends it), and its reminders.
#[derive(Debug, Clone, crate::app::validation::Validate)]
pub struct Schedule {
    pub closes_at: Option<NaiveDateTime>,
    #[validate(range(min = 0, max = 10))]
    pub reminder_max: i32,
    #[validate(range(min = 0, max = 90))]
    pub reminder_interval_days: i32,
}

/// The fields of [`Schedule`] in the order forms show them.
pub const SCHEDULE_FIELDS: &[&str] = &["closes_at", "reminder_max", "reminder_interval_days"];

fn closing_ahead(closes_at: Option<NaiveDateTime>) -> anyhow::Result<()> {
    if closes_at.is_some_and(|c| c <= db::now()) {
        return Err(invalid(
            "closes",
            "the closing date has passed; choose a later date, or none",
        ));
    }
    Ok(())
}

/// Changes the schedule of a draft or open wave, with its audit record.
pub fn reschedule(
    conn: &mut DbConn,
    wave: &WaveId,
    schedule: &Schedule,
    actor: &Actor,
) -> anyhow::Result<Wave> {
    crate::app::validation::check(schedule, SCHEDULE_FIELDS)?;
    closing_ahead(schedule.closes_at)?;
    crate::infra::db::write_transaction(conn, |conn| {
        let current = Wave::find(conn, wave)?;
        if current.status == WaveStatus::Closed {
            return Err(invalid(
                "status",
                "the wave is closed; reopen it to change its schedule",
            ));
        }
        Wave::update(
            conn,
            wave,
            &WaveChanges {
                closes_at: Some(schedule.closes_at),
                reminder_max: Some(schedule.reminder_max),
                reminder_interval_days: Some(schedule.reminder_interval_days),
                updated_at: Some(db::now()),
                ..Default::default()
            },
        )?;
        audit::record(
            conn,
            actor,
            "wave.schedule",
            Some(("wave", wave.as_str())),
            Some(json!({
                "closes_at": schedule.closes_at,
                "reminder_max": schedule.reminder_max,
                "reminder_interval_days": schedule.reminder_interval_days,
            })),
        )?;
        Ok(Wave::find(conn, wave)?)
    })
}

/// Why a closed wave cannot be reopened, if it cannot: its e-mail addresses were erased
/// when its retention period ended (nobody could be invited or reminded, and its results
/// are final).
pub fn reopen_refusal(conn: &mut DbConn, wave: &Wave) -> anyhow::Result<Option<&'static str>> {
    if wave.status != WaveStatus::Closed {
        return Ok(Some("only a closed wave can be reopened"));
    }
    let erased: i64 = crate::infra::db::schema::invitations::table
        .filter(crate::infra::db::schema::invitations::wave_id.eq(&wave.id))
        .filter(crate::infra::db::schema::invitations::email_erased_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok((erased > 0).then_some(
        "its e-mail addresses were erased when the retention period ended, so its results are final",
    ))
}

/// Reopens a closed wave whose results are not final ([`reopen_refusal`]): links work
/// again until `closes_at` (which must be ahead, or none), with its audit record.
pub fn reopen(
    conn: &mut DbConn,
    wave: &WaveId,
    closes_at: Option<NaiveDateTime>,
    actor: &Actor,
) -> anyhow::Result<Wave> {
    closing_ahead(closes_at)?;
    crate::infra::db::write_transaction(conn, |conn| {
        let current = Wave::find(conn, wave)?;
        if let Some(why) = reopen_refusal(conn, &current)? {
            return Err(invalid(
                "status",
                format!("the wave cannot be reopened: {why}"),
            ));
        }
        Wave::update(
            conn,
            wave,
            &WaveChanges {
                status: Some(WaveStatus::Open),
                closes_at: Some(closes_at),
                closed_at: Some(None),
                updated_at: Some(db::now()),
                ..Default::default()
            },
        )?;
        audit::record(
            conn,
            actor,
            "wave.reopen",
            Some(("wave", wave.as_str())),
            Some(json!({"closes_at": closes_at})),
        )?;
        Ok(Wave::find(conn, wave)?)
    })
}

//! Waves: create (pinning an instrument version and freezing the participating services
//! with their place in the hierarchy), open, close; respondents, invitations with
//! one-time links, reminders, status, and erasing e-mail addresses after a wave.

pub mod respondents;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::app::audit::{self, Actor};
use crate::core::domain::{
    Anonymity, InstrumentId, InvitationId, InvitationStatus, RespondentRole, ServiceType, WaveId,
    WaveStatus,
};
use crate::core::instrument::format::SurveyFile;
use crate::infra::crypto::DerivedKeys;
use crate::infra::db::{self, DbConn, schema};
use crate::infra::models::{
    InstrumentRow, Invitation, InvitationChanges, NewInvitation, NewWave, NewWaveService, Service,
    Wave, WaveChanges, WaveService,
};

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

/// A problem with a request, naming the field.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> anyhow::Error {
    Invalid {
        field,
        message: message.into(),
    }
    .into()
}

/// The wave a page or download shows: the one asked for, else the newest of `waves`
/// (given newest first); `None` when the one asked for is not among them. The one rule
/// for the service and region dashboards and their downloads.
pub fn asked_or_newest<'a>(waves: &'a [Wave], asked: Option<&str>) -> Option<&'a Wave> {
    match asked {
        Some(id) => waves.iter().find(|w| w.id.as_str() == id),
        None => waves.first(),
    }
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

/// Finds a wave by id or by exact name.
pub fn find(conn: &mut DbConn, reference: &str) -> anyhow::Result<Wave> {
    if let Some(w) = Wave::find(conn, &WaveId::from_string(reference)).optional()? {
        return Ok(w);
    }
    let mut named: Vec<Wave> = Wave::all(conn)?
        .into_iter()
        .filter(|w| w.name == reference)
        .collect();
    match named.len() {
        1 => Ok(named.remove(0)),
        0 => Err(invalid(
            "wave",
            format!("no wave with id or name {reference:?}"),
        )),
        _ => Err(invalid(
            "wave",
            format!("several waves are called {reference:?}; use the id"),
        )),
    }
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

/// The wave's instrument as pinned at creation.
pub fn instrument_of(conn: &mut DbConn, wave: &Wave) -> anyhow::Result<std::sync::Arc<SurveyFile>> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, RwLock};
    // Stored instrument versions never change, so a parsed copy can be kept for the life of
    // the process, on every instance, without ever going stale.
    static PARSED: LazyLock<RwLock<HashMap<InstrumentId, Arc<SurveyFile>>>> =
        LazyLock::new(Default::default);
    if let Some(found) = PARSED
        .read()
        .ok()
        .and_then(|m| m.get(&wave.instrument_id).cloned())
    {
        return Ok(found);
    }
    let row = InstrumentRow::find(conn, &wave.instrument_id)?;
    let parsed = Arc::new(crate::app::surveys::load_stored(&row)?);
    if let Ok(mut m) = PARSED.write() {
        m.insert(wave.instrument_id.clone(), parsed.clone());
    }
    Ok(parsed)
}

/// The scoring rules of a wave's instrument, prepared once per instrument version for the
/// life of the process (versions never change).
pub fn rules_of(
    wave: &Wave,
    survey: &SurveyFile,
) -> std::sync::Arc<crate::core::scoring::ScoringRules> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, RwLock};
    type Prepared = HashMap<InstrumentId, Arc<crate::core::scoring::ScoringRules>>;
    static PREPARED: LazyLock<RwLock<Prepared>> = LazyLock::new(Default::default);
    if let Some(found) = PREPARED
        .read()
        .ok()
        .and_then(|m| m.get(&wave.instrument_id).cloned())
    {
        return found;
    }
    let rules = Arc::new(crate::core::scoring::ScoringRules::new(survey));
    if let Ok(mut m) = PREPARED.write() {
        m.insert(wave.instrument_id.clone(), rules.clone());
    }
    rules
}

/// Link to a questionnaire.
pub fn link(base_url: &str, token: &str) -> String {
    format!("{}/s/{token}", base_url.trim_end_matches('/'))
}

/// Renders and queues an invitation or reminder message for `token`.
#[expect(clippy::too_many_arguments, reason = "one message needs all of these")]
pub fn queue_message(
    conn: &mut DbConn,
    kind: &'static str,
    dedupe_key: String,
    wave: &Wave,
    survey: &SurveyFile,
    invitation: &Invitation,
    token: &str,
    base_url: &str,
) -> anyhow::Result<bool> {
    let Some(email) = &invitation.email else {
        return Ok(false);
    };
    let service = WaveService::find(conn, &wave.id, &invitation.service_id)?
        .map(|s| s.service_name)
        .unwrap_or_default();
    let lang = invitation.language.as_str();
    let role = survey
        .roles
        .get(invitation.role.as_str())
        .map(|r| crate::core::instrument::format::in_lang(&r.label, lang).to_lowercase())
        .unwrap_or_default();
    let data = json!({
        "title": crate::core::instrument::format::in_lang(&survey.title, lang),
        "service": service,
        "role": role,
        "link": link(base_url, token),
        "closes": wave.closes_at.map(|c| c.format("%Y-%m-%d").to_string()),
        "reminder_number": invitation.reminder_count,
    });
    let (subject, text, html) = crate::infra::mail::templates::render(kind, lang, &data)?;
    Ok(crate::infra::mail::enqueue(
        conn,
        &crate::infra::mail::Outgoing {
            kind,
            dedupe_key,
            to: email.clone(),
            language: lang.to_owned(),
            subject,
            text,
            html,
            wave_id: Some(wave.id.clone()),
            invitation_id: Some(invitation.id.clone()),
        },
        db::now(),
    )?)
}

/// Stores a new token for an invitation (every token sent stays valid).
pub fn add_token(conn: &mut DbConn, invitation: &InvitationId, token: &str) -> QueryResult<()> {
    diesel::insert_into(schema::invitation_tokens::table)
        .values((
            schema::invitation_tokens::token_hash.eq(crate::app::accounts::token_hash(token)),
            schema::invitation_tokens::invitation_id.eq(invitation),
            schema::invitation_tokens::created_at.eq(db::now()),
        ))
        .execute(conn)
        .map(drop)
}

/// The invitation a token belongs to.
pub fn invitation_for_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Invitation>> {
    use schema::{invitation_tokens as t, invitations as i};
    if token.len() != 40 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    t::table
        .inner_join(i::table)
        .filter(t::token_hash.eq(crate::app::accounts::token_hash(token)))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// Creates one invitation with its first token; returns it and the token.
pub fn create_invitation(
    conn: &mut DbConn,
    keys: &DerivedKeys,
    wave: &Wave,
    service: &crate::core::domain::ServiceId,
    role: RespondentRole,
    email: &str,
    language: &str,
) -> QueryResult<(Invitation, String)> {
    let token = crate::infra::crypto::respondent_token();
    let now = db::now();
    let id = InvitationId::generate();
    Invitation::insert(
        conn,
        &NewInvitation {
            id: id.clone(),
            wave_id: wave.id.clone(),
            service_id: service.clone(),
            role,
            email: Some(email.to_owned()),
            language: language.to_owned(),
            token_hash: crate::app::accounts::token_hash(&token),
            panel_pseudonym: keys.panel_pseudonym(email),
            status: InvitationStatus::Pending,
            expires_at: wave.closes_at,
            created_at: now,
            updated_at: now,
        },
    )?;
    add_token(conn, &id, &token)?;
    // Participation counts are part of the wave's publication.
    Wave::bump_data_version(conn, &wave.id)?;
    Ok((Invitation::find(conn, &id)?, token))
}

/// Queues reminders for everyone who has not submitted, has had fewer than the wave's
/// maximum, and was last contacted at least the wave's interval ago. Each reminder
/// carries a fresh link. Returns how many were queued.
pub fn remind(
    conn: &mut DbConn,
    wave_id: &WaveId,
    base_url: &str,
    actor: &Actor,
) -> anyhow::Result<usize> {
    crate::infra::db::write_transaction(conn, |conn| {
        let wave = Wave::find(conn, wave_id)?;
        if wave.status != WaveStatus::Open {
            return Err(invalid(
                "status",
                format!(
                    "the wave is {}; reminders go out only while it is open",
                    wave.status
                ),
            ));
        }
        let survey = instrument_of(conn, &wave)?;
        let now = db::now();
        let cutoff = now - chrono::Duration::days(i64::from(wave.reminder_interval_days));
        let due: Vec<Invitation> = Invitation::for_wave(conn, &wave.id)?
            .into_iter()
            .filter(|i| matches!(i.status, InvitationStatus::Sent | InvitationStatus::Started))
            .filter(|i| i.email.is_some() && i.reminder_count < wave.reminder_max)
            .filter(|i| {
                i.last_reminded_at
                    .or(i.sent_at)
                    .is_some_and(|t| t <= cutoff)
            })
            .collect();
        let mut queued = 0;
        for inv in due {
            let token = crate::infra::crypto::respondent_token();
            add_token(conn, &inv.id, &token)?;
            let number = inv.reminder_count + 1;
            Invitation::update(
                conn,
                &inv.id,
                &InvitationChanges {
                    reminder_count: Some(number),
                    last_reminded_at: Some(Some(now)),
                    updated_at: Some(now),
                    ..Default::default()
                },
            )?;
            let inv = Invitation {
                reminder_count: number,
                ..inv
            };
            if queue_message(
                conn,
                "reminder",
                format!("reminder:{}:{number}", inv.id),
                &wave,
                &survey,
                &inv,
                &token,
                base_url,
            )? {
                queued += 1;
            }
        }
        audit::record(
            conn,
            actor,
            "wave.remind",
            Some(("wave", wave.id.as_str())),
            Some(json!({"queued": queued})),
        )?;
        Ok(queued)
    })
}

/// Erases the e-mail addresses of every closed wave whose retention period has ended and
/// that still holds addresses. Returns how many addresses were erased. The outbox worker
/// runs this about once a minute.
pub fn erase_due_emails(conn: &mut DbConn) -> anyhow::Result<usize> {
    let now = db::now();
    let actor = Actor {
        user_id: None,
        label: "retention".into(),
        ip: None,
    };
    let mut erased = 0;
    for wave in Wave::all(conn)? {
        let due = wave
            .closed_at
            .filter(|_| wave.status == WaveStatus::Closed)
            .is_some_and(|c| {
                c + chrono::Duration::days(i64::from(wave.email_retention_days)) <= now
            });
        if !due {
            continue;
        }
        let holding: i64 = schema::invitations::table
            .filter(schema::invitations::wave_id.eq(&wave.id))
            .filter(schema::invitations::email.is_not_null())
            .count()
            .get_result(conn)?;
        if holding > 0 {
            erased += erase_emails(conn, &wave.id, false, &actor)?;
        }
    }
    Ok(erased)
}

/// Erases e-mail addresses of a closed wave (invitations and outbox); the panel
/// pseudonyms stay, so the panel can still be followed. `force` skips the retention wait.
pub fn erase_emails(
    conn: &mut DbConn,
    wave_id: &WaveId,
    force: bool,
    actor: &Actor,
) -> anyhow::Result<usize> {
    crate::infra::db::write_transaction(conn, |conn| {
        let wave = Wave::find(conn, wave_id)?;
        let Some(closed) = wave.closed_at.filter(|_| wave.status == WaveStatus::Closed) else {
            return Err(invalid(
                "status",
                "e-mail addresses are erased only after the wave has closed",
            ));
        };
        let due = closed + chrono::Duration::days(i64::from(wave.email_retention_days));
        if !force && db::now() < due {
            return Err(invalid(
                "retention_days",
                format!(
                    "the retention period ends {}; use --force to erase now",
                    due.format("%Y-%m-%d")
                ),
            ));
        }
        let now = db::now();
        let n = diesel::update(
            schema::invitations::table
                .filter(schema::invitations::wave_id.eq(wave_id))
                .filter(schema::invitations::email.is_not_null()),
        )
        .set((
            schema::invitations::email.eq(None::<String>),
            schema::invitations::email_erased_at.eq(Some(now)),
        ))
        .execute(conn)?;
        diesel::update(schema::outbox::table.filter(schema::outbox::wave_id.eq(wave_id)))
            .set((
                schema::outbox::to_address.eq("[erased]"),
                schema::outbox::body_text.eq(crate::infra::mail::SCRUBBED),
                schema::outbox::body_html.eq(crate::infra::mail::SCRUBBED),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            "wave.erase_emails",
            Some(("wave", wave_id.as_str())),
            Some(json!({"invitations": n})),
        )?;
        Ok(n)
    })
}

/// Counts for a wave's status page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusReport {
    pub wave: Wave,
    pub services: usize,
    pub invitations: i64,
    pub by_status: Vec<(InvitationStatus, i64)>,
    pub submitted_by_role: Vec<(RespondentRole, i64)>,
    pub response_rate: Option<f64>,
    pub outbox: crate::infra::mail::OutboxCounts,
}

pub fn status(conn: &mut DbConn, wave_id: &WaveId) -> anyhow::Result<StatusReport> {
    use schema::{invitations as inv, responses as r};
    let wave = Wave::find(conn, wave_id)?;
    let services = WaveService::for_wave(conn, wave_id)?.len();
    let mut by_status = Vec::new();
    let mut total = 0;
    for s in InvitationStatus::ALL {
        let n: i64 = inv::table
            .filter(inv::wave_id.eq(wave_id))
            .filter(inv::status.eq(*s))
            .count()
            .get_result(conn)?;
        total += n;
        by_status.push((*s, n));
    }
    let mut submitted_by_role = Vec::new();
    let mut submitted = 0;
    for role in RespondentRole::ALL {
        let n: i64 = r::table
            .filter(r::wave_id.eq(wave_id))
            .filter(r::role.eq(*role))
            .filter(r::submitted_at.is_not_null())
            .count()
            .get_result(conn)?;
        submitted += n;
        submitted_by_role.push((*role, n));
    }
    let response_rate = crate::app::analytics::stats::response_rate(
        u64::try_from(submitted).unwrap_or(0),
        u64::try_from(total).unwrap_or(0),
    );
    Ok(StatusReport {
        wave,
        services,
        invitations: total,
        by_status,
        submitted_by_role,
        response_rate,
        outbox: crate::infra::mail::counts(conn, Some(wave_id))?,
    })
}

/// Invitations per service and role of a wave (withdrawn ones do not count), for one
/// service or all. Counts of people, never answers.
pub fn invited(
    conn: &mut DbConn,
    wave_id: &WaveId,
    service: Option<&crate::core::domain::ServiceId>,
) -> QueryResult<HashMap<(crate::core::domain::ServiceId, RespondentRole), i64>> {
    use diesel::dsl::count_star;
    use schema::invitations as inv;
    let mut invited = inv::table
        .filter(inv::wave_id.eq(wave_id))
        .filter(inv::status.ne(InvitationStatus::Withdrawn))
        .group_by((inv::service_id, inv::role))
        .select((inv::service_id, inv::role, count_star()))
        .into_boxed();
    if let Some(s) = service {
        invited = invited.filter(inv::service_id.eq(s));
    }
    Ok(invited
        .load::<(crate::core::domain::ServiceId, RespondentRole, i64)>(conn)?
        .into_iter()
        .map(|(s, role, n)| ((s, role), n))
        .collect())
}

/// Invited and submitted counts per service and role of a wave (withdrawn invitations
/// do not count as invited), for one service or all. Counts of people, never answers.
pub fn participation(
    conn: &mut DbConn,
    wave_id: &WaveId,
    service: Option<&crate::core::domain::ServiceId>,
) -> QueryResult<HashMap<(crate::core::domain::ServiceId, RespondentRole), (i64, i64)>> {
    use diesel::dsl::count_star;
    use schema::responses as r;
    let mut submitted = r::table
        .filter(r::wave_id.eq(wave_id))
        .filter(r::submitted_at.is_not_null())
        .group_by((r::service_id, r::role))
        .select((r::service_id, r::role, count_star()))
        .into_boxed();
    if let Some(s) = service {
        submitted = submitted.filter(r::service_id.eq(s));
    }
    let mut out: HashMap<_, (i64, i64)> = HashMap::new();
    for (key, n) in invited(conn, wave_id, service)? {
        out.entry(key).or_default().0 = n;
    }
    for (s, role, n) in
        submitted.load::<(crate::core::domain::ServiceId, RespondentRole, i64)>(conn)?
    {
        out.entry((s, role)).or_default().1 = n;
    }
    Ok(out)
}

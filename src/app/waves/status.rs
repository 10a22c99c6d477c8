//! Where a wave stands: invitations and answers per service and role.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::core::domain::{InvitationStatus, RespondentRole, WaveId};
use crate::infra::db::{DbConn, schema};
use crate::infra::models::{Wave, WaveService};

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
    // Every role of the wave's instrument, answered or not, and any other role found.
    let mut submitted_by_role: Vec<(RespondentRole, i64)> =
        crate::app::waves::instrument_of(conn, &wave)?
            .roles()
            .into_iter()
            .map(|role| (role, 0))
            .collect();
    let counted: Vec<(RespondentRole, i64)> = r::table
        .filter(r::wave_id.eq(wave_id))
        .filter(r::submitted_at.is_not_null())
        .group_by(r::role)
        .select((r::role, diesel::dsl::count_star()))
        .load(conn)?;
    let mut submitted = 0;
    for (role, n) in counted {
        submitted += n;
        match submitted_by_role.iter_mut().find(|(r, _)| *r == role) {
            Some(slot) => slot.1 = n,
            None => submitted_by_role.push((role, n)),
        }
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

/// Submitted responses per wave, for `waves` (a wave without any is left out).
pub fn submitted_per_wave(
    conn: &mut DbConn,
    waves: &[&WaveId],
) -> QueryResult<HashMap<WaveId, i64>> {
    use diesel::dsl::count_star;
    use schema::responses as r;
    Ok(r::table
        .filter(r::wave_id.eq_any(waves))
        .filter(r::submitted_at.is_not_null())
        .group_by(r::wave_id)
        .select((r::wave_id, count_star()))
        .load::<(WaveId, i64)>(conn)?
        .into_iter()
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

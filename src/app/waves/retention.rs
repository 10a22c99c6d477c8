//! Erasing e-mail addresses when a wave's retention period is over (or at once, on
//! request), with the audit record.

use diesel::prelude::*;
use serde_json::json;

use crate::app::audit::{self, Actor};
use crate::core::domain::{WaveId, WaveStatus};
use crate::infra::db::{self, DbConn, schema};
use crate::infra::models::Wave;

use super::invalid;

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

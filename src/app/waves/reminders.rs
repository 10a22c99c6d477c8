//! Reminders to those invited who have not answered yet.

use serde_json::json;

use crate::app::audit::{self, Actor};
use crate::core::domain::{InvitationStatus, WaveId, WaveStatus};
use diesel::prelude::*;

use crate::infra::db::{self, DbConn, schema};
use crate::infra::models::{Invitation, Wave};

use super::invitations::{add_token, queue_message};
use super::{instrument_of, invalid};

/// When the next reminder of the wave falls due (UTC): the earliest time anyone who may
/// still be reminded (not submitted, under the wave's maximum, with an e-mail address)
/// reaches the wave's interval since their last message. `None` when nobody can be
/// reminded any more (everyone has answered or had every reminder, or no invitation has
/// been sent yet).
///
/// # Errors
/// When the database cannot be read.
pub fn next_due(
    conn: &mut DbConn,
    wave_id: &WaveId,
) -> anyhow::Result<Option<chrono::NaiveDateTime>> {
    let wave = Wave::find(conn, wave_id)?;
    let interval = chrono::Duration::days(i64::from(wave.reminder_interval_days));
    Ok(Invitation::for_wave(conn, &wave.id)?
        .into_iter()
        .filter(|i| matches!(i.status, InvitationStatus::Sent | InvitationStatus::Started))
        .filter(|i| i.email.is_some() && i.reminder_count < wave.reminder_max)
        .filter_map(|i| i.last_reminded_at.or(i.sent_at))
        .map(|t| t + interval)
        .min())
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
            let number = inv.reminder_count + 1;
            // Exactly once across instances: the count moves from what this round read
            // to the next only here; an instance that read the same count meanwhile
            // updates nothing and skips the person (and the outbox's dedupe key would
            // refuse its message anyway).
            let claimed = diesel::update(
                schema::invitations::table
                    .find(&inv.id)
                    .filter(schema::invitations::reminder_count.eq(inv.reminder_count)),
            )
            .set((
                schema::invitations::reminder_count.eq(number),
                schema::invitations::last_reminded_at.eq(Some(now)),
                schema::invitations::updated_at.eq(now),
            ))
            .execute(conn)?;
            if claimed == 0 {
                continue;
            }
            let token = crate::infra::crypto::respondent_token();
            add_token(conn, &inv.id, &token)?;
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

/// The actor automatic reminders are recorded under in the audit log.
fn schedule_actor() -> Actor {
    Actor {
        user_id: None,
        label: "reminder schedule".into(),
        ip: None,
    }
}

/// Whether the wave's reminders go out by themselves: open, not paused, with reminders
/// to send and at least a day between them (0 days means "only when the admin sends
/// them").
pub fn automatic(wave: &Wave) -> bool {
    wave.status == WaveStatus::Open
        && !wave.reminders_paused
        && wave.reminder_max > 0
        && wave.reminder_interval_days >= 1
}

/// Queues the reminders that are due in every wave whose reminders go out by themselves
/// ([`automatic`]). The outbox worker of every instance runs this about once a minute;
/// [`remind`] sends each reminder once however many run it at the same time. Returns how
/// many were queued.
pub fn send_due_reminders(conn: &mut DbConn, base_url: &str) -> anyhow::Result<usize> {
    let mut queued = 0;
    for wave in Wave::all(conn)?.iter().filter(|w| automatic(w)) {
        // Nobody due: no transaction, no audit record.
        if next_due(conn, &wave.id)?.is_none_or(|t| t > db::now()) {
            continue;
        }
        queued += remind(conn, &wave.id, base_url, &schedule_actor())?;
    }
    Ok(queued)
}

/// Pauses (`true`) or resumes the wave's automatic reminders, with its audit record.
pub fn pause_reminders(
    conn: &mut DbConn,
    wave_id: &WaveId,
    paused: bool,
    actor: &Actor,
) -> anyhow::Result<()> {
    crate::infra::db::write_transaction(conn, |conn| {
        let now = db::now();
        crate::infra::models::Wave::update(
            conn,
            wave_id,
            &crate::infra::models::WaveChanges {
                reminders_paused: Some(paused),
                updated_at: Some(now),
                ..Default::default()
            },
        )?;
        audit::record(
            conn,
            actor,
            if paused {
                "wave.reminders_pause"
            } else {
                "wave.reminders_resume"
            },
            Some(("wave", wave_id.as_str())),
            None,
        )?;
        Ok(())
    })
}

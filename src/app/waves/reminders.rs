//! Reminders to those invited who have not answered yet.

use serde_json::json;

use crate::app::audit::{self, Actor};
use crate::core::domain::{InvitationStatus, WaveId, WaveStatus};
use crate::infra::db::{self, DbConn};
use crate::infra::models::{Invitation, InvitationChanges, Wave};

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

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{InvitationId, OutboxStatus, WaveId};
use crate::infra::db::DbConn;
use crate::infra::db::schema::outbox;

/// An e-mail waiting to be sent, or the record of one that was. `dedupe_key` makes
/// enqueueing idempotent (one invitation message per invitation, one reminder per round).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: String,
    pub to_address: String,
    pub language: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub wave_id: Option<WaveId>,
    pub invitation_id: Option<InvitationId>,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct NewOutboxMessage {
    pub kind: String,
    pub dedupe_key: String,
    pub to_address: String,
    pub language: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub wave_id: Option<WaveId>,
    pub invitation_id: Option<InvitationId>,
    pub status: OutboxStatus,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = outbox)]
pub struct OutboxChanges {
    pub status: Option<OutboxStatus>,
    pub attempts: Option<i32>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub claimed_by: Option<Option<String>>,
    pub claimed_until: Option<Option<NaiveDateTime>>,
    pub last_error: Option<Option<String>>,
    pub sent_at: Option<Option<NaiveDateTime>>,
}

impl OutboxMessage {
    pub fn insert(conn: &mut DbConn, new: &NewOutboxMessage) -> QueryResult<()> {
        diesel::insert_into(outbox::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    /// A wave's messages that failed for good, newest first: where they were going and
    /// why (the wave page's list of addresses to correct).
    pub fn failed_for_wave(conn: &mut DbConn, wave: &WaveId) -> QueryResult<Vec<Self>> {
        outbox::table
            .filter(outbox::wave_id.eq(wave))
            .filter(outbox::status.eq(OutboxStatus::Failed))
            .order(outbox::id.desc())
            .select(Self::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Self> {
        outbox::table.find(id).select(Self::as_select()).first(conn)
    }

    pub fn update(conn: &mut DbConn, id: i64, changes: &OutboxChanges) -> QueryResult<()> {
        diesel::update(outbox::table.find(id))
            .set(changes)
            .execute(conn)
            .map(drop)
    }

    pub fn count_by_status(conn: &mut DbConn, status: OutboxStatus) -> QueryResult<i64> {
        outbox::table
            .filter(outbox::status.eq(status))
            .count()
            .get_result(conn)
    }
}

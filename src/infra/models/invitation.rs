use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{InvitationId, InvitationStatus, RespondentRole, ServiceId, WaveId};
use crate::infra::db::DbConn;
use crate::infra::db::schema::invitations;

/// An invitation with its service's code and name, as [`Invitation::listing`] gives it.
pub type Listed = (Invitation, String, String);

diesel::define_sql_function! {
    /// SQL `lower()`, the same on SQLite and PostgreSQL for the ASCII of service codes.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A one-time link for one respondent. Only the hash of the token is stored; the e-mail
/// can be erased after the wave while the panel pseudonym stays.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: InvitationId,
    pub wave_id: WaveId,
    pub service_id: ServiceId,
    pub role: RespondentRole,
    pub email: Option<String>,
    pub language: String,
    pub token_hash: String,
    pub panel_pseudonym: String,
    pub status: InvitationStatus,
    pub reminder_count: i32,
    pub sent_at: Option<NaiveDateTime>,
    pub last_reminded_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub email_erased_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = invitations, treat_none_as_default_value = false)]
pub struct NewInvitation {
    pub id: InvitationId,
    pub wave_id: WaveId,
    pub service_id: ServiceId,
    pub role: RespondentRole,
    pub email: Option<String>,
    pub language: String,
    pub token_hash: String,
    pub panel_pseudonym: String,
    pub status: InvitationStatus,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = invitations)]
pub struct InvitationChanges {
    pub email: Option<Option<String>>,
    pub status: Option<InvitationStatus>,
    pub reminder_count: Option<i32>,
    pub sent_at: Option<Option<NaiveDateTime>>,
    pub last_reminded_at: Option<Option<NaiveDateTime>>,
    pub email_erased_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
}

impl Invitation {
    pub fn find(conn: &mut DbConn, id: &InvitationId) -> QueryResult<Self> {
        invitations::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
    }

    pub fn find_by_token_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Self>> {
        invitations::table
            .filter(invitations::token_hash.eq(hash))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn for_wave(conn: &mut DbConn, wave: &WaveId) -> QueryResult<Vec<Self>> {
        invitations::table
            .filter(invitations::wave_id.eq(wave))
            .order(invitations::created_at)
            .select(Self::as_select())
            .load(conn)
    }

    /// One page of a wave's invitations for the admin's list, with the service's code and
    /// name as frozen in the wave, and how many match in all: by service code, then role
    /// and address; `status` and `search` (part of an address or a service code) narrow it.
    pub fn listing(
        conn: &mut DbConn,
        wave: &WaveId,
        status: Option<InvitationStatus>,
        search: &str,
        limit: i64,
        offset: i64,
    ) -> QueryResult<(Vec<Listed>, i64)> {
        use crate::infra::db::schema::wave_services as ws;
        let query = || {
            let mut q = invitations::table
                .inner_join(
                    ws::table.on(ws::wave_id
                        .eq(invitations::wave_id)
                        .and(ws::service_id.eq(invitations::service_id))),
                )
                .filter(invitations::wave_id.eq(wave))
                .into_boxed();
            if let Some(status) = status {
                q = q.filter(invitations::status.eq(status));
            }
            let search = search.trim().to_lowercase();
            if !search.is_empty() {
                let pattern = format!(
                    "%{}%",
                    search
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                );
                q = q.filter(
                    invitations::email
                        .like(pattern.clone())
                        .escape('\\')
                        .or(lower(ws::service_code).like(pattern).escape('\\')),
                );
            }
            q
        };
        let total = query().count().get_result(conn)?;
        let rows = query()
            .order((ws::service_code, invitations::role, invitations::email))
            .limit(limit)
            .offset(offset)
            .select((Self::as_select(), ws::service_code, ws::service_name))
            .load(conn)?;
        Ok((rows, total))
    }

    pub fn insert(conn: &mut DbConn, new: &NewInvitation) -> QueryResult<()> {
        diesel::insert_into(invitations::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn update(
        conn: &mut DbConn,
        id: &InvitationId,
        changes: &InvitationChanges,
    ) -> QueryResult<()> {
        diesel::update(invitations::table.find(id))
            .set(changes)
            .execute(conn)
            .map(drop)
    }
}

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{InvitationId, RespondentRole, ResponseId, ServiceId, WaveId};
use crate::infra::db::DbConn;
use crate::infra::db::schema::responses;

/// One respondent's questionnaire in one wave, saved page by page until submitted.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = responses)]
pub struct Response {
    pub id: ResponseId,
    pub wave_id: WaveId,
    pub service_id: ServiceId,
    pub role: RespondentRole,
    /// `None` in anonymous waves, and after the invitation is deleted.
    pub invitation_id: Option<InvitationId>,
    /// Anonymous waves find the response again through a keyed hash of the token.
    pub resume_key_hash: Option<String>,
    pub panel_pseudonym: Option<String>,
    pub language: String,
    pub consent_at: Option<NaiveDateTime>,
    pub current_page: Option<String>,
    pub started_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = responses, treat_none_as_default_value = false)]
pub struct NewResponse {
    pub id: ResponseId,
    pub wave_id: WaveId,
    pub service_id: ServiceId,
    pub role: RespondentRole,
    pub invitation_id: Option<InvitationId>,
    pub resume_key_hash: Option<String>,
    pub panel_pseudonym: Option<String>,
    pub language: String,
    pub consent_at: Option<NaiveDateTime>,
    pub current_page: Option<String>,
    pub started_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    /// Set on submission; see `ScoringRules::encode_response`.
    pub answer_slots: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = responses)]
pub struct ResponseChanges {
    pub language: Option<String>,
    pub consent_at: Option<Option<NaiveDateTime>>,
    pub current_page: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
    pub submitted_at: Option<Option<NaiveDateTime>>,
    pub answer_slots: Option<Option<Vec<u8>>>,
}

impl Response {
    pub fn find(conn: &mut DbConn, id: &ResponseId) -> QueryResult<Self> {
        responses::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
    }

    pub fn for_invitation(conn: &mut DbConn, id: &InvitationId) -> QueryResult<Option<Self>> {
        responses::table
            .filter(responses::invitation_id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut DbConn, new: &NewResponse) -> QueryResult<()> {
        diesel::insert_into(responses::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn update(
        conn: &mut DbConn,
        id: &ResponseId,
        changes: &ResponseChanges,
    ) -> QueryResult<()> {
        diesel::update(responses::table.find(id))
            .set(changes)
            .execute(conn)
            .map(drop)
    }

    pub fn delete(conn: &mut DbConn, id: &ResponseId) -> QueryResult<()> {
        diesel::delete(responses::table.find(id))
            .execute(conn)
            .map(drop)
    }
}

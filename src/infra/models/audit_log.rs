use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::UserId;
use crate::infra::db::DbConn;
use crate::infra::db::schema::audit_log;

/// Who did what, when. Append-only: there is no changes form.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: NaiveDateTime,
    pub actor_user_id: Option<UserId>,
    /// The actor as shown to admins: an e-mail, `cli`, or `anonymous`.
    pub actor: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    /// JSON object with action-specific details.
    pub details: Option<String>,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct NewAuditEntry {
    pub occurred_at: NaiveDateTime,
    pub actor_user_id: Option<UserId>,
    pub actor: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub details: Option<String>,
    pub ip: Option<String>,
}

impl AuditEntry {
    pub fn append(conn: &mut DbConn, entry: &NewAuditEntry) -> QueryResult<()> {
        diesel::insert_into(audit_log::table)
            .values(entry)
            .execute(conn)
            .map(drop)
    }

    /// The newest entries first.
    pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Self>> {
        audit_log::table
            .order(audit_log::id.desc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }
}

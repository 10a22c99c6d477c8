use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{ApiTokenId, UserId};
use crate::infra::db::DbConn;
use crate::infra::db::schema::api_tokens;

/// A bearer token for the API. Shown once at creation; only its hash is stored.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = api_tokens, treat_none_as_default_value = false)]
pub struct NewApiToken {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenChanges {
    pub last_used_at: Option<Option<NaiveDateTime>>,
    pub revoked_at: Option<Option<NaiveDateTime>>,
}

impl ApiToken {
    pub fn find_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Self>> {
        api_tokens::table
            .filter(api_tokens::token_hash.eq(hash))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn for_user(conn: &mut DbConn, user: &UserId) -> QueryResult<Vec<Self>> {
        api_tokens::table
            .filter(api_tokens::user_id.eq(user))
            .order(api_tokens::created_at.desc())
            .select(Self::as_select())
            .load(conn)
    }

    pub fn insert(conn: &mut DbConn, new: &NewApiToken) -> QueryResult<()> {
        diesel::insert_into(api_tokens::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn update(
        conn: &mut DbConn,
        id: &ApiTokenId,
        changes: &ApiTokenChanges,
    ) -> QueryResult<()> {
        diesel::update(api_tokens::table.find(id))
            .set(changes)
            .execute(conn)
            .map(drop)
    }
}

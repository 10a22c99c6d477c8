use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{ScopeKind, UserId, UserScopeId};
use crate::infra::db::DbConn;
use crate::infra::db::schema::user_scopes;

/// What a user may see: services or organisations (managers), regions (policymakers),
/// waves (researchers).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = user_scopes)]
pub struct UserScope {
    pub id: UserScopeId,
    pub user_id: UserId,
    pub scope_kind: ScopeKind,
    pub scope_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = user_scopes, treat_none_as_default_value = false)]
pub struct NewUserScope {
    pub id: UserScopeId,
    pub user_id: UserId,
    pub scope_kind: ScopeKind,
    pub scope_id: String,
    pub created_at: NaiveDateTime,
}

impl UserScope {
    pub fn for_user(conn: &mut DbConn, user: &UserId) -> QueryResult<Vec<Self>> {
        user_scopes::table
            .filter(user_scopes::user_id.eq(user))
            .order((user_scopes::scope_kind, user_scopes::scope_id))
            .select(Self::as_select())
            .load(conn)
    }

    /// A user and their scopes in one query (every signed-in request asks): `None`
    /// when there is no such user.
    pub fn user_with_scopes(
        conn: &mut DbConn,
        user: &UserId,
    ) -> QueryResult<Option<(crate::infra::models::User, Vec<Self>)>> {
        use crate::infra::db::schema::users;
        let rows: Vec<(crate::infra::models::User, Option<Self>)> = users::table
            .left_join(user_scopes::table)
            .filter(users::id.eq(user))
            .order((user_scopes::scope_kind, user_scopes::scope_id))
            .select((
                crate::infra::models::User::as_select(),
                Option::<Self>::as_select(),
            ))
            .load(conn)?;
        let mut rows = rows.into_iter();
        let Some((found, first)) = rows.next() else {
            return Ok(None);
        };
        let scopes = first
            .into_iter()
            .chain(rows.filter_map(|(_, s)| s))
            .collect();
        Ok(Some((found, scopes)))
    }

    pub fn insert(conn: &mut DbConn, new: &NewUserScope) -> QueryResult<()> {
        diesel::insert_into(user_scopes::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn delete(conn: &mut DbConn, id: &UserScopeId) -> QueryResult<usize> {
        diesel::delete(user_scopes::table.find(id)).execute(conn)
    }
}

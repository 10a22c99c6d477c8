use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{UserId, UserRole};
use crate::infra::db::DbConn;
use crate::infra::db::schema::users;

/// A login account. `password_hash` is a PHC string (argon2id).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: UserRole,
    pub password_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
    /// Sessions signed in before this (unix milliseconds) are over: set at sign-out.
    pub sessions_ended_at: Option<i64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct NewUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: UserRole,
    pub password_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<UserRole>,
    pub password_hash: Option<String>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
    pub last_login_at: Option<Option<NaiveDateTime>>,
    pub sessions_ended_at: Option<Option<i64>>,
}

impl User {
    pub fn find(conn: &mut DbConn, id: &UserId) -> QueryResult<Self> {
        users::table.find(id).select(Self::as_select()).first(conn)
    }

    pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<Self>> {
        users::table
            .filter(users::email.eq(email))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        users::table
            .order(users::email)
            .select(Self::as_select())
            .load(conn)
    }

    pub fn insert(conn: &mut DbConn, new: &NewUser) -> QueryResult<()> {
        diesel::insert_into(users::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn update(conn: &mut DbConn, id: &UserId, changes: &UserChanges) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set(changes)
            .execute(conn)
            .map(drop)
    }
}

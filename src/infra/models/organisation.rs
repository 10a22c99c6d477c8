use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::OrganisationId;
use crate::infra::db::DbConn;
use crate::infra::db::schema::organisations;

/// A health trust, municipality or other body that runs services.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    /// Norwegian organisation number (9 digits) where known.
    pub org_number: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = organisations, treat_none_as_default_value = false)]
pub struct NewOrganisation {
    pub id: OrganisationId,
    pub name: String,
    pub org_number: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = organisations)]
pub struct OrganisationChanges {
    pub name: Option<String>,
    pub org_number: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

impl Organisation {
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        organisations::table
            .order(organisations::name)
            .select(Self::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, id: &OrganisationId) -> QueryResult<Option<Self>> {
        organisations::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_name(conn: &mut DbConn, name: &str) -> QueryResult<Option<Self>> {
        organisations::table
            .filter(organisations::name.eq(name))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut DbConn, new: &NewOrganisation) -> QueryResult<()> {
        diesel::insert_into(organisations::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn update(
        conn: &mut DbConn,
        id: &OrganisationId,
        changes: &OrganisationChanges,
    ) -> QueryResult<()> {
        diesel::update(organisations::table.find(id))
            .set(changes)
            .execute(conn)
            .map(drop)
    }

    pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
        organisations::table.count().get_result(conn)
    }
}

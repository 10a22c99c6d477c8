use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::InstrumentId;
use crate::infra::db::DbConn;
use crate::infra::db::schema::instruments;

/// One stored instrument version. `definition` is the parsed survey file as JSON and
/// `source` the file text; both are immutable once stored, and `content_hash` identifies
/// the version.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = instruments)]
pub struct InstrumentRow {
    pub id: InstrumentId,
    pub survey_id: String,
    pub version: String,
    pub content_hash: String,
    pub title: String,
    pub definition: String,
    pub source: String,
    pub loaded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = instruments, treat_none_as_default_value = false)]
pub struct NewInstrument {
    pub id: InstrumentId,
    pub survey_id: String,
    pub version: String,
    pub content_hash: String,
    pub title: String,
    pub definition: String,
    pub source: String,
    pub loaded_at: NaiveDateTime,
}

impl InstrumentRow {
    pub fn find(conn: &mut DbConn, id: &InstrumentId) -> QueryResult<Self> {
        instruments::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
    }

    pub fn find_version(
        conn: &mut DbConn,
        survey_id: &str,
        version: &str,
    ) -> QueryResult<Option<Self>> {
        instruments::table
            .filter(instruments::survey_id.eq(survey_id))
            .filter(instruments::version.eq(version))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        instruments::table
            .order((instruments::survey_id, instruments::loaded_at))
            .select(Self::as_select())
            .load(conn)
    }

    pub fn insert(conn: &mut DbConn, new: &NewInstrument) -> QueryResult<()> {
        diesel::insert_into(instruments::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }
}

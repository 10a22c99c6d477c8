use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::waves;
use crate::domain::{Anonymity, InstrumentId, WaveId, WaveStatus};

/// A round of data collection with one pinned instrument version.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize)]
#[diesel(table_name = waves)]
pub struct Wave {
    pub id: WaveId,
    pub name: String,
    pub instrument_id: InstrumentId,
    pub status: WaveStatus,
    pub anonymity: Anonymity,
    pub opens_at: Option<NaiveDateTime>,
    pub closes_at: Option<NaiveDateTime>,
    pub reminder_max: i32,
    pub reminder_interval_days: i32,
    pub email_retention_days: i32,
    /// Bumped on every change to the wave's answers; analytics caches are keyed by it.
    pub data_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = waves, treat_none_as_default_value = false)]
pub struct NewWave {
    pub id: WaveId,
    pub name: String,
    pub instrument_id: InstrumentId,
    pub status: WaveStatus,
    pub anonymity: Anonymity,
    pub opens_at: Option<NaiveDateTime>,
    pub closes_at: Option<NaiveDateTime>,
    pub reminder_max: i32,
    pub reminder_interval_days: i32,
    pub email_retention_days: i32,
    pub data_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = waves)]
pub struct WaveChanges {
    pub name: Option<String>,
    pub status: Option<WaveStatus>,
    pub opens_at: Option<Option<NaiveDateTime>>,
    pub closes_at: Option<Option<NaiveDateTime>>,
    pub reminder_max: Option<i32>,
    pub reminder_interval_days: Option<i32>,
    pub email_retention_days: Option<i32>,
    pub updated_at: Option<NaiveDateTime>,
    pub opened_at: Option<Option<NaiveDateTime>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
}

impl Wave {
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        waves::table
            .order(waves::created_at.desc())
            .select(Self::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, id: &WaveId) -> QueryResult<Self> {
        waves::table.find(id).select(Self::as_select()).first(conn)
    }

    pub fn insert(conn: &mut DbConn, new: &NewWave) -> QueryResult<()> {
        diesel::insert_into(waves::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn update(conn: &mut DbConn, id: &WaveId, changes: &WaveChanges) -> QueryResult<()> {
        diesel::update(waves::table.find(id))
            .set(changes)
            .execute(conn)
            .map(drop)
    }

    /// Marks the wave's answers as changed, invalidating cached analytics on every
    /// instance that shares the database.
    pub fn bump_data_version(conn: &mut DbConn, id: &WaveId) -> QueryResult<()> {
        diesel::update(waves::table.find(id))
            .set(waves::data_version.eq(waves::data_version + 1))
            .execute(conn)
            .map(drop)
    }
}

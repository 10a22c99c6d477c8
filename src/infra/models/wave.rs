use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{Anonymity, InstrumentId, WaveId, WaveStatus};
use crate::infra::db::DbConn;
use crate::infra::db::schema::waves;

/// How many counters make up a wave's data version.
pub const VERSION_SHARDS: i32 = 16;
/// The data-version counter that counts removed responses (withdrawals) only: a reader
/// that adds new responses to sums it keeps learns from it that it must read all again.
/// Part of the data version like the others.
const REMOVALS_SHARD: i32 = -1;

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
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub opened_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    /// The admin paused automatic reminders (the schedule stays as it is).
    pub reminders_paused: bool,
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
    pub reminders_paused: Option<bool>,
}

impl Wave {
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        waves::table
            .order(waves::created_at.desc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Waves that have been opened (open or closed), newest first by opening date (by
    /// creation when none was set): the waves that have results to show.
    pub fn opened_newest_first(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        let mut waves: Vec<Self> = Self::all(conn)?
            .into_iter()
            .filter(|w| w.status != crate::core::domain::WaveStatus::Draft)
            .collect();
        waves.sort_by_key(|w| std::cmp::Reverse(w.opens_at.unwrap_or(w.created_at)));
        Ok(waves)
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
    /// instance that shares the database. Bumps one of [`VERSION_SHARDS`] counters, picked
    /// at random, so that concurrent submissions rarely wait on the same row lock.
    pub fn bump_data_version(conn: &mut DbConn, id: &WaveId) -> QueryResult<()> {
        let shard = i32::from(crate::infra::crypto::random_bytes::<1>()[0]) % VERSION_SHARDS;
        Self::bump_counter(conn, id, shard)
    }

    /// Adds one to the wave's data-version counter `shard`, creating it at 1.
    fn bump_counter(conn: &mut DbConn, id: &WaveId, shard: i32) -> QueryResult<()> {
        use crate::infra::db::schema::wave_data_versions as v;
        crate::infra::db::on_backend!(conn, |c| diesel::insert_into(v::table)
            .values((v::wave_id.eq(id), v::shard.eq(shard), v::version.eq(1_i64)))
            .on_conflict((v::wave_id, v::shard))
            .do_update()
            .set(v::version.eq(v::version + 1_i64))
            .execute(c))
        .map(drop)
    }

    /// The data versions of several waves in one query: each grows with every change to
    /// its wave's answers (waves without changes are left out: their version is 0).
    pub fn data_versions(
        conn: &mut DbConn,
        ids: &[&WaveId],
    ) -> QueryResult<std::collections::HashMap<WaveId, i64>> {
        use crate::infra::db::schema::wave_data_versions as v;
        // At most VERSION_SHARDS small rows a wave; summed here because PostgreSQL's SUM
        // of a BIGINT is a NUMERIC.
        let parts: Vec<(WaveId, i64)> = v::table
            .filter(v::wave_id.eq_any(ids))
            .select((v::wave_id, v::version))
            .load(conn)?;
        let mut out = std::collections::HashMap::new();
        for (id, version) in parts {
            *out.entry(id).or_insert(0) += version;
        }
        Ok(out)
    }

    /// Counts a removed response (and changes the data version): see [`Self::removals`].
    pub fn bump_removals(conn: &mut DbConn, id: &WaveId) -> QueryResult<()> {
        Self::bump_counter(conn, id, REMOVALS_SHARD)
    }

    /// How many of the wave's responses were ever removed: while it stays the same, sums
    /// of the responses read so far need only the new ones added.
    pub fn removals(conn: &mut DbConn, id: &WaveId) -> QueryResult<i64> {
        use crate::infra::db::schema::wave_data_versions as v;
        Ok(v::table
            .filter(v::wave_id.eq(id))
            .filter(v::shard.eq(REMOVALS_SHARD))
            .select(v::version)
            .first::<i64>(conn)
            .optional()?
            .unwrap_or(0))
    }

    /// The wave's data version: it grows with every change to its answers.
    pub fn data_version(conn: &mut DbConn, id: &WaveId) -> QueryResult<i64> {
        Ok(Self::data_versions(conn, &[id])?
            .get(id)
            .copied()
            .unwrap_or(0))
    }
}

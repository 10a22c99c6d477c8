use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::WaveId;
use crate::infra::db::DbConn;
use crate::infra::db::schema::analytics_cache;

/// A computed analytics result, valid while the wave's `data_version` is unchanged.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = analytics_cache)]
pub struct AnalyticsCacheEntry {
    pub wave_id: WaveId,
    pub cache_key: String,
    pub data_version: i64,
    pub payload: Vec<u8>,
    pub computed_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = analytics_cache, treat_none_as_default_value = false)]
pub struct NewAnalyticsCacheEntry {
    pub wave_id: WaveId,
    pub cache_key: String,
    pub data_version: i64,
    pub payload: Vec<u8>,
    pub computed_at: NaiveDateTime,
}

impl AnalyticsCacheEntry {
    /// The cached payload, if one was computed at exactly this data version.
    pub fn get(
        conn: &mut DbConn,
        wave: &WaveId,
        key: &str,
        data_version: i64,
    ) -> QueryResult<Option<Self>> {
        analytics_cache::table
            .filter(analytics_cache::wave_id.eq(wave))
            .filter(analytics_cache::cache_key.eq(key))
            .filter(analytics_cache::data_version.eq(data_version))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The payload cached under `key` at a data version above `above`, if any (the newest).
    pub fn newer(
        conn: &mut DbConn,
        wave: &WaveId,
        key: &str,
        above: i64,
    ) -> QueryResult<Option<Self>> {
        analytics_cache::table
            .filter(analytics_cache::wave_id.eq(wave))
            .filter(analytics_cache::cache_key.eq(key))
            .filter(analytics_cache::data_version.gt(above))
            .order(analytics_cache::data_version.desc())
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Replaces whatever was cached under this key, and under every key of the wave that
    /// starts with `replaces` (entries for other versions of what the key names), unless
    /// one of those is newer (a higher data version): several instances store in any order,
    /// and the newest stays.
    pub fn put(
        conn: &mut DbConn,
        entry: &NewAnalyticsCacheEntry,
        replaces: &str,
    ) -> QueryResult<()> {
        crate::infra::db::write_transaction(conn, |conn| {
            let newer: i64 = analytics_cache::table
                .filter(analytics_cache::wave_id.eq(&entry.wave_id))
                .filter(analytics_cache::cache_key.like(format!("{replaces}%")))
                .filter(analytics_cache::data_version.gt(entry.data_version))
                .count()
                .get_result(conn)?;
            if newer > 0 {
                return Ok(());
            }
            diesel::delete(analytics_cache::table.find((&entry.wave_id, &entry.cache_key)))
                .execute(conn)?;
            diesel::delete(
                analytics_cache::table
                    .filter(analytics_cache::wave_id.eq(&entry.wave_id))
                    .filter(analytics_cache::cache_key.like(format!("{replaces}%"))),
            )
            .execute(conn)?;
            diesel::insert_into(analytics_cache::table)
                .values(entry)
                .execute(conn)
                .map(drop)
        })
    }
}

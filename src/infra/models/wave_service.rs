use diesel::prelude::*;

use crate::core::domain::{OrganisationId, RegionId, ServiceId, ServiceType, SizeBand, WaveId};
use crate::infra::db::DbConn;
use crate::infra::db::schema::wave_services;

/// A service taking part in a wave, with its place in the hierarchy frozen at launch.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = wave_services)]
pub struct WaveService {
    pub wave_id: WaveId,
    pub service_id: ServiceId,
    pub service_code: String,
    pub service_name: String,
    pub service_type: ServiceType,
    pub size_band: SizeBand,
    pub organisation_id: OrganisationId,
    pub municipality_id: RegionId,
    pub county_id: RegionId,
    pub health_region_id: RegionId,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = wave_services, treat_none_as_default_value = false)]
pub struct NewWaveService {
    pub wave_id: WaveId,
    pub service_id: ServiceId,
    pub service_code: String,
    pub service_name: String,
    pub service_type: ServiceType,
    pub size_band: SizeBand,
    pub organisation_id: OrganisationId,
    pub municipality_id: RegionId,
    pub county_id: RegionId,
    pub health_region_id: RegionId,
}

impl WaveService {
    pub fn for_wave(conn: &mut DbConn, wave: &WaveId) -> QueryResult<Vec<Self>> {
        wave_services::table
            .filter(wave_services::wave_id.eq(wave))
            .order(wave_services::service_name)
            .select(Self::as_select())
            .load(conn)
    }

    /// One service's row in a wave.
    pub fn find(
        conn: &mut DbConn,
        wave: &WaveId,
        service: &crate::core::domain::ServiceId,
    ) -> QueryResult<Option<Self>> {
        wave_services::table
            .find((wave, service))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert_all(conn: &mut DbConn, rows: &[NewWaveService]) -> QueryResult<usize> {
        // Multi-row inserts go to the concrete backend; chunked because SQLite limits the number of bound parameters in one statement.
        let mut inserted = 0;
        for chunk in rows.chunks(500) {
            inserted +=
                crate::infra::db::on_backend!(conn, |c| diesel::insert_into(wave_services::table)
                    .values(chunk)
                    .execute(c))?;
        }
        Ok(inserted)
    }
}

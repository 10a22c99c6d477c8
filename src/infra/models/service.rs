use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::core::domain::{OrganisationId, RegionId, ServiceId, ServiceType, SizeBand};
use crate::infra::db::DbConn;
use crate::infra::db::schema::services;

/// A unit that delivers mental-health or substance-use care: the unit a wave surveys.
/// Links to every level of the hierarchy so region roll-ups need no recursive queries.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, serde::Serialize)]
#[diesel(table_name = services)]
pub struct Service {
    pub id: ServiceId,
    /// Stable code from the service catalogue (unique).
    pub code: String,
    pub name: String,
    pub service_type: ServiceType,
    pub size_band: SizeBand,
    pub organisation_id: OrganisationId,
    pub municipality_id: RegionId,
    pub county_id: RegionId,
    pub health_region_id: RegionId,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = services, treat_none_as_default_value = false)]
pub struct NewService {
    pub id: ServiceId,
    pub code: String,
    pub name: String,
    pub service_type: ServiceType,
    pub size_band: SizeBand,
    pub organisation_id: OrganisationId,
    pub municipality_id: RegionId,
    pub county_id: RegionId,
    pub health_region_id: RegionId,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = services)]
pub struct ServiceChanges {
    pub name: Option<String>,
    pub service_type: Option<ServiceType>,
    pub size_band: Option<SizeBand>,
    pub organisation_id: Option<OrganisationId>,
    pub municipality_id: Option<RegionId>,
    pub county_id: Option<RegionId>,
    pub health_region_id: Option<RegionId>,
    pub active: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

impl Service {
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        services::table
            .order(services::name)
            .select(Self::as_select())
            .load(conn)
    }

    pub fn find(conn: &mut DbConn, id: &ServiceId) -> QueryResult<Self> {
        services::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
    }

    pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Self>> {
        services::table
            .filter(services::code.eq(code))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut DbConn, new: &NewService) -> QueryResult<()> {
        diesel::insert_into(services::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn update(conn: &mut DbConn, id: &ServiceId, changes: &ServiceChanges) -> QueryResult<()> {
        diesel::update(services::table.find(id))
            .set(changes)
            .execute(conn)
            .map(drop)
    }

    pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
        services::table.count().get_result(conn)
    }
}

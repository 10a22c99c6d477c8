//! The service catalogue as people browse it: health regions → counties → services,
//! with counts, built in memory from rows the `load` functions read.

use std::collections::HashMap;

use serde::Serialize;

use crate::core::domain::{RegionId, RegionKind};
use crate::infra::db::DbConn;
use crate::infra::models::{Organisation, Region, Service};

#[derive(Debug, Serialize)]
pub struct Overview {
    pub totals: Totals,
    pub health_regions: Vec<HealthRegionView>,
}

#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub health_regions: usize,
    pub counties: usize,
    pub municipalities: usize,
    pub organisations: usize,
    pub services: usize,
}

#[derive(Debug, Serialize)]
pub struct HealthRegionView {
    pub name: String,
    pub services: usize,
    pub counties: Vec<CountyView>,
}

#[derive(Debug, Serialize)]
pub struct CountyView {
    pub name: String,
    pub code: Option<String>,
    pub municipalities: usize,
    pub service_count: usize,
    pub services: Vec<ServiceView>,
}

#[derive(Debug, Serialize)]
pub struct ServiceView {
    pub code: String,
    pub name: String,
    pub service_type: &'static str,
    pub service_type_label: &'static str,
    pub size_band: &'static str,
    pub municipality: String,
    pub organisation: String,
}

impl Overview {
    /// Reads what the overview needs (three queries).
    pub fn load(conn: &mut DbConn) -> diesel::QueryResult<Self> {
        let regions = Region::all(conn)?;
        let services = Service::all(conn)?;
        let organisations = Organisation::all(conn)?;
        Ok(Self::build(&regions, &services, &organisations))
    }

    /// Arranges rows into the hierarchy, sorted by name at every level.
    pub fn build(regions: &[Region], services: &[Service], organisations: &[Organisation]) -> Self {
        let name_of: HashMap<&RegionId, &str> =
            regions.iter().map(|r| (&r.id, r.name.as_str())).collect();
        let org_name: HashMap<_, &str> = organisations
            .iter()
            .map(|o| (&o.id, o.name.as_str()))
            .collect();
        let children = |parent: &RegionId, kind: RegionKind| {
            let mut v: Vec<&Region> = regions
                .iter()
                .filter(|r| r.kind == kind && r.parent_id.as_ref() == Some(parent))
                .collect();
            v.sort_by(|a, b| a.name.cmp(&b.name));
            v
        };
        let mut tops: Vec<&Region> = regions
            .iter()
            .filter(|r| r.kind == RegionKind::HealthRegion)
            .collect();
        tops.sort_by(|a, b| a.name.cmp(&b.name));

        let health_regions: Vec<HealthRegionView> = tops
            .into_iter()
            .map(|hr| {
                let counties: Vec<CountyView> = children(&hr.id, RegionKind::County)
                    .into_iter()
                    .map(|county| {
                        let mut in_county: Vec<ServiceView> = services
                            .iter()
                            .filter(|s| s.county_id == county.id)
                            .map(|s| ServiceView {
                                code: s.code.clone(),
                                name: s.name.clone(),
                                service_type: s.service_type.as_str(),
                                service_type_label: s.service_type.label_en(),
                                size_band: s.size_band.as_str(),
                                municipality: name_of
                                    .get(&s.municipality_id)
                                    .copied()
                                    .unwrap_or("?")
                                    .to_owned(),
                                organisation: org_name
                                    .get(&s.organisation_id)
                                    .copied()
                                    .unwrap_or("?")
                                    .to_owned(),
                            })
                            .collect();
                        in_county.sort_by(|a, b| {
                            (&a.municipality, &a.name).cmp(&(&b.municipality, &b.name))
                        });
                        CountyView {
                            name: county.name.clone(),
                            code: county.code.clone(),
                            municipalities: children(&county.id, RegionKind::Municipality).len(),
                            service_count: in_county.len(),
                            services: in_county,
                        }
                    })
                    .collect();
                HealthRegionView {
                    name: hr.name.clone(),
                    services: counties.iter().map(|c| c.service_count).sum(),
                    counties,
                }
            })
            .collect();

        let count = |kind| regions.iter().filter(|r| r.kind == kind).count();
        Self {
            totals: Totals {
                health_regions: count(RegionKind::HealthRegion),
                counties: count(RegionKind::County),
                municipalities: count(RegionKind::Municipality),
                organisations: organisations.len(),
                services: services.len(),
            },
            health_regions,
        }
    }
}

/// One service with its place in the hierarchy, for its page and the API.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ServiceDetail {
    pub code: String,
    pub name: String,
    pub service_type: &'static str,
    pub service_type_label: &'static str,
    pub size_band: &'static str,
    pub organisation: String,
    pub municipality: String,
    pub county: String,
    pub health_region: String,
    pub health_region_id: RegionId,
    pub county_id: RegionId,
}

impl ServiceDetail {
    /// The service with `code` and its place in the hierarchy, in one query (every
    /// service page asks, so it is one round trip instead of three).
    pub fn find_by_code(
        conn: &mut DbConn,
        code: &str,
    ) -> diesel::QueryResult<Option<(Service, Self)>> {
        use crate::infra::db::schema::{organisations, regions, services};
        use diesel::prelude::*;
        let (municipality, county, health_region) = diesel::alias!(
            regions as municipality,
            regions as county,
            regions as health_region
        );
        let found: Option<(Service, String, String, String, String)> = services::table
            .inner_join(organisations::table)
            .inner_join(
                municipality.on(municipality
                    .field(regions::id)
                    .eq(services::municipality_id)),
            )
            .inner_join(county.on(county.field(regions::id).eq(services::county_id)))
            .inner_join(
                health_region.on(health_region
                    .field(regions::id)
                    .eq(services::health_region_id)),
            )
            .filter(services::code.eq(code))
            .select((
                Service::as_select(),
                organisations::name,
                municipality.field(regions::name),
                county.field(regions::name),
                health_region.field(regions::name),
            ))
            .first(conn)
            .optional()?;
        Ok(
            found.map(|(s, organisation, municipality, county, health_region)| {
                let detail = Self {
                    code: s.code.clone(),
                    name: s.name.clone(),
                    service_type: s.service_type.as_str(),
                    service_type_label: s.service_type.label_en(),
                    size_band: s.size_band.as_str(),
                    organisation,
                    municipality,
                    county,
                    health_region,
                    health_region_id: s.health_region_id.clone(),
                    county_id: s.county_id.clone(),
                };
                (s, detail)
            }),
        )
    }

    /// `s`'s place in the hierarchy, read as [`Self::find_by_code`] reads it.
    pub fn load(conn: &mut DbConn, s: &Service) -> diesel::QueryResult<Self> {
        Self::find_by_code(conn, &s.code)?
            .map(|(_, detail)| detail)
            .ok_or(diesel::result::Error::NotFound)
    }
}

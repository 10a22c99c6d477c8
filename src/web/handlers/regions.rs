//! A region's page (policymakers of the region or a region above it, admins).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::catalogue::Overview;
use crate::domain::{RegionId, UserRole};
use crate::models::{Organisation, Region, Service};
use crate::web::errors::{AppError, AppResult};
use crate::web::security::Ctx;
use crate::web::{AppState, templates, with_conn};

/// `GET /regions/{id}`: the catalogue under one region.
pub async fn show(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let id = RegionId::from_string(path.into_inner());
    let (region, overview) = with_conn(&state, move |conn| {
        let all = Region::all(conn)?;
        let region = match all.iter().find(|r| r.id == id) {
            Some(r) if access.can_see_region(r, &all) => r.clone(),
            None if access.user.role == UserRole::Admin => return Err(AppError::NotFound),
            _ => return Err(AppError::Forbidden),
        };
        let services: Vec<Service> = Service::all(conn)?
            .into_iter()
            .filter(|s| {
                [&s.health_region_id, &s.county_id, &s.municipality_id].contains(&&region.id)
            })
            .collect();
        Ok((
            region,
            Overview::build(&all, &services, &Organisation::all(conn)?),
        ))
    })
    .await?;
    templates::page(
        "region",
        &ctx,
        json!({"page_title": format!("{} · samskap", region.name), "region": region, "overview": overview}),
    )
}

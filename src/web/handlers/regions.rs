//! A region's page (policymakers of the region or a region above it, admins).

use crate::app::analytics::Publications as _;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::app::catalogue::Overview;
use crate::core::domain::{RegionId, UserRole};
use crate::infra::models::{Organisation, Region, Service};
use crate::web::errors::{AppError, AppResult};
use crate::web::security::Ctx;
use crate::web::{AppState, templates, with_conn};

/// `GET /regions/{id}[?wave&role&type]`: the region's dashboard, and the catalogue of
/// services under it.
pub async fn show(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    filters: web::Query<crate::app::reports::region::Filters>,
) -> AppResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let id = RegionId::from_string(path.into_inner());
    let filters = filters.into_inner();
    let publications = state.publications.clone();
    let lang = ctx.lang();
    let (region, overview, dashboard) = with_conn(&state, move |conn| {
        let all = Region::all(conn)?;
        let view = access.region_view(&all);
        let region = match all.iter().find(|r| r.id == id) {
            Some(r) if view.in_detail(&r.id) => r.clone(),
            None if access.user.role == UserRole::Admin => return Err(AppError::NotFound),
            _ => return Err(AppError::Forbidden),
        };
        let services: Vec<Service> = Service::all(conn)?
            .into_iter()
            .filter(|s| {
                [&s.health_region_id, &s.county_id, &s.municipality_id].contains(&&region.id)
            })
            .collect();
        let dashboard = crate::app::reports::region::dashboard(
            conn,
            &region,
            &all,
            &view,
            &filters,
            &*publications,
            lang,
        )?;
        Ok((
            region,
            Overview::build(&all, &services, &Organisation::all(conn)?),
            dashboard,
        ))
    })
    .await?;
    templates::page(
        "region",
        &ctx,
        json!({"page_title": format!("{} · samskap", region.name), "region": region, "overview": overview, "d": dashboard, "printable": false}),
    )
}

/// `GET /regions/{id}/results.csv[?wave=ID]`: the region's and its sub-regions' published
/// cells as CSV (aggregates only, as the gate left them).
pub async fn results_csv(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    filters: web::Query<crate::app::reports::region::Filters>,
) -> AppResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let id = RegionId::from_string(path.into_inner());
    let wave = filters.into_inner().wave;
    let publications = state.publications.clone();
    let lang = ctx.lang();
    let actor = ctx.actor();
    let body = with_conn(&state, move |conn| {
        let all = Region::all(conn)?;
        let view = access.region_view(&all);
        let region = match all.iter().find(|r| r.id == id) {
            Some(r) if view.in_detail(&r.id) => r.clone(),
            None if access.user.role == UserRole::Admin => return Err(AppError::NotFound),
            _ => return Err(AppError::Forbidden),
        };
        // As the page: the region and every region below it, and for comparison the
        // country and the region's peers at its level.
        let mut names = std::collections::HashMap::new();
        let mut frontier = vec![region.id.clone()];
        while let Some(r) = frontier.pop() {
            for child in all.iter().filter(|c| c.parent_id.as_ref() == Some(&r)) {
                frontier.push(child.id.clone());
            }
            if let Some(found) = all.iter().find(|x| x.id == r) {
                names.insert(found.id.to_string(), found.name.clone());
            }
        }
        for peer in all.iter().filter(|r| {
            r.kind == region.kind && r.parent_id == region.parent_id && view.shows(Some(&r.id))
        }) {
            names.insert(peer.id.to_string(), peer.name.clone());
        }
        let national = view
            .shows(None)
            .then(|| crate::infra::i18n::fill(lang, "region.national", &[]));
        let waves = crate::infra::models::Wave::opened_newest_first(conn)?;
        let chosen = crate::app::waves::asked_or_newest(&waves, wave.as_deref())
            .ok_or(AppError::NotFound)?;
        let results = publications
            .get(conn, &chosen.id)?
            .ok_or(AppError::Pending)?;
        let table = crate::app::export::Table::Regions {
            region: region.id.as_str(),
            names: &names,
            national: national.as_deref(),
        };
        Ok(crate::app::export::download(conn, &actor, &results, table)?)
    })
    .await?;
    Ok(super::csv_attachment("region-results.csv", body))
}

//! A region's page (policymakers of the region or a region above it, admins).

use crate::app::analytics::Publications as _;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::app::catalogue::Overview;
use crate::core::domain::{RegionId, RegionKind, UserRole};
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
    let (region, overview, municipalities, dashboard) = with_conn(&state, move |conn| {
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
        // The municipalities in the region (none for a municipality itself): the
        // catalogue's totals count the whole country's.
        let municipalities = all
            .iter()
            .filter(|m| m.kind == RegionKind::Municipality && m.id != region.id)
            .filter(|m| {
                let mut at = m.parent_id.as_ref();
                while let Some(p) = at {
                    if p == &region.id {
                        return true;
                    }
                    at = all
                        .iter()
                        .find(|r| &r.id == p)
                        .and_then(|r| r.parent_id.as_ref());
                }
                false
            })
            .count();
        Ok((
            region,
            Overview::build(&all, &services, &Organisation::all(conn)?),
            municipalities,
            dashboard,
        ))
    })
    .await?;
    templates::page(
        "region",
        &ctx,
        json!({"page_title": format!("{} · samskap", region.name), "region": region, "overview": overview, "municipalities": municipalities, "d": dashboard, "printable": false}),
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
    let filters = filters.into_inner();
    let sheet = filters.format.as_deref() == Some("spreadsheet");
    let wave = filters.wave.clone();
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
        if sheet {
            // The page's own tables, on the page's filters.
            let d = crate::app::reports::region::dashboard(
                conn,
                &region,
                &all,
                &view,
                &filters,
                &*publications,
                lang,
            )?;
            let Some(wave_id) = d.wave_id.as_deref() else {
                return Err(AppError::NotFound);
            };
            let results = publications
                .get(
                    conn,
                    &crate::core::domain::WaveId::from_string(wave_id.to_owned()),
                )?
                .ok_or(AppError::Pending)?;
            let sections = crate::app::reports::sheet::region(&d, lang);
            let table = crate::app::export::Table::Sheet {
                target: ("region", region.id.as_str()),
                lang,
                sections: &sections,
            };
            return Ok(crate::app::export::download(conn, &actor, &results, table)?);
        }
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
    let name = if sheet {
        "region-results-spreadsheet.csv"
    } else {
        "region-results.csv"
    };
    Ok(super::csv_attachment(name, body))
}

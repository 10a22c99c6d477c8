use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::app::catalogue::Overview;
use crate::core::domain::UserRole;
use crate::infra::i18n;
use crate::web::errors::AppResult;
use crate::web::security::Ctx;
use crate::web::{AppState, templates, with_conn};

/// `GET /`: what samskap is, the signed-in user's own pages, and the service catalogue
/// (names of services are public information) by health region and county.
pub async fn index(state: web::Data<AppState>, ctx: Ctx) -> AppResult<HttpResponse> {
    let access = ctx.0.access.clone();
    let (mut overview, mine) = with_conn(&state, move |conn| {
        let overview = Overview::load(conn)?;
        let mine = match &access {
            Some(a) if a.user.role == UserRole::Manager => a
                .visible_services(conn)?
                .into_iter()
                .map(|s| json!({"href": format!("/services/{}", s.code), "label": s.name}))
                .collect(),
            Some(a) if a.user.role == UserRole::Policymaker => a
                .scoped_regions(conn)?
                .into_iter()
                .map(|r| json!({"href": format!("/regions/{}", r.id), "label": r.name}))
                .collect(),
            _ => Vec::new(),
        };
        Ok((overview, mine))
    })
    .await?;
    let services = overview
        .health_regions
        .iter_mut()
        .flat_map(|h| h.counties.iter_mut())
        .flat_map(|c| c.services.iter_mut());
    for s in services {
        if let Some(label) = i18n::text(ctx.lang(), &format!("service_type.{}", s.service_type)) {
            s.service_type_label = label;
        }
    }
    templates::page(
        "home",
        &ctx,
        json!({
            "overview": overview,
            "empty": overview.totals.services == 0,
            "mine": mine,
            "database": state.backend.as_str(),
        }),
    )
}

/// `GET /mine`: the signed-in user's own page (the navigation's "My service", "My
/// region"): their service or region when they have one, else the start page that lists
/// theirs; the exports for researchers, the waves for admins. The same rule as where
/// they land after signing in.
pub async fn mine(state: web::Data<AppState>, ctx: Ctx) -> AppResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let target = with_conn(&state, move |conn| Ok(access.landing(conn)?)).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, target))
        .finish())
}

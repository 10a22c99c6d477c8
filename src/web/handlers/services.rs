//! A service's page (managers of the service, policymakers of its region, admins).

use crate::app::analytics::Publications as _;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::app::catalogue::ServiceDetail;
use crate::core::domain::UserRole;
use crate::infra::models::Service;
use crate::web::errors::{AppError, AppResult};
use crate::web::security::Ctx;
use crate::web::{AppState, templates, with_conn};

/// Loads a service by code if the user may see it. Outside the user's scope, and for a
/// code that does not exist, non-admins get 403 alike: the answer never reveals whether a
/// service exists.
pub fn authorised_service(
    conn: &mut crate::infra::db::DbConn,
    access: &crate::app::accounts::Access,
    code: &str,
) -> AppResult<Service> {
    authorise(access, Service::find_by_code(conn, code)?.map(|s| (s, ()))).map(|(s, ())| s)
}

/// [`authorised_service`] with the service's place in the hierarchy, in one query.
pub fn authorised_detail(
    conn: &mut crate::infra::db::DbConn,
    access: &crate::app::accounts::Access,
    code: &str,
) -> AppResult<(Service, ServiceDetail)> {
    authorise(access, ServiceDetail::find_by_code(conn, code)?)
}

/// The one rule of [`authorised_service`]: a found service the user may see, else 403
/// (404 for an admin and a code that does not exist).
fn authorise<T>(
    access: &crate::app::accounts::Access,
    found: Option<(Service, T)>,
) -> AppResult<(Service, T)> {
    match found {
        Some((s, t)) if access.can_see_service(&s) => Ok((s, t)),
        None if access.user.role == UserRole::Admin => Err(AppError::NotFound),
        _ => Err(AppError::Forbidden),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct WaveQuery {
    pub wave: Option<String>,
    /// `spreadsheet`: the page's tables, labelled, for Excel in the reader's language
    /// (downloads only).
    pub format: Option<String>,
}

/// `GET /services/{code}[?wave=ID]`: the service's dashboard.
pub async fn show(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    query: web::Query<WaveQuery>,
) -> AppResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let code = path.into_inner();
    let wave = query
        .into_inner()
        .wave
        .map(crate::core::domain::WaveId::from_string);
    let publications = state.publications.clone();
    let lang = ctx.lang();
    let dashboard = with_conn(&state, move |conn| {
        let (service, detail) = authorised_detail(conn, &access, &code)?;
        Ok(crate::app::reports::service::dashboard_of(
            conn,
            &service,
            &detail,
            wave.as_ref(),
            &*publications,
            lang,
        )?)
    })
    .await?;
    templates::page(
        "service",
        &ctx,
        json!({"page_title": format!("{} · samskap", dashboard.service.name), "d": dashboard, "printable": false}),
    )
}

/// `GET /reports/{wave}/services/{code}`: the printable benchmark report.
pub async fn report(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, String)>,
) -> AppResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let (wave, code) = path.into_inner();
    let wave = crate::core::domain::WaveId::from_string(wave);
    let publications = state.publications.clone();
    let lang = ctx.lang();
    let html = with_conn(&state, move |conn| {
        let service = authorised_service(conn, &access, &code)?;
        crate::app::reports::service_report(
            conn,
            &service,
            Some(&wave),
            &*publications,
            lang,
            crate::app::reports::Styles::Linked,
        )?
        .map(|(_, html)| html)
        .ok_or(AppError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::html())
        .body(html))
}

/// `GET /services/{code}/results.csv[?wave=ID]`: the service's published numbers as CSV
/// (aggregates only, as the gate left them).
pub async fn results_csv(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    query: web::Query<WaveQuery>,
) -> AppResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let code = path.into_inner();
    let query = query.into_inner();
    let sheet = query.format.as_deref() == Some("spreadsheet");
    let wave = query.wave.map(crate::core::domain::WaveId::from_string);
    let publications = state.publications.clone();
    let actor = ctx.actor();
    let lang = ctx.lang();
    let body = with_conn(&state, move |conn| {
        let service = authorised_service(conn, &access, &code)?;
        let waves = crate::app::reports::service::waves_of(conn, &service)?;
        let chosen = crate::app::waves::asked_or_newest(
            &waves,
            wave.as_ref().map(crate::core::domain::WaveId::as_str),
        )
        .ok_or(AppError::NotFound)?;
        let results = publications
            .get(conn, &chosen.id)?
            .ok_or(AppError::Pending)?;
        if sheet {
            let d = crate::app::reports::service::dashboard(
                conn,
                &service,
                Some(&chosen.id),
                &*publications,
                lang,
            )?;
            let sections = crate::app::reports::sheet::service(&d, lang);
            let table = crate::app::export::Table::Sheet {
                target: ("service", &service.code),
                lang,
                sections: &sections,
            };
            return Ok(crate::app::export::download(conn, &actor, &results, table)?);
        }
        let table = crate::app::export::Table::Service {
            code: &service.code,
        };
        Ok(crate::app::export::download(conn, &actor, &results, table)?)
    })
    .await?;
    let name = if sheet {
        "service-results-spreadsheet.csv"
    } else {
        "service-results.csv"
    };
    Ok(super::csv_attachment(name, body))
}

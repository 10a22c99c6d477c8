//! The JSON API (`/api/v1/…`): sessions or `Authorization: Bearer` tokens.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::services::authorised_service;
use crate::accounts;
use crate::catalogue::ServiceDetail;
use crate::web::errors::ApiResult;
use crate::web::security::Ctx;
use crate::web::{AppState, with_conn};

/// `GET /api/v1/me`: who the token or session belongs to, and their scopes.
pub async fn me(state: web::Data<AppState>, ctx: Ctx) -> ApiResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let via = if ctx.0.via_token { "token" } else { "session" };
    let scopes = with_conn(&state, move |conn| {
        access
            .scopes
            .iter()
            .map(|s| Ok(json!({"kind": s.scope_kind, "id": s.scope_id, "description": accounts::describe_scope(conn, s)?})))
            .collect::<Result<Vec<_>, crate::web::errors::AppError>>()
    })
    .await?;
    let user = &ctx.access()?.user;
    Ok(HttpResponse::Ok().json(json!({
        "email": user.email, "display_name": user.display_name, "role": user.role, "via": via, "scopes": scopes,
    })))
}

/// `GET /api/v1/services/{code}`: catalogue data of a service in the caller's scope.
pub async fn service(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let code = path.into_inner();
    let detail = with_conn(&state, move |conn| {
        let service = authorised_service(conn, &access, &code)?;
        Ok(ServiceDetail::load(conn, &service)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(detail))
}

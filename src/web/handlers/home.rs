use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::catalogue::Overview;
use crate::web::errors::AppResult;
use crate::web::{AppState, templates};

/// `GET /`: what samskap is, and the service catalogue by health region and county.
pub async fn index(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let pool = state.pool.clone();
    let overview =
        web::block(move || -> AppResult<Overview> { Ok(Overview::load(&mut *pool.get()?)?) })
            .await??;
    let html = templates::render(
        "home",
        &json!({
            "page_title": "samskap",
            "overview": overview,
            "empty": overview.totals.services == 0,
            "database": state.backend.as_str(),
        }),
    )?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(html))
}

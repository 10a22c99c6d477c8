//! Pages: a template rendered (by [`crate::infra::render`]) with what every page gets from the
//! request (the user, the CSRF token, the language).

pub use crate::infra::render::render;

/// Renders a page: `data` (a JSON object) plus `page` (user and CSRF token) from `ctx`.
pub fn page(
    name: &str,
    ctx: &super::security::Ctx,
    mut data: serde_json::Value,
) -> Result<actix_web::HttpResponse, super::errors::AppError> {
    page_with_status(actix_web::http::StatusCode::OK, name, ctx, data.take())
}

/// [`page`] with another status (a form shown again with errors, say).
pub fn page_with_status(
    status: actix_web::http::StatusCode,
    name: &str,
    ctx: &super::security::Ctx,
    mut data: serde_json::Value,
) -> Result<actix_web::HttpResponse, super::errors::AppError> {
    if let Some(map) = data.as_object_mut() {
        map.insert("page".into(), ctx.page());
        map.entry("page_title").or_insert_with(|| "samskap".into());
        map.entry("page_lang").or_insert_with(|| ctx.lang().into());
        map.entry("respondent")
            .or_insert(serde_json::Value::Bool(false));
    }
    let html = render(name, &data)?;
    Ok(actix_web::HttpResponse::build(status)
        .content_type(actix_web::http::header::ContentType::html())
        .body(html))
}

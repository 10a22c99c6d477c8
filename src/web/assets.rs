//! Static files from `static/`, embedded in the binary so it runs from any directory.

use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

use super::errors::{AppError, AppResult};

#[derive(RustEmbed)]
#[folder = "static/"]
struct StaticFiles;

/// `GET /static/{path}` with a content hash as ETag, so browsers revalidate cheaply.
pub async fn serve(req: HttpRequest, path: web::Path<String>) -> AppResult<HttpResponse> {
    let path = path.into_inner();
    let file = StaticFiles::get(&path).ok_or(AppError::NotFound)?;
    let etag = format!(
        "\"{}\"",
        crate::infra::crypto::hex(&file.metadata.sha256_hash()[..12])
    );
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    Ok(HttpResponse::Ok()
        .content_type(ContentType(mime))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(file.data.into_owned()))
}

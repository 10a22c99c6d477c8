//! Request handlers, one folder per area.

pub mod account;
pub mod admin;
pub mod api;
pub mod auth;
pub mod errors;
pub mod exports;
pub mod health;
pub mod home;
pub mod regions;
pub mod respondent;
pub mod respondent_api;
pub mod services;

/// A CSV download: `body` as an attachment named `file_name`.
pub fn csv_attachment(file_name: &str, body: Vec<u8>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(body)
}

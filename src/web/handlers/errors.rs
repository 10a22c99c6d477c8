use actix_web::{HttpResponse, ResponseError as _};

use crate::web::errors::AppError;

/// Every path no route answers: the friendly 404 page.
pub async fn not_found() -> HttpResponse {
    AppError::NotFound.error_response()
}

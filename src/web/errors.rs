//! The error type of every handler. Users see a helpful page; the cause chain is logged
//! once, here, with a reference the user can quote.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};

use super::templates;

/// Result type of handlers.
pub type AppResult<T> = Result<T, AppError>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// Input that cannot be accepted; `field` names the form field or API property.
    #[error("{message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },
    #[error("you must sign in to see this page")]
    Unauthorized,
    #[error("you do not have access to this page")]
    Forbidden,
    /// A state-changing form without the right CSRF token.
    #[error("the form had expired or did not come from this site")]
    CsrfRejected,
    #[error("too many requests")]
    TooManyRequests,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::NotFound,
            other => Self::Internal(anyhow::Error::new(other).context("database query failed")),
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(anyhow::anyhow!("background task failed: {e}"))
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Internal(anyhow::Error::new(e).context("no database connection available"))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::CsrfRejected => StatusCode::FORBIDDEN,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (title, message, reference) = match self {
            Self::NotFound => (
                "Page not found",
                "We could not find that page. Check the address, or go back to the start page."
                    .to_owned(),
                None,
            ),
            Self::BadRequest { field, message } => (
                "Something in the request was not right",
                field
                    .as_ref()
                    .map_or_else(|| message.clone(), |f| format!("{f}: {message}")),
                None,
            ),
            Self::Unauthorized => ("Please sign in", self.to_string(), None),
            Self::Forbidden => ("No access", self.to_string(), None),
            Self::CsrfRejected => (
                "Please try again",
                "The form had expired or did not come from this site. Reload the page and send it again; nothing was changed."
                    .to_owned(),
                None,
            ),
            Self::TooManyRequests => (
                "Too many attempts",
                "There have been too many attempts. Wait a few minutes and try again.".to_owned(),
                None,
            ),
            Self::Internal(cause) => {
                let reference = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
                tracing::error!(error.reference = %reference, error.cause = format!("{cause:#}"), "request failed");
                (
                    "Something went wrong on our side",
                    "The error has been logged. Nothing you already saved is lost; please try again in a moment."
                        .to_owned(),
                    Some(reference),
                )
            }
        };
        error_page(status, title, &message, reference.as_deref())
    }
}

/// Renders the friendly error page, falling back to plain text if even that fails.
pub fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    reference: Option<&str>,
) -> HttpResponse {
    let body = templates::render(
        "error",
        &serde_json::json!({
            "title": title,
            "status": status.as_u16(),
            "message": message,
            "reference": reference,
            "page": {"user": null, "csrf": ""},
            "page_lang": "en",
            "respondent": false,
        }),
    );
    match body {
        Ok(html) => HttpResponse::build(status)
            .content_type(ContentType::html())
            .body(html),
        Err(_) => HttpResponse::build(status)
            .content_type(ContentType::plaintext())
            .body(format!("{title}\n\n{message}")),
    }
}

/// The error type of `/api/` handlers: the same errors, rendered as JSON
/// `{"error": {"code", "message", "field"}}`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub AppError);

/// Result type of API handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        Self(e.into())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let (code, message, field) = match &self.0 {
            AppError::NotFound => ("not_found", "not found".to_owned(), None),
            AppError::BadRequest { field, message } => {
                ("bad_request", message.clone(), field.clone())
            }
            AppError::Unauthorized => ("unauthorized", self.0.to_string(), None),
            AppError::Forbidden => (
                "forbidden",
                "you do not have access to this resource".to_owned(),
                None,
            ),
            AppError::CsrfRejected => ("csrf", self.0.to_string(), None),
            AppError::TooManyRequests => ("rate_limited", self.0.to_string(), None),
            AppError::Internal(cause) => {
                tracing::error!(error.cause = format!("{cause:#}"), "API request failed");
                (
                    "internal",
                    "internal error; it has been logged".to_owned(),
                    None,
                )
            }
        };
        HttpResponse::build(self.status_code())
            .json(serde_json::json!({"error": {"code": code, "message": message, "field": field}}))
    }
}

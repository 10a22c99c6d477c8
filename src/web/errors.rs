//! The error type of every handler. Users see a helpful page; the cause chain is logged
//! once, here, with a reference the user can quote. The page is in the request's
//! language (see [`with_lang`]).

use std::cell::Cell;

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
    /// The wave's first publication is still being computed.
    #[error("the numbers of this wave are being computed; try again in a few seconds")]
    Pending,
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

impl AppError {
    /// An internal error whose cause is that the database cannot be reached right now
    /// (see [`crate::infra::db::is_unavailable`]): answered 503 with `Retry-After`, not 500.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Internal(cause) if crate::infra::db::is_unavailable(cause))
    }
}

/// Seconds a client is asked to wait after a 503 (`Retry-After`).
const RETRY_AFTER_SECONDS: &str = "5";

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        if self.is_unavailable() {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::CsrfRejected => StatusCode::FORBIDDEN,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Pending => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let lang = LANG.get();
        let t = |key: &str| crate::infra::i18n::fill(lang, key, &[]);
        let (title, message, reference) = match self {
            Self::NotFound => (t("error.not_found_title"), t("error.not_found"), None),
            Self::BadRequest { field, message } => (
                t("error.bad_request_title"),
                field
                    .as_ref()
                    .map_or_else(|| message.clone(), |f| format!("{f}: {message}")),
                None,
            ),
            Self::Unauthorized => (t("error.unauthorized_title"), t("error.unauthorized"), None),
            Self::Forbidden => (t("error.forbidden_title"), t("error.forbidden"), None),
            Self::CsrfRejected => (t("error.csrf_title"), t("error.csrf"), None),
            Self::TooManyRequests => (t("error.too_many_title"), t("error.too_many"), None),
            Self::Pending => (t("error.pending_title"), t("error.pending"), None),
            Self::Internal(cause) if crate::infra::db::is_unavailable(cause) => {
                tracing::warn!(error.cause = format!("{cause:#}"), "database unavailable");
                (t("error.unavailable_title"), t("error.unavailable"), None)
            }
            Self::Internal(cause) => {
                let reference = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
                tracing::error!(error.reference = %reference, error.cause = format!("{cause:#}"), "request failed");
                (
                    t("error.internal_title"),
                    t("error.internal"),
                    Some(reference),
                )
            }
        };
        let mut page = error_page(status, &title, &message, reference.as_deref(), lang);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            retry_after(&mut page);
        }
        mark_csrf(self, &mut page);
        page
    }
}

/// Tells the access middleware (which audits every refusal) that a 403 was a CSRF
/// token's, not a role's or a scope's.
#[derive(Debug, Clone, Copy)]
pub struct CsrfRefusal;

fn mark_csrf(error: &AppError, res: &mut HttpResponse) {
    if matches!(error, AppError::CsrfRejected) {
        res.extensions_mut().insert(CsrfRefusal);
    }
}

thread_local! {
    /// The language of error pages rendered on this thread at this moment: the request's
    /// while [`with_lang`] polls its handler, else English.
    static LANG: Cell<&'static str> = const { Cell::new("en") };
}

/// Runs `fut` (a request's handlers) with error pages in `lang`.
///
/// [`ResponseError::error_response`] is given no request to read the language from.
/// actix-web renders an error's page as soon as a handler or extractor returns the error,
/// inside the poll of the handler's future; the language is set for each poll and put
/// back after it, so requests that interleave on one worker thread each get their own.
pub async fn with_lang<F: Future>(lang: &'static str, fut: F) -> F::Output {
    struct Restore(&'static str);
    impl Drop for Restore {
        fn drop(&mut self) {
            LANG.set(self.0);
        }
    }
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        let _restore = Restore(LANG.replace(lang));
        fut.as_mut().poll(cx)
    })
    .await
}

/// Renders the friendly error page in `lang`, falling back to plain text if even that
/// fails.
pub fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    reference: Option<&str>,
    lang: &str,
) -> HttpResponse {
    let body = templates::render(
        "error",
        &serde_json::json!({
            "title": title,
            "status": status.as_u16(),
            "message": message,
            "reference": reference,
            "page": {"user": null, "csrf": ""},
            "page_lang": lang,
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
            AppError::Pending => ("computing", self.0.to_string(), None),
            AppError::Internal(cause) if crate::infra::db::is_unavailable(cause) => {
                tracing::warn!(
                    error.cause = format!("{cause:#}"),
                    "API request: database unavailable"
                );
                (
                    "unavailable",
                    "the database is not answering right now; nothing already saved is lost; try again shortly".to_owned(),
                    None,
                )
            }
            AppError::Internal(cause) => {
                tracing::error!(error.cause = format!("{cause:#}"), "API request failed");
                (
                    "internal",
                    "internal error; it has been logged".to_owned(),
                    None,
                )
            }
        };
        let mut res = HttpResponse::build(self.status_code()).json(ErrorBody {
            error: ErrorDetail {
                field,
                ..ErrorDetail::new(code, message)
            },
        });
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            retry_after(&mut res);
        }
        mark_csrf(&self.0, &mut res);
        res
    }
}

fn retry_after(res: &mut HttpResponse) {
    res.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError as _;
    use actix_web::body::MessageBody as _;

    use super::{AppError, with_lang};

    fn body(res: actix_web::HttpResponse) -> String {
        String::from_utf8(
            res.into_body()
                .try_into_bytes()
                .unwrap_or_default()
                .to_vec(),
        )
        .unwrap_or_default()
    }

    #[actix_web::test]
    async fn error_pages_are_in_the_language_of_the_request_being_polled() {
        let nb = with_lang("nb", async { body(AppError::NotFound.error_response()) }).await;
        assert!(nb.contains("Fant ikke siden"), "{nb}");
        assert!(nb.contains("<html lang=\"nb\">"), "{nb}");
        // Outside a request, and after one, English.
        let en = body(AppError::Forbidden.error_response());
        assert!(
            en.contains("No access") && en.contains("<html lang=\"en\">"),
            "{en}"
        );
    }
}

/// The API's error body, the same for every refusal:
/// `{"error": {"code", "message", "field"?, "fields"?}}`.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorDetail {
    /// What went wrong, for programs: `not_found`, `bad_request`, `unauthorized`,
    /// `forbidden`, `csrf`, `rate_limited`, `computing`, `unavailable`, `internal`,
    /// `validation`, `too_large`, and for respondent links `unknown_link`, `not_open`,
    /// `closed`, `expired`, `withdrawn`, `submitted`, `no_consent`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// The one input at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every input at fault (validation errors), each named.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(default)]
    pub fields: Vec<FieldError>,
}

/// One input a request got wrong.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct FieldError {
    /// Where: a body field, e.g. `answers.A1`.
    pub field: String,
    pub message: String,
}

impl ErrorDetail {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            field: None,
            fields: Vec::new(),
        }
    }
}

impl ErrorBody {
    /// The error `code` with `message`, as a response with `status`.
    pub fn response(status: StatusCode, code: &str, message: impl Into<String>) -> HttpResponse {
        HttpResponse::build(status).json(Self {
            error: ErrorDetail::new(code, message),
        })
    }
}

//! Access control, sessions and CSRF: one middleware that every request passes through.
//!
//! - Each route in `routes.rs` declares an [`Access`]; a matched route without one is
//!   refused (deny by default). A path the table answers with other methods only gets
//!   405 with `Allow`.
//! - Sessions are private cookies (encrypted and authenticated with a key derived from
//!   `SAMSKAP_SECRET_KEY`), `HttpOnly`, `SameSite=Lax`, `Secure` when the base URL is
//!   https, with idle and absolute timeouts. A session also carries a fingerprint of the
//!   password hash, so changing a password ends every session.
//! - CSRF: a signed-in session's token is derived from the session (HMAC of the account
//!   and its sign-in time); without a session (sign-in, questionnaires) the browser holds
//!   a random token in a private cookie. State-changing forms carry it in `_csrf` and are
//!   read through [`CsrfForm`], which refuses a mismatch with 403. API calls with a
//!   bearer token need no CSRF token (no ambient credentials).
//! - Rate limits: respondent routes (`/s/…`, and `/api/v1/respondent/…` answered in
//!   the API's JSON) per client address; logins in the login handler.
//! - An address holding an encoded NUL (`%00`) is refused, after access is settled: 404
//!   in the path, 400 in a page's query string.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{
    FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError as _, web,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::errors::{ApiError, AppError};
use super::routes::{self, Access};
use crate::app::accounts;
use crate::app::audit::Actor;
use crate::core::domain::UserRole;
use crate::infra::config::Secret;
use crate::infra::models::User;

pub const SESSION_COOKIE: &str = "samskap_session";
pub const CSRF_COOKIE: &str = "samskap_csrf";
/// A session unused for this long ends.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after sign-in, used or not.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);
/// The session cookie is re-issued (sliding the idle timeout) at most this often.
const REFRESH_AFTER: Duration = Duration::from_secs(60);

/// Cookie keys and flags.
#[derive(Clone)]
pub struct CookieKeys {
    key: Key,
    secure: bool,
}

impl std::fmt::Debug for CookieKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieKeys")
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

impl CookieKeys {
    /// `secure`: set the `Secure` flag (the app is served over https).
    pub fn new(secret: &Secret, secure: bool) -> Self {
        // Key::derive_from needs at least 32 bytes; config guarantees 32 characters.
        let mut master = secret.expose().as_bytes().to_vec();
        master.resize(master.len().max(32), 0);
        Self {
            key: Key::derive_from(&master),
            secure,
        }
    }

    fn read(&self, req: &HttpRequest, name: &str) -> Option<String> {
        let cookie = req.cookie(name)?;
        let mut jar = CookieJar::new();
        jar.add_original(cookie);
        jar.private(&self.key)
            .get(name)
            .map(|c| c.value().to_owned())
    }

    /// An encrypted cookie with our flags. `max_age: None` makes a browser-session cookie.
    pub fn make(
        &self,
        name: &'static str,
        value: String,
        max_age: Option<Duration>,
    ) -> Cookie<'static> {
        let mut cookie = Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .finish();
        if let Some(age) = max_age {
            cookie.set_max_age(actix_web::cookie::time::Duration::seconds(
                i64::try_from(age.as_secs()).unwrap_or(i64::MAX),
            ));
        }
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(cookie);
        jar.get(name)
            .cloned()
            .unwrap_or_else(|| Cookie::new(name, ""))
    }

    /// The CSRF token of a signed-in session: derived from the session itself (the
    /// account, its sign-in time), so a token learned anywhere else, such as a CSRF
    /// cookie planted from a sibling domain with its known token, is worth nothing
    /// against this session, and a new sign-in gives a new token.
    fn session_csrf(&self, session: &SessionData) -> String {
        let data = format!(
            "samskap/csrf/v1:{}:{}:{}",
            session.uid, session.iat, session.at
        );
        crate::infra::crypto::hex(&crate::infra::crypto::hmac_sha256(
            self.key.signing(),
            data.as_bytes(),
        ))
    }

    /// A cookie that deletes `name`.
    pub fn removal(&self, name: &'static str) -> Cookie<'static> {
        let mut cookie = Cookie::build(name, "")
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .finish();
        cookie.make_removal();
        cookie
    }
}

/// What the session cookie holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionData {
    /// User id.
    pub uid: String,
    /// Fingerprint of the password hash at sign-in.
    pub pwd: String,
    /// Signed in at (unix seconds).
    pub iat: u64,
    /// Last request at (unix seconds).
    pub seen: u64,
    /// Signed in at (unix milliseconds): a sign-out of the account after this ends the
    /// session (`users.sessions_ended_at`). Cookies from before it was kept read 0.
    #[serde(default)]
    pub at: u64,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Unix time in milliseconds.
pub fn unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl SessionData {
    pub fn new(user: &User) -> Self {
        let now = unix_now();
        Self {
            uid: user.id.to_string(),
            pwd: accounts::password_fingerprint(&user.password_hash),
            iat: now,
            seen: now,
            at: u64::try_from(unix_millis()).unwrap_or(0),
        }
    }

    /// Whether the account signed out after this session began.
    fn ended_for(&self, user: &User) -> bool {
        user.sessions_ended_at
            .is_some_and(|ended| i64::try_from(self.at).unwrap_or(i64::MAX) <= ended)
    }

    fn expired(&self, now: u64) -> bool {
        now.saturating_sub(self.seen) > IDLE_TIMEOUT.as_secs()
            || now.saturating_sub(self.iat) > ABSOLUTE_TIMEOUT.as_secs()
    }

    /// The cookie for this session.
    pub fn cookie(&self, keys: &CookieKeys) -> Cookie<'static> {
        keys.make(
            SESSION_COOKIE,
            serde_json::to_string(self).unwrap_or_default(),
            Some(ABSOLUTE_TIMEOUT),
        )
    }
}

#[derive(serde::Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// Who is asking, and the request's CSRF token. Available to every handler via [`Ctx`].
#[derive(Debug)]
pub struct RequestContext {
    pub access: Option<accounts::Access>,
    /// Signed in with an API token rather than a session.
    pub via_token: bool,
    pub csrf: String,
    pub ip: Option<String>,
    /// The staff pages' language (see [`crate::infra::i18n`]).
    pub lang: &'static str,
}

/// Extractor for the [`RequestContext`] the middleware attached.
#[derive(Debug, Clone)]
pub struct Ctx(pub Rc<RequestContext>);

impl FromRequest for Ctx {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Rc<RequestContext>>()
                .cloned()
                .map(Ctx)
                .ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!(
                        "request context missing: is the route in the table?"
                    ))
                }),
        )
    }
}

impl Ctx {
    /// The signed-in user's access, or 401.
    pub fn access(&self) -> Result<&accounts::Access, AppError> {
        self.0.access.as_ref().ok_or(AppError::Unauthorized)
    }

    pub fn user(&self) -> Option<&User> {
        self.0.access.as_ref().map(|a| &a.user)
    }

    pub fn csrf(&self) -> &str {
        &self.0.csrf
    }

    /// The language of the staff pages for this request.
    pub fn lang(&self) -> &'static str {
        self.0.lang
    }

    /// The actor for audit entries.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.user().map(|u| u.id.clone()),
            label: self
                .user()
                .map_or_else(|| "anonymous".to_owned(), |u| u.email.clone()),
            ip: self.0.ip.clone(),
        }
    }

    /// What every page template gets as `page`: the user (or null) and the CSRF token.
    pub fn page(&self) -> serde_json::Value {
        serde_json::json!({
            "csrf": self.csrf(),
            "user": self.user().map(|u| serde_json::json!({
                "email": u.email,
                "display_name": u.display_name,
                "role": u.role.as_str(),
                "is_admin": u.role == UserRole::Admin,
                "is_manager": u.role == UserRole::Manager,
                "is_policymaker": u.role == UserRole::Policymaker,
                "is_researcher": u.role == UserRole::Researcher,
            })),
        })
    }
}

/// A form whose `_csrf` field must match the browser's CSRF cookie; the other fields
/// become `T`. A missing or wrong token is refused with 403. The form may be urlencoded
/// or, for forms with a file field, `multipart/form-data`: a chosen file becomes its
/// field's text (UTF-8, at most [`UPLOAD_LIMIT`] bytes in all), and a file field left
/// empty is left out, so `T` sees the same pairs either way.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

/// The most a multipart form may carry, files included: a respondent list of 100,000
/// people or a national service catalogue is well under it.
pub const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;

/// The pairs of a `multipart/form-data` body, files as text.
async fn multipart_pairs(
    req: &HttpRequest,
    payload: Payload,
) -> Result<Vec<(String, String)>, AppError> {
    use futures_util::StreamExt as _;
    let unreadable = |e: &dyn std::fmt::Display| AppError::BadRequest {
        field: None,
        message: format!("the form could not be read: {e}"),
    };
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut pairs = Vec::new();
    let mut total = 0usize;
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(|e| unreadable(&e))?;
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .is_some();
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| unreadable(&e))?;
            total += chunk.len();
            if total > UPLOAD_LIMIT {
                return Err(AppError::BadRequest {
                    field: Some(name),
                    message: format!(
                        "the form is larger than {} MB; split the file",
                        UPLOAD_LIMIT / 1024 / 1024
                    ),
                });
            }
            data.extend_from_slice(&chunk);
        }
        if is_file && data.is_empty() {
            continue;
        }
        let text = String::from_utf8(data).map_err(|_| AppError::BadRequest {
            field: Some(name.clone()),
            message: "the file is not UTF-8 text; save it as \"CSV UTF-8\" and choose it again"
                .to_owned(),
        })?;
        pairs.push((name, text));
    }
    Ok(pairs)
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let expected = req
            .extensions()
            .get::<Rc<RequestContext>>()
            .map(|c| c.csrf.clone());
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        // Uploads are for signed-in staff: a public form (sign-in, a respondent's page)
        // keeps the urlencoded form's small limit, so nobody can make the server hold
        // 16 MB per anonymous request.
        let signed_in = req
            .extensions()
            .get::<Rc<RequestContext>>()
            .is_some_and(|c| c.access.is_some());
        if multipart && !signed_in {
            return Box::pin(async {
                Err(AppError::BadRequest {
                    field: None,
                    message: "this form takes no files; send it as a plain form".to_owned(),
                })
            });
        }
        let form = if multipart {
            let (req, payload) = (req.clone(), payload.take());
            Box::pin(async move { multipart_pairs(&req, payload).await })
                as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>
        } else {
            let form = web::Form::<Vec<(String, String)>>::from_request(req, payload);
            Box::pin(async move {
                form.await
                    .map(web::Form::into_inner)
                    .map_err(|e| AppError::BadRequest {
                        field: None,
                        message: format!("the form could not be read: {e}"),
                    })
            })
        };
        Box::pin(async move {
            let pairs = form.await?;
            let given = pairs
                .iter()
                .find(|(k, _)| k == "_csrf")
                .map(|(_, v)| v.as_str());
            match (expected.as_deref(), given) {
                (Some(expected), Some(given))
                    if constant_time_eq(expected.as_bytes(), given.as_bytes()) => {}
                _ => return Err(AppError::CsrfRejected),
            }
            let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "_csrf").collect();
            // Nothing invisible is stored from a form: NUL and other control characters
            // (line breaks and tabs in text areas aside) are refused, naming the field.
            for (field, value) in &rest {
                if let Some(c) = value
                    .chars()
                    .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
                {
                    return Err(AppError::BadRequest {
                        field: Some(field.clone()),
                        message: format!(
                            "contains an invisible control character (U+{:04X}); remove it",
                            u32::from(c)
                        ),
                    });
                }
            }
            let encoded =
                serde_urlencoded::to_string(&rest).map_err(|e| AppError::Internal(e.into()))?;
            serde_urlencoded::from_str::<T>(&encoded)
                .map(CsrfForm)
                .map_err(|e| AppError::BadRequest {
                    field: None,
                    message: e.to_string(),
                })
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A sliding-window counter per key, kept in this instance's memory. With several
/// instances each enforces its own window; login throttling per account additionally
/// counts failures in the shared audit log.
#[derive(Debug, Default)]
pub struct RateLimiter {
    hits: Mutex<HashMap<String, Vec<Instant>>>,
}

impl RateLimiter {
    /// Records a hit; `false` when `key` already had `limit` hits within `window`.
    pub fn allow(&self, key: &str, limit: usize, window: Duration) -> bool {
        let now = Instant::now();
        let Ok(mut hits) = self.hits.lock() else {
            return true;
        };
        if hits.len() > 50_000 {
            hits.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < window));
        }
        let entry = hits.entry(key.to_owned()).or_default();
        entry.retain(|t| now.duration_since(*t) < window);
        if entry.len() >= limit {
            return false;
        }
        entry.push(now);
        true
    }
}

impl RateLimiter {
    /// Whether `key` has `limit` or more hits within `window` (records nothing).
    pub fn exhausted(&self, key: &str, limit: usize, window: Duration) -> bool {
        let now = Instant::now();
        self.hits.lock().is_ok_and(|hits| {
            hits.get(key).is_some_and(|v| {
                v.iter()
                    .filter(|t| now.duration_since(**t) < window)
                    .count()
                    >= limit
            })
        })
    }

    /// Records a hit on `key` (failed sign-ins: only failures count against a client),
    /// forgetting hits older than `window`.
    pub fn hit(&self, key: &str, window: Duration) {
        let now = Instant::now();
        if let Ok(mut hits) = self.hits.lock() {
            if hits.len() > 50_000 {
                hits.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < window));
            }
            let entry = hits.entry(key.to_owned()).or_default();
            entry.retain(|t| now.duration_since(*t) < window);
            entry.push(now);
        }
    }
}

/// 429 with `Retry-After`.
pub fn too_many_requests(api: bool, retry_after: Duration) -> HttpResponse {
    let mut res = if api {
        crate::web::errors::ErrorBody::response(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests; try again later",
        )
    } else {
        AppError::TooManyRequests.error_response()
    };
    if let Ok(v) = header::HeaderValue::from_str(&retry_after.as_secs().to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn api_error(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    crate::web::errors::ErrorBody::response(status, code, message)
}

/// The refusal of an address holding an encoded NUL (`%00`), if it does. PostgreSQL text
/// cannot hold a NUL, so an id or filter with one names nothing: refused here rather than
/// failing its database lookup with a 500. Query strings on `/api/` are let through: the
/// API only compares their values in memory, and its document allows any character.
fn holds_nul(path: &str, query: &str, api: bool) -> Option<AppError> {
    if path.contains("%00") {
        Some(AppError::NotFound)
    } else if !api && query.contains("%00") {
        Some(AppError::BadRequest {
            field: None,
            message: "the address holds a NUL character (%00)".into(),
        })
    } else {
        None
    }
}

/// 405 with `Allow`: the path is in the table, but not with this method.
fn method_not_allowed(api: bool, method: &str, allowed: &[&str]) -> HttpResponse {
    let allow = allowed.join(", ");
    let message = format!("{method} is not allowed here; this address takes {allow}");
    let mut res = if api {
        api_error(
            actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            &message,
        )
    } else {
        let mut page = AppError::BadRequest {
            field: None,
            message,
        }
        .error_response();
        *page.status_mut() = actix_web::http::StatusCode::METHOD_NOT_ALLOWED;
        page
    };
    if let Ok(v) = header::HeaderValue::from_str(&allow) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    res
}

/// The client's address: the socket peer, unless that is a trusted reverse proxy
/// (`SAMSKAP_TRUSTED_PROXIES`); then the address the proxies forwarded. The chain in
/// `X-Forwarded-For` (or else `Forwarded: for=`) is read from the right, past every
/// trusted proxy: the first address no trusted proxy vouches for is the client, since
/// anything left of it the client could have written itself. A malformed entry ends the
/// walk at the last address known good.
pub fn client_address(
    peer: Option<std::net::IpAddr>,
    headers: &header::HeaderMap,
    trusted: &[crate::infra::config::Cidr],
) -> Option<std::net::IpAddr> {
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|c| c.contains(ip));
    let peer = peer?;
    if !is_trusted(peer) {
        return Some(peer.to_canonical());
    }
    let joined = |name: header::HeaderName| {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",")
    };
    let forwarded_for = joined(header::HeaderName::from_static("x-forwarded-for"));
    let chain: Vec<String> = if forwarded_for.trim().is_empty() {
        // RFC 7239: `Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`.
        joined(header::FORWARDED)
            .split(',')
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.eq_ignore_ascii_case("for")
                        .then(|| v.trim().trim_matches('"').to_owned())
                })
            })
            .collect()
    } else {
        forwarded_for
            .split(',')
            .map(|a| a.trim().to_owned())
            .collect()
    };
    let parse = |text: &str| -> Option<std::net::IpAddr> {
        text.parse::<std::net::IpAddr>()
            .ok()
            .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
            .or_else(|| {
                text.strip_prefix('[')
                    .and_then(|t| t.split(']').next())
                    .and_then(|t| t.parse().ok())
            })
    };
    let mut client = peer;
    for entry in chain.iter().rev() {
        let Some(ip) = parse(entry) else { break };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client.to_canonical())
}

enum SessionState {
    None,
    Valid(SessionData),
    /// Present but expired, unreadable or no longer matching the user: removed.
    Invalid,
}

/// The language of the staff pages for a request, and whether it was chosen with `?lang=`
/// (then remembered in a cookie): `?lang=`, else the cookie, else `Accept-Language`, else
/// English.
fn request_lang(req: &ServiceRequest) -> (&'static str, Option<&'static str>) {
    let chosen_lang = web::Query::<LangQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.lang.as_deref().and_then(crate::infra::i18n::supported));
    let lang = chosen_lang
        .or_else(|| {
            req.request()
                .cookie(crate::infra::i18n::LANG_COOKIE)
                .and_then(|c| crate::infra::i18n::supported(c.value()))
        })
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::infra::i18n::from_accept_language)
        })
        .unwrap_or(crate::infra::i18n::LANGUAGES[0]);
    (lang, chosen_lang)
}

/// The middleware: route access, identity, CSRF cookie, session refresh, rate limits.
/// Error pages, its own refusals included, are in the request's language.
pub async fn access_control(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (lang, chosen_lang) = request_lang(&req);
    super::errors::with_lang(lang, checked(req, next, lang, chosen_lang)).await
}

/// [`access_control`] itself, once the request's language is known.
async fn checked(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    lang: &'static str,
    chosen_lang: Option<&'static str>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError(
            "application state missing",
        ));
    };
    let path = req.path().to_owned();
    let api = is_api(&path);
    let ip = client_address(
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
        &state.settings.trusted_proxies,
    )
    .map(|a| a.to_string());

    let limit = state.settings.respondent_rate_limit;
    if (path.starts_with("/s/") || path.starts_with("/api/v1/respondent/"))
        && limit > 0
        && !state.limiter.allow(
            &format!("s:{}", ip.as_deref().unwrap_or("?")),
            limit,
            Duration::from_secs(60),
        )
    {
        return Ok(req.into_response(too_many_requests(api, Duration::from_secs(60))));
    }

    // Deny by default: a matched route must be in the table (405 when only its method
    // is not).
    let access = match req.match_pattern() {
        None => Access::Public,
        Some(pattern) => {
            let Some(route) = routes::find(req.method().as_str(), &pattern) else {
                let allowed = routes::methods(&pattern);
                if !allowed.is_empty() {
                    let res = method_not_allowed(api, req.method().as_str(), &allowed);
                    return Ok(req.into_response(res));
                }
                tracing::error!(route = %pattern, method = %req.method(), "refused a route without a declared access requirement");
                return Ok(req.into_response(AppError::Forbidden.error_response()));
            };
            route.access
        }
    };

    let keys = state.cookie_keys.clone();
    // Borrow the request, never clone it: a clone alive when routing continues panics.
    let existing_csrf = keys
        .read(req.request(), CSRF_COOKIE)
        .filter(|v| v.len() == 64);
    let csrf_is_new = existing_csrf.is_none();
    let csrf = existing_csrf
        .unwrap_or_else(|| crate::infra::crypto::hex(&crate::infra::crypto::random_bytes::<32>()));

    let now = unix_now();
    let session = match keys.read(req.request(), SESSION_COOKIE) {
        None => SessionState::None,
        Some(raw) => match serde_json::from_str::<SessionData>(&raw) {
            Ok(s) if !s.expired(now) => SessionState::Valid(s),
            _ => SessionState::Invalid,
        },
    };
    let bearer = bearer_of(&req);
    if bearer.is_some() && !api {
        return Ok(req.into_response(
            AppError::BadRequest {
                field: Some("Authorization".into()),
                message: "API tokens are accepted on /api/ routes only".into(),
            }
            .error_response(),
        ));
    }

    let (who, session_ok) = match resolve_user(&state, bearer.clone(), &session).await {
        Ok(v) => v,
        Err(res) => return Ok(req.into_response(res)),
    };
    let session = if session_ok {
        session
    } else {
        SessionState::Invalid
    };
    if bearer.is_some() && who.is_none() {
        return Ok(req.into_response(api_error(
            actix_web::http::StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the API token is unknown, revoked or expired",
        )));
    }
    let actor = actor_of(who.as_ref(), ip.clone());
    let method = req.method().to_string();
    if let Some(refusal) = refuse(&req, access, who.as_ref(), &session, &keys) {
        if refusal.status() == actix_web::http::StatusCode::FORBIDDEN {
            audit_refusal(&state, actor, &method, &path, "role").await;
        }
        return Ok(req.into_response(refusal));
    }
    if let Some(error) = holds_nul(&path, req.query_string(), api) {
        let res = if api {
            ApiError(error).error_response()
        } else {
            error.error_response()
        };
        return Ok(req.into_response(res));
    }

    let via_token = bearer.is_some();
    // Signed in: the token is the session's own; the browser's CSRF cookie serves only
    // forms without a session (sign-in, the respondents' questionnaire).
    let form_token = match (&session, &who) {
        (SessionState::Valid(s), Some(_)) if !via_token => keys.session_csrf(s),
        _ => csrf.clone(),
    };
    req.extensions_mut().insert(Rc::new(RequestContext {
        access: who,
        via_token,
        csrf: form_token,
        ip,
        lang,
    }));
    let mut res = next.call(req).await?.map_into_boxed_body();
    if res.status() == actix_web::http::StatusCode::FORBIDDEN {
        let csrf = res
            .response()
            .extensions()
            .get::<super::errors::CsrfRefusal>()
            .is_some();
        let reason = if csrf { "csrf" } else { "scope" };
        audit_refusal(&state, actor, &method, &path, reason).await;
    }
    if let Some(lang) = chosen_lang {
        // Not secret and read by nothing but the language choice: a plain cookie.
        let cookie = Cookie::build(crate::infra::i18n::LANG_COOKIE, lang)
            .path("/")
            .same_site(SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::days(365))
            .finish();
        let _ = res.response_mut().add_cookie(&cookie);
    }
    set_cookies(
        res.response_mut(),
        &keys,
        csrf_is_new.then_some(csrf),
        session,
        via_token,
        now,
    );
    Ok(res)
}

/// Who is asking, for the audit log.
fn actor_of(who: Option<&accounts::Access>, ip: Option<String>) -> Actor {
    Actor {
        user_id: who.map(|a| a.user.id.clone()),
        label: who.map_or_else(|| "anonymous".to_owned(), |a| a.user.email.clone()),
        ip,
    }
}

/// The API token of `Authorization: Bearer …`, if sent.
fn bearer_of(req: &ServiceRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
}

/// Refusals audited per client address and minute, at most: a flood of refused
/// requests cannot flood the audit log (the limit's own refusals are not audited).
const AUDITED_REFUSALS_PER_MINUTE: usize = 30;

/// Records a 403 in the audit log (`access.denied`: the route, and whether the role, the
/// scope or the CSRF token refused it). A failure to record is logged, never shown.
async fn audit_refusal(state: &AppState, actor: Actor, method: &str, path: &str, reason: &str) {
    let key = format!("audit-refusal:{}", actor.ip.as_deref().unwrap_or("?"));
    if !state
        .limiter
        .allow(&key, AUDITED_REFUSALS_PER_MINUTE, Duration::from_secs(60))
    {
        return;
    }
    let pool = state.pool.clone();
    let target = format!("{method} {path}");
    let details = serde_json::json!({ "reason": reason });
    let recorded = web::block(move || -> anyhow::Result<()> {
        let mut conn = pool.get()?;
        crate::app::audit::record(
            &mut conn,
            &actor,
            "access.denied",
            Some(("route", target.as_str())),
            Some(details),
        )?;
        Ok(())
    })
    .await;
    if let Err(e) | Ok(Err(e)) = recorded.map_err(anyhow::Error::from) {
        tracing::warn!(
            error = format!("{e:#}"),
            "could not audit a refused request"
        );
    }
}

/// Looks up the user behind a bearer token or a session (one short database visit).
/// Returns the access and whether the session (if any) is still good.
async fn resolve_user(
    state: &AppState,
    bearer: Option<String>,
    session: &SessionState,
) -> Result<(Option<accounts::Access>, bool), HttpResponse> {
    let session = match session {
        SessionState::Valid(s) => Some(s.clone()),
        _ => None,
    };
    if bearer.is_none() && session.is_none() {
        return Ok((None, true));
    }
    let pool = state.pool.clone();
    let resolved = web::block(
        move || -> anyhow::Result<(Option<accounts::Access>, bool)> {
            let mut conn = pool.get()?;
            if let Some(token) = bearer {
                let user = accounts::user_for_token(&mut conn, &token)?;
                return Ok((
                    user.map(|u| accounts::Access::load(&mut conn, u))
                        .transpose()?,
                    true,
                ));
            }
            let Some(s) = session else {
                return Ok((None, true));
            };
            // The user and their scopes in one round trip: every page asks.
            let found = crate::infra::models::UserScope::user_with_scopes(
                &mut conn,
                &crate::core::domain::UserId::from_string(s.uid.clone()),
            )?
            .filter(|(u, _)| {
                u.active
                    && accounts::password_fingerprint(&u.password_hash) == s.pwd
                    && !s.ended_for(u)
            });
            match found {
                Some((user, scopes)) => Ok((Some(accounts::Access { user, scopes }), true)),
                None => Ok((None, false)),
            }
        },
    )
    .await;
    match resolved {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(
            AppError::Internal(e.context("resolving the signed-in user failed")).error_response(),
        ),
        Err(e) => Err(AppError::from(e).error_response()),
    }
}

/// The response refusing this request, if its route's [`Access`] is not met: sign-in
/// first (303 to the login page, or 401 on the API), or 403 for the wrong role.
fn refuse(
    req: &ServiceRequest,
    access: Access,
    who: Option<&accounts::Access>,
    session: &SessionState,
    keys: &CookieKeys,
) -> Option<HttpResponse> {
    let Access::SignedIn(roles) = access else {
        return None;
    };
    let api = is_api(req.path());
    match who {
        None if api => Some(api_error(
            actix_web::http::StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in or send an API token: Authorization: Bearer …",
        )),
        None => {
            let target = req
                .uri()
                .path_and_query()
                .map_or_else(|| req.path().to_owned(), ToString::to_string);
            let mut res = HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("/login?next={}", form_urlencode(&target)),
                ))
                .finish();
            if matches!(session, SessionState::Invalid) {
                let _ = res.add_cookie(&keys.removal(SESSION_COOKIE));
            }
            Some(res)
        }
        Some(a) if !roles.contains(&a.user.role) => Some(if api {
            api_error(
                actix_web::http::StatusCode::FORBIDDEN,
                "forbidden",
                "your role may not use this route",
            )
        } else {
            AppError::Forbidden.error_response()
        }),
        Some(_) => None,
    }
}

/// After the handler: issue a new CSRF cookie if the browser had none, slide the session's
/// idle timeout, or remove a session that is no longer good. Cookies the handler set
/// itself (sign-in, sign-out) win.
fn set_cookies(
    res: &mut HttpResponse,
    keys: &CookieKeys,
    new_csrf: Option<String>,
    session: SessionState,
    via_token: bool,
    now: u64,
) {
    if let Some(csrf) = new_csrf
        && !res.cookies().any(|c| c.name() == CSRF_COOKIE)
    {
        let _ = res.add_cookie(&keys.make(CSRF_COOKIE, csrf, None));
    }
    if res.cookies().any(|c| c.name() == SESSION_COOKIE) {
        return;
    }
    match session {
        SessionState::Valid(mut s)
            if !via_token && now.saturating_sub(s.seen) >= REFRESH_AFTER.as_secs() =>
        {
            s.seen = now;
            let _ = res.add_cookie(&s.cookie(keys));
        }
        SessionState::Invalid => {
            let _ = res.add_cookie(&keys.removal(SESSION_COOKIE));
        }
        _ => {}
    }
}

fn form_urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)])
        .map(|e| e[2..].to_owned())
        .unwrap_or_default()
}

/// A safe place to go after signing in: a local path only. Browsers drop tabs and line
/// breaks from a URL and read a backslash as a slash, so `/\t/evil.example` or
/// `/\\evil.example` would leave the site: any control character, whitespace or
/// backslash is refused (and a line break could never reach a `Location` header).
pub fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains("://")
            && !n
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    })
    .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_comes_from_trusted_proxies_only() {
        let trusted: Vec<crate::infra::config::Cidr> = vec![
            "10.0.0.0/8".parse().expect("cidr"),
            "::1".parse().expect("cidr"),
        ];
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = header::HeaderMap::new();
            for (k, v) in pairs {
                h.append(
                    header::HeaderName::from_static(k),
                    header::HeaderValue::from_str(v).expect("value"),
                );
            }
            h
        };
        let spoof = headers(&[("x-forwarded-for", "6.6.6.6")]);
        // Not from a proxy: the header is the client's own claim, ignored.
        assert_eq!(
            client_address(Some(ip("203.0.113.9")), &spoof, &trusted),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &spoof, &[]),
            Some(ip("10.0.0.2")),
            "no proxy trusted by default"
        );
        // Through one proxy, then two: the rightmost address no proxy vouches for.
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &spoof, &trusted),
            Some(ip("6.6.6.6"))
        );
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.1.1.1")]);
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &chain, &trusted),
            Some(ip("203.0.113.9")),
            "1.1.1.1 was written by the client itself"
        );
        let forwarded = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=https, for=\"[2001:db8::7]:4711\"",
        )]);
        assert_eq!(
            client_address(Some(ip("::1")), &forwarded, &trusted),
            Some(ip("2001:db8::7"))
        );
        let garbage = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &garbage, &trusted),
            Some(ip("10.0.0.2")),
            "a malformed entry leaves the proxy's own address"
        );
        assert_eq!(
            client_address(Some(ip("::ffff:203.0.113.9")), &spoof, &trusted),
            Some(ip("203.0.113.9")),
            "IPv4 peers on an IPv6 socket are written as IPv4"
        );
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/admin/users")), Some("/admin/users".into()));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "evil",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/admin\r\nSet-Cookie: x=1",
            "/ /evil.example",
            "/a\\b",
            "/\u{0}",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
    }

    #[test]
    fn the_rate_limiter_counts_per_key_within_the_window() {
        let limiter = RateLimiter::default();
        for _ in 0..3 {
            assert!(limiter.allow("a", 3, Duration::from_secs(60)));
        }
        assert!(!limiter.allow("a", 3, Duration::from_secs(60)));
        assert!(limiter.allow("b", 3, Duration::from_secs(60)));
        assert!(limiter.allow("c", 1, Duration::from_millis(1)));
        std::thread::sleep(Duration::from_millis(5));
        assert!(limiter.allow("c", 1, Duration::from_millis(1)));
    }

    #[test]
    fn sessions_expire_when_idle_or_old() {
        let s = SessionData {
            uid: "u".into(),
            pwd: "p".into(),
            iat: 1_000_000,
            seen: 1_000_000,
            at: 1_000_000_000,
        };
        assert!(!s.expired(1_000_000 + 60));
        assert!(s.expired(1_000_000 + IDLE_TIMEOUT.as_secs() + 1));
        let busy = SessionData {
            seen: 1_000_000 + ABSOLUTE_TIMEOUT.as_secs(),
            ..s
        };
        assert!(busy.expired(1_000_000 + ABSOLUTE_TIMEOUT.as_secs() + 1));
    }
}

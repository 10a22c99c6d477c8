//! The JSON API (`/api/v1/…`): sessions or `Authorization: Bearer` tokens; and the
//! extractors every API handler reads its input through, so that input the API cannot
//! use is refused with the API's JSON error, never actix's plain text.

use std::future::{Future, Ready, ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::services::authorised_service;
use crate::app::accounts;
use crate::web::errors::{ApiError, ApiResult, AppError, ErrorBody};
use crate::web::security::Ctx;
use crate::web::{AppState, with_conn};

/// A JSON object as the request body, like `web::Json`, but a body that cannot be used
/// (not JSON, not an object of the expected shape, no `Content-Type: application/json`)
/// is answered 400 (413 when too large) with the API's JSON error naming the problem.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + crate::app::validation::Validate + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = body.await.map_err(body_error)?.into_inner();
            // serde would also take a struct from an array of its fields, `[]` included.
            if !value.is_object() {
                return Err(refusal(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "the body must be a JSON object".to_owned(),
                ));
            }
            let body: T = serde_json::from_value(value).map_err(|e| {
                refusal(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("the body cannot be used: {e}"),
                )
            })?;
            // Every problem the body's rules find, each by field (422).
            crate::app::validation::check(&body, &[]).map_err(|problems| {
                let res = HttpResponse::UnprocessableEntity().json(ErrorBody {
                    error: crate::web::errors::ErrorDetail {
                        fields: problems
                            .0
                            .iter()
                            .map(|p| crate::web::errors::FieldError {
                                field: p.field.clone(),
                                message: p.to_string(),
                            })
                            .collect(),
                        ..crate::web::errors::ErrorDetail::new(
                            "validation",
                            "some fields cannot be used; nothing was saved",
                        )
                    },
                });
                actix_web::Error::from(actix_web::error::InternalError::from_response(
                    problems.to_string(),
                    res,
                ))
            })?;
            Ok(Self(body))
        })
    }
}

/// An optional JSON request body: none when the request has no body, else [`ApiJson`]. A
/// body that is sent but cannot be used is refused, never silently ignored.
#[derive(Debug)]
pub struct OptionalApiJson<T>(pub Option<T>);

impl<T: DeserializeOwned + crate::app::validation::Validate + 'static> FromRequest
    for OptionalApiJson<T>
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let empty = !headers.contains_key(header::TRANSFER_ENCODING)
            && headers
                .get(header::CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0");
        if empty {
            return Box::pin(ready(Ok(Self(None))));
        }
        let body = ApiJson::<T>::from_request(req, payload);
        Box::pin(async move { Ok(Self(Some(body.await?.0))) })
    }
}

/// The API's JSON error for a body `web::Json` could not read.
fn body_error(e: actix_web::Error) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    match e.as_error::<E>() {
        Some(E::ContentType) => refusal(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "send a JSON body with Content-Type: application/json".to_owned(),
        ),
        Some(E::Overflow { limit } | E::OverflowKnownLength { limit, .. }) => refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {limit} bytes"),
        ),
        Some(E::Deserialize(cause)) => refusal(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the body is not JSON: {cause}"),
        ),
        _ => refusal(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the body cannot be read: {e}"),
        ),
    }
}

/// An extractor's refusal as the API's JSON error.
fn refusal(status: StatusCode, code: &str, message: String) -> actix_web::Error {
    let res = ErrorBody::response(status, code, message.clone());
    actix_web::error::InternalError::from_response(message, res).into()
}

/// Query parameters, like `web::Query`, but a query string that cannot be read (a
/// parameter given twice, say) is answered 400 with the API's JSON error.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            serde_urlencoded::from_str::<T>(req.query_string())
                .map(Self)
                .map_err(|e| {
                    ApiError(AppError::BadRequest {
                        field: None,
                        message: format!("the query string cannot be read: {e}"),
                    })
                }),
        )
    }
}

/// `GET /api/v1/me`: who the token or session belongs to, and their scopes.
pub async fn me(state: web::Data<AppState>, ctx: Ctx) -> ApiResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let via = if ctx.0.via_token {
        Via::Token
    } else {
        Via::Session
    };
    let scopes = with_conn(&state, move |conn| {
        access
            .scopes
            .iter()
            .map(|s| {
                Ok(Scope {
                    kind: s.scope_kind,
                    id: s.scope_id.clone(),
                    description: accounts::describe_scope(conn, s)?,
                })
            })
            .collect::<Result<Vec<_>, crate::web::errors::AppError>>()
    })
    .await?;
    let user = &ctx.access()?.user;
    Ok(HttpResponse::Ok().json(Me {
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        via,
        scopes,
    }))
}

/// Who a request is from (`GET /api/v1/me`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Me {
    pub email: String,
    pub display_name: String,
    pub role: crate::core::domain::UserRole,
    /// How the request proved who it is from.
    pub via: Via,
    /// What the account may see: services, organisations or regions.
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Token,
    Session,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Scope {
    pub kind: crate::core::domain::ScopeKind,
    pub id: String,
    /// The service, organisation or region by name.
    pub description: String,
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
        Ok(super::services::authorised_detail(conn, &access, &code)?.1)
    })
    .await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// A wave's latest publication for pages and the API: not found for drafts and unknown
/// waves, [`AppError::Pending`] while its first one is being computed.
pub(crate) fn wave_results(
    conn: &mut crate::infra::db::DbConn,
    wave: &str,
    publications: &dyn crate::app::analytics::Publications,
) -> crate::web::errors::AppResult<std::sync::Arc<crate::app::analytics::Publication>> {
    use crate::core::domain::{WaveId, WaveStatus};
    let id = WaveId::from_string(wave);
    let found = crate::infra::models::Wave::find(conn, &id)?;
    if found.status == WaveStatus::Draft {
        return Err(crate::web::errors::AppError::NotFound);
    }
    publications.get(conn, &id)?.ok_or(AppError::Pending)
}

/// `GET /api/v1/waves`: waves that have results (opened or closed), newest first.
pub async fn waves(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let waves = with_conn(&state, |conn| {
        Ok(crate::infra::models::Wave::all(conn)?
            .into_iter()
            .filter(|w| w.status != crate::core::domain::WaveStatus::Draft)
            .map(|w| WaveSummary {
                id: w.id,
                name: w.name,
                status: w.status,
                opens_at: w.opens_at,
                closes_at: w.closes_at,
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(WaveList { waves }))
}

/// `GET /api/v1/waves`
#[derive(Debug, Serialize, JsonSchema)]
pub struct WaveList {
    /// Opened and closed waves, newest first.
    pub waves: Vec<WaveSummary>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WaveSummary {
    pub id: crate::core::domain::WaveId,
    pub name: String,
    pub status: crate::core::domain::WaveStatus,
    /// When the wave opened (UTC).
    pub opens_at: Option<chrono::NaiveDateTime>,
    /// When it closes or closed (UTC).
    pub closes_at: Option<chrono::NaiveDateTime>,
}

/// One service's part of a wave's publication
/// (`GET /api/v1/waves/{wave}/services/{code}/results`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ServiceResults {
    pub wave_id: crate::core::domain::WaveId,
    pub wave_name: String,
    /// The minimum number of respondents behind any number shown.
    pub min_cell: u32,
    /// The phase codes, in order.
    pub phases: Vec<String>,
    /// When the publication was computed (UTC).
    pub computed_at: chrono::NaiveDateTime,
    /// The wave trends compare with.
    pub previous_wave: Option<crate::core::domain::WaveId>,
    pub service: crate::app::analytics::results::ServiceResult,
}

/// A service's place in its peer groups
/// (`GET /api/v1/waves/{wave}/services/{code}/benchmarks`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ServiceBenchmarks {
    pub wave_id: crate::core::domain::WaveId,
    pub min_cell: u32,
    pub service_id: crate::core::domain::ServiceId,
    pub benchmarks: Vec<crate::app::analytics::results::Benchmark>,
}

/// Region aggregates (`GET /api/v1/waves/{wave}/regions`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Regions<'a> {
    pub wave_id: &'a crate::core::domain::WaveId,
    pub min_cell: u32,
    pub computed_at: chrono::NaiveDateTime,
    /// Borrowed from the publication: a national table is not copied per request.
    pub regions: Vec<&'a crate::app::analytics::results::RegionCell>,
}

/// Reliability and item statistics (`GET /api/v1/waves/{wave}/psychometrics`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Psychometrics {
    pub wave_id: crate::core::domain::WaveId,
    pub min_cell: u32,
    pub computed_at: chrono::NaiveDateTime,
    /// Submitted responses per role over the whole wave.
    pub respondents: Vec<crate::app::analytics::results::RoleCount>,
    pub psychometrics: Vec<crate::app::analytics::results::PhasePsychometrics>,
}

/// One service's part of a wave's publication, scope-checked.
async fn service_part(
    state: &AppState,
    ctx: &Ctx,
    path: web::Path<(String, String)>,
) -> ApiResult<ServiceResults> {
    let access = ctx.access()?.clone();
    let (wave, code) = path.into_inner();
    let publications = state.publications.clone();
    Ok(with_conn(state, move |conn| {
        let service = authorised_service(conn, &access, &code)?;
        let results = wave_results(conn, &wave, &*publications)?;
        let found = results
            .service(&service.code)
            .ok_or(crate::web::errors::AppError::NotFound)?;
        Ok(ServiceResults {
            wave_id: results.wave_id.clone(),
            wave_name: results.wave_name.clone(),
            min_cell: results.min_cell,
            phases: results.phases.clone(),
            computed_at: results.computed_at,
            previous_wave: results.previous_wave.clone(),
            service: found.clone(),
        })
    })
    .await?)
}

/// `GET /api/v1/waves/{wave}/services/{code}/results`: one service's profile per role,
/// perception gaps, peer benchmarks and trends, every number through the suppression gate.
pub async fn service_results(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(service_part(&state, &ctx, path).await?))
}

/// `GET /api/v1/waves/{wave}/services/{code}/benchmarks`: the service's percentile ranks
/// and funnel positions in its peer groups.
pub async fn service_benchmarks(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let part = service_part(&state, &ctx, path).await?;
    Ok(HttpResponse::Ok().json(ServiceBenchmarks {
        wave_id: part.wave_id,
        min_cell: part.min_cell,
        service_id: part.service.service_id,
        benchmarks: part.service.benchmarks,
    }))
}

#[derive(Debug, serde::Deserialize, JsonSchema)]
pub struct RegionQuery {
    /// national, health_region, county or municipality
    #[schemars(extend("enum" = ["national", "health_region", "county", "municipality"]))]
    level: Option<String>,
    /// a role code of the wave's survey file, e.g. manager, peer_worker, staff
    role: Option<String>,
    /// a service type, or `all` for the total over types
    service_type: Option<String>,
    /// a phase code (A-D) or `index`
    measure: Option<String>,
}

/// 403 unless the caller may read `wave`'s psychometrics
/// ([`crate::app::accounts::Access::can_read_psychometrics`]).
pub fn may_read_psychometrics(
    access: &crate::app::accounts::Access,
    wave: &str,
) -> Result<(), AppError> {
    let wave = crate::core::domain::WaveId::from_string(wave.to_owned());
    if access.can_read_psychometrics(&wave) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// `GET /api/v1/waves/{wave}/regions?level=&role=&service_type=&measure=`: region ×
/// role × service type × phase aggregates, with complementary suppression.
/// Keeps to the caller's [`crate::app::accounts::RegionView`].
pub async fn regions(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    ApiQuery(q): ApiQuery<RegionQuery>,
) -> ApiResult<HttpResponse> {
    let access = ctx.access()?.clone();
    let wave = path.into_inner();
    if let Some(level) = &q.level
        && !["national", "health_region", "county", "municipality"].contains(&level.as_str())
    {
        return Err(AppError::BadRequest {
            field: Some("level".to_owned()),
            message: "must be national, health_region, county or municipality".to_owned(),
        }
        .into());
    }
    let publications = state.publications.clone();
    let (results, shown) = with_conn(&state, move |conn| {
        let results = wave_results(conn, &wave, &*publications)?;
        let matches = |have: &str, want: Option<&String>| want.is_none_or(|w| w == have);
        // The caller's scope, as on the region pages (one rule: `Access::region_view`):
        // an admin sees every region; a policymaker their regions and the regions inside
        // them, plus the national cells and the other regions at their own level.
        let view = access.region_view(&crate::infra::models::Region::all(conn)?);
        let in_scope =
            |c: &crate::app::analytics::results::RegionCell| view.shows(c.region_id.as_ref());
        let shown: Vec<usize> = results
            .regions
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                in_scope(c)
                    && matches(c.level.as_str(), q.level.as_ref())
                    && matches(c.role.as_str(), q.role.as_ref())
                    && matches(
                        c.service_type.map_or("all", |t| t.as_str()),
                        q.service_type.as_ref(),
                    )
                    && matches(&c.measure, q.measure.as_ref())
            })
            .map(|(i, _)| i)
            .collect();
        Ok((results, shown))
    })
    .await?;
    Ok(HttpResponse::Ok().json(Regions {
        wave_id: &results.wave_id,
        min_cell: results.min_cell,
        computed_at: results.computed_at,
        regions: shown.iter().map(|&i| &results.regions[i]).collect(),
    }))
}

/// `GET /api/v1/waves/{wave}/psychometrics`: ICC(1), ICC(2), α and item descriptives.
pub async fn psychometrics(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let wave = path.into_inner();
    may_read_psychometrics(ctx.access()?, &wave)?;
    let publications = state.publications.clone();
    let body = with_conn(&state, move |conn| {
        let results = wave_results(conn, &wave, &*publications)?;
        Ok(Psychometrics {
            wave_id: results.wave_id.clone(),
            min_cell: results.min_cell,
            computed_at: results.computed_at,
            respondents: results.respondents.clone(),
            psychometrics: results.psychometrics.clone(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

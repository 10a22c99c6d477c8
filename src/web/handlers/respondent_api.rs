//! The respondent JSON API: the same token as the questionnaire link.
//! `GET /api/v1/respondent/{token}`, `POST …/consent`, `PUT …/answers`, `POST …/submit`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{ApiJson, ApiQuery, OptionalApiJson};
use crate::questionnaire::{self as q, Link, LinkState, PageItem, Stored};
use crate::web::errors::{ApiError, ApiResult, AppError};
use crate::web::{AppState, with_conn};

fn refusal_parts(state: &LinkState) -> Option<(u16, Value)> {
    let (status, code, message) = match state {
        LinkState::Unknown => (404, "unknown_link", "no questionnaire has this token"),
        LinkState::NotOpen(_) => (403, "not_open", "the survey has not opened yet"),
        LinkState::Closed(_) => (410, "closed", "the survey has closed"),
        LinkState::Expired(_) => (410, "expired", "the link has expired"),
        LinkState::Withdrawn(_) => (410, "withdrawn", "the answers were withdrawn"),
        LinkState::Submitted(_) | LinkState::Active(_) => return None,
    };
    Some((status, json!({"error": {"code": code, "message": message}})))
}

fn json_response((status, body): (u16, Value)) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .json(body)
}

fn refusal(state: &LinkState) -> Option<HttpResponse> {
    refusal_parts(state).map(json_response)
}

async fn resolve(state: &web::Data<AppState>, token: String) -> ApiResult<LinkState> {
    let keys = state.keys.clone();
    Ok(with_conn(state, move |conn| Ok(q::open_link(conn, &keys, &token)?)).await?)
}

fn item_json(link: &Link, item: PageItem<'_>, lang: &str) -> Value {
    match item {
        PageItem::Scored(i) => {
            let scale = link.survey.scales.get(&i.scale);
            json!({
                "code": i.code, "type": "scale", "text": q::question_text(item, link.role(), lang),
                "values": scale.map(|s| s.points.iter().map(|p| json!({"value": p.value, "label": q::text(&p.label, lang)})).collect::<Vec<_>>()),
                "missing_codes": scale.map(|s| s.missing.iter().map(|m| json!({"code": m.code, "label": q::text(&m.label, lang)})).collect::<Vec<_>>()),
            })
        }
        PageItem::Context(c) => json!({
            "code": c.code, "type": c.kind, "text": q::text(&c.text, lang), "min": c.min, "max": c.max,
            "options": c.options.iter().map(|o| json!({"code": o.code, "label": q::text(&o.label, lang)})).collect::<Vec<_>>(),
            "extra_codes": c.extra_codes.iter().map(|o| json!({"code": o.code, "label": q::text(&o.label, lang)})).collect::<Vec<_>>(),
        }),
    }
}

fn stored_json(s: &Stored) -> Value {
    match (&s.value, &s.text, &s.missing) {
        (_, _, Some(m)) => json!(m),
        (_, Some(t), _) => json!(t),
        (Some(v), _, _) => json!(v),
        _ => Value::Null,
    }
}

/// `GET /api/v1/respondent/{token}`: the questionnaire in the respondent's language, and
/// the answers saved so far. Once submitted, the answers are no longer given: the link
/// is a bearer secret that may live on in a mailbox or be forwarded, and a submitted
/// questionnaire needs nothing more from it.
pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
    ApiQuery(query): ApiQuery<LangQuery>,
) -> ApiResult<HttpResponse> {
    let link_state = resolve(&state, path.into_inner()).await?;
    if let Some(r) = refusal(&link_state) {
        return Ok(r);
    }
    let (LinkState::Active(link) | LinkState::Submitted(link)) = &link_state else {
        return Err(AppError::NotFound.into());
    };
    let lang = query
        .lang
        .clone()
        .filter(|l| link.survey.languages.contains(l))
        .unwrap_or_else(|| link.language().to_owned());
    let submitted = matches!(link_state, LinkState::Submitted(_));
    let answers = match &link.response {
        Some(_) if submitted => std::collections::BTreeMap::default(),
        Some(r) => {
            let rid = r.id.clone();
            with_conn(&state, move |conn| Ok(q::answers_of(conn, &rid)?)).await?
        }
        None => std::collections::BTreeMap::default(),
    };
    let pages: Vec<Value> = q::pages(&link.survey, link.role())
        .iter()
        .filter(|p| *p != "consent" && *p != "review")
        .map(|p| json!({"id": p, "items": q::items_on(&link.survey, link.role(), p).into_iter().map(|i| item_json(link, i, &lang)).collect::<Vec<_>>()}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "survey": {"id": link.survey.id, "version": link.survey.version, "title": q::text(&link.survey.title, &lang)},
        "wave": {"name": link.wave.name, "closes_at": link.wave.closes_at},
        "role": link.role(), "language": lang, "languages": link.survey.languages,
        "consented": link.response.is_some(),
        "submitted": submitted,
        "pages": pages,
        "answers": answers.iter().map(|(k, v)| (k.clone(), stored_json(v))).collect::<serde_json::Map<_, _>>(),
    })))
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ConsentBody {
    #[serde(default)]
    language: Option<String>,
}

/// `POST /api/v1/respondent/{token}/consent`
pub async fn consent(
    state: web::Data<AppState>,
    path: web::Path<String>,
    OptionalApiJson(body): OptionalApiJson<ConsentBody>,
) -> ApiResult<HttpResponse> {
    let token = path.into_inner();
    let link_state = resolve(&state, token.clone()).await?;
    if let Some(r) = refusal(&link_state) {
        return Ok(r);
    }
    let LinkState::Active(link) = link_state else {
        return Ok(HttpResponse::Conflict()
            .json(json!({"error": {"code": "submitted", "message": "already submitted"}})));
    };
    let lang = body
        .and_then(|b| b.language)
        .unwrap_or_else(|| link.language().to_owned());
    if !link.survey.languages.contains(&lang) {
        return Err(AppError::BadRequest {
            field: Some("language".into()),
            message: format!("offered in {}", link.survey.languages.join(", ")),
        }
        .into());
    }
    let keys = state.keys.clone();
    with_conn(&state, move |conn| {
        Ok(q::consent(conn, &keys, &link, &token, &lang)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"consented": true})))
}

#[derive(Debug, Deserialize)]
pub struct AnswersBody {
    answers: serde_json::Map<String, Value>,
}

/// `PUT /api/v1/respondent/{token}/answers`: all or nothing; every bad field is named.
pub async fn save(
    state: web::Data<AppState>,
    path: web::Path<String>,
    ApiJson(body): ApiJson<AnswersBody>,
) -> ApiResult<HttpResponse> {
    let token = path.into_inner();
    let link_state = resolve(&state, token.clone()).await?;
    if let Some(r) = refusal(&link_state) {
        return Ok(r);
    }
    let LinkState::Active(link) = link_state else {
        return Ok(HttpResponse::Conflict().json(json!({"error": {"code": "submitted", "message": "already submitted; answers can no longer change"}})));
    };
    let Some(response) = link.response.clone() else {
        return Ok(HttpResponse::Conflict().json(json!({"error": {"code": "no_consent", "message": "give consent first: POST …/consent"}})));
    };
    let lang = link.language().to_owned();
    let good = match check_answers(&link, &body.answers) {
        Ok(g) => g,
        Err(fields) => return Ok(validation_error(fields)),
    };
    let n = good.len();
    let wave = link.wave.clone();
    with_conn(&state, move |conn| {
        Ok(q::save(conn, &wave, &response.id, &good, None, &lang)?)
    })
    .await
    .map_err(ApiError)?;
    Ok(HttpResponse::Ok().json(json!({"saved": n})))
}

#[derive(Debug, Default, Deserialize)]
pub struct SubmitBody {
    /// Consent given with this request (needed when not given before).
    #[serde(default)]
    consent: bool,
    #[serde(default)]
    language: Option<String>,
    /// Answers to save before submitting, checked like `PUT …/answers`.
    #[serde(default)]
    answers: Option<serde_json::Map<String, Value>>,
}

/// Checks answers from JSON; every bad field is named.
fn check_answers(
    link: &Link,
    answers: &serde_json::Map<String, Value>,
) -> Result<Vec<(String, Option<Stored>)>, Vec<Value>> {
    let items = q::all_items(&link.survey, link.role());
    let mut good = Vec::new();
    let mut fields = Vec::new();
    for (code, value) in answers {
        let Some(item) = items.iter().find(|i| i.code() == code) else {
            fields.push(json!({"field": format!("answers.{code}"), "message": "no such item in this questionnaire"}));
            continue;
        };
        let raw = match value {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => {
                if *b {
                    "yes".into()
                } else {
                    "no".into()
                }
            }
            _ => {
                fields.push(json!({"field": format!("answers.{code}"), "message": "must be a number, a string or null"}));
                continue;
            }
        };
        match q::parse_answer(&link.survey, *item, &raw, "en") {
            Ok(stored) => good.push((code.clone(), stored)),
            Err(message) => {
                fields.push(json!({"field": format!("answers.{code}"), "message": message}));
            }
        }
    }
    if fields.is_empty() {
        Ok(good)
    } else {
        Err(fields)
    }
}

fn validation_parts(fields: Vec<Value>) -> (u16, Value) {
    (
        422,
        json!({"error": {"code": "validation", "message": "some answers cannot be used; nothing was saved", "fields": fields}}),
    )
}

fn validation_error(fields: Vec<Value>) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(json!({"error": {"code": "validation", "message": "some answers cannot be used; nothing was saved", "fields": fields}}))
}

/// `POST /api/v1/respondent/{token}/submit`: idempotent. With a body it can also give
/// consent and save answers first, all in one transaction: a complete response in one
/// request.
pub async fn submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    OptionalApiJson(body): OptionalApiJson<SubmitBody>,
) -> ApiResult<HttpResponse> {
    let token = path.into_inner();
    let body = body.unwrap_or_default();
    let keys = state.keys.clone();
    let group = state.group.clone();
    // One visit to the blocking pool for the whole submission: resolving the link,
    // checking the answers and storing them.
    let outcome = with_conn(&state, move |conn| -> crate::web::errors::AppResult<Result<q::Submitted, (u16, Value)>> {
        let link_state = q::open_link(conn, &keys, &token)?;
        if let Some(r) = refusal_parts(&link_state) {
            return Ok(Err(r));
        }
        let (LinkState::Active(link) | LinkState::Submitted(link)) = link_state else {
            return Err(AppError::NotFound);
        };
        if link.response.is_none() && !body.consent {
            return Ok(Err((409, json!({"error": {"code": "no_consent", "message": "give consent first: POST …/consent, or send \"consent\": true"}}))));
        }
        let good = match &body.answers {
            Some(a) => match check_answers(&link, a) {
                Ok(g) => g,
                Err(fields) => return Ok(Err(validation_parts(fields))),
            },
            None => Vec::new(),
        };
        let lang = body.language.clone().filter(|l| link.survey.languages.contains(l)).unwrap_or_else(|| link.language().to_owned());
        if link.response.is_none() && !good.is_empty() {
            return Ok(Ok(q::submit_complete(conn, &group, &keys, &link, &token, &lang, &good)?));
        }
        Ok(Ok(crate::db::write_transaction(conn, |conn| -> anyhow::Result<q::Submitted> {
            let response = match &link.response {
                Some(r) if r.submitted_at.is_some() => return Ok(q::Submitted::Already(r.submitted_at.unwrap_or(r.updated_at))),
                Some(r) => r.clone(),
                None => q::consent(conn, &keys, &link, &token, &lang)?,
            };
            if !good.is_empty() {
                q::save(conn, &link.wave, &response.id, &good, Some("review"), &lang)?;
            }
            Ok(q::submit(conn, &link, &response.id)?)
        })?))
    })
    .await?;
    let outcome = match outcome {
        Ok(o) => o,
        Err(parts) => return Ok(json_response(parts)),
    };
    let (at, first) = match outcome {
        q::Submitted::Now(at) => (at, true),
        q::Submitted::Already(at) => (at, false),
    };
    Ok(HttpResponse::Ok()
        .json(json!({"status": "submitted", "submitted_at": at, "first_time": first})))
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(include_str!("../openapi.json"))
}

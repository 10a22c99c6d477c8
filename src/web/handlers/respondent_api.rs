//! The respondent JSON API: the same token as the questionnaire link.
//! `GET /api/v1/respondent/{token}`, `POST …/consent`, `PUT …/answers`, `POST …/submit`.

use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::api::{ApiJson, ApiQuery, OptionalApiJson};
use crate::app::questionnaire::{self as q, Link, LinkState, PageItem, Stored};
use crate::web::errors::{ApiError, ApiResult, AppError, ErrorBody, ErrorDetail, FieldError};
use crate::web::{AppState, with_conn};

fn refusal_parts(state: &LinkState) -> Option<(u16, ErrorBody)> {
    let (status, code, message) = match state {
        LinkState::Unknown => (404, "unknown_link", "no questionnaire has this token"),
        LinkState::NotOpen(_) => (403, "not_open", "the survey has not opened yet"),
        LinkState::Closed(_) => (410, "closed", "the survey has closed"),
        LinkState::Expired(_) => (410, "expired", "the link has expired"),
        LinkState::Withdrawn(_) => (410, "withdrawn", "the answers were withdrawn"),
        LinkState::Submitted(_) | LinkState::Active(_) => return None,
    };
    Some((status, error(code, message)))
}

fn error(code: &str, message: &str) -> ErrorBody {
    ErrorBody {
        error: ErrorDetail::new(code, message),
    }
}

fn json_response((status, body): (u16, ErrorBody)) -> HttpResponse {
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

fn item_json(link: &Link, item: PageItem<'_>, lang: &str) -> Item {
    let labelled = |code: &str, label| Choice {
        code: code.to_owned(),
        label: q::text(label, lang).to_owned(),
    };
    match item {
        PageItem::Scored(i) => {
            let scale = link.survey.scales.get(&i.scale);
            Item::Scale(ScaleItem {
                code: i.code.clone(),
                kind: ScaleKind::Scale,
                text: q::question_text(item, link.role(), lang).to_owned(),
                values: scale.map(|s| {
                    s.points
                        .iter()
                        .map(|p| ScaleValue {
                            value: p.value,
                            label: q::text(&p.label, lang).to_owned(),
                        })
                        .collect()
                }),
                missing_codes: scale.map(|s| {
                    s.missing
                        .iter()
                        .map(|m| labelled(&m.code, &m.label))
                        .collect()
                }),
            })
        }
        PageItem::Context(c) => Item::Context(ContextItem {
            code: c.code.clone(),
            kind: c.kind,
            text: q::text(&c.text, lang).to_owned(),
            min: c.min,
            max: c.max,
            options: c
                .options
                .iter()
                .map(|o| labelled(&o.code, &o.label))
                .collect(),
            extra_codes: c
                .extra_codes
                .iter()
                .map(|o| labelled(&o.code, &o.label))
                .collect(),
        }),
    }
}

fn stored_json(s: &Stored) -> Option<StoredAnswer> {
    match (&s.value, &s.text, &s.missing) {
        (_, _, Some(m)) => Some(StoredAnswer::Text(m.clone())),
        (_, Some(t), _) => Some(StoredAnswer::Text(t.clone())),
        (Some(v), _, _) => Some(StoredAnswer::Number(*v)),
        _ => None,
    }
}

/// A questionnaire as the respondent API gives it (`GET /api/v1/respondent/{token}`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Questionnaire {
    pub survey: SurveyHead,
    pub wave: WaveHead,
    pub role: crate::core::domain::RespondentRole,
    /// The language of the texts below.
    pub language: String,
    /// The languages the questionnaire is offered in (`?lang=`).
    pub languages: Vec<String>,
    pub consented: bool,
    pub submitted: bool,
    pub pages: Vec<Page>,
    /// The answers saved so far by item code (none once submitted): a scale value or
    /// number, or a code (a missing code, a choice, an extra code) as a string.
    pub answers: std::collections::BTreeMap<String, Option<StoredAnswer>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SurveyHead {
    pub id: String,
    pub version: String,
    pub title: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WaveHead {
    pub name: String,
    /// When the survey closes (UTC).
    pub closes_at: Option<chrono::NaiveDateTime>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Page {
    pub id: String,
    pub items: Vec<Item>,
}

/// A question: a scale item (scored) or a context question.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Item {
    Scale(ScaleItem),
    Context(ContextItem),
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScaleItem {
    pub code: String,
    #[serde(rename = "type")]
    pub kind: ScaleKind,
    /// The question as this role reads it.
    pub text: String,
    pub values: Option<Vec<ScaleValue>>,
    /// Answers that are not a scale value ("don't know", "did not take place").
    pub missing_codes: Option<Vec<Choice>>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScaleKind {
    Scale,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScaleValue {
    pub value: i64,
    pub label: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ContextItem {
    pub code: String,
    #[serde(rename = "type")]
    pub kind: crate::core::instrument::format::ContextKind,
    pub text: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The choices of a single-choice question.
    pub options: Vec<Choice>,
    /// Codes accepted besides a number ("don't know", say).
    pub extra_codes: Vec<Choice>,
}

/// A saved answer: a number, or a code.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum StoredAnswer {
    Number(f64),
    Text(String),
}

/// `POST …/consent`
#[derive(Debug, Serialize, JsonSchema)]
pub struct Consented {
    pub consented: bool,
}

/// `PUT …/answers`
#[derive(Debug, Serialize, JsonSchema)]
pub struct Saved {
    /// How many answers were saved.
    pub saved: usize,
}

/// `POST …/submit`
#[derive(Debug, Serialize, JsonSchema)]
pub struct SubmitOutcome {
    pub status: SubmitStatus,
    /// When the response was submitted (UTC), the first time.
    pub submitted_at: chrono::NaiveDateTime,
    /// False when it had been submitted before: submitting is idempotent.
    pub first_time: bool,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmitStatus {
    Submitted,
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
    let pages = q::pages(&link.survey, link.role())
        .iter()
        .filter(|p| *p != "consent" && *p != "review")
        .map(|p| Page {
            id: p.clone(),
            items: q::items_on(&link.survey, link.role(), p)
                .into_iter()
                .map(|i| item_json(link, i, &lang))
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Questionnaire {
        survey: SurveyHead {
            id: link.survey.id.clone(),
            version: link.survey.version.clone(),
            title: q::text(&link.survey.title, &lang).to_owned(),
        },
        wave: WaveHead {
            name: link.wave.name.clone(),
            closes_at: link.wave.closes_at,
        },
        role: link.invitation.role.clone(),
        language: lang.clone(),
        languages: link.survey.languages.clone(),
        consented: link.response.is_some(),
        submitted,
        pages,
        answers: answers
            .iter()
            .map(|(k, v)| (k.clone(), stored_json(v)))
            .collect(),
    }))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LangQuery {
    /// Show the texts in this language, when the questionnaire is offered in it.
    lang: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema, crate::app::validation::Validate)]
pub struct ConsentBody {
    /// The language to answer in (one the questionnaire is offered in).
    #[serde(default)]
    #[validate(length(min = 2, max = 16))]
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
        return Ok(HttpResponse::Conflict().json(error("submitted", "already submitted")));
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
    Ok(HttpResponse::Ok().json(Consented { consented: true }))
}

#[derive(Debug, Deserialize, JsonSchema, crate::app::validation::Validate)]
pub struct AnswersBody {
    /// Answers by item code.
    #[schemars(with = "std::collections::BTreeMap<String, Option<AnswerInput>>")]
    answers: serde_json::Map<String, Value>,
}

/// One answer as sent: a number, a code, or true/false for a yes/no question (null, as
/// the map's value, clears the answer). The schema only: answers are read as JSON and
/// checked item by item, so that every bad one is named.
#[derive(Debug, JsonSchema)]
#[serde(untagged)]
pub enum AnswerInput {
    Number(f64),
    Code(String),
    YesNo(bool),
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
        return Ok(HttpResponse::Conflict().json(error(
            "submitted",
            "already submitted; answers can no longer change",
        )));
    };
    let Some(response) = link.response.clone() else {
        return Ok(HttpResponse::Conflict()
            .json(error("no_consent", "give consent first: POST …/consent")));
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
    Ok(HttpResponse::Ok().json(Saved { saved: n }))
}

#[derive(Debug, Default, Deserialize, JsonSchema, crate::app::validation::Validate)]
pub struct SubmitBody {
    /// Consent given with this request (needed when not given before).
    #[serde(default)]
    consent: bool,
    #[serde(default)]
    language: Option<String>,
    /// Answers to save before submitting, checked like `PUT …/answers`.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, Option<AnswerInput>>>")]
    answers: Option<serde_json::Map<String, Value>>,
}

/// Checks answers from JSON; every bad field is named.
fn check_answers(
    link: &Link,
    answers: &serde_json::Map<String, Value>,
) -> Result<Vec<(String, Option<Stored>)>, Vec<FieldError>> {
    let items = q::all_items(&link.survey, link.role());
    let mut good = Vec::new();
    let mut fields = Vec::new();
    for (code, value) in answers {
        let Some(item) = items.iter().find(|i| i.code() == code) else {
            fields.push(FieldError {
                field: format!("answers.{code}"),
                message: "no such item in this questionnaire".to_owned(),
            });
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
                fields.push(FieldError {
                    field: format!("answers.{code}"),
                    message: "must be a number, a string or null".to_owned(),
                });
                continue;
            }
        };
        match q::parse_answer(&link.survey, *item, &raw, "en") {
            Ok(stored) => good.push((code.clone(), stored)),
            Err(message) => {
                fields.push(FieldError {
                    field: format!("answers.{code}"),
                    message,
                });
            }
        }
    }
    if fields.is_empty() {
        Ok(good)
    } else {
        Err(fields)
    }
}

fn validation_parts(fields: Vec<FieldError>) -> (u16, ErrorBody) {
    (
        422,
        ErrorBody {
            error: ErrorDetail {
                fields,
                ..ErrorDetail::new(
                    "validation",
                    "some answers cannot be used; nothing was saved",
                )
            },
        },
    )
}

fn validation_error(fields: Vec<FieldError>) -> HttpResponse {
    json_response(validation_parts(fields))
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
    let outcome = with_conn(
        &state,
        move |conn| -> crate::web::errors::AppResult<Result<q::Submitted, (u16, ErrorBody)>> {
            let link_state = q::open_link(conn, &keys, &token)?;
            if let Some(r) = refusal_parts(&link_state) {
                return Ok(Err(r));
            }
            let (LinkState::Active(link) | LinkState::Submitted(link)) = link_state else {
                return Err(AppError::NotFound);
            };
            if link.response.is_none() && !body.consent {
                return Ok(Err((
                    409,
                    error(
                        "no_consent",
                        "give consent first: POST …/consent, or send \"consent\": true",
                    ),
                )));
            }
            let good = match &body.answers {
                Some(a) => match check_answers(&link, a) {
                    Ok(g) => g,
                    Err(fields) => return Ok(Err(validation_parts(fields))),
                },
                None => Vec::new(),
            };
            let lang = body
                .language
                .clone()
                .filter(|l| link.survey.languages.contains(l))
                .unwrap_or_else(|| link.language().to_owned());
            if link.response.is_none() && !good.is_empty() {
                return Ok(Ok(q::submit_complete(
                    conn, &group, &keys, &link, &token, &lang, &good,
                )?));
            }
            Ok(Ok(crate::infra::db::write_transaction(
                conn,
                |conn| -> anyhow::Result<q::Submitted> {
                    let response = match &link.response {
                        Some(r) if r.submitted_at.is_some() => {
                            return Ok(q::Submitted::Already(
                                r.submitted_at.unwrap_or(r.updated_at),
                            ));
                        }
                        Some(r) => r.clone(),
                        None => q::consent(conn, &keys, &link, &token, &lang)?,
                    };
                    if !good.is_empty() {
                        q::save(conn, &link.wave, &response.id, &good, Some("review"), &lang)?;
                    }
                    Ok(q::submit(conn, &link, &response.id)?)
                },
            )?))
        },
    )
    .await?;
    let outcome = match outcome {
        Ok(o) => o,
        Err(parts) => return Ok(json_response(parts)),
    };
    let (at, first) = match outcome {
        q::Submitted::Now(at) => (at, true),
        q::Submitted::Already(at) => (at, false),
    };
    Ok(HttpResponse::Ok().json(SubmitOutcome {
        status: SubmitStatus::Submitted,
        submitted_at: at,
        first_time: first,
    }))
}

/// `GET /api/v1/openapi.json`: generated from the types ([`crate::web::openapi`]).
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::web::openapi::document())
}

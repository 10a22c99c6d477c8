//! `/admin/catalogue`: the service catalogue and the questionnaire versions, loaded from
//! the browser with the checks of `samskap import services` and `samskap survey load`.
//! A file with any problem stores nothing, and every problem is listed with its line; a
//! good file redirects to this page with what it did, so reloading repeats nothing.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::catalogue::Overview;
use crate::app::import::{self, ImportErrors};
use crate::infra::i18n::fill;
use crate::infra::models::InstrumentRow;
use crate::web::errors::{AppError, AppResult};
use crate::web::security::{CsrfForm, Ctx};
use crate::web::{AppState, templates, with_conn};

/// What the last upload did, carried by the redirect.
#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    /// `services` or `survey`.
    done: Option<String>,
    created: Option<usize>,
    updated: Option<usize>,
    unchanged: Option<usize>,
    /// The survey version stored (`id version`), and whether it was already there.
    survey: Option<String>,
    already: Option<bool>,
}

/// An upload: the chosen file's text.
#[derive(Debug, Deserialize)]
pub struct UploadForm {
    file: Option<String>,
}

/// The page's message for `query`, in `lang`.
fn done_message(lang: &str, query: &ShowQuery) -> Option<String> {
    let n = |v: Option<usize>| v.unwrap_or(0).to_string();
    match query.done.as_deref()? {
        "services" => Some(fill(
            lang,
            "admin.catalogue.imported",
            &[
                ("created", &n(query.created)),
                ("updated", &n(query.updated)),
                ("unchanged", &n(query.unchanged)),
            ],
        )),
        "survey" => Some(fill(
            lang,
            if query.already == Some(true) {
                "admin.catalogue.survey_unchanged"
            } else {
                "admin.catalogue.survey_stored"
            },
            &[("survey", query.survey.as_deref().unwrap_or_default())],
        )),
        _ => None,
    }
}

/// Links to the preview of each role's form in each language of `survey`, the stored
/// version `id`.
pub fn previews(
    id: &crate::core::domain::InstrumentId,
    survey: &crate::core::instrument::format::SurveyFile,
    lang: &str,
) -> Vec<serde_json::Value> {
    survey
        .roles
        .iter()
        .flat_map(|(code, role)| {
            survey.languages.iter().map(move |l| {
                json!({"href": format!("/admin/surveys/{id}/preview/{code}?lang={l}"),
                       "role": crate::app::questionnaire::text(&role.label, lang), "lang": l})
            })
        })
        .collect()
}

async fn render(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    status: StatusCode,
    message: Option<String>,
    errors: &serde_json::Value,
) -> AppResult<HttpResponse> {
    let (overview, instruments) = with_conn(state, |conn| {
        Ok((Overview::load(conn)?, InstrumentRow::all(conn)?))
    })
    .await?;
    let lang = ctx.lang();
    let mut versions = Vec::new();
    for row in instruments.iter().rev() {
        // A stored version that no longer reads is listed without previews.
        let previews = crate::app::surveys::load_stored(row)
            .map(|s| previews(&row.id, &s, lang))
            .unwrap_or_default();
        versions.push(json!({
            "survey_id": row.survey_id, "version": row.version, "title": row.title,
            "hash": row.content_hash, "loaded": row.loaded_at.format("%Y-%m-%d").to_string(),
            "previews": previews,
        }));
    }
    templates::page_with_status(
        status,
        "admin_catalogue",
        ctx,
        json!({
            "page_title": format!("{} · samskap", fill(lang, "admin.catalogue.title", &[])),
            "totals": overview.totals, "versions": versions, "message": message,
            "errors": errors,
            "columns": import::REQUIRED_COLUMNS.join(","),
            "optional": import::OPTIONAL_COLUMNS.join(", "),
        }),
    )
}

/// `GET /admin/catalogue`
pub async fn show(
    state: web::Data<AppState>,
    ctx: Ctx,
    query: web::Query<ShowQuery>,
) -> AppResult<HttpResponse> {
    let message = done_message(ctx.lang(), &query);
    render(&state, &ctx, StatusCode::OK, message, &json!({})).await
}

/// The uploaded file's text, or the page asking for one.
fn chosen(form: UploadForm) -> Option<String> {
    form.file.filter(|f| !f.trim().is_empty())
}

/// The page again with `lines` as the problems of the `which` upload (`services` or
/// `survey`), nothing stored.
async fn refuse(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    which: &str,
    lines: Vec<String>,
) -> AppResult<HttpResponse> {
    render(
        state,
        ctx,
        StatusCode::BAD_REQUEST,
        None,
        &json!({ which: lines }),
    )
    .await
}

/// `POST /admin/catalogue/services` (multipart, `file`): the service catalogue CSV.
pub async fn import_services(
    state: web::Data<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<UploadForm>,
) -> AppResult<HttpResponse> {
    let lang = ctx.lang();
    let Some(data) = chosen(form) else {
        let none = fill(lang, "admin.catalogue.choose_file", &[]);
        return refuse(&state, &ctx, "services", vec![none]).await;
    };
    let file = fill(lang, "admin.wave.file", &[]);
    let records = match import::parse_services_csv(data.as_bytes()) {
        Ok(r) => r,
        Err(errors) => {
            let lines = ImportErrors { file, errors }.to_string();
            return refuse(
                &state,
                &ctx,
                "services",
                lines.lines().map(str::to_owned).collect(),
            )
            .await;
        }
    };
    let actor = ctx.actor();
    let applied = with_conn(&state, move |conn| {
        match import::apply(conn, &actor, "upload", &records, &|_, _| {}) {
            Ok(summary) => Ok(Ok(summary)),
            Err(import::ApplyError::Conflicts(errors)) => Ok(Err(ImportErrors { file, errors }
                .to_string()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>())),
            Err(import::ApplyError::Database(e)) => Err(AppError::from(e)),
        }
    })
    .await?;
    match applied {
        Ok(s) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!(
                    "/admin/catalogue?done=services&created={}&updated={}&unchanged={}",
                    s.services_created, s.services_updated, s.services_unchanged
                ),
            ))
            .finish()),
        Err(lines) => refuse(&state, &ctx, "services", lines).await,
    }
}

/// `POST /admin/catalogue/surveys` (multipart, `file`): a survey file (TOML). A version
/// already stored with other content is refused: stored versions never change.
pub async fn load_survey(
    state: web::Data<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<UploadForm>,
) -> AppResult<HttpResponse> {
    let lang = ctx.lang();
    let Some(text) = chosen(form) else {
        let none = fill(lang, "admin.catalogue.choose_file", &[]);
        return refuse(&state, &ctx, "survey", vec![none]).await;
    };
    let file = fill(lang, "admin.wave.file", &[]);
    let instrument = match crate::core::instrument::parse(&file, &text) {
        Ok(i) => i,
        Err(problems) => {
            let lines = problems.iter().map(ToString::to_string).collect();
            return refuse(&state, &ctx, "survey", lines).await;
        }
    };
    let actor = ctx.actor();
    let name = format!("{} {}", instrument.id(), instrument.version());
    let stored = with_conn(&state, move |conn| {
        let before =
            InstrumentRow::find_version(conn, instrument.id(), instrument.version())?.is_some();
        Ok(
            crate::app::surveys::load(conn, &actor, std::slice::from_ref(&instrument))
                .map(|_| before)
                .map_err(|e| format!("{e:#}")),
        )
    })
    .await?;
    match stored {
        Ok(already) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!(
                    "/admin/catalogue?{}",
                    serde_urlencoded::to_string([
                        ("done", "survey"),
                        ("survey", &name),
                        ("already", if already { "true" } else { "false" }),
                    ])
                    .unwrap_or_default()
                ),
            ))
            .finish()),
        Err(line) => refuse(&state, &ctx, "survey", vec![line]).await,
    }
}

//! Running waves from the browser: list, create, status, open, close, invite (paste the
//! respondent CSV), remind.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::app::import::ImportErrors;
use crate::app::validation::{Problems, Validate};
use crate::app::waves::{self, WaveSpec, respondents};
use crate::core::domain::{Anonymity, InstrumentId, RespondentRole, WaveId};
use crate::infra::i18n::fill;
use crate::infra::models::{InstrumentRow, Wave};
use crate::web::errors::{AppError, AppResult};
use crate::web::security::{CsrfForm, Ctx};
use crate::web::{AppState, templates, with_conn};

/// `section.code` in `lang`: the label of a stored code (status, mode, role).
fn label(lang: &str, section: &str, code: &str) -> String {
    fill(lang, &format!("{section}.{code}"), &[])
}

/// What to tell the admin: the field and problem for a refused request, else the cause.
fn message(e: &anyhow::Error) -> String {
    e.downcast_ref::<waves::Invalid>()
        .map_or_else(|| format!("{e:#}"), ToString::to_string)
}

/// The problems to show for a refused request, in `lang`.
fn messages(lang: &str, e: &anyhow::Error) -> Vec<String> {
    e.downcast_ref::<Problems>()
        .map_or_else(|| vec![message(e)], |p| p.messages(lang))
}

/// The problems of a refused form: each message, linked to its field when it has one
/// (`errors`), and each field's message to show beside it (`invalid`).
struct FormErrors {
    list: Vec<serde_json::Value>,
    by_field: serde_json::Map<String, serde_json::Value>,
}

impl FormErrors {
    fn none() -> Self {
        Self {
            list: Vec::new(),
            by_field: serde_json::Map::new(),
        }
    }

    fn add(&mut self, field: Option<&str>, text: String) {
        let on_form = field.filter(|f| FORM_FIELDS.iter().any(|(name, _)| name == f));
        if let Some(f) = on_form {
            self.by_field
                .entry(f.to_owned())
                .or_insert_with(|| json!(text.clone()));
        }
        self.list
            .push(json!({"text": text, "href": on_form.map(|f| format!("#{f}"))}));
    }

    fn of_problems(lang: &str, problems: &Problems) -> Self {
        let mut out = Self::none();
        for p in &problems.0 {
            out.add(Some(&p.field), p.message(lang));
        }
        out
    }

    /// A refusal from the wave rules, in `lang`.
    fn of_error(lang: &str, e: &anyhow::Error) -> Self {
        if let Some(p) = e.downcast_ref::<Problems>() {
            return Self::of_problems(lang, p);
        }
        let mut out = Self::none();
        match e.downcast_ref::<waves::Invalid>() {
            Some(invalid) => out.add(Some(invalid.field), invalid.to_string()),
            None => out.add(None, format!("{e:#}")),
        }
        out
    }
}

/// The new-wave form as typed, shown again with its problems.
fn typed(form: &CreateForm) -> serde_json::Value {
    json!({"name": form.name, "instrument": form.instrument, "anonymity": form.anonymity,
           "closes": form.closes, "reminders": form.reminders,
           "reminder_days": form.reminder_days, "retention_days": form.retention_days})
}

async fn render_list(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    status: StatusCode,
    errors: &FormErrors,
    form: Option<serde_json::Value>,
) -> AppResult<HttpResponse> {
    let (list, instruments) = with_conn(state, |conn| {
        Ok((Wave::all(conn)?, InstrumentRow::all(conn)?))
    })
    .await?;
    let lang = ctx.lang();
    let rows: Vec<_> = list
        .iter()
        .map(|w| json!({"id": w.id, "name": w.name, "status": label(lang, "wave_status", w.status.as_str()),
                        "anonymity": label(lang, "anonymity", w.anonymity.as_str()),
                        "created": w.created_at.format("%Y-%m-%d").to_string()}))
        .collect();
    let form = form.unwrap_or_else(|| {
        json!({"name": "", "instrument": "", "anonymity": "linked", "closes": "",
               "reminders": "2", "reminder_days": "7", "retention_days": "90"})
    });
    let instruments: Vec<_> = instruments
        .iter()
        .rev()
        .map(|i| {
            json!({"id": i.id, "label": format!("{} {}", i.survey_id, i.version),
                        "selected": form["instrument"] == i.id.as_str()})
        })
        .collect();
    templates::page_with_status(
        status,
        "admin_waves",
        ctx,
        json!({"page_title": format!("{} · samskap", fill(lang, "admin.waves.title", &[])),
               "waves": rows, "instruments": instruments, "errors": errors.list,
               "invalid": errors.by_field,
               "anonymous": form["anonymity"] == "anonymous", "form": form}),
    )
}

/// `GET /admin/waves`
pub async fn list(state: web::Data<AppState>, ctx: Ctx) -> AppResult<HttpResponse> {
    render_list(&state, &ctx, StatusCode::OK, &FormErrors::none(), None).await
}

/// The new-wave form: what can be checked before it becomes a [`WaveSpec`] (numbers and
/// dates as typed); the spec's own rules are checked with it, so every problem shows at once.
#[derive(Debug, Deserialize, Validate)]
pub struct CreateForm {
    name: String,
    instrument: String,
    #[validate(custom(function = "anonymity"))]
    anonymity: String,
    #[serde(default)]
    #[validate(custom(function = "crate::app::validation::date"))]
    closes: String,
    #[validate(custom(function = "crate::app::validation::whole_number"))]
    reminders: String,
    #[validate(custom(function = "crate::app::validation::whole_number"))]
    reminder_days: String,
    #[validate(custom(function = "crate::app::validation::whole_number"))]
    retention_days: String,
}

fn anonymity(value: &str) -> Result<(), crate::app::validation::ValidationError> {
    crate::app::validation::choice(value, Anonymity::CODES)
}

/// The form's fields in the page's order, and the [`WaveSpec`] field each becomes.
const FORM_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("instrument", "instrument"),
    ("anonymity", "anonymity"),
    ("closes", "closes_at"),
    ("reminders", "reminder_max"),
    ("reminder_days", "reminder_interval_days"),
    ("retention_days", "email_retention_days"),
];

impl CreateForm {
    /// The spec, or every problem of the form and of the spec it would be.
    fn parse(&self) -> Result<WaveSpec, Problems> {
        let fields: Vec<&str> = FORM_FIELDS.iter().map(|(f, _)| *f).collect();
        let mut problems = crate::app::validation::check(self, &fields)
            .err()
            .map_or_else(Vec::new, |p| p.0);
        let closes_at = crate::infra::time::closing_date(&self.closes);
        // A number that is not one was reported above; 0 stands in so that the spec's
        // checks of the other fields still run.
        let number = |v: &str| v.trim().parse().unwrap_or(0);
        let spec = WaveSpec {
            name: self.name.clone(),
            instrument: InstrumentId::from_string(self.instrument.clone()),
            anonymity: Anonymity::parse(&self.anonymity).unwrap_or(Anonymity::Linked),
            opens_at: None,
            closes_at,
            reminder_max: number(&self.reminders),
            reminder_interval_days: number(&self.reminder_days),
            email_retention_days: number(&self.retention_days),
            service_types: Vec::new(),
        };
        if let Err(found) = crate::app::validation::check(&spec, waves::SPEC_FIELDS) {
            for mut p in found.0 {
                // Named as on the form, once per field.
                if let Some((form_field, _)) = FORM_FIELDS
                    .iter()
                    .find(|(_, spec_field)| *spec_field == p.field)
                {
                    (*form_field).clone_into(&mut p.field);
                }
                if !problems.iter().any(|q| q.field == p.field) {
                    problems.push(p);
                }
            }
        }
        problems.sort_by_key(|p| fields.iter().position(|f| *f == p.field));
        if problems.is_empty() {
            Ok(spec)
        } else {
            Err(Problems(problems))
        }
    }
}

/// `POST /admin/waves`
pub async fn create(
    state: web::Data<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<CreateForm>,
) -> AppResult<HttpResponse> {
    let lang = ctx.lang();
    let spec = match form.parse() {
        Ok(s) => s,
        Err(problems) => {
            return render_list(
                &state,
                &ctx,
                StatusCode::BAD_REQUEST,
                &FormErrors::of_problems(lang, &problems),
                Some(typed(&form)),
            )
            .await;
        }
    };
    let actor = ctx.actor();
    let created = with_conn(&state, move |conn| {
        Ok(waves::create(conn, &spec, &actor).map_err(|e| FormErrors::of_error(lang, &e)))
    })
    .await?;
    match created {
        Ok(w) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/admin/waves/{}", w.id)))
            .finish()),
        Err(e) => {
            render_list(
                &state,
                &ctx,
                StatusCode::BAD_REQUEST,
                &e,
                Some(typed(&form)),
            )
            .await
        }
    }
}

async fn render_wave(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    id: WaveId,
    status: StatusCode,
    extra: serde_json::Value,
) -> AppResult<HttpResponse> {
    let (report, per_service, undelivered, (next_due, reopen_refusal, survey)) =
        with_conn(state, move |conn| match Wave::find(conn, &id) {
            Ok(wave) => {
                let survey = waves::instrument_of(conn, &wave)?;
                Ok((
                    waves::status(conn, &id)?,
                    service_rates(conn, &id, &survey.roles())?,
                    crate::infra::models::OutboxMessage::failed_for_wave(conn, &id)?,
                    (
                        waves::next_due(conn, &id)?,
                        waves::reopen_refusal(conn, &wave)?,
                        survey,
                    ),
                ))
            }
            Err(diesel::result::Error::NotFound) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        })
        .await?;
    let lang = ctx.lang();
    let wave = &report.wave;
    let previews = super::catalogue::previews(&wave.instrument_id, &survey, lang);
    let automatic = if wave.reminder_max == 0 {
        fill(lang, "admin.wave.auto_none", &[])
    } else if wave.reminder_interval_days == 0 {
        fill(lang, "admin.wave.auto_manual", &[])
    } else if wave.reminders_paused {
        fill(lang, "admin.wave.auto_paused", &[])
    } else {
        match next_due {
            Some(t) => fill(
                lang,
                "admin.wave.auto_next",
                &[("date", &crate::infra::time::shown(t))],
            ),
            None => fill(lang, "admin.wave.auto_on", &[]),
        }
    };
    let schedule = json!({
        "closes": wave.closes_at.map(|c| crate::infra::time::local_date(c).to_string()).unwrap_or_default(),
        "reminders": wave.reminder_max.to_string(), "reminder_days": wave.reminder_interval_days.to_string(),
    });
    let mut data = json!({
        "page_title": format!("{} · samskap", report.wave.name),
        "wave": {"id": report.wave.id, "name": report.wave.name,
                 "status": label(lang, "wave_status", report.wave.status.as_str()),
                 "anonymity": label(lang, "anonymity", report.wave.anonymity.as_str()),
                 "closes": report.wave.closes_at.map(crate::infra::time::shown),
                 "reminders": report.wave.reminder_max, "reminder_days": report.wave.reminder_interval_days,
                 "is_draft": report.wave.status == crate::core::domain::WaveStatus::Draft, "is_open": report.wave.status == crate::core::domain::WaveStatus::Open},
        "services": report.services, "invitations": report.invitations,
        "by_status": report.by_status.iter().map(|(s, n)| json!({"status": label(lang, "invitation_status", s.as_str()), "count": n})).collect::<Vec<_>>(),
        "submitted": report.submitted_by_role.iter().map(|(r, n)| json!({"role": survey.role_label(r.as_str(), lang), "count": n})).collect::<Vec<_>>(),
        "rate": report.response_rate.map(|r| format!("{:.0} %", r * 100.0)),
        "outbox": report.outbox, "errors": [], "message": null, "csv": "",
        "roles": survey.roles().iter().map(|r| r.as_str().to_owned()).collect::<Vec<_>>(),
        "rate_roles": survey.roles().iter().map(|r| {
            let name = survey.role_label(r.as_str(), lang);
            json!({"counts": fill(lang, "admin.wave.role_counts", &[("role", &name)]), "rate": name})
        }).collect::<Vec<_>>(),
        "per_service": per_service,
        "is_opened": report.wave.status != crate::core::domain::WaveStatus::Draft,
        "previews": previews, "automatic": automatic, "schedule": schedule,
        "reminders_paused": wave.reminders_paused,
        "can_pause": wave.reminder_max > 0 && wave.reminder_interval_days > 0,
        "is_closed": wave.status == crate::core::domain::WaveStatus::Closed,
        "reopen_refusal": reopen_refusal, "reopen_closes": "",
        "undelivered": undelivered.iter().map(|m| json!({
            "to": m.to_address,
            "kind": label(lang, "mail_kind", &m.kind),
            "error": m.last_error,
        })).collect::<Vec<_>>(),
    });
    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    templates::page_with_status(status, "admin_wave", ctx, data)
}

/// The wave page after an action. Success redirects to the wave's page with what was
/// done (`done`, a count `n`), so reloading it repeats nothing; a problem is shown on the
/// spot with what was typed.
async fn render_outcome(
    state: &web::Data<AppState>,
    ctx: &Ctx,
    id: WaveId,
    outcome: Result<usize, String>,
    done: Done,
) -> AppResult<HttpResponse> {
    match outcome {
        Ok(n) => Ok(done_redirect(&id, done, n)),
        Err(e) => {
            render_wave(
                state,
                ctx,
                id,
                StatusCode::BAD_REQUEST,
                json!({"errors": [e]}),
            )
            .await
        }
    }
}

/// What an action did, for the message on the page it redirects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Done {
    Opened,
    Closed,
    Invited,
    Reminded,
    Reports,
    Scheduled,
    Reopened,
    Paused,
    Resumed,
}

fn done_redirect(id: &WaveId, done: Done, n: usize) -> HttpResponse {
    let what = match done {
        Done::Opened => "opened",
        Done::Closed => "closed",
        Done::Invited => "invited",
        Done::Reminded => "reminded",
        Done::Reports => "reports",
        Done::Scheduled => "scheduled",
        Done::Reopened => "reopened",
        Done::Paused => "paused",
        Done::Resumed => "resumed",
    };
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/admin/waves/{id}?done={what}&n={n}"),
        ))
        .finish()
}

/// The message for `done`, in `lang`: for no reminder queued, why, and when the next is
/// due.
fn done_message(
    conn: &mut crate::infra::db::DbConn,
    id: &WaveId,
    done: Done,
    n: usize,
    lang: &str,
) -> anyhow::Result<String> {
    let count = n.to_string();
    Ok(match done {
        Done::Opened => fill(lang, "admin.wave.opened", &[]),
        Done::Closed => fill(lang, "admin.wave.closed", &[]),
        Done::Invited => fill(lang, "admin.wave.invitations_queued", &[("n", &count)]),
        Done::Reports => fill(lang, "admin.wave.reports_queued", &[("n", &count)]),
        Done::Scheduled => fill(lang, "admin.wave.scheduled", &[]),
        Done::Reopened => fill(lang, "admin.wave.reopened", &[]),
        Done::Paused => fill(lang, "admin.wave.paused", &[]),
        Done::Resumed => fill(lang, "admin.wave.resumed", &[]),
        Done::Reminded if n > 0 => fill(lang, "admin.wave.reminders_queued", &[("n", &count)]),
        Done::Reminded => {
            let wave = Wave::find(conn, id)?;
            match waves::next_due(conn, id)? {
                Some(when) => fill(
                    lang,
                    "admin.wave.reminders_none_until",
                    &[
                        ("date", &crate::infra::time::shown(when)),
                        ("days", &wave.reminder_interval_days.to_string()),
                    ],
                ),
                None => fill(
                    lang,
                    "admin.wave.reminders_none_left",
                    &[("max", &wave.reminder_max.to_string())],
                ),
            }
        }
    })
}

/// Response rates per service and role, lowest overall rate first (where reminders or a
/// phone call help most). Counts of people only.
/// Per service, answered and invited per role of the wave's instrument (`roles`) and in
/// total, lowest total rate first.
fn service_rates(
    conn: &mut crate::infra::db::DbConn,
    id: &WaveId,
    roles: &[RespondentRole],
) -> anyhow::Result<Vec<serde_json::Value>> {
    let counts = crate::app::reports::service::participation_by_code(conn, id)?;
    let rate = |invited: i64, submitted: i64| {
        crate::app::analytics::stats::response_rate(
            u64::try_from(submitted).unwrap_or(0),
            u64::try_from(invited).unwrap_or(0),
        )
    };
    let pct = |r: Option<f64>| r.map_or_else(|| "–".to_owned(), |r| format!("{:.0} %", r * 100.0));
    let mut rows: Vec<(f64, serde_json::Value)> =
        crate::infra::models::WaveService::for_wave(conn, id)?
            .into_iter()
            .map(|ws| {
                let (mut all_invited, mut all_submitted) = (0, 0);
                let per_role: Vec<serde_json::Value> = roles
                    .iter()
                    .map(|role| {
                        let (invited, submitted) = counts
                            .get(&(ws.service_code.clone(), role.clone()))
                            .copied()
                            .unwrap_or((0, 0));
                        all_invited += invited;
                        all_submitted += submitted;
                        json!({"invited": invited, "submitted": submitted, "rate": pct(rate(invited, submitted))})
                    })
                    .collect();
                let total = rate(all_invited, all_submitted);
                (
                    total.unwrap_or(-1.0),
                    json!({
                        "code": ws.service_code, "name": ws.service_name,
                        "roles": per_role,
                        "rate": pct(total),
                    }),
                )
            })
            .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(rows.into_iter().map(|(_, v)| v).collect())
}

#[derive(Debug, Deserialize)]
pub struct MailReportsForm {
    pub lang: Option<String>,
}

/// `POST /admin/waves/{id}/mail-reports`: queue each manager an e-mail with a link to
/// their service's benchmark report.
pub async fn mail_reports(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    form: CsrfForm<MailReportsForm>,
) -> AppResult<HttpResponse> {
    let id = WaveId::from_string(path.into_inner());
    let lang = form
        .0
        .lang
        .as_deref()
        .and_then(crate::infra::i18n::supported)
        .unwrap_or("nb");
    let publications = state.publications.clone();
    let base = state.base_url.clone();
    let actor = ctx.actor();
    let target = id.clone();
    let page_lang = ctx.lang();
    let queued = with_conn(&state, move |conn| {
        Ok(crate::app::reports::mail_reports(
            conn,
            &target,
            &*publications,
            (&base, lang),
            None,
            &actor,
        )?
        .map_err(|refusal| {
            let key = match refusal {
                crate::app::reports::MailRefusal::Draft => "admin.wave.reports_need_open",
                crate::app::reports::MailRefusal::Pending => "admin.wave.reports_pending",
            };
            fill(page_lang, key, &[])
        }))
    })
    .await?;
    render_outcome(&state, &ctx, id, queued, Done::Reports).await
}

#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    /// What the action before the redirect did, and its count.
    pub done: Option<Done>,
    pub n: Option<usize>,
}

/// `GET /admin/waves/{id}[?done&n]`
pub async fn show(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> AppResult<HttpResponse> {
    let id = WaveId::from_string(path.into_inner());
    let extra = match query.done {
        Some(done) => {
            let (target, n, lang) = (id.clone(), query.n.unwrap_or(0), ctx.lang());
            let message = with_conn(&state, move |conn| {
                match done_message(conn, &target, done, n, lang) {
                    Ok(m) => Ok(m),
                    Err(e) => match e.downcast_ref::<diesel::result::Error>() {
                        Some(diesel::result::Error::NotFound) => Err(AppError::NotFound),
                        _ => Err(e.into()),
                    },
                }
            })
            .await?;
            json!({"message": message})
        }
        None => json!({}),
    };
    render_wave(&state, &ctx, id, StatusCode::OK, extra).await
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

/// Opens or closes the wave once the admin has ticked that they mean it (`confirmed`);
/// otherwise the page says what the step does and asks for the tick.
async fn transition(
    state: web::Data<AppState>,
    ctx: Ctx,
    id: WaveId,
    open: bool,
    confirmed: bool,
) -> AppResult<HttpResponse> {
    if !confirmed {
        let key = if open {
            "admin.wave.open_unconfirmed"
        } else {
            "admin.wave.close_unconfirmed"
        };
        return render_wave(
            &state,
            &ctx,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"errors": [fill(ctx.lang(), key, &[])]}),
        )
        .await;
    }
    let actor = ctx.actor();
    let target = id.clone();
    let result = with_conn(&state, move |conn| {
        let r = if open {
            waves::open(conn, &target, &actor)
        } else {
            waves::close(conn, &target, &actor)
        };
        Ok(r.map(drop).map_err(|e| message(&e)))
    })
    .await?;
    let done = if open { Done::Opened } else { Done::Closed };
    render_outcome(&state, &ctx, id, result.map(|()| 0), done).await
}

/// The tick that confirms opening or closing a wave.
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    pub confirm: Option<String>,
}

/// `POST /admin/waves/{id}/open` (with `confirm=yes`)
pub async fn open(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(f): CsrfForm<ConfirmForm>,
) -> AppResult<HttpResponse> {
    let confirmed = f.confirm.as_deref() == Some("yes");
    transition(
        state,
        ctx,
        WaveId::from_string(path.into_inner()),
        true,
        confirmed,
    )
    .await
}

/// `POST /admin/waves/{id}/close` (with `confirm=yes`)
pub async fn close(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(f): CsrfForm<ConfirmForm>,
) -> AppResult<HttpResponse> {
    let confirmed = f.confirm.as_deref() == Some("yes");
    transition(
        state,
        ctx,
        WaveId::from_string(path.into_inner()),
        false,
        confirmed,
    )
    .await
}

/// The respondent list: an uploaded CSV file (`file`), else the pasted text (`csv`).
#[derive(Debug, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csv: String,
    file: Option<String>,
}

/// `POST /admin/waves/{id}/invite` (multipart or urlencoded): the uploaded or pasted
/// respondent list; every bad row is listed by line and nothing is written.
pub async fn invite(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<HttpResponse> {
    let id = WaveId::from_string(path.into_inner());
    let (keys, actor, base) = (state.keys.clone(), ctx.actor(), state.base_url.clone());
    let target = id.clone();
    let lang = ctx.lang();
    let (csv, file_name) = match form.file.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(file) => (file.to_owned(), fill(ctx.lang(), "admin.wave.file", &[])),
        None => (form.csv.clone(), "csv".to_owned()),
    };
    if csv.trim().is_empty() {
        let errors = [fill(ctx.lang(), "admin.wave.csv_none", &[])];
        return render_wave(
            &state,
            &ctx,
            id,
            StatusCode::BAD_REQUEST,
            json!({"errors": errors}),
        )
        .await;
    }
    let result = with_conn(&state, move |conn| {
        let wave = Wave::find(conn, &target)?;
        match respondents::parse(conn, &keys, &wave, csv.as_bytes(), lang)? {
            Err(rows) => Ok(Err(ImportErrors {
                file: file_name,
                errors: rows,
            }
            .to_string()
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>())),
            Ok(list) => {
                match respondents::invite(conn, &keys, &target, &list, &base, &actor, &|_, _| {}) {
                    Ok(n) => Ok(Ok(n)),
                    Err(e) => Ok(Err(vec![message(&e)])),
                }
            }
        }
    })
    .await?;
    match result {
        Ok(n) => Ok(done_redirect(&id, Done::Invited, n)),
        Err(errors) => {
            render_wave(
                &state,
                &ctx,
                id,
                StatusCode::BAD_REQUEST,
                json!({"errors": errors, "csv": form.csv}),
            )
            .await
        }
    }
}

/// `POST /admin/waves/{id}/remind`
pub async fn remind(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    _f: CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let id = WaveId::from_string(path.into_inner());
    let (actor, base) = (ctx.actor(), state.base_url.clone());
    let target = id.clone();
    let result = with_conn(&state, move |conn| {
        Ok(waves::remind(conn, &target, &base, &actor).map_err(|e| message(&e)))
    })
    .await?;
    render_outcome(&state, &ctx, id, result, Done::Reminded).await
}

/// Invitations shown per page of the list.
const INVITATIONS_PER_PAGE: i64 = 200;

#[derive(Debug, Deserialize)]
pub struct InvitationsQuery {
    /// An invitation status code; empty or absent for all.
    pub status: Option<String>,
    /// Part of an address or a service code.
    pub q: Option<String>,
    /// 1-based page.
    pub page: Option<i64>,
}

/// `GET /admin/waves/{id}/invitations`: who was invited, by service and role, with each
/// link's state (sent, started, submitted, withdrawn, not delivered), when it went out and
/// how many reminders followed. Never any answer.
pub async fn invitations(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    query: web::Query<InvitationsQuery>,
) -> AppResult<HttpResponse> {
    use crate::core::domain::InvitationStatus;
    use crate::infra::models::Invitation;
    let id = WaveId::from_string(path.into_inner());
    let lang = ctx.lang();
    let q = query.into_inner();
    let status_code = q.status.clone().unwrap_or_default();
    let status = match status_code.trim() {
        "" => None,
        code => Some(
            InvitationStatus::parse(code).map_err(|_| AppError::BadRequest {
                field: Some("status".into()),
                message: format!(
                    "`{code}` is not an invitation status; use one of {}",
                    InvitationStatus::CODES.join(", ")
                ),
            })?,
        ),
    };
    let page = q.page.unwrap_or(1).max(1);
    let search = q.q.clone().unwrap_or_default();
    let target = id.clone();
    let (wave, survey, (rows, total)) = with_conn(&state, move |conn| {
        let wave = match Wave::find(conn, &target) {
            Ok(w) => w,
            Err(diesel::result::Error::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let survey = waves::instrument_of(conn, &wave)?;
        let listing = Invitation::listing(
            conn,
            &target,
            status,
            &search,
            INVITATIONS_PER_PAGE,
            (page - 1) * INVITATIONS_PER_PAGE,
        )?;
        Ok((wave, survey, listing))
    })
    .await?;
    let time = |t: Option<chrono::NaiveDateTime>| t.map(crate::infra::time::shown);
    let list: Vec<_> = rows
        .iter()
        .map(|(inv, code, name)| {
            json!({
                "service_code": code, "service_name": name,
                "role": survey.role_name(inv.role.as_str(), lang),
                "email": inv.email, "language": inv.language,
                "status": label(lang, "invitation_status", inv.status.as_str()),
                "status_code": inv.status.as_str(),
                "sent": time(inv.sent_at), "reminders": inv.reminder_count,
                "last_reminded": time(inv.last_reminded_at),
            })
        })
        .collect();
    let first = (page - 1) * INVITATIONS_PER_PAGE;
    let shown_to = first + i64::try_from(list.len()).unwrap_or(0);
    let link = |p: i64| {
        format!(
            "/admin/waves/{id}/invitations?{}",
            serde_urlencoded::to_string([
                ("status", status_code.as_str()),
                ("q", q.q.as_deref().unwrap_or_default()),
                ("page", &p.to_string()),
            ])
            .unwrap_or_default()
        )
    };
    let statuses: Vec<_> = InvitationStatus::ALL
        .iter()
        .map(|s| {
            json!({"code": s.as_str(), "label": label(lang, "invitation_status", s.as_str()),
                        "selected": status == Some(*s)})
        })
        .collect();
    templates::page(
        "admin_invitations",
        &ctx,
        json!({
            "page_title": format!("{} · {}", fill(lang, "admin.invitations.title", &[]), wave.name),
            "wave": {"id": wave.id, "name": wave.name},
            "rows": list, "statuses": statuses,
            "filter": {"q": q.q.as_deref().unwrap_or_default()},
            "summary": fill(lang, "admin.invitations.showing", &[
                ("from", &(if total == 0 { 0 } else { first + 1 }).to_string()),
                ("to", &shown_to.to_string()), ("total", &total.to_string())]),
            "previous": (page > 1).then(|| link(page - 1)),
            "next": (shown_to < total).then(|| link(page + 1)),
        }),
    )
}

/// A closing date as typed (`YYYY-MM-DD`, or empty for none): the end of that local day.
fn closing(typed: &str) -> Option<chrono::NaiveDateTime> {
    crate::infra::time::closing_date(typed)
}

/// The schedule form of an open or draft wave.
#[derive(Debug, Deserialize, Validate)]
pub struct ScheduleForm {
    #[serde(default)]
    #[validate(custom(function = "crate::app::validation::date"))]
    closes: String,
    #[validate(custom(function = "crate::app::validation::whole_number"))]
    reminders: String,
    #[validate(custom(function = "crate::app::validation::whole_number"))]
    reminder_days: String,
}

/// `POST /admin/waves/{id}/schedule`: extend (or shorten) a draft or open wave and
/// change its reminders.
pub async fn schedule(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<ScheduleForm>,
) -> AppResult<HttpResponse> {
    let id = WaveId::from_string(path.into_inner());
    let lang = ctx.lang();
    let typed = json!({"closes": form.closes, "reminders": form.reminders, "reminder_days": form.reminder_days});
    if let Err(p) = crate::app::validation::check(&form, &["closes", "reminders", "reminder_days"])
    {
        return render_wave(
            &state,
            &ctx,
            id,
            StatusCode::BAD_REQUEST,
            json!({"errors": p.messages(lang), "schedule": typed}),
        )
        .await;
    }
    let spec = waves::Schedule {
        closes_at: closing(&form.closes),
        reminder_max: form.reminders.trim().parse().unwrap_or(0),
        reminder_interval_days: form.reminder_days.trim().parse().unwrap_or(0),
    };
    let (actor, target) = (ctx.actor(), id.clone());
    let result = with_conn(&state, move |conn| {
        Ok(waves::reschedule(conn, &target, &spec, &actor)
            .map(drop)
            .map_err(|e| messages(lang, &e)))
    })
    .await?;
    match result {
        Ok(()) => Ok(done_redirect(&id, Done::Scheduled, 0)),
        Err(errors) => {
            render_wave(
                &state,
                &ctx,
                id,
                StatusCode::BAD_REQUEST,
                json!({"errors": errors, "schedule": typed}),
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ReopenForm {
    pub confirm: Option<String>,
    #[serde(default)]
    pub closes: String,
}

/// `POST /admin/waves/{id}/reopen` (with `confirm=yes`): a closed wave whose results are
/// not final opens again, until the new closing date if one is given.
pub async fn reopen(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<ReopenForm>,
) -> AppResult<HttpResponse> {
    let id = WaveId::from_string(path.into_inner());
    let lang = ctx.lang();
    let bad_date = !form.closes.trim().is_empty() && closing(&form.closes).is_none();
    let refusal = if form.confirm.as_deref() != Some("yes") {
        Some(fill(lang, "admin.wave.reopen_unconfirmed", &[]))
    } else if bad_date {
        Some(fill(
            lang,
            "admin.wave.bad_date",
            &[("value", form.closes.trim())],
        ))
    } else {
        None
    };
    if let Some(error) = refusal {
        return render_wave(
            &state,
            &ctx,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"errors": [error], "reopen_closes": form.closes}),
        )
        .await;
    }
    let (actor, target, closes) = (ctx.actor(), id.clone(), closing(&form.closes));
    let result = with_conn(&state, move |conn| {
        Ok(waves::reopen(conn, &target, closes, &actor)
            .map(|_| 0)
            .map_err(|e| message(&e)))
    })
    .await?;
    render_outcome(&state, &ctx, id, result, Done::Reopened).await
}

#[derive(Debug, Deserialize)]
pub struct PauseForm {
    /// `yes` pauses the automatic reminders, `no` resumes them.
    pub paused: String,
}

/// `POST /admin/waves/{id}/reminders`: pause or resume the automatic reminders.
pub async fn pause_reminders(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<PauseForm>,
) -> AppResult<HttpResponse> {
    let id = WaveId::from_string(path.into_inner());
    let paused = match form.paused.as_str() {
        "yes" => true,
        "no" => false,
        other => {
            return Err(AppError::BadRequest {
                field: Some("paused".into()),
                message: format!("{other:?} is neither yes nor no"),
            });
        }
    };
    let (actor, target) = (ctx.actor(), id.clone());
    with_conn(&state, move |conn| {
        match Wave::find(conn, &target) {
            Ok(_) => {}
            Err(diesel::result::Error::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        }
        Ok(waves::pause_reminders(conn, &target, paused, &actor)?)
    })
    .await?;
    Ok(done_redirect(
        &id,
        if paused { Done::Paused } else { Done::Resumed },
        0,
    ))
}

//! `GET /admin/audit`: the audit log as readable rows (who, what, about which wave or
//! user by name, when), filtered by kind of action, actor, wave and date.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use crate::app::audit::{self, Filter};
use crate::infra::i18n::{fill, text};
use crate::infra::models::{User, Wave};
use crate::web::errors::{AppError, AppResult};
use crate::web::security::Ctx;
use crate::web::{AppState, templates, with_conn};

/// Entries shown at most.
const LIMIT: i64 = 500;

/// The kinds of action the filter offers: an action prefix each (`login.` is every
/// sign-in event).
const KINDS: &[&str] = &[
    "login.",
    "user.",
    "scope.",
    "token.",
    "wave.",
    "catalogue.",
    "survey.",
    "export.",
    "download.",
    "response.",
    "access.",
];

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    /// An action (`wave.open`) or a kind of action (`wave.`).
    action: Option<String>,
    /// A wave's id.
    wave: Option<String>,
    /// First day, `YYYY-MM-DD`.
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (inclusive).
    to: Option<String>,
}

/// A day from the filter `field` (`from` or `to`); a bad one is refused in `lang`.
fn parse_day(lang: &str, field: &str, value: Option<&str>) -> AppResult<Option<NaiveDate>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::BadRequest {
                field: Some(fill(lang, &format!("admin.audit.field_{field}"), &[])),
                message: fill(lang, "admin.audit.bad_date", &[("value", v)]),
            }),
    }
}

/// What an action did, in `lang`: `wave.open` is "Opened a wave"; an action without a
/// text shows as its code.
fn action_text(lang: &str, action: &str) -> String {
    text(lang, &format!("audit_action.{}", action.replace('.', "_")))
        .map_or_else(|| action.to_owned(), str::to_owned)
}

/// The details' fields as `name: value` lines (one level; nested values as JSON).
fn detail_lines(details: Option<&str>) -> Vec<String> {
    let Some(value) = details.and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
    else {
        return details.map(|d| vec![d.to_owned()]).unwrap_or_default();
    };
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let shown = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                format!("{}: {shown}", k.replace('_', " "))
            })
            .collect(),
        other => vec![other.to_string()],
    }
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: Ctx,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let lang = ctx.lang();
    let from = parse_day(lang, "from", q.from.as_deref())?;
    let to = parse_day(lang, "to", q.to.as_deref())?;
    let filter = Filter {
        actor: q.actor.clone(),
        action: q.action.clone(),
        from: from.and_then(|d| d.and_hms_opt(0, 0, 0)),
        until: to
            .and_then(|d| d.succ_opt())
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
        wave: q.wave.clone(),
    };
    let (entries, waves, users) = with_conn(&state, move |conn| {
        Ok((
            audit::search(conn, &filter, LIMIT)?,
            Wave::all(conn)?,
            User::all(conn)?,
        ))
    })
    .await?;
    let wave_names: HashMap<&str, &str> = waves
        .iter()
        .map(|w| (w.id.as_str(), w.name.as_str()))
        .collect();
    let user_emails: HashMap<&str, &str> = users
        .iter()
        .map(|u| (u.id.as_str(), u.email.as_str()))
        .collect();
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            let id = e.target_id.as_deref().unwrap_or_default();
            let (target, href) = match e.target_kind.as_deref() {
                Some("wave") => (
                    wave_names.get(id).map_or_else(|| id.to_owned(), |n| (*n).to_owned()),
                    Some(format!("/admin/waves/{id}")),
                ),
                Some("user") => (
                    user_emails.get(id).map_or_else(|| id.to_owned(), |m| (*m).to_owned()),
                    user_emails.contains_key(id).then(|| format!("/admin/users/{id}")),
                ),
                Some(kind) => (
                    format!("{} {id}", fill(lang, &format!("admin.audit.kind_{kind}"), &[])),
                    None,
                ),
                None => (String::new(), None),
            };
            json!({
                "at": crate::infra::time::local_in(e.occurred_at, crate::infra::time::zone()).format("%Y-%m-%d %H:%M:%S %Z").to_string(),
                "actor": e.actor, "action": e.action, "what": action_text(lang, &e.action),
                "target": target, "href": href,
                "details": detail_lines(e.details.as_deref()), "ip": e.ip.clone().unwrap_or_default(),
            })
        })
        .collect();
    let action = q.action.clone().unwrap_or_default();
    let kinds: Vec<_> = KINDS
        .iter()
        .map(|k| json!({"value": k, "label": fill(lang, &format!("admin.audit.kinds.{}", k.trim_end_matches('.')), &[]), "selected": action == *k}))
        .collect();
    let wave = q.wave.clone().unwrap_or_default();
    let wave_options: Vec<_> = waves
        .iter()
        .map(|w| json!({"value": w.id, "label": w.name, "selected": wave == w.id.as_str()}))
        .collect();
    templates::page(
        "admin_audit",
        &ctx,
        json!({
            "page_title": format!("{} · samskap", fill(lang, "admin.audit.title", &[])),
            "entries": rows, "count": rows.len(), "limit": LIMIT,
            "kinds": kinds, "waves": wave_options,
            // An exact action (from a link) that is not one of the kinds stays as typed.
            "exact_action": (!action.is_empty() && !KINDS.contains(&action.as_str())).then_some(action.clone()),
            "filter": {"actor": q.actor.unwrap_or_default(),
                       "from": q.from.unwrap_or_default(), "to": q.to.unwrap_or_default()},
        }),
    )
}

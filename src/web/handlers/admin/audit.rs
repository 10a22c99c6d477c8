//! `GET /admin/audit`: the audit log, filtered by actor, action and date.

use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use crate::app::audit::{self, Filter};
use crate::infra::i18n::fill;
use crate::web::errors::{AppError, AppResult};
use crate::web::security::Ctx;
use crate::web::{AppState, templates, with_conn};

/// Entries shown at most.
const LIMIT: i64 = 500;

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
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
    };
    let entries = with_conn(&state, move |conn| Ok(audit::search(conn, &filter, LIMIT)?)).await?;
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "at": e.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                "actor": e.actor, "action": e.action,
                "target": match (&e.target_kind, &e.target_id) { (Some(k), Some(i)) => format!("{k} {i}"), _ => String::new() },
                "details": e.details.clone().unwrap_or_default(), "ip": e.ip.clone().unwrap_or_default(),
            })
        })
        .collect();
    templates::page(
        "admin_audit",
        &ctx,
        json!({
            "page_title": format!("{} · samskap", fill(lang, "admin.audit.title", &[])),
            "entries": rows, "count": rows.len(), "limit": LIMIT,
            "filter": {"actor": q.actor.unwrap_or_default(), "action": q.action.unwrap_or_default(),
                       "from": q.from.unwrap_or_default(), "to": q.to.unwrap_or_default()},
        }),
    )
}

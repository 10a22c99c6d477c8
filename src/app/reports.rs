//! View models and charts for the dashboards and benchmark reports. Reads analytics
//! results (already through the suppression gate) and the catalogue, and never computes a
//! statistic of its own from answers. Pages render these views through the web's
//! templates; the printable reports written to files render them here, through
//! [`crate::infra::render`] (the same templates).

pub mod charts;
pub mod region;
pub mod service;

use serde::Serialize;
use serde_json::{Value, json};

use crate::app::analytics::results::{Count, IndexStats, PhaseStats};
use crate::app::analytics::stats::Estimate;
use crate::app::analytics::suppress::Cell as Published;
use crate::core::domain::RespondentRole;
use crate::infra::i18n::fill;

/// A number as the page's language writes it: decimal comma in bokmål.
pub fn fmt(lang: &str, x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    let s = if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
        s.trim_start_matches('-').to_owned()
    } else {
        s
    };
    if lang == "nb" { s.replace('.', ",") } else { s }
}

/// "Managers" / "Peer workers" in `lang`.
pub fn role_label(lang: &str, role: RespondentRole) -> String {
    fill(lang, &format!("role.{}", role.as_str()), &[])
}

/// One published statistic as a page shows it: the numbers when the gate showed it,
/// otherwise a notice that says why there is no number.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cell {
    pub shown: bool,
    pub n: Option<u64>,
    #[serde(skip)]
    pub value: Option<f64>,
    #[serde(skip)]
    pub bounds: Option<(f64, f64)>,
    #[serde(skip)]
    pub level_number: Option<u64>,
    pub mean: String,
    pub ci: String,
    pub level: String,
    pub rwg: String,
    pub na_share: String,
    pub dk_share: String,
    /// Why no number is shown ("too few responses to show", "no answers").
    pub notice: String,
}

impl Cell {
    fn hidden<T>(cell: &Published<T>, lang: &str) -> Self {
        Self {
            notice: notice(cell, lang),
            ..Self::default()
        }
    }

    fn estimate<T>(cell: &Published<T>, e: &Estimate, lang: &str, digits: usize) -> Self {
        let bounds = e.ci_low.zip(e.ci_high);
        Self {
            shown: true,
            n: cell.n(),
            value: Some(e.mean),
            bounds,
            mean: fmt(lang, e.mean, digits),
            ci: bounds.map_or_else(String::new, |(l, h)| {
                format!("{} – {}", fmt(lang, l, digits), fmt(lang, h, digits))
            }),
            ..Self::default()
        }
    }

    /// A phase cell (0–4 scale) with its maturity level, agreement and missing shares.
    pub fn phase(
        cell: &Published<PhaseStats>,
        lang: &str,
        level: impl Fn(Option<u64>) -> String,
    ) -> Self {
        let Some(s) = cell.shown() else {
            return Self::hidden(cell, lang);
        };
        let mut c = Self::estimate(cell, &s.estimate, lang, 2);
        c.level_number = s.level.map(u64::from);
        c.level = level(c.level_number);
        c.rwg = s.rwg.map(|x| fmt(lang, x, 2)).unwrap_or_default();
        let pct = |x: f64| format!("{} %", fmt(lang, 100.0 * x, 0));
        c.na_share = pct(s.not_applicable_share);
        c.dk_share = pct(s.dont_know_share);
        c
    }

    /// An index cell (0–100 scale).
    pub fn index(cell: &Published<IndexStats>, lang: &str) -> Self {
        cell.shown().map_or_else(
            || Self::hidden(cell, lang),
            |s| Self::estimate(cell, &s.estimate, lang, 1),
        )
    }
}

/// Why a hidden cell shows no number: "too few responses to show" (withheld by the
/// gate) or "no answers"; empty for a shown cell.
pub fn notice<T>(cell: &Published<T>, lang: &str) -> String {
    if cell.shown().is_some() {
        String::new()
    } else if cell.is_suppressed() {
        fill(lang, "dashboard.too_few", &[])
    } else {
        fill(lang, "dashboard.no_answers", &[])
    }
}

/// A published count of people: the number, or "fewer than k".
pub fn count(c: Count, lang: &str) -> String {
    match c {
        Count::Exact(n) => n.to_string(),
        Count::FewerThan(k) => fill(lang, "dashboard.fewer_than", &[("k", &k.to_string())]),
    }
}

/// A service's benchmark report for a wave as one self-contained, printable HTML
/// document (styles inline, A4 print stylesheet); `None` when the service took part in
/// no opened wave (or not in `wave`).
pub fn service_report(
    conn: &mut crate::infra::db::DbConn,
    service: &crate::infra::models::Service,
    wave: Option<&crate::core::domain::WaveId>,
    src: &dyn crate::app::analytics::Publications,
    lang: &str,
) -> anyhow::Result<Option<(service::ServiceDashboard, String)>> {
    let d = service::dashboard(conn, service, wave, src, lang)?;
    let Some(w) = &d.wave else {
        return Ok(None);
    };
    if wave.is_some_and(|id| id.as_str() != w.id) {
        return Ok(None);
    }
    let html = crate::infra::render::render(
        "report",
        &json!({
            "page_lang": lang,
            "printable": true,
            "d": d,
            "css": crate::infra::render::stylesheet(),
            "printed": chrono::Utc::now().format("%Y-%m-%d").to_string(),
            "respondents": d.respondents,
            "instrument": w.instrument,
        }),
    )?;
    Ok(Some((d, html)))
}

/// Queues an e-mail to every manager account whose scope covers `service` with a link
/// to its report (managers sign in to read it; no result leaves in the message but the
/// index, which has passed the gate). Returns how many messages were queued.
pub fn mail_report(
    conn: &mut crate::infra::db::DbConn,
    dashboard: &service::ServiceDashboard,
    service: &crate::infra::models::Service,
    managers: &[(crate::infra::models::User, crate::app::accounts::Access)],
    base_url: &str,
    lang: &str,
) -> anyhow::Result<usize> {
    let Some(wave) = &dashboard.wave else {
        return Ok(0);
    };
    let link = format!(
        "{}/reports/{}/services/{}",
        base_url.trim_end_matches('/'),
        wave.id,
        service.code
    );
    let index: Vec<Value> = dashboard
        .index
        .iter()
        .map(|i| {
            json!({
                "role": i.role,
                "value": if i.cell.shown { i.cell.mean.clone() } else { i.cell.notice.clone() },
            })
        })
        .collect();
    let data = json!({
        "service": dashboard.service.name,
        "wave": wave.name,
        "link": link,
        "index": index,
    });
    let (subject, text, html) = crate::infra::mail::templates::render("report", lang, &data)?;
    let mut queued = 0;
    for (user, access) in managers {
        if !access.can_see_service(service) {
            continue;
        }
        let fresh = crate::infra::mail::enqueue(
            conn,
            &crate::infra::mail::Outgoing {
                kind: "report",
                dedupe_key: format!(
                    "report:{}:{}:{}:{}",
                    wave.id,
                    service.code,
                    user.id,
                    chrono::Utc::now().format("%Y-%m-%d")
                ),
                to: user.email.clone(),
                language: lang.to_owned(),
                subject: subject.clone(),
                text: text.clone(),
                html: html.clone(),
                wave_id: Some(crate::core::domain::WaveId::from_string(wave.id.clone())),
                invitation_id: None,
            },
            crate::infra::db::now(),
        )?;
        queued += usize::from(fresh);
    }
    Ok(queued)
}

/// Every active manager account with its access, for [`mail_report`].
pub fn manager_accounts(
    conn: &mut crate::infra::db::DbConn,
) -> anyhow::Result<Vec<(crate::infra::models::User, crate::app::accounts::Access)>> {
    let mut out = Vec::new();
    for user in crate::infra::models::User::all(conn)? {
        if user.active && user.role == crate::core::domain::UserRole::Manager {
            let access = crate::app::accounts::Access::load(conn, user.clone())?;
            out.push((user, access));
        }
    }
    Ok(out)
}

/// Why the reports of a wave cannot be e-mailed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MailRefusal {
    /// A draft has no results.
    #[error("the wave is a draft; reports exist once it is opened")]
    Draft,
    /// The wave's publication is still being computed.
    #[error("the wave's numbers are still being computed; try again in a moment")]
    Pending,
}

/// E-mails every manager a link to their service's report for `wave`, in `lang`; one
/// audit record (`wave.mail_reports`) with how many were queued. The one way to mail
/// reports: the admin page and `samskap report --mail` both call it. A manager already
/// mailed today about a service is not mailed again (the outbox's de-duplication key).
/// `limit`: only the first N services (a trial run).
pub fn mail_reports(
    conn: &mut crate::infra::db::DbConn,
    wave: &crate::core::domain::WaveId,
    src: &dyn crate::app::analytics::Publications,
    (base_url, lang): (&str, &str),
    limit: Option<usize>,
    actor: &crate::app::audit::Actor,
) -> anyhow::Result<Result<usize, MailRefusal>> {
    let found = crate::infra::models::Wave::find(conn, wave)?;
    if found.status == crate::core::domain::WaveStatus::Draft {
        return Ok(Err(MailRefusal::Draft));
    }
    let managers = manager_accounts(conn)?;
    let mut queued = 0;
    let mut services = crate::infra::models::WaveService::for_wave(conn, wave)?;
    services.truncate(limit.unwrap_or(usize::MAX));
    for ws in services {
        let Some(service) = crate::infra::models::Service::find_by_code(conn, &ws.service_code)?
        else {
            continue;
        };
        let d = service::dashboard(conn, &service, Some(wave), src, lang)?;
        if d.pending {
            return Ok(Err(MailRefusal::Pending));
        }
        queued += mail_report(conn, &d, &service, &managers, base_url, lang)?;
    }
    crate::app::audit::record(
        conn,
        actor,
        "wave.mail_reports",
        Some(("wave", wave.as_str())),
        Some(json!({"queued": queued, "language": lang})),
    )?;
    Ok(Ok(queued))
}

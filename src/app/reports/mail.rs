//! E-mailing managers a link to their service's report: one wave at a time, with one
//! audit record, the admin page and `samskap report --mail` alike.

use serde_json::{Value, json};

/// Queues an e-mail to every manager account whose scope covers `service` with a link
/// to its report (managers sign in to read it; no result leaves in the message but the
/// index, which has passed the gate). Returns how many messages were queued.
pub fn mail_report(
    conn: &mut crate::infra::db::DbConn,
    dashboard: &super::service::ServiceDashboard,
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
        let d = super::service::dashboard(conn, &service, Some(wave), src, lang)?;
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

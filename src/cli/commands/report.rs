//! `report`: every service's printable report for a wave, and e-mailing them.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::app::audit::Actor;
use crate::infra::config::Settings;

use super::{Progress, configured_instruments, open, store_instruments};

pub(super) fn report(
    settings: &Settings,
    wave: &str,
    out: &std::path::Path,
    lang: &str,
    mail: bool,
    limit: Option<usize>,
) -> anyhow::Result<ExitCode> {
    let Some(lang) = crate::infra::i18n::supported(lang) else {
        anyhow::bail!("--lang: \"{lang}\" is not a report language; use nb or en");
    };
    let base_url = if mail {
        Some(settings.base_url.clone().context(
            "--mail: set SAMSKAP_BASE_URL to the address managers open samskap at, so the e-mails can link to the reports",
        )?)
    } else {
        None
    };
    let mut conn = open(settings)?;
    store_instruments(&mut conn, &configured_instruments(settings)?)?;
    let wave = crate::app::waves::find(&mut conn, wave)?;
    if wave.status == crate::core::domain::WaveStatus::Draft {
        anyhow::bail!(
            "--wave: \"{}\" is a draft; reports exist once a wave is opened",
            wave.name
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let k = crate::app::analytics::MinCell::new(settings.min_cell);
    let started = std::time::Instant::now();
    // Computed (or read from the cache) once for all reports.
    crate::app::analytics::publication(&mut conn, &wave.id, k)?;
    let mut services = crate::infra::models::WaveService::for_wave(&mut conn, &wave.id)?;
    services.truncate(limit.unwrap_or(usize::MAX));
    let progress = Progress::new("reports");
    let mut written = Vec::new();
    for (i, ws) in services.iter().enumerate() {
        let Some(service) =
            crate::infra::models::Service::find_by_code(&mut conn, &ws.service_code)?
        else {
            continue;
        };
        if let Some((_, html)) = crate::app::reports::service_report(
            &mut conn,
            &service,
            Some(&wave.id),
            &crate::app::analytics::Computed(k),
            lang,
            crate::app::reports::Styles::Inline,
        )? {
            let file = format!("{}.html", sanitize_file_name(&service.code));
            std::fs::write(out.join(&file), html)
                .with_context(|| format!("cannot write {}", out.join(&file).display()))?;
            written.push((file, service.name.clone()));
        }
        progress.set(i + 1, services.len());
    }
    let index = crate::infra::render::render(
        "report_index",
        &serde_json::json!({
            "page_lang": lang,
            "wave": wave.name,
            "reports": written.iter().map(|(f, n)| serde_json::json!({"file": f, "name": n})).collect::<Vec<_>>(),
        }),
    )?;
    std::fs::write(out.join("index.html"), index)
        .with_context(|| format!("cannot write {}", out.join("index.html").display()))?;
    let queued = match &base_url {
        Some(base) => crate::app::reports::mail_reports(
            &mut conn,
            &wave.id,
            &crate::app::analytics::Computed(k),
            (base, lang),
            limit,
            &Actor::cli(),
        )?
        .map_err(|refusal| anyhow::anyhow!("--mail: {refusal}"))?,
        None => 0,
    };
    println!(
        "wrote {} reports for \"{}\" to {} in {:.1} s{}",
        written.len(),
        wave.name,
        out.display(),
        started.elapsed().as_secs_f64(),
        if mail {
            format!("; queued {queued} e-mails to managers")
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// A service code as a file name: letters, digits, '-' and '_' kept, the rest '_'.
pub(super) fn sanitize_file_name(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

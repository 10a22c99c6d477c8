//! `export`: research bundles.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::infra::config::Settings;

use super::{Progress, configured_instruments, open, store_instruments};

/// Where an export goes: the research project its pseudonyms are keyed for, the
/// language of its labels and its directory.
pub(super) struct Target<'a> {
    pub project: &'a str,
    pub lang: &'a str,
    pub out: &'a std::path::Path,
}

pub(super) fn export(
    settings: &Settings,
    waves: &[String],
    pooled: bool,
    format: crate::cli::ExportFormat,
    target: Target<'_>,
) -> anyhow::Result<ExitCode> {
    let Target { project, lang, out } = target;
    if let Err(e) = crate::app::export::project_name(project) {
        anyhow::bail!("--project: {e}");
    }
    let mut conn = open(settings)?;
    store_instruments(&mut conn, &configured_instruments(settings)?)?;
    let keys = crate::infra::crypto::DerivedKeys::new(&settings.secret_key()?);
    let mut chosen = Vec::new();
    if pooled {
        chosen = crate::infra::models::Wave::all(&mut conn)?
            .into_iter()
            .filter(|w| w.status != crate::core::domain::WaveStatus::Draft)
            .collect();
        chosen.sort_by_key(|w| w.opens_at.unwrap_or(w.created_at));
    } else {
        for w in waves {
            let wave =
                crate::app::waves::find(&mut conn, w).with_context(|| format!("--wave {w}"))?;
            if wave.status == crate::core::domain::WaveStatus::Draft {
                anyhow::bail!("--wave: \"{}\" is a draft and has no responses", wave.name);
            }
            chosen.push(wave);
        }
    }
    if chosen.is_empty() {
        anyhow::bail!("--pooled: there is no opened wave to export");
    }
    let started = std::time::Instant::now();
    let progress = Progress::new("responses");
    let format_name = match format {
        crate::cli::ExportFormat::Bundle => "bundle",
        crate::cli::ExportFormat::Csv => "csv",
        crate::cli::ExportFormat::Parquet => "parquet",
    };
    let request = crate::app::export::Request {
        project,
        format: format_name,
        via: "cli",
        lang,
    };
    let summary = crate::app::export::research_export(
        &mut conn,
        &keys,
        &chosen,
        request,
        &crate::app::export::NoneHeld(crate::app::analytics::MinCell::new(settings.min_cell)),
        out,
        &crate::app::audit::Actor::cli(),
        &|step| match step {
            crate::app::export::Step::Answers { done, total } => progress.set(done, total),
            crate::app::export::Step::Writing(what) => progress.note(&format!("writing {what}")),
        },
    )?;
    // The bundle is written whole (its parts come from one pass); the narrower formats
    // keep their files: csv the CSV tables and codebook, parquet the Parquet tables,
    // scores and codebook.
    let left_out: &[&str] = match format {
        crate::cli::ExportFormat::Csv => &[
            "long.parquet",
            "wide.parquet",
            "datapackage.json",
            "samskap.sps",
            "samskap.do",
            "samskap.R",
        ],
        crate::cli::ExportFormat::Parquet => &[
            "long.csv",
            "wide.csv",
            "datapackage.json",
            "samskap.sps",
            "samskap.do",
            "samskap.R",
        ],
        crate::cli::ExportFormat::Bundle => &[],
    };
    for f in left_out {
        let _ = std::fs::remove_file(out.join(f));
    }
    println!(
        "wrote {} responses ({} answers, {} variables) of {} wave(s) to {} in {:.1} s",
        summary.responses,
        summary.answers,
        summary.variables,
        summary.waves,
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

//! `demo` and `import services`: the service catalogue and the demo dataset.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::app::audit::Actor;
use crate::app::import;
use crate::infra::config::Settings;
use crate::tools::demo::{self, DemoOptions};

use super::{Progress, configured_instruments, open, refuse, store_instruments};

pub(super) fn demo_command(
    settings: &Settings,
    options: DemoOptions,
    export: Option<std::path::PathBuf>,
    responses: Option<usize>,
) -> anyhow::Result<ExitCode> {
    if let Some(path) = export {
        let file = std::fs::File::create(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        import::write_services_csv(std::io::BufWriter::new(file), &demo::catalogue(options))
            .with_context(|| format!("writing {} failed", path.display()))?;
        println!(
            "Wrote {} demo services to {}.",
            options.services,
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut conn = open(settings)?;
    store_instruments(&mut conn, &configured_instruments(settings)?)?;
    let keys = crate::infra::crypto::DerivedKeys::new(&settings.secret_key()?);
    let started = std::time::Instant::now();
    let progress = Progress::new("responses");
    let summary = demo::load_full(&mut conn, &keys, options, responses, |n| {
        if let Some(total) = responses {
            progress.set(n, total);
        }
    })?;
    println!(
        "Demo dataset: {} services, {} waves, {} responses stored in {:.1} s.",
        summary.services,
        summary.waves,
        summary.responses,
        started.elapsed().as_secs_f64()
    );
    if summary.waves == 0 {
        println!("The database already had waves; no demo waves were added.");
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn import_services(
    settings: &Settings,
    file: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let records = match import::read_services_csv(file) {
        Ok(r) => r,
        Err(errors) => {
            let count = errors.errors.len();
            return Ok(refuse(&errors, count, "nothing was imported"));
        }
    };
    let mut conn = open(settings)?;
    let progress = Progress::new("rows");
    let source = file.display().to_string();
    match import::apply(
        &mut conn,
        &Actor::cli(),
        &source,
        &records,
        &|done, total| {
            progress.set(done, total);
        },
    ) {
        Ok(summary) => {
            println!("Imported {source}: {summary}.");
            Ok(ExitCode::SUCCESS)
        }
        Err(import::ApplyError::Conflicts(errors)) => {
            let errors = import::ImportErrors {
                file: file.display().to_string(),
                errors,
            };
            let count = errors.errors.len();
            Ok(refuse(&errors, count, "nothing was imported"))
        }
        Err(import::ApplyError::Database(e)) => {
            Err(anyhow::Error::new(e).context("import failed; nothing was written"))
        }
    }
}

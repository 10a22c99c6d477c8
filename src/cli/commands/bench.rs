//! `bench …` (cargo feature `bench`): the load generators and timers of perf/.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::infra::config::Settings;

use super::{configured_instruments, open, store_instruments};

#[cfg(feature = "bench")]
pub(super) fn bench(
    settings: &Settings,
    action: crate::cli::BenchCommand,
) -> anyhow::Result<ExitCode> {
    use crate::cli::BenchCommand;
    let mut conn = open(settings)?;
    store_instruments(&mut conn, &configured_instruments(settings)?)?;
    let keys = crate::infra::crypto::DerivedKeys::new(&settings.secret_key()?);
    match action {
        BenchCommand::Prepare {
            invitations,
            out,
            wave,
        } => {
            let wave = wave.map(crate::core::domain::WaveId::from_string);
            let (wave, tokens) =
                crate::tools::bench::prepare(&mut conn, &keys, invitations, wave.as_ref())?;
            std::fs::write(&out, tokens.join("\n") + "\n")
                .with_context(|| format!("cannot write {}", out.display()))?;
            let body = serde_json::json!({"consent": true, "answers": crate::tools::bench::manager_answers_json()});
            let json = out.with_extension("json");
            std::fs::write(&json, body.to_string())
                .with_context(|| format!("cannot write {}", json.display()))?;
            println!(
                "wave {wave}: {} tokens in {}, body in {}",
                tokens.len(),
                out.display(),
                json.display()
            );
        }
        BenchCommand::Raw { responses } => {
            let r = crate::tools::bench::raw_insert_rate(&mut conn, &keys, responses)?;
            #[expect(clippy::cast_precision_loss, reason = "a count")]
            let rate = r.responses as f64 / r.seconds;
            #[expect(clippy::cast_precision_loss, reason = "a count")]
            let cpu_ms = r.cpu_seconds * 1000.0 / r.responses.max(1) as f64;
            println!(
                "raw: {} responses in {:.2} s, {cpu_ms:.3} ms CPU each = {rate:.0} responses/s",
                r.responses, r.seconds
            );
        }
        BenchCommand::LargeWave {
            responses,
            services,
            seed,
        } => {
            let bar = indicatif::ProgressBar::new(responses as u64);
            let wave = crate::tools::bench::analytics::large_wave(
                &mut conn,
                &keys,
                responses,
                services,
                seed,
                |n| bar.set_position(n as u64),
            )?;
            bar.finish_and_clear();
            println!("{wave}");
        }
        BenchCommand::Analyse { wave, means } => {
            let timing = crate::tools::bench::analytics::analyse(
                &mut conn,
                &crate::core::domain::WaveId::from_string(wave),
                crate::app::analytics::MinCell::new(settings.min_cell),
                means.as_deref(),
            )?;
            println!("{}", serde_json::to_string(&timing)?);
        }
        BenchCommand::ExportParquet { wave, out } => {
            let n = crate::tools::bench::analytics::export_parquet(
                &mut conn,
                &crate::core::domain::WaveId::from_string(wave),
                &out,
            )?;
            println!("{n} answers written to {}", out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

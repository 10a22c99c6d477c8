//! `survey check|show|load|schema`: survey files.

use std::process::ExitCode;

use crate::app::audit::Actor;
use crate::cli::SurveyCommand;
use crate::core::instrument::{self};
use crate::infra::config::Settings;

use super::{configured_instruments, open, refuse};

pub(super) fn survey(settings: &Settings, action: SurveyCommand) -> anyhow::Result<ExitCode> {
    match action {
        SurveyCommand::Check { paths } => {
            let paths = if paths.is_empty() {
                vec![std::path::PathBuf::from("surveys")]
            } else {
                paths
            };
            let files = match instrument::survey_files(&paths) {
                Ok(f) => f,
                Err(d) => {
                    eprintln!("{d}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            if files.is_empty() {
                eprintln!(
                    "no survey files (*.toml) found in {}",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return Ok(ExitCode::FAILURE);
            }
            let (loaded, problems) = instrument::load_all(&files);
            for inst in &loaded {
                println!(
                    "{}: {} {} ok ({})",
                    inst.origin,
                    inst.id(),
                    inst.version(),
                    inst.content_hash
                );
            }
            if problems.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(refuse(&lines(&problems), problems.len(), ""))
            }
        }
        SurveyCommand::Show {
            id,
            lang,
            role,
            version,
        } => {
            let instruments = configured_instruments(settings)?;
            let chosen = instruments
                .iter()
                .filter(|i| i.id() == id && version.as_ref().is_none_or(|v| v == i.version()))
                .max_by(|a, b| compare_versions(a.version(), b.version()));
            let Some(inst) = chosen else {
                let known: Vec<String> = instruments
                    .iter()
                    .map(|i| format!("{} {}", i.id(), i.version()))
                    .collect();
                anyhow::bail!(
                    "no survey `{id}`{}; known: {}",
                    version.map(|v| format!(" version {v}")).unwrap_or_default(),
                    known.join(", ")
                );
            };
            anyhow::ensure!(
                inst.definition.languages.contains(&lang),
                "--lang {lang}: `{id}` is offered in {}",
                inst.definition.languages.join(", ")
            );
            if let Some(role) = &role {
                anyhow::ensure!(
                    inst.definition.roles.contains_key(role),
                    "--role {role}: `{id}` has the roles {}",
                    inst.definition
                        .roles
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            print!(
                "{}",
                crate::app::surveys::outline::render(&inst.definition, &lang, role.as_deref())
            );
            Ok(ExitCode::SUCCESS)
        }
        SurveyCommand::Load { paths } => {
            let instruments = if paths.is_empty() {
                configured_instruments(settings)?
            } else {
                let files = instrument::survey_files(&paths).map_err(|d| anyhow::anyhow!("{d}"))?;
                let (loaded, problems) = instrument::load_all(&files);
                if !problems.is_empty() {
                    let count = problems.len();
                    return Ok(refuse(&lines(&problems), count, "nothing was stored"));
                }
                loaded
            };
            let mut conn = open(settings)?;
            let lines = crate::app::surveys::load(&mut conn, &Actor::cli(), &instruments)?;
            for line in &lines {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        SurveyCommand::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&instrument::format::json_schema())?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Orders versions numerically part by part (`1.10.0` after `1.9.2`), text otherwise.
pub(super) fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |v: &str| {
        v.split('.')
            .map(|p| p.parse::<u64>().map_err(|_| p.to_owned()))
            .collect::<Vec<_>>()
    };
    parts(a).cmp(&parts(b))
}

/// One problem per line.
fn lines(problems: &[impl std::fmt::Display]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

//! `wave create|list|open|close|invite|remind|status|erase-emails`.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::app::import;
use crate::cli::WaveCommand;
use crate::infra::config::Settings;

use super::survey::compare_versions;
use super::{Progress, configured_instruments, open, refuse, store_instruments};

/// The address respondents' links start with: only an explicit `SAMSKAP_BASE_URL`. The
/// listen address is no substitute for e-mails that leave the machine (in a container it
/// is `http://0.0.0.0:8080`, which no respondent can open), and a sent link cannot be
/// taken back.
pub(super) fn link_base(settings: &Settings) -> anyhow::Result<String> {
    settings.base_url.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "SAMSKAP_BASE_URL is not set: the e-mailed links would point at http://{}, which \
             respondents cannot open. Set it to the address people reach samskap at \
             (e.g. SAMSKAP_BASE_URL=https://samskap.example.org); nothing was sent",
            settings.bind
        )
    })
}

pub(super) fn parse_day(field: &str, value: &str) -> anyhow::Result<chrono::NaiveDateTime> {
    crate::infra::time::closing_date(value)
        .with_context(|| format!("{field}: {value:?} is not a date (YYYY-MM-DD)"))
}

#[expect(clippy::too_many_lines, reason = "one short arm per verb")]
pub(super) fn wave(settings: &Settings, action: WaveCommand) -> anyhow::Result<ExitCode> {
    use crate::app::audit::Actor;
    use crate::app::waves::{self, WaveSpec, respondents};
    use crate::infra::crypto::DerivedKeys;
    use crate::infra::models::{InstrumentRow, Wave};

    let mut conn = open(settings)?;
    let actor = Actor::cli();
    match action {
        WaveCommand::Create {
            name,
            instrument,
            anonymous,
            closes,
            reminders,
            reminder_days,
            retention_days,
            service_types,
        } => {
            // Make sure the configured instruments are stored, then pick the version.
            store_instruments(&mut conn, &configured_instruments(settings)?)?;
            let (survey_id, version) = instrument
                .split_once('@')
                .map_or((instrument.as_str(), None), |(i, v)| (i, Some(v)));
            let row = InstrumentRow::all(&mut conn)?
                .into_iter()
                .filter(|r| r.survey_id == survey_id && version.is_none_or(|v| v == r.version))
                .max_by(|a, b| compare_versions(&a.version, &b.version))
                .with_context(|| format!("--instrument: no stored instrument {instrument:?}"))?;
            let spec = WaveSpec {
                name,
                instrument: row.id,
                anonymity: if anonymous {
                    crate::core::domain::Anonymity::Anonymous
                } else {
                    crate::core::domain::Anonymity::Linked
                },
                opens_at: None,
                closes_at: closes
                    .as_deref()
                    .map(|c| parse_day("--closes", c))
                    .transpose()?,
                reminder_max: reminders,
                reminder_interval_days: reminder_days,
                email_retention_days: retention_days,
                service_types: service_types
                    .iter()
                    .map(|t| {
                        crate::core::domain::ServiceType::parse(t)
                            .map_err(|e| anyhow::anyhow!("--service-type: {e}"))
                    })
                    .collect::<anyhow::Result<_>>()?,
            };
            let w = waves::create(&mut conn, &spec, &actor)?;
            println!(
                "Created wave {} ({}), draft, {} {} {}.",
                w.name, w.id, row.survey_id, row.version, w.anonymity
            );
            Ok(ExitCode::SUCCESS)
        }
        WaveCommand::List => {
            for w in Wave::all(&mut conn)? {
                println!(
                    "{}  {:<8} {:<10} {}",
                    w.id,
                    w.status.as_str(),
                    w.anonymity.as_str(),
                    w.name
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        WaveCommand::Open { wave } => {
            let w = waves::find(&mut conn, &wave)?;
            waves::open(&mut conn, &w.id, &actor)?;
            println!("Opened {}.", w.name);
            Ok(ExitCode::SUCCESS)
        }
        WaveCommand::Close { wave } => {
            let w = waves::find(&mut conn, &wave)?;
            waves::close(&mut conn, &w.id, &actor)?;
            println!("Closed {}.", w.name);
            Ok(ExitCode::SUCCESS)
        }
        WaveCommand::Invite { wave, file } => {
            let links = link_base(settings)?;
            let w = waves::find(&mut conn, &wave)?;
            let keys = DerivedKeys::new(&settings.secret_key()?);
            let data =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            match respondents::parse(&mut conn, &keys, &w, &data, "en")? {
                Err(errors) => {
                    let errors = import::ImportErrors {
                        file: file.display().to_string(),
                        errors,
                    };
                    let count = errors.errors.len();
                    Ok(refuse(&errors, count, "nobody was invited"))
                }
                Ok(list) => {
                    let progress = Progress::new("invitations");
                    let n = respondents::invite(
                        &mut conn,
                        &keys,
                        &w.id,
                        &list,
                        &links,
                        &actor,
                        &|done, total| {
                            progress.set(done, total);
                        },
                    )?;
                    println!(
                        "Invited {n} respondents to {}; the messages are in the outbox.",
                        w.name
                    );
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        WaveCommand::Remind { wave } => {
            let w = waves::find(&mut conn, &wave)?;
            let n = waves::remind(&mut conn, &w.id, &link_base(settings)?, &actor)?;
            println!("Queued {n} reminders for {}.", w.name);
            Ok(ExitCode::SUCCESS)
        }
        WaveCommand::Status { wave } => {
            let w = waves::find(&mut conn, &wave)?;
            let r = waves::status(&mut conn, &w.id)?;
            println!(
                "{} ({}): {}, {}, {} services",
                r.wave.name, r.wave.id, r.wave.status, r.wave.anonymity, r.services
            );
            println!("invitations: {}", r.invitations);
            for (s, n) in &r.by_status {
                println!("  {:<10} {n}", s.as_str());
            }
            for (role, n) in &r.submitted_by_role {
                println!("submitted by {:<12} {n}", role.as_str());
            }
            if let Some(rate) = r.response_rate {
                println!("response rate: {:.1} %", rate * 100.0);
            }
            println!(
                "e-mail: {} pending, {} sending, {} sent, {} failed",
                r.outbox.pending, r.outbox.sending, r.outbox.sent, r.outbox.failed
            );
            if r.outbox.retrying > 0 {
                println!(
                    "e-mail: {} could not be sent yet and will be retried by the server, next at {} UTC; last error: {}",
                    r.outbox.retrying,
                    r.outbox
                        .next_attempt_at
                        .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
                    r.outbox.last_error.as_deref().unwrap_or("unknown")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        WaveCommand::EraseEmails { wave, force } => {
            let w = waves::find(&mut conn, &wave)?;
            let n = waves::erase_emails(&mut conn, &w.id, force, &actor)?;
            println!("Erased {n} e-mail addresses from {}.", w.name);
            Ok(ExitCode::SUCCESS)
        }
    }
}

//! What each CLI verb does. Errors carry context and are printed once by `main`.

use std::process::ExitCode;

use crate::cli::{Cli, Command, ImportCommand, MailCommand};
use crate::core::instrument::Instrument;
use crate::infra::config::Settings;
use crate::infra::db::{self, DbConn};
use crate::tools::demo::DemoOptions;

#[cfg(feature = "bench")]
mod bench;
mod catalogue;
mod export;
mod report;
mod serve;
mod survey;
mod user;
mod wave;

/// Exit code for configuration errors (distinct from 1, "the command found problems").
pub const EXIT_CONFIG: u8 = 2;

/// Runs one verb.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprint!("{e}");
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    crate::infra::time::set_zone(settings.timezone);
    match cli.command {
        Command::Serve { bind, demo } => serve::serve(settings, bind, demo),
        Command::Migrate => serve::migrate(&settings),
        Command::Demo {
            services,
            seed,
            export,
            responses,
        } => catalogue::demo_command(&settings, DemoOptions { services, seed }, export, responses),
        Command::Import {
            what: ImportCommand::Services { file },
        } => catalogue::import_services(&settings, &file),
        Command::Survey { action } => survey::survey(&settings, action),
        Command::User { action } => user::user(&settings, action),
        Command::Wave { action } => wave::wave(&settings, action),
        #[cfg(feature = "bench")]
        Command::Bench { action } => bench::bench(&settings, action),
        Command::Export {
            wave,
            pooled,
            format,
            project,
            lang,
            out,
        } => export::export(
            &settings,
            &wave,
            pooled,
            format,
            export::Target {
                project: &project,
                lang: lang.code(),
                out: &out,
            },
        ),
        Command::Report {
            wave,
            out,
            lang,
            mail,
            limit,
        } => report::report(&settings, &wave, &out, lang.code(), mail, limit),
        Command::Mail {
            action: MailCommand::Send,
        } => serve::mail_send(&settings),
        Command::Healthcheck { url } => serve::healthcheck(&settings, url),
    }
}

fn open(settings: &Settings) -> anyhow::Result<DbConn> {
    let mut conn = settings.database.connect()?;
    db::run_migrations(&mut conn)?;
    Ok(conn)
}

/// The instruments of `SAMSKAP_SURVEYS_DIR` (the built-in ones when it does not exist).
pub fn configured_instruments(settings: &Settings) -> anyhow::Result<Vec<Instrument>> {
    crate::app::surveys::configured(&settings.surveys_dir)
}

/// Stores every configured instrument version and returns one line per instrument.
pub fn store_instruments(
    conn: &mut DbConn,
    instruments: &[Instrument],
) -> anyhow::Result<Vec<String>> {
    crate::app::surveys::store_all(conn, instruments)
}

/// Refuses an input: prints its problems (`listing`, one per line) on stderr, then how
/// many there were and what was therefore not done ("nothing was imported").
fn refuse(listing: &dyn std::fmt::Display, count: usize, consequence: &str) -> ExitCode {
    eprintln!("{listing}");
    let noun = if count == 1 { "problem" } else { "problems" };
    if consequence.is_empty() {
        eprintln!("{count} {noun} found.");
    } else {
        eprintln!("{count} {noun} found; {consequence}.");
    }
    ExitCode::FAILURE
}

/// Progress of a long command, on stderr so that stdout keeps only the result: a bar on
/// a terminal; when stderr is not a terminal (a log, a pipe), a plain line per 10 %.
/// Nothing is shown until the work reports its first step, nor for fewer than
/// [`Progress::SHOWN_FROM`] steps, which finish before a bar would help.
struct Progress {
    unit: &'static str,
    bar: std::cell::OnceCell<Option<indicatif::ProgressBar>>,
    last_tenth: std::cell::Cell<usize>,
}

impl Progress {
    const SHOWN_FROM: usize = 200;

    fn new(unit: &'static str) -> Self {
        Self {
            unit,
            bar: std::cell::OnceCell::new(),
            last_tenth: std::cell::Cell::new(0),
        }
    }

    /// A line about what comes after the counted steps ("writing Parquet tables"), shown
    /// only when the steps were (a long run), so a quick run stays quiet.
    fn note(&self, what: &str) {
        if self.bar.get().is_some() {
            eprintln!("{what}…");
        }
    }

    /// `done` of `total` steps are complete.
    fn set(&self, done: usize, total: usize) {
        use std::io::IsTerminal as _;
        if total < Self::SHOWN_FROM {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            std::io::stderr().is_terminal().then(|| {
                let bar = indicatif::ProgressBar::new(total as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(&format!(
                        "{{bar:40}} {{pos}}/{{len}} {}, {{per_sec}}, eta {{eta}}",
                        self.unit
                    ))
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar
            })
        });
        if let Some(bar) = bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            if done >= total {
                bar.finish_and_clear();
            }
        } else {
            let tenth = done * 10 / total;
            if tenth > self.last_tenth.get() {
                self.last_tenth.set(tenth);
                eprintln!("{done}/{total} {}", self.unit);
            }
        }
    }
}

//! What each CLI verb does. Errors carry context and are printed once by `main`.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::app::audit::{self, Actor};
use crate::app::import;
use crate::cli::{
    Cli, Command, ImportCommand, MailCommand, SurveyCommand, UserCommand, WaveCommand,
};
use crate::core::instrument::{self, Instrument};
use crate::infra::config::Settings;
use crate::infra::db::{self, DbConn};
use crate::infra::models::Service;
use crate::tools::demo::{self, DemoOptions};
use crate::web::Application;

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
    match cli.command {
        Command::Serve { bind, demo } => serve(settings, bind, demo),
        Command::Migrate => migrate(&settings),
        Command::Demo {
            services,
            seed,
            export,
            responses,
        } => demo_command(&settings, DemoOptions { services, seed }, export, responses),
        Command::Import {
            what: ImportCommand::Services { file },
        } => import_services(&settings, &file),
        Command::Survey { action } => survey(&settings, action),
        Command::User { action } => user(&settings, action),
        Command::Wave { action } => wave(&settings, action),
        #[cfg(feature = "bench")]
        Command::Bench { action } => bench(&settings, action),
        Command::Export {
            wave,
            pooled,
            format,
            project,
            out,
        } => export(&settings, &wave, pooled, format, &project, &out),
        Command::Report {
            wave,
            out,
            lang,
            mail,
            limit,
        } => report(&settings, &wave, &out, lang.code(), mail, limit),
        Command::Mail {
            action: MailCommand::Send,
        } => mail_send(&settings),
        Command::Healthcheck { url } => healthcheck(&settings, url),
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

fn describe_database(settings: &Settings) -> String {
    match settings.database.sqlite_path() {
        Some(path) => format!("SQLite ({})", path.display()),
        None => "PostgreSQL".to_owned(),
    }
}

fn serve(
    mut settings: Settings,
    bind: Option<std::net::SocketAddr>,
    demo: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(bind) = bind {
        settings.bind = bind;
    }
    let database = describe_database(&settings);
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings.clone(), None).await?;
        if demo {
            let summary =
                actix_web::rt::task::spawn_blocking(move || load_demo_if_empty(&settings))
                    .await
                    .context("demo task failed")??;
            println!("{summary}");
        }
        println!("samskap is running on {database}.");
        println!(
            "Open {}/ in your browser. Press Ctrl+C to stop.",
            app.base_url()
        );
        std::io::stdout().flush().ok();
        app.run_until_stopped()
            .await
            .context("the web server stopped with an error")?;
        Ok(ExitCode::SUCCESS)
    })
}

fn survey(settings: &Settings, action: SurveyCommand) -> anyhow::Result<ExitCode> {
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
            for p in &problems {
                eprintln!("{p}");
            }
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
                eprintln!("{} problem(s) found.", problems.len());
                Ok(ExitCode::FAILURE)
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
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    eprintln!("{} problem(s) found; nothing was stored.", problems.len());
                    return Ok(ExitCode::FAILURE);
                }
                loaded
            };
            let mut conn = open(settings)?;
            let lines = store_instruments(&mut conn, &instruments)?;
            for line in &lines {
                println!("{line}");
            }
            audit::record(
                &mut conn,
                &Actor::cli(),
                "survey.load",
                None,
                Some(serde_json::json!({"stored": lines})),
            )?;
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
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |v: &str| {
        v.split('.')
            .map(|p| p.parse::<u64>().map_err(|_| p.to_owned()))
            .collect::<Vec<_>>()
    };
    parts(a).cmp(&parts(b))
}

fn load_demo_if_empty(settings: &Settings) -> anyhow::Result<String> {
    let mut conn = open(settings)?;
    let existing = Service::count(&mut conn)?;
    let keys = crate::infra::crypto::DerivedKeys::new(&settings.secret_key()?);
    let summary = demo::load_full(&mut conn, &keys, DemoOptions::default(), None, |_| {})?;
    let mut out = if existing > 0 {
        format!("Demo: the database already holds {existing} services; nothing loaded.")
    } else {
        format!(
            "Demo: loaded {} services, {} waves and {} responses.",
            summary.services, summary.waves, summary.responses
        )
    };
    out.push_str("\nDemo accounts (passwords are new at every start with --demo):");
    for account in demo::ensure_accounts(&mut conn)? {
        let demo::DemoAccount {
            email,
            role,
            password,
            sees,
        } = account;
        let sees = sees.map(|s| format!("   sees {s}")).unwrap_or_default();
        let _ = std::fmt::Write::write_fmt(
            &mut out,
            format_args!("\n  {:<12} {email:<32} {password}{sees}", role.as_str()),
        );
    }
    Ok(out)
}

fn read_password_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn user(settings: &Settings, action: UserCommand) -> anyhow::Result<ExitCode> {
    use crate::app::accounts::{self, ScopeSpec};
    use crate::app::audit::{self, Actor};
    use crate::core::domain::UserRole;
    use crate::infra::models::{User, UserScope};

    match action {
        UserCommand::Add {
            email,
            role,
            name,
            scopes,
            password_stdin,
        } => {
            let role = UserRole::from(role);
            let specs = scopes
                .iter()
                .map(|s| ScopeSpec::parse(s).map_err(|e| anyhow::anyhow!("--scope {e}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (password, generated) = if password_stdin {
                (read_password_stdin()?, false)
            } else {
                (accounts::generate_password(), true)
            };
            let mut conn = open(settings)?;
            let user = accounts::add_account(
                &mut conn,
                &Actor::cli(),
                &accounts::NewAccount {
                    email: &email,
                    display_name: &name,
                    role,
                    password: &password,
                    scopes: &specs,
                },
            )?;
            println!("Created {} ({}).", user.email, user.role);
            if generated {
                println!("Password (shown once): {password}");
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Passwd {
            email,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                (read_password_stdin()?, false)
            } else {
                (accounts::generate_password(), true)
            };
            let email =
                accounts::normalise_email(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let mut conn = open(settings)?;
            let user = User::find_by_email(&mut conn, &email)?
                .with_context(|| format!("--email: no account for {email}"))?;
            accounts::set_password(&mut conn, &user.id, &password)?;
            let details = serde_json::json!({"by": "cli"});
            audit::record(
                &mut conn,
                &Actor::cli(),
                "user.password",
                Some(("user", user.id.as_str())),
                Some(details),
            )?;
            println!("New password set for {email}; their sessions have ended.");
            if generated {
                println!("Password (shown once): {password}");
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::List => {
            let mut conn = open(settings)?;
            for user in User::all(&mut conn)? {
                let scopes = UserScope::for_user(&mut conn, &user.id)?
                    .iter()
                    .map(|s| accounts::describe_scope(&mut conn, s))
                    .collect::<Result<Vec<_>, _>>()?;
                let status = if user.active { "active" } else { "disabled" };
                println!(
                    "{:<32} {:<12} {status:<8} {}",
                    user.email,
                    user.role.as_str(),
                    scopes.join("; ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut conn = settings.database.connect()?;
    let applied = db::run_migrations(&mut conn)?;
    if applied.is_empty() {
        println!("{} is up to date.", describe_database(settings));
    } else {
        println!(
            "Applied {} migration(s) to {}: {}",
            applied.len(),
            describe_database(settings),
            applied.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn demo_command(
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

fn import_services(settings: &Settings, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let records = match import::read_services_csv(file) {
        Ok(r) => r,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!(
                "{} problem(s) found; nothing was imported.",
                errors.errors.len()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut conn = open(settings)?;
    let progress = Progress::new("rows");
    match import::apply(&mut conn, &records, &|done, total| {
        progress.set(done, total);
    }) {
        Ok(summary) => {
            println!("Imported {}: {summary}.", file.display());
            audit::record(
                &mut conn,
                &Actor::cli(),
                "catalogue.import",
                Some(("file", &file.display().to_string())),
                Some(serde_json::json!({"rows": records.len(), "summary": summary.to_string()})),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(import::ApplyError::Conflicts(errors)) => {
            let errors = import::ImportErrors {
                file: file.display().to_string(),
                errors,
            };
            eprintln!("{errors}");
            eprintln!(
                "{} problem(s) found; nothing was imported.",
                errors.errors.len()
            );
            Ok(ExitCode::FAILURE)
        }
        Err(import::ApplyError::Database(e)) => {
            Err(anyhow::Error::new(e).context("import failed; nothing was written"))
        }
    }
}

fn healthcheck(settings: &Settings, url: Option<String>) -> anyhow::Result<ExitCode> {
    use std::io::Read as _;
    use std::net::TcpStream;
    use std::time::Duration;

    let url = url.unwrap_or_else(|| {
        let mut addr = settings.bind;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}/healthz")
    });
    let rest = url
        .strip_prefix("http://")
        .context("healthcheck supports http:// URLs only")?;
    let (host, path) = rest.split_once('/').map_or((rest, "/"), |(h, p)| (h, p));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host)
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("no address for {host}"))?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
    stream.set_read_timeout(Some(Duration::from_secs(3)))?;
    write!(
        stream,
        "GET /{} HTTP/1.0\r\nHost: {host}\r\n\r\n",
        path.trim_start_matches('/')
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let healthy = response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200");
    if healthy {
        println!("healthy");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "unhealthy: {}",
            response.lines().next().unwrap_or("no response")
        );
        Ok(ExitCode::FAILURE)
    }
}

/// The address respondents' links start with: only an explicit `SAMSKAP_BASE_URL`. The
/// listen address is no substitute for e-mails that leave the machine (in a container it
/// is `http://0.0.0.0:8080`, which no respondent can open), and a sent link cannot be
/// taken back.
fn link_base(settings: &Settings) -> anyhow::Result<String> {
    settings.base_url.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "SAMSKAP_BASE_URL is not set: the e-mailed links would point at http://{}, which \
             respondents cannot open. Set it to the address people reach samskap at \
             (e.g. SAMSKAP_BASE_URL=https://samskap.example.org); nothing was sent",
            settings.bind
        )
    })
}

fn parse_day(field: &str, value: &str) -> anyhow::Result<chrono::NaiveDateTime> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .with_context(|| format!("{field}: {value:?} is not a date (YYYY-MM-DD)"))
}

#[expect(clippy::too_many_lines, reason = "one short arm per verb")]
fn wave(settings: &Settings, action: WaveCommand) -> anyhow::Result<ExitCode> {
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
            match respondents::parse(&mut conn, &keys, &w, &data)? {
                Err(errors) => {
                    let errors = import::ImportErrors {
                        file: file.display().to_string(),
                        errors,
                    };
                    eprintln!("{errors}");
                    eprintln!(
                        "{} problem(s) found; nobody was invited.",
                        errors.errors.len()
                    );
                    Ok(ExitCode::FAILURE)
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

fn mail_send(settings: &Settings) -> anyhow::Result<ExitCode> {
    let pool = settings.database.pool(2)?;
    db::run_migrations(&mut *pool.get()?)?;
    let worker = crate::infra::mail::Worker::new(
        pool.clone(),
        crate::infra::mail::Transport::from_settings(&settings.mail)?,
        settings.mail.from.clone(),
    )
    .with_first_retry(settings.mail.first_retry);
    let sent = worker.drain()?;
    let counts = crate::infra::mail::counts(&mut *pool.get()?, None)?;
    println!(
        "Sent {sent}; {} waiting for a retry, {} failed.",
        counts.pending, counts.failed
    );
    Ok(if counts.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(feature = "bench")]
fn bench(settings: &Settings, action: crate::cli::BenchCommand) -> anyhow::Result<ExitCode> {
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

fn report(
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
fn sanitize_file_name(code: &str) -> String {
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

fn export(
    settings: &Settings,
    waves: &[String],
    pooled: bool,
    format: crate::cli::ExportFormat,
    project: &str,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
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
    let summary = crate::app::export::bundle(
        &mut conn,
        &keys,
        &chosen,
        project,
        crate::app::analytics::MinCell::new(settings.min_cell),
        out,
        &|done, total| {
            progress.set(done, total);
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

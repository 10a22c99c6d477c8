//! `serve`, `migrate`, `healthcheck` and `mail send`: running the server and its database.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::infra::config::Settings;
use crate::infra::db::{self};
use crate::infra::models::Service;
use crate::tools::demo::{self, DemoOptions};
use crate::web::Application;

use super::open;

pub(super) fn describe_database(settings: &Settings) -> String {
    match settings.database.sqlite_path() {
        Some(path) => format!("SQLite ({})", path.display()),
        None => "PostgreSQL".to_owned(),
    }
}

pub(super) fn serve(
    mut settings: Settings,
    bind: Option<std::net::SocketAddr>,
    demo: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(bind) = bind {
        settings.bind = bind;
    }
    if demo && settings.privacy.controller.is_none() {
        // The demo's respondents are simulated; its consent page still shows where a
        // real deployment's controller and contact go.
        settings.privacy.controller = Some("samskap demo (simulated data)".to_owned());
        settings.privacy.contact = Some("personvern@example.org".to_owned());
    }
    if settings.privacy.controller.is_none() {
        eprintln!(
            "Note: SAMSKAP_CONTROLLER is not set, so the consent page names no data controller; \
             set it (and SAMSKAP_CONTROLLER_CONTACT) before inviting anyone."
        );
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

pub(super) fn load_demo_if_empty(settings: &Settings) -> anyhow::Result<String> {
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

pub(super) fn migrate(settings: &Settings) -> anyhow::Result<ExitCode> {
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

pub(super) fn healthcheck(settings: &Settings, url: Option<String>) -> anyhow::Result<ExitCode> {
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

pub(super) fn mail_send(settings: &Settings) -> anyhow::Result<ExitCode> {
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

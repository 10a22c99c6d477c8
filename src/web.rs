//! The actix-web application: state, server start-up, routes, handlers, errors and
//! templates. Handlers stay thin: extract, authorise, parse, call models or analytics
//! inside `web::block`, render.

pub mod assets;
pub mod errors;
pub mod handlers;
pub mod openapi;
pub mod routes;
pub mod security;
pub mod templates;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use tracing_actix_web::TracingLogger;

use crate::infra::config::Settings;
use crate::infra::db::{self, Backend, Pool};

/// Shared by every request. Holds nothing another instance would need: all state that
/// matters lives in the database.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub backend: Backend,
    pub base_url: String,
    pub cookie_keys: security::CookieKeys,
    pub limiter: Arc<security::RateLimiter>,
    /// Purpose keys derived from the secret (pseudonyms, anonymous resume).
    pub keys: crate::infra::crypto::DerivedKeys,
    /// Submissions that arrive together share one durable commit (SQLite).
    pub group: Arc<db::GroupCommit>,
    /// Every wave's latest publication, kept fresh in the background on connections of
    /// its own: requests never compute results.
    pub publications: Arc<crate::app::analytics::Publisher>,
}

/// Runs `f` with a pooled connection on the blocking thread pool: the one way handlers
/// touch the database, so no connection is ever held across an `.await`.
pub async fn with_conn<T, F>(state: &AppState, f: F) -> errors::AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut db::DbConn) -> errors::AppResult<T> + Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    port: u16,
    base_url: String,
    stop_worker: Arc<std::sync::atomic::AtomicBool>,
    publications: Arc<crate::app::analytics::Publisher>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Number of worker threads when not configured: one per core, at least two.
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

impl Application {
    /// Opens the pool, applies migrations, binds the listener and builds the server.
    /// `workers: None` means one per core.
    pub async fn build(settings: Settings, workers: Option<usize>) -> anyhow::Result<Self> {
        crate::infra::time::set_zone(settings.timezone);
        let pool_settings = settings.clone();
        let pool = actix_web::rt::task::spawn_blocking(move || -> anyhow::Result<Pool> {
            let pool = pool_settings.database.pool(16)?;
            let mut conn = pool.get().context("could not get a database connection")?;
            let applied = db::run_migrations(&mut conn)?;
            if !applied.is_empty() {
                tracing::info!(migrations = ?applied, "applied database migrations");
            }
            // Store the instrument versions in use; a changed file under an old version
            // stops the start-up with a message naming the file.
            // Download bundles (microdata) that a server stopped mid-export left behind.
            let stale = crate::app::export::remove_stale_bundles(
                &std::env::temp_dir(),
                std::time::Duration::from_secs(6 * 3600),
            );
            if stale > 0 {
                tracing::info!(removed = stale, "removed old research export bundles");
            }
            let instruments = crate::app::surveys::configured(&pool_settings.surveys_dir)?;
            for line in crate::app::surveys::store_all(&mut conn, &instruments)? {
                tracing::info!("instrument {line}");
            }
            Ok(pool)
        })
        .await
        .context("database start-up task failed")??;
        // Generate (or read) the key now so a problem shows at start, not at first login.
        let secret = settings.secret_key()?;

        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("could not listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let base_url = settings.base_url.clone().unwrap_or_else(|| {
            let host = match settings.bind.ip() {
                ip if ip.is_unspecified() => "localhost".to_owned(),
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                std::net::IpAddr::V4(ip) => ip.to_string(),
            };
            format!("http://{host}:{port}")
        });

        // Analytics computes on two connections of its own, so respondents, the outbox
        // and pages always find one in the main pool.
        let analytics_settings = settings.clone();
        let analytics_pool =
            actix_web::rt::task::spawn_blocking(move || analytics_settings.database.pool(2))
                .await
                .context("database start-up task failed")??;
        let publications = crate::app::analytics::Publisher::new(
            analytics_pool,
            crate::app::analytics::MinCell::new(settings.min_cell),
            settings.publish_interval,
            crate::app::reports::service::prepare,
        );
        publications.spawn()?;
        let settings_for_worker = settings.clone();
        let state = web::Data::new(AppState {
            backend: settings.backend(),
            cookie_keys: security::CookieKeys::new(&secret, base_url.starts_with("https://")),
            limiter: Arc::new(security::RateLimiter::default()),
            keys: crate::infra::crypto::DerivedKeys::new(&secret),
            pool: pool.clone(),
            group: Arc::new(db::GroupCommit::default()),
            publications: publications.clone(),
            settings: Arc::new(settings),
            base_url: base_url.clone(),
        });
        let https = base_url.starts_with("https://");
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(security::access_control))
                .wrap(security_headers(https))
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .configure(routes::configure)
                .default_service(web::to(handlers::errors::not_found))
        })
        .workers(workers.unwrap_or_else(default_workers))
        .listen(listener)?
        .run();

        // The outbox worker: several instances may run it against one database.
        let stop_worker = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let transport = crate::infra::mail::Transport::from_settings(&settings_for_worker.mail)?;
        crate::infra::mail::Worker::new(pool, transport, settings_for_worker.mail.from.clone())
            .with_first_retry(settings_for_worker.mail.first_retry)
            .with_housekeeping({
                let base = base_url.clone();
                // Each task runs whether or not the other failed.
                move |conn| {
                    let erased = crate::app::waves::erase_due_emails(conn);
                    let reminded = crate::app::waves::send_due_reminders(conn, &base);
                    if let Ok(n) = reminded
                        && n > 0
                    {
                        tracing::info!(n, "queued the reminders due on their waves' schedule");
                    }
                    Ok(erased? + reminded?)
                }
            })
            .spawn(settings_for_worker.outbox_interval, stop_worker.clone());
        Ok(Self {
            server,
            port,
            base_url,
            stop_worker,
            publications,
        })
    }

    pub const fn port(&self) -> u16 {
        self.port
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Serves until the process is asked to stop (SIGINT/SIGTERM).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // The outbox worker and the publisher stop with the server, also when this future
        // is dropped unfinished (the runtime that spawned it ends, as at the end of a
        // test): left running, each kept polling a database that may be gone.
        let _stop = StopOnDrop {
            worker: self.stop_worker,
            publications: self.publications,
        };
        self.server.await
    }
}

/// Stops the background threads of an [`Application`] when dropped.
struct StopOnDrop {
    worker: Arc<std::sync::atomic::AtomicBool>,
    publications: Arc<crate::app::analytics::Publisher>,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.worker
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.publications.stop();
    }
}

/// Headers on every response. The CSP allows nothing inline: styles and scripts come
/// from `/static` only. Nothing dynamic is kept by browsers or proxies (`no-store`):
/// pages show a new API token, a person's answers, results and downloads; the static
/// files set their own caching, which a default header does not replace. Served over
/// https (the base URL says so), browsers are told to use nothing else for a year (HSTS),
/// so a later `http://` link cannot expose a session cookie to a network attacker.
fn security_headers(https: bool) -> DefaultHeaders {
    let headers = if https {
        DefaultHeaders::new().add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        DefaultHeaders::new()
    };
    headers
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cache-Control", "no-store"))
}

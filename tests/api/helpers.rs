use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Once;

use diesel::{Connection as _, RunQueryDsl as _};
use samskap::infra::config::Settings;
use samskap::infra::db::{DatabaseUrl, DbConn};
use samskap::web::Application;

/// A fresh database for one test, removed when dropped.
pub struct TestDb {
    /// In `DATABASE_URL` form.
    pub url: String,
    /// Working directory for the binary (holds the SQLite file and any config file).
    pub dir: tempfile::TempDir,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) if admin.starts_with("postgres") => {
                let name = format!("samskap_test_{}", uuid::Uuid::now_v7().simple());
                let mut conn = diesel::pg::PgConnection::establish(&admin)
                    .expect("TEST_DATABASE_URL must reach a PostgreSQL server");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let (base, query) = admin
                    .split_once('?')
                    .map_or((admin.as_str(), ""), |(b, q)| (b, q));
                let server = base.rsplit_once('/').map_or(base, |(server, _db)| server);
                let url = if query.is_empty() {
                    format!("{server}/{name}")
                } else {
                    format!("{server}/{name}?{query}")
                };
                Self {
                    url,
                    dir,
                    pg_admin: Some((admin, name)),
                }
            }
            _ => {
                let url = format!("sqlite://{}", dir.path().join("samskap.db").display());
                Self {
                    url,
                    dir,
                    pg_admin: None,
                }
            }
        }
    }

    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).expect("valid test URL")
    }

    /// A connection with migrations applied.
    pub fn connect(&self) -> DbConn {
        let mut conn = self.database_url().connect().expect("connect");
        samskap::infra::db::run_migrations(&mut conn).expect("migrations");
        conn
    }

    pub fn settings(&self) -> Settings {
        let mut settings = Settings::for_database(self.database_url());
        settings.mail.dir = self.path("mail");
        settings
    }

    /// Runs the `samskap` binary in this database's directory with a clean environment.
    pub fn samskap(&self, args: &[&str]) -> Output {
        self.samskap_with_env(args, &[])
    }

    pub fn samskap_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run samskap")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_samskap"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.url)
            .env(
                "SAMSKAP_SECRET_KEY",
                "test-secret-key-that-is-at-least-32-characters",
            );
        cmd
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("write test file");
        path
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg_admin
            && let Ok(mut conn) = diesel::pg::PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// The backend the suite runs against.
pub fn expected_backend() -> &'static str {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => "postgres",
        _ => "sqlite",
    }
}

pub struct TestApp {
    pub address: String,
    pub db: TestDb,
    pub client: reqwest::Client,
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }
}

fn init_test_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            samskap::infra::telemetry::init(samskap::infra::telemetry::LogFormat::Text, "debug");
        }
    });
}

/// Starts the app on a random port with a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings adjusted first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    init_test_logging();
    let db = TestDb::new();
    let mut settings = db.settings();
    // Tests use the built-in instruments unless they say otherwise.
    settings.surveys_dir = db.path("no-surveys-dir");
    adjust(&mut settings);
    let app = Application::build(settings, Some(1))
        .await
        .expect("app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // Below the server's 5 s keep-alive: see `auth_helpers::browser`.
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .expect("client");
    TestApp {
        address,
        db,
        client,
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

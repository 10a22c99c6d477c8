//! The `samskap` server as a child process: started, waited for, killed with SIGKILL.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the server is started: the same command every time, so a restart is the same
/// server on the same database and port.
pub struct Server {
    make: Box<dyn Fn() -> Command + Send>,
    child: Option<Child>,
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `samskap serve` on `port` from the command `make` builds (which carries the
    /// database URL and settings). Output goes to `log`, appended across restarts.
    pub fn start(make: impl Fn() -> Command + Send + 'static, port: u16, log: &Path) -> Self {
        let mut server = Self {
            make: Box::new(make),
            child: None,
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_path_buf(),
        };
        server.spawn(port);
        server
    }

    fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in base URL")
    }

    fn spawn(&mut self, port: u16) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log");
        let mut cmd = (self.make)();
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::from(log.try_clone().expect("log handle")))
            .stderr(Stdio::from(log));
        self.child = Some(cmd.spawn().expect("start samskap serve"));
    }

    /// Waits until `/healthz` answers 200 (or panics after `limit`, showing the log).
    pub async fn wait_ready(&mut self, client: &reqwest::Client, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("the server exited with {status}:\n{}", self.log_text());
            }
            if let Ok(res) = client.get(format!("{}/healthz", self.base)).send().await
                && res.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not become ready in {limit:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the server");
            child.wait().expect("reap the server");
        }
    }

    /// Starts the same server again (after [`Server::kill`]).
    pub fn restart(&mut self) {
        self.kill();
        let port = self.port();
        self.spawn(port);
    }

    pub fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut start = text.len().saturating_sub(4000);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text[start..].to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A database and the directory the binary runs in.
#[derive(Clone)]
pub struct Site {
    pub url: String,
    pub dir: PathBuf,
}

impl Site {
    pub fn of(db: &crate::helpers::TestDb) -> Self {
        Self {
            url: db.url.clone(),
            dir: db.dir.path().to_path_buf(),
        }
    }

    /// `samskap` with a clean environment on this database: no rate limit on respondent
    /// links (the load comes from one address), e-mail to files.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_samskap"));
        cmd.current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.url)
            .env(
                "SAMSKAP_SECRET_KEY",
                "test-secret-key-that-is-at-least-32-characters",
            )
            .env("SAMSKAP_RESPONDENT_RATE_LIMIT", "0")
            .env("SAMSKAP_MAIL_DIR", self.dir.join("mail"));
        cmd
    }

    pub fn samskap(&self, args: &[&str]) -> std::process::Output {
        self.command().args(args).output().expect("run samskap")
    }

    /// What [`Server::start`] needs to start (and restart) the server on this site.
    pub fn server_command(&self) -> impl Fn() -> Command + Send + 'static {
        let site = self.clone();
        move || site.command()
    }

    pub fn connect(&self) -> samskap::infra::db::DbConn {
        samskap::infra::db::DatabaseUrl::parse(&self.url)
            .expect("database URL")
            .connect()
            .expect("connect")
    }
}

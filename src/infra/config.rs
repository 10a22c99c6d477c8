//! Typed settings from the environment and an optional `samskap.toml`.
//!
//! Every key has one name in the environment (`SAMSKAP_MIN_CELL`) and one in the file
//! (`min_cell`); the environment wins. Unknown `SAMSKAP_*` variables, unknown file keys and
//! bad values are refused at start, all at once, each message naming its key (the
//! variables Kubernetes defines for a Service named `samskap` aside). Secrets may come
//! from a file named by `DATABASE_URL_FILE`, `SAMSKAP_SECRET_KEY_FILE` or
//! `SAMSKAP_SMTP_PASSWORD_FILE`, and are wrapped in [`Secret`] so that `Debug` cannot
//! print them.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::infra::db::{Backend, DatabaseUrl};

/// Default database: a file under `data/` in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/samskap.db";
/// Default listen address: loopback only, so a laptop demo is not exposed to the network.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub use crate::core::domain::{DEFAULT_MIN_CELL, MIN_CELL_FLOOR};
/// Default requests per minute and client address on respondent links.
pub const DEFAULT_RESPONDENT_RATE_LIMIT: usize = 60;

/// Minimum length of `SAMSKAP_SECRET_KEY`.
pub const SECRET_KEY_MIN_LEN: usize = 32;

/// Each setting: environment name, file key, one-line description (used in errors and docs).
const KEYS: &[(&str, &str, &str)] = &[
    (
        "DATABASE_URL",
        "database_url",
        "database: sqlite://PATH or postgres://…",
    ),
    ("SAMSKAP_BIND", "bind", "listen address, IP:PORT"),
    (
        "SAMSKAP_BASE_URL",
        "base_url",
        "public URL used in links and e-mails",
    ),
    (
        "SAMSKAP_SECRET_KEY",
        "secret_key",
        "key for sessions, tokens and pseudonyms (≥ 32 characters)",
    ),
    (
        "SAMSKAP_MIN_CELL",
        "min_cell",
        "smallest number of respondents behind any number shown (≥ 3)",
    ),
    (
        "SAMSKAP_SURVEYS_DIR",
        "surveys_dir",
        "directory of survey files (default: surveys)",
    ),
    ("SAMSKAP_MAIL_TRANSPORT", "mail_transport", "file or smtp"),
    (
        "SAMSKAP_MAIL_DIR",
        "mail_dir",
        "directory for .eml files (file transport)",
    ),
    (
        "SAMSKAP_MAIL_FROM",
        "mail_from",
        "sender address of e-mails",
    ),
    ("SAMSKAP_SMTP_HOST", "smtp_host", "SMTP server host"),
    ("SAMSKAP_SMTP_PORT", "smtp_port", "SMTP server port"),
    ("SAMSKAP_SMTP_TLS", "smtp_tls", "starttls, tls or none"),
    ("SAMSKAP_SMTP_USERNAME", "smtp_username", "SMTP user name"),
    ("SAMSKAP_SMTP_PASSWORD", "smtp_password", "SMTP password"),
    (
        "SAMSKAP_MAIL_RETRY_SECONDS",
        "mail_retry_seconds",
        "wait before retrying an e-mail that could not be sent (doubles each time, up to an hour)",
    ),
    (
        "SAMSKAP_RESPONDENT_RATE_LIMIT",
        "respondent_rate_limit",
        "requests per minute per address on respondent links (0: off)",
    ),
    (
        "SAMSKAP_TRUSTED_PROXIES",
        "trusted_proxies",
        "reverse proxies (CIDRs, comma-separated) whose X-Forwarded-For or Forwarded header names the client",
    ),
    (
        "SAMSKAP_TIMEZONE",
        "timezone",
        "time zone of the people using it, an IANA name (default Europe/Oslo): closing dates end at local midnight, pages show local times",
    ),
    (
        "SAMSKAP_CONTROLLER",
        "controller",
        "the data controller respondents are told about on the consent page (an institution)",
    ),
    (
        "SAMSKAP_CONTROLLER_CONTACT",
        "controller_contact",
        "how respondents reach the controller about their data (an e-mail address or a web page)",
    ),
    (
        "SAMSKAP_LEGAL_BASIS",
        "legal_basis",
        "the legal basis named on the consent page (default: consent, GDPR art. 6(1)(a) and 9(2)(a))",
    ),
    (
        "SAMSKAP_OUTBOX_INTERVAL_MS",
        "outbox_interval_ms",
        "how often the outbox worker looks for due e-mails",
    ),
    (
        "SAMSKAP_PUBLISH_INTERVAL_MS",
        "publish_interval_ms",
        "least time between two recomputations of one wave's results (changes in between are coalesced)",
    ),
];

/// Read by `main` to find the file; not a setting itself.
const CONFIG_FILE_ENV: &str = "SAMSKAP_CONFIG";
const DEFAULT_CONFIG_FILE: &str = "samskap.toml";

pub use crate::infra::crypto::Secret;

/// How e-mail leaves the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTransport {
    /// Writes `.eml` files to a directory: the embedded default, nothing is sent.
    File,
    /// Sends through an SMTP server.
    Smtp,
}

/// Transport security towards the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    StartTls,
    Tls,
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub transport: MailTransport,
    pub dir: PathBuf,
    pub from: String,
    pub smtp: Option<SmtpSettings>,
    /// Wait before the first retry of a message that could not be sent; each further
    /// retry waits twice as long, up to an hour.
    pub first_retry: std::time::Duration,
}

/// An address block such as `10.0.0.0/8`, `fd00::/8` or a single address (`127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let addr: std::net::IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block such as 10.0.0.0/8"))?;
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {width}"))?,
        };
        Ok(Self { addr, prefix })
    }
}

impl Cidr {
    /// A comma-separated list of blocks.
    fn list(v: &str) -> Result<Vec<Self>, String> {
        v.split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::parse)
            .collect()
    }

    /// Whether `ip` lies in the block (an IPv4 address written as IPv6, `::ffff:a.b.c.d`,
    /// counts as the IPv4 address).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
            if prefix == 0 {
                0
            } else {
                bits >> (width - prefix)
            }
        }
        match (self.addr, ip.to_canonical()) {
            (std::net::IpAddr::V4(net), std::net::IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (std::net::IpAddr::V6(net), std::net::IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// All settings, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseUrl,
    pub bind: SocketAddr,
    /// `None` means "derive from the address actually bound".
    pub base_url: Option<String>,
    secret_key: Option<Secret>,
    pub min_cell: u32,
    /// Where survey files live; when the directory does not exist the built-in
    /// instruments are used.
    pub surveys_dir: PathBuf,
    /// Requests per minute per client address on respondent links; 0 turns the limit off
    /// (benchmarks, or a proxy in front that limits).
    pub respondent_rate_limit: usize,
    /// Reverse proxies in front of samskap: a request whose socket peer is one of them
    /// is from the client its `X-Forwarded-For` (or `Forwarded`) header names, for rate
    /// limits and the audit log. Empty: the socket peer is the client, headers ignored.
    pub trusted_proxies: Vec<Cidr>,
    /// Pause between outbox rounds.
    pub outbox_interval: std::time::Duration,
    /// Least time between two recomputations of one wave's publication; the publisher
    /// also waits one and a half times the last computation's duration between starts,
    /// so a large wave never keeps a core busy.
    pub publish_interval: std::time::Duration,
    pub mail: MailSettings,
    /// What the consent page tells respondents about who holds their data and why.
    pub privacy: PrivacySettings,
    /// Where people read and type times (see [`crate::infra::time`]).
    pub timezone: chrono_tz::Tz,
}

/// The consent page's data-protection facts. Unset ones are left off the page, and
/// `serve` warns about them at start.
#[derive(Debug, Clone, Default)]
pub struct PrivacySettings {
    /// The data controller (an institution).
    pub controller: Option<String>,
    /// How respondents reach the controller (an e-mail address or a web page).
    pub contact: Option<String>,
    /// The legal basis as it should read; `None` names consent (GDPR art. 6(1)(a) and
    /// 9(2)(a)) in the respondent's language.
    pub legal_basis: Option<String>,
}

impl PrivacySettings {
    /// The consent page's settings from the raw values; free text, so never refused.
    fn take(take: &mut impl FnMut(&str) -> Option<Raw>) -> Self {
        let mut text = |key: &str| {
            take(key)
                .map(|r| r.value.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Self {
            controller: text("SAMSKAP_CONTROLLER"),
            contact: text("SAMSKAP_CONTROLLER_CONTACT"),
            legal_basis: text("SAMSKAP_LEGAL_BASIS"),
        }
    }
}

/// Every problem found in the configuration, one line each.
#[derive(Debug)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for problem in &self.0 {
            writeln!(f, "  {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A raw value and the name to blame when it is wrong.
struct Raw {
    source_name: String,
    value: String,
}

impl Settings {
    /// Reads the process environment and the config file (`SAMSKAP_CONFIG`, else
    /// `./samskap.toml` when it exists).
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let explicit = config_file
            .map(Path::to_path_buf)
            .or_else(|| env.get(CONFIG_FILE_ENV).map(PathBuf::from));
        let file = if let Some(path) = explicit {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError(vec![format!(
                    "{CONFIG_FILE_ENV}: cannot read {}: {e}",
                    path.display()
                )])
            })?;
            Some((path, text))
        } else {
            let path = PathBuf::from(DEFAULT_CONFIG_FILE);
            std::fs::read_to_string(&path).ok().map(|text| (path, text))
        };
        Self::from_sources(&env, file.as_ref().map(|(p, t)| (p.as_path(), t.as_str())))
    }

    /// Builds settings from an environment map and optional file contents; pure, so
    /// tests can call it without touching the process environment.
    pub fn from_sources(
        env: &BTreeMap<String, String>,
        file: Option<(&Path, &str)>,
    ) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let mut raw: BTreeMap<&'static str, Raw> = BTreeMap::new();

        if let Some((path, text)) = file {
            read_file(path, text, &mut raw, &mut problems);
        }
        read_env(env, &mut raw, &mut problems);

        let mut take = |key: &str| raw.remove(key);
        let database = parse_with(
            take("DATABASE_URL"),
            DEFAULT_DATABASE_URL,
            &mut problems,
            DatabaseUrl::parse,
        );
        let bind = parse_with(take("SAMSKAP_BIND"), DEFAULT_BIND, &mut problems, |v| {
            v.parse::<SocketAddr>()
                .map_err(|_| format!("expected IP:PORT such as 127.0.0.1:8080, got {v:?}"))
        });
        let base_url = take("SAMSKAP_BASE_URL").and_then(|r| {
            let v = r.value.trim_end_matches('/').to_owned();
            if v.starts_with("http://") || v.starts_with("https://") {
                Some(v)
            } else {
                problems.push(format!(
                    "{}: expected an http:// or https:// URL, got {:?}",
                    r.source_name, r.value
                ));
                None
            }
        });
        let secret_key = take("SAMSKAP_SECRET_KEY").and_then(|r| {
            if r.value.chars().count() < SECRET_KEY_MIN_LEN {
                problems.push(format!(
                    "{}: must be at least {SECRET_KEY_MIN_LEN} characters (generate one with `openssl rand -hex 32`)",
                    r.source_name
                ));
                None
            } else {
                Some(Secret::new(r.value))
            }
        });
        let min_cell = parse_with(take("SAMSKAP_MIN_CELL"), "5", &mut problems, |v| {
            let n: u32 = v
                .parse()
                .map_err(|_| format!("expected a whole number, got {v:?}"))?;
            if n < MIN_CELL_FLOOR {
                Err(format!(
                    "must be at least {MIN_CELL_FLOOR}, got {n}: smaller groups would let readers identify individual respondents"
                ))
            } else {
                Ok(n)
            }
        });
        let surveys_dir = take("SAMSKAP_SURVEYS_DIR")
            .map_or_else(|| PathBuf::from("surveys"), |r| PathBuf::from(r.value));
        let respondent_rate_limit = parse_with(
            take("SAMSKAP_RESPONDENT_RATE_LIMIT"),
            "60",
            &mut problems,
            |v| {
                v.parse::<usize>().map_err(|_| {
                    format!("expected a whole number of requests per minute (0: off), got {v:?}")
                })
            },
        );
        let trusted_proxies = parse_with(
            take("SAMSKAP_TRUSTED_PROXIES"),
            "",
            &mut problems,
            Cidr::list,
        );
        let outbox_interval = parse_with(
            take("SAMSKAP_OUTBOX_INTERVAL_MS"),
            "2000",
            &mut problems,
            |v| millis(v, 10),
        );
        let publish_interval = parse_with(
            take("SAMSKAP_PUBLISH_INTERVAL_MS"),
            "0",
            &mut problems,
            |v| millis(v, 0),
        );
        let mail = mail_settings(&mut take, &mut problems);
        let privacy = PrivacySettings::take(&mut take);
        let timezone = parse_with(
            take("SAMSKAP_TIMEZONE"),
            "Europe/Oslo",
            &mut problems,
            crate::infra::time::parse_zone,
        );
        if let Some(DatabaseUrl::Postgres(_)) = &database
            && secret_key.is_none()
            && !problems.iter().any(|p| p.starts_with("SAMSKAP_SECRET_KEY"))
        {
            problems.push(
                "SAMSKAP_SECRET_KEY: required with PostgreSQL, where several instances must share one key".to_owned(),
            );
        }

        match (
            database,
            bind,
            min_cell,
            mail,
            respondent_rate_limit,
            (outbox_interval, publish_interval, trusted_proxies, timezone),
        ) {
            (
                Some(database),
                Some(bind),
                Some(min_cell),
                Some(mail),
                Some(respondent_rate_limit),
                (
                    Some(outbox_interval),
                    Some(publish_interval),
                    Some(trusted_proxies),
                    Some(timezone),
                ),
            ) if problems.is_empty() => Ok(Self {
                database,
                bind,
                base_url,
                secret_key,
                min_cell,
                surveys_dir,
                respondent_rate_limit,
                trusted_proxies,
                outbox_interval,
                publish_interval,
                mail,
                privacy,
                timezone,
            }),
            _ => Err(ConfigError(problems)),
        }
    }

    /// Settings for tests and embedding: the given database, defaults for the rest, and
    /// a fixed secret key.
    pub fn for_database(database: DatabaseUrl) -> Self {
        Self {
            database,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            base_url: None,
            secret_key: Some(Secret::new(
                "test-secret-key-that-is-at-least-32-characters",
            )),
            min_cell: DEFAULT_MIN_CELL,
            surveys_dir: PathBuf::from("surveys"),
            respondent_rate_limit: DEFAULT_RESPONDENT_RATE_LIMIT,
            trusted_proxies: Vec::new(),
            outbox_interval: std::time::Duration::from_secs(2),
            publish_interval: std::time::Duration::ZERO,
            privacy: PrivacySettings::default(),
            timezone: crate::infra::time::DEFAULT_ZONE,
            mail: MailSettings {
                transport: MailTransport::File,
                dir: PathBuf::from("data/mail"),
                from: "samskap <noreply@localhost>".into(),
                smtp: None,
                first_retry: std::time::Duration::from_secs(30),
            },
        }
    }

    pub const fn backend(&self) -> Backend {
        self.database.backend()
    }

    /// The secret key: the configured one, or for SQLite a key generated once and kept
    /// beside the database file (`<db>.secret`, mode 0600).
    pub fn secret_key(&self) -> anyhow::Result<Secret> {
        if let Some(key) = &self.secret_key {
            return Ok(key.clone());
        }
        let db_path = self
            .database
            .sqlite_path()
            .context("SAMSKAP_SECRET_KEY: required with PostgreSQL")?;
        let key_path = secret_key_path(db_path);
        if let Ok(existing) = std::fs::read_to_string(&key_path) {
            let existing = existing.trim().to_owned();
            anyhow::ensure!(
                existing.len() >= SECRET_KEY_MIN_LEN,
                "the stored secret key in {} is too short; delete it to generate a new one",
                key_path.display()
            );
            return Ok(Secret::new(existing));
        }
        let key = generate_secret_key();
        write_private_file(&key_path, &key).with_context(|| {
            format!("could not store a new secret key in {}", key_path.display())
        })?;
        tracing::warn!(
            path = %key_path.display(),
            "SAMSKAP_SECRET_KEY is not set: generated a key and stored it beside the database; \
             set SAMSKAP_SECRET_KEY explicitly in production"
        );
        Ok(Secret::new(key))
    }
}

/// Where a generated key for this SQLite file lives.
pub fn secret_key_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.file_name().unwrap_or_default().to_os_string();
    name.push(".secret");
    db_path.with_file_name(name)
}

fn generate_secret_key() -> String {
    crate::infra::crypto::hex(&crate::infra::crypto::random_bytes::<32>())
}

fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// The mail settings: transport, sender, and the SMTP server when one is configured.
fn mail_settings(
    take: &mut impl FnMut(&str) -> Option<Raw>,
    problems: &mut Vec<String>,
) -> Option<MailSettings> {
    let transport = parse_with(
        take("SAMSKAP_MAIL_TRANSPORT"),
        "file",
        problems,
        |v| match v {
            "file" => Ok(MailTransport::File),
            "smtp" => Ok(MailTransport::Smtp),
            other => Err(format!("expected file or smtp, got {other:?}")),
        },
    );
    let mail_dir = take("SAMSKAP_MAIL_DIR")
        .map_or_else(|| PathBuf::from("data/mail"), |r| PathBuf::from(r.value));
    let mail_from = parse_with(
        take("SAMSKAP_MAIL_FROM"),
        "samskap <noreply@localhost>",
        problems,
        |v| {
            if v.contains('@') {
                Ok(v.to_owned())
            } else {
                Err(format!("expected an e-mail address, got {v:?}"))
            }
        },
    );
    let smtp_tls = parse_with(
        take("SAMSKAP_SMTP_TLS"),
        "starttls",
        problems,
        |v| match v {
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            "none" => Ok(SmtpTls::None),
            other => Err(format!("expected starttls, tls or none, got {other:?}")),
        },
    );
    let smtp_port_raw = take("SAMSKAP_SMTP_PORT");
    let smtp_port = smtp_port_raw.and_then(|r| match r.value.parse::<u16>() {
        Ok(p) if p > 0 => Some(p),
        _ => {
            problems.push(format!(
                "{}: expected a port number 1-65535, got {:?}",
                r.source_name, r.value
            ));
            None
        }
    });
    let smtp_host = take("SAMSKAP_SMTP_HOST").map(|r| r.value);
    let smtp_username = take("SAMSKAP_SMTP_USERNAME").map(|r| r.value);
    let smtp_password = take("SAMSKAP_SMTP_PASSWORD").map(|r| Secret::new(r.value));

    let smtp = smtp_host.map(|host| SmtpSettings {
        host,
        port: smtp_port.unwrap_or(match smtp_tls {
            Some(SmtpTls::Tls) => 465,
            Some(SmtpTls::None) => 25,
            _ => 587,
        }),
        tls: smtp_tls.unwrap_or(SmtpTls::StartTls),
        username: smtp_username,
        password: smtp_password,
    });
    if transport == Some(MailTransport::Smtp) && smtp.is_none() {
        problems.push("SAMSKAP_SMTP_HOST: required when SAMSKAP_MAIL_TRANSPORT=smtp".to_owned());
    }
    let first_retry = parse_with(
        take("SAMSKAP_MAIL_RETRY_SECONDS"),
        "30",
        problems,
        |v| match v.parse::<u64>() {
            Ok(s) if (1..=3600).contains(&s) => Ok(std::time::Duration::from_secs(s)),
            _ => Err(format!("expected seconds between 1 and 3600, got {v:?}")),
        },
    );
    Some(MailSettings {
        transport: transport?,
        dir: mail_dir,
        from: mail_from?,
        smtp,
        first_retry: first_retry?,
    })
}

fn known_env_names() -> String {
    KEYS.iter()
        .map(|(n, _, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a value (or the default when absent), recording a problem that names the key.
/// A duration in milliseconds, from `min` to 600,000 (ten minutes).
fn millis(v: &str, min: u64) -> Result<std::time::Duration, String> {
    match v.parse::<u64>() {
        Ok(ms) if (min..=600_000).contains(&ms) => Ok(std::time::Duration::from_millis(ms)),
        _ => Err(format!(
            "expected milliseconds between {min} and 600000, got {v:?}"
        )),
    }
}

fn parse_with<T>(
    raw: Option<Raw>,
    default: &str,
    problems: &mut Vec<String>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Option<T> {
    match raw {
        Some(r) => match parse(r.value.trim()) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(format!("{}: {e}", r.source_name));
                None
            }
        },
        None => parse(default)
            .map_err(|e| problems.push(format!("default: {e}")))
            .ok(),
    }
}

/// The environment's settings into `raw` (they win over the file's); an unknown
/// `SAMSKAP_…` name is a problem.
fn read_env(
    env: &BTreeMap<String, String>,
    raw: &mut BTreeMap<&'static str, Raw>,
    problems: &mut Vec<String>,
) {
    for (name, value) in env {
        if let Some((env_name, _, _)) = KEYS.iter().find(|(n, _, _)| n == name) {
            raw.insert(
                env_name,
                Raw {
                    source_name: (*env_name).to_owned(),
                    value: value.clone(),
                },
            );
        } else if let Some(env_name) = name
            .strip_suffix("_FILE")
            .and_then(|base| SECRET_KEYS.iter().find(|k| **k == base))
        {
            // A secret from a file (Docker and Kubernetes secrets are mounted as files).
            if env.contains_key(*env_name) {
                problems.push(format!("{name}: set either {env_name} or {name}, not both"));
                continue;
            }
            match std::fs::read_to_string(value) {
                Ok(text) => {
                    raw.insert(
                        env_name,
                        Raw {
                            source_name: format!("{name} ({value})"),
                            value: text.trim_end_matches(['\n', '\r']).to_owned(),
                        },
                    );
                }
                Err(e) => problems.push(format!("{name}: cannot read {value}: {e}")),
            }
        } else if is_kubernetes_service_variable(name) {
            // Kubernetes defines these for a Service named `samskap`; they are not ours.
        } else if name.starts_with("SAMSKAP_") && name != CONFIG_FILE_ENV {
            problems.push(format!(
                "{name}: unknown setting (known: {})",
                known_env_names()
            ));
        }
    }
}

/// Settings that may be given in a file named by `<NAME>_FILE` instead.
const SECRET_KEYS: &[&str] = &[
    "DATABASE_URL",
    "SAMSKAP_SECRET_KEY",
    "SAMSKAP_SMTP_PASSWORD",
];

/// The variables Kubernetes puts into every pod for a Service named `samskap`
/// (`SAMSKAP_SERVICE_HOST`, `SAMSKAP_SERVICE_PORT[_NAME]`, `SAMSKAP_PORT`,
/// `SAMSKAP_PORT_8080_TCP[_PROTO|_PORT|_ADDR]`): not settings, and no reason to refuse to
/// start.
fn is_kubernetes_service_variable(name: &str) -> bool {
    name == "SAMSKAP_PORT"
        || name == "SAMSKAP_SERVICE_HOST"
        || name.starts_with("SAMSKAP_SERVICE_PORT")
        || name.starts_with("SAMSKAP_PORT_")
}

fn read_file(
    path: &Path,
    text: &str,
    raw: &mut BTreeMap<&'static str, Raw>,
    problems: &mut Vec<String>,
) {
    type Table = BTreeMap<toml::Spanned<String>, toml::Spanned<toml::Value>>;
    let file = path.display();
    let table: Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            problems.push(format!("{file}:{line}:{col}: {}", e.message()));
            return;
        }
    };
    for (key, value) in table {
        let (line, col) = line_col(text, key.span().start);
        let Some((env_name, _, _)) = KEYS.iter().find(|(_, k, _)| *k == key.get_ref()) else {
            let known: Vec<&str> = KEYS.iter().map(|(_, k, _)| *k).collect();
            problems.push(format!(
                "{file}:{line}:{col}: unknown setting `{}` (known: {})",
                key.get_ref(),
                known.join(", ")
            ));
            continue;
        };
        let value = match value.into_inner() {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            other => {
                problems.push(format!(
                    "{file}:{line}:{col}: `{}` must be a string or a number, not {}",
                    key.get_ref(),
                    other.type_str()
                ));
                continue;
            }
        };
        raw.insert(
            env_name,
            Raw {
                source_name: format!("{file}:{line}:{col}: `{}`", key.get_ref()),
                value,
            },
        );
    }
}

pub use crate::core::instrument::spans::line_col;

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_sqlite_on_loopback() {
        let s = Settings::from_sources(&env(&[]), None).expect("defaults are valid");
        assert_eq!(
            s.database,
            DatabaseUrl::Sqlite(PathBuf::from("data/samskap.db"))
        );
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.min_cell, 5);
        assert_eq!(s.mail.transport, MailTransport::File);
    }

    #[test]
    fn secrets_come_from_files_and_kubernetes_variables_are_not_settings() {
        let dir = std::env::temp_dir().join(format!("samskap-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let key = dir.join("key");
        std::fs::write(&key, "a-secret-key-from-a-file-0123456789abcdef\n").expect("write");
        let key_path = key.to_str().expect("utf8");
        let s = Settings::from_sources(
            &env(&[
                ("SAMSKAP_SECRET_KEY_FILE", key_path),
                ("SAMSKAP_PORT", "tcp://10.0.0.7:8080"),
                ("SAMSKAP_PORT_8080_TCP_ADDR", "10.0.0.7"),
                ("SAMSKAP_SERVICE_HOST", "10.0.0.7"),
                ("SAMSKAP_SERVICE_PORT_HTTP", "8080"),
            ]),
            None,
        )
        .expect("valid");
        assert_eq!(
            s.secret_key().expect("key").expose(),
            "a-secret-key-from-a-file-0123456789abcdef",
            "the file's content without its line break"
        );
        let err = Settings::from_sources(
            &env(&[
                ("SAMSKAP_SECRET_KEY_FILE", key_path),
                ("SAMSKAP_SECRET_KEY", "another-secret-key-0123456789abcdef"),
            ]),
            None,
        )
        .expect_err("both")
        .to_string();
        assert!(err.contains("not both"), "{err}");
        let missing = dir.join("missing");
        let err = Settings::from_sources(
            &env(&[(
                "SAMSKAP_SMTP_PASSWORD_FILE",
                missing.to_str().expect("utf8"),
            )]),
            None,
        )
        .expect_err("missing file")
        .to_string();
        assert!(
            err.contains("SAMSKAP_SMTP_PASSWORD_FILE: cannot read") && err.contains("missing"),
            "{err}"
        );
        let err = Settings::from_sources(&env(&[("SAMSKAP_MIN_CELL_FILE", key_path)]), None)
            .expect_err("not a secret")
            .to_string();
        assert!(
            err.contains("SAMSKAP_MIN_CELL_FILE: unknown setting"),
            "{err}"
        );
        let short = dir.join("short");
        std::fs::write(&short, "short").expect("write");
        let err = Settings::from_sources(
            &env(&[("SAMSKAP_SECRET_KEY_FILE", short.to_str().expect("utf8"))]),
            None,
        )
        .expect_err("too short")
        .to_string();
        assert!(
            err.contains("SAMSKAP_SECRET_KEY_FILE ("),
            "names the file: {err}"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn trusted_proxies_are_address_blocks() {
        let s = Settings::from_sources(
            &env(&[(
                "SAMSKAP_TRUSTED_PROXIES",
                "10.0.0.0/8, 192.168.1.7,fd00::/8",
            )]),
            None,
        )
        .expect("valid");
        let inside = |ip: &str| {
            let ip: std::net::IpAddr = ip.parse().expect("ip");
            s.trusted_proxies.iter().any(|c| c.contains(ip))
        };
        assert!(inside("10.200.3.4"));
        assert!(inside("::ffff:10.0.0.1"), "IPv4 written as IPv6");
        assert!(inside("192.168.1.7"));
        assert!(!inside("192.168.1.8"));
        assert!(inside("fd12::1"));
        assert!(!inside("11.0.0.1"));
        assert!(!inside("fe80::1"));
        let none = Settings::from_sources(&env(&[]), None).expect("defaults");
        assert!(
            none.trusted_proxies.is_empty(),
            "no proxy is trusted by default"
        );
        assert!(
            "0.0.0.0/0"
                .parse::<Cidr>()
                .expect("all")
                .contains("8.8.8.8".parse().expect("ip"))
        );
        for bad in ["10.0.0.0/33", "proxy.local", "10.0.0.0/x"] {
            let err = Settings::from_sources(&env(&[("SAMSKAP_TRUSTED_PROXIES", bad)]), None)
                .expect_err(bad)
                .to_string();
            assert!(err.contains("SAMSKAP_TRUSTED_PROXIES"), "{err}");
        }
    }

    #[test]
    fn the_time_zone_defaults_to_oslo_and_a_bad_one_is_named() {
        let s = Settings::from_sources(&env(&[]), None).expect("defaults");
        assert_eq!(s.timezone, chrono_tz::Europe::Oslo);
        let s = Settings::from_sources(&env(&[("SAMSKAP_TIMEZONE", "America/Chicago")]), None)
            .expect("a zone");
        assert_eq!(s.timezone, chrono_tz::America::Chicago);
        let err = Settings::from_sources(&env(&[("SAMSKAP_TIMEZONE", "Oslo")]), None)
            .expect_err("not a zone")
            .to_string();
        assert!(
            err.contains("SAMSKAP_TIMEZONE") && err.contains("\"Oslo\""),
            "{err}"
        );
    }

    #[test]
    fn every_problem_names_its_key() {
        let err = Settings::from_sources(
            &env(&[
                ("SAMSKAP_MIN_CELL", "2"),
                ("SAMSKAP_BIND", "everywhere"),
                ("SAMSKAP_COLOUR", "blue"),
                ("DATABASE_URL", "mysql://x"),
            ]),
            None,
        )
        .expect_err("four problems");
        let text = err.to_string();
        for key in [
            "SAMSKAP_MIN_CELL",
            "SAMSKAP_BIND",
            "SAMSKAP_COLOUR",
            "DATABASE_URL",
        ] {
            assert!(text.contains(key), "{key} missing from {text}");
        }
        assert_eq!(err.0.len(), 4, "{text}");
    }

    #[test]
    fn postgres_requires_a_secret_key() {
        let err = Settings::from_sources(&env(&[("DATABASE_URL", "postgres://localhost/x")]), None)
            .expect_err("no key");
        assert!(err.to_string().contains("SAMSKAP_SECRET_KEY"));
        let ok = Settings::from_sources(
            &env(&[
                ("DATABASE_URL", "postgres://localhost/x"),
                ("SAMSKAP_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
            ]),
            None,
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn file_keys_are_located_and_env_wins() {
        let text = "min_cell = 7\nbind = \"0.0.0.0:9000\"\ncolour = \"blue\"\n";
        let err = Settings::from_sources(&env(&[]), Some((Path::new("samskap.toml"), text)))
            .expect_err("unknown key");
        assert_eq!(err.0.len(), 1);
        assert!(
            err.0[0].starts_with("samskap.toml:3:1: unknown setting `colour`"),
            "{}",
            err.0[0]
        );

        let text = "min_cell = 7\nbind = \"0.0.0.0:9000\"\n";
        let s = Settings::from_sources(
            &env(&[("SAMSKAP_MIN_CELL", "6")]),
            Some((Path::new("x.toml"), text)),
        )
        .expect("valid");
        assert_eq!(s.min_cell, 6);
        assert_eq!(s.bind.to_string(), "0.0.0.0:9000");

        let err = Settings::from_sources(&env(&[]), Some((Path::new("x.toml"), "min_cell = 1\n")))
            .expect_err("too small");
        assert!(
            err.0[0].starts_with("x.toml:1:1: `min_cell`: must be at least 3"),
            "{}",
            err.0[0]
        );
    }

    #[test]
    fn every_key_read_is_declared() {
        // A key read with `take` but missing from KEYS would be refused as unknown.
        for key in [
            "SAMSKAP_RESPONDENT_RATE_LIMIT",
            "SAMSKAP_OUTBOX_INTERVAL_MS",
            "SAMSKAP_SURVEYS_DIR",
            "SAMSKAP_MAIL_RETRY_SECONDS",
        ] {
            let s = Settings::from_sources(&env(&[(key, "100")]), None);
            assert!(s.is_ok(), "{key}: {:?}", s.err());
        }
        let s = Settings::from_sources(&env(&[("SAMSKAP_RESPONDENT_RATE_LIMIT", "0")]), None)
            .expect("0 turns it off");
        assert_eq!(s.respondent_rate_limit, 0);
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("hunter2hunter2hunter2hunter2hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn generated_key_is_private_and_stable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("sub/samskap.db");
        let s = Settings {
            secret_key: None,
            ..Settings::for_database(DatabaseUrl::Sqlite(db.clone()))
        };
        let first = s.secret_key().expect("generated");
        let second = s.secret_key().expect("read back");
        assert_eq!(first, second);
        assert!(first.expose().len() >= SECRET_KEY_MIN_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(secret_key_path(&db))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

//! Command-line interface: the verbs of `samskap` (README.md, "Commands"). Closed sets of
//! choices are `ValueEnum`s, so `--help` lists them and a wrong one exits with 2 before
//! anything runs.

pub mod commands;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// What `samskap export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Everything: CSV and Parquet tables, codebook, SPSS, Stata and R scripts.
    Bundle,
    /// The CSV tables, scores, psychometrics and codebook.
    Csv,
    /// The same with Parquet tables.
    Parquet,
}

/// A language of the staff pages and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Norwegian (bokmål).
    Nb,
    /// English.
    En,
}

impl Lang {
    pub const fn code(self) -> &'static str {
        match self {
            Self::Nb => "nb",
            Self::En => "en",
        }
    }
}

/// The role of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccountRole {
    Admin,
    Manager,
    Policymaker,
    Researcher,
}

impl From<AccountRole> for crate::core::domain::UserRole {
    fn from(role: AccountRole) -> Self {
        match role {
            AccountRole::Admin => Self::Admin,
            AccountRole::Manager => Self::Manager,
            AccountRole::Policymaker => Self::Policymaker,
            AccountRole::Researcher => Self::Researcher,
        }
    }
}

/// samskap: measure how far services involve peer workers, and report it safely.
#[derive(Debug, Parser)]
#[command(name = "samskap", version, about, long_about = None)]
pub struct Cli {
    /// Settings file (default: ./samskap.toml when it exists; or SAMSKAP_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web application.
    Serve {
        /// Listen address (overrides SAMSKAP_BIND).
        #[arg(long, value_name = "IP:PORT")]
        bind: Option<SocketAddr>,
        /// Load the demo dataset into an empty database first.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Write a research bundle: consented responses of one or more waves, pseudonymous,
    /// as CSV (long and wide), scores, a codebook, a Frictionless datapackage.json, and
    /// SPSS, Stata and R scripts that apply the labels.
    Export {
        /// A wave (id or exact name); repeat to pool several waves.
        #[arg(long, required_unless_present = "pooled")]
        wave: Vec<String>,
        /// Pool every opened wave.
        #[arg(long)]
        pooled: bool,
        /// What to write.
        #[arg(long, value_enum, default_value_t = ExportFormat::Bundle)]
        format: ExportFormat,
        /// Research project the pseudonyms are keyed for: the same project gives the same
        /// pseudonyms in every export, another project unlinkable ones.
        #[arg(long, default_value = "default")]
        project: String,
        /// Language of the labels in the scripts, the native files and the codebook.
        #[arg(long, value_enum, default_value_t = Lang::En)]
        lang: Lang,
        /// Directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Write every service's printable benchmark report for a wave (HTML, one file per
    /// service, and an index.html), with a progress bar.
    Report {
        /// The wave: its id or its exact name.
        #[arg(long)]
        wave: String,
        /// Directory to write into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Language of the reports.
        #[arg(long, value_enum, default_value_t = Lang::Nb)]
        lang: Lang,
        /// Also e-mail every manager a link to their service's report, through the outbox
        /// (`samskap mail send` or the server delivers it). Needs SAMSKAP_BASE_URL.
        #[arg(long)]
        mail: bool,
        /// Only the first N services of the wave, by name (a trial run).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Load the demo dataset (Norwegian health regions, counties, municipalities, services).
    Demo {
        /// Number of services to generate.
        #[arg(long, default_value_t = crate::tools::demo::DEFAULT_SERVICES)]
        services: usize,
        /// Random seed: the same seed gives the same dataset.
        #[arg(long, default_value_t = crate::tools::demo::DEFAULT_SEED)]
        seed: u64,
        /// Store this many simulated responses through the bulk path (benchmarks), instead
        /// of the realistic three waves.
        #[arg(long)]
        responses: Option<usize>,
        /// Write the demo catalogue as CSV to this file instead of loading it.
        #[arg(long, value_name = "FILE.csv")]
        export: Option<PathBuf>,
    },
    /// Import data from files.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Work with survey files (instruments).
    Survey {
        #[command(subcommand)]
        action: SurveyCommand,
    },
    /// Run survey waves from the shell.
    Wave {
        #[command(subcommand)]
        action: WaveCommand,
    },
    /// E-mail: send what the outbox holds now (the server does this continuously).
    Mail {
        #[command(subcommand)]
        action: MailCommand,
    },
    /// Benchmark support (see perf/; built with `--features bench`).
    #[cfg(feature = "bench")]
    #[command(hide = true)]
    Bench {
        #[command(subcommand)]
        action: BenchCommand,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Exit 0 when the running server answers /healthz (for container health checks).
    Healthcheck {
        /// URL to check (default: http://<SAMSKAP_BIND>/healthz).
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Load health regions, counties, municipalities, organisations and services from a
    /// CSV file (see docs/import.md). All or nothing; safe to repeat.
    Services {
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SurveyCommand {
    /// Check survey files; print every problem as FILE:LINE:COLUMN and exit 1 if any.
    Check {
        /// Files or directories (default: surveys/).
        paths: Vec<PathBuf>,
    },
    /// Print a readable outline of a questionnaire.
    Show {
        /// The survey id, e.g. peer-involvement.
        id: String,
        /// Language of the outline.
        #[arg(long, default_value = "nb")]
        lang: String,
        /// Only this role's form (a role code of the survey file, e.g. manager).
        #[arg(long)]
        role: Option<String>,
        /// Version (default: the highest).
        #[arg(long)]
        version: Option<String>,
    },
    /// Check survey files and store their versions in the database.
    Load {
        /// Files or directories (default: SAMSKAP_SURVEYS_DIR, else surveys/).
        paths: Vec<PathBuf>,
    },
    /// Print the JSON Schema of the survey file format (for editors).
    Schema,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --password-stdin a password is generated and printed once.
    Add {
        #[arg(long)]
        email: String,
        /// The account's role.
        #[arg(long, value_enum)]
        role: AccountRole,
        /// Display name (default: the e-mail).
        #[arg(long, default_value = "")]
        name: String,
        /// What the user may see, repeatable: service:CODE or organisation:NAME (managers),
        /// region:NAME (policymakers), wave:ID (researchers).
        #[arg(long = "scope", value_name = "KIND:REFERENCE")]
        scopes: Vec<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (ends the user's sessions).
    Passwd {
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts with their roles and scopes.
    List,
}

#[derive(Debug, Subcommand)]
pub enum WaveCommand {
    /// Create a draft wave: pins the instrument version, freezes today's active services.
    Create {
        #[arg(long)]
        name: String,
        /// Survey id, optionally @version (default: the newest version of peer-involvement).
        #[arg(long, default_value = "peer-involvement")]
        instrument: String,
        /// Keep no link from responses to invitations (no panel follow-up).
        #[arg(long)]
        anonymous: bool,
        /// Last day to answer, YYYY-MM-DD.
        #[arg(long)]
        closes: Option<String>,
        /// Reminders at most.
        #[arg(long, default_value_t = 2)]
        reminders: i32,
        /// Days between reminders.
        #[arg(long, default_value_t = 7)]
        reminder_days: i32,
        /// Days to keep e-mail addresses after closing.
        #[arg(long, default_value_t = 90)]
        retention_days: i32,
        /// Only services of this type (repeatable).
        #[arg(long = "service-type")]
        service_types: Vec<String>,
    },
    /// List waves.
    List,
    /// Open a draft wave.
    Open { wave: String },
    /// Close an open wave.
    Close { wave: String },
    /// Invite respondents from a CSV (service_code,role,email,language).
    Invite {
        wave: String,
        file: std::path::PathBuf,
    },
    /// Queue reminders for those who have not submitted.
    Remind { wave: String },
    /// Counts of invitations, responses and e-mail.
    Status { wave: String },
    /// Erase e-mail addresses of a closed wave (pseudonyms stay).
    EraseEmails {
        wave: String,
        /// Erase now, before the retention period ends.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send every due message now and report what happened.
    Send,
}

#[cfg(feature = "bench")]
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// An open wave with N manager invitations; their tokens go to FILE, and a complete
    /// answer body to FILE.json.
    Prepare {
        #[arg(long)]
        invitations: usize,
        #[arg(long)]
        out: std::path::PathBuf,
        /// Invite into this open wave instead of a new one.
        #[arg(long)]
        wave: Option<String>,
    },
    /// The raw in-process rate of storing N complete responses durably.
    Raw {
        #[arg(long, default_value_t = 2000)]
        responses: usize,
    },
    /// One open wave with N simulated complete responses (the demo catalogue of
    /// `--services` services when there are none yet); prints the wave id.
    LargeWave {
        #[arg(long)]
        responses: usize,
        #[arg(long, default_value_t = 20_000)]
        services: usize,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Times the full analysis of a wave, uncached; prints JSON with the timings and peak
    /// memory, and writes the shown phase means per service × role to `--means`.
    Analyse {
        #[arg(long)]
        wave: String,
        #[arg(long)]
        means: Option<std::path::PathBuf>,
    },
    /// Writes a wave's answers, services and items as Parquet files into `--out`.
    ExportParquet {
        #[arg(long)]
        wave: String,
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

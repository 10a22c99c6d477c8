//! Storage: one connection type over SQLite and PostgreSQL, chosen at run time by
//! `DATABASE_URL`; the pool; embedded migrations; the shared schema and typed ids.
//!
//! Durability promise (SQLite): every connection runs in WAL mode with
//! `synchronous = FULL`, so a transaction that has returned `Ok` (and therefore any
//! request or command that reported success) survives a process crash *and* a power
//! loss. `NORMAL` would only survive a process crash, so we pay the extra fsync per
//! commit. PostgreSQL keeps its own defaults (`fsync = on`, `synchronous_commit = on`),
//! which make the same promise.

pub mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use diesel::connection::SimpleConnection as _;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection as _, QueryResult, RunQueryDsl as _};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};

/// Runs `$body` with `$c` bound to the concrete connection inside a [`DbConn`]. For the
/// few statements the multi-backend cannot express (multi-row inserts, upserts); the body
/// is compiled once per backend.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::infra::db::DbConn::Sqlite($c) => $body,
            $crate::infra::db::DbConn::Pg($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// A live connection to either backend. Queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl std::fmt::Debug for DbConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbConn({})", backend_of(self).as_str())
    }
}

/// The backend type that [`DbConn`] speaks; custom SQL types implement their traits for it.
pub type DbBackend = <DbConn as diesel::Connection>::Backend;
/// The connection pool handed to every part of the app.
pub type Pool = r2d2::Pool<Manager>;
/// A connection borrowed from the [`Pool`].
pub type PooledConn = r2d2::PooledConnection<Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Arbitrary constant for `pg_advisory_lock`, so that several instances starting at once
/// apply migrations one after the other.
const MIGRATION_LOCK_KEY: i64 = 0x5a4d_5341_4d4b_4150;

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A parsed `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (relative to the working directory, or absolute).
    Sqlite(PathBuf),
    /// A libpq connection URL, kept verbatim.
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    // The PostgreSQL URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(_) => f.write_str("postgres://…"),
        }
    }
}

impl DatabaseUrl {
    /// Accepts `sqlite://relative/path.db`, `sqlite:///absolute/path.db`,
    /// `postgres://…` and `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(
                    "a sqlite:// URL needs a file path, e.g. sqlite://data/samskap.db".into(),
                );
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else {
            Err(format!(
                "unsupported database URL {:?}: use sqlite://PATH or postgres://USER@HOST/DB",
                url.split(':').next().unwrap_or_default()
            ))
        }
    }

    pub const fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite file, if this is a SQLite URL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }

    /// Opens one connection, configured as every pooled connection is.
    pub fn connect(&self) -> anyhow::Result<DbConn> {
        match self {
            Self::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).with_context(|| {
                        format!("could not create the database directory {}", dir.display())
                    })?;
                }
                let path_str = path
                    .to_str()
                    .with_context(|| format!("database path {} is not UTF-8", path.display()))?;
                let mut conn = SqliteConnection::establish(path_str).with_context(|| {
                    format!("could not open SQLite database {}", path.display())
                })?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .context("could not configure the SQLite connection")?;
                Ok(DbConn::Sqlite(conn))
            }
            Self::Postgres(url) => {
                let conn = PgConnection::establish(url)
                    .context("could not connect to PostgreSQL (check DATABASE_URL)")?;
                Ok(DbConn::Pg(conn))
            }
        }
    }

    /// Builds the pool. SQLite gets more connections than it can use for writing at once;
    /// `busy_timeout` makes writers queue instead of failing.
    pub fn pool(&self, max_size: u32) -> anyhow::Result<Pool> {
        r2d2::Pool::builder()
            .max_size(max_size)
            // Also caps r2d2's back-off between reconnection attempts (at half of it):
            // after a database outage the pool is whole again at most 2.5 s after the
            // server is back (tests/reliability/pg_outage.rs), and a request waits at most
            // 5 s before it is answered 503.
            .connection_timeout(Duration::from_secs(5))
            // No `SELECT 1` on every checkout: broken connections are noticed by
            // `has_broken` and replaced, and a request that meets a dead server fails cleanly.
            .test_on_check_out(false)
            // Open connections as needed rather than all at start (PostgreSQL limits them).
            .min_idle(Some(2))
            .build(Manager { url: self.clone() })
            .context("could not open the database connection pool")
    }
}

/// `journal_mode` is persistent, the rest is per connection. `busy_timeout` comes first so
/// that switching to WAL waits for a concurrent writer instead of failing. See the module
/// docs for why `synchronous = FULL`.
const SQLITE_PRAGMAS: &str = "\
    PRAGMA busy_timeout = 10000;\
    PRAGMA journal_mode = WAL;\
    PRAGMA synchronous = FULL;\
    PRAGMA foreign_keys = ON;\
    PRAGMA cache_size = -16384;\
    PRAGMA mmap_size = 268435456;\
    PRAGMA temp_store = MEMORY;";

/// Runs `f`, a read of much of the database (a research export), on SQLite without
/// memory-mapping the file. Every pooled connection maps up to `mmap_size` (256 MiB) of
/// it, and the pages a scan touches stay in the server's resident memory for as long as
/// the connection lives: a 100,000-response export added some 250 MiB of file-backed RSS
/// that way (`perf/export.sh`). Read through `pread` instead, the same pages sit in the
/// kernel's page cache, which the server does not hold. The connection's own setting is
/// restored after, also when `f` fails or panics, for the short reads requests make.
/// PostgreSQL: `f` as it is.
pub fn without_mmap<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> T) -> T {
    #[derive(diesel::QueryableByName)]
    struct Mmap {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mmap_size: i64,
    }
    /// Puts the mapping back when dropped.
    struct Restore<'c> {
        conn: &'c mut DbConn,
        size: i64,
    }
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = self
                .conn
                .batch_execute(&format!("PRAGMA mmap_size = {};", self.size));
        }
    }
    if !matches!(conn, DbConn::Sqlite(_)) {
        return f(conn);
    }
    let Ok(before) = diesel::sql_query("PRAGMA mmap_size").get_result::<Mmap>(conn) else {
        // The setting cannot be read, so it is left as it is: the read still works.
        return f(conn);
    };
    if conn.batch_execute("PRAGMA mmap_size = 0;").is_err() {
        return f(conn);
    }
    let restore = Restore {
        conn,
        size: before.mmap_size,
    };
    f(restore.conn)
}

/// r2d2 manager that opens connections for the backend the URL names. Diesel's own
/// manager would try every backend in turn, and SQLite happily creates a file called
/// `postgres:` when PostgreSQL is unreachable.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        self.url.connect().map_err(|e| {
            note_trouble();
            diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(format!(
                "{e:#}"
            )))
        })
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map(drop)
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// Called as a connection goes back to the pool. A PostgreSQL connection whose server
    /// went away is not "broken" to diesel unless it died inside a transaction, so it
    /// would go back to the pool and fail the next request too, and the one after. While
    /// the database has had trouble recently (see [`note_trouble`]) each returned
    /// connection is therefore checked with `SELECT 1` and dropped when dead; the rest of
    /// the time returning a connection costs nothing.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        if diesel::r2d2::R2D2Connection::is_broken(conn) {
            return true;
        }
        matches!(conn, DbConn::Pg(_)) && trouble_recently() && self.is_valid(conn).is_err()
    }
}

/// Whether an error means the database cannot be reached right now — a pool that found
/// no working connection, a connection the server closed (PostgreSQL stopped or
/// restarted, a network cut), a server starting up or shutting down, SQLite still locked
/// after the busy timeout — rather than a fault in the query. Such errors pass once the
/// database is back, so they are answered 503 with `Retry-After` instead of 500.
///
/// libpq reports a lost connection as text, not as an error code diesel exposes, so the
/// messages are matched (libpq's wording, stable for many releases).
pub fn is_unavailable(error: &anyhow::Error) -> bool {
    let lost = unavailable_cause(error);
    if lost {
        note_trouble();
    }
    lost
}

/// When the database last failed to connect or lost a connection (seconds since the Unix
/// epoch; 0: never).
static LAST_TROUBLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How long after trouble returned connections are checked (see `Manager::has_broken`).
const TROUBLE_WINDOW_SECONDS: u64 = 120;

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Records that the database could not be reached just now.
pub fn note_trouble() {
    LAST_TROUBLE.store(unix_seconds(), std::sync::atomic::Ordering::Relaxed);
}

fn trouble_recently() -> bool {
    let last = LAST_TROUBLE.load(std::sync::atomic::Ordering::Relaxed);
    last != 0 && unix_seconds().saturating_sub(last) <= TROUBLE_WINDOW_SECONDS
}

fn unavailable_cause(error: &anyhow::Error) -> bool {
    const LOST: &[&str] = &[
        "server closed the connection",
        "terminating connection",
        "no connection to the server",
        "connection to server",
        "could not connect to server",
        "the database system is starting up",
        "the database system is shutting down",
        "the database system is in recovery mode",
        "connection refused",
        "database is locked",
        "could not send data to server",
        "could not receive data from server",
    ];
    let lost = |text: &str| {
        let text = text.to_ascii_lowercase();
        LOST.iter().any(|m| text.contains(m))
    };
    error.chain().any(|cause| {
        if cause.downcast_ref::<r2d2::PoolError>().is_some() {
            return true;
        }
        match cause.downcast_ref::<diesel::result::Error>() {
            Some(diesel::result::Error::DatabaseError(kind, info)) => {
                matches!(kind, diesel::result::DatabaseErrorKind::ClosedConnection)
                    || lost(info.message())
            }
            Some(_) => false,
            None => cause
                .downcast_ref::<diesel::ConnectionError>()
                .is_some_and(|e| lost(&e.to_string())),
        }
    })
}

/// Applies every pending migration and returns the versions applied (empty when the
/// database was already current).
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>()),
        DbConn::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .context("could not take the migration lock")?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .context("could not release the migration lock")?;
            result
        }
    };
    applied.map_err(|e| anyhow::anyhow!("applying migrations failed: {e}"))
}

/// Reverts the latest applied migration and returns its version: for tests that put data
/// in a database before a migration and check what the migration does to it.
#[doc(hidden)]
pub fn revert_last_migration(conn: &mut DbConn) -> anyhow::Result<String> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.revert_last_migration(POSTGRES_MIGRATIONS),
    };
    reverted
        .map(|v| v.to_string())
        .map_err(|e| anyhow::anyhow!("reverting the latest migration failed: {e}"))
}

/// Which backend a live connection speaks.
pub const fn backend_of(conn: &DbConn) -> Backend {
    match conn {
        DbConn::Sqlite(_) => Backend::Sqlite,
        DbConn::Pg(_) => Backend::Postgres,
    }
}

/// Runs `f` in a transaction that takes the write lock at once on SQLite
/// (`BEGIN IMMEDIATE`). A deferred SQLite transaction that reads first and writes later
/// fails with `SQLITE_BUSY` when another connection wrote in between, and no busy timeout
/// helps; starting as a writer makes it wait its turn instead. On PostgreSQL this is an
/// ordinary transaction. Nested calls become savepoints.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    let nested = AnsiTransactionManager::transaction_manager_status_mut(sqlite)
        .transaction_depth()
        .map_err(E::from)?
        .is_some();
    if nested {
        return conn.transaction(f);
    }
    let _turn = writer_turn();
    immediate(conn, f)
}

/// Writers in this process queue on a mutex, which wakes the next one the moment the
/// lock is free; SQLite's own busy handler would poll with sleeps of up to 100 ms and
/// leave the database idle in between. Other processes still meet `busy_timeout`.
fn writer_turn() -> std::sync::MutexGuard<'static, ()> {
    static WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());
    WRITER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `BEGIN IMMEDIATE`, `f`, then commit or roll back, on a SQLite connection.
fn immediate<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE").map_err(E::from)?;
    let result = f(conn);
    let DbConn::Sqlite(sqlite) = conn else {
        unreachable!("the connection cannot change backend")
    };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(sqlite).map_err(E::from)?;
            Ok(value)
        }
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(sqlite);
            Err(e)
        }
    }
}

/// A unit of work waiting for a group commit: it runs inside the group's transaction
/// (in its own savepoint) and returns what to do once the commit is known.
type GroupJob = Box<dyn FnOnce(&mut DbConn) -> Box<dyn FnOnce(Result<(), &str>) + Send> + Send>;

/// Group commit for SQLite: writes that arrive while another commit is under way are
/// stored together in the next transaction, with one `fsync` for all of them. SQLite
/// commits one transaction at a time and each durable commit costs an `fsync`, so without
/// grouping the write rate can never exceed the disk's sync rate. Each unit still gets
/// its own result and is acknowledged only after the commit that holds it.
///
/// No thread of its own: the first waiting caller to get the write lock runs every queued
/// unit on its own connection (leader/follower). One per database (per app). PostgreSQL
/// groups concurrent commits itself, so there a unit is an ordinary transaction.
#[derive(Default)]
pub struct GroupCommit {
    queue: std::sync::Mutex<Vec<GroupJob>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Runs `f` durably, possibly in one transaction with other callers' units; `f` runs
    /// in a savepoint, so its failure rolls back only its own writes.
    pub fn run<T, F>(&self, conn: &mut DbConn, f: F) -> QueryResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
    {
        if !matches!(conn, DbConn::Sqlite(_)) {
            return conn.transaction(f);
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<QueryResult<T>>(1);
        let job: GroupJob = Box::new(move |conn: &mut DbConn| {
            let outcome = conn.transaction(f);
            Box::new(move |commit: Result<(), &str>| {
                let result = match (outcome, commit) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Ok(_), Err(message)) => Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::Unknown,
                        Box::new(format!("the group commit failed: {message}")),
                    )),
                    (Err(e), _) => Err(e),
                };
                let _ = tx.send(result);
            })
        });
        self.lock_queue().push(job);
        let turn = writer_turn();
        // A leader that held the lock before us may have committed our unit already.
        if let Ok(result) = rx.try_recv() {
            return result;
        }
        let jobs = std::mem::take(&mut *self.lock_queue());
        let mut finish = Vec::with_capacity(jobs.len());
        let committed = immediate(conn, |conn| -> QueryResult<()> {
            for job in jobs {
                finish.push(job(conn));
            }
            Ok(())
        });
        let message = committed.as_ref().err().map(ToString::to_string);
        for done in finish {
            done(message.as_deref().map_or(Ok(()), Err));
        }
        drop(turn);
        rx.recv().unwrap_or_else(|_| {
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::Unknown,
                Box::new("a group commit was abandoned".to_owned()),
            ))
        })
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Vec<GroupJob>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The backend of a concrete connection, inside [`on_backend!`] bodies.
pub trait BackendOf {
    const BACKEND: Backend;
}

impl BackendOf for SqliteConnection {
    const BACKEND: Backend = Backend::Sqlite;
}

impl BackendOf for PgConnection {
    const BACKEND: Backend = Backend::Postgres;
}

/// [`BackendOf::BACKEND`] of a connection value.
pub const fn backend_of_inner<C: BackendOf>(_: &C) -> Backend {
    C::BACKEND
}

/// The current UTC time, truncated to microseconds so that a value read back from
/// either backend compares equal to the value written.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound as _, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

#[cfg(test)]
mod unavailable_tests {
    use diesel::result::{DatabaseErrorKind, Error};

    fn db_error(kind: DatabaseErrorKind, message: &str) -> anyhow::Error {
        anyhow::Error::new(Error::DatabaseError(kind, Box::new(message.to_owned())))
            .context("database query failed")
    }

    #[test]
    fn lost_connections_are_unavailable_and_query_faults_are_not() {
        for message in [
            "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally",
            "terminating connection due to administrator command",
            "no connection to the server",
            "FATAL:  the database system is shutting down",
            "database is locked",
        ] {
            assert!(
                super::is_unavailable(&db_error(DatabaseErrorKind::Unknown, message)),
                "{message}"
            );
        }
        assert!(super::is_unavailable(&db_error(
            DatabaseErrorKind::ClosedConnection,
            "anything"
        )));
        for message in ["syntax error at or near \"SELEC\"", "no such table: x"] {
            assert!(!super::is_unavailable(&db_error(
                DatabaseErrorKind::Unknown,
                message
            )));
        }
        assert!(!super::is_unavailable(&db_error(
            DatabaseErrorKind::UniqueViolation,
            "duplicate key value violates unique constraint"
        )));
        assert!(!super::is_unavailable(&anyhow::Error::new(Error::NotFound)));
        assert!(!super::is_unavailable(&anyhow::anyhow!(
            "some other failure"
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(diesel::QueryableByName)]
    struct Mmap {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mmap_size: i64,
    }

    fn mmap_size(conn: &mut DbConn) -> i64 {
        diesel::sql_query("PRAGMA mmap_size")
            .get_result::<Mmap>(conn)
            .expect("PRAGMA mmap_size")
            .mmap_size
    }

    #[test]
    fn a_bulk_read_on_sqlite_maps_nothing_and_the_mapping_comes_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .expect("url");
        let mut conn = url.connect().expect("connect");
        assert_eq!(mmap_size(&mut conn), 268_435_456);
        let inside = without_mmap(&mut conn, mmap_size);
        assert_eq!(inside, 0);
        assert_eq!(mmap_size(&mut conn), 268_435_456);
        // A read that panics still gives the connection its mapping back.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            without_mmap(&mut conn, |_| panic!("the read failed"));
        }));
        assert!(panicked.is_err());
        assert_eq!(mmap_size(&mut conn), 268_435_456);
    }
}

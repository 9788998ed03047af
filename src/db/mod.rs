//! The database: a pool of connections to SQLite (the embedded default) or PostgreSQL
//! (several app servers on one database), set up the same way every time, the
//! migrations of each backend embedded in the binary, and the models that own their
//! queries.
//!
//! One connection type, [`DbConnection`], serves both: Diesel's `MultiConnection`
//! builds every query for whichever backend the connection is, so models are written
//! once. What the backends do differently (the search index, planner hints, how a
//! write transaction takes its lock) is matched on the variant where it happens.

pub mod backup;
pub mod copy;
pub mod models;
pub mod schema;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the backend's own connection. For the few queries that
/// Diesel builds only for a concrete backend (`RETURNING` a `Selectable`, upserts,
/// multi-row inserts): the body is written once and compiled for each.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgresql($c) => $body,
        }
    };
}

/// The backend of [`DbConnection`]: the SQL both backends understand.
pub type DbBackend = MultiBackend;

pub type DbPool = Pool<DbManager>;
pub type DbConn = PooledConnection<DbManager>;

/// How long a request waits for a pooled connection before it fails.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a statement waits for another connection's write lock before it fails with
/// "database is locked" (`busy_timeout`).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest a statement may run on PostgreSQL before the server cancels it: far
/// beyond any query of ours on a million events, short enough that a runaway one frees
/// its connection.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Which backend a `--database` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (or `sqlite://path`).
    Sqlite(std::path::PathBuf),
    /// A `postgres://` or `postgresql://` URL, passed to libpq as it is.
    Postgres(String),
}

impl DatabaseUrl {
    /// `postgres://…` and `postgresql://…` are PostgreSQL; `sqlite://path` and anything
    /// else is a SQLite file.
    pub fn parse(value: &str) -> DatabaseUrl {
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            DatabaseUrl::Postgres(value.to_owned())
        } else {
            let path = value.strip_prefix("sqlite://").unwrap_or(value);
            DatabaseUrl::Sqlite(path.into())
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, DatabaseUrl::Postgres(_))
    }
}

impl From<&Path> for DatabaseUrl {
    fn from(path: &Path) -> DatabaseUrl {
        DatabaseUrl::Sqlite(path.to_owned())
    }
}

impl From<&std::path::PathBuf> for DatabaseUrl {
    fn from(path: &std::path::PathBuf) -> DatabaseUrl {
        DatabaseUrl::Sqlite(path.clone())
    }
}

impl From<std::path::PathBuf> for DatabaseUrl {
    fn from(path: std::path::PathBuf) -> DatabaseUrl {
        DatabaseUrl::Sqlite(path)
    }
}

impl From<&DatabaseUrl> for DatabaseUrl {
    fn from(url: &DatabaseUrl) -> DatabaseUrl {
        url.clone()
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;
    fn from_str(value: &str) -> Result<DatabaseUrl, Self::Err> {
        Ok(DatabaseUrl::parse(value))
    }
}

impl std::fmt::Display for DatabaseUrl {
    /// Without a password, for logs and errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "{}", path.display()),
            DatabaseUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    let (user, _) = url[scheme + 3..at]
                        .split_once(':')
                        .unwrap_or((&url[scheme + 3..at], ""));
                    write!(f, "{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
                }
                _ => write!(f, "{url}"),
            },
        }
    }
}

/// Opens connections of the backend the URL names: never one guessed from the other
/// (Diesel's own manager would try PostgreSQL, then make a SQLite file of any string).
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DatabaseUrl,
    /// Set once a SQLite connection had to be opened read-only (the file or its folder
    /// was not writable); from then on each checkout asks whether it still must be.
    opened_read_only: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// The temporary table that marks a SQLite connection opened read-only. Temporary
/// tables live in the connection's own memory, so a read-only file takes one.
const READ_ONLY_MARK: &str = "cc_opened_read_only";

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // SQLite opens a file it may not write read-only, silently, and the
                // connection stays so for life. Such a one is marked, so that it can
                // be replaced once the file is writable again.
                if sqlite_is_read_only(&mut conn) {
                    conn.batch_execute(&format!("CREATE TEMP TABLE {READ_ONLY_MARK} (x)"))
                        .map_err(diesel::r2d2::Error::QueryError)?;
                    if !self
                        .opened_read_only
                        .swap(true, std::sync::atomic::Ordering::Relaxed)
                    {
                        tracing::error!(
                            database = %path.display(),
                            "the database file is read-only: serving reads, refusing writes"
                        );
                    }
                }
                Ok(DbConnection::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)?;
        if self
            .opened_read_only
            .load(std::sync::atomic::Ordering::Relaxed)
            && let (DbConnection::Sqlite(c), DatabaseUrl::Sqlite(path)) = (&mut *conn, &self.url)
            && is_marked_read_only(c)
            && sqlite_files_writable(path)
        {
            // The file can be written again: r2d2 drops this connection and opens a
            // writable one in its place.
            return Err(diesel::r2d2::Error::ConnectionError(
                diesel::ConnectionError::BadConnection(
                    "opened read-only, and the file is writable again".to_owned(),
                ),
            ));
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Whether SQLite opened this connection read-only: a write inside a transaction that
/// is rolled back (taking the write lock alone is allowed in WAL mode, read-only or
/// not). No busy timeout is set yet, so a lock held by another writer answers "busy" at
/// once, which means the file is writable.
fn sqlite_is_read_only(conn: &mut SqliteConnection) -> bool {
    let probe = conn.batch_execute("BEGIN; CREATE TABLE main.cc_write_probe (x);");
    let _ = conn.batch_execute("ROLLBACK;");
    matches!(probe, Err(e) if StorageFailure::of(&e) == Some(StorageFailure::ReadOnly))
}

/// Whether the database file and its `-wal` and `-shm` files, where they exist, may be
/// written: SQLite makes those two with the file's own permissions, so a file that was
/// read-only leaves them read-only too, and a connection opened while any of them is
/// would be read-only again.
fn sqlite_files_writable(path: &Path) -> bool {
    ["", "-wal", "-shm"].iter().all(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = Path::new(&name);
        (!suffix.is_empty() && !file.exists())
            || std::fs::OpenOptions::new().write(true).open(file).is_ok()
    })
}

fn is_marked_read_only(conn: &mut SqliteConnection) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Marks {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query("SELECT count(*) AS n FROM temp.sqlite_master WHERE name = ?")
        .bind::<diesel::sql_types::Text, _>(READ_ONLY_MARK)
        .get_result::<Marks>(conn)
        .is_ok_and(|m| m.n > 0)
}

/// Applied to every connection the pool opens.
///
/// SQLite: without WAL and a busy timeout, a reader and a writer at the same moment get
/// "database is locked"; without `foreign_keys` SQLite does not enforce the REFERENCES
/// clauses at all. The page cache is 8 MB a connection (SQLite's default is 2 MB): the
/// pages of the indexes a listing walks stay in it. Reads are not memory-mapped: mapped
/// pages of a 2 GB file count in the server's resident memory (up to the map's size,
/// 256 MB before), and with pages, API answers and feeds served from the server's own
/// caches, the database is read too rarely for the saved copies to matter.
/// `synchronous = FULL` syncs the WAL at every commit: with NORMAL a commit survives a
/// crash of the process but not of the machine (a power cut may take the last ones), and
/// an organiser told "submitted" must find it there. Writes are a few a second at most.
///
/// PostgreSQL: a statement timeout, so that no query holds a connection for ever.
#[derive(Debug, Clone, Copy)]
struct SessionSettings;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        let sql = match conn {
            DbConnection::Sqlite(_) => format!(
                "PRAGMA busy_timeout = {};
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA cache_size = -8000;
                 PRAGMA mmap_size = 0;",
                BUSY_TIMEOUT.as_millis()
            ),
            DbConnection::Postgresql(_) => format!(
                // random_page_cost: PostgreSQL's default of 4 prices a random read as on a
                // spinning disk, and so chose a scan of every event over 700 index lookups for
                // a word search (8 ms instead of 3). The working set of a calendar is in
                // memory or on SSDs, where 1.1 is the usual advice. A value the operator set
                // (server, database or role) is kept.
                "SET statement_timeout = {}; SET application_name = 'creative-calendar'; \
                 SELECT set_config('random_page_cost', '1.1', false) \
                 WHERE current_setting('random_page_cost') = '4';",
                STATEMENT_TIMEOUT.as_millis()
            ),
        };
        conn.batch_execute(&sql)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The key of the advisory lock every write transaction takes on PostgreSQL (any
/// number, the same on every server).
const WRITE_LOCK: i64 = 0x0063_6377_7269_7465; // "ccwrite"

impl DbConnection {
    /// A transaction that writes, holding the database's write lock from its first
    /// statement: SQLite's `BEGIN IMMEDIATE`, and on PostgreSQL a transaction-scoped
    /// advisory lock that every write transaction takes. Either way, write transactions
    /// run one at a time, as they always have on SQLite, so a check and the write it
    /// allows (a sign-in's count of failures, an edit's comparison with the stored
    /// event) cannot interleave with another's. Reads never wait for it.
    pub fn immediate_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match self {
            DbConnection::Sqlite(c) => {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
            }
            DbConnection::Postgresql(c) => {
                AnsiTransactionManager::begin_transaction(c)?;
                if let Err(e) = diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                    .bind::<diesel::sql_types::BigInt, _>(WRITE_LOCK)
                    .execute(c)
                {
                    let _ = AnsiTransactionManager::rollback_transaction(c);
                    return Err(e.into());
                }
            }
        }
        match f(self) {
            Ok(value) => {
                <Self as Connection>::TransactionManager::commit_transaction(self)?;
                Ok(value)
            }
            Err(e) => {
                <Self as Connection>::TransactionManager::rollback_transaction(self)?;
                Err(e)
            }
        }
    }

    /// Which SQL this connection speaks, for the few fragments written by hand.
    pub fn dialect(&self) -> Dialect {
        match self {
            DbConnection::Sqlite(_) => Dialect::Sqlite,
            DbConnection::Postgresql(_) => Dialect::Postgres,
        }
    }
}

/// Why the database refused a write when the fault is its storage, not the request: an
/// operator's problem, answered with a 503 that says so while reads are still served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFailure {
    /// A read-only file or file system (SQLite), or a read-only server (a PostgreSQL
    /// standby, `default_transaction_read_only`).
    ReadOnly,
    /// No space left for the database to grow.
    Full,
    /// The disk failed a read or a write.
    Io,
}

impl StorageFailure {
    /// Neither SQLite's codes nor PostgreSQL's SQLSTATE reach Diesel's error kinds (but
    /// for a read-only transaction); their messages are fixed by each engine, so those are
    /// read instead: SQLite's `sqlite3_errstr` texts, PostgreSQL's `ENOSPC` reports.
    pub fn of(error: &diesel::result::Error) -> Option<StorageFailure> {
        use diesel::result::{DatabaseErrorKind, Error};
        let Error::DatabaseError(kind, info) = error else {
            return None;
        };
        if matches!(kind, DatabaseErrorKind::ReadOnlyTransaction) {
            return Some(StorageFailure::ReadOnly);
        }
        let message = info.message();
        if message.contains("readonly database") || message.contains("read-only transaction") {
            Some(StorageFailure::ReadOnly)
        } else if message.contains("database or disk is full")
            || message.contains("No space left on device")
        {
            Some(StorageFailure::Full)
        } else if message.contains("disk I/O error") {
            Some(StorageFailure::Io)
        } else {
            None
        }
    }

    /// For the visitor's message and the log.
    pub fn cause(self) -> &'static str {
        match self {
            StorageFailure::ReadOnly => "its database is read-only",
            StorageFailure::Full => "its disk is full",
            StorageFailure::Io => "its disk reported an error",
        }
    }
}

impl std::fmt::Display for StorageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.cause())
    }
}

/// The backend a hand-written SQL fragment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Opens the database `url` names (creating a SQLite file if needed) and applies the
/// pending migrations of its backend.
pub fn connect(url: impl Into<DatabaseUrl>, max_size: u32) -> anyhow::Result<DbPool> {
    let url = &url.into();
    if let DatabaseUrl::Sqlite(path) = url {
        prepare_sqlite_file(path)?;
    }
    let pool = Pool::builder()
        .max_size(max_size)
        .connection_timeout(CONNECTION_TIMEOUT)
        // A connection that the server closed (a PostgreSQL restart) is found before a
        // request gets it, and replaced.
        .test_on_check_out(true)
        .connection_customizer(Box::new(SessionSettings))
        .build(DbManager {
            url: url.clone(),
            opened_read_only: Default::default(),
        })
        .with_context(|| format!("opening the database {url}"))?;
    let mut conn = pool.get().context("getting a database connection")?;
    migrate(&mut conn)?;
    // Statistics are an optimisation: a database that cannot write still serves.
    if let Err(e) = optimize(&mut conn) {
        match e.downcast_ref().and_then(StorageFailure::of) {
            Some(failure) => {
                tracing::warn!(%failure, "the planner's statistics were not refreshed")
            }
            None => return Err(e),
        }
    }
    Ok(pool)
}

/// Runs the pending migrations of the connection's backend.
pub fn migrate(conn: &mut DbConnection) -> anyhow::Result<()> {
    let result = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| anyhow::anyhow!("running migrations: {e}"))
}

/// The folder of a new SQLite file, and WAL switched on by one connection.
fn prepare_sqlite_file(path: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the folder {}", parent.display()))?;
    }
    let url = path
        .to_str()
        .with_context(|| format!("the database path {} is not UTF-8", path.display()))?;
    // WAL is kept in the file. Switched here, by one connection, before the pool opens
    // all of its connections at once: on a new file they would all try to switch it
    // together, and SQLite refuses all but one with "database is locked" (without
    // waiting, since waiting could deadlock), which r2d2 logs and retries. Best effort:
    // another process starting on the same new file may switch it first, and the pool's
    // connections set it again in any case.
    let mut first = SqliteConnection::establish(url)
        .with_context(|| format!("opening the database {}", path.display()))?;
    let _ = first.batch_execute(&format!(
        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL;",
        BUSY_TIMEOUT.as_millis()
    ));
    Ok(())
}

/// Refreshes the query planner's statistics where they are stale (SQLite's advice for
/// long-lived connections); cheap when nothing changed. Run at start and after bulk loads,
/// without it the planner may pick an index that sorts a million rows.
pub fn optimize(conn: &mut DbConnection) -> anyhow::Result<()> {
    let sql = match conn {
        DbConnection::Sqlite(_) => "PRAGMA optimize = 0x10002;",
        // autovacuum keeps PostgreSQL's statistics; at start, ANALYZE only if the events
        // never were: analysing a million events on every start kept the first answer
        // waiting for seconds.
        DbConnection::Postgresql(_) => {
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_stat_user_tables WHERE relname = 'events'
                              AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL))
               THEN ANALYZE;
               END IF;
             END $$;"
        }
    };
    conn.batch_execute(sql).context("optimizing the database")
}

/// [`optimize`] after many rows were written at once (`demo`, `db copy`). On PostgreSQL
/// this also VACUUMs: until a table is vacuumed its visibility map is empty, so the
/// planner cannot answer a count from an index alone and reads every row instead (a
/// listing's count of 10,000 events took 15 ms instead of 2.6 ms, until autovacuum
/// came round). VACUUM cannot run inside a transaction; callers hold none.
pub fn optimize_after_bulk_load(conn: &mut DbConnection) -> anyhow::Result<()> {
    if let DbConnection::Postgresql(_) = conn {
        conn.batch_execute("VACUUM (ANALYZE);")
            .context("vacuuming the database")?;
    }
    optimize(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::migration::MigrationSource;
    use diesel::sqlite::Sqlite;

    #[test]
    fn a_database_value_names_its_backend() {
        assert_eq!(
            DatabaseUrl::parse("data/calendar.db"),
            DatabaseUrl::Sqlite("data/calendar.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/cc.db"),
            DatabaseUrl::Sqlite("/var/lib/cc.db".into())
        );
        for pg in [
            "postgres://cc@db/cc",
            "postgresql://cc:secret@db:5432/cc?sslmode=require",
        ] {
            assert!(DatabaseUrl::parse(pg).is_postgres(), "{pg}");
        }
        assert_eq!(
            DatabaseUrl::parse("postgresql://cc:secret@db:5432/cc").to_string(),
            "postgresql://cc@db:5432/cc"
        );
    }

    /// Diesel records a migration by the version before the first `_` of its folder's
    /// name; two folders with one version (branches that both wrote `2026-12-02-000001`)
    /// would leave the second unrun on every database that has run the first.
    #[test]
    fn every_migration_has_a_version_of_its_own() {
        let versions = |set: &EmbeddedMigrations| -> Vec<String> {
            let mut versions: Vec<String> = MigrationSource::<Sqlite>::migrations(set)
                .unwrap()
                .iter()
                .map(|m| m.name().version().to_string())
                .collect();
            versions.sort();
            versions
        };
        let sqlite = versions(&SQLITE_MIGRATIONS);
        let mut unique = sqlite.clone();
        unique.dedup();
        assert_eq!(unique, sqlite);
        // Both backends have the same migrations, so that a database copied from one to
        // the other is at the same version.
        assert_eq!(versions(&POSTGRES_MIGRATIONS), sqlite);
    }
}

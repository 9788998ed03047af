//! The database: a pool of SQLite connections set up the same way every time, the
//! migrations embedded in the binary, and the models that own their queries.

pub mod models;
pub mod schema;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

pub type DbPool = Pool<ConnectionManager<SqliteConnection>>;
pub type DbConn = PooledConnection<ConnectionManager<SqliteConnection>>;

/// How long a request waits for a pooled connection before it fails.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a statement waits for another connection's write lock before it fails with
/// "database is locked" (`busy_timeout`).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Applied to every connection the pool opens. Without WAL and a busy timeout,
/// a reader and a writer at the same moment get "database is locked"; without
/// `foreign_keys` SQLite does not enforce the REFERENCES clauses at all. The page cache
/// (32 MB a connection, against SQLite's default of 2 MB) and memory-mapped reads keep
/// listing queries on a million events from going back to the file for every page.
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {};
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -32000;
             PRAGMA mmap_size = 268435456;",
            BUSY_TIMEOUT.as_millis()
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Opens (creating if needed) the SQLite file at `path` and applies pending migrations.
pub fn connect(path: &Path, max_size: u32) -> anyhow::Result<DbPool> {
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
    {
        use diesel::Connection;
        let mut first = SqliteConnection::establish(url)
            .with_context(|| format!("opening the database {}", path.display()))?;
        let _ = first.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL;",
            BUSY_TIMEOUT.as_millis()
        ));
    }
    let manager = ConnectionManager::<SqliteConnection>::new(url);
    let pool = Pool::builder()
        .max_size(max_size)
        .connection_timeout(CONNECTION_TIMEOUT)
        .connection_customizer(Box::new(SqlitePragmas))
        .build(manager)
        .with_context(|| format!("opening the database {}", path.display()))?;
    let mut conn = pool.get().context("getting a database connection")?;
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
    optimize(&mut conn)?;
    Ok(pool)
}

/// Refreshes the query planner's statistics where they are stale (SQLite's advice for
/// long-lived connections); cheap when nothing changed. Run at start and after bulk loads,
/// without it the planner may pick an index that sorts a million rows.
pub fn optimize(conn: &mut SqliteConnection) -> anyhow::Result<()> {
    conn.batch_execute("PRAGMA optimize = 0x10002;")
        .context("optimizing the database")
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::migration::MigrationSource;
    use diesel::sqlite::Sqlite;

    /// Diesel records a migration by the version before the first `_` of its folder's
    /// name; two folders with one version (branches that both wrote `2026-12-02-000001`)
    /// would leave the second unrun on every database that has run the first.
    #[test]
    fn every_migration_has_a_version_of_its_own() {
        let migrations = MigrationSource::<Sqlite>::migrations(&MIGRATIONS).unwrap();
        let mut versions: Vec<String> = migrations
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        let all = versions.len();
        versions.sort();
        versions.dedup();
        assert_eq!(versions.len(), all, "{versions:?}");
    }
}

//! `creative-calendar backup FILE`: a consistent copy of a SQLite installation, made while
//! the server serves and writes.
//!
//! `VACUUM INTO` reads the database in one read transaction, so the copy is the database
//! as of one moment (every write committed before it, none after), whatever writers do
//! meanwhile: WAL lets them go on, and the copy never waits for them or they for it. It
//! is written to a temporary name beside the target, checked, synced to disk and only
//! then renamed, so that `FILE` is either absent or a whole, checked backup.
//!
//! PostgreSQL has its own tool for this (`pg_dump`), which the README shows.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DbConnection;

/// What a backup holds, to print and to compare with the live database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub events: i64,
    pub accounts: i64,
}

impl std::fmt::Display for BackupReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "backed up {} events and {} accounts to {} ({} bytes); integrity check: ok",
            self.events,
            self.accounts,
            self.path.display(),
            self.bytes
        )
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// Copies the SQLite database `conn` is open on into `target`, which must not exist.
pub fn backup(conn: &mut DbConnection, target: &Path) -> anyhow::Result<BackupReport> {
    let DbConnection::Sqlite(sqlite) = conn else {
        bail!(
            "backup copies SQLite files; for PostgreSQL use pg_dump: \
             pg_dump --format=custom --file=FILE postgres://…"
        );
    };
    if target.exists() {
        bail!(
            "{} exists already; backup never overwrites a file",
            target.display()
        );
    }
    let folder = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .with_context(|| format!("{} is not a file name", target.display()))?;
    let partial = folder.join(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&partial);
    let written = write_copy(sqlite, &partial).and_then(|report| {
        // The rename is the moment the backup exists; the folder is synced after it so
        // that the name survives a power cut too.
        std::fs::rename(&partial, target)
            .with_context(|| format!("renaming the copy to {}", target.display()))?;
        if let Ok(dir) = std::fs::File::open(folder) {
            let _ = dir.sync_all();
        }
        Ok(BackupReport {
            path: target.to_path_buf(),
            ..report
        })
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

fn write_copy(conn: &mut SqliteConnection, partial: &Path) -> anyhow::Result<BackupReport> {
    let path = partial
        .to_str()
        .with_context(|| format!("the path {} is not UTF-8", partial.display()))?;
    // A bound parameter: VACUUM INTO takes any expression that gives the file name.
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(path)
        .execute(conn)
        .with_context(|| format!("copying the database into {path}"))?;
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {path} to disk"))?;

    // Checked as a separate database: what a restore would start on.
    let mut copy =
        SqliteConnection::establish(path).with_context(|| format!("opening the copy {path}"))?;
    let lines: Vec<Line> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut copy)
        .context("checking the copy")?;
    if lines.len() != 1 || lines[0].integrity_check != "ok" {
        let found: Vec<String> = lines.into_iter().map(|l| l.integrity_check).collect();
        bail!("the copy failed its integrity check: {}", found.join("; "));
    }
    let events = super::schema::events::table
        .count()
        .get_result(&mut copy)
        .context("counting the copy's events")?;
    let accounts = super::schema::accounts::table
        .count()
        .get_result(&mut copy)
        .context("counting the copy's accounts")?;
    let bytes = std::fs::metadata(partial)?.len();
    Ok(BackupReport {
        path: partial.to_path_buf(),
        bytes,
        events,
        accounts,
    })
}

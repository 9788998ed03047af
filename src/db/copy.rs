//! `creative-calendar db copy`: an installation moved from one database to another
//! (SQLite to PostgreSQL, or back), everything kept: the same ids, UIDs, SEQUENCE
//! numbers, timestamps, password hashes, sessions and tokens, so that subscribed
//! calendars, signed-in organisers and API clients notice nothing.
//!
//! Every table is listed below with every column, once: a row type that Diesel checks
//! against `schema.rs` for both backends. A test compares this list with the tables and
//! columns the migrations make, so a table or column added later cannot be left behind.

use anyhow::{Context, bail};
use diesel::prelude::*;
use indicatif::ProgressBar;

use super::schema;
use super::{DbConnection, Dialect};

/// Rows read and written at a time: 32 columns × 500 rows stays under SQLite's 32,766
/// bound values a statement, and a million events never sit in memory at once.
const CHUNK: i64 = 500;

/// One table's part of a copy.
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    count: fn(&mut DbConnection) -> QueryResult<i64>,
    copy: fn(&mut DbConnection, &mut DbConnection, &ProgressBar) -> QueryResult<i64>,
    /// Whether it has an `id` that PostgreSQL numbers with a sequence.
    identity: bool,
}

macro_rules! copy_table {
    ($table:ident, $mode:ident, { $($col:ident: $ty:ty,)+ }) => {
        #[allow(non_snake_case)]
        mod $table {
            use super::*;

            #[derive(Queryable, Selectable, Insertable)]
            #[diesel(
                table_name = schema::$table,
                check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg),
                // A NULL stays NULL, never the column's default.
                treat_none_as_default_value = false
            )]
            pub struct Row {
                $(pub $col: $ty,)+
            }

            pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
                schema::$table::table.count().get_result(conn)
            }

            fn insert(to: &mut DbConnection, rows: &[Row]) -> QueryResult<usize> {
                crate::on_backend!(to, c => diesel::insert_into(schema::$table::table)
                    .values(rows)
                    .execute(c))
            }

            copy_table!(@copy $table, $mode);

            pub const TABLE: Table = Table {
                name: stringify!($table),
                columns: &[$(stringify!($col)),+],
                count,
                copy,
                identity: copy_table!(@identity $mode),
            };
        }
    };
    (@identity keyset) => { true };
    (@identity whole) => { false };
    (@copy $table:ident, keyset) => {
        /// In order of id, a chunk at a time, each chunk starting after the last id.
        pub fn copy(from: &mut DbConnection, to: &mut DbConnection, bar: &ProgressBar) -> QueryResult<i64> {
            let mut copied = 0;
            let mut after: Option<i32> = None;
            loop {
                let mut query = schema::$table::table
                    .select(Row::as_select())
                    .order(schema::$table::id.asc())
                    .limit(CHUNK)
                    .into_boxed();
                if let Some(last) = after {
                    query = query.filter(schema::$table::id.gt(last));
                }
                let rows: Vec<Row> = query.load(from)?;
                let Some(last) = rows.last() else { break };
                after = Some(last.id);
                let n = insert(to, &rows)?;
                copied += n as i64;
                bar.inc(n as u64);
                if (rows.len() as i64) < CHUNK {
                    break;
                }
            }
            Ok(copied)
        }
    };
    (@copy $table:ident, whole) => {
        /// A small table with no numeric id, at once.
        pub fn copy(from: &mut DbConnection, to: &mut DbConnection, bar: &ProgressBar) -> QueryResult<i64> {
            let rows: Vec<Row> = schema::$table::table.select(Row::as_select()).load(from)?;
            let mut copied = 0;
            for chunk in rows.chunks(CHUNK as usize) {
                copied += insert(to, chunk)? as i64;
            }
            bar.inc(copied as u64);
            Ok(copied)
        }
    };
}

copy_table!(cities, keyset, {
        id: i32,
        slug: String,
        name: String,
        country: String,
        country_code: String,
        field: String,
        designation_year: i32,
        latitude: f64,
        longitude: f64,
        timezone: String,
        description: Option<String>,
        created_at: chrono::NaiveDateTime,
        updated_at: chrono::NaiveDateTime,
});

copy_table!(accounts, keyset, {
        id: i32,
        email: String,
        display_name: String,
        organisation: String,
        password_hash: String,
        is_admin: bool,
        is_trusted: bool,
        created_at: chrono::NaiveDateTime,
        updated_at: chrono::NaiveDateTime,
});

copy_table!(events, keyset, {
        id: i32,
        uid: String,
        city_id: i32,
        kind: String,
        field: String,
        title: String,
        description: String,
        venue_name: String,
        venue_address: String,
        latitude: Option<f64>,
        longitude: Option<f64>,
        all_day: bool,
        start_date: chrono::NaiveDate,
        start_time: Option<chrono::NaiveTime>,
        end_date: chrono::NaiveDate,
        end_time: Option<chrono::NaiveTime>,
        timezone: String,
        starts_at: chrono::NaiveDateTime,
        ends_at: chrono::NaiveDateTime,
        url: Option<String>,
        price: Option<String>,
        is_free: bool,
        organizer_name: Option<String>,
        status: String,
        moderation: String,
        sequence: i32,
        created_at: chrono::NaiveDateTime,
        updated_at: chrono::NaiveDateTime,
        organiser_id: Option<i32>,
        moderation_note: Option<String>,
        status_note: Option<String>,
        first_published_at: Option<chrono::NaiveDateTime>,
});

copy_table!(sessions, keyset, {
        id: i32,
        token_hash: String,
        account_id: i32,
        csrf_token: String,
        created_at: chrono::NaiveDateTime,
        last_seen_at: chrono::NaiveDateTime,
});

copy_table!(moderator_roles, keyset, {
        id: i32,
        account_id: i32,
        city_id: Option<i32>,
        created_at: chrono::NaiveDateTime,
});

copy_table!(moderation_log, keyset, {
        id: i32,
        actor_id: Option<i32>,
        actor_name: String,
        action: String,
        event_id: Option<i32>,
        account_id: Option<i32>,
        city_id: Option<i32>,
        subject: String,
        reason: String,
        created_at: chrono::NaiveDateTime,
});

copy_table!(event_reviews, whole, {
        event_id: i32,
        approved_form: String,
        approved_at: chrono::NaiveDateTime,
        changed_at: Option<chrono::NaiveDateTime>,
});

copy_table!(event_series, whole, {
        event_id: i32,
        rule: String,
});

copy_table!(event_occurrences, whole, {
        event_id: i32,
        occurrence_date: chrono::NaiveDate,
        status: String,
        start_date: chrono::NaiveDate,
        start_time: Option<chrono::NaiveTime>,
        end_date: chrono::NaiveDate,
        end_time: Option<chrono::NaiveTime>,
        starts_at: chrono::NaiveDateTime,
        ends_at: chrono::NaiveDateTime,
        title: Option<String>,
        overridden: bool,
});

copy_table!(event_opening_hours, whole, {
        event_id: i32,
        weekday: i32,
        opens: chrono::NaiveTime,
        closes: chrono::NaiveTime,
});

copy_table!(event_closed_dates, whole, {
        event_id: i32,
        day: chrono::NaiveDate,
});

copy_table!(api_tokens, keyset, {
        id: i32,
        account_id: i32,
        name: String,
        token_hash: String,
        prefix: String,
        created_at: chrono::NaiveDateTime,
        last_used_at: Option<chrono::NaiveDateTime>,
        revoked_at: Option<chrono::NaiveDateTime>,
});

copy_table!(api_token_writes, keyset, {
        id: i32,
        token_id: i32,
        written_at: chrono::NaiveDateTime,
});

copy_table!(login_failures, keyset, {
        id: i32,
        email: String,
        client: String,
        failed_at: chrono::NaiveDateTime,
});

copy_table!(login_checks, keyset, {
        id: i32,
        email: String,
        client: String,
        started_at: chrono::NaiveDateTime,
});

copy_table!(sign_ups, keyset, {
        id: i32,
        client: String,
        signed_up_at: chrono::NaiveDateTime,
});

copy_table!(server_secrets, whole, {
        name: String,
        value: Vec<u8>,
        created_at: chrono::NaiveDateTime,
});

copy_table!(shipped_cities, whole, {
        name: String,
        country_code: String,
        applied_at: chrono::NaiveDateTime,
});

copy_table!(sources, keyset, {
        id: i32,
        owner_id: i32,
        city_id: i32,
        url: Option<String>,
        name: String,
        kind: String,
        field: Option<String>,
        category_map: String,
        on_vanish: String,
        paused: bool,
        etag: Option<String>,
        last_modified: Option<String>,
        body_hash: Option<String>,
        next_fetch_at: chrono::NaiveDateTime,
        failures: i32,
        lease_until: Option<chrono::NaiveDateTime>,
        lease_holder: Option<String>,
        created_by: Option<i32>,
        created_at: chrono::NaiveDateTime,
        updated_at: chrono::NaiveDateTime,
});

copy_table!(source_runs, keyset, {
        id: i32,
        source_id: i32,
        started_at: chrono::NaiveDateTime,
        duration_ms: i32,
        http_status: Option<i32>,
        bytes: Option<i64>,
        outcome: String,
        message: Option<String>,
        created: i32,
        updated: i32,
        unchanged: i32,
        cancelled: i32,
        removed: i32,
        skipped: i32,
});

copy_table!(source_run_notes, whole, {
        run_id: i32,
        position: i32,
        level: String,
        uid: Option<String>,
        summary: Option<String>,
        reason: String,
});

copy_table!(imported_events, whole, {
        source_id: i32,
        source_uid: String,
        event_id: i32,
        content_hash: String,
        source_timezone: Option<String>,
        vanished: bool,
});

/// Every table, parents before children, as the foreign keys need them
/// (`data_revision` is not copied row by row; see [`copy`]).
pub const TABLES: &[Table] = &[
    cities::TABLE,
    accounts::TABLE,
    events::TABLE,
    sessions::TABLE,
    moderator_roles::TABLE,
    moderation_log::TABLE,
    event_reviews::TABLE,
    event_series::TABLE,
    event_occurrences::TABLE,
    event_opening_hours::TABLE,
    event_closed_dates::TABLE,
    api_tokens::TABLE,
    api_token_writes::TABLE,
    login_failures::TABLE,
    login_checks::TABLE,
    sign_ups::TABLE,
    server_secrets::TABLE,
    shipped_cities::TABLE,
    sources::TABLE,
    source_runs::TABLE,
    source_run_notes::TABLE,
    imported_events::TABLE,
];

/// What a copy did: rows per table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<(&'static str, i64)>,
}

impl std::fmt::Display for CopyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: i64 = self.tables.iter().map(|(_, n)| n).sum();
        write!(f, "copied {total} rows:")?;
        for (name, n) in &self.tables {
            write!(f, " {name} {n},")?;
        }
        write!(f, " and the data revision")
    }
}

/// Copies every row of `from` into `to`, which must be empty (migrated, with no row in
/// any table). All of it is written in one transaction on `to`, which commits only once
/// every table's row count equals the source's; anything else leaves `to` as it was.
/// `from` is read in one read transaction, so the copy is of one moment; still, stop the
/// servers first, or writes made during the copy are not in it.
pub fn copy(
    from: &mut DbConnection,
    to: &mut DbConnection,
    bar: &ProgressBar,
) -> anyhow::Result<CopyReport> {
    for table in TABLES {
        let rows =
            (table.count)(to).with_context(|| format!("counting {} in the target", table.name))?;
        if rows > 0 {
            bail!(
                "the target is not empty ({} has {rows} rows); copy only into a new, empty database",
                table.name
            );
        }
    }
    from.transaction(|from| -> anyhow::Result<CopyReport> {
        if from.dialect() == Dialect::Postgres {
            // One snapshot for every table read, not one per statement.
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(from)?;
        }
        let mut expected = Vec::new();
        for table in TABLES {
            expected.push((table.name, (table.count)(from)?));
        }
        bar.set_length(expected.iter().map(|(_, n)| *n as u64).sum());
        let revision = super::models::data_revision(from)?;
        to.immediate_transaction(|to| -> anyhow::Result<CopyReport> {
            let mut tables = Vec::new();
            for table in TABLES {
                bar.set_message(table.name);
                let n = (table.copy)(from, to, bar)
                    .with_context(|| format!("copying {}", table.name))?;
                tables.push((table.name, n));
            }
            // The triggers moved the target's revision with every insert; it takes the
            // source's, so that the feeds' cache keys go on from where they were.
            diesel::update(schema::data_revision::table)
                .set(schema::data_revision::revision.eq(revision))
                .execute(to)?;
            if to.dialect() == Dialect::Postgres {
                // Explicit ids leave the identity sequences behind; the next row must get
                // the id after the highest copied, not 1.
                for table in TABLES.iter().filter(|t| t.identity) {
                    diesel::sql_query(format!(
                        "SELECT setval(pg_get_serial_sequence('{0}', 'id'), \
                         COALESCE((SELECT MAX(id) FROM {0}), 0) + 1, false)",
                        table.name
                    ))
                    .execute(to)?;
                }
            }
            for (table, (name, want)) in TABLES.iter().zip(&expected) {
                let got = (table.count)(to)?;
                if got != *want {
                    bail!("{name}: {got} rows in the target, {want} in the source; nothing was written");
                }
            }
            Ok(CopyReport { tables })
        })
    })
}

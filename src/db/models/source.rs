//! Organisers' calendars that the site imports: the sources, their runs with what each
//! did, and which event each VEVENT became.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{imported_events, source_run_notes, source_runs, sources};

/// How many runs of a source are kept: enough to see a pattern of failures.
pub const RUNS_KEPT: i64 = 20;

/// The most skipped VEVENTs and warnings one run records; a feed of 5,000 broken events
/// says so in its counts, not in 5,000 rows.
pub const NOTES_KEPT: usize = 200;

/// What happens to an event that disappears from its feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnVanish {
    /// Cancelled (STATUS:CANCELLED in feeds), as an organiser's own cancellation.
    Cancel,
    /// Removed if it was never published, cancelled otherwise (calendars may hold it).
    Remove,
}

impl OnVanish {
    pub fn slug(self) -> &'static str {
        match self {
            OnVanish::Cancel => "cancel",
            OnVanish::Remove => "remove",
        }
    }

    pub fn parse(value: &str) -> Option<OnVanish> {
        match value {
            "cancel" => Some(OnVanish::Cancel),
            "remove" => Some(OnVanish::Remove),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sources)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Source {
    pub id: i32,
    /// The organiser whose events they become.
    pub owner_id: i32,
    pub city_id: i32,
    /// `None`: a file uploaded once.
    pub url: Option<String>,
    pub name: String,
    pub kind: String,
    pub field: Option<String>,
    pub category_map: String,
    pub on_vanish: String,
    pub paused: bool,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body_hash: Option<String>,
    pub next_fetch_at: NaiveDateTime,
    pub failures: i32,
    pub lease_until: Option<NaiveDateTime>,
    pub lease_holder: Option<String>,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sources)]
pub struct NewSource {
    pub owner_id: i32,
    pub city_id: i32,
    pub url: Option<String>,
    pub name: String,
    pub kind: String,
    pub field: Option<String>,
    pub category_map: String,
    pub on_vanish: String,
    pub next_fetch_at: NaiveDateTime,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a fetch leaves on its source: the validators for the next conditional GET,
/// the body's hash, and when to try again.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = sources, treat_none_as_null = true)]
pub struct FetchState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body_hash: Option<String>,
    pub next_fetch_at: NaiveDateTime,
    pub failures: i32,
}

/// What an organiser may change of a source.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = sources, treat_none_as_null = true)]
pub struct SourceSettings {
    pub city_id: i32,
    pub url: Option<String>,
    pub name: String,
    pub kind: String,
    pub field: Option<String>,
    pub category_map: String,
    pub on_vanish: String,
}

impl Source {
    /// New settings; the validators and the body's hash are forgotten, so that the next
    /// fetch (due at once) reads and maps the whole feed again under them.
    pub fn update_settings(
        conn: &mut DbConnection,
        id: i32,
        settings: &SourceSettings,
        now: DateTime<Utc>,
    ) -> QueryResult<Source> {
        crate::on_backend!(conn, c => diesel::update(sources::table.find(id))
            .set((
                settings,
                sources::etag.eq(None::<String>),
                sources::last_modified.eq(None::<String>),
                sources::body_hash.eq(None::<String>),
                sources::next_fetch_at.eq(now.naive_utc()),
                sources::updated_at.eq(now.naive_utc()),
            ))
            .returning(Source::as_returning())
            .get_result(c))
    }

    pub fn on_vanish(&self) -> OnVanish {
        OnVanish::parse(&self.on_vanish).unwrap_or(OnVanish::Cancel)
    }

    pub fn create(conn: &mut DbConnection, new: &NewSource) -> QueryResult<Source> {
        crate::on_backend!(conn, c => diesel::insert_into(sources::table)
            .values(new)
            .returning(Source::as_returning())
            .get_result(c))
    }

    pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Source> {
        sources::table
            .find(id)
            .select(Source::as_select())
            .first(conn)
    }

    /// The sources of `owner_id`, and those of the cities in `cities` (a moderator's;
    /// `None`: every city), by name.
    pub fn list_for(
        conn: &mut DbConnection,
        owner_id: i32,
        cities: Option<&[i32]>,
    ) -> QueryResult<Vec<Source>> {
        let mut query = sources::table.select(Source::as_select()).into_boxed();
        if let Some(cities) = cities {
            query = query.filter(
                sources::owner_id
                    .eq(owner_id)
                    .or(sources::city_id.eq_any(cities.to_vec())),
            );
        }
        query
            .order((sources::name.asc(), sources::id.asc()))
            .load(conn)
    }

    /// The ids of the sources with a URL that are due at `now` and not paused, the
    /// longest-waiting first.
    pub fn due(conn: &mut DbConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<i32>> {
        sources::table
            .filter(sources::paused.eq(false))
            .filter(sources::url.is_not_null())
            .filter(sources::next_fetch_at.le(now.naive_utc()))
            .order((sources::next_fetch_at.asc(), sources::id.asc()))
            .limit(limit)
            .select(sources::id)
            .load(conn)
    }

    /// Takes the source for `holder` until `until`, unless another holder's lease is
    /// still running. One conditional UPDATE, so that of two servers (or two commands)
    /// asking at once exactly one gets it, on SQLite and PostgreSQL alike.
    pub fn take_lease(
        conn: &mut DbConnection,
        id: i32,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> QueryResult<bool> {
        let taken = diesel::update(
            sources::table.find(id).filter(
                sources::lease_until
                    .is_null()
                    .or(sources::lease_until.le(now.naive_utc())),
            ),
        )
        .set((
            sources::lease_until.eq(Some(until.naive_utc())),
            sources::lease_holder.eq(Some(holder)),
        ))
        .execute(conn)?;
        Ok(taken == 1)
    }

    pub fn release_lease(conn: &mut DbConnection, id: i32, holder: &str) -> QueryResult<()> {
        diesel::update(
            sources::table
                .find(id)
                .filter(sources::lease_holder.eq(holder)),
        )
        .set((
            sources::lease_until.eq(None::<NaiveDateTime>),
            sources::lease_holder.eq(None::<String>),
        ))
        .execute(conn)?;
        Ok(())
    }

    pub fn record_fetch(conn: &mut DbConnection, id: i32, state: &FetchState) -> QueryResult<()> {
        diesel::update(sources::table.find(id))
            .set(state)
            .execute(conn)?;
        Ok(())
    }

    pub fn set_name(conn: &mut DbConnection, id: i32, name: &str) -> QueryResult<()> {
        diesel::update(sources::table.find(id))
            .set(sources::name.eq(name))
            .execute(conn)?;
        Ok(())
    }

    pub fn set_paused(
        conn: &mut DbConnection,
        id: i32,
        paused: bool,
        now: DateTime<Utc>,
    ) -> QueryResult<()> {
        diesel::update(sources::table.find(id))
            .set((
                sources::paused.eq(paused),
                sources::updated_at.eq(now.naive_utc()),
                // Resumed: due at once, and its failures forgiven.
                sources::next_fetch_at.eq(now.naive_utc()),
                sources::failures.eq(0),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Deletes the source; its runs, their notes and its links go with it (the foreign
    /// keys cascade), not its events: the caller has cancelled or removed them as the
    /// source says.
    pub fn delete(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
        diesel::delete(sources::table.find(id)).execute(conn)?;
        Ok(())
    }
}

/// One fetch of a source, as the source page shows it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = source_runs)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct SourceRun {
    pub id: i32,
    pub source_id: i32,
    pub started_at: NaiveDateTime,
    pub duration_ms: i32,
    pub http_status: Option<i32>,
    pub bytes: Option<i64>,
    pub outcome: String,
    pub message: Option<String>,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub cancelled: i32,
    pub removed: i32,
    pub skipped: i32,
}

#[derive(Debug, Clone, Default, Insertable)]
#[diesel(table_name = source_runs)]
pub struct NewRun {
    pub source_id: i32,
    pub started_at: NaiveDateTime,
    pub duration_ms: i32,
    pub http_status: Option<i32>,
    pub bytes: Option<i64>,
    pub outcome: String,
    pub message: Option<String>,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub cancelled: i32,
    pub removed: i32,
    pub skipped: i32,
}

/// A skipped VEVENT or a warning of a run.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = source_run_notes)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct RunNote {
    pub run_id: i32,
    pub position: i32,
    /// `skipped` or `warning`.
    pub level: String,
    pub uid: Option<String>,
    pub summary: Option<String>,
    pub reason: String,
}

impl SourceRun {
    /// Records a run with its notes (the first [`NOTES_KEPT`]), and forgets the runs
    /// of the source older than the last [`RUNS_KEPT`].
    pub fn record(
        conn: &mut DbConnection,
        run: &NewRun,
        notes: &[(String, Option<String>, Option<String>, String)],
    ) -> QueryResult<SourceRun> {
        metrics::counter!("import_runs_total", "outcome" => run.outcome.clone()).increment(1);
        let saved = crate::on_backend!(conn, c => diesel::insert_into(source_runs::table)
            .values(run)
            .returning(SourceRun::as_returning())
            .get_result(c))?;
        for (position, (level, uid, summary, reason)) in notes.iter().take(NOTES_KEPT).enumerate() {
            diesel::insert_into(source_run_notes::table)
                .values(RunNote {
                    run_id: saved.id,
                    position: position as i32,
                    level: level.clone(),
                    uid: uid.as_deref().map(clip),
                    summary: summary.as_deref().map(clip),
                    reason: clip(reason),
                })
                .execute(conn)?;
        }
        let keep_from: Option<i32> = source_runs::table
            .filter(source_runs::source_id.eq(run.source_id))
            .order(source_runs::id.desc())
            .offset(RUNS_KEPT)
            .select(source_runs::id)
            .first(conn)
            .optional()?;
        if let Some(oldest_dropped) = keep_from {
            let old = source_runs::table
                .filter(source_runs::source_id.eq(run.source_id))
                .filter(source_runs::id.le(oldest_dropped))
                .select(source_runs::id);
            diesel::delete(source_run_notes::table.filter(source_run_notes::run_id.eq_any(old)))
                .execute(conn)?;
            diesel::delete(
                source_runs::table
                    .filter(source_runs::source_id.eq(run.source_id))
                    .filter(source_runs::id.le(oldest_dropped)),
            )
            .execute(conn)?;
        }
        Ok(saved)
    }

    /// The last runs of a source, newest first.
    pub fn recent(
        conn: &mut DbConnection,
        source_id: i32,
        limit: i64,
    ) -> QueryResult<Vec<SourceRun>> {
        source_runs::table
            .filter(source_runs::source_id.eq(source_id))
            .order(source_runs::id.desc())
            .limit(limit)
            .select(SourceRun::as_select())
            .load(conn)
    }

    /// The last run of each of `ids`.
    pub fn latest_of(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<HashMap<i32, SourceRun>> {
        // Two queries for any number of sources: the newest run's id of each (ids only
        // grow), then those runs.
        let newest: Vec<Option<i32>> = source_runs::table
            .filter(source_runs::source_id.eq_any(ids.to_vec()))
            .group_by(source_runs::source_id)
            .select(diesel::dsl::max(source_runs::id))
            .load(conn)?;
        let newest: Vec<i32> = newest.into_iter().flatten().collect();
        Ok(source_runs::table
            .filter(source_runs::id.eq_any(newest))
            .select(SourceRun::as_select())
            .load(conn)?
            .into_iter()
            .map(|run| (run.source_id, run))
            .collect())
    }

    pub fn notes(conn: &mut DbConnection, run_id: i32) -> QueryResult<Vec<RunNote>> {
        source_run_notes::table
            .filter(source_run_notes::run_id.eq(run_id))
            .order(source_run_notes::position.asc())
            .select(RunNote::as_select())
            .load(conn)
    }

    /// The counts in the words of the source page: "3 created, 1 updated, …".
    pub fn counts(&self) -> String {
        format!(
            "{} created, {} updated, {} unchanged, {} cancelled, {} removed, {} skipped",
            self.created, self.updated, self.unchanged, self.cancelled, self.removed, self.skipped
        )
    }
}

/// Notes are for people; a 50,000-character SUMMARY is not kept whole here either.
fn clip(text: &str) -> String {
    const MAX: usize = 300;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        text.chars().take(MAX).collect::<String>() + "…"
    }
}

/// Which event a VEVENT of a source became.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = imported_events)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ImportedEvent {
    pub source_id: i32,
    pub source_uid: String,
    pub event_id: i32,
    pub content_hash: String,
    pub source_timezone: Option<String>,
    pub vanished: bool,
}

impl ImportedEvent {
    /// The links of a source, by source UID.
    pub fn of_source(
        conn: &mut DbConnection,
        source_id: i32,
    ) -> QueryResult<HashMap<String, ImportedEvent>> {
        Ok(imported_events::table
            .filter(imported_events::source_id.eq(source_id))
            .select(ImportedEvent::as_select())
            .load(conn)?
            .into_iter()
            .map(|link| (link.source_uid.clone(), link))
            .collect())
    }

    /// How many events of a source are still in its feed.
    pub fn live_count(conn: &mut DbConnection, source_id: i32) -> QueryResult<i64> {
        imported_events::table
            .filter(imported_events::source_id.eq(source_id))
            .filter(imported_events::vanished.eq(false))
            .count()
            .get_result(conn)
    }

    /// The link of event `event_id`, if it was imported.
    pub fn of_event(conn: &mut DbConnection, event_id: i32) -> QueryResult<Option<ImportedEvent>> {
        imported_events::table
            .filter(imported_events::event_id.eq(event_id))
            .select(ImportedEvent::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(imported_events::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }

    /// Writes the link's hash, zone and vanished mark.
    pub fn save(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::update(
            imported_events::table
                .filter(imported_events::source_id.eq(self.source_id))
                .filter(imported_events::source_uid.eq(&self.source_uid)),
        )
        .set((
            imported_events::content_hash.eq(&self.content_hash),
            imported_events::source_timezone.eq(&self.source_timezone),
            imported_events::vanished.eq(self.vanished),
        ))
        .execute(conn)?;
        Ok(())
    }

    pub fn delete(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::delete(
            imported_events::table
                .filter(imported_events::source_id.eq(self.source_id))
                .filter(imported_events::source_uid.eq(&self.source_uid)),
        )
        .execute(conn)?;
        Ok(())
    }
}

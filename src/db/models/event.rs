use std::collections::HashMap;

use crate::db::{DbBackend, DbConnection, Dialect};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use diesel::dsl::{count_star, max, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Timestamp};

use super::{City, CountRows, OccurrenceStatus, Repetition, fts_query, like_pattern, lower};
use crate::db::schema::{
    cities, data_revision, event_closed_dates, event_occurrences, event_opening_hours, events,
};
use crate::domain::{
    CountryCode, CreativeField, EventDraft, EventKind, EventSchedule, EventStatus, ModerationState,
    ScheduleError, TimeZoneName,
};

/// An event as stored.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = events, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Event {
    pub id: i32,
    pub uid: String,
    pub city_id: i32,
    #[diesel(deserialize_as = String)]
    pub kind: EventKind,
    #[diesel(deserialize_as = String)]
    pub field: CreativeField,
    pub title: String,
    pub description: String,
    pub venue_name: String,
    pub venue_address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub all_day: bool,
    pub start_date: NaiveDate,
    pub start_time: Option<NaiveTime>,
    pub end_date: NaiveDate,
    pub end_time: Option<NaiveTime>,
    #[diesel(deserialize_as = String)]
    pub timezone: TimeZoneName,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub url: Option<String>,
    pub price: Option<String>,
    pub is_free: bool,
    pub organizer_name: Option<String>,
    #[diesel(deserialize_as = String)]
    pub status: EventStatus,
    #[diesel(deserialize_as = String)]
    pub moderation: ModerationState,
    pub sequence: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The account that submitted it; none for imported and demo events.
    pub organiser_id: Option<i32>,
    /// A moderator's reason for a rejection, shown to the organiser.
    pub moderation_note: Option<String>,
    /// The organiser's note on a cancellation or postponement.
    pub status_note: Option<String>,
    /// The first approval; an event ever published is cancelled, never deleted.
    pub first_published_at: Option<NaiveDateTime>,
}

/// What an organiser says of an event, as stored: every column a form or an import
/// writes, and that an edit replaces. Listed once, for inserts ([`NewEvent`]), updates
/// and the test of whether an edit changed anything. Options are written as NULL when
/// `None`.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = events, treat_none_as_null = true)]
pub struct EventDetails {
    pub city_id: i32,
    pub kind: &'static str,
    pub field: &'static str,
    pub title: String,
    pub description: String,
    pub venue_name: String,
    pub venue_address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub all_day: bool,
    pub start_date: NaiveDate,
    pub start_time: Option<NaiveTime>,
    pub end_date: NaiveDate,
    pub end_time: Option<NaiveTime>,
    pub timezone: &'static str,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub url: Option<String>,
    pub price: Option<String>,
    pub is_free: bool,
    pub organizer_name: Option<String>,
    pub status: &'static str,
}

impl EventDetails {
    /// The details of `draft` in `city`. The UTC instants are derived here, in the
    /// city's zone, so every write path resolves schedules alike.
    pub fn from_draft(draft: &EventDraft, city: &City) -> Result<EventDetails, ScheduleError> {
        let tz = city.timezone;
        let mut instants = draft.schedule.resolve(tz.tz())?;
        // A series' `ends_at` is the end of its last occurrence that happens: "not ended
        // yet" then holds for the whole series, through the same indexes.
        if let Some(series) = &draft.series {
            let last = series
                .occurrences(&draft.schedule, tz.tz())
                .into_iter()
                .filter(|o| !o.skipped)
                .map(|o| o.ends_at)
                .max();
            instants.ends_at = last.unwrap_or(instants.ends_at).max(instants.ends_at);
        }
        let (latitude, longitude) = draft.coordinates.unzip();
        Ok(EventDetails {
            city_id: city.id,
            kind: draft.kind.slug(),
            field: draft.field.unwrap_or(city.field).slug(),
            title: draft.title.as_str().to_owned(),
            description: draft.description.clone(),
            venue_name: draft.venue_name.clone(),
            venue_address: draft.venue_address.clone(),
            latitude,
            longitude,
            all_day: draft.schedule.is_all_day(),
            start_date: draft.schedule.first_date(),
            start_time: draft.schedule.start_time(),
            end_date: draft.schedule.last_date(),
            end_time: draft.schedule.end_time(),
            timezone: tz.name(),
            starts_at: instants.starts_at.naive_utc(),
            ends_at: instants.ends_at.naive_utc(),
            url: draft.url.clone(),
            price: draft.price.clone(),
            is_free: draft.is_free,
            organizer_name: draft.organizer_name.clone(),
            status: draft.status.slug(),
        })
    }
}

/// An event to insert: its details, and what the site itself keeps of it.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent {
    pub uid: String,
    #[diesel(embed)]
    pub details: EventDetails,
    pub moderation: &'static str,
    pub sequence: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub organiser_id: Option<i32>,
    pub first_published_at: Option<NaiveDateTime>,
}

impl NewEvent {
    /// An insert for `draft` in `city`, with a fresh random UID.
    pub fn from_draft(
        draft: &EventDraft,
        city: &City,
        moderation: ModerationState,
        now: DateTime<Utc>,
    ) -> Result<NewEvent, ScheduleError> {
        let now = now.naive_utc();
        Ok(NewEvent {
            // Random, not derived from the host or the id: it must survive a move to
            // another domain or database, and it is what calendars key on.
            uid: format!("{}@creative-calendar", uuid::Uuid::new_v4()),
            details: EventDetails::from_draft(draft, city)?,
            moderation: moderation.slug(),
            sequence: 0,
            created_at: now,
            updated_at: now,
            organiser_id: None,
            first_published_at: (moderation == ModerationState::Published).then_some(now),
        })
    }

    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<Event> {
        crate::on_backend!(conn, c => diesel::insert_into(events::table)
            .values(self)
            .returning(Event::as_returning())
            .get_result(c))
    }

    /// Inserts many rows in statements of `chunk` rows; the caller owns the transaction.
    pub fn insert_all(conn: &mut DbConnection, rows: &[NewEvent]) -> QueryResult<usize> {
        // 29 bound values a row; SQLite allows 32,766 per statement.
        const ROWS_PER_STATEMENT: usize = 1_000;
        let mut inserted = 0;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            inserted += crate::on_backend!(conn, c => diesel::insert_into(events::table)
                .values(chunk)
                .execute(c))?;
        }
        Ok(inserted)
    }
}

/// How many published events that have not ended each city and each field has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpcomingCounts {
    pub by_city: HashMap<i32, i64>,
    pub by_field: HashMap<CreativeField, i64>,
}

impl UpcomingCounts {
    /// One pass over the covering index `events_upcoming`; no event row is read.
    pub fn load(conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<UpcomingCounts> {
        let rows: Vec<(i32, String, i64)> = events::table
            .filter(events::moderation.eq(ModerationState::Published.slug()))
            .filter(events::ends_at.gt(now.naive_utc()))
            .group_by((events::city_id, events::field))
            .select((events::city_id, events::field, count_star()))
            .load(conn)?;
        let mut counts = UpcomingCounts::default();
        for (city_id, field, n) in rows {
            *counts.by_city.entry(city_id).or_default() += n;
            if let Ok(field) = CreativeField::parse(&field) {
                *counts.by_field.entry(field).or_default() += n;
            }
        }
        Ok(counts)
    }
}

/// An event with its city, as every page shows them together.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct EventWithCity {
    #[diesel(embed)]
    pub event: Event,
    #[diesel(embed)]
    pub city: City,
}

/// Which part of time a listing covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    /// Only events overlapping these local dates (either end open). Dates are each
    /// event's own local dates, so "12 December" means 12 December where it happens.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only events that have ended, most recent first. Without it and without dates:
    /// events that have not ended, those running now first, then by start.
    pub past: bool,
    /// Only events open on this local date: an occurrence of a series on it, opening
    /// hours on its weekday (and not a closed date), or a single event running then.
    pub open: Option<NaiveDate>,
}

impl Window {
    /// Both ends given: read by span class (see [`overlapping`]).
    fn is_range(&self) -> bool {
        self.from.is_some() && self.to.is_some()
    }

    fn has_dates(&self) -> bool {
        self.from.is_some() || self.to.is_some() || self.open.is_some()
    }
}

/// A validated search over published events.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub city_id: Option<i32>,
    pub country: Option<CountryCode>,
    pub field: Option<CreativeField>,
    pub kind: Option<EventKind>,
    pub text: Option<String>,
    pub window: Window,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    /// How the text filter is read; [`EventQuery::run`] and the other readers choose it
    /// from the search index (see [`TextPlan`]), so callers leave the default.
    pub text_plan: TextPlan,
}

/// How a word search is joined to the listing.
///
/// A rare word is best looked up: its few matches are read from the search index and
/// their events fetched by id, then sorted. A common word (thousands of matches) is
/// best filtered: the listing walks its usual index in order and keeps the events
/// whose id is among the matches, which stops as soon as a page (or the count's cap) is
/// full, instead of fetching and sorting every match (a second at a million events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextPlan {
    #[default]
    Lookup,
    Filter,
}

/// A word with at least this many matches is common (see [`TextPlan`]): looking this
/// many events up by id takes a few milliseconds.
const COMMON_WORD_MATCHES: i64 = 2_000;

#[derive(QueryableByName)]
struct Matches {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// One page of results and the total number of matches.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<EventWithCity>,
    /// The series and opening hours among them.
    pub repetitions: HashMap<i32, Repetition>,
    /// The number of matches, counted up to [`COUNT_CAP`].
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl EventPage {
    /// Whether there are more matches than were counted.
    pub fn is_capped(&self) -> bool {
        self.total >= COUNT_CAP
    }

    pub fn page_count(&self) -> u32 {
        let per_page = i64::from(self.per_page.max(1));
        u32::try_from((self.total + per_page - 1) / per_page).unwrap_or(u32::MAX)
    }
}

type EventsBoxed<'a> = events::BoxedQuery<'a, DbBackend>;

/// How many rows `query` matches, counting no further than `cap`, in the database.
fn count_up_to(conn: &mut DbConnection, query: EventsBoxed<'static>, cap: i64) -> QueryResult<i64> {
    CountRows(query.select(events::id).limit(cap)).get_result(conn)
}

/// Which slice of the filtered events a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slice {
    /// Everything the filters allow.
    All,
    /// Started and not ended: running now.
    OnNow,
    /// Not started yet.
    Later,
}

/// Counting stops here: a listing says "more than 10,000" rather than scanning a
/// million rows for an exact number nobody pages through.
pub const COUNT_CAP: i64 = 10_000;

impl EventQuery {
    /// The filtered, unordered query over `events` alone. Cities are not joined here (the
    /// country filter is a sub-select), so that counts can be answered from an index
    /// without reading event rows. Built fresh each time: boxed queries cannot be cloned.
    fn filtered(&self, dialect: Dialect, now: NaiveDateTime, slice: Slice) -> EventsBoxed<'static> {
        self.filtered_in(dialect, ModerationState::Published, now, slice)
    }

    /// [`EventQuery::filtered`] over events in another moderation state.
    fn filtered_in(
        &self,
        dialect: Dialect,
        moderation: ModerationState,
        now: NaiveDateTime,
        slice: Slice,
    ) -> EventsBoxed<'static> {
        let mut query = events::table
            .filter(events::moderation.eq(moderation.slug()))
            .into_boxed();
        if let Some(city_id) = self.city_id {
            query = query.filter(events::city_id.eq(city_id));
        }
        if let Some(country) = self.country {
            query = query.filter(
                events::city_id.eq_any(
                    cities::table
                        .filter(cities::country_code.eq(country.as_str().to_owned()))
                        .select(cities::id),
                ),
            );
        }
        if let Some(field) = self.field {
            query = query.filter(events::field.eq(field.slug()));
        }
        if let Some(kind) = self.kind {
            query = query.filter(events::kind.eq(kind.slug()));
        }
        if let Some(text) = &self.text {
            query = match (fts_query(text, dialect), dialect) {
                // The full-text index answers word searches without reading event rows.
                (Some(words), Dialect::Sqlite) => query.filter(
                    // `+` keeps SQLite from driving the query from the matches' ids, so
                    // that it walks the listing's index and tests each id instead.
                    sql::<Bool>(match self.text_plan {
                        TextPlan::Lookup => "events.id",
                        TextPlan::Filter => "+events.id",
                    })
                    .sql(" IN (SELECT rowid FROM events_search WHERE events_search MATCH ")
                    .bind::<Text, _>(words)
                    .sql(")"),
                ),
                (Some(words), Dialect::Postgres) => query.filter(
                    sql::<Bool>(
                        "events.id IN (SELECT event_id FROM events_search \
                         WHERE document @@ to_tsquery('cc_search', ",
                    )
                    .bind::<Text, _>(words)
                    .sql("))"),
                ),
                // Text with no word in it ("%", "&") can only be matched literally. SQLite's
                // LIKE ignores the case of ASCII letters; PostgreSQL's ignores none, so
                // both sides are lowered there.
                (None, Dialect::Postgres) => {
                    let pattern = like_pattern(text);
                    query.filter(
                        lower(events::title)
                            .like(lower(pattern.clone()))
                            .escape('\\')
                            .or(lower(events::venue_name)
                                .like(lower(pattern.clone()))
                                .escape('\\'))
                            .or(lower(events::description).like(lower(pattern)).escape('\\')),
                    )
                }
                (None, Dialect::Sqlite) => {
                    let pattern = like_pattern(text);
                    query.filter(
                        events::title
                            .like(pattern.clone())
                            .escape('\\')
                            .or(events::venue_name.like(pattern.clone()).escape('\\'))
                            .or(events::description.like(pattern).escape('\\')),
                    )
                }
            };
        }
        let window = self.window;
        // A series' own date columns are its first occurrence; its other occurrences
        // are found in `event_occurrences` (only series have rows there).
        let has_occurrences = || {
            event_occurrences::table
                .filter(event_occurrences::event_id.eq(events::id))
                .select(event_occurrences::event_id)
        };
        if window.from.is_some() || window.to.is_some() {
            // Open ends as the first and last four-digit dates: they sort as dates both
            // as SQLite's text and as PostgreSQL's dates (chrono's extremes do not).
            let from = window
                .from
                .unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default());
            let to = window
                .to
                .unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default());
            if window.to.is_some() {
                query = query.filter(events::start_date.le(to));
            }
            if window.is_range() {
                query = query.filter(overlapping(dialect, moderation, from, to));
            } else {
                let single = events::end_date
                    .ge(from)
                    .and(diesel::dsl::not(diesel::dsl::exists(has_occurrences())));
                let occurrence = diesel::dsl::exists(
                    event_occurrences::table
                        .filter(event_occurrences::event_id.eq(events::id))
                        .filter(event_occurrences::status.ne(OccurrenceStatus::Skipped.slug()))
                        .filter(event_occurrences::start_date.le(to))
                        .filter(event_occurrences::end_date.ge(from))
                        .select(event_occurrences::event_id),
                );
                query = query.filter(single.or(occurrence));
            }
        }
        if let Some(day) = window.open {
            let weekday = i32::try_from(day.weekday().num_days_from_monday()).unwrap_or(0);
            let hours_of = || {
                event_opening_hours::table
                    .filter(event_opening_hours::event_id.eq(events::id))
                    .select(event_opening_hours::event_id)
            };
            let plain = diesel::dsl::not(diesel::dsl::exists(has_occurrences()))
                .and(diesel::dsl::not(diesel::dsl::exists(hours_of())));
            let occurrence = diesel::dsl::exists(
                event_occurrences::table
                    .filter(event_occurrences::event_id.eq(events::id))
                    .filter(event_occurrences::status.eq(OccurrenceStatus::Scheduled.slug()))
                    .filter(event_occurrences::start_date.le(day))
                    .filter(event_occurrences::end_date.ge(day))
                    .select(event_occurrences::event_id),
            );
            let open_hours =
                diesel::dsl::exists(hours_of().filter(event_opening_hours::weekday.eq(weekday)))
                    .and(diesel::dsl::not(diesel::dsl::exists(
                        event_closed_dates::table
                            .filter(event_closed_dates::event_id.eq(events::id))
                            .filter(event_closed_dates::day.eq(day))
                            .select(event_closed_dates::event_id),
                    )));
            query = query
                .filter(events::status.eq(EventStatus::Scheduled.slug()))
                .filter(events::start_date.le(day))
                .filter(
                    events::end_date
                        .ge(day)
                        .and(plain.or(open_hours))
                        .or(occurrence),
                );
        }
        if window.past {
            // Past events, latest start first, are read backwards along the index by
            // start (which every ended event's start is also before now), stopping at
            // the page, not by end and then sorted. On SQLite `+` keeps the end out of
            // the index choice; PostgreSQL weighs both by their statistics.
            query = query.filter(events::starts_at.le(now));
            query = match dialect {
                Dialect::Sqlite => query.filter(
                    sql::<Bool>("+events.ends_at <= ")
                        .bind::<Timestamp, _>(now)
                        .sql(""),
                ),
                Dialect::Postgres => query.filter(events::ends_at.le(now)),
            };
        } else if !window.has_dates() {
            query = query.filter(events::ends_at.gt(now));
        }
        match slice {
            Slice::All => query,
            Slice::OnNow => query.filter(events::starts_at.le(now)),
            Slice::Later => query.filter(events::starts_at.gt(now)),
        }
    }

    /// How many events a slice holds, counting no further than `cap`.
    fn count(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        slice: Slice,
        cap: i64,
    ) -> QueryResult<i64> {
        count_up_to(conn, self.filtered(conn.dialect(), now, slice), cap)
    }

    fn load(
        &self,
        conn: &mut DbConnection,
        now: NaiveDateTime,
        slice: Slice,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Event>> {
        if self.window.is_range() {
            // A date range's candidates come from several index ranges and are sorted:
            // sorted by id and start from the index alone, then only the page's rows
            // read, instead of reading every candidate's row to sort it (a month of a
            // million events: 100,000 rows).
            let page: Vec<i32> = self
                .in_order(self.filtered(conn.dialect(), now, slice))
                .select(events::id)
                .limit(limit)
                .offset(offset)
                .load(conn)?;
            return self
                .in_order(events::table.filter(events::id.eq_any(page)).into_boxed())
                .select(Event::as_select())
                .load(conn);
        }
        self.in_order(self.filtered(conn.dialect(), now, slice))
            .select(Event::as_select())
            .limit(limit)
            .offset(offset)
            .load(conn)
    }

    /// `query` in listing order: by start, latest first for past events; the id makes
    /// the order total, which keyset pages need.
    fn in_order(&self, query: EventsBoxed<'static>) -> EventsBoxed<'static> {
        if self.window.past {
            query.order((events::starts_at.desc(), events::id.desc()))
        } else {
            query.order((events::starts_at.asc(), events::id.asc()))
        }
    }

    /// The query with its text filter planned for how common its words are (see
    /// [`TextPlan`]): on SQLite, the search index is asked whether the words have
    /// [`COMMON_WORD_MATCHES`] matches, reading no further. PostgreSQL's planner knows
    /// its words' frequencies from its own statistics.
    pub fn planned(&self, conn: &mut DbConnection) -> QueryResult<EventQuery> {
        let mut query = self.clone();
        let words = self
            .text
            .as_deref()
            .and_then(|text| fts_query(text, Dialect::Sqlite));
        if let (Some(words), Dialect::Sqlite) = (words, conn.dialect()) {
            let matches: Matches = diesel::sql_query(
                "SELECT COUNT(*) AS n FROM (SELECT rowid FROM events_search \
                 WHERE events_search MATCH ? LIMIT ?)",
            )
            .bind::<Text, _>(words)
            .bind::<diesel::sql_types::BigInt, _>(COMMON_WORD_MATCHES)
            .get_result(conn)?;
            if matches.n >= COMMON_WORD_MATCHES {
                query.text_plan = TextPlan::Filter;
            }
        }
        Ok(query)
    }

    /// The database's plans for the statements [`EventQuery::run`] sends, one line a
    /// step, for the tests that hold every listing to its indexes.
    pub fn plans(&self, conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<Vec<String>> {
        self.planned(conn)?.plans_as_planned(conn, now)
    }

    fn plans_as_planned(
        &self,
        conn: &mut DbConnection,
        now: DateTime<Utc>,
    ) -> QueryResult<Vec<String>> {
        let now = now.naive_utc();
        let dialect = conn.dialect();
        let upcoming = !self.window.past && !self.window.has_dates();
        let slices: &[Slice] = if upcoming {
            &[Slice::OnNow, Slice::Later]
        } else {
            &[Slice::All]
        };
        let mut lines = Vec::new();
        for &slice in slices {
            let count = self
                .filtered(dialect, now, slice)
                .select(events::id)
                .limit(COUNT_CAP);
            lines.extend(super::explain(conn, CountRows(count))?);
            let page = self
                .in_order(self.filtered(dialect, now, slice))
                .select(events::id)
                .limit(i64::from(self.per_page.max(1)))
                .offset(0);
            lines.extend(super::explain(conn, page)?);
        }
        Ok(lines)
    }

    /// One page of published events matching the query, and how many there are (up to
    /// [`COUNT_CAP`]).
    ///
    /// Upcoming listings put events running now first, then the rest by start. That is
    /// read as two index-ordered slices rather than one sort over every upcoming event,
    /// which would cost seconds at a million rows.
    pub fn run(&self, conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<EventPage> {
        self.planned(conn)?.run_as_planned(conn, now)
    }

    fn run_as_planned(
        &self,
        conn: &mut DbConnection,
        now: DateTime<Utc>,
    ) -> QueryResult<EventPage> {
        let now = now.naive_utc();
        let per_page = self.per_page.max(1);
        let page = self.page.max(1);
        let limit = i64::from(per_page);
        let offset = i64::from(page - 1) * limit;
        let upcoming = !self.window.past && !self.window.has_dates();

        let (total, events) = if upcoming {
            let on_now = self.count(conn, now, Slice::OnNow, COUNT_CAP)?;
            let later = self.count(conn, now, Slice::Later, COUNT_CAP - on_now)?;
            let mut events = Vec::new();
            if offset < on_now {
                events = self.load(conn, now, Slice::OnNow, offset, limit)?;
            }
            let missing = limit - i64::try_from(events.len()).unwrap_or(limit);
            if missing > 0 {
                let later_offset = (offset - on_now).max(0);
                events.extend(self.load(conn, now, Slice::Later, later_offset, missing)?);
            }
            (on_now + later, events)
        } else {
            (
                self.count(conn, now, Slice::All, COUNT_CAP)?,
                self.load(conn, now, Slice::All, offset, limit)?,
            )
        };
        let ids: Vec<i32> = events.iter().map(|e| e.id).collect();
        Ok(EventPage {
            repetitions: Repetition::load_many(conn, &ids)?,
            events: with_cities(conn, events)?,
            total,
            page,
            per_page,
        })
    }
}

/// Where a keyset page starts and what else narrows it, for clients that page through a
/// listing or sync it (the JSON API).
#[derive(Debug, Clone, Copy, Default)]
pub struct Seek {
    /// The sort key `(starts_at, id)` of the last event of the previous page: the page
    /// holds the events after it in listing order. A key names a position, not a row
    /// count, so events added or removed meanwhile shift no existing event across the
    /// boundary: none is repeated and none is skipped, as an offset would.
    pub after: Option<(NaiveDateTime, i32)>,
    /// Only events whose last change (`updated_at`) is at or after this: the boundary
    /// is included, so that a client passing back the time of the last change it saw,
    /// rounded down to the second, misses nothing.
    pub updated_since: Option<NaiveDateTime>,
    /// At most this many events.
    pub limit: u32,
}

/// One keyset page: see [`EventQuery::seek`].
#[derive(Debug, Clone)]
pub struct SeekPage {
    pub events: Vec<EventWithCity>,
    /// The series and opening hours among them.
    pub repetitions: HashMap<i32, Repetition>,
    /// Every match of the filters and `updated_since`, wherever the page starts, counted
    /// up to [`COUNT_CAP`].
    pub total: i64,
    /// Whether events follow this page.
    pub more: bool,
}

impl EventQuery {
    /// Published events matching the query, in listing order (what [`EventQuery::run`]
    /// pages through: by start, latest first for past events), from `seek.after` on.
    /// `page` and `per_page` are not used.
    pub fn seek(
        &self,
        conn: &mut DbConnection,
        now: DateTime<Utc>,
        seek: &Seek,
    ) -> QueryResult<SeekPage> {
        self.planned(conn)?.seek_as_planned(conn, now, seek)
    }

    fn seek_as_planned(
        &self,
        conn: &mut DbConnection,
        now: DateTime<Utc>,
        seek: &Seek,
    ) -> QueryResult<SeekPage> {
        let now = now.naive_utc();
        let total = count_up_to(
            conn,
            self.since(self.filtered(conn.dialect(), now, Slice::All), seek),
            COUNT_CAP,
        )?;
        // One more than asked tells whether another page follows.
        let wanted = usize::try_from(seek.limit.max(1)).unwrap_or(usize::MAX);
        // As in `run`: upcoming events are read as two index-ordered slices (running
        // now, then later), not one sort of every upcoming event. All of the first
        // start before all of the second, so together they are in listing order.
        let upcoming = !self.window.past && !self.window.has_dates();
        let slices: &[Slice] = if upcoming {
            &[Slice::OnNow, Slice::Later]
        } else {
            &[Slice::All]
        };
        let mut events = Vec::new();
        for &slice in slices {
            let missing = wanted + 1 - events.len();
            // A page that starts after now has nothing left of the running events.
            let passed = slice == Slice::OnNow && seek.after.is_some_and(|(at, _)| at > now);
            if missing == 0 || passed {
                continue;
            }
            let query = self.since(self.filtered(conn.dialect(), now, slice), seek);
            events.extend(
                self.in_order(self.after(query, seek))
                    .select(Event::as_select())
                    .limit(i64::try_from(missing).unwrap_or(i64::MAX))
                    .load(conn)?,
            );
        }
        let more = events.len() > wanted;
        events.truncate(wanted);
        let ids: Vec<i32> = events.iter().map(|e| e.id).collect();
        Ok(SeekPage {
            repetitions: Repetition::load_many(conn, &ids)?,
            events: with_cities(conn, events)?,
            total,
            more,
        })
    }

    /// `query` narrowed to the events changed since `seek.updated_since`.
    fn since(&self, query: EventsBoxed<'static>, seek: &Seek) -> EventsBoxed<'static> {
        match seek.updated_since {
            Some(since) => query.filter(events::updated_at.ge(since)),
            None => query,
        }
    }

    /// `query` narrowed to the events after `seek.after` in listing order.
    fn after(&self, query: EventsBoxed<'static>, seek: &Seek) -> EventsBoxed<'static> {
        let Some((starts_at, id)) = seek.after else {
            return query;
        };
        let same_start = events::starts_at.eq(starts_at);
        if self.window.past {
            query.filter(
                events::starts_at
                    .lt(starts_at)
                    .or(same_start.and(events::id.lt(id))),
            )
        } else {
            query.filter(
                events::starts_at
                    .gt(starts_at)
                    .or(same_start.and(events::id.gt(id))),
            )
        }
    }
}

/// A feed's events, in start order.
#[derive(Debug, Clone)]
pub struct FeedEvents {
    pub events: Vec<EventWithCity>,
    /// The series and opening hours among them.
    pub repetitions: HashMap<i32, Repetition>,
    /// More events matched than the feed may hold; the latest were left out.
    pub truncated: bool,
}

impl EventQuery {
    /// Every published event a feed holds: what the listing with the same filters shows
    /// across all its pages, and, without dates, also the events that ended after
    /// `window_start`, so that a subscribed calendar keeps the recent past. In start order,
    /// at most `limit`.
    pub fn feed(
        &self,
        conn: &mut DbConnection,
        window_start: DateTime<Utc>,
        limit: usize,
    ) -> QueryResult<FeedEvents> {
        let mut events = self
            .planned(conn)?
            .filtered(conn.dialect(), window_start.naive_utc(), Slice::All)
            .select(Event::as_select())
            .order((events::starts_at.asc(), events::id.asc()))
            .limit(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
            .load(conn)?;
        let truncated = events.len() > limit;
        events.truncate(limit);
        let ids: Vec<i32> = events.iter().map(|e| e.id).collect();
        Ok(FeedEvents {
            repetitions: Repetition::load_many(conn, &ids)?,
            events: with_cities(conn, events)?,
            truncated,
        })
    }

    /// The latest end among the events the feed window has already left behind, if any:
    /// that event left the feed at the first midnight (UTC) thirty days after it, which
    /// the feed's Last-Modified must not predate.
    pub fn last_left_window(
        &self,
        conn: &mut DbConnection,
        window_start: DateTime<Utc>,
    ) -> QueryResult<Option<DateTime<Utc>>> {
        if self.window.past || self.window.has_dates() {
            return Ok(None);
        }
        let mut before = self.clone();
        before.window.past = true;
        let latest: Option<NaiveDateTime> = before
            .filtered(conn.dialect(), window_start.naive_utc(), Slice::All)
            .select(max(events::ends_at))
            .first(conn)?;
        Ok(latest.map(|t| t.and_utc()))
    }
}

impl EventQuery {
    /// When the latest event this feed would hold was unpublished by a moderator: the
    /// feed lost it then, and its Last-Modified must not predate that, or a client
    /// asking "modified since?" would keep the withdrawn event.
    pub fn last_withdrawn(
        &self,
        conn: &mut DbConnection,
        window_start: DateTime<Utc>,
    ) -> QueryResult<Option<DateTime<Utc>>> {
        let latest: Option<NaiveDateTime> = self
            .filtered_in(
                conn.dialect(),
                ModerationState::Rejected,
                window_start.naive_utc(),
                Slice::All,
            )
            .filter(events::first_published_at.is_not_null())
            .select(max(events::updated_at))
            .first(conn)?;
        Ok(latest.map(|t| t.and_utc()))
    }
}

/// A number that changes whenever any event or city changes (kept by triggers; see
/// the `data_revision` migration). Feeds are cached against it.
pub fn data_revision(conn: &mut DbConnection) -> QueryResult<i64> {
    data_revision::table
        .select(data_revision::revision)
        .first(conn)
}

/// Why an event could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum EventChangeError {
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The span classes of the `events_span_dates` index: an event running at most this
/// many days (end date minus start date) is in the class; `0` is every longer one.
const SPAN_CLASSES: [i64; 4] = [1, 7, 31, 127];

/// The span class of an event, exactly as the `events_span_dates` index computes it
/// (see its migration: a planner uses an index on an expression only for that very
/// expression).
fn span_class_sql(dialect: Dialect) -> String {
    let span = match dialect {
        Dialect::Sqlite => "julianday(events.end_date) - julianday(events.start_date)",
        Dialect::Postgres => "events.end_date - events.start_date",
    };
    let arms: String = SPAN_CLASSES
        .iter()
        .map(|days| format!("WHEN {span} <= {days} THEN {days} "))
        .collect();
    format!("(CASE {arms}ELSE 0 END)")
}

type EventCondition =
    Box<dyn diesel::BoxableExpression<events::table, DbBackend, SqlType = diesel::sql_types::Bool>>;

/// Events overlapping the local dates `from` to `to`, in `moderation`: a single event
/// whose dates overlap them, or a series with an occurrence on them. Read as one index
/// range per span class (an event of at most S days that overlaps starts between
/// `from - S` and `to`) and the occurrences' own date index, so that a month of a
/// million events reads that month's events, not every event before it.
///
/// Each alternative repeats the moderation and the upper bound: SQLite plans the
/// alternatives of an OR one by one, each with its own terms only.
fn overlapping(
    dialect: Dialect,
    moderation: ModerationState,
    from: NaiveDate,
    to: NaiveDate,
) -> EventCondition {
    use diesel::dsl::{exists, not};
    let class = span_class_sql(dialect);
    let single = move |class_of: &str| {
        events::moderation
            .eq(moderation.slug())
            .and(sql::<Bool>(&format!("{class} = {class_of}")))
            .and(events::start_date.le(to))
            .and(events::end_date.ge(from))
            .and(not(exists(
                event_occurrences::table
                    .filter(event_occurrences::event_id.eq(events::id))
                    .select(event_occurrences::event_id),
            )))
    };
    let mut any: EventCondition = Box::new(
        events::id.eq_any(
            event_occurrences::table
                .filter(event_occurrences::start_date.le(to))
                .filter(event_occurrences::end_date.ge(from))
                .filter(event_occurrences::status.ne(OccurrenceStatus::Skipped.slug()))
                .select(event_occurrences::event_id),
        ),
    );
    for days in SPAN_CLASSES {
        let earliest = from - chrono::TimeDelta::days(days);
        any = Box::new(any.or(single(&days.to_string()).and(events::start_date.ge(earliest))));
    }
    Box::new(any.or(single("0")))
}

/// Pairs events with their cities in one query for the whole page.
fn with_cities(conn: &mut DbConnection, events: Vec<Event>) -> QueryResult<Vec<EventWithCity>> {
    // Each city once: a feed of 100,000 events names only a few hundred cities, and
    // SQLite refuses more than 32,766 bound values in one statement.
    let mut ids: Vec<i32> = events.iter().map(|e| e.city_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let cities: HashMap<i32, City> = cities::table
        .filter(cities::id.eq_any(ids))
        .select(City::as_select())
        .load(conn)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    events
        .into_iter()
        .map(|event| {
            // The foreign key guarantees the city exists.
            let city = cities
                .get(&event.city_id)
                .cloned()
                .ok_or(diesel::result::Error::NotFound)?;
            Ok(EventWithCity { event, city })
        })
        .collect()
}

impl Event {
    /// Whether someone may know that this event exists: anyone once it is published;
    /// otherwise (pending, rejected, unpublished) only its organiser and the moderators
    /// of its city. Everyone else must get the answer a missing id gets, on every
    /// address of the event, or hidden events could be counted by id.
    pub fn is_visible_to(&self, viewer: Option<(i32, &super::Roles)>) -> bool {
        self.moderation == ModerationState::Published
            || viewer.is_some_and(|(account_id, roles)| {
                self.organiser_id == Some(account_id) || roles.can_moderate(self.city_id)
            })
    }

    /// The stored details, as an edit would write them.
    pub fn details(&self) -> EventDetails {
        EventDetails {
            city_id: self.city_id,
            kind: self.kind.slug(),
            field: self.field.slug(),
            title: self.title.clone(),
            description: self.description.clone(),
            venue_name: self.venue_name.clone(),
            venue_address: self.venue_address.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            all_day: self.all_day,
            start_date: self.start_date,
            start_time: self.start_time,
            end_date: self.end_date,
            end_time: self.end_time,
            timezone: self.timezone.name(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            url: self.url.clone(),
            price: self.price.clone(),
            is_free: self.is_free,
            organizer_name: self.organizer_name.clone(),
            status: self.status.slug(),
        }
    }

    /// A published event with its city; pending and rejected events are not public.
    pub fn find_published(conn: &mut DbConnection, id: i32) -> QueryResult<EventWithCity> {
        events::table
            .inner_join(cities::table)
            .filter(events::id.eq(id))
            .filter(events::moderation.eq(ModerationState::Published.slug()))
            .select(EventWithCity::as_select())
            .first(conn)
    }

    /// Replaces the details of event `id` with `draft`, in `city`. The UID and the
    /// moderation state stay. When anything shown changes, `updated_at` becomes `now`
    /// and `SEQUENCE` goes up; otherwise the row is left alone.
    pub fn update_from_draft(
        conn: &mut DbConnection,
        id: i32,
        draft: &EventDraft,
        city: &City,
        now: DateTime<Utc>,
    ) -> Result<Event, EventChangeError> {
        let new = EventDetails::from_draft(draft, city)?;
        conn.transaction(|conn| {
            let old: Event = events::table
                .find(id)
                .select(Event::as_select())
                .first(conn)?;
            // Every change of what the event's page or a calendar shows raises
            // `SEQUENCE` (RFC 5545 3.8.7.4 requires it for time, place and status and
            // allows it for the rest), because some clients only take a new version of
            // an event they already hold when its sequence moves; saving an unchanged
            // form changes nothing.
            let old_repetition = Repetition::load(conn, id)?;
            let repetition = Repetition::from_draft(
                id,
                draft,
                city.timezone.tz(),
                &old_repetition,
                Some(&old.schedule()),
            );
            if old.details() == new && repetition == old_repetition {
                return Ok(old);
            }
            let event = crate::on_backend!(conn, c => diesel::update(events::table.find(id))
                .set((
                    &new,
                    events::sequence.eq(old.sequence.saturating_add(1)),
                    events::updated_at.eq(now.naive_utc()),
                ))
                .returning(Event::as_returning())
                .get_result(c))?;
            repetition.save(conn, id, draft.schedule.first_date(), &old_repetition)?;
            Ok(event)
        })
    }

    /// Marks event `id` scheduled, postponed or cancelled, with the organiser's note
    /// (none when scheduled). A new status or note raises `SEQUENCE` and moves the
    /// last-modified time; the same status and note change nothing.
    pub fn set_status(
        conn: &mut DbConnection,
        id: i32,
        status: EventStatus,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> QueryResult<Event> {
        let note = note.filter(|n| !n.is_empty() && status != EventStatus::Scheduled);
        conn.transaction(|conn| {
            let old: Event = events::table
                .find(id)
                .select(Event::as_select())
                .first(conn)?;
            if old.status != status {
                diesel::update(events::table.find(id))
                    .set((
                        events::status.eq(status.slug()),
                        events::status_note.eq(note),
                        events::sequence.eq(events::sequence + 1),
                        events::updated_at.eq(now.naive_utc()),
                    ))
                    .execute(conn)?;
            } else if old.status_note.as_deref() != note {
                diesel::update(events::table.find(id))
                    .set((
                        events::status_note.eq(note),
                        events::sequence.eq(events::sequence + 1),
                        events::updated_at.eq(now.naive_utc()),
                    ))
                    .execute(conn)?;
            }
            events::table
                .find(id)
                .select(Event::as_select())
                .first(conn)
        })
    }

    /// Records a change made beside the row (one occurrence of a series): `SEQUENCE` up,
    /// `updated_at` now, so that feeds, their ETags and calendars see it.
    pub fn touch(conn: &mut DbConnection, id: i32, now: DateTime<Utc>) -> QueryResult<Event> {
        crate::on_backend!(conn, c => diesel::update(events::table.find(id))
            .set((
                events::sequence.eq(events::sequence + 1),
                events::updated_at.eq(now.naive_utc()),
            ))
            .returning(Event::as_returning())
            .get_result(c))
    }

    /// Drops the note of a postponement once the event has new dates; part of the
    /// change that rescheduled it, so neither `SEQUENCE` nor the time moves again.
    pub fn clear_status_note(conn: &mut DbConnection, id: i32) -> QueryResult<Event> {
        crate::on_backend!(conn, c => diesel::update(events::table.find(id))
            .set(events::status_note.eq(None::<String>))
            .returning(Event::as_returning())
            .get_result(c))
    }

    pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
        events::table.count().get_result(conn)
    }

    /// Published events running at `now`, those closing soonest first.
    pub fn on_now(
        conn: &mut DbConnection,
        now: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<EventWithCity>> {
        let now = now.naive_utc();
        let events = events::table
            .filter(events::moderation.eq(ModerationState::Published.slug()))
            .filter(events::ends_at.gt(now))
            // The unary `+` keeps SQLite from driving this query by the start-time index
            // (every event that ever started) instead of walking `events_upcoming` in
            // end order and stopping after `limit` rows: 50 ms against 0.1 ms at a
            // million events.
            .filter(
                sql::<Bool>(match conn.dialect() {
                    Dialect::Sqlite => "+events.starts_at <= ",
                    // PostgreSQL has no such hint (nor needs it: it keeps statistics).
                    Dialect::Postgres => "events.starts_at <= ",
                })
                .bind::<Timestamp, _>(now),
            )
            .order((events::ends_at.asc(), events::id.asc()))
            .limit(limit)
            .select(Event::as_select())
            .load(conn)?;
        with_cities(conn, events)
    }

    /// Published events that start after `now`, soonest first.
    pub fn starting_next(
        conn: &mut DbConnection,
        now: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<EventWithCity>> {
        let events = events::table
            .filter(events::moderation.eq(ModerationState::Published.slug()))
            .filter(events::starts_at.gt(now.naive_utc()))
            .order((events::starts_at.asc(), events::id.asc()))
            .limit(limit)
            .select(Event::as_select())
            .load(conn)?;
        with_cities(conn, events)
    }

    /// The stored local schedule. Rows are written only through [`NewEvent::from_draft`],
    /// so the parts are consistent; should one not be, it reads as all-day.
    pub fn schedule(&self) -> EventSchedule {
        EventSchedule::from_stored(
            self.all_day,
            self.start_date,
            self.start_time,
            self.end_date,
            self.end_time,
        )
    }

    pub fn starts_at_utc(&self) -> DateTime<Utc> {
        self.starts_at.and_utc()
    }

    /// The end of the first occurrence: of the event itself unless it is a series.
    pub fn ends_at_utc(&self) -> DateTime<Utc> {
        self.schedule()
            .resolve(self.timezone.tz())
            .map(|i| i.ends_at)
            .unwrap_or_else(|_| self.ends_at.and_utc())
    }

    /// The end of the last occurrence: of the event itself unless it is a series.
    pub fn last_ends_at_utc(&self) -> DateTime<Utc> {
        self.ends_at.and_utc()
    }

    /// Running at `now`: started and not yet ended.
    pub fn is_on_at(&self, now: DateTime<Utc>) -> bool {
        self.starts_at_utc() <= now && now < self.ends_at_utc()
    }
}

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sqlite::Sqlite;

use super::{City, like_pattern};
use crate::db::schema::{cities, events};
use crate::domain::{
    CountryCode, CreativeField, EventDraft, EventKind, EventSchedule, EventStatus, ModerationState,
    ScheduleError, TimeZoneName,
};

/// An event as stored.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = events, check_for_backend(Sqlite))]
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
}

/// An event to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent {
    pub uid: String,
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
    pub moderation: &'static str,
    pub sequence: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewEvent {
    /// An insert for `draft` in `city`, with a fresh random UID. The UTC instants are
    /// derived here, in the city's zone, so every insert path resolves schedules alike.
    pub fn from_draft(
        draft: &EventDraft,
        city: &City,
        moderation: ModerationState,
        now: DateTime<Utc>,
    ) -> Result<NewEvent, ScheduleError> {
        let tz = city.timezone;
        let instants = draft.schedule.resolve(tz.tz())?;
        let (latitude, longitude) = draft.coordinates.unzip();
        let now = now.naive_utc();
        Ok(NewEvent {
            // Random, not derived from the host or the id: it must survive a move to
            // another domain or database, and it is what calendars key on.
            uid: format!("{}@creative-calendar", uuid::Uuid::new_v4()),
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
            moderation: moderation.slug(),
            sequence: 0,
            created_at: now,
            updated_at: now,
        })
    }

    pub fn insert(&self, conn: &mut SqliteConnection) -> QueryResult<Event> {
        diesel::insert_into(events::table)
            .values(self)
            .returning(Event::as_returning())
            .get_result(conn)
    }

    /// Inserts many rows in statements of `chunk` rows; the caller owns the transaction.
    pub fn insert_all(conn: &mut SqliteConnection, rows: &[NewEvent]) -> QueryResult<usize> {
        // 28 bound values a row; SQLite allows 32,766 per statement.
        const ROWS_PER_STATEMENT: usize = 1_000;
        let mut inserted = 0;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            inserted += diesel::insert_into(events::table)
                .values(chunk)
                .execute(conn)?;
        }
        Ok(inserted)
    }
}

/// An event with its city, as every page shows them together.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(check_for_backend(Sqlite))]
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
}

impl Window {
    fn has_dates(&self) -> bool {
        self.from.is_some() || self.to.is_some()
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
}

/// One page of results and the total number of matches.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub events: Vec<EventWithCity>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl EventPage {
    pub fn page_count(&self) -> u32 {
        let per_page = i64::from(self.per_page.max(1));
        u32::try_from((self.total + per_page - 1) / per_page).unwrap_or(u32::MAX)
    }
}

type JoinedBoxed<'a> = diesel::helper_types::IntoBoxed<
    'a,
    diesel::helper_types::InnerJoin<events::table, cities::table>,
    Sqlite,
>;

impl EventQuery {
    /// The filtered (unordered, unpaginated) query. Built fresh for the count and for
    /// the page because boxed queries cannot be cloned.
    fn filtered(&self, now: NaiveDateTime) -> JoinedBoxed<'static> {
        let mut query = events::table
            .inner_join(cities::table)
            .filter(events::moderation.eq(ModerationState::Published.slug()))
            .into_boxed();
        if let Some(city_id) = self.city_id {
            query = query.filter(events::city_id.eq(city_id));
        }
        if let Some(country) = self.country {
            query = query.filter(cities::country_code.eq(country.as_str().to_owned()));
        }
        if let Some(field) = self.field {
            query = query.filter(events::field.eq(field.slug()));
        }
        if let Some(kind) = self.kind {
            query = query.filter(events::kind.eq(kind.slug()));
        }
        if let Some(text) = &self.text {
            let pattern = like_pattern(text);
            query = query.filter(
                events::title
                    .like(pattern.clone())
                    .escape('\\')
                    .or(events::description.like(pattern.clone()).escape('\\'))
                    .or(events::venue_name.like(pattern).escape('\\')),
            );
        }
        let window = self.window;
        if let Some(from) = window.from {
            query = query.filter(events::end_date.ge(from));
        }
        if let Some(to) = window.to {
            query = query.filter(events::start_date.le(to));
        }
        if window.past {
            query = query.filter(events::ends_at.le(now));
        } else if !window.has_dates() {
            query = query.filter(events::ends_at.gt(now));
        }
        query
    }

    /// One page of published events matching the query.
    pub fn run(&self, conn: &mut SqliteConnection, now: DateTime<Utc>) -> QueryResult<EventPage> {
        let now = now.naive_utc();
        let total: i64 = self.filtered(now).count().get_result(conn)?;
        let per_page = self.per_page.max(1);
        let offset = i64::from(self.page.max(1) - 1) * i64::from(per_page);
        let query = self.filtered(now).select(EventWithCity::as_select());
        let query = if self.window.past {
            query.order((events::starts_at.desc(), events::id.desc()))
        } else if self.window.has_dates() {
            query.order((events::starts_at.asc(), events::id.asc()))
        } else {
            // Running now first: an exhibition that opened last month is news today.
            query.order((
                events::starts_at.le(now).desc(),
                events::starts_at.asc(),
                events::id.asc(),
            ))
        };
        let events = query.limit(i64::from(per_page)).offset(offset).load(conn)?;
        Ok(EventPage {
            events,
            total,
            page: self.page.max(1),
            per_page,
        })
    }
}

impl Event {
    /// A published event with its city; pending and rejected events are not public.
    pub fn find_published(conn: &mut SqliteConnection, id: i32) -> QueryResult<EventWithCity> {
        events::table
            .inner_join(cities::table)
            .filter(events::id.eq(id))
            .filter(events::moderation.eq(ModerationState::Published.slug()))
            .select(EventWithCity::as_select())
            .first(conn)
    }

    pub fn count(conn: &mut SqliteConnection) -> QueryResult<i64> {
        events::table.count().get_result(conn)
    }

    /// Published events running at `now`, those closing soonest first.
    pub fn on_now(
        conn: &mut SqliteConnection,
        now: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<EventWithCity>> {
        let now = now.naive_utc();
        events::table
            .inner_join(cities::table)
            .filter(events::moderation.eq(ModerationState::Published.slug()))
            .filter(events::starts_at.le(now))
            .filter(events::ends_at.gt(now))
            .order((events::ends_at.asc(), events::id.asc()))
            .limit(limit)
            .select(EventWithCity::as_select())
            .load(conn)
    }

    /// Published events that start after `now`, soonest first.
    pub fn starting_next(
        conn: &mut SqliteConnection,
        now: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<EventWithCity>> {
        events::table
            .inner_join(cities::table)
            .filter(events::moderation.eq(ModerationState::Published.slug()))
            .filter(events::starts_at.gt(now.naive_utc()))
            .order((events::starts_at.asc(), events::id.asc()))
            .limit(limit)
            .select(EventWithCity::as_select())
            .load(conn)
    }

    /// Published events that have not ended, per field.
    pub fn upcoming_counts_by_field(
        conn: &mut SqliteConnection,
        now: DateTime<Utc>,
    ) -> QueryResult<HashMap<CreativeField, i64>> {
        let rows: Vec<(String, i64)> = events::table
            .filter(events::moderation.eq(ModerationState::Published.slug()))
            .filter(events::ends_at.gt(now.naive_utc()))
            .group_by(events::field)
            .select((events::field, count_star()))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(field, n)| CreativeField::parse(&field).ok().map(|f| (f, n)))
            .collect())
    }

    /// The stored local schedule. Rows are written only through [`NewEvent::from_draft`],
    /// so the parts are consistent; should one not be, it reads as all-day.
    pub fn schedule(&self) -> EventSchedule {
        EventSchedule::from_parts(
            self.all_day,
            self.start_date,
            self.start_time,
            self.end_date,
            self.end_time,
        )
        .unwrap_or(EventSchedule::AllDay {
            first: self.start_date,
            last: self.end_date.max(self.start_date),
        })
    }

    pub fn starts_at_utc(&self) -> DateTime<Utc> {
        self.starts_at.and_utc()
    }

    pub fn ends_at_utc(&self) -> DateTime<Utc> {
        self.ends_at.and_utc()
    }

    /// Running at `now`: started and not yet ended.
    pub fn is_on_at(&self, now: DateTime<Utc>) -> bool {
        self.starts_at_utc() <= now && now < self.ends_at_utc()
    }
}

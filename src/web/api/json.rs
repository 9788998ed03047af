//! The JSON shapes of `/api/v1`, built from the rows. Times are text in fixed formats
//! (see `docs/api.md`), written here and nowhere else.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::models::{City, EventWithCity, OccurrenceRow, Repetition};
use crate::domain::recurrence::weekday_slug;
use crate::domain::{CreativeField, EventKind, EventSchedule, EventStatus};

/// A point on the map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Geo {
    #[schema(example = 50.0614)]
    pub lat: f64,
    #[schema(example = 19.9366)]
    pub lon: f64,
}

/// The city of an event, in short.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventCity {
    #[schema(example = "krakow")]
    pub slug: String,
    #[schema(example = "Kraków")]
    pub name: String,
    /// ISO 3166 alpha-2.
    #[schema(example = "PL")]
    pub country_code: String,
    /// The city's IANA time zone.
    #[schema(example = "Europe/Warsaw")]
    pub timezone: String,
}

/// A published event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventJson {
    #[schema(example = 42)]
    pub id: i32,
    /// The iCalendar UID, the same in every feed.
    #[schema(example = "5f0c…@creative-calendar")]
    pub uid: String,
    /// The event's page.
    #[schema(example = "https://calendar.example.org/events/42")]
    pub url: String,
    /// The event alone as an iCalendar file.
    #[schema(example = "https://calendar.example.org/events/42/calendar.ics")]
    pub ics_url: String,
    #[schema(example = "Braga Media Arts Night")]
    pub title: String,
    /// Plain text; blank lines separate paragraphs.
    pub description: String,
    #[schema(value_type = EventKind)]
    pub kind: EventKind,
    /// The event's creative field; the city's when the organiser named none.
    #[schema(value_type = CreativeField)]
    pub field: CreativeField,
    pub city: EventCity,
    /// The venue's name.
    pub venue: String,
    /// The venue's street address.
    pub address: String,
    #[schema(required = true)]
    pub geo: Option<Geo>,
    /// The price as the organiser wrote it ("12 €, 8 € reduced").
    #[schema(required = true)]
    pub price: Option<String>,
    pub is_free: bool,
    #[schema(value_type = EventStatus)]
    pub status: EventStatus,
    /// The organiser's note on a cancellation or postponement, as the page shows it.
    #[schema(required = true)]
    pub status_note: Option<String>,
    /// Who organises it, when the organiser said.
    #[schema(required = true)]
    pub organizer: Option<String>,
    /// The organiser's own page for the event.
    #[schema(required = true)]
    pub website: Option<String>,
    /// The iCalendar SEQUENCE: it rises on every change a subscriber can see.
    #[schema(example = 0)]
    pub sequence: i32,
    /// When it was submitted or imported (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2026-11-28T12:00:00Z")]
    pub created_at: String,
    /// Its last change that anyone can see (RFC 3339, UTC); what `updated_since` reads.
    #[schema(format = DateTime, example = "2026-11-28T12:00:00Z")]
    pub updated_at: String,
    /// Whole days: `start` and `end` are then dates, and `end` is the last day itself.
    pub all_day: bool,
    /// The local start in `timezone`: `2026-12-12T19:00`, or `2026-12-12` when `all_day`.
    #[schema(example = "2026-12-12T19:00")]
    pub start: String,
    /// The local end in `timezone`: `2026-12-12T23:00`, or, when `all_day`, the last day
    /// (inclusive: a festival on 12 to 14 December ends `2026-12-14`). A timed event
    /// given no end lasts two hours.
    #[schema(example = "2026-12-12T23:00")]
    pub end: String,
    /// The IANA time zone of `start` and `end`: the city's.
    #[schema(example = "Europe/Lisbon")]
    pub timezone: String,
    /// The first instant of the event, with the zone's UTC offset at that moment.
    #[schema(format = DateTime, example = "2026-12-12T19:00:00+00:00")]
    pub starts_at: String,
    /// The instant the event is over (exclusive: for an all-day event, the start of the
    /// day after the last), with the zone's UTC offset at that moment.
    #[schema(format = DateTime, example = "2026-12-12T23:00:00+00:00")]
    pub ends_at: String,
    /// How it repeats: `none`, `daily`, `weekly`, `monthly_by_date`,
    /// `monthly_by_weekday` or `yearly`. For a series, `start` … `ends_at` are its
    /// first occurrence; `GET …/occurrences` lists them all.
    #[schema(example = "none")]
    pub repeat: String,
    #[schema(required = true)]
    pub repeat_interval: Option<u16>,
    pub repeat_weekdays: Vec<String>,
    /// `1` … `4` or `last`.
    #[schema(required = true)]
    pub repeat_nth: Option<String>,
    #[schema(required = true)]
    pub repeat_until: Option<String>,
    #[schema(required = true)]
    pub repeat_count: Option<u16>,
    /// Dates of the series that do not happen.
    pub skip_dates: Vec<String>,
    /// The end of the last occurrence (RFC 3339), for a series; else `ends_at`.
    #[schema(format = DateTime)]
    pub series_ends_at: String,
    /// An exhibition's week, local to the city.
    pub opening_hours: Vec<OpeningHoursJson>,
    pub closed_dates: Vec<String>,
}

/// One weekday's opening.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpeningHoursJson {
    #[schema(example = "tu")]
    pub weekday: &'static str,
    #[schema(example = "10:00")]
    pub opens: String,
    #[schema(example = "18:00")]
    pub closes: String,
}

/// One occurrence of a series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OccurrenceJson {
    /// The date the rule gives it, local: its key in `PATCH …/occurrences/{date}`.
    #[schema(example = "2026-12-08")]
    pub date: String,
    /// Where it is, local to the city (as an event's `start` and `end`).
    #[schema(example = "2026-12-08T18:00")]
    pub start: String,
    #[schema(example = "2026-12-08T20:00")]
    pub end: String,
    #[schema(format = DateTime, example = "2026-12-08T18:00:00+01:00")]
    pub starts_at: String,
    #[schema(format = DateTime, example = "2026-12-08T20:00:00+01:00")]
    pub ends_at: String,
    /// `scheduled` or `cancelled`.
    #[schema(example = "scheduled")]
    pub status: &'static str,
    /// Its own title, or the series'.
    pub title: String,
}

impl OccurrenceJson {
    pub fn new(row: &EventWithCity, o: &OccurrenceRow) -> OccurrenceJson {
        let tz = row.event.timezone.tz();
        let (start, end) = local_span(&o.schedule(), o.ends_at_utc(), tz);
        OccurrenceJson {
            date: o.occurrence_date.to_string(),
            start,
            end,
            starts_at: with_offset(o.starts_at_utc(), tz),
            ends_at: with_offset(o.ends_at_utc(), tz),
            status: o.status().slug(),
            title: o.title.clone().unwrap_or_else(|| row.event.title.clone()),
        }
    }
}

/// The local `start` and `end` of a schedule, as the API writes them.
fn local_span(schedule: &EventSchedule, ends_at: DateTime<Utc>, tz: Tz) -> (String, String) {
    match *schedule {
        EventSchedule::AllDay { first, last } => (first.to_string(), last.to_string()),
        EventSchedule::Timed { start, end } => (
            start.format(LOCAL_MINUTE).to_string(),
            // Without an end of its own, it ends when its instants say.
            end.unwrap_or_else(|| ends_at.with_timezone(&tz).naive_local())
                .format(LOCAL_MINUTE)
                .to_string(),
        ),
    }
}

/// RFC 3339 in UTC, to the second: `2026-11-28T12:00:00Z`.
pub fn utc(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// RFC 3339 with the offset `tz` has at that instant: `2026-12-12T19:00:00+01:00`.
fn with_offset(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

const LOCAL_MINUTE: &str = "%Y-%m-%dT%H:%M";

impl EventJson {
    pub fn new(
        row: &EventWithCity,
        repetition: Option<&Repetition>,
        public_url: &str,
    ) -> EventJson {
        let e = &row.event;
        let tz = e.timezone.tz();
        let (start, end) = local_span(&e.schedule(), e.ends_at_utc(), tz);
        let rule = repetition.and_then(|r| r.rule.as_ref());
        let hours = repetition.and_then(|r| r.hours.as_ref());
        let dates = |d: &std::collections::BTreeSet<chrono::NaiveDate>| -> Vec<String> {
            d.iter().map(|d| d.to_string()).collect()
        };
        let url = format!("{public_url}/events/{}", e.id);
        EventJson {
            id: e.id,
            uid: e.uid.clone(),
            ics_url: format!("{url}/calendar.ics"),
            url,
            title: e.title.clone(),
            description: e.description.clone(),
            kind: e.kind,
            field: e.field,
            city: EventCity {
                slug: row.city.slug.to_string(),
                name: row.city.name.clone(),
                country_code: row.city.country_code.to_string(),
                timezone: row.city.timezone.name().to_owned(),
            },
            venue: e.venue_name.clone(),
            address: e.venue_address.clone(),
            geo: e
                .latitude
                .zip(e.longitude)
                .map(|(lat, lon)| Geo { lat, lon }),
            price: e.price.clone(),
            is_free: e.is_free,
            status: e.status,
            status_note: e.status_note.clone(),
            organizer: e.organizer_name.clone(),
            website: e.url.clone(),
            sequence: e.sequence,
            created_at: utc(e.created_at),
            updated_at: utc(e.updated_at),
            all_day: e.all_day,
            start,
            end,
            timezone: e.timezone.name().to_owned(),
            starts_at: with_offset(e.starts_at_utc(), tz),
            ends_at: with_offset(e.ends_at_utc(), tz),
            repeat: rule.map_or("none", |r| r.frequency.slug()).to_owned(),
            repeat_interval: rule.map(|r| r.interval),
            repeat_weekdays: rule
                .map(|r| {
                    r.weekdays
                        .iter()
                        .map(|d| weekday_slug(*d).to_owned())
                        .collect()
                })
                .unwrap_or_default(),
            repeat_nth: rule.and_then(|r| r.nth).map(|n| n.slug()),
            repeat_until: rule.and_then(|r| r.until()).map(|d| d.to_string()),
            repeat_count: rule.and_then(|r| r.count()),
            skip_dates: repetition
                .map(|r| dates(&r.skip_dates()))
                .unwrap_or_default(),
            series_ends_at: with_offset(e.last_ends_at_utc(), tz),
            opening_hours: hours
                .map(|h| {
                    h.week
                        .iter()
                        .map(|(day, opens, closes)| OpeningHoursJson {
                            weekday: weekday_slug(day),
                            opens: opens.format("%H:%M").to_string(),
                            closes: closes.format("%H:%M").to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            closed_dates: hours.map(|h| dates(&h.closed_dates)).unwrap_or_default(),
        }
    }
}

/// A member city of the network.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CityJson {
    #[schema(example = "krakow")]
    pub slug: String,
    #[schema(example = "Kraków")]
    pub name: String,
    #[schema(example = "Poland")]
    pub country: String,
    /// ISO 3166 alpha-2.
    #[schema(example = "PL")]
    pub country_code: String,
    /// The field the city is a Creative City of.
    #[schema(value_type = CreativeField)]
    pub field: CreativeField,
    #[schema(example = 2013)]
    pub designation_year: i32,
    /// IANA time zone.
    #[schema(example = "Europe/Warsaw")]
    pub timezone: String,
    pub geo: Geo,
    /// Published events that have not ended (counted within the last minute).
    pub upcoming_events: i64,
    /// The city's page.
    pub url: String,
    /// The city's calendar feed.
    pub ics_url: String,
}

impl CityJson {
    pub fn new(city: &City, upcoming_events: i64, public_url: &str) -> CityJson {
        let url = format!("{public_url}/cities/{}", city.slug);
        CityJson {
            slug: city.slug.to_string(),
            name: city.name.clone(),
            country: city.country.clone(),
            country_code: city.country_code.to_string(),
            field: city.field,
            designation_year: city.designation_year,
            timezone: city.timezone.name().to_owned(),
            geo: Geo {
                lat: city.latitude,
                lon: city.longitude,
            },
            upcoming_events,
            ics_url: format!("{url}/calendar.ics"),
            url,
        }
    }
}

/// A creative field of the network.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldJson {
    #[schema(value_type = CreativeField)]
    pub slug: CreativeField,
    #[schema(example = "Media Arts")]
    pub name: String,
    /// Member cities of this field.
    pub cities: i64,
    /// Published events of this field that have not ended.
    pub upcoming_events: i64,
    /// The field's page.
    pub url: String,
    /// The field's calendar feed.
    pub ics_url: String,
}

/// `GET /api/v1/events`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventsBody {
    pub events: Vec<EventJson>,
    pub meta: EventsMeta,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventsMeta {
    /// Every event matching the filters and `updated_since`, on all pages, counted up
    /// to 10,000.
    pub total: i64,
    /// The `cursor` of the next page, with the same filters; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/events/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventBody {
    pub event: EventJson,
}

/// `GET /api/v1/cities`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CitiesBody {
    pub cities: Vec<CityJson>,
}

/// `GET /api/v1/cities/{slug}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CityBody {
    pub city: CityJson,
}

/// `GET /api/v1/fields`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldsBody {
    pub fields: Vec<FieldJson>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldBody {
    pub field: FieldJson,
}

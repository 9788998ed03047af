//! What the `/events` filters select, in one place: the query they make, the city they
//! name, the heading that describes them and the name of their calendar. The listing
//! page, its feed and the API all start from an [`EventFilter`]; how each door reads one
//! from its request (`web::params`) is the door's business.

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::models::{City, EventQuery, Window};
use crate::domain::{CountryCode, CreativeField, EventKind, Slug};
use crate::error::{AppError, OrWhenMissing};

/// The `/events` filters, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub city: Option<Slug>,
    pub country: Option<CountryCode>,
    pub field: Option<CreativeField>,
    pub kind: Option<EventKind>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub q: Option<String>,
    pub past: bool,
    /// `open=today` or `open=YYYY-MM-DD`.
    pub open: Option<OpenDay>,
    pub page: u32,
}

/// The day of an `open=` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenDay {
    /// Today where the events are: in the city's zone with a city filter, else in UTC
    /// (the network spans every zone; a listing names the date it used).
    Today,
    Date(NaiveDate),
}

impl OpenDay {
    /// The local date meant, at `now`, for events in `city` (if one is chosen).
    pub fn date(self, now: DateTime<Utc>, city: Option<&City>) -> NaiveDate {
        match self {
            OpenDay::Date(d) => d,
            OpenDay::Today => match city {
                Some(c) => now.with_timezone(&c.timezone.tz()).date_naive(),
                None => now.date_naive(),
            },
        }
    }
}

/// The city a filter names; an unknown slug is a bad parameter, not a missing page.
pub fn filter_city(
    conn: &mut crate::db::DbConnection,
    filter: &EventFilter,
) -> Result<Option<City>, AppError> {
    filter
        .city
        .as_ref()
        .map(|slug| {
            City::find_by_slug(conn, slug.as_str()).or_when_missing(|| {
                AppError::bad_request("city", format!("no city has the slug “{slug}”"))
            })
        })
        .transpose()
}

/// The query behind a listing (and behind the feed of the same filters).
pub fn event_query(
    filter: &EventFilter,
    city: Option<&City>,
    per_page: u32,
    now: DateTime<Utc>,
) -> EventQuery {
    EventQuery {
        city_id: city.map(|c| c.id),
        country: filter.country,
        field: filter.field,
        kind: filter.kind,
        text: filter.q.clone(),
        window: Window {
            from: filter.from,
            to: filter.to,
            past: filter.past,
            open: filter.open.map(|o| o.date(now, city)),
        },
        page: filter.page,
        per_page,
        text_plan: Default::default(),
    }
}

/// A heading for what a filter selects: "{prefix} Music events in Kraków".
pub fn filter_heading(
    prefix: &str,
    filter: &EventFilter,
    city: Option<&City>,
    country: Option<&str>,
) -> String {
    let mut heading = String::from(prefix);
    if let Some(field) = filter.field {
        heading.push(' ');
        heading.push_str(field.label());
    }
    if let Some(kind) = filter.kind {
        heading.push(' ');
        heading.push_str(&kind.label().to_lowercase());
        heading.push_str(" events");
    } else {
        heading.push_str(" events");
    }
    if let Some(city) = city {
        heading.push_str(" in ");
        heading.push_str(&city.name);
    } else if let Some(country) = country {
        heading.push_str(" in ");
        heading.push_str(country);
    }
    let heading = heading.trim().to_owned();
    let mut chars = heading.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => heading,
    }
}

/// The site's name, in every calendar's name.
pub const SITE_NAME: &str = "Creative Cities Calendar";

/// "Kraków — Creative Cities Calendar": what calendar apps call a feed.
pub fn calendar_name(subject: &str) -> String {
    format!("{subject} — {SITE_NAME}")
}

//! HTML pages. Each handler sits next to its template struct; the templates live in
//! `templates/` under the same names.

pub mod account;
pub mod admin;
pub mod cities;
pub mod events;
pub mod fields;
pub mod health;
pub mod home;
pub mod moderation;
pub mod submissions;
pub mod tokens;

use actix_web::web::Html;
use askama::Template;
use chrono::{DateTime, Utc};

use crate::db::models::{EventPage, EventWithCity};
use crate::domain::{CreativeField, EventKind, EventStatus, When};
use crate::error::AppError;

/// Renders a page template into a response body.
pub fn render(page: &impl Template) -> Result<Html, AppError> {
    Ok(Html::new(page.render()?))
}

/// An event as a listing shows it.
pub struct EventCard {
    pub id: i32,
    pub title: String,
    pub kind: EventKind,
    pub field: CreativeField,
    pub city_name: String,
    pub city_slug: String,
    pub country: String,
    pub venue: String,
    pub when: When,
    pub status: EventStatus,
    pub on_now: bool,
}

impl EventCard {
    pub fn new(row: &EventWithCity, now: DateTime<Utc>) -> EventCard {
        let e = &row.event;
        EventCard {
            id: e.id,
            title: e.title.clone(),
            kind: e.kind,
            field: e.field,
            city_name: row.city.name.clone(),
            city_slug: row.city.slug.to_string(),
            country: row.city.country.clone(),
            venue: e.venue_name.clone(),
            when: When::summary(&e.schedule(), e.timezone.tz(), &row.city.name, now),
            status: e.status,
            on_now: e.is_on_at(now),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.status == EventStatus::Cancelled
    }

    pub fn is_postponed(&self) -> bool {
        self.status == EventStatus::Postponed
    }

    pub fn list(rows: &[EventWithCity], now: DateTime<Utc>) -> Vec<EventCard> {
        rows.iter().map(|r| EventCard::new(r, now)).collect()
    }
}

/// "Page 2 of 9" with links that keep the filters.
pub struct Pager {
    pub page: u32,
    pub page_count: u32,
    pub total: i64,
    /// Counting stopped at the cap; `total` is a lower bound.
    pub capped: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub fn new(result: &EventPage, url: impl Fn(u32) -> String) -> Pager {
        let page_count = result.page_count();
        Pager {
            page: result.page,
            page_count,
            total: result.total,
            capped: result.is_capped(),
            prev: (result.page > 1).then(|| url(result.page.min(page_count + 1) - 1)),
            next: (result.page < page_count).then(|| url(result.page + 1)),
        }
    }

    /// A pager for a list that is not a listing of events (an organiser's events, the
    /// moderation queue, the log, the accounts): `total` items, `per_page` a page.
    pub fn for_total(total: i64, page: u32, per_page: u32, url: impl Fn(u32) -> String) -> Pager {
        let counted = EventPage {
            events: vec![],
            total,
            page,
            per_page,
        };
        Pager::new(&counted, url)
    }

    /// "1 event", "42 events", or "more than 10,000 events" when counting stopped.
    pub fn total_text(&self) -> String {
        if self.capped {
            format!("More than {} events", thousands(self.total))
        } else if self.total == 1 {
            "1 event".to_owned()
        } else {
            format!("{} events", thousands(self.total))
        }
    }

    pub fn is_needed(&self) -> bool {
        self.page_count > 1 || self.page > 1
    }
}

/// `path` with a page number, for listings whose only parameter is the page.
pub fn paged(path: &str, page: u32) -> String {
    if page > 1 {
        format!("{path}?page={page}")
    } else {
        path.to_owned()
    }
}

pub use crate::domain::thousands;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::COUNT_CAP;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-12_345), "-12,345");
    }

    #[test]
    fn a_capped_count_says_more_than() {
        let page = EventPage {
            events: vec![],
            total: COUNT_CAP,
            page: 1,
            per_page: 20,
        };
        let pager = Pager::new(&page, |p| format!("/events?page={p}"));
        assert_eq!(pager.total_text(), "More than 10,000 events");
        assert_eq!(pager.page_count, 500);
        let one = EventPage { total: 1, ..page };
        assert_eq!(Pager::new(&one, |_| String::new()).total_text(), "1 event");
    }
}

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
pub mod sources;
pub mod submissions;
pub mod tokens;

use actix_web::web::Html;
use askama::Template;
use chrono::{DateTime, Utc};

use crate::db::models::{EventPage, EventWithCity};
use std::collections::HashMap;

use crate::db::models::{Event, Repetition};
use crate::domain::recurrence::Hours;
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
    /// A series: "Every Tue and Thu, 18:00–20:00, until 30 Jun 2027 (next: Tue 8 Dec)".
    pub repeats: Option<String>,
    /// An exhibition running today: "Open today 10:00–18:00" or "Closed today".
    pub open_today: Option<String>,
}

impl EventCard {
    pub fn new(
        row: &EventWithCity,
        repetition: Option<&Repetition>,
        now: DateTime<Utc>,
    ) -> EventCard {
        let e = &row.event;
        let tz = e.timezone.tz();
        if let Some(rep) = repetition.filter(|r| r.is_series()) {
            // A series shows once, at its next occurrence (or its last, once over).
            let next = rep.next(now).or_else(|| rep.listed().last());
            let mut card = EventCard::new(row, None, now);
            if let Some(next) = next {
                card.when = When::full(&next.schedule(), tz, &row.city.name);
                card.on_now = next.starts_at_utc() <= now && now < next.ends_at_utc();
                if let Some(title) = &next.title {
                    card.title = title.clone();
                }
            }
            card.repeats = series_line(e, rep, now);
            return card;
        }
        let open_today = repetition
            .and_then(|r| r.hours.as_ref())
            .and_then(|hours| open_today(e, hours, now));
        EventCard {
            repeats: None,
            open_today,
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

    pub fn list(
        rows: &[EventWithCity],
        repetitions: &HashMap<i32, Repetition>,
        now: DateTime<Utc>,
    ) -> Vec<EventCard> {
        rows.iter()
            .map(|r| EventCard::new(r, repetitions.get(&r.event.id), now))
            .collect()
    }
}

/// "Every Tue and Thu, 18:00–20:00, until 30 Jun 2027 (next: Tue 8 Dec)": how a
/// series reads in a listing and on its page.
pub fn series_line(e: &Event, rep: &Repetition, now: DateTime<Utc>) -> Option<String> {
    let rule = rep.rule.as_ref()?;
    let mut line = rule.describe(e.start_date);
    if let (Some(start), Some(end)) = (e.start_time, e.end_time) {
        line.push_str(&format!(
            ", {}–{}",
            start.format("%H:%M"),
            end.format("%H:%M")
        ));
    } else if let Some(start) = e.start_time {
        line.push_str(&format!(", {}", start.format("%H:%M")));
    }
    line.push_str(", ");
    line.push_str(&rule.describe_end());
    match rep.next(now) {
        Some(next) => line.push_str(&format!(" (next: {})", next.start_date.format("%a %-d %b"))),
        None => line.push_str(" (over)"),
    }
    Some(line)
}

/// "Open today 10:00–18:00" or "Closed today", in the event's zone, while it runs.
pub fn open_today(e: &Event, hours: &Hours, now: DateTime<Utc>) -> Option<String> {
    let today = now.with_timezone(&e.timezone.tz()).date_naive();
    (e.start_date <= today && today <= e.end_date).then(|| match hours.on(today) {
        Some((opens, closes)) => format!(
            "Open today {}–{}",
            opens.format("%H:%M"),
            closes.format("%H:%M")
        ),
        None => "Closed today".to_owned(),
    })
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
            repetitions: Default::default(),
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

/// A moment for people who act on it across zones (moderators, organisers reading a
/// log): "3 Dec 2026, 14:05 UTC".
pub fn utc_text(t: &chrono::NaiveDateTime) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
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
            repetitions: Default::default(),
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

//! Links that put our feeds and events into calendar apps: `webcal://` for the apps
//! that register it (Apple Calendar, Outlook, Thunderbird), and the web calendars'
//! own "subscribe" and "new event" addresses.

use chrono::{DateTime, Duration, Utc};

use crate::db::models::EventWithCity;
use crate::domain::EventSchedule;

/// The subscribe box of a listing.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// The feed's https (or http) address, to copy or download.
    pub feed_url: String,
    /// The same address as `webcal://`, which opens the calendar app.
    pub webcal_url: String,
    pub google_url: String,
    pub outlook_url: String,
}

impl Subscription {
    /// Links for the feed at `path` (such as `/cities/krakow/calendar.ics`), called `name`
    /// in the apps that ask.
    pub fn new(public_url: &str, path: &str, name: &str) -> Subscription {
        let feed_url = format!("{public_url}{path}");
        let webcal_url = match feed_url.split_once("://") {
            Some((_, rest)) => format!("webcal://{rest}"),
            None => feed_url.clone(),
        };
        let google_url = format!(
            "https://calendar.google.com/calendar/r?{}",
            query(&[("cid", webcal_url.as_str())])
        );
        let outlook_url = format!(
            "https://outlook.live.com/calendar/0/addfromweb?{}",
            query(&[("url", feed_url.as_str()), ("name", name)])
        );
        Subscription {
            feed_url,
            webcal_url,
            google_url,
            outlook_url,
        }
    }
}

/// The "add to calendar" box of an event page.
#[derive(Debug, Clone)]
pub struct AddToCalendar {
    /// Our single-event `.ics`.
    pub ics_path: String,
    pub google_url: String,
    pub outlook_url: String,
}

/// How much of a description goes into a web calendar link; addresses longer than a
/// couple of thousand characters are refused by some browsers and servers.
const DETAILS_CHARS: usize = 400;

impl AddToCalendar {
    pub fn new(public_url: &str, row: &EventWithCity) -> AddToCalendar {
        let e = &row.event;
        let page_url = format!("{public_url}/events/{}", e.id);
        let mut details: String = e.description.trim().chars().take(DETAILS_CHARS).collect();
        if e.description.trim().chars().count() > DETAILS_CHARS {
            details.push('…');
        }
        if !details.is_empty() {
            details.push_str("\n\n");
        }
        details.push_str(&page_url);
        let location = crate::ical::location(row);
        let zone = e.timezone.name();
        let (google_dates, outlook_start, outlook_end, all_day) = match e.schedule() {
            // Exclusive end dates, as both services expect.
            EventSchedule::AllDay { first, last } => {
                let end = last + Duration::days(1);
                (
                    format!("{}/{}", first.format("%Y%m%d"), end.format("%Y%m%d")),
                    first.to_string(),
                    end.to_string(),
                    true,
                )
            }
            EventSchedule::Timed { .. } => {
                let utc = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
                let iso = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
                (
                    format!("{}/{}", utc(e.starts_at_utc()), utc(e.ends_at_utc())),
                    iso(e.starts_at_utc()),
                    iso(e.ends_at_utc()),
                    false,
                )
            }
        };
        let google_url = format!(
            "https://calendar.google.com/calendar/render?{}",
            query(&[
                ("action", "TEMPLATE"),
                ("text", &e.title),
                ("dates", &google_dates),
                // Shown in the city's zone, where it happens.
                ("ctz", zone),
                ("details", &details),
                ("location", &location),
            ])
        );
        let outlook_url = format!(
            "https://outlook.live.com/calendar/0/action/compose?{}",
            query(&[
                ("rru", "addevent"),
                ("subject", &e.title),
                ("startdt", &outlook_start),
                ("enddt", &outlook_end),
                ("allday", if all_day { "true" } else { "false" }),
                ("body", &details),
                ("location", &location),
            ])
        );
        AddToCalendar {
            ics_path: format!("/events/{}/calendar.ics", e.id),
            google_url,
            outlook_url,
        }
    }
}

fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_links_wrap_the_feed_address() {
        let s = Subscription::new(
            "https://calendar.example.org",
            "/cities/krakow/calendar.ics",
            "Kraków — Creative Cities Calendar",
        );
        assert_eq!(
            s.feed_url,
            "https://calendar.example.org/cities/krakow/calendar.ics"
        );
        assert_eq!(
            s.webcal_url,
            "webcal://calendar.example.org/cities/krakow/calendar.ics"
        );
        assert_eq!(
            s.google_url,
            "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2Fcalendar.example.org%2Fcities%2Fkrakow%2Fcalendar.ics"
        );
        assert!(s.outlook_url.starts_with(
            "https://outlook.live.com/calendar/0/addfromweb?url=https%3A%2F%2Fcalendar.example.org%2Fcities%2Fkrakow%2Fcalendar.ics&name=Krak%C3%B3w"
        ));
    }

    #[test]
    fn a_filtered_feed_keeps_its_query_inside_the_google_link() {
        let s = Subscription::new(
            "http://127.0.0.1:8080",
            "/events.ics?q=a%26b&kind=talk",
            "x",
        );
        assert_eq!(
            s.webcal_url,
            "webcal://127.0.0.1:8080/events.ics?q=a%26b&kind=talk"
        );
        assert!(
            s.google_url
                .ends_with("events.ics%3Fq%3Da%2526b%26kind%3Dtalk")
        );
    }
}

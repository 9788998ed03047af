//! A feed: calendar properties, one VTIMEZONE per zone used, one VEVENT per event.
//!
//! The output is a pure function of its input: `DTSTAMP` is the event's last change,
//! not the time of the request, so an unchanged feed is byte-for-byte the same and its
//! ETag is stable.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, LocalResult, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::{CalendarDateTime, Component, DatePerhapsTime, EventLike, Property};

use super::timezone::write_vtimezone;
use super::writer::ContentWriter;
use crate::db::models::{EventWithCity, OccurrenceRow, OccurrenceStatus, Repetition};
use crate::domain::{EventSchedule, EventStatus};

/// Our `PRODID` (RFC 5545 3.7.3).
pub const PRODID: &str = "-//Creative Cities Calendar//creative-calendar//EN";

/// How often clients should poll (RFC 7986 `REFRESH-INTERVAL`, and Microsoft's
/// `X-PUBLISHED-TTL`). Google ignores both and polls every several hours regardless.
pub const REFRESH_INTERVAL: &str = "PT4H";

/// The order VEVENT properties are written in; the rest follow alphabetically.
const EVENT_ORDER: &[&str] = &[
    "UID",
    "DTSTAMP",
    "SEQUENCE",
    "CREATED",
    "LAST-MODIFIED",
    "RECURRENCE-ID",
    "DTSTART",
    "DTEND",
    "RRULE",
    "EXDATE",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "GEO",
    "URL",
    "STATUS",
    "TRANSP",
];

/// What a feed is about.
#[derive(Debug, Clone)]
pub struct CalendarInfo {
    /// `NAME` and `X-WR-CALNAME`: "Kraków — Creative Cities Calendar".
    pub name: String,
    /// `DESCRIPTION` and `X-WR-CALDESC`.
    pub description: String,
    /// The web page that lists the same events (`URL`).
    pub page_url: String,
}

/// The site's address, for event page URLs.
#[derive(Debug, Clone)]
pub struct Site<'a> {
    pub public_url: &'a str,
}

impl Site<'_> {
    pub fn event_url(&self, id: i32) -> String {
        format!("{}/events/{id}", self.public_url)
    }
}

/// Renders a whole VCALENDAR.
pub fn render(
    info: &CalendarInfo,
    site: &Site<'_>,
    events: &[EventWithCity],
    repetitions: &HashMap<i32, Repetition>,
) -> String {
    let mut w = ContentWriter::with_capacity(1_024 + events.len() * 1_100);
    w.begin("VCALENDAR");
    w.raw("VERSION", "2.0");
    w.text("PRODID", PRODID);
    w.raw("CALSCALE", "GREGORIAN");
    w.raw("METHOD", "PUBLISH");
    w.text("NAME", &info.name);
    w.text("X-WR-CALNAME", &info.name);
    w.text("DESCRIPTION", &info.description);
    w.text("X-WR-CALDESC", &info.description);
    w.raw("URL", &uri(&info.page_url));
    w.line(
        "REFRESH-INTERVAL",
        &[("VALUE", "DURATION")],
        REFRESH_INTERVAL,
    );
    w.raw("X-PUBLISHED-TTL", REFRESH_INTERVAL);

    // Zones of timed events only (all-day events are dates and name no zone), with the
    // years their events touch.
    let mut zones: BTreeMap<&'static str, (Tz, i32, i32)> = BTreeMap::new();
    for e in events.iter().map(|r| &r.event).filter(|e| !e.all_day) {
        let tz = e.timezone.tz();
        // A series reaches to its last occurrence (and a moved one may lie later still).
        let last_override = repetitions
            .get(&e.id)
            .and_then(|r| r.listed().map(|o| o.end_date).max())
            .map(|d| d.year());
        let (first, last) = (
            e.start_date.year(),
            e.end_date
                .year()
                .max(e.last_ends_at_utc().with_timezone(&tz).year())
                .max(last_override.unwrap_or(i32::MIN)),
        );
        zones
            .entry(tz.name())
            .and_modify(|span| {
                span.1 = span.1.min(first);
                span.2 = span.2.max(last);
            })
            .or_insert((tz, first, last));
    }
    for (tz, first, last) in zones.values() {
        // One year more than the events need: clients and checkers look a year or so
        // ahead of the last event, and a zone must not stop short of what they read.
        write_vtimezone(&mut w, *tz, *first, last.saturating_add(1));
    }
    for row in events {
        let repetition = repetitions.get(&row.event.id);
        w.component(&vevent(row, site, repetition), EVENT_ORDER);
        for occurrence in repetition
            .into_iter()
            .flat_map(|r| r.listed().filter(|o| o.overridden))
        {
            w.component(&override_vevent(row, site, occurrence), EVENT_ORDER);
        }
    }
    w.end("VCALENDAR");
    w.finish()
}

/// The properties every VEVENT of an event shares, its overrides' too.
fn common(
    row: &EventWithCity,
    site: &Site<'_>,
    status: EventStatus,
    title: &str,
    extra: &str,
) -> icalendar::Event {
    let e = &row.event;
    let page_url = site.event_url(e.id);
    let changed = e.updated_at.and_utc();
    let mut ev = icalendar::Event::new();
    ev.uid(&e.uid)
        .timestamp(changed)
        .sequence(u32::try_from(e.sequence).unwrap_or(0))
        .created(e.created_at.and_utc())
        .last_modified(changed)
        .summary(&summary(title, status))
        .description(&description(row, status, extra, &page_url))
        .location(&location(row))
        .url(&uri(&page_url))
        .status(match status {
            EventStatus::Scheduled => icalendar::EventStatus::Confirmed,
            EventStatus::Postponed => icalendar::EventStatus::Tentative,
            EventStatus::Cancelled => icalendar::EventStatus::Cancelled,
        })
        .categories([e.kind.label(), e.field.label()])
        // A public listing, not the subscriber's own appointments: it must not mark
        // them busy.
        .append_property(Property::new("TRANSP", "TRANSPARENT"));
    if let (Some(lat), Some(lon)) = (e.latitude, e.longitude) {
        ev.append_property(Property::new("GEO", format!("{lat:.6};{lon:.6}")));
    }
    ev
}

/// One event as a VEVENT, built with the `icalendar` crate; a series with its RRULE
/// and EXDATE.
fn vevent(
    row: &EventWithCity,
    site: &Site<'_>,
    repetition: Option<&Repetition>,
) -> icalendar::Event {
    let e = &row.event;
    let tz = e.timezone.tz();
    let series = repetition.and_then(Repetition::series);
    let extra = match (repetition, &series) {
        (_, Some(series)) => format!(
            "{}, {}.",
            series.rule.describe(e.start_date),
            series.rule.describe_end()
        ),
        (
            Some(Repetition {
                hours: Some(hours), ..
            }),
            None,
        ) => format!("Open {}.", hours.describe()),
        _ => String::new(),
    };
    let mut ev = common(row, site, e.status, &e.title, &extra);
    let schedule = e.schedule();
    match (schedule, &series) {
        // DTEND of an all-day event is the day after the last day (RFC 5545 3.6.1):
        // the crate's `all_day()` would write the first day twice.
        (EventSchedule::AllDay { first, last }, _) => {
            ev.starts(first);
            ev.ends(last.succ_opt().unwrap_or(last));
        }
        (EventSchedule::Timed { .. }, None) => {
            ev.starts(zoned(tz, e.starts_at_utc()));
            ev.ends(zoned(tz, e.ends_at_utc()));
        }
        // A series is expanded by each client from DTSTART in its zone: it must be a
        // local time with TZID, never UTC, or 19:00 would drift an hour at each change
        // of the clocks.
        (EventSchedule::Timed { start, .. }, Some(_)) => {
            ev.starts(local_with_zone(tz, start));
            ev.ends(local_with_zone(
                tz,
                e.ends_at_utc().with_timezone(&tz).naive_local(),
            ));
        }
    }
    if let Some(series) = &series {
        let all_day = schedule.is_all_day();
        ev.append_property(Property::new(
            "RRULE",
            series.rule.to_feed(e.start_date, (!all_day).then_some(tz)),
        ));
        if !series.skip_dates.is_empty() {
            ev.append_property(exdate(&schedule, tz, &series.skip_dates));
        }
    }
    ev.done()
}

/// A VEVENT for one occurrence that was moved, retitled or cancelled: the same UID,
/// and RECURRENCE-ID naming the occurrence where the rule puts it.
///
/// A cancelled occurrence is written so, with STATUS:CANCELLED and "Cancelled:" in its
/// title, rather than as an EXDATE: Thunderbird, Apple Calendar and Outlook show it
/// struck or marked, and Google, which ignores STATUS in subscriptions, shows the title.
/// An EXDATE would make it vanish without a word (see docs/feeds.md).
fn override_vevent(row: &EventWithCity, site: &Site<'_>, o: &OccurrenceRow) -> icalendar::Event {
    let e = &row.event;
    let tz = e.timezone.tz();
    let status = match o.status() {
        OccurrenceStatus::Cancelled => EventStatus::Cancelled,
        _ => e.status,
    };
    let title = o.title.as_deref().unwrap_or(&e.title);
    let mut ev = common(row, site, status, title, "");
    let original = e.schedule();
    match (original, o.schedule()) {
        (EventSchedule::AllDay { .. }, EventSchedule::AllDay { first, last }) => {
            ev.append_property(
                Property::new(
                    "RECURRENCE-ID",
                    o.occurrence_date.format("%Y%m%d").to_string(),
                )
                .add_parameter("VALUE", "DATE")
                .done(),
            );
            ev.starts(first);
            ev.ends(last.succ_opt().unwrap_or(last));
        }
        (_, _) => {
            let at = original
                .start_time()
                .map(|t| o.occurrence_date.and_time(t))
                .unwrap_or_else(|| o.occurrence_date.and_time(chrono::NaiveTime::MIN));
            // The rule's wall-clock time in the series' zone, as DTSTART is written:
            // python-icalendar, libical and Home Assistant's ical match an override to
            // its occurrence only in that form (not by a UTC instant).
            ev.append_property(
                Property::new("RECURRENCE-ID", at.format("%Y%m%dT%H%M%S").to_string())
                    .add_parameter("TZID", tz.name())
                    .done(),
            );
            ev.starts(zoned(tz, o.starts_at_utc()));
            ev.ends(zoned(tz, o.ends_at_utc()));
        }
    }
    ev.done()
}

/// EXDATE for skipped dates: the first occurrence's local start on each, in its zone
/// (as DTSTART is written), or the dates alone for an all-day series.
fn exdate(
    schedule: &EventSchedule,
    tz: Tz,
    dates: &std::collections::BTreeSet<chrono::NaiveDate>,
) -> Property {
    match schedule.start_time() {
        None => Property::new(
            "EXDATE",
            dates
                .iter()
                .map(|d| d.format("%Y%m%d").to_string())
                .collect::<Vec<_>>()
                .join(","),
        )
        .add_parameter("VALUE", "DATE")
        .done(),
        Some(t) => Property::new(
            "EXDATE",
            dates
                .iter()
                .map(|d| d.and_time(t).format("%Y%m%dT%H%M%S").to_string())
                .collect::<Vec<_>>()
                .join(","),
        )
        .add_parameter("TZID", tz.name())
        .done(),
    }
}

/// A wall-clock time with its zone, as written.
fn local_with_zone(tz: Tz, local: chrono::NaiveDateTime) -> DatePerhapsTime {
    DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
        date_time: local,
        tzid: tz.name().to_owned(),
    })
}

/// A local time with its zone, as calendars expect, when the zone has that local time
/// once; the instant in UTC when it has it twice (the hour repeated when clocks go back).
///
/// A repeated local time in a `DTSTART;TZID=…` is read differently by different clients:
/// RFC 5545 3.3.5 says it means the first occurrence, and so do our pages and python's
/// icalendar, but ical.js (Thunderbird), libical (Evolution), khal and node-ical take the
/// second, an hour later. UTC is the one form they all read as the same instant, whichever
/// occurrence the event is at. (A local time the zone skips cannot come out of an instant.)
fn zoned(tz: Tz, at: DateTime<Utc>) -> DatePerhapsTime {
    let local = at.with_timezone(&tz).naive_local();
    if let LocalResult::Single(_) = tz.from_local_datetime(&local) {
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
            date_time: local,
            tzid: tz.name().to_owned(),
        })
    } else {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))
    }
}

/// The title; a cancelled or postponed event says so first, for the clients that show
/// no `STATUS` (Google shows none in subscribed calendars).
fn summary(title: &str, status: EventStatus) -> String {
    match status {
        EventStatus::Scheduled => title.to_owned(),
        EventStatus::Postponed => format!("Postponed: {title}"),
        EventStatus::Cancelled => format!("Cancelled: {title}"),
    }
}

/// Plain text: the description, what a visitor needs to know, then the event's page.
fn description(row: &EventWithCity, status: EventStatus, extra: &str, page_url: &str) -> String {
    let e = &row.event;
    let mut text = String::new();
    match status {
        EventStatus::Cancelled => text.push_str("This event has been cancelled.\n\n"),
        EventStatus::Postponed => {
            text.push_str("This event has been postponed; new dates are not known yet.\n\n")
        }
        EventStatus::Scheduled => {}
    }
    if e.status != EventStatus::Scheduled
        && status == e.status
        && let Some(note) = e.status_note.as_deref().filter(|n| !n.trim().is_empty())
    {
        text.push_str(&format!("From the organiser: {}\n\n", note.trim()));
    }
    if !extra.is_empty() {
        text.push_str(extra);
        text.push_str("\n\n");
    }
    let body = e.description.trim();
    if !body.is_empty() {
        text.push_str(body);
        text.push_str("\n\n");
    }
    if e.is_free {
        text.push_str("Free.\n");
    } else if let Some(price) = e.price.as_deref().filter(|p| !p.trim().is_empty()) {
        text.push_str(&format!("Price: {}\n", price.trim()));
    }
    if let Some(organizer) = e.organizer_name.as_deref().filter(|o| !o.trim().is_empty()) {
        text.push_str(&format!("Organised by {}\n", organizer.trim()));
    }
    if let Some(url) = e.url.as_deref() {
        text.push_str(&format!("Website: {url}\n"));
    }
    text.push_str(page_url);
    text
}

/// "Venue, address, city, country", without empty parts, and without the city when
/// the address already names it. Feeds and the web calendars' links say it alike.
pub fn location(row: &EventWithCity) -> String {
    let e = &row.event;
    let address = e.venue_address.trim();
    let city = row.city.name.as_str();
    let names_city = address.to_lowercase().contains(&city.to_lowercase());
    [
        e.venue_name.trim(),
        address,
        if names_city { "" } else { city },
        row.city.country.as_str(),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

/// A URI value is not TEXT and is not escaped; characters a URI cannot hold are
/// percent-encoded so that no value can break the line or the property.
fn uri(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        if c.is_ascii_graphic() && c != '"' {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// How far back a feed reaches: events that ended less than this long ago stay in.
const WINDOW_DAYS: i64 = 30;

/// The exclusive end of the feed's window: events that ended before this are left
/// out. Midnight UTC thirty days ago, so that the window moves once a day and a feed
/// stays the same between changes.
pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    midnight(now) - Duration::days(WINDOW_DAYS)
}

/// When an event that ended at `ended` left the window: the first midnight (UTC) at
/// least thirty days later, the inverse of [`window_start`].
pub fn left_window_at(ended: DateTime<Utc>) -> DateTime<Utc> {
    let due = ended + Duration::days(WINDOW_DAYS);
    if midnight(due) == due {
        due
    } else {
        midnight(due) + Duration::days(1)
    }
}

fn midnight(at: DateTime<Utc>) -> DateTime<Utc> {
    at.date_naive().and_time(chrono::NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// How the two kinds of client read `value`: a zoned local time as its first occurrence
    /// (RFC 5545, python's icalendar) and as its last (ical.js, libical, khal, node-ical);
    /// UTC alike.
    fn readings(value: &DatePerhapsTime) -> Vec<DateTime<Utc>> {
        match value {
            DatePerhapsTime::DateTime(CalendarDateTime::Utc(t)) => vec![*t, *t],
            DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
                let tz: Tz = tzid.parse().unwrap();
                let local = tz.from_local_datetime(date_time);
                [local.earliest(), local.latest()]
                    .into_iter()
                    .map(|t| t.expect("a local time that exists").with_timezone(&Utc))
                    .collect()
            }
            other => panic!("not a date-time: {other:?}"),
        }
    }

    #[test]
    fn a_local_time_the_zone_repeats_is_written_in_utc_at_either_occurrence() {
        let berlin = chrono_tz::Europe::Berlin;
        // 02:30 on 31 October 2027 happens at 00:30 UTC (CEST) and at 01:30 UTC (CET).
        for at in ["2027-10-31T00:30:00Z", "2027-10-31T01:30:00Z"] {
            assert_eq!(
                zoned(berlin, utc(at)),
                DatePerhapsTime::DateTime(CalendarDateTime::Utc(utc(at))),
                "{at}"
            );
        }
        // The hour on either side happens once and keeps its zone.
        for (at, local) in [
            ("2027-10-30T23:59:00Z", "2027-10-31T01:59:00"),
            ("2027-10-31T02:00:00Z", "2027-10-31T03:00:00"),
        ] {
            assert_eq!(
                zoned(berlin, utc(at)),
                DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
                    date_time: local.parse().unwrap(),
                    tzid: "Europe/Berlin".to_owned(),
                }),
                "{at}"
            );
        }
    }

    #[test]
    fn every_client_reads_the_instant_we_mean_around_every_change_of_the_clocks() {
        use super::super::timezone::observances;
        // Changes at 01:00 UTC, at local midnight, south of the equator, in a half-hour
        // zone, where tzdata counts winter as a negative summer time, and by half an hour
        // (Lord Howe Island, not a member city, but the rule is the same).
        for name in [
            "Europe/Berlin",
            "Europe/Dublin",
            "America/Denver",
            "America/Havana",
            "America/Santiago",
            "Asia/Beirut",
            "Pacific/Auckland",
            "Australia/Adelaide",
            "Africa/Casablanca",
            "Australia/Lord_Howe",
        ] {
            let tz: Tz = name.parse().unwrap();
            let changes = observances(tz, 2027, 2027);
            assert!(changes.len() > 2, "{name} changes in 2027");
            for change in &changes[1..] {
                // Every five minutes from three hours before to three hours after.
                for step in -36..=36 {
                    let at = change.onset + Duration::minutes(5 * step);
                    let value = zoned(tz, at);
                    assert_eq!(readings(&value), [at, at], "{name} at {at}: {value:?}");
                }
            }
        }
    }

    #[test]
    fn uris_cannot_carry_spaces_quotes_or_line_breaks() {
        assert_eq!(
            uri("https://x.org/a b\"c\r\nd/é"),
            "https://x.org/a%20b%22c%0D%0Ad/%C3%A9"
        );
    }

    #[test]
    fn an_event_leaves_the_window_at_the_first_midnight_thirty_days_on() {
        let ended: DateTime<Utc> = "2026-10-01T18:00:00Z".parse().unwrap();
        assert_eq!(
            left_window_at(ended).to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        // Just before, it is still in; from then on it is out.
        let before: DateTime<Utc> = "2026-10-31T23:59:59Z".parse().unwrap();
        let after: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().unwrap();
        assert!(window_start(before) < ended);
        assert!(window_start(after) >= ended);
        let midnight: DateTime<Utc> = "2026-10-02T00:00:00Z".parse().unwrap();
        assert_eq!(
            left_window_at(midnight).to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
    }

    #[test]
    fn the_window_starts_at_midnight_utc_thirty_days_back() {
        let now: DateTime<Utc> = "2026-11-28T12:00:00Z".parse().unwrap();
        assert_eq!(window_start(now).to_rfc3339(), "2026-10-29T00:00:00+00:00");
    }
}

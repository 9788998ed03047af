//! Events at the edges of time zones (`demo --zone-edges`), so that the strict feed check
//! in `.ci/check-feeds.sh` meets what random sample events rarely land on: local times a
//! zone repeats, times just around the hour it skips, nights across a change of the
//! clocks, events across midnight, and all-day events on the days the clocks change.
//!
//! The events are placed on every change of the clocks in the 400 days after `now`, so the
//! data set never falls out of the feeds' window, and they are made the way the demo makes
//! its events (an [`EventDraft`] resolved by [`NewEvent::from_draft`]): a time the city
//! skips is refused here as it is from an organiser, so the events sit across the gap.

use anyhow::Context;
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};

use super::{DemoReport, SAMPLE_NOTICE};
use crate::db::DbConnection;
use crate::db::models::{City, Event, NewEvent};
use crate::domain::{
    EventDraft, EventKind, EventSchedule, EventStatus, EventTitle, ModerationState, ScheduleError,
};
use crate::ical::timezone::{Observance, observances};

/// Member cities whose zones have, between them, every kind of edge; what each one adds.
pub const CITIES: &[(&str, &str)] = &[
    ("berlin", "Europe/Berlin: the EU's changes, at 01:00 UTC"),
    (
        "dublin",
        "Europe/Dublin: tzdata counts its winter time as a negative summer time",
    ),
    (
        "santa-fe",
        "America/Denver: the US changes, at 02:00 local time",
    ),
    (
        "havana",
        "America/Havana: changes at midnight, so midnight itself is skipped or repeated",
    ),
    (
        "concepcion",
        "America/Santiago: southern hemisphere, changes at 24:00 on a Saturday",
    ),
    (
        "auckland",
        "Pacific/Auckland: southern hemisphere, UTC+13 in summer",
    ),
    (
        "adelaide",
        "Australia/Adelaide: a half-hour zone, UTC+09:30 in winter and +10:30 in summer",
    ),
    ("beirut", "Asia/Beirut: changes at midnight"),
    (
        "casablanca",
        "Africa/Casablanca: an hour back for Ramadan and forward after it",
    ),
    ("kathmandu", "Asia/Kathmandu: UTC+05:45, no changes"),
];

/// How far ahead changes of the clocks are looked for: more than a year, so that every
/// zone's changes of both kinds are in whatever the day.
const HORIZON_DAYS: i64 = 400;

/// Fills an empty events table with the zone-edge events of [`CITIES`] around `now`.
pub fn generate(conn: &mut DbConnection, now: DateTime<Utc>) -> anyhow::Result<DemoReport> {
    let existing = Event::count(conn)?;
    if existing > 0 {
        return Ok(DemoReport::SkippedNotEmpty { existing });
    }
    let started = std::time::Instant::now();
    let mut rows = Vec::new();
    for (slug, why) in CITIES {
        let city = City::find_by_slug(conn, slug)
            .with_context(|| format!("the member city {slug:?} is missing"))?;
        for edge in edges(&city, now) {
            let draft = edge.draft(&city, why)?;
            let row = NewEvent::from_draft(&draft, &city, ModerationState::Published, now)
                .with_context(|| format!("{} in {}", edge.title, city.name))?;
            rows.push(row);
        }
    }
    conn.immediate_transaction(|conn| NewEvent::insert_all(conn, &rows))?;
    Ok(DemoReport::Generated {
        events: rows.len(),
        seconds: started.elapsed().as_secs(),
    })
}

/// One event to make: what it tests, and when. The schedule comes from the domain's
/// constructors, so the rules an organiser meets apply here too.
#[derive(Debug, Clone)]
struct Edge {
    title: String,
    schedule: Result<EventSchedule, ScheduleError>,
}

impl Edge {
    fn timed(title: String, start: NaiveDateTime, end: Option<NaiveDateTime>) -> Edge {
        Edge {
            schedule: EventSchedule::timed(start, end),
            title,
        }
    }

    fn all_day(title: String, first: NaiveDate, last: NaiveDate) -> Edge {
        Edge {
            schedule: EventSchedule::all_day(first, last),
            title,
        }
    }

    fn draft(&self, city: &City, why: &str) -> anyhow::Result<EventDraft> {
        let schedule = self.schedule.clone().with_context(|| self.title.clone())?;
        Ok(EventDraft {
            kind: if schedule.is_all_day() {
                EventKind::Festival
            } else {
                EventKind::Performance
            },
            field: None,
            title: EventTitle::parse(&format!("{}: {}", city.name, self.title))
                .with_context(|| self.title.clone())?,
            description: format!(
                "An event at the edge of {zone}, to check that every calendar reads it at the \
                 time this page shows. {why}.\n\n{SAMPLE_NOTICE}",
                zone = city.timezone.name(),
            ),
            venue_name: "Town Hall".to_owned(),
            venue_address: format!("1 Main Street, {}", city.name),
            coordinates: Some((city.latitude, city.longitude)),
            schedule,
            url: None,
            price: None,
            is_free: true,
            organizer_name: Some(format!("{} Creative City Office", city.name)),
            status: EventStatus::Scheduled,
            series: None,
            hours: None,
        })
    }
}

/// The events of one city: a night across midnight, a day and a festival, then the
/// events of each change of the clocks in the coming [`HORIZON_DAYS`].
fn edges(city: &City, now: DateTime<Utc>) -> Vec<Edge> {
    let tz = city.tz();
    let today = now.with_timezone(&tz).date_naive();
    // An ordinary night and day a month ahead, for the zones that never change as well;
    // a day later if a change of the clocks would skip one of its times.
    let mut night = today + Duration::days(30);
    while [
        at(night, 22, 30),
        at(night + Duration::days(1), 0, 0),
        at(night + Duration::days(1), 1, 30),
    ]
    .iter()
    .any(|t| matches!(tz.from_local_datetime(t), LocalResult::None))
    {
        night += Duration::days(1);
    }
    let mut list = vec![
        Edge::timed(
            format!("across midnight, {}", day(night)),
            at(night, 22, 30),
            Some(at(night + Duration::days(1), 1, 30)),
        ),
        Edge::timed(
            format!("from midnight, {}", day(night + Duration::days(1))),
            at(night + Duration::days(1), 0, 0),
            Some(at(night + Duration::days(1), 1, 0)),
        ),
        Edge::all_day(format!("one day, {}", day(night)), night, night),
    ];
    let end = now + Duration::days(HORIZON_DAYS);
    let last_year = (today + Duration::days(HORIZON_DAYS)).year();
    for change in observances(tz, today.year(), last_year)
        .iter()
        .skip(1)
        .filter(|o| o.onset > now && o.onset <= end)
    {
        list.extend(change_edges(change));
    }
    list
}

/// The events of one change of the clocks. `before` is where the local time stood when
/// the change came, `after` what it read next.
fn change_edges(change: &Observance) -> Vec<Edge> {
    let before = change.onset.naive_utc() + Duration::seconds(i64::from(change.offset_from));
    let after = change.onset.naive_utc() + Duration::seconds(i64::from(change.offset_to));
    let shift = (after - before).abs();
    let mut list = Vec::new();
    if after < before {
        // Back: local times from `after` to `before` happen twice.
        let (repeat, end) = (after, before);
        let mid = repeat + shift / 2;
        list.extend([
            Edge::timed(
                format!("starts in the repeated hour, {}", stamp(mid)),
                mid,
                Some(end + Duration::hours(1)),
            ),
            Edge::timed(
                format!("ends in the repeated hour, {}", stamp(mid)),
                repeat - Duration::hours(1),
                Some(mid),
            ),
            Edge::timed(
                format!("within the repeated hour, {}", stamp(repeat)),
                repeat,
                Some(repeat + shift * 3 / 4),
            ),
            // No end: its two hours are counted from the first time round, and end in
            // the repeated hour the second time round.
            Edge::timed(
                format!(
                    "two hours that end in the repeat, {}",
                    stamp(repeat - shift / 2)
                ),
                repeat - shift / 2,
                None,
            ),
            Edge::timed(
                format!(
                    "the night the clocks go back, {}",
                    stamp(repeat - Duration::hours(3))
                ),
                repeat - Duration::hours(3),
                Some(end + Duration::hours(3)),
            ),
        ]);
    } else {
        // Forward: local times from `before` to `after` do not exist.
        let (gap, end) = (before, after);
        list.extend([
            Edge::timed(
                format!(
                    "across the skipped hour, {}",
                    stamp(gap - Duration::minutes(30))
                ),
                gap - Duration::minutes(30),
                Some(end + Duration::minutes(30)),
            ),
            Edge::timed(
                format!(
                    "ends as the clocks go forward, {}",
                    stamp(gap - Duration::minutes(1))
                ),
                gap - Duration::hours(1),
                Some(gap - Duration::minutes(1)),
            ),
            Edge::timed(
                format!("starts as the clocks have gone forward, {}", stamp(end)),
                end,
                Some(end + Duration::hours(1)),
            ),
            Edge::timed(
                format!(
                    "two hours across the skipped hour, {}",
                    stamp(gap - Duration::minutes(30))
                ),
                gap - Duration::minutes(30),
                None,
            ),
            Edge::timed(
                format!(
                    "the night the clocks go forward, {}",
                    stamp(gap - Duration::hours(3))
                ),
                gap - Duration::hours(3),
                Some(end + Duration::hours(3)),
            ),
        ]);
    }
    // The days whose local times the change repeats or skips (a range that ends at 00:00
    // touches only the day before it), and a festival around the change.
    let mut days = vec![after.min(before).date()];
    if after.max(before).date() != days[0] && after.max(before).time() != NaiveTime::MIN {
        days.push(after.max(before).date());
    }
    for d in days {
        list.push(Edge::all_day(
            format!("the day the clocks change, {}", day(d)),
            d,
            d,
        ));
    }
    let d = before.date();
    list.push(Edge::all_day(
        format!("three days around the change, {}", day(d)),
        d - Duration::days(1),
        d + Duration::days(1),
    ));
    list
}

fn at(date: NaiveDate, hour: u32, minute: u32) -> NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN))
}

fn day(date: NaiveDate) -> String {
    date.format("%a %-d %b %Y").to_string()
}

fn stamp(local: NaiveDateTime) -> String {
    local.format("%a %-d %b %Y %H:%M").to_string()
}

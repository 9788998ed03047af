//! Dates and times are always the city's: stored, shown and compared in its zone.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use creative_calendar::db::models::Event;
use creative_calendar::domain::{EventKind, EventSchedule};
use icalendar::Component;

use crate::helpers::{feed_events, spawn_app, spawn_app_at};

#[actix_web::test]
async fn an_event_on_the_day_paris_springs_forward_keeps_its_local_times() {
    let app = spawn_app_at("2026-03-01T12:00:00Z".parse().unwrap()).await;
    // Lyon is in Europe/Paris; at 02:00 on 29 March 2026 the clocks jump to 03:00.
    let e = app
        .event("lyon")
        .title("Night of Lights")
        .kind(EventKind::Performance)
        .timed("2026-03-29 01:30", Some("2026-03-29 03:30"))
        .insert();
    // One real hour, from 00:30 to 01:30 UTC.
    assert_eq!(
        e.starts_at.and_utc().to_rfc3339(),
        "2026-03-29T00:30:00+00:00"
    );
    assert_eq!(
        e.ends_at.and_utc().to_rfc3339(),
        "2026-03-29T01:30:00+00:00"
    );

    let page = app.get(&format!("/events/{}", e.id)).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.text(".event-facts dd"),
        "Sun 29 Mar 2026, 01:30–03:30 (Lyon time, CET/CEST)"
    );
    let ld = page.json_ld();
    assert_eq!(ld["startDate"], "2026-03-29T01:30:00+01:00");
    assert_eq!(ld["endDate"], "2026-03-29T03:30:00+02:00");
}

#[actix_web::test]
async fn kathmandu_events_carry_their_quarter_hour_offset() {
    let app = spawn_app().await;
    let e = app
        .event("kathmandu")
        .title("Himalayan Film Evening")
        .kind(EventKind::Screening)
        .timed("2026-12-12 18:00", Some("2026-12-12 20:00"))
        .insert();
    assert_eq!(
        e.starts_at.and_utc().to_rfc3339(),
        "2026-12-12T12:15:00+00:00"
    );
    let page = app.get(&format!("/events/{}", e.id)).await;
    assert_eq!(
        page.text(".event-facts dd"),
        "Sat 12 Dec 2026, 18:00–20:00 (Kathmandu time, UTC+05:45)"
    );
    let times: Vec<String> = page
        .html()
        .select(&scraper::Selector::parse(".event-facts time").unwrap())
        .map(|t| t.value().attr("datetime").unwrap().to_owned())
        .collect();
    assert_eq!(times, ["2026-12-12T18:00+05:45", "2026-12-12T20:00+05:45"]);
    let ld = page.json_ld();
    assert_eq!(ld["startDate"], "2026-12-12T18:00:00+05:45");
    assert_eq!(ld["endDate"], "2026-12-12T20:00:00+05:45");
}

#[actix_web::test]
async fn an_auckland_morning_that_is_the_previous_day_in_utc_is_listed_on_its_local_day() {
    let app = spawn_app().await;
    let e = app
        .event("auckland")
        .title("Harbour Brass")
        .kind(EventKind::Performance)
        .timed("2026-12-12 10:00", Some("2026-12-12 14:00"))
        .insert();
    // NZDT is +13:00: the event starts on 11 December in UTC.
    assert_eq!(
        e.starts_at.and_utc().to_rfc3339(),
        "2026-12-11T21:00:00+00:00"
    );
    assert_eq!(
        e.ends_at.and_utc().to_rfc3339(),
        "2026-12-12T01:00:00+00:00"
    );

    let on_the_12th = app.get("/events?from=2026-12-12&to=2026-12-12").await;
    assert_eq!(on_the_12th.event_titles(), ["Harbour Brass"]);
    let on_the_11th = app.get("/events?from=2026-12-11&to=2026-12-11").await;
    assert!(on_the_11th.event_titles().is_empty());

    let page = app.get(&format!("/events/{}", e.id)).await;
    assert_eq!(
        page.text(".event-facts dd"),
        "Sat 12 Dec 2026, 10:00–14:00 (Auckland time, NZDT)"
    );
    assert_eq!(page.json_ld()["startDate"], "2026-12-12T10:00:00+13:00");
}

#[actix_web::test]
async fn an_exhibition_that_opened_last_month_and_closes_next_month_is_on_now_and_listed_first() {
    let app = spawn_app().await;
    app.event("krakow")
        .title("Tomorrow's Concert")
        .kind(EventKind::Performance)
        .timed("2026-11-29 19:00", None)
        .insert();
    app.event("krakow")
        .title("Manuscripts of the Old Town")
        .kind(EventKind::Exhibition)
        .all_day("2026-10-15", "2026-12-20")
        .insert();
    app.event("krakow")
        .title("A Festival in December")
        .all_day("2026-12-05", "2026-12-06")
        .insert();

    let city = app.get("/cities/krakow").await;
    assert_eq!(
        city.event_titles(),
        [
            "Manuscripts of the Old Town",
            "Tomorrow's Concert",
            "A Festival in December"
        ]
    );
    let first = city.texts(".event-list .event-when").remove(0);
    assert_eq!(first, "On now until Sun 20 Dec 2026");
    assert_eq!(city.texts(".event-list .badge-now").len(), 1);

    let home = app.get("/").await;
    let on_now = home.texts("section[aria-labelledby=on-now] .event-title");
    assert_eq!(on_now, ["Manuscripts of the Old Town"]);
}

#[actix_web::test]
async fn upcoming_is_decided_in_each_city_s_zone_not_the_server_s() {
    // Noon UTC on 28 November: already 29 November in Auckland, still early morning of
    // 28 November in Santa Fe (America/Denver).
    let app = spawn_app().await;
    app.event("auckland")
        .title("Auckland Day")
        .all_day("2026-11-28", "2026-11-28")
        .insert();
    app.event("santa-fe")
        .title("Santa Fe Day")
        .all_day("2026-11-28", "2026-11-28")
        .insert();

    let upcoming = app.get("/events").await;
    assert_eq!(upcoming.event_titles(), ["Santa Fe Day"]);
    assert_eq!(upcoming.texts(".event-list .badge-now").len(), 1);

    let past = app.get("/events?past=1").await;
    assert_eq!(past.event_titles(), ["Auckland Day"]);
}

#[actix_web::test]
async fn a_night_across_the_autumn_change_shows_both_zone_names() {
    let app = spawn_app_at("2026-10-01T12:00:00Z".parse().unwrap()).await;
    let e = app
        .event("lyon")
        .title("All-Night Cinema")
        .kind(EventKind::Screening)
        .timed("2026-10-24 22:00", Some("2026-10-25 06:00"))
        .insert();
    // 22:00 CEST to 06:00 CET is nine hours, not eight.
    assert_eq!((e.ends_at - e.starts_at).num_hours(), 9);
    let page = app.get(&format!("/events/{}", e.id)).await;
    assert_eq!(
        page.text(".event-facts dd"),
        "Sat 24 Oct 2026, 22:00 – Sun 25 Oct 2026, 06:00 (Lyon time, CEST/CET)"
    );
}

/// A feed's DTSTART or DTEND as the instant every client reads: UTC as written, or a
/// local time that its zone does not repeat (one that it does would be read differently
/// by different clients, so it must never be written with a TZID).
fn instant_of(value: &icalendar::DatePerhapsTime, line: &str) -> DateTime<Utc> {
    use icalendar::{CalendarDateTime, DatePerhapsTime};
    match value {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(t)) => *t,
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            let tz: chrono_tz::Tz = tzid.parse().unwrap();
            match tz.from_local_datetime(date_time) {
                LocalResult::Single(t) => t.with_timezone(&Utc),
                other => panic!("{line}: a local time clients read differently ({other:?})"),
            }
        }
        other => panic!("{line}: not a zoned or UTC time: {other:?}"),
    }
}

/// How `name` must be written for the local time `local` of event `e`: in UTC when the
/// zone repeats that local time, with its zone otherwise.
fn expected_form(name: &str, e: &Event, local: NaiveDateTime) -> String {
    let tz = e.timezone.tz();
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => {
            format!("{name};TZID={}:{}", tz.name(), t.format("%Y%m%dT%H%M%S"))
        }
        LocalResult::Ambiguous(first, _) => {
            format!(
                "{name}:{}",
                first.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ")
            )
        }
        LocalResult::None => panic!("{local} does not exist in {}", tz.name()),
    }
}

/// The VEVENT of `uid` in a feed, with its DTSTART and DTEND lines as written.
fn written_times(feed: &str, uid: &str) -> (String, String) {
    let block = feed
        .split("BEGIN:VEVENT\r\n")
        .find(|b| b.contains(&format!("UID:{uid}\r\n")))
        .unwrap_or_else(|| panic!("no {uid} in\n{feed}"));
    let line = |name: &str| {
        block
            .split("\r\n")
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {block}"))
            .to_owned()
    };
    (line("DTSTART"), line("DTEND"))
}

#[actix_web::test]
async fn local_times_a_zone_repeats_are_written_in_utc_and_read_back_as_the_page_shows_them() {
    // Each city's clocks go back on these dates, so these local times occur twice. The
    // page takes the first occurrence (RFC 5545 3.3.5); ical.js, libical, khal and
    // node-ical take the second, so a TZID would put the event an hour late there.
    // Columns: city, start, end, and the instants the page shows.
    let cases = [
        // Europe/Berlin: 03:00 CEST back to 02:00 CET.
        (
            "berlin",
            "2027-10-31 02:30",
            "2027-10-31 04:00",
            "2027-10-31T00:30:00Z",
            "2027-10-31T03:00:00Z",
        ),
        (
            "berlin",
            "2027-10-30 23:00",
            "2027-10-31 02:15",
            "2027-10-30T21:00:00Z",
            "2027-10-31T00:15:00Z",
        ),
        // Pacific/Auckland: 03:00 NZDT back to 02:00 NZST, in April.
        (
            "auckland",
            "2027-04-04 02:00",
            "2027-04-04 02:45",
            "2027-04-03T13:00:00Z",
            "2027-04-03T13:45:00Z",
        ),
        // America/Santiago: midnight back to 23:00 on Saturday 3 April.
        (
            "concepcion",
            "2027-04-03 23:30",
            "2027-04-04 01:00",
            "2027-04-04T02:30:00Z",
            "2027-04-04T05:00:00Z",
        ),
        // Australia/Adelaide: 03:00 ACDT (+10:30) back to 02:00 ACST (+09:30).
        (
            "adelaide",
            "2027-04-03 22:00",
            "2027-04-04 02:30",
            "2027-04-03T11:30:00Z",
            "2027-04-03T16:00:00Z",
        ),
        // America/Denver: 02:00 MDT back to 01:00 MST.
        (
            "santa-fe",
            "2027-11-07 01:10",
            "2027-11-07 03:00",
            "2027-11-07T07:10:00Z",
            "2027-11-07T10:00:00Z",
        ),
    ];
    let app = spawn_app().await;
    let mut saved = Vec::new();
    for (city, start, end, starts_at, ends_at) in cases {
        let e = app
            .event(city)
            .title(&format!("Night in {city} from {start}"))
            .kind(EventKind::Performance)
            .timed(start, Some(end))
            .insert();
        assert_eq!(
            e.starts_at.and_utc(),
            starts_at.parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            e.ends_at.and_utc(),
            ends_at.parse::<DateTime<Utc>>().unwrap()
        );
        saved.push((app.city(city), e));
    }

    for (city, e) in &saved {
        let page = app.get(&format!("/events/{}", e.id)).await;
        let ld = page.json_ld();
        let shown = |key: &str| {
            DateTime::parse_from_rfc3339(ld[key].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc)
        };
        assert_eq!(shown("startDate"), e.starts_at.and_utc(), "{}", e.title);
        assert_eq!(shown("endDate"), e.ends_at.and_utc(), "{}", e.title);
        // The web calendars' links carry the same instants, in UTC.
        let google = page.attr(
            ".subscribe a[href^=\"https://calendar.google.com\"]",
            "href",
        );
        let dates = format!(
            "dates={}%2F{}",
            e.starts_at.format("%Y%m%dT%H%M%SZ"),
            e.ends_at.format("%Y%m%dT%H%M%SZ")
        );
        assert!(google.contains(&dates), "{google}");

        let feeds = [
            "/calendar.ics".to_owned(),
            format!("/cities/{}/calendar.ics", city.slug),
            format!("/fields/{}/calendar.ics", city.field.slug()),
            format!("/events.ics?city={}", city.slug),
            format!("/events/{}/calendar.ics", e.id),
        ];
        for path in feeds {
            let res = app.get(&path).await;
            assert_eq!(res.status, 200, "{path}");
            let (dtstart, dtend) = written_times(&res.body, &e.uid);
            let schedule = e.schedule();
            let (start, end) = match schedule {
                EventSchedule::Timed { start, end } => (start, end.unwrap()),
                EventSchedule::AllDay { .. } => unreachable!(),
            };
            assert_eq!(dtstart, expected_form("DTSTART", e, start), "{path}");
            assert_eq!(dtend, expected_form("DTEND", e, end), "{path}");
            let parsed = feed_events(&res.body)
                .into_iter()
                .find(|v| v.get_uid() == Some(e.uid.as_str()))
                .unwrap();
            let start = instant_of(&parsed.get_start().unwrap(), &dtstart);
            let end = instant_of(&parsed.get_end().unwrap(), &dtend);
            assert_eq!(
                (start, end),
                (shown("startDate"), shown("endDate")),
                "{path}"
            );
        }
    }
}

#[actix_web::test]
async fn local_times_a_zone_does_not_repeat_keep_their_zone_on_a_change_day() {
    // The same nights, outside the repeated hour: the TZID form, which every client reads
    // alike and which keeps the event in the city's zone when a subscriber edits it.
    let app = spawn_app().await;
    let e = app
        .event("berlin")
        .title("Before and after the change")
        .kind(EventKind::Performance)
        .timed("2027-10-31 01:30", Some("2027-10-31 03:00"))
        .insert();
    let res = app.get(&format!("/events/{}/calendar.ics", e.id)).await;
    let (dtstart, dtend) = written_times(&res.body, &e.uid);
    assert_eq!(dtstart, "DTSTART;TZID=Europe/Berlin:20271031T013000");
    assert_eq!(dtend, "DTEND;TZID=Europe/Berlin:20271031T030000");
    assert!(
        res.body
            .contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n")
    );
}

#[actix_web::test]
async fn every_event_at_a_zone_edge_is_read_from_the_feed_at_the_instants_the_page_shows() {
    // All the zone-edge data: repeated and skipped hours, midnight changes, the south,
    // half-hour and quarter-hour zones.
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    creative_calendar::demo::zone_edges::generate(&mut conn, app.now).unwrap();
    let res = app.get("/calendar.ics").await;
    assert_eq!(res.status, 200);
    let mut in_utc = 0;
    let mut timed = 0;
    for vevent in feed_events(&res.body) {
        let uid = vevent.get_uid().unwrap();
        let stored = {
            use creative_calendar::db::schema::events;
            use diesel::prelude::*;
            events::table
                .filter(events::uid.eq(uid))
                .select(Event::as_select())
                .first(&mut conn)
                .unwrap()
        };
        if stored.all_day {
            continue;
        }
        timed += 1;
        let (dtstart, dtend) = written_times(&res.body, uid);
        in_utc += [&dtstart, &dtend]
            .iter()
            .filter(|l| l.ends_with('Z'))
            .count();
        let start = instant_of(&vevent.get_start().unwrap(), &dtstart);
        let end = instant_of(&vevent.get_end().unwrap(), &dtend);
        assert_eq!(
            (start, end),
            (stored.starts_at.and_utc(), stored.ends_at.and_utc()),
            "{}",
            stored.title
        );
    }
    assert!(timed > 100, "{timed}");
    // Repeated hours in nine zones, each at the start, at the end or both.
    assert!(in_utc >= 9 * 5, "{in_utc}");
}

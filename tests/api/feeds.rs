//! The `.ics` feeds, read back with a real parser (the `icalendar` crate's) and byte by
//! byte where the bytes are the point.

use std::io::{Read, Write};

use chrono::Duration;
use creative_calendar::clock::Clock;
use creative_calendar::db::models::Event;
use creative_calendar::domain::{
    CreativeField, EventKind, EventSchedule, EventStatus, ModerationState,
};
use diesel::prelude::*;
use icalendar::{Component, DatePerhapsTime, EventLike};

use crate::helpers::{
    Response, TestApp, date, feed_events, local, spawn_app, spawn_app_with, test_now,
};

/// The feed's VEVENTs, parsed.
fn events(res: &Response) -> Vec<icalendar::Event> {
    assert_eq!(res.status, 200, "{}", res.body);
    feed_events(&res.body)
}

fn summaries(res: &Response) -> Vec<String> {
    let mut titles: Vec<String> = events(res)
        .iter()
        .map(|e| e.get_summary().unwrap_or_default().to_owned())
        .collect();
    titles.sort();
    titles
}

fn by_summary(res: &Response, summary: &str) -> icalendar::Event {
    events(res)
        .into_iter()
        .find(|e| e.get_summary() == Some(summary))
        .unwrap_or_else(|| panic!("no {summary:?} in\n{}", res.body))
}

/// Checks the framing every feed must have, whatever its content.
fn assert_well_formed(res: &Response) {
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/calendar; charset=utf-8")
    );
    let body = &res.body;
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(body.ends_with("END:VCALENDAR\r\n"));
    // CRLF everywhere, no bare CR or LF.
    assert_eq!(body.matches('\n').count(), body.matches("\r\n").count());
    assert_eq!(body.matches('\r').count(), body.matches("\r\n").count());
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    for needle in [
        "\r\nVERSION:2.0\r\n",
        "\r\nCALSCALE:GREGORIAN\r\n",
        "\r\nMETHOD:PUBLISH\r\n",
        "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT4H\r\n",
        "\r\nX-PUBLISHED-TTL:PT4H\r\n",
    ] {
        assert!(body.contains(needle), "{needle:?} missing");
    }
    // Every TZID used has its VTIMEZONE.
    for line in body.split("\r\n") {
        if let Some(rest) = line.split(";TZID=").nth(1) {
            let zone = rest.split(':').next().unwrap();
            assert!(
                body.contains(&format!("BEGIN:VTIMEZONE\r\nTZID:{zone}\r\n")),
                "no VTIMEZONE for {zone}"
            );
        }
    }
    for event in events(res) {
        for property in [
            "UID",
            "DTSTAMP",
            "SEQUENCE",
            "CREATED",
            "LAST-MODIFIED",
            "STATUS",
        ] {
            assert!(
                event.property_value(property).is_some(),
                "{property} missing"
            );
        }
    }
}

/// Backdates an event's creation and last change, as if it had been entered earlier.
fn set_times(app: &TestApp, id: i32, created: &str, updated: &str) {
    use creative_calendar::db::schema::events;
    let mut conn = app.pool.get().unwrap();
    diesel::update(events::table.find(id))
        .set((
            events::created_at.eq(local(created)),
            events::updated_at.eq(local(updated)),
        ))
        .execute(&mut conn)
        .unwrap();
}

#[actix_rt::test]
async fn every_kind_of_feed_is_well_formed_calendar_text() {
    let app = spawn_app().await;
    let e = app
        .event("krakow")
        .title("Jazz night")
        .timed("2026-12-12 19:00", Some("2026-12-12 22:00"))
        .insert();
    let f = app.event("kathmandu").title("Film week").insert();
    // Changed well before now: a change this very second has no Last-Modified yet.
    set_times(&app, e.id, "2026-11-02 09:00", "2026-11-27 10:00");
    set_times(&app, f.id, "2026-11-02 09:00", "2026-11-27 10:00");
    for path in [
        "/calendar.ics".to_owned(),
        "/cities/krakow/calendar.ics".to_owned(),
        "/fields/music/calendar.ics".to_owned(),
        "/events.ics?country=pl&q=jazz".to_owned(),
        format!("/events/{}/calendar.ics", e.id),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status, 200, "{path}");
        assert_well_formed(&res);
        assert!(res.header("etag").is_some(), "{path}");
        assert!(res.header("last-modified").is_some(), "{path}");
        assert!(
            res.header("cache-control").unwrap().contains("max-age=900"),
            "{path}"
        );
    }
}

#[actix_rt::test]
async fn a_city_feed_is_named_after_the_city_and_holds_only_its_events() {
    let app = spawn_app().await;
    app.event("krakow").title("Poetry slam").insert();
    app.event("katowice").title("Organ concert").insert();
    let res = app.get("/cities/krakow/calendar.ics").await;
    assert_eq!(summaries(&res), ["Poetry slam"]);
    assert!(
        res.body
            .contains("\r\nX-WR-CALNAME:Kraków — Creative Cities Calendar\r\n")
    );
    assert!(
        res.body
            .contains("\r\nNAME:Kraków — Creative Cities Calendar\r\n")
    );
    assert!(
        res.body
            .contains("\r\nURL:https://calendar.example.org/cities/krakow\r\n")
    );
    // Served inline: calendar apps subscribe to it, browsers show it.
    assert!(res.header("content-disposition").is_none());
}

#[actix_rt::test]
async fn a_field_feed_spans_the_network() {
    let app = spawn_app().await;
    app.event("krakow")
        .field(CreativeField::Music)
        .title("A")
        .insert();
    app.event("kathmandu")
        .field(CreativeField::Music)
        .title("B")
        .insert();
    app.event("kathmandu")
        .field(CreativeField::Film)
        .title("C")
        .insert();
    let res = app.get("/fields/music/calendar.ics").await;
    assert_eq!(summaries(&res), ["A", "B"]);
    assert!(
        res.body
            .contains("\r\nX-WR-CALNAME:Music — Creative Cities Calendar\r\n")
    );
}

#[actix_rt::test]
async fn a_filtered_feed_holds_exactly_what_the_listing_lists_on_all_its_pages() {
    let app = spawn_app().await;
    // More than one page of the listing (page size 5 in tests).
    for i in 0..8 {
        app.event("krakow")
            .title(&format!("Jazz {i}"))
            .kind(EventKind::Performance)
            .field(CreativeField::Music)
            .insert();
    }
    app.event("krakow")
        .title("Jazz workshop")
        .kind(EventKind::Workshop)
        .insert();
    app.event("lodz").title("Jazz in Łódź").insert();
    app.event("kathmandu").title("Jazz far away").insert();
    app.event("krakow")
        .title("Late jazz")
        .all_day("2027-03-01", "2027-03-02")
        .insert();

    for query in [
        "city=krakow",
        "country=PL",
        "field=music&kind=performance",
        "q=jazz",
        "q=jazz&country=pl&kind=festival",
        "from=2027-01-01",
        "to=2026-12-31&city=krakow",
        "kind=workshop",
    ] {
        let listing = app.get(&format!("/events?{query}")).await;
        assert_eq!(listing.status, 200);
        let total: usize = listing
            .text(".result-count")
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let feed = app.get(&format!("/events.ics?{query}")).await;
        assert_eq!(events(&feed).len(), total, "{query}");
        // The titles of the listing's first page are all in the feed.
        let in_feed = summaries(&feed);
        for title in listing.event_titles() {
            assert!(in_feed.contains(&title), "{query}: {title}");
        }
    }
}

#[actix_rt::test]
async fn the_window_keeps_thirty_days_of_the_past_and_everything_ahead() {
    // Now is 2026-11-28 12:00 UTC.
    let app = spawn_app().await;
    app.event("krakow")
        .title("Ended 31 days ago")
        .all_day("2026-10-27", "2026-10-27")
        .insert();
    app.event("krakow")
        .title("Ended 29 days ago")
        .all_day("2026-10-29", "2026-10-29")
        .insert();
    app.event("krakow")
        .title("Running exhibition")
        .kind(EventKind::Exhibition)
        .all_day("2026-09-01", "2027-02-28")
        .insert();
    app.event("krakow")
        .title("Next year")
        .all_day("2027-06-01", "2027-06-03")
        .insert();
    app.event("krakow")
        .title("Cancelled concert")
        .status(EventStatus::Cancelled)
        .insert();
    app.event("krakow")
        .title("Postponed fair")
        .status(EventStatus::Postponed)
        .insert();
    app.event("krakow")
        .title("Pending")
        .moderation(ModerationState::Pending)
        .insert();
    app.event("krakow")
        .title("Rejected")
        .moderation(ModerationState::Rejected)
        .insert();

    for path in [
        "/cities/krakow/calendar.ics",
        "/calendar.ics",
        "/events.ics",
    ] {
        let res = app.get(path).await;
        assert_eq!(
            summaries(&res),
            [
                "Cancelled: Cancelled concert",
                "Ended 29 days ago",
                "Next year",
                "Postponed: Postponed fair",
                "Running exhibition",
            ],
            "{path}"
        );
        let cancelled = by_summary(&res, "Cancelled: Cancelled concert");
        assert_eq!(cancelled.property_value("STATUS"), Some("CANCELLED"));
        let postponed = by_summary(&res, "Postponed: Postponed fair");
        assert_eq!(postponed.property_value("STATUS"), Some("TENTATIVE"));
        let running = by_summary(&res, "Running exhibition");
        assert_eq!(running.property_value("STATUS"), Some("CONFIRMED"));
    }
}

#[actix_rt::test]
async fn pending_and_rejected_events_have_no_single_event_feed() {
    let app = spawn_app().await;
    let pending = app
        .event("krakow")
        .moderation(ModerationState::Pending)
        .insert();
    let res = app
        .get(&format!("/events/{}/calendar.ics", pending.id))
        .await;
    assert_eq!(res.status, 404);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(app.get("/events/abc/calendar.ics").await.status, 404);
    assert_eq!(app.get("/events/99999/calendar.ics").await.status, 404);
}

#[actix_rt::test]
async fn all_day_events_are_dates_with_an_exclusive_end() {
    let app = spawn_app().await;
    app.event("krakow")
        .title("Festival")
        .all_day("2026-12-12", "2026-12-14")
        .insert();
    app.event("krakow")
        .title("One day")
        .all_day("2026-12-31", "2026-12-31")
        .insert();
    let res = app.get("/cities/krakow/calendar.ics").await;
    assert!(
        res.body
            .contains("\r\nDTSTART;VALUE=DATE:20261212\r\nDTEND;VALUE=DATE:20261215\r\n")
    );
    assert!(
        res.body
            .contains("\r\nDTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270101\r\n")
    );
    let festival = by_summary(&res, "Festival");
    assert_eq!(
        festival.get_start(),
        Some(DatePerhapsTime::Date(date("2026-12-12")))
    );
    assert_eq!(
        festival.get_end(),
        Some(DatePerhapsTime::Date(date("2026-12-15")))
    );
    // No zone is needed for dates.
    assert!(!res.body.contains("VTIMEZONE"));
}

#[actix_rt::test]
async fn timed_events_are_local_times_in_the_citys_zone_with_its_vtimezone() {
    let app = spawn_app().await;
    app.event("kathmandu")
        .title("Screening")
        .timed("2027-04-02 18:30", Some("2027-04-02 21:00"))
        .insert();
    app.event("auckland")
        .title("Concert")
        .timed("2027-04-04 19:00", None)
        .insert();
    let res = app.get("/calendar.ics").await;
    assert_well_formed(&res);
    assert!(
        res.body
            .contains("\r\nDTSTART;TZID=Asia/Kathmandu:20270402T183000\r\n")
    );
    assert!(
        res.body
            .contains("\r\nDTEND;TZID=Asia/Kathmandu:20270402T210000\r\n")
    );
    // Auckland leaves summer time at 03:00 on 4 April 2027; a concert that evening is at
    // +12:00, and the default duration of two hours applies.
    assert!(
        res.body
            .contains("\r\nDTSTART;TZID=Pacific/Auckland:20270404T190000\r\n")
    );
    assert!(
        res.body
            .contains("\r\nDTEND;TZID=Pacific/Auckland:20270404T210000\r\n")
    );
    assert!(res.body.contains(
        "BEGIN:STANDARD\r\nDTSTART:20270404T030000\r\nTZOFFSETFROM:+1300\r\nTZOFFSETTO:+1200\r\n"
    ));
    assert!(res.body.contains("TZOFFSETTO:+0545\r\n"));
    // Never floating: every event time has a zone, is UTC, or is a date.
    let mut in_event = false;
    for line in res.body.split("\r\n") {
        match line {
            "BEGIN:VEVENT" => in_event = true,
            "END:VEVENT" => in_event = false,
            _ => {}
        }
        if in_event && (line.starts_with("DTSTART") || line.starts_with("DTEND")) {
            assert!(
                line.contains(";TZID=") || line.contains("VALUE=DATE") || line.ends_with('Z'),
                "{line}"
            );
        }
    }
}

#[actix_rt::test]
async fn hostile_text_round_trips_exactly_and_cannot_add_a_line() {
    let app = spawn_app().await;
    let title = r#"Rock, paper; scissors \ "quoted" 🎸 Ünïcödé"#;
    let description = "Line one, with comma; and semicolon\nLine two \\ backslash\r\n\
                       END:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Injected\r\nUID:evil\n\
                       \u{1b}[31mterminal\u{7} and a tab\there";
    let e = app
        .event("krakow")
        .title(title)
        .description(description)
        .venue("Club \"Pod Baranami\"; cellar", "Rynek 27, Kraków")
        .insert();
    let cjk: String = "創造都市の祭典".chars().cycle().take(300).collect();
    let long = app.event("krakow").title("placeholder").insert();
    {
        use creative_calendar::db::schema::events;
        let mut conn = app.pool.get().unwrap();
        diesel::update(events::table.find(long.id))
            .set(events::title.eq(&cjk))
            .execute(&mut conn)
            .unwrap();
    }

    let res = app.get("/cities/krakow/calendar.ics").await;
    assert_well_formed(&res);
    let parsed = events(&res);
    assert_eq!(parsed.len(), 2, "nothing was injected");
    let lines: Vec<&str> = res.body.split("\r\n").collect();
    assert_eq!(lines.iter().filter(|l| **l == "BEGIN:VEVENT").count(), 2);
    assert!(!res.body.contains("\r\nSUMMARY:Injected"));
    assert!(!res.body.contains("\r\nUID:evil"));

    let hostile = by_summary(&res, title);
    let text = hostile.get_description().unwrap();
    assert!(text.starts_with(
        "Line one, with comma; and semicolon\nLine two \\ backslash\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:Injected\nUID:evil\n[31mterminal and a tab here"
    ), "{text:?}");
    assert!(text.ends_with(&format!("https://calendar.example.org/events/{}", e.id)));
    assert_eq!(
        hostile.get_location(),
        Some("Club \"Pod Baranami\"; cellar, Rynek 27, Kraków, Poland"),
        "the city is not repeated when the address names it"
    );
    assert!(
        res.body
            .contains(r#"SUMMARY:Rock\, paper\; scissors \\ "quoted" 🎸 Ünïcödé"#)
    );

    // 300 three-octet characters fold into many lines, none split inside a character.
    let long = by_summary(&res, &cjk);
    assert_eq!(long.get_summary().unwrap().chars().count(), 300);
    assert!(res.body.lines().filter(|l| l.starts_with(' ')).count() > 12);
}

#[actix_rt::test]
async fn each_event_carries_its_identity_and_history() {
    let app = spawn_app().await;
    let e = app
        .event("krakow")
        .title("Opening")
        .kind(EventKind::Exhibition)
        .field(CreativeField::Design)
        .coordinates(50.061_4, 19.937_2)
        .price("20 PLN")
        .organizer("Gallery Ltd.")
        .timed("2026-12-12 19:00", Some("2026-12-12 22:00"))
        .insert();
    set_times(&app, e.id, "2026-11-02 16:45", "2026-11-20 08:30");
    let res = app.get(&format!("/events/{}/calendar.ics", e.id)).await;
    assert_well_formed(&res);
    let event = by_summary(&res, "Opening");
    assert_eq!(event.get_uid(), Some(e.uid.as_str()));
    assert!(res.body.contains("\r\nDTSTAMP:20261120T083000Z\r\n"));
    assert!(res.body.contains("\r\nLAST-MODIFIED:20261120T083000Z\r\n"));
    assert!(res.body.contains("\r\nCREATED:20261102T164500Z\r\n"));
    assert!(res.body.contains("\r\nSEQUENCE:0\r\n"));
    assert!(res.body.contains("\r\nGEO:50.061400;19.937200\r\n"));
    assert!(res.body.contains("\r\nCATEGORIES:Exhibition,Design\r\n"));
    assert!(res.body.contains("\r\nTRANSP:TRANSPARENT\r\n"));
    assert_eq!(
        event.get_url(),
        Some(format!("https://calendar.example.org/events/{}", e.id).as_str())
    );
    let text = event.get_description().unwrap();
    assert!(text.contains("Price: 20 PLN\n"));
    assert!(text.contains("Organised by Gallery Ltd.\n"));
    // The single-event download is a file with a readable name.
    assert_eq!(
        res.header("content-disposition").as_deref(),
        Some("attachment; filename=\"opening.ics\"")
    );
    assert!(
        res.body
            .contains("\r\nX-WR-CALNAME:Opening — Creative Cities Calendar\r\n")
    );
    // The Last-Modified header is the event's last change.
    assert_eq!(
        res.header("last-modified").as_deref(),
        Some("Fri, 20 Nov 2026 08:30:00 GMT")
    );
}

#[actix_rt::test]
async fn a_small_feed_is_exactly_these_bytes() {
    let app = spawn_app().await;
    let a = app
        .event("braga")
        .title("Noite de Fado, com; convidados")
        .description("Two voices, one guitar.\nBring a friend.")
        .venue("Theatro Circo", "Av. da Liberdade 697")
        .kind(EventKind::Performance)
        .field(CreativeField::Music)
        .timed("2026-12-12 21:30", Some("2026-12-12 23:00"))
        .insert();
    let b = app
        .event("braga")
        .title("Christmas market")
        .kind(EventKind::Market)
        .all_day("2026-12-18", "2026-12-24")
        .insert();
    set_times(&app, a.id, "2026-11-02 09:00", "2026-11-27 10:00");
    set_times(&app, b.id, "2026-11-03 09:00", "2026-11-27 11:15");
    let res = app.get("/cities/braga/calendar.ics").await;
    let redacted = res
        .body
        .replace(&a.uid, "[uid-a]")
        .replace(&b.uid, "[uid-b]")
        .replace("\r\n", "␍\n");
    insta::assert_snapshot!("braga_feed", redacted);
    // The same request gives the same bytes: nothing in a feed depends on the request.
    let again = app.get("/cities/braga/calendar.ics").await;
    assert_eq!(again.body, res.body);
    assert_eq!(again.header("etag"), res.header("etag"));
}

#[actix_rt::test]
async fn conditional_requests_get_304_with_either_validator() {
    let app = spawn_app().await;
    let e = app.event("krakow").insert();
    set_times(&app, e.id, "2026-11-02 09:00", "2026-11-27 10:00");
    let path = "/cities/krakow/calendar.ics";
    let first = app.get(path).await;
    let etag = first.header("etag").unwrap();
    let last_modified = first.header("last-modified").unwrap();
    assert_eq!(last_modified, "Fri, 27 Nov 2026 10:00:00 GMT");
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "strong: {etag}"
    );

    let res = app.get_with(path, &[("If-None-Match", &etag)]).await;
    assert_eq!(res.status, 304);
    assert!(res.body.is_empty());
    assert_eq!(res.header("etag").as_deref(), Some(etag.as_str()));
    assert_eq!(
        res.header("last-modified").as_deref(),
        Some(last_modified.as_str())
    );

    // Weak comparison, lists and `*` (RFC 9110 13.1.2).
    let weak = format!("W/{etag}");
    let list = format!("\"other\", {etag}");
    for value in [weak.as_str(), list.as_str(), "*"] {
        let res = app.get_with(path, &[("If-None-Match", value)]).await;
        assert_eq!(res.status, 304, "{value}");
    }
    let res = app.get_with(path, &[("If-None-Match", "\"stale\"")]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, first.body);

    let res = app
        .get_with(path, &[("If-Modified-Since", &last_modified)])
        .await;
    assert_eq!(res.status, 304);
    // Long before the change; and later than now, which says nothing of changes still to
    // come before it.
    for since in [
        "Sat, 01 Jan 2000 00:00:00 GMT",
        "Fri, 01 Jan 2100 00:00:00 GMT",
    ] {
        let res = app.get_with(path, &[("If-Modified-Since", since)]).await;
        assert_eq!(res.status, 200, "{since}");
    }
    // If-None-Match wins over If-Modified-Since.
    let res = app
        .get_with(
            path,
            &[
                ("If-None-Match", "\"stale\""),
                ("If-Modified-Since", &last_modified),
            ],
        )
        .await;
    assert_eq!(res.status, 200);
}

#[actix_rt::test]
async fn a_change_in_the_second_a_client_polled_in_is_never_answered_304() {
    // Issue 9, point 3: a change, a poll and a second change within one second, then a
    // client that revalidates only with If-Modified-Since.
    let at = |ms: i64| test_now() + Duration::milliseconds(ms);
    let app = spawn_app_with(at(200), |config| config.clock = Clock::manual(at(200))).await;
    let e = app.event("krakow").title("Concert").insert();
    let path = "/cities/krakow/calendar.ics";

    app.clock.set(at(300));
    let polled = app.get(path).await;
    let concert = by_summary(&polled, "Concert");
    assert_eq!(concert.property_value("STATUS"), Some("CONFIRMED"));
    // Such a client sends the Last-Modified it got or, without one, the second it polled
    // in (the Date of the response).
    let since = polled
        .header("last-modified")
        .unwrap_or_else(|| "Sat, 28 Nov 2026 12:00:00 GMT".to_owned());

    // The organiser postpones the concert in that same second.
    app.clock.set(at(700));
    {
        let mut conn = app.pool.get().unwrap();
        Event::set_status(
            &mut conn,
            e.id,
            EventStatus::Postponed,
            Some("New dates soon."),
            at(700),
        )
        .unwrap();
    }
    let res = app.get_with(path, &[("If-Modified-Since", &since)]).await;
    assert_eq!(
        res.status, 200,
        "the feed changed in the second the client names"
    );
    let postponed = by_summary(&res, "Postponed: Concert");
    assert_eq!(postponed.property_value("STATUS"), Some("TENTATIVE"));
    // While the change is this recent there is no Last-Modified: another change could
    // still come with the same date.
    assert_eq!(polled.header("last-modified"), None);
    assert_eq!(res.header("last-modified"), None);

    // A minute on, the Last-Modified is the first whole second after the change, and a
    // revalidation with it is a 304; one with the earlier date still is not.
    app.clock.set(at(60_000));
    let later = app.get(path).await;
    let last_modified = later.header("last-modified").unwrap();
    assert_eq!(last_modified, "Sat, 28 Nov 2026 12:00:01 GMT");
    let res = app
        .get_with(path, &[("If-Modified-Since", &last_modified)])
        .await;
    assert_eq!(res.status, 304);
    assert_eq!(
        res.header("last-modified").as_deref(),
        Some(last_modified.as_str())
    );
    let res = app.get_with(path, &[("If-Modified-Since", &since)]).await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains("SUMMARY:Postponed: Concert"));
}

#[actix_rt::test]
async fn a_change_bumps_sequence_and_changes_the_etag_a_change_elsewhere_does_not() {
    let app = spawn_app().await;
    let e = app
        .event("krakow")
        .title("Concert")
        .timed("2026-12-12 19:00", None)
        .insert();
    let path = "/cities/krakow/calendar.ics";
    let before = app.get(path).await;
    let etag = before.header("etag").unwrap();

    // Another city's event: this feed's bytes, and so its ETag, stay.
    app.event("lodz").title("Elsewhere").insert();
    let res = app.get_with(path, &[("If-None-Match", &etag)]).await;
    assert_eq!(res.status, 304);

    // The organiser moves the concert by an hour.
    let city = app.city("krakow");
    let mut draft = draft_of(&e);
    draft.schedule = EventSchedule::timed(local("2026-12-12 20:00"), None).unwrap();
    let later = app.now + Duration::minutes(5);
    {
        let mut conn = app.pool.get().unwrap();
        let updated = Event::update_from_draft(&mut conn, e.id, &draft, &city, later).unwrap();
        assert_eq!(updated.sequence, 1);
    }
    let res = app.get_with(path, &[("If-None-Match", &etag)]).await;
    assert_eq!(res.status, 200, "the feed changed");
    let new_etag = res.header("etag").unwrap();
    assert_ne!(new_etag, etag);
    assert!(res.body.contains("\r\nSEQUENCE:1\r\n"));
    assert!(
        res.body
            .contains("\r\nDTSTART;TZID=Europe/Warsaw:20261212T200000\r\n")
    );
    assert!(res.body.contains("\r\nDTSTAMP:20261128T120500Z\r\n"));
    // Stamped five minutes ahead of the clock, it counts as changed now, never later;
    // and a change this recent has no Last-Modified yet.
    assert_eq!(res.header("last-modified"), None);

    // A new description is a change calendars must take too: SEQUENCE 2. Saving the
    // same again changes nothing.
    draft.description = "Now with a support act.".to_owned();
    {
        let mut conn = app.pool.get().unwrap();
        let updated = Event::update_from_draft(&mut conn, e.id, &draft, &city, later).unwrap();
        assert_eq!(updated.sequence, 2);
        let even_later = later + Duration::minutes(1);
        let same = Event::update_from_draft(&mut conn, e.id, &draft, &city, even_later).unwrap();
        assert_eq!(same.sequence, 2);
        assert_eq!(same.updated_at, updated.updated_at);
    }

    // Cancelled: still there, with its status, and SEQUENCE 3.
    {
        let mut conn = app.pool.get().unwrap();
        Event::set_status(&mut conn, e.id, EventStatus::Cancelled, None, later).unwrap();
        let again =
            Event::set_status(&mut conn, e.id, EventStatus::Cancelled, None, later).unwrap();
        assert_eq!(again.sequence, 3, "cancelling twice is one change");
    }
    let res = app.get_with(path, &[("If-None-Match", &new_etag)]).await;
    assert_eq!(res.status, 200);
    let event = by_summary(&res, "Cancelled: Concert");
    assert_eq!(event.property_value("STATUS"), Some("CANCELLED"));
    assert_eq!(event.get_sequence(), Some(3));
    assert_eq!(
        event.get_uid(),
        Some(e.uid.as_str()),
        "the same event, not a new one"
    );
}

fn draft_of(e: &Event) -> creative_calendar::domain::EventDraft {
    creative_calendar::domain::EventDraft {
        kind: e.kind,
        field: Some(e.field),
        title: creative_calendar::domain::EventTitle::parse(&e.title).unwrap(),
        description: e.description.clone(),
        venue_name: e.venue_name.clone(),
        venue_address: e.venue_address.clone(),
        coordinates: e.latitude.zip(e.longitude),
        schedule: e.schedule(),
        url: e.url.clone(),
        price: e.price.clone(),
        is_free: e.is_free,
        organizer_name: e.organizer_name.clone(),
        status: e.status,
        series: None,
        hours: None,
    }
}

#[actix_rt::test]
async fn an_event_leaving_the_window_moves_last_modified_forward() {
    let app = spawn_app().await;
    let old = app
        .event("krakow")
        .title("Long gone")
        .all_day("2026-10-20", "2026-10-20")
        .insert();
    set_times(&app, old.id, "2026-09-01 00:00", "2026-09-01 00:00");
    let res = app.get("/cities/krakow/calendar.ics").await;
    assert!(events(&res).is_empty());
    // It ended at local midnight after 20 October (22:00 UTC in Kraków) and left the
    // feed at the first UTC midnight thirty days after that.
    assert_eq!(
        res.header("last-modified").as_deref(),
        Some("Fri, 20 Nov 2026 00:00:00 GMT")
    );
}

#[actix_rt::test]
async fn unknown_cities_and_fields_are_404_and_bad_filters_400_in_plain_text() {
    let app = spawn_app().await;
    for (path, status, needle) in [
        ("/cities/atlantis/calendar.ics", 404, "atlantis"),
        ("/cities/%3Cscript%3E/calendar.ics", 404, "No city"),
        ("/fields/painting/calendar.ics", 404, "painting"),
        ("/events.ics?kind=party", 400, "“kind”"),
        ("/events.ics?from=2026-13-01", 400, "“from”"),
        ("/events.ics?city=atlantis", 400, "“city”"),
        ("/events.ics?past=1", 400, "“past”"),
        ("/events.ics?from=2027-01-01&to=2026-01-01", 400, "“to”"),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status, status, "{path}");
        assert_eq!(
            res.header("content-type").as_deref(),
            Some("text/plain; charset=utf-8"),
            "{path}"
        );
        assert!(res.body.contains(needle), "{path}: {}", res.body);
        assert!(res.body.len() < 300, "{path}: short");
        assert!(!res.body.contains("<html"), "{path}: not HTML");
    }
    // A page number is ignored: a feed is every page.
    assert_eq!(app.get("/events.ics?page=3").await.status, 200);
    // Other methods are refused.
    let res = app
        .request(awc::http::Method::POST, "/calendar.ics", &[])
        .await;
    assert_eq!(res.status, 405);
}

#[actix_rt::test]
async fn head_answers_with_the_same_headers_and_no_body() {
    let app = spawn_app().await;
    app.event("krakow").insert();
    let get = app.get("/calendar.ics").await;
    let head = app
        .request(awc::http::Method::HEAD, "/calendar.ics", &[])
        .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), get.header("etag"));
    assert_eq!(head.header("content-type"), get.header("content-type"));
}

#[actix_rt::test]
async fn any_accept_header_or_none_at_all_gets_the_calendar() {
    let app = spawn_app().await;
    app.event("krakow").insert();
    for accept in [
        "application/json",
        "text/html",
        "*/*",
        "text/calendar",
        "nonsense",
    ] {
        let res = app.get_with("/calendar.ics", &[("Accept", accept)]).await;
        assert_eq!(res.status, 200, "{accept}");
        assert!(res.body.starts_with("BEGIN:VCALENDAR\r\n"));
    }
    // A raw request with no Accept (nor any other optional) header, as Google's fetcher sends.
    let address = app.address.trim_start_matches("http://").to_owned();
    let reply = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .write_all(b"GET /calendar.ics HTTP/1.1\r\nHost: calendar.example.org\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        reply
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.contains("content-type: text/calendar; charset=utf-8\r\n"));
    assert!(reply.contains("BEGIN:VCALENDAR\r\n"));
}

#[actix_rt::test]
async fn a_feed_never_holds_more_than_its_limit_and_says_so() {
    let app = spawn_app_with(test_now(), |config| config.feed_max_events = 2).await;
    for day in 1..=3 {
        app.event("krakow")
            .title(&format!("Day {day}"))
            .all_day(&format!("2026-12-0{day}"), &format!("2026-12-0{day}"))
            .insert();
    }
    let res = app.get("/calendar.ics").await;
    // The soonest are kept.
    assert_eq!(summaries(&res), ["Day 1", "Day 2"]);
    let calendar: icalendar::Calendar = res.body.parse().unwrap();
    assert!(
        calendar
            .get_description()
            .unwrap()
            .ends_with("This feed holds the first 2 events only; subscribe to a city or a field to see all of theirs.")
    );
    // Below the limit nothing is said.
    let app = spawn_app().await;
    app.event("krakow").insert();
    let res = app.get("/calendar.ics").await;
    assert!(!res.body.contains("first 100,000"));
}

#[actix_rt::test]
async fn simultaneous_first_requests_all_get_the_same_feed() {
    let app = spawn_app().await;
    for i in 0..20 {
        app.event("krakow").title(&format!("Event {i}")).insert();
    }
    // More requests than pooled connections (4 in tests), all missing the cache at once.
    let requests = (0..12).map(|_| app.get("/calendar.ics"));
    let responses = futures_util::future::join_all(requests).await;
    let first = &responses[0];
    assert_eq!(events(first).len(), 20);
    for res in &responses {
        assert_eq!(res.status, 200);
        assert_eq!(res.header("etag"), first.header("etag"));
        assert_eq!(res.body, first.body);
    }
    // The pages are still served meanwhile and after.
    assert_eq!(app.get("/cities/krakow").await.status, 200);
}

#[actix_rt::test]
async fn a_client_that_takes_gzip_gets_the_same_feed_compressed_with_its_own_etag() {
    let app = spawn_app().await;
    for i in 0..30 {
        app.event("krakow")
            .title(&format!("Concert {i}"))
            .description(&"A long evening of music. ".repeat(10))
            .insert();
    }
    let plain = app.get("/calendar.ics").await;
    assert_eq!(plain.header("vary").as_deref(), Some("Accept-Encoding"));
    assert!(plain.header("content-encoding").is_none());

    let res = app.get_gzipped("/calendar.ics", "gzip, deflate").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-encoding"), "gzip");
    assert_eq!(res.header("vary"), "Accept-Encoding");
    assert_eq!(res.header("content-type"), "text/calendar; charset=utf-8");
    let gzip_etag = res.header("etag");
    assert_ne!(
        Some(gzip_etag.clone()),
        plain.header("etag"),
        "one ETag per representation"
    );
    assert!(
        res.zipped_len * 4 < plain.body.len(),
        "{} -> {}",
        plain.body.len(),
        res.zipped_len
    );
    assert_eq!(res.body, plain.body);

    let revalidated = app
        .get_with(
            "/calendar.ics",
            &[("Accept-Encoding", "gzip"), ("If-None-Match", &gzip_etag)],
        )
        .await;
    assert_eq!(revalidated.status, 304);
    assert_eq!(revalidated.header("etag"), Some(gzip_etag));

    // A small feed is not worth compressing.
    let small = app
        .get_with("/cities/lodz/calendar.ics", &[("Accept-Encoding", "gzip")])
        .await;
    assert!(small.header("content-encoding").is_none());
    assert!(small.body.starts_with("BEGIN:VCALENDAR"));
}

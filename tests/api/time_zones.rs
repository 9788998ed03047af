//! Dates and times are always the city's: stored, shown and compared in its zone.

use creative_calendar::domain::EventKind;

use crate::helpers::{spawn_app, spawn_app_at};

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

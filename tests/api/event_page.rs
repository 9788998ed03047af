//! `/events/{id}`.

use creative_calendar::domain::{EventKind, EventStatus};

use crate::helpers::spawn_app;

#[actix_web::test]
async fn an_event_page_shows_everything_a_visitor_needs() {
    let app = spawn_app().await;
    let e = app
        .event("braga")
        .title("Fado ao Vivo")
        .kind(EventKind::Performance)
        .timed("2026-12-12 19:00", Some("2026-12-12 22:00"))
        .venue("Museu do Fado", "Largo do Chafariz de Dentro 1")
        .coordinates(38.7109, -9.1281)
        .price("25 EUR")
        .organizer("EGEAC")
        .description("Two voices, one guitar.\n\nTickets: https://example.org/fado.")
        .insert();
    let res = app.get(&format!("/events/{}", e.id)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.texts("h1"), ["Fado ao Vivo"]);
    let facts = res.texts(".event-facts dd");
    assert_eq!(facts[0], "Sat 12 Dec 2026, 19:00–22:00 (Braga time, WET)");
    assert!(facts[1].starts_with("Museu do Fado"), "{}", facts[1]);
    assert!(
        facts[1].contains("Largo do Chafariz de Dentro 1"),
        "{}",
        facts[1]
    );
    assert!(facts[1].contains("Braga, Portugal"), "{}", facts[1]);
    assert_eq!(facts[2], "Performance");
    assert_eq!(facts[4], "25 EUR");
    assert_eq!(facts[5], "EGEAC");
    assert_eq!(res.texts(".description p").len(), 2);
    assert_eq!(res.text(".description a"), "https://example.org/fado");
    assert!(res.texts(".banner").is_empty());

    let ld = res.json_ld();
    assert_eq!(ld["@type"], "Event");
    assert_eq!(ld["name"], "Fado ao Vivo");
    assert_eq!(ld["startDate"], "2026-12-12T19:00:00+00:00");
    assert_eq!(ld["endDate"], "2026-12-12T22:00:00+00:00");
    assert_eq!(ld["eventStatus"], "https://schema.org/EventScheduled");
    assert_eq!(ld["location"]["@type"], "Place");
    assert_eq!(ld["location"]["name"], "Museu do Fado");
    assert_eq!(ld["location"]["address"]["@type"], "PostalAddress");
    assert_eq!(ld["location"]["address"]["addressLocality"], "Braga");
    assert_eq!(ld["location"]["address"]["addressCountry"], "PT");
    assert_eq!(ld["location"]["geo"]["latitude"], 38.7109);
    assert_eq!(ld["organizer"]["name"], "EGEAC");
    insta::assert_snapshot!("event_json_ld", serde_json::to_string_pretty(&ld).unwrap());
}

#[actix_web::test]
async fn a_summer_event_in_portugal_carries_the_summer_offset() {
    let app = spawn_app().await;
    let e = app.event("braga").timed("2027-07-01 21:00", None).insert();
    let res = app.get(&format!("/events/{}", e.id)).await;
    let ld = res.json_ld();
    assert_eq!(ld["startDate"], "2027-07-01T21:00:00+01:00");
    // No end given: the documented default of two hours.
    assert_eq!(ld["endDate"], "2027-07-01T23:00:00+01:00");
    assert_eq!(
        res.text(".event-facts dd"),
        "Thu 1 Jul 2027, 21:00 (Braga time, WEST)"
    );
}

#[actix_web::test]
async fn an_all_day_festival_reads_as_a_range_of_dates() {
    let app = spawn_app().await;
    let e = app
        .event("krakow")
        .all_day("2026-12-12", "2026-12-14")
        .insert();
    let res = app.get(&format!("/events/{}", e.id)).await;
    assert_eq!(res.text(".event-facts dd"), "12–14 Dec 2026");
    let ld = res.json_ld();
    assert_eq!(ld["startDate"], "2026-12-12");
    assert_eq!(ld["endDate"], "2026-12-14");
}

#[actix_web::test]
async fn cancelled_and_postponed_events_say_so() {
    let app = spawn_app().await;
    let cancelled = app.event("krakow").status(EventStatus::Cancelled).insert();
    let postponed = app.event("krakow").status(EventStatus::Postponed).insert();
    let res = app.get(&format!("/events/{}", cancelled.id)).await;
    assert!(res.text(".banner-cancelled").starts_with("Cancelled."));
    assert_eq!(
        res.json_ld()["eventStatus"],
        "https://schema.org/EventCancelled"
    );
    let res = app.get(&format!("/events/{}", postponed.id)).await;
    assert!(res.text(".banner-postponed").starts_with("Postponed."));
    assert_eq!(
        res.json_ld()["eventStatus"],
        "https://schema.org/EventPostponed"
    );
}

#[actix_web::test]
async fn hostile_text_is_shown_as_text() {
    let app = spawn_app().await;
    let e = app
        .event("krakow")
        .title(r#""><img src=x onerror=alert(1)></script>"#)
        .venue("<b>Venue</b>", "' OR 1=1; --")
        .description("<script>alert(1)</script>\njavascript:alert(1)")
        .insert();
    let res = app.get(&format!("/events/{}", e.id)).await;
    assert_eq!(res.status, 200);
    assert!(!res.body.contains("<img src=x"));
    assert!(!res.body.contains("<script>alert"));
    assert!(!res.body.contains("<b>Venue"));
    assert_eq!(
        res.texts("h1"),
        [r#""><img src=x onerror=alert(1)></script>"#]
    );
    // The JSON-LD still parses and holds the exact title.
    assert_eq!(
        res.json_ld()["name"],
        r#""><img src=x onerror=alert(1)></script>"#
    );
}

#[actix_web::test]
async fn unknown_events_are_404() {
    let app = spawn_app().await;
    for path in ["/events/424242", "/events/abc", "/events/0"] {
        let res = app.get(path).await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(res.texts("h1"), ["Page not found"]);
    }
}

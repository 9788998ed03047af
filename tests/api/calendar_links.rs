//! The subscribe and add-to-calendar boxes on pages.

use creative_calendar::domain::EventStatus;

use crate::helpers::{Response, spawn_app};

fn subscribe_links(res: &Response) -> (String, String, String, String) {
    assert_eq!(res.status, 200);
    (
        res.attr(".subscribe a.button", "href"),
        res.attr(
            ".subscribe a[href^=\"https://calendar.google.com\"]",
            "href",
        ),
        res.attr(".subscribe a[href^=\"https://outlook.live.com\"]", "href"),
        res.attr(".subscribe input.feed-url", "value"),
    )
}

#[actix_rt::test]
async fn a_city_page_offers_its_feed_in_every_form() {
    let app = spawn_app().await;
    let res = app.get("/cities/krakow").await;
    let (webcal, google, outlook, copy) = subscribe_links(&res);
    assert_eq!(
        webcal,
        "webcal://calendar.example.org/cities/krakow/calendar.ics"
    );
    assert_eq!(
        copy,
        "https://calendar.example.org/cities/krakow/calendar.ics"
    );
    assert_eq!(
        google,
        "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2Fcalendar.example.org%2Fcities%2Fkrakow%2Fcalendar.ics"
    );
    assert!(outlook.starts_with(
        "https://outlook.live.com/calendar/0/addfromweb?url=https%3A%2F%2Fcalendar.example.org%2Fcities%2Fkrakow%2Fcalendar.ics&name="
    ));
    assert!(res.text(".subscribe .hint").contains("every few hours"));
    // Discoverable from the page's head too.
    assert_eq!(
        res.attr(r#"link[rel="alternate"][type="text/calendar"]"#, "href"),
        copy
    );
    assert_eq!(
        res.attr(r#"link[rel="alternate"][type="text/calendar"]"#, "title"),
        "Kraków — Creative Cities Calendar"
    );
    assert_eq!(
        res.text(".subscribe label"),
        "Or copy the feed address into any calendar app:"
    );
    // The address served there is the feed.
    let feed = app.get("/cities/krakow/calendar.ics").await;
    assert_eq!(feed.status, 200);
}

#[actix_rt::test]
async fn a_field_page_offers_the_field_feed() {
    let app = spawn_app().await;
    let res = app.get("/fields/gastronomy").await;
    let (webcal, _, _, copy) = subscribe_links(&res);
    assert_eq!(
        webcal,
        "webcal://calendar.example.org/fields/gastronomy/calendar.ics"
    );
    assert_eq!(
        copy,
        "https://calendar.example.org/fields/gastronomy/calendar.ics"
    );
    assert_eq!(
        res.attr(r#"link[rel="alternate"][type="text/calendar"]"#, "href"),
        copy
    );
}

#[actix_rt::test]
async fn a_filtered_listing_offers_the_feed_of_its_filters_and_a_past_one_none() {
    let app = spawn_app().await;
    app.event("krakow").title("Jazz & blues").insert();
    let res = app
        .get("/events?q=jazz%20%26%20blues&country=pl&page=1")
        .await;
    let (_, _, _, copy) = subscribe_links(&res);
    assert_eq!(
        copy,
        "https://calendar.example.org/events.ics?country=PL&q=jazz+%26+blues"
    );
    let feed = app
        .get(copy.trim_start_matches("https://calendar.example.org"))
        .await;
    assert_eq!(feed.status, 200);
    assert!(feed.body.contains("SUMMARY:Jazz & blues\r\n"));

    let res = app.get("/events").await;
    let (_, _, _, copy) = subscribe_links(&res);
    assert_eq!(copy, "https://calendar.example.org/calendar.ics");

    let res = app.get("/events?past=1").await;
    assert!(res.texts(".subscribe").is_empty());
    assert!(res.texts(r#"link[rel="alternate"]"#).is_empty());
}

#[actix_rt::test]
async fn an_event_page_offers_a_download_and_the_web_calendars() {
    let app = spawn_app().await;
    let timed = app
        .event("braga")
        .title("Noite de Fado")
        .timed("2026-12-12 21:30", Some("2026-12-12 23:00"))
        .insert();
    let res = app.get(&format!("/events/{}", timed.id)).await;
    assert_eq!(
        res.attr(".subscribe a.button", "href"),
        format!("/events/{}/calendar.ics", timed.id)
    );
    let google = res.attr(
        ".subscribe a[href^=\"https://calendar.google.com\"]",
        "href",
    );
    assert!(google.starts_with("https://calendar.google.com/calendar/render?action=TEMPLATE&text=Noite+de+Fado&dates=20261212T213000Z%2F20261212T230000Z&ctz=Europe%2FLisbon&details="), "{google}");
    let outlook = res.attr(".subscribe a[href^=\"https://outlook.live.com\"]", "href");
    assert!(
        outlook.contains(
            "&startdt=2026-12-12T21%3A30%3A00Z&enddt=2026-12-12T23%3A00%3A00Z&allday=false"
        ),
        "{outlook}"
    );
    assert!(
        res.text(".subscribe .hint")
            .contains("subscribe to Braga’s calendar")
    );

    let festival = app
        .event("braga")
        .title("Festival")
        .all_day("2026-12-12", "2026-12-14")
        .status(EventStatus::Cancelled)
        .insert();
    let res = app.get(&format!("/events/{}", festival.id)).await;
    let google = res.attr(
        ".subscribe a[href^=\"https://calendar.google.com\"]",
        "href",
    );
    assert!(
        google.contains("&dates=20261212%2F20261215&"),
        "exclusive end: {google}"
    );
    let outlook = res.attr(".subscribe a[href^=\"https://outlook.live.com\"]", "href");
    assert!(
        outlook.contains("&startdt=2026-12-12&enddt=2026-12-15&allday=true"),
        "{outlook}"
    );
}

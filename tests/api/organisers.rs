//! The organisers' journey: submit, wait for review, get published, change, cancel.

use crate::helpers::*;
use icalendar::{Calendar, CalendarComponent, Component};

/// The VEVENTs of a feed body, parsed.
fn feed_events(body: &str) -> Vec<icalendar::Event> {
    let calendar: Calendar = body.parse().expect("the feed parses");
    calendar
        .components
        .into_iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn feed_event<'a>(events: &'a [icalendar::Event], title: &str) -> Option<&'a icalendar::Event> {
    events
        .iter()
        .find(|e| e.get_summary().is_some_and(|s| s.ends_with(title)))
}

#[actix_web::test]
async fn a_submitted_event_waits_for_review_then_reaches_pages_search_and_feeds() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let id = ana.create_event(&[("title", "Festa das Luzes")]).await;

    // Pending: its organiser sees it with a banner; nobody else sees it anywhere.
    let page = ana.get(&format!("/events/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text(".banner-pending").contains("Waiting for review"));
    assert_eq!(app.get(&format!("/events/{id}")).await.status, 404);
    assert!(
        !app.get("/cities/braga")
            .await
            .body
            .contains("Festa das Luzes")
    );
    assert!(
        !app.get("/events?q=luzes")
            .await
            .body
            .contains("Festa das Luzes")
    );
    let feed = app.get("/cities/braga/calendar.ics").await;
    assert!(feed_event(&feed_events(&feed.body), "Festa das Luzes").is_none());
    let etag_before = feed.header("etag").unwrap();

    // A moderator of Braga approves it: public, in search and in the feed, SEQUENCE 0.
    let mia = app.moderator("mia@braga.example", Some("braga")).await;
    let queue = mia.get("/moderation").await;
    assert!(queue.body.contains("Festa das Luzes"), "{}", queue.body);
    let approved = mia
        .submit(
            "/moderation",
            &format!("/moderation/events/{id}/approve"),
            &[("back", "/moderation")],
        )
        .await;
    assert_eq!(approved.status, 303, "{}", approved.body);
    assert_eq!(app.get(&format!("/events/{id}")).await.status, 200);
    assert!(
        app.get("/cities/braga")
            .await
            .body
            .contains("Festa das Luzes")
    );
    assert!(
        app.get("/events?q=luzes")
            .await
            .body
            .contains("Festa das Luzes")
    );
    let feed = app.get("/cities/braga/calendar.ics").await;
    let events = feed_events(&feed.body);
    let event = feed_event(&events, "Festa das Luzes").expect("in the feed");
    assert_eq!(event.property_value("SEQUENCE"), Some("0"));
    let etag_published = feed.header("etag").unwrap();
    assert_ne!(etag_published, etag_before);

    // The organiser moves it by an hour: SEQUENCE 1, and the city feed's ETag changes.
    let edited = ana
        .submit(
            &format!("/events/{id}/edit"),
            &format!("/events/{id}/edit"),
            &[
                ("city", "braga"),
                ("kind", "festival"),
                ("title", "Festa das Luzes"),
                ("venue", "Theatro Circo"),
                ("start_date", "2026-12-12"),
                ("start_time", "20:00"),
                ("end_time", "23:00"),
            ],
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let feed = app.get("/cities/braga/calendar.ics").await;
    let events = feed_events(&feed.body);
    let event = feed_event(&events, "Festa das Luzes").expect("still in the feed");
    assert_eq!(event.property_value("SEQUENCE"), Some("1"));
    assert!(event.property_value("DTSTART").unwrap().contains("T200000"));
    assert_ne!(feed.header("etag").unwrap(), etag_published);

    // Cancelled with a note: in the feed as CANCELLED, with a banner on the page.
    let cancelled = ana
        .submit(
            &format!("/events/{id}/cancel"),
            &format!("/events/{id}/cancel"),
            &[("note", "The theatre is closed for repairs.")],
        )
        .await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.body);
    let feed = app.get("/cities/braga/calendar.ics").await;
    let events = feed_events(&feed.body);
    let event = feed_event(&events, "Festa das Luzes").expect("a cancelled event stays");
    assert_eq!(event.property_value("STATUS"), Some("CANCELLED"));
    assert_eq!(event.property_value("SEQUENCE"), Some("2"));
    let page = app.get(&format!("/events/{id}")).await;
    let banner = page.text(".banner-cancelled");
    assert!(banner.contains("Cancelled"), "{banner}");
    assert!(banner.contains("closed for repairs"), "{banner}");
}

//! The organisers' journey: submit, wait for review, get published, change, cancel.

use crate::helpers::*;
use creative_calendar::domain::ModerationState;
use icalendar::Component;

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

/// The fields of a valid event, with some replaced.
fn event_fields<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all: Vec<(&str, &str)> = vec![
        ("city", "braga"),
        ("kind", "festival"),
        ("field", ""),
        ("title", "Braga Media Arts Night"),
        ("description", "Light and sound."),
        ("venue", "Theatro Circo"),
        ("address", "Avenida da Liberdade 697"),
        ("url", ""),
        ("price", ""),
        ("start_date", "2026-12-12"),
        ("start_time", "19:00"),
        ("end_date", ""),
        ("end_time", "23:00"),
    ];
    for (k, v) in overrides {
        all.retain(|(name, _)| name != k);
        all.push((k, v));
    }
    all
}

#[actix_web::test]
async fn every_error_in_the_event_form_is_shown_next_to_its_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let before = event_count(&app);
    let long_description = "d".repeat(10_001);
    let response = ana
        .submit_event(&event_fields(&[
            ("city", "atlantis"),
            ("kind", "rave"),
            ("title", ""),
            ("description", &long_description),
            ("venue", " "),
            ("url", "javascript:alert(1)"),
            ("start_date", "2026-02-30"),
            ("start_time", "25:00"),
            ("end_time", "x"),
        ]))
        .await;
    assert_eq!(response.status, 422);
    for field in [
        "city",
        "kind",
        "title",
        "description",
        "venue",
        "url",
        "start_date",
        "start_time",
        "end_time",
    ] {
        let error = response.text(&format!("#{field}-error"));
        assert!(!error.is_empty(), "{field}");
        assert_eq!(
            response.attr(&format!("#f-{field}"), "aria-invalid"),
            "true",
            "{field}"
        );
    }
    assert_eq!(response.texts(".error-summary li").len(), 9);
    assert!(response.text("#description-error").contains("10,000"));
    // What was typed is kept, even the invalid parts.
    assert_eq!(response.attr("#f-url", "value"), "javascript:alert(1)");
    assert_eq!(response.attr("#f-start_date", "value"), "2026-02-30");
    assert_eq!(response.text("#f-description").len(), 10_001);
    assert_eq!(
        response.attr("#f-address", "value"),
        "Avenida da Liberdade 697"
    );
    assert_eq!(event_count(&app), before, "nothing was written");
}

#[actix_web::test]
async fn an_end_before_the_start_is_refused_at_the_end_fields() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let response = ana
        .submit_event(&event_fields(&[
            ("end_date", "2026-12-11"),
            ("end_time", "23:00"),
        ]))
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(
        response.text("#end_date-error"),
        "Error: The end is before the start."
    );
    assert_eq!(response.attr("#f-end_date", "value"), "2026-12-11");
    let selected = response.attr("#f-city option[selected]", "value");
    assert_eq!(selected, "braga", "the city stays chosen");
}

#[actix_web::test]
async fn a_time_the_clocks_skip_in_the_city_is_explained() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@krakow.example").await;
    // Poland springs forward at 02:00 on 28 March 2027: 02:30 does not exist.
    let response = ana
        .submit_event(&event_fields(&[
            ("city", "krakow"),
            ("start_date", "2027-03-28"),
            ("start_time", "02:30"),
            ("end_time", "04:00"),
        ]))
        .await;
    assert_eq!(response.status, 422);
    let error = response.text("#start_time-error");
    assert!(error.contains("does not exist in Europe/Warsaw"), "{error}");
    assert!(
        response
            .text("#when-hint")
            .contains("local to Kraków: Europe/Warsaw"),
        "the form says which zone the times are in"
    );
}

#[actix_web::test]
async fn years_outside_a_sensible_range_are_refused() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    for start in ["2024-06-01", "2037-06-01", "0001-01-01"] {
        let response = ana
            .submit_event(&event_fields(&[("start_date", start)]))
            .await;
        assert_eq!(response.status, 422, "{start}");
        assert!(
            response
                .text("#start_date-error")
                .contains("between 2025 and 2036")
        );
    }
}

#[actix_web::test]
async fn hostile_text_is_stored_as_text_and_shown_escaped_in_pages_and_feeds() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    app.set_trusted("ana@braga.example", true);
    let title =
        "\"><img src=x onerror=alert(1)> <script>alert(2)</script> '; DROP TABLE events; --";
    let description = "Line one\r\nBEGIN:VEVENT\r\n\u{202E}gnp.exe <b>bold</b>";
    let id = ana
        .create_event(&[("title", title), ("description", description)])
        .await;
    let page = app.get(&format!("/events/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<img src=x"));
    assert!(!page.body.contains("<script>alert(2)"));
    assert!(!page.body.contains("<b>bold</b>"));
    assert!(
        !page.body.contains('\u{202E}'),
        "direction overrides are removed"
    );
    assert_eq!(page.text("h1"), title);
    assert!(event_count(&app) > 0, "the events table is still there");
    let feed = app.get("/cities/braga/calendar.ics").await;
    let events = feed_events(&feed.body);
    let event = feed_event(&events, "--").expect("in the feed");
    assert_eq!(event.get_summary(), Some(title));
    assert_eq!(
        feed.body
            .split("\r\n")
            .filter(|l| *l == "BEGIN:VEVENT")
            .count(),
        events.len(),
        "no line was injected"
    );
}

#[actix_web::test]
async fn a_50000_character_title_is_refused_and_a_10_megabyte_form_gets_413() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let huge = "t".repeat(50_000);
    let response = ana.submit_event(&event_fields(&[("title", &huge)])).await;
    assert_eq!(response.status, 422);
    assert!(response.text("#title-error").contains("at most 200"));

    let token = ana.csrf_token("/events/new").await;
    let body = format!(
        "csrf_token={token}&title=x&description={}",
        "a".repeat(10 * 1024 * 1024)
    );
    let before = event_count(&app);
    let response = ana.post_body("/events/new", body).await;
    assert_eq!(response.status, 413);
    assert_eq!(event_count(&app), before);
}

#[actix_web::test]
async fn the_event_form_needs_a_valid_csrf_token() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let bob = app.organiser("bob@braga.example").await;
    let before = event_count(&app);
    let bobs_token = bob.csrf_token("/events/new").await;
    for token in [None, Some("wrong"), Some(bobs_token.as_str())] {
        let mut fields = event_fields(&[]);
        if let Some(token) = token {
            fields.push(("csrf_token", token));
        }
        let response = ana.post("/events/new", &fields).await;
        assert_eq!(response.status, 403, "{token:?}");
        assert!(response.body.contains("did not come from this site"));
    }
    // A cross-site form post carries no token at all.
    assert_eq!(
        app.browser()
            .post("/events/new", &event_fields(&[]))
            .await
            .status,
        403
    );
    assert_eq!(event_count(&app), before);
}

#[actix_web::test]
async fn another_organiser_cannot_tell_a_hidden_event_from_a_missing_one() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    // Ana is not trusted: her event waits for review, and only she and the moderators
    // know it exists.
    let id = ana.create_event(&[]).await;
    let bob = app.organiser("bob@braga.example").await;
    let token = bob.csrf_token("/events/new").await;
    let before = app.stored_event(id);
    let missing = bob.get("/events/999999/edit").await;
    assert_eq!(missing.status, 404);
    for action in ["", "/edit", "/cancel", "/postpone", "/reinstate", "/delete"] {
        let path = format!("/events/{id}{action}");
        let res = bob.get(&path).await;
        assert_eq!(res.status, 404, "GET {path}");
        assert_eq!(
            res.text(".error-message"),
            missing.text(".error-message"),
            "GET {path}"
        );
        let mut fields = event_fields(&[("title", "Defaced")]);
        fields.push(("csrf_token", &token));
        fields.push(("note", "gone"));
        if !action.is_empty() {
            assert_eq!(bob.post(&path, &fields).await.status, 404, "POST {path}");
        }
    }
    // Moderation addresses too, for a moderator of another city.
    let kai = app.moderator("kai@krakow.example", Some("krakow")).await;
    for decision in ["approve", "reject", "unpublish"] {
        let path = format!("/moderation/events/{id}/{decision}");
        assert_eq!(kai.get(&path).await.status, 404, "GET {path}");
    }
    let after = app.stored_event(id);
    assert_eq!(after.title, before.title);
    assert_eq!(after.updated_at, before.updated_at);
}

#[actix_web::test]
async fn another_organiser_gets_403_on_every_change_to_someone_else_s_published_event() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    app.set_trusted("ana@braga.example", true);
    let id = ana.create_event(&[]).await;
    assert_eq!(app.stored_event(id).moderation, ModerationState::Published);
    let bob = app.organiser("bob@braga.example").await;
    let token = bob.csrf_token("/events/new").await;
    let before = app.stored_event(id);
    for action in ["edit", "cancel", "postpone", "reinstate", "delete"] {
        let path = format!("/events/{id}/{action}");
        assert_eq!(bob.get(&path).await.status, 403, "GET {path}");
        let mut fields = event_fields(&[("title", "Defaced")]);
        fields.push(("csrf_token", &token));
        fields.push(("note", "gone"));
        assert_eq!(bob.post(&path, &fields).await.status, 403, "POST {path}");
    }
    let after = app.stored_event(id);
    assert_eq!(after.title, before.title);
    assert_eq!(after.updated_at, before.updated_at);
    assert_eq!(after.status, before.status);
    // Not found stays not found, for anyone.
    assert_eq!(bob.get("/events/999999/edit").await.status, 404);
    assert_eq!(bob.get("/events/abc/edit").await.status, 404);
    // Each event has one address: other spellings of its id are not it.
    for other in [
        format!("/events/0{id}"),
        format!("/events/+{id}"),
        format!("/events/{id}%20"),
    ] {
        assert_eq!(bob.get(&other).await.status, 404, "{other}");
    }
    // Signed out: sent to sign in first.
    let anonymous = app.browser().get(&format!("/events/{id}/edit")).await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(
        anonymous.header("location").unwrap(),
        format!("/login?next=%2Fevents%2F{id}%2Fedit")
    );
}

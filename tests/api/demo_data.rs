//! The sample data that makes a new installation look alive.

use std::collections::HashSet;

use creative_calendar::db::DbConnection;
use creative_calendar::db::models::{Event, EventQuery, EventWithCity, Window};
use creative_calendar::demo::{self, SAMPLE_NOTICE};
use creative_calendar::domain::{EventStatus, ModerationState};
use icalendar::Component;

use crate::helpers::{feed_events, spawn_app, test_now};

/// Every event in the database, past and future.
fn all_events(conn: &mut DbConnection) -> Vec<EventWithCity> {
    let all = EventQuery {
        window: Window {
            from: Some("2000-01-01".parse().unwrap()),
            to: None,
            past: false,
            open: None,
        },
        page: 1,
        per_page: 10_000,
        ..Default::default()
    }
    .run(conn, test_now())
    .unwrap();
    assert_eq!(all.events.len() as i64, all.total, "all on one page");
    all.events
}

#[actix_web::test]
async fn the_default_demo_is_varied_realistic_and_marked_as_sample_data() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let report =
        demo::generate(&mut conn, demo::DEFAULT_EVENTS, Some(42), test_now(), false).unwrap();
    assert_eq!(report.to_string().split(' ').nth(1), Some("1500"));

    let all = all_events(&mut conn);
    assert_eq!(all.len(), 1500);
    let events: Vec<&Event> = all.iter().map(|r| &r.event).collect();

    let kinds: HashSet<_> = events.iter().map(|e| e.kind).collect();
    let fields: HashSet<_> = events.iter().map(|e| e.field).collect();
    let cities: HashSet<_> = events.iter().map(|e| e.city_id).collect();
    assert_eq!(kinds.len(), 7, "every kind");
    assert_eq!(fields.len(), 8, "every field");
    assert!(
        cities.len() > 250,
        "spread across the network: {}",
        cities.len()
    );
    assert!(
        events
            .iter()
            .all(|e| e.description.ends_with(SAMPLE_NOTICE))
    );
    assert!(
        events
            .iter()
            .all(|e| e.moderation == ModerationState::Published)
    );

    let now = test_now();
    let past = events.iter().filter(|e| e.ends_at_utc() <= now).count();
    let running_exhibitions = events
        .iter()
        .filter(|e| e.is_on_at(now) && e.all_day && (e.end_date - e.start_date).num_days() > 30)
        .count();
    let multi_day_festivals = events
        .iter()
        .filter(|e| e.all_day && e.end_date > e.start_date && e.kind.slug() == "festival")
        .count();
    let cancelled = events
        .iter()
        .filter(|e| e.status == EventStatus::Cancelled)
        .count();
    let postponed = events
        .iter()
        .filter(|e| e.status == EventStatus::Postponed)
        .count();
    assert!(
        (100..400).contains(&past),
        "some in the past two months: {past}"
    );
    assert!(
        running_exhibitions > 20,
        "long exhibitions running now: {running_exhibitions}"
    );
    assert!(multi_day_festivals > 20, "{multi_day_festivals}");
    assert!((5..80).contains(&cancelled), "a few cancelled: {cancelled}");
    assert!((3..60).contains(&postponed), "a few postponed: {postponed}");
    assert!(
        events
            .iter()
            .any(|e| e.title.contains(',') || e.title.contains(';'))
    );
    assert!(events.iter().any(|e| e.description.contains('🎉')));
    assert!(events.iter().any(|e| !e.title.is_ascii()));
    let latest = events.iter().map(|e| e.start_date).max().unwrap();
    assert!(
        latest <= "2027-11-29".parse().unwrap(),
        "within the coming year: {latest}"
    );

    // A second run leaves the table alone.
    let again = demo::generate(&mut conn, 10, None, test_now(), false).unwrap();
    assert!(again.to_string().contains("already holds 1500"));
}

#[actix_web::test]
async fn a_gastronomy_city_gets_food_events() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    demo::generate(&mut conn, 1500, Some(3), test_now(), false).unwrap();
    let res = app.get("/events?field=gastronomy&past=0").await;
    let titles = res.event_titles();
    assert!(!titles.is_empty());
    let food = [
        "Food",
        "Market",
        "Tasting",
        "Bread",
        "Fermentation",
        "Chefs",
        "Table",
        "Flavours",
    ];
    assert!(
        titles.iter().all(|t| food.iter().any(|w| t.contains(w))),
        "{titles:?}"
    );
}

#[actix_web::test]
async fn after_a_demo_load_search_finds_sample_events_and_new_ones() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    demo::generate(&mut conn, 500, Some(9), test_now(), false).unwrap();
    let res = app.get("/events?q=sample+data&from=2000-01-01").await;
    assert_eq!(res.text("h2.result-count"), "500 events");
    // The insert trigger is back: an event added after the load is searchable too.
    app.event("krakow").title("Zygzak Unique Title").insert();
    assert_eq!(
        app.get("/events?q=zygzak").await.event_titles(),
        ["Zygzak Unique Title"]
    );
}

#[actix_web::test]
async fn the_zone_edge_demo_puts_events_on_every_change_of_the_clocks_in_its_cities() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    let report = demo::zone_edges::generate(&mut conn, test_now()).unwrap();
    let made: usize = report
        .to_string()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();

    for (slug, _) in demo::zone_edges::CITIES {
        let res = app.get(&format!("/cities/{slug}/calendar.ics")).await;
        assert_eq!(res.status, 200, "{slug}");
        let titles: Vec<String> = feed_events(&res.body)
            .iter()
            .filter_map(|e| e.get_summary().map(str::to_owned))
            .collect();
        // Every city has its ordinary night across midnight and its day.
        assert!(
            titles.iter().any(|t| t.contains("across midnight")),
            "{slug}"
        );
        assert!(titles.iter().any(|t| t.contains("one day")), "{slug}");
        // Every zone but Kathmandu's changes twice in the coming year (Casablanca's, for
        // Ramadan, twice as well), and each change has its events.
        let changes = |what: &str| {
            let what = format!(": {what}, ");
            titles.iter().filter(|t| t.contains(&what)).count()
        };
        if *slug == "kathmandu" {
            assert_eq!(titles.len(), 3, "{titles:?}");
        } else {
            assert_eq!(
                changes("starts in the repeated hour"),
                1,
                "{slug}: {titles:?}"
            );
            assert_eq!(changes("across the skipped hour"), 1, "{slug}: {titles:?}");
            assert_eq!(changes("three days around the change"), 2, "{slug}");
        }
    }
    let network = app.get("/calendar.ics").await;
    assert_eq!(network.body.matches("BEGIN:VEVENT").count(), made);
    assert!(made > 150, "{made}");
    // They are sample data, published, and all in the future of the day they were made for.
    let all = all_events(&mut conn);
    assert_eq!(all.len(), made);
    assert!(
        all.iter()
            .all(|r| r.event.description.ends_with(SAMPLE_NOTICE)
                && r.event.moderation == ModerationState::Published
                && r.event.ends_at_utc() > test_now())
    );

    // A second run leaves the table alone.
    let again = demo::zone_edges::generate(&mut conn, test_now()).unwrap();
    assert!(again.to_string().contains("no sample events were added"));
}

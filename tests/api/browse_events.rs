//! `/events`: filters one by one and combined, pagination, the past, and what is hidden.

use creative_calendar::domain::{CreativeField, EventKind, EventStatus, ModerationState};

use crate::helpers::{TestApp, spawn_app};

/// A small, varied programme across three countries and several fields.
pub(crate) fn programme(app: &TestApp) {
    app.event("krakow")
        .title("Conrad Festival")
        .kind(EventKind::Festival)
        .all_day("2026-12-01", "2026-12-06")
        .insert();
    app.event("krakow")
        .title("Poetry Night")
        .kind(EventKind::Talk)
        .timed("2026-12-10 19:00", Some("2026-12-10 21:00"))
        .venue("Księgarnia Massolit", "Felicjanek 4")
        .insert();
    app.event("lyon")
        .title("Fête des Lumières")
        .kind(EventKind::Festival)
        .field(CreativeField::MediaArts)
        .all_day("2026-12-08", "2026-12-11")
        .insert();
    app.event("lyon")
        .title("Jazz à Lyon")
        .kind(EventKind::Performance)
        .field(CreativeField::Music)
        .timed("2027-01-15 20:30", None)
        .description("Swing, bebop and 100% improvised.")
        .insert();
    app.event("bogota")
        .title("Rock al Parque")
        .kind(EventKind::Festival)
        .all_day("2027-02-01", "2027-02-03")
        .insert();
}

#[actix_web::test]
async fn the_listing_shows_upcoming_events_by_start() {
    let app = spawn_app().await;
    programme(&app);
    let res = app.get("/events").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text("h1"), "Upcoming events");
    // Page size is 5 in tests.
    assert_eq!(
        res.event_titles(),
        [
            "Conrad Festival",
            "Fête des Lumières",
            "Poetry Night",
            "Jazz à Lyon",
            "Rock al Parque"
        ]
    );
    assert_eq!(
        res.text("h2.result-count"),
        "5 events, those running now first"
    );
}

#[actix_web::test]
async fn each_filter_narrows_the_listing() {
    let app = spawn_app().await;
    programme(&app);
    let cases: &[(&str, &[&str])] = &[
        ("city=krakow", &["Conrad Festival", "Poetry Night"]),
        ("country=FR", &["Fête des Lumières", "Jazz à Lyon"]),
        ("country=co", &["Rock al Parque"]),
        ("field=media-arts", &["Fête des Lumières"]),
        ("field=literature", &["Conrad Festival", "Poetry Night"]),
        (
            "kind=festival",
            &["Conrad Festival", "Fête des Lumières", "Rock al Parque"],
        ),
        ("kind=talk", &["Poetry Night"]),
        ("from=2027-01-01", &["Jazz à Lyon", "Rock al Parque"]),
        ("to=2026-12-07", &["Conrad Festival"]),
        // A festival still running on the day asked for is listed.
        ("from=2026-12-05&to=2026-12-05", &["Conrad Festival"]),
        ("q=jazz", &["Jazz à Lyon"]),
        ("q=massolit", &["Poetry Night"]),
        ("q=100%25", &["Jazz à Lyon"]),
        ("q=%25", &["Jazz à Lyon"]),
        ("q=nothing-like-this", &[]),
    ];
    for (query, expected) in cases {
        let res = app.get(&format!("/events?{query}")).await;
        assert_eq!(res.status, 200, "{query}");
        assert_eq!(res.event_titles(), *expected, "{query}");
    }
}

#[actix_web::test]
async fn filters_combine_and_stay_in_the_form() {
    let app = spawn_app().await;
    programme(&app);
    let res = app
        .get("/events?country=FR&kind=festival&from=2026-12-01&to=2026-12-31&q=lumi")
        .await;
    assert_eq!(res.event_titles(), ["Fête des Lumières"]);
    assert_eq!(res.text("h1"), "Festival events in France");
    assert_eq!(res.attr("#f-q", "value"), "lumi");
    assert_eq!(res.attr("#f-from", "value"), "2026-12-01");
    assert_eq!(res.attr("#f-to", "value"), "2026-12-31");
    assert_eq!(res.text("#f-country option[selected]"), "France");
    assert_eq!(res.text("#f-kind option[selected]"), "Festival");

    let res = app
        .get("/events?city=krakow&kind=talk&field=literature")
        .await;
    assert_eq!(res.event_titles(), ["Poetry Night"]);
    assert_eq!(
        res.text("h1"),
        "Upcoming Literature talk or reading events in Kraków"
    );
    let res = app.get("/events?city=krakow&country=FR").await;
    assert!(res.event_titles().is_empty(), "Kraków is not in France");
}

#[actix_web::test]
async fn pages_split_long_listings_and_keep_the_filters() {
    let app = spawn_app().await;
    for day in 1..=12 {
        app.event("braga")
            .title(&format!("Fado Night {day:02}"))
            .kind(EventKind::Performance)
            .timed(&format!("2026-12-{day:02} 21:00"), None)
            .insert();
    }
    app.event("krakow").title("Elsewhere").insert();

    let first = app.get("/events?city=braga").await;
    assert_eq!(first.event_titles().len(), 5);
    assert_eq!(first.text(".pager-status"), "Page 1 of 3");
    let next_href = first.attr(".pager a[rel=next]", "href");
    assert_eq!(next_href, "/events?city=braga&page=2");

    let third = app.get("/events?city=braga&page=3").await;
    assert_eq!(third.event_titles(), ["Fado Night 11", "Fado Night 12"]);
    assert_eq!(third.text(".pager-status"), "Page 3 of 3");
    assert!(third.texts(".pager a[rel=next]").is_empty());

    let beyond = app.get("/events?city=braga&page=4").await;
    assert_eq!(beyond.status, 200);
    assert!(beyond.event_titles().is_empty());
    assert_eq!(beyond.texts(".pager a[rel=prev]").len(), 1);
}

#[actix_web::test]
async fn past_events_are_reachable_most_recent_first() {
    let app = spawn_app().await;
    programme(&app);
    app.event("krakow")
        .title("Autumn Fair")
        .all_day("2026-10-01", "2026-10-03")
        .insert();
    app.event("krakow")
        .title("November Reading")
        .timed("2026-11-20 18:00", None)
        .insert();

    let past = app.get("/events?past=1").await;
    assert_eq!(past.text("h1"), "Past events");
    assert_eq!(past.event_titles(), ["November Reading", "Autumn Fair"]);
    let upcoming = app.get("/events").await;
    assert!(!upcoming.event_titles().contains(&"Autumn Fair".to_owned()));
    // A date range in the past works too.
    let october = app.get("/events?from=2026-10-01&to=2026-10-31").await;
    assert_eq!(october.event_titles(), ["Autumn Fair"]);
    // And the switch combines with other filters.
    let past_in_krakow = app.get("/events?past=1&city=krakow&q=reading").await;
    assert_eq!(past_in_krakow.event_titles(), ["November Reading"]);
}

#[actix_web::test]
async fn pending_and_rejected_events_appear_nowhere_public() {
    let app = spawn_app().await;
    let pending = app
        .event("krakow")
        .title("Secret Pending Event")
        .moderation(ModerationState::Pending)
        .insert();
    let rejected = app
        .event("krakow")
        .title("Secret Rejected Event")
        .moderation(ModerationState::Rejected)
        .insert();
    app.event("krakow").title("Public Event").insert();

    for path in [
        "/events",
        "/events?q=secret",
        "/cities/krakow",
        "/fields/literature",
        "/",
    ] {
        let res = app.get(path).await;
        assert!(!res.body.contains("Secret"), "{path} shows a hidden event");
    }
    assert_eq!(
        app.get(&format!("/events/{}", pending.id)).await.status,
        404
    );
    assert_eq!(
        app.get(&format!("/events/{}", rejected.id)).await.status,
        404
    );
    let cities = app.get("/cities?country=PL").await;
    assert!(cities.body.contains("1 upcoming event"));
}

#[actix_web::test]
async fn cancelled_and_postponed_events_stay_listed_with_their_status() {
    let app = spawn_app().await;
    app.event("krakow")
        .title("Called Off")
        .status(EventStatus::Cancelled)
        .insert();
    app.event("krakow")
        .title("Moved Later")
        .status(EventStatus::Postponed)
        .insert();
    let res = app.get("/events").await;
    assert_eq!(res.event_titles(), ["Called Off", "Moved Later"]);
    assert_eq!(res.texts(".event-list .badge-cancelled"), ["Cancelled"]);
    assert_eq!(res.texts(".event-list .badge-postponed"), ["Postponed"]);
}

#[actix_web::test]
async fn hostile_search_text_is_shown_escaped_and_matches_literally() {
    let app = spawn_app().await;
    programme(&app);
    let res = app
        .get("/events?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%27%20OR%201%3D1%20--")
        .await;
    assert_eq!(res.status, 200);
    assert!(!res.body.contains("<script>alert(1)"));
    assert!(
        res.event_titles().is_empty(),
        "SQL in the search box is just text"
    );
    let res = app.get("/events?q=_").await;
    assert!(res.event_titles().is_empty(), "_ is not a wildcard");
}

#[actix_web::test]
async fn running_events_stay_first_across_a_page_boundary() {
    let app = spawn_app().await;
    for n in 1..=7 {
        app.event("krakow")
            .title(&format!("Running {n}"))
            .kind(EventKind::Exhibition)
            .all_day(&format!("2026-11-{:02}", 10 + n), "2026-12-31")
            .insert();
    }
    for n in 1..=4 {
        app.event("krakow")
            .title(&format!("Later {n}"))
            .all_day(&format!("2026-12-{:02}", n), &format!("2026-12-{:02}", n))
            .insert();
    }
    let page1 = app.get("/events").await;
    assert_eq!(
        page1.event_titles(),
        [
            "Running 1",
            "Running 2",
            "Running 3",
            "Running 4",
            "Running 5"
        ]
    );
    assert_eq!(
        page1.text("h2.result-count"),
        "11 events, those running now first"
    );
    let page2 = app.get("/events?page=2").await;
    assert_eq!(
        page2.event_titles(),
        ["Running 6", "Running 7", "Later 1", "Later 2", "Later 3"]
    );
    let page3 = app.get("/events?page=3").await;
    assert_eq!(page3.event_titles(), ["Later 4"]);
    assert_eq!(page3.texts(".event-list .badge-now").len(), 0);
    assert_eq!(page2.texts(".event-list .badge-now").len(), 2);
}

#[actix_web::test]
async fn search_finds_words_regardless_of_accents_and_case() {
    let app = spawn_app().await;
    programme(&app);
    let cases: &[(&str, &[&str])] = &[
        ("lumieres", &["Fête des Lumières"]),
        ("FETE", &["Fête des Lumières"]),
        ("ksiegarnia", &["Poetry Night"]),
        ("poetry night", &["Poetry Night"]),
        ("night poetry", &["Poetry Night"]),
        ("poetry jazz", &[]),
        ("parq", &["Rock al Parque"]),
        ("swing bebop", &["Jazz à Lyon"]),
        ("\"Jazz\" OR rock", &[]),
        ("NEAR(jazz", &[]),
        ("jazz)*", &["Jazz à Lyon"]),
    ];
    for (q, expected) in cases {
        let res = app
            .get(&format!(
                "/events?{}",
                serde_urlencoded::to_string([("q", q)]).unwrap()
            ))
            .await;
        assert_eq!(res.status, 200, "{q}");
        assert_eq!(res.event_titles(), *expected, "{q}");
    }
}

#[actix_web::test]
async fn the_search_index_follows_changes_to_events() {
    use creative_calendar::db::schema::events;
    use diesel::prelude::*;

    let app = spawn_app().await;
    let e = app.event("krakow").title("Old Name").insert();
    assert_eq!(app.get("/events?q=old").await.event_titles(), ["Old Name"]);
    let mut conn = app.pool.get().unwrap();
    diesel::update(events::table.find(e.id))
        .set(events::title.eq("Brand New Name"))
        .execute(&mut conn)
        .unwrap();
    assert!(app.get("/events?q=old").await.event_titles().is_empty());
    assert_eq!(
        app.get("/events?q=brand").await.event_titles(),
        ["Brand New Name"]
    );
    diesel::delete(events::table.find(e.id))
        .execute(&mut conn)
        .unwrap();
    assert!(app.get("/events?q=brand").await.event_titles().is_empty());
}

#[actix_web::test]
async fn each_filter_in_use_can_be_removed_on_its_own() {
    let app = spawn_app().await;
    programme(&app);
    let res = app.get("/events?city=krakow&kind=talk&q=poetry").await;
    let html = res.html();
    let chips: Vec<(String, String)> = html
        .select(&scraper::Selector::parse(".chips .chip").unwrap())
        .map(|chip| {
            let label = chip.text().next().unwrap().trim().to_owned();
            let link = chip
                .select(&scraper::Selector::parse("a").unwrap())
                .next()
                .unwrap()
                .value()
                .attr("href")
                .unwrap()
                .to_owned();
            (label, link)
        })
        .collect();
    assert_eq!(
        chips,
        [
            (
                "City: Kraków".to_owned(),
                "/events?kind=talk&q=poetry".to_owned()
            ),
            (
                "Kind: Talk or reading".to_owned(),
                "/events?city=krakow&q=poetry".to_owned()
            ),
            (
                "Search: “poetry”".to_owned(),
                "/events?city=krakow&kind=talk".to_owned()
            ),
        ]
    );
    assert!(app.get("/events").await.texts(".chips").is_empty());
}

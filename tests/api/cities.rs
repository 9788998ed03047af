//! `/cities` and `/cities/{slug}`.

use creative_calendar::domain::EventKind;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_cities_page_lists_every_member_city() {
    let app = spawn_app().await;
    app.event("krakow").title("Conrad Festival").insert();
    app.event("krakow").title("Another").insert();
    let res = app.get("/cities").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text("h1"), "Creative Cities");
    assert_eq!(res.texts(".city-card").len(), 406);
    assert_eq!(res.text("p.result-count"), "406 cities");
    let krakow = res
        .texts(".city-card")
        .into_iter()
        .find(|c| c.starts_with("Kraków"))
        .unwrap();
    assert_eq!(
        krakow,
        "Kraków Poland · Literature since 2013 2 upcoming events"
    );
}

#[actix_web::test]
async fn cities_can_be_filtered_by_field_and_country() {
    let app = spawn_app().await;
    let architecture = app.get("/cities?field=architecture").await;
    assert_eq!(
        architecture.texts(".city-name"),
        ["Bistrița", "Kashan", "Lusail", "Quito", "Rovaniemi"]
    );
    let portugal = app.get("/cities?country=pt").await;
    assert!(
        portugal
            .texts(".city-name")
            .contains(&"Amarante".to_owned())
    );
    assert!(
        portugal
            .texts(".city-card")
            .iter()
            .all(|c| c.contains("Portugal"))
    );
    assert_eq!(portugal.text("#f-country option[selected]"), "Portugal");
    let both = app.get("/cities?country=PT&field=music").await;
    assert!(
        both.texts(".city-card")
            .iter()
            .all(|c| c.contains("Portugal") && c.contains("Music"))
    );
    assert!(!both.texts(".city-card").is_empty());
    let none = app.get("/cities?country=AQ").await;
    assert_eq!(none.text(".empty"), "No member city matches these filters.");
}

#[actix_web::test]
async fn bad_city_filters_are_refused() {
    let app = spawn_app().await;
    for (query, param) in [("field=dance", "field"), ("country=Portugal", "country")] {
        let res = app.get(&format!("/cities?{query}")).await;
        assert_eq!(res.status, 400, "{query}");
        assert!(res.text(".error-message").contains(param), "{query}");
    }
}

#[actix_web::test]
async fn a_city_page_shows_the_city_and_its_upcoming_events() {
    let app = spawn_app().await;
    for day in 1..=7 {
        app.event("krakow")
            .title(&format!("Reading {day}"))
            .kind(EventKind::Talk)
            .timed(&format!("2026-12-{day:02} 18:00"), None)
            .insert();
    }
    app.event("lyon").title("Not in Kraków").insert();
    let res = app.get("/cities/krakow").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.texts("h1"), ["Kraków"]);
    let facts = res.texts(".facts dd");
    assert_eq!(facts[0], "Poland");
    assert_eq!(facts[1], "Literature");
    assert_eq!(facts[2], "2013");
    assert_eq!(facts[3], "Europe/Warsaw (UTC+01:00)");
    assert_eq!(facts[4], "Sat 28 Nov, 13:00 (Kraków time, CET)");
    assert_eq!(
        res.event_titles(),
        [
            "Reading 1",
            "Reading 2",
            "Reading 3",
            "Reading 4",
            "Reading 5"
        ]
    );
    assert_eq!(res.text(".pager-status"), "Page 1 of 2");
    let page2 = app.get("/cities/krakow?page=2").await;
    assert_eq!(page2.event_titles(), ["Reading 6", "Reading 7"]);
    let past_href = res.attr(".more a", "href");
    assert_eq!(past_href, "/events?city=krakow&past=1");
}

#[actix_web::test]
async fn the_two_granadas_are_two_cities() {
    let app = spawn_app().await;
    let spain = app.get("/cities/granada-es").await;
    let nicaragua = app.get("/cities/granada-ni").await;
    assert_eq!(spain.status, 200);
    assert_eq!(nicaragua.status, 200);
    assert_eq!(spain.texts(".facts dd")[0], "Spain");
    assert_eq!(nicaragua.texts(".facts dd")[0], "Nicaragua");
    assert_eq!(app.get("/cities/granada").await.status, 404);
}

#[actix_web::test]
async fn an_unknown_city_is_a_404_page_in_the_site_layout() {
    let app = spawn_app().await;
    for path in ["/cities/atlantis", "/cities/KRAKOW", "/cities/%3Cscript%3E"] {
        let res = app.get(path).await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(res.texts("h1"), ["Page not found"], "{path}");
        assert_eq!(
            res.texts("nav.main-nav a").len(),
            5,
            "{path}: the layout is there"
        );
        assert!(!res.body.contains("<script>"));
    }
    let res = app.get("/cities/krakow?page=0").await;
    assert_eq!(res.status, 400);
}

#[actix_web::test]
async fn cities_can_be_found_by_name_without_accents() {
    let app = spawn_app().await;
    let res = app.get("/cities?q=krakow").await;
    assert_eq!(res.texts(".city-name"), ["Kraków"]);
    assert_eq!(res.attr("#f-q", "value"), "krakow");
    let res = app.get("/cities?q=SAO%20paulo").await;
    assert_eq!(res.texts(".city-name"), ["São Paulo"]);
    let by_country = app.get("/cities?q=nicaragua").await;
    assert_eq!(by_country.texts(".city-name"), ["Granada"]);
    let combined = app.get("/cities?q=granada&country=ES").await;
    assert_eq!(combined.texts(".city-card").len(), 1);
    let long = "x".repeat(201);
    assert_eq!(app.get(&format!("/cities?q={long}")).await.status, 400);
}

#[actix_rt::test]
async fn upcoming_counts_follow_a_new_event_at_once_however_long_they_are_kept() {
    let app = crate::helpers::spawn_app_with(crate::helpers::test_now(), |config| {
        config.counts_ttl = std::time::Duration::from_secs(3_600);
    })
    .await;
    let before = app.get("/cities?q=krakow").await;
    assert_eq!(before.text(".city-upcoming"), "No upcoming events");
    app.event("krakow").insert();
    let after = app.get("/cities?q=krakow").await;
    assert_eq!(after.text(".city-upcoming"), "1 upcoming event");
}

#[actix_web::test]
async fn the_cities_added_in_2025_have_pages_in_their_own_time_zones() {
    let app = spawn_app().await;
    for (slug, name, zone) in [
        ("hebron", "Hebron", "Asia/Hebron"),
        ("ho-chi-minh-city", "Ho Chi Minh City", "Asia/Ho_Chi_Minh"),
        ("hohr-grenzhausen", "Höhr-Grenzhausen", "Europe/Berlin"),
        ("kelowna", "Kelowna", "America/Vancouver"),
        ("korhogo", "Korhogo", "Africa/Abidjan"),
        ("lalitpur", "Lalitpur", "Asia/Kathmandu"),
        ("liege", "Liège", "Europe/Brussels"),
        ("lubango", "Lubango", "Africa/Luanda"),
        ("lucknow", "Lucknow", "Asia/Kolkata"),
        ("niksic", "Nikšić", "Europe/Podgorica"),
        ("ponorogo", "Ponorogo", "Asia/Jakarta"),
        ("safi", "Safi", "Africa/Casablanca"),
        ("songkhla", "Songkhla", "Asia/Bangkok"),
        ("varna", "Varna", "Europe/Sofia"),
    ] {
        let city = app.city(slug);
        assert_eq!((city.name.as_str(), city.designation_year), (name, 2025));
        assert_eq!(city.tz().name(), zone);
        let res = app.get(&format!("/cities/{slug}")).await;
        assert_eq!(res.status, 200, "{slug}");
        assert_eq!(res.texts("h1"), [name]);
        assert!(res.texts(".facts dd")[3].starts_with(zone), "{slug}");
        let feed = app.get(&format!("/cities/{slug}/calendar.ics")).await;
        assert_eq!(feed.status, 200, "{slug}");
    }
    // Kathmandu is 5:45 ahead of UTC all year: noon UTC is 17:45 in Lalitpur.
    let lalitpur = app.get("/cities/lalitpur").await;
    assert_eq!(
        lalitpur.texts(".facts dd")[3..5],
        [
            "Asia/Kathmandu (UTC+05:45)",
            "Sat 28 Nov, 17:45 (Lalitpur time, UTC+05:45)"
        ]
    );
}

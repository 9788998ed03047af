//! `/` and `/fields/{slug}`.

use creative_calendar::domain::{CreativeField, EventKind};

use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_home_page_shows_what_is_on_now_and_next_and_the_eight_fields() {
    let app = spawn_app().await;
    app.event("lyon")
        .title("Running Exhibition")
        .kind(EventKind::Exhibition)
        .all_day("2026-11-01", "2027-01-31")
        .insert();
    app.event("krakow")
        .title("Next Festival")
        .all_day("2026-12-01", "2026-12-02")
        .insert();
    let res = app.get("/").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.texts("h1"), ["What's on in the Creative Cities"]);
    assert_eq!(
        res.texts("section[aria-labelledby=on-now] .event-title"),
        ["Running Exhibition"]
    );
    assert_eq!(
        res.texts("section[aria-labelledby=next] .event-title"),
        ["Next Festival"]
    );
    let fields = res.texts(".field-card .field-name");
    assert_eq!(
        fields,
        [
            "Crafts and Folk Art",
            "Design",
            "Film",
            "Gastronomy",
            "Literature",
            "Media Arts",
            "Music",
            "Architecture"
        ]
    );
    let literature = res
        .texts(".field-card")
        .into_iter()
        .find(|f| f.starts_with("Literature"))
        .unwrap();
    assert_eq!(literature, "Literature 2 upcoming");
    assert!(res.body.contains(r#"href="/cities""#));
}

#[actix_web::test]
async fn a_field_page_lists_only_that_field() {
    let app = spawn_app().await;
    app.event("krakow").title("Book Fair").insert();
    app.event("krakow")
        .title("Jazz in Kraków")
        .field(CreativeField::Music)
        .kind(EventKind::Performance)
        .insert();
    let music = app.get("/fields/music").await;
    assert_eq!(music.status, 200);
    assert_eq!(music.texts("h1"), ["Music"]);
    assert_eq!(music.event_titles(), ["Jazz in Kraków"]);
    assert!(music.texts(".inline-list a").contains(&"Bogotá".to_owned()));
    let literature = app.get("/fields/literature").await;
    assert_eq!(literature.event_titles(), ["Book Fair"]);
    let architecture = app.get("/fields/architecture").await;
    assert_eq!(architecture.texts(".inline-list a").len(), 5);
}

#[actix_web::test]
async fn an_unknown_field_is_a_404() {
    let app = spawn_app().await;
    for path in ["/fields/dance", "/fields/Music", "/fields/"] {
        let res = app.get(path).await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(res.texts("h1"), ["Page not found"]);
    }
}

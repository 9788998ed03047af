//! Bad input gets a clear answer; nothing is a 500. Headers every response carries.

use crate::helpers::spawn_app;

#[actix_web::test]
async fn a_bad_parameter_gets_a_400_page_that_names_it() {
    let app = spawn_app().await;
    let cases = [
        ("from=2026-13-45", "from"),
        ("to=31-12-2026", "to"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("field=nope", "field"),
        ("kind=rave", "kind"),
        ("country=Poland", "country"),
        ("city=atlantis", "city"),
        ("city=NOT%20A%20SLUG", "city"),
        ("past=perhaps", "past"),
        ("from=2026-12-10&to=2026-12-01", "to"),
    ];
    for (query, param) in cases {
        let res = app.get(&format!("/events?{query}")).await;
        assert_eq!(res.status, 400, "{query}");
        assert_eq!(
            res.texts("h1"),
            ["That request could not be understood"],
            "{query}"
        );
        let message = res.text(".error-message");
        assert!(
            message.starts_with(&format!("The parameter “{param}” is wrong")),
            "{query}: {message}"
        );
        assert!(res.header("content-type").unwrap().starts_with("text/html"));
    }
    let res = app.get("/fields/music?page=-1").await;
    assert_eq!(res.status, 400);
}

#[actix_web::test]
async fn huge_and_hostile_parameters_never_cause_a_500() {
    let app = spawn_app().await;
    let huge = "a".repeat(5_000);
    let cases = [
        format!("/events?q={huge}"),
        format!("/events?city={huge}"),
        format!("/cities/{huge}"),
        "/events?q=%00%01%02".to_owned(),
        "/events?q=%E2%80%AE%E2%80%AD".to_owned(),
        "/events?from=%27%20OR%201%3D1".to_owned(),
        "/events?q=%ZZ".to_owned(),
        "/events/99999999999999999999".to_owned(),
        "/events/-1".to_owned(),
        "/events/1%3B%20DROP%20TABLE%20events".to_owned(),
    ];
    for path in cases {
        let res = app.get(&path).await;
        assert!(
            matches!(res.status, 200 | 400 | 404),
            "{} answered {}",
            &path[..path.len().min(60)],
            res.status
        );
    }
    // The data is all still there.
    assert_eq!(app.get("/cities").await.texts(".city-card").len(), 406);
}

#[actix_web::test]
async fn an_unknown_address_is_a_404_page() {
    let app = spawn_app().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.texts("h1"), ["Page not found"]);
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
}

#[actix_web::test]
async fn health_is_reported() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, "ok\n");
}

#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/events", "/no/such/page", "/events?page=-1"] {
        let res = app.get(path).await;
        let csp = res.header("content-security-policy").expect("a CSP");
        assert!(csp.contains("default-src 'self'"), "{path}");
        assert!(csp.contains("script-src 'none'"), "{path}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(
            res.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert!(res.header("referrer-policy").is_some());
    }
}

#[actix_web::test]
async fn the_stylesheet_is_served_with_a_hashed_url_and_cached_for_a_year() {
    let app = spawn_app().await;
    let home = app.get("/").await;
    let href = home.attr("link[rel=stylesheet]", "href");
    assert!(
        href.starts_with("/static/style.") && href.ends_with(".css"),
        "{href}"
    );
    let css = app.get(&href).await;
    assert_eq!(css.status, 200);
    assert_eq!(
        css.header("content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );
    assert!(css.header("cache-control").unwrap().contains("immutable"));
    assert!(css.body.contains(":focus-visible"));
    assert_eq!(app.get("/static/style.css").await.status, 404);
    assert_eq!(app.get("/static/../Cargo.toml").await.status, 404);
}

#[actix_web::test]
async fn pages_have_one_h1_landmarks_and_labelled_controls() {
    let app = spawn_app().await;
    app.event("krakow").title("A Festival").insert();
    for path in [
        "/",
        "/events",
        "/cities",
        "/cities/krakow",
        "/fields/design",
        "/events/1",
        "/nope",
    ] {
        let res = app.get(path).await;
        let html = res.html();
        assert_eq!(res.texts("h1").len(), 1, "{path}");
        assert_eq!(res.texts("main").len(), 1, "{path}");
        assert_eq!(res.texts("header").len(), 1, "{path}");
        assert_eq!(res.texts("footer").len(), 1, "{path}");
        assert!(res.body.starts_with("<!DOCTYPE html>"), "{path}");
        let controls = scraper::Selector::parse("input:not([type=hidden]), select").unwrap();
        for control in html.select(&controls) {
            let id = control
                .value()
                .id()
                .unwrap_or_else(|| panic!("{path}: a control without id"));
            let label = scraper::Selector::parse(&format!("label[for={id}]")).unwrap();
            assert!(
                html.select(&label).next().is_some(),
                "{path}: #{id} has no label"
            );
        }
    }
}

#[actix_web::test]
async fn head_requests_are_answered_without_a_body() {
    let app = spawn_app().await;
    for path in ["/", "/events", "/cities/krakow", "/healthz"] {
        let mut res = app
            .client
            .head(format!("{}{}", app.address, path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        assert!(res.body().await.unwrap().is_empty(), "{path}");
    }
}

#[actix_web::test]
async fn other_methods_on_a_page_are_refused_with_405_and_allow() {
    let app = spawn_app().await;
    for path in ["/", "/events", "/events/1", "/cities/krakow"] {
        for method in [
            awc::http::Method::POST,
            awc::http::Method::PUT,
            awc::http::Method::DELETE,
        ] {
            let res = app
                .client
                .request(method.clone(), format!("{}{}", app.address, path))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 405, "{method} {path}");
            assert_eq!(res.headers().get("allow").unwrap(), "GET, HEAD");
        }
    }
}

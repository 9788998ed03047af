//! Malformed requests get our own answer, naming what is wrong, in the format of the
//! address; nothing half-understood is stored.

use crate::helpers::*;

/// A valid event form, urlencoded, with `extra` appended as it is.
fn event_body(token: &str, extra: &str) -> String {
    let fields = [
        ("csrf_token", token),
        ("city", "braga"),
        ("kind", "festival"),
        ("venue", "Theatro Circo"),
        ("start_date", "2026-12-12"),
        ("start_time", "19:00"),
    ];
    format!("{}&{extra}", serde_urlencoded::to_string(fields).unwrap())
}

#[actix_web::test]
async fn a_repeated_parameter_is_named_in_the_format_of_its_address() {
    let app = spawn_app().await;
    let page = app.get("/events?city=krakow&city=braga").await;
    assert_eq!(page.status, 400);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(
        page.text(".error-message"),
        "The parameter “city” is wrong: it is given more than once; give each parameter once."
    );
    assert!(!page.body.contains("deserialize"), "{}", page.body);

    let feed = app.get("/events.ics?field=music&page=1&field=film").await;
    assert_eq!(feed.status, 400);
    assert_eq!(
        feed.header("content-type").unwrap(),
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        feed.body,
        "The parameter “field” is wrong: it is given more than once; give each parameter once.\n"
    );
    // Every page that takes a query string answers alike.
    for path in [
        "/cities?q=a&q=b",
        "/cities/krakow?page=1&page=2",
        "/fields/music?page=1&page=1",
        "/login?next=/a&next=/b",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status, 400, "{path}");
        assert!(
            res.text(".error-message").contains("more than once"),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn a_query_value_that_is_not_utf8_is_refused_by_name() {
    let app = spawn_app().await;
    let res = app.get("/events?q=B3%ff%fe").await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.text(".error-message"),
        "The parameter “q” is wrong: its value holds bytes that are not UTF-8 text."
    );
}

#[actix_web::test]
async fn a_repeated_form_field_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let token = ana.csrf_token("/events/new").await;
    let before = event_count(&app);
    let res = ana
        .post_body("/events/new", event_body(&token, "title=One&title=Two"))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.text(".error-message"),
        "The parameter “title” is wrong: it is given more than once; give each field once."
    );
    assert_eq!(event_count(&app), before);
}

#[actix_web::test]
async fn a_body_that_is_not_a_form_is_a_415_in_our_words() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let token = ana.csrf_token("/events/new").await;
    let before = event_count(&app);
    let client = awc::Client::default();
    let cookie = format!("cc_session={}", ana.cookie("cc_session").unwrap());
    for (content_type, body) in [
        (
            "application/json",
            format!(r#"{{"csrf_token":"{token}","title":"JSON"}}"#),
        ),
        (
            "multipart/form-data; boundary=x",
            format!(
                "--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--x--\r\n"
            ),
        ),
        ("text/plain", format!("csrf_token={token}")),
    ] {
        let mut res = client
            .post(format!("{}/events/new", app.address))
            .insert_header(("cookie", cookie.as_str()))
            .insert_header(("content-type", content_type))
            .send_body(body)
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 415, "{content_type}");
        let text = String::from_utf8(res.body().await.unwrap().to_vec()).unwrap();
        assert!(
            text.contains("This address takes a form (application/x-www-form-urlencoded)"),
            "{content_type}: {text}"
        );
        assert!(!text.contains("Content type error"), "{text}");
    }
    assert_eq!(event_count(&app), before);
}

#[actix_web::test]
async fn text_that_is_not_utf8_is_a_field_error_and_what_was_typed_is_kept() {
    let app = spawn_app().await;
    let ana = app.organiser("ana@braga.example").await;
    let token = ana.csrf_token("/events/new").await;
    let before = event_count(&app);
    for field in ["title", "description", "address", "price", "url"] {
        let extra = if field == "title" {
            "title=B3%ff%fe".to_owned()
        } else {
            format!("title=Fine&{field}=B3%ff%fe")
        };
        let res = ana
            .post_body("/events/new", event_body(&token, &extra))
            .await;
        assert_eq!(res.status, 422, "{field}: {}", res.body);
        let error = res.text(&format!("#{field}-error"));
        assert!(error.contains("not text (UTF-8)"), "{field}: {error}");
    }
    let res = ana
        .post_body("/events/new", event_body(&token, "title=B3%ff%fe"))
        .await;
    assert_eq!(res.attr("#f-title", "value"), "B3\u{fffd}\u{fffd}");
    assert_eq!(event_count(&app), before);

    // Account forms too.
    let res = ana
        .post_body(
            "/account",
            format!("csrf_token={token}&name=Ana%ff&organisation=Braga"),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.text("#name-error").contains("not text (UTF-8)"));
}

#[actix_web::test]
async fn control_characters_in_an_address_are_never_echoed() {
    let app = spawn_app().await;
    for path in [
        "/cities/x%00y%1b%5B31m%07z",
        "/fields/%07bell%00",
        "/events?city=%1b%00x",
        "/events?kind=%00%07",
        "/cities/x%00y/calendar.ics",
    ] {
        let res = app.get(path).await;
        assert!(matches!(res.status, 400 | 404), "{path}: {}", res.status);
        assert!(
            !res.body.chars().any(|c| c.is_control() && c != '\n'),
            "{path}: {:?}",
            res.body
        );
    }
}

#[actix_web::test]
async fn only_the_canonical_spelling_of_a_value_is_accepted() {
    let app = spawn_app().await;
    for query in [
        "page=+5",
        "page=05",
        "page=5.0",
        "page=%205",
        "past=yes",
        "past=true",
        "from=2026-1-5",
        "to=+2026-12-01",
    ] {
        let res = app.get(&format!("/events?{query}")).await;
        assert_eq!(res.status, 400, "{query}");
    }
    assert_eq!(app.get("/events?page=1&past=1").await.status, 200);
    assert_eq!(app.get("/events/00001501").await.status, 404);
    assert_eq!(app.get("/events/+1").await.status, 404);
    assert_eq!(app.get("/events/0001/calendar.ics").await.status, 404);
    let rita = app.organiser("rita@admin.example").await;
    {
        let mut conn = app.pool.get().unwrap();
        let made = creative_calendar::workflows::accounts::create_admin(
            &mut conn,
            "rita@admin.example",
            "Rita",
            "",
            "unused",
            app.now,
        );
        assert!(made.is_ok());
    }
    assert_eq!(rita.get("/admin/users/1").await.status, 200);
    assert_eq!(rita.get("/admin/users/01").await.status, 404);

    let ana = app.organiser("ana@braga.example").await;
    let before = event_count(&app);
    for (field, value) in [
        ("start_time", "19:00:30"),
        ("start_time", "7:5"),
        ("start_time", "7:05"),
        ("end_time", "23:00:00"),
        ("start_date", "2026-12-5"),
        ("all_day", "anything"),
        ("all_day", "true"),
    ] {
        let mut fields = vec![
            ("city", "braga"),
            ("kind", "festival"),
            ("title", "Strict"),
            ("venue", "Theatro Circo"),
            ("start_date", "2026-12-12"),
            ("start_time", "19:00"),
            ("end_time", "23:00"),
        ];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let res = ana.submit_event(&fields).await;
        assert_eq!(res.status, 422, "{field}={value}");
        assert!(
            !res.text(&format!("#{field}-error")).is_empty(),
            "{field}={value}"
        );
    }
    assert_eq!(event_count(&app), before);
}

#[actix_web::test]
async fn an_unknown_country_code_is_a_400_and_a_country_without_cities_says_so() {
    let app = spawn_app().await;
    let res = app.get("/events?country=ZZ").await;
    assert_eq!(res.status, 400);
    assert_eq!(
        res.text(".error-message"),
        "The parameter “country” is wrong: “ZZ” is not an ISO 3166 country code, such as PT or KR."
    );
    assert_eq!(app.get("/events.ics?country=zz").await.status, 400);

    // Liechtenstein is a country, with no member city (yet).
    let res = app.get("/events?country=LI").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text("h1"), "Upcoming events in Liechtenstein");
    assert!(
        res.text(".notice")
            .contains("No member city of the UNESCO Creative Cities Network is in Liechtenstein"),
        "{}",
        res.body
    );
    let feed = app.get("/events.ics?country=LI").await;
    assert_eq!(feed.status, 200);
    assert!(feed.body.contains("Liechtenstein"));
    // A country with member cities says nothing of the kind.
    let res = app.get("/events?country=PT").await;
    assert!(res.texts(".notice").is_empty());
}

/// PostgreSQL's text cannot hold a NUL, so one typed anywhere must be stopped at the
/// door (as a byte that is not text), never reach a query as a 500. On both backends.
#[actix_web::test]
async fn a_nul_in_a_form_a_query_or_a_json_body_is_refused_as_not_text() {
    let app = spawn_app().await;
    let browser = app.browser();
    let res = browser
        .submit(
            "/login",
            "/login",
            &[
                ("email", "ana\0@braga.example"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let res = browser
        .submit(
            "/signup",
            "/signup",
            &[
                ("email", "nul@braga.example"),
                ("name", "A\0B"),
                ("organisation", ""),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    for path in [
        "/events?q=jazz%00",
        "/events?city=braga%00",
        "/api/v1/events?q=%00",
        "/api/v1/cities?q=%00",
        "/events.ics?q=a%00",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status, 400, "{path}: {}", res.body);
    }
    for path in [
        "/cities/bra%00ga",
        "/api/v1/cities/bra%00ga",
        "/cities/bra%00ga/calendar.ics",
    ] {
        assert_eq!(app.get(path).await.status, 404, "{path}");
    }

    let token = {
        let _ana = app.organiser("ana@braga.example").await;
        let mut conn = app.pool.get().unwrap();
        creative_calendar::auth::token::create_for_email(
            &mut conn,
            "ana@braga.example",
            "nul",
            app.now,
        )
        .unwrap()
        .secret
    };
    let body = r#"{"city": "braga", "kind": "performance", "title": "Organ\u0000night",
        "venue": "Sé", "start_date": "2026-12-12", "start_time": "21:00",
        "description": "\u0000", "\u0000": 1}"#;
    let mut res = app
        .client
        .post(format!("{}/api/v1/events", app.address))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/json"))
        .send_body(body)
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let text = String::from_utf8(res.body().await.unwrap().to_vec()).unwrap();
    assert!(!text.contains('\0') && !text.contains("\\u0000"), "{text}");
}

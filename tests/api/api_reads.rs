//! The public reads of `/api/v1`: shapes, filters (the same answers as `/events`),
//! paging by cursor, `updated_since`, errors as JSON, validators and CORS.

use std::collections::HashSet;

use creative_calendar::db::models::Event;
use creative_calendar::domain::{CreativeField, EventKind, EventStatus, ModerationState};
use serde_json::Value;

use crate::helpers::{Response, TestApp, spawn_app};

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// The titles of a list of events, in order.
fn titles(json: &Value) -> Vec<String> {
    json["events"]
        .as_array()
        .expect("an events list")
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts a JSON error with `status`, naming `parameter` when given.
fn assert_error(res: &Response, status: u16, parameter: Option<&str>) {
    assert_eq!(res.status, status, "{}", res.body);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/json"),
        "{}",
        res.body
    );
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let json = res.json();
    let errors = json["errors"].as_array().expect("an errors list");
    assert_eq!(errors.len(), 1, "{json}");
    assert!(errors[0]["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(errors[0]["parameter"].as_str(), parameter, "{json}");
}

/// The programme of the `/events` tests, and an event of last year.
fn programme(app: &TestApp) {
    crate::browse_events::programme(app);
    app.event("krakow")
        .title("Last Year's Fair")
        .all_day("2025-12-01", "2025-12-03")
        .insert();
}

/// `/api/v1/events/{id}` of `event`: its `event` member.
async fn event_json(app: &TestApp, event: &Event) -> Value {
    let res = app.get(&format!("/api/v1/events/{}", event.id)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/json")
    );
    res.json()["event"].clone()
}

/// `start`, `end`, `starts_at` and `ends_at`, in that order.
fn assert_times(event: &Value, times: [&str; 4]) {
    let got = ["start", "end", "starts_at", "ends_at"]
        .map(|k| event[k].as_str().unwrap_or_default().to_owned());
    assert_eq!(got, times.map(str::to_owned), "{event}");
}

#[actix_web::test]
async fn api_a_timed_event_has_local_times_and_instants_with_offsets() {
    let app = spawn_app().await;
    let event = app
        .event("krakow")
        .title("Poetry Night")
        .kind(EventKind::Talk)
        .timed("2026-12-10 19:00", Some("2026-12-10 21:00"))
        .venue("Księgarnia Massolit", "Felicjanek 4")
        .coordinates(50.0585, 19.9425)
        .price("20 zł")
        .organizer("Massolit Books")
        .insert();
    let e = &event_json(&app, &event).await;
    assert_eq!(e["id"], event.id);
    assert_eq!(e["uid"], event.uid.as_str());
    assert_eq!(
        e["url"],
        format!("https://calendar.example.org/events/{}", event.id)
    );
    assert_eq!(e["title"], "Poetry Night");
    assert_eq!(e["description"], "A test event.");
    assert_eq!(e["kind"], "talk");
    // No field of its own: the city's.
    assert_eq!(e["field"], "literature");
    assert_eq!(
        e["city"],
        serde_json::json!({"slug": "krakow", "name": "Kraków", "country_code": "PL", "timezone": "Europe/Warsaw"})
    );
    assert_eq!(e["venue"], "Księgarnia Massolit");
    assert_eq!(e["address"], "Felicjanek 4");
    assert_eq!(
        e["geo"],
        serde_json::json!({"lat": 50.0585, "lon": 19.9425})
    );
    assert_eq!(e["price"], "20 zł");
    assert_eq!(e["is_free"], false);
    assert_eq!(e["status"], "scheduled");
    assert_eq!(e["status_note"], Value::Null);
    assert_eq!(e["organizer"], "Massolit Books");
    assert_eq!(e["website"], Value::Null);
    assert_eq!(e["sequence"], 0);
    assert_eq!(e["created_at"], "2026-11-28T12:00:00Z");
    assert_eq!(e["updated_at"], "2026-11-28T12:00:00Z");
    assert_eq!(e["all_day"], false);
    assert_eq!(e["timezone"], "Europe/Warsaw");
    assert_times(
        e,
        [
            "2026-12-10T19:00",
            "2026-12-10T21:00",
            "2026-12-10T19:00:00+01:00",
            "2026-12-10T21:00:00+01:00",
        ],
    );
}

#[actix_web::test]
async fn api_an_all_day_event_ends_on_its_last_day_and_its_instant_the_day_after() {
    let app = spawn_app().await;
    let event = app
        .event("braga")
        .title("Braga Festival")
        .all_day("2026-12-12", "2026-12-14")
        .insert();
    let e = &event_json(&app, &event).await;
    assert_eq!(e["all_day"], true);
    assert_eq!(e["timezone"], "Europe/Lisbon");
    assert_times(
        e,
        [
            "2026-12-12",
            "2026-12-14",
            "2026-12-12T00:00:00+00:00",
            "2026-12-15T00:00:00+00:00",
        ],
    );
    assert_eq!(e["geo"], Value::Null);
    assert_eq!(e["price"], Value::Null);
    assert_eq!(e["is_free"], true);
}

#[actix_web::test]
async fn api_an_event_across_a_change_of_the_clocks_shows_both_offsets() {
    let app = spawn_app().await;
    // Poland moves to summer time at 02:00 on Sunday 28 March 2027.
    let event = app
        .event("krakow")
        .title("Night of Museums")
        .timed("2027-03-27 20:00", Some("2027-03-28 10:00"))
        .insert();
    let e = &event_json(&app, &event).await;
    assert_times(
        e,
        [
            "2027-03-27T20:00",
            "2027-03-28T10:00",
            "2027-03-27T20:00:00+01:00",
            "2027-03-28T10:00:00+02:00",
        ],
    );
}

#[actix_web::test]
async fn api_a_timed_event_without_an_end_lasts_two_hours() {
    let app = spawn_app().await;
    let event = app.event("lyon").timed("2027-01-15 20:30", None).insert();
    let e = &event_json(&app, &event).await;
    assert_times(
        e,
        [
            "2027-01-15T20:30",
            "2027-01-15T22:30",
            "2027-01-15T20:30:00+01:00",
            "2027-01-15T22:30:00+01:00",
        ],
    );
}

#[actix_web::test]
async fn api_only_published_events_are_shown_and_others_are_a_json_404() {
    let app = spawn_app().await;
    let pending = app
        .event("braga")
        .moderation(ModerationState::Pending)
        .insert();
    let rejected = app
        .event("braga")
        .moderation(ModerationState::Rejected)
        .insert();
    for id in [
        pending.id.to_string(),
        rejected.id.to_string(),
        "999999".to_owned(),
        "0042".to_owned(),
        "abc".to_owned(),
        "%FF".to_owned(),
    ] {
        let res = app.get(&format!("/api/v1/events/{id}")).await;
        assert_error(&res, 404, None);
    }
    let list = app.get("/api/v1/events").await.json();
    assert_eq!(list["events"].as_array().unwrap().len(), 0);
    assert_eq!(list["meta"]["total"], 0);
}

#[actix_web::test]
async fn api_the_list_gives_the_same_answers_as_the_events_page() {
    let app = spawn_app().await;
    programme(&app);
    app.event("braga")
        .title("Cancelled Concert")
        .status(EventStatus::Cancelled)
        .kind(EventKind::Performance)
        .all_day("2026-12-20", "2026-12-20")
        .insert();
    let filters = [
        "",
        "city=krakow",
        "country=fr",
        "field=music",
        "kind=festival",
        "from=2026-12-09&to=2026-12-31",
        "q=jazz",
        "past=1",
        "city=&field=",
        "country=PL&kind=talk",
    ];
    for qs in filters {
        let page = app.get(&format!("/events?{qs}")).await;
        assert_eq!(page.status, 200, "{qs}");
        let api = app.get(&format!("/api/v1/events?{qs}")).await;
        assert_eq!(api.status, 200, "{qs}: {}", api.body);
        let json = api.json();
        let mut expected = page.event_titles();
        expected.truncate(5);
        let mut got = titles(&json);
        got.truncate(5);
        assert_eq!(got, expected, "{qs}");
        assert!(json["meta"]["total"].as_i64().unwrap() >= got.len() as i64);
    }
    let json = app.get("/api/v1/events").await.json();
    assert_eq!(json["meta"]["total"], 6);
    assert_eq!(json["meta"]["next_cursor"], Value::Null);
    let past = app.get("/api/v1/events?past=1").await.json();
    assert_eq!(titles(&past), ["Last Year's Fair"]);
}

#[actix_web::test]
async fn api_bad_parameters_are_a_400_that_names_them() {
    let app = spawn_app().await;
    let cases = [
        ("from=2026-13-45", "from"),
        ("to=tomorrow", "to"),
        ("from=2026-12-10&to=2026-12-01", "to"),
        ("field=nope", "field"),
        ("kind=party", "kind"),
        ("country=PRT", "country"),
        ("city=nowhere", "city"),
        ("past=maybe", "past"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2026-11-28", "updated_since"),
        ("cursor=garbage", "cursor"),
        ("page=2", "page"),
        ("city=krakow&city=lyon", "city"),
        ("q=%FF", "q"),
    ];
    for (qs, parameter) in cases {
        let res = app.get(&format!("/api/v1/events?{qs}")).await;
        assert_error(&res, 400, Some(parameter));
    }
    let res = app.get("/api/v1/cities?field=nope").await;
    assert_error(&res, 400, Some("field"));
    let res = app.get("/api/v1/cities?country=a&country=b").await;
    assert_error(&res, 400, Some("country"));
}

#[actix_web::test]
async fn api_limit_bounds_the_page_and_the_cursor_goes_on() {
    let app = spawn_app().await;
    programme(&app);
    let first = app.get("/api/v1/events?limit=1").await.json();
    assert_eq!(titles(&first), ["Conrad Festival"]);
    assert_eq!(first["meta"]["total"], 5);
    let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let all = app.get("/api/v1/events?limit=100").await.json();
    assert_eq!(all["events"].as_array().unwrap().len(), 5);
    assert_eq!(all["meta"]["next_cursor"], Value::Null);
    let second = app
        .get(&format!("/api/v1/events?limit=4&cursor={cursor}"))
        .await
        .json();
    assert_eq!(
        titles(&second),
        [
            "Fête des Lumières",
            "Poetry Night",
            "Jazz à Lyon",
            "Rock al Parque"
        ]
    );
    assert_eq!(second["meta"]["next_cursor"], Value::Null);
    // The default is 20.
    let app = spawn_app().await;
    for i in 0..21 {
        app.event("braga").title(&format!("Event {i}")).insert();
    }
    let json = app.get("/api/v1/events").await.json();
    assert_eq!(json["events"].as_array().unwrap().len(), 20);
    assert_eq!(json["meta"]["total"], 21);
}

#[actix_web::test]
async fn api_a_cursor_from_other_filters_is_refused() {
    let app = spawn_app().await;
    programme(&app);
    let first = app.get("/api/v1/events?limit=1&city=krakow").await.json();
    let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_owned();
    for other in [
        "city=lyon",
        "",
        "city=krakow&past=1",
        "city=krakow&updated_since=2026-01-01T00:00:00Z",
    ] {
        let res = app
            .get(&format!("/api/v1/events?limit=1&cursor={cursor}&{other}"))
            .await;
        assert_error(&res, 400, Some("cursor"));
    }
    // Its own filters, spelled differently, are the same filters.
    let res = app
        .get(&format!(
            "/api/v1/events?cursor={cursor}&city=krakow&limit=5"
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(titles(&res.json()), ["Poetry Night"]);
}

#[actix_web::test]
async fn api_paging_over_250_events_with_inserts_between_pages_repeats_and_skips_none() {
    let app = spawn_app().await;
    let mut existing = HashSet::new();
    for i in 0..250 {
        // Pairs of events share a start, so the id breaks ties; some are running now,
        // so that the pages cross from those to the later ones.
        let day = 1 + (i / 2) % 28;
        let hour = 8 + (i / 56);
        let start = format!("2027-01-{day:02} {hour:02}:00");
        let builder = app
            .event(if i % 3 == 0 { "braga" } else { "krakow" })
            .title(&format!("Event {i}"));
        let event = if i % 7 == 0 {
            builder.all_day(&format!("2026-11-{:02}", 1 + i % 27), "2026-12-05")
        } else {
            builder.timed(&start, None)
        }
        .insert();
        existing.insert(event.id);
    }
    let mut seen: Vec<i64> = Vec::new();
    let mut starts = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/events?limit=30&cursor={c}"),
            None => "/api/v1/events?limit=30".to_owned(),
        };
        let json = app.get(&path).await.json();
        pages += 1;
        for e in json["events"].as_array().unwrap() {
            seen.push(e["id"].as_i64().unwrap());
            let at =
                chrono::DateTime::parse_from_rfc3339(e["starts_at"].as_str().unwrap()).unwrap();
            starts.push(at.to_utc());
        }
        // Between pages, events appear before the place reached, at it and after it.
        for (n, start) in [
            (pages * 3, "2026-12-20 10:00"),
            (pages * 3 + 1, "2027-01-14 08:00"),
            (pages * 3 + 2, "2027-02-10 12:00"),
        ] {
            app.event("lyon")
                .title(&format!("Inserted {n}"))
                .timed(start, None)
                .insert();
        }
        match json["meta"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 50, "the cursor does not end");
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "an event was listed twice");
    for id in &existing {
        assert!(unique.contains(&i64::from(*id)), "event {id} was skipped");
    }
    assert!(starts.is_sorted(), "the pages are in listing order");
    assert!(pages >= 9);
}

#[actix_web::test]
async fn api_updated_since_lists_only_what_changed_at_or_after_it() {
    let app = spawn_app().await;
    let old = app.event("braga").title("Old").insert();
    let new = app.event("braga").title("New").insert();
    {
        use creative_calendar::db::schema::events;
        use diesel::prelude::*;
        let mut conn = app.pool.get().unwrap();
        diesel::update(events::table.find(old.id))
            .set(events::updated_at.eq(crate::helpers::local("2026-11-01 09:00")))
            .execute(&mut conn)
            .unwrap();
    }
    let since = |t: &str| format!("/api/v1/events?updated_since={t}");
    assert_eq!(
        titles(&app.get(&since("2026-11-28T12:00:00Z")).await.json()),
        ["New"]
    );
    // An offset is understood, and the instant itself is included.
    assert_eq!(
        titles(&app.get(&since("2026-11-01T10:00:00%2B01:00")).await.json()),
        ["Old", "New"]
    );
    let json = app.get(&since("2026-11-28T12:00:01Z")).await.json();
    assert_eq!(json["meta"]["total"], 0);
    let got = app.get(&format!("/api/v1/events/{}", new.id)).await.json();
    assert_eq!(got["event"]["updated_at"], "2026-11-28T12:00:00Z");
}

#[actix_web::test]
async fn api_cities_are_all_listed_filtered_and_shown_one_by_one() {
    let app = spawn_app().await;
    programme(&app);
    let json = app.get("/api/v1/cities").await.json();
    let cities = json["cities"].as_array().unwrap();
    // Every city the page lists, in the same order.
    let page = app.get("/cities").await;
    let names: Vec<&str> = cities.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, page.texts(".city-list .city-name"));
    assert!(cities.len() > 300, "{}", cities.len());
    let krakow = cities.iter().find(|c| c["slug"] == "krakow").unwrap();
    assert_eq!(
        *krakow,
        serde_json::json!({
            "slug": "krakow",
            "name": "Kraków",
            "country": "Poland",
            "country_code": "PL",
            "field": "literature",
            "designation_year": krakow["designation_year"],
            "timezone": "Europe/Warsaw",
            "geo": krakow["geo"],
            "upcoming_events": 2,
            "url": "https://calendar.example.org/cities/krakow",
            "ics_url": "https://calendar.example.org/cities/krakow/calendar.ics",
        })
    );
    assert!(krakow["geo"]["lat"].as_f64().is_some());
    let music_pt = app
        .get("/api/v1/cities?field=music&country=pt")
        .await
        .json();
    for city in music_pt["cities"].as_array().unwrap() {
        assert_eq!(city["field"], "music");
        assert_eq!(city["country_code"], "PT");
    }
    let q = app.get("/api/v1/cities?q=krakow").await.json();
    assert_eq!(q["cities"].as_array().unwrap().len(), 1);
    let one = app.get("/api/v1/cities/lyon").await.json();
    assert_eq!(one["city"]["name"], "Lyon");
    assert_eq!(one["city"]["upcoming_events"], 2);
    assert_error(&app.get("/api/v1/cities/atlantis").await, 404, None);
}

#[actix_web::test]
async fn api_fields_are_the_eight_with_their_counts() {
    let app = spawn_app().await;
    programme(&app);
    let json = app.get("/api/v1/fields").await.json();
    let fields = json["fields"].as_array().unwrap();
    assert_eq!(fields.len(), CreativeField::ALL.len());
    let music = fields.iter().find(|f| f["slug"] == "music").unwrap();
    assert_eq!(music["name"], "Music");
    assert_eq!(
        music["upcoming_events"], 2,
        "Jazz à Lyon and Rock al Parque"
    );
    assert!(music["cities"].as_i64().unwrap() > 10);
    assert_eq!(music["url"], "https://calendar.example.org/fields/music");

    // One field alone is the same object as in the list.
    let one = app.get("/api/v1/fields/music").await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["field"], *music);
    for missing in ["musik", "Music", "%FF", "music%20"] {
        let res = app.get(&format!("/api/v1/fields/{missing}")).await;
        assert_eq!(res.status, 404, "{missing}");
        assert!(res.json()["errors"][0]["detail"].is_string(), "{missing}");
    }
}

#[actix_web::test]
async fn api_every_get_has_an_etag_and_answers_304_to_it() {
    let app = spawn_app().await;
    let event = app.event("braga").insert();
    for path in [
        "/api/v1/events".to_owned(),
        format!("/api/v1/events/{}", event.id),
        "/api/v1/cities".to_owned(),
        "/api/v1/cities/braga".to_owned(),
        "/api/v1/fields".to_owned(),
        "/api/v1/fields/film".to_owned(),
        "/api/v1/openapi.json".to_owned(),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status, 200, "{path}");
        let etag = res.header("etag").expect("an ETag");
        assert!(res.header("cache-control").unwrap().contains("max-age"));
        let again = app.get_with(&path, &[("If-None-Match", &etag)]).await;
        assert_eq!(again.status, 304, "{path}");
        assert_eq!(again.body, "");
        assert_eq!(again.header("etag").as_deref(), Some(etag.as_str()));
        assert_eq!(
            again.header("access-control-allow-origin").as_deref(),
            Some("*")
        );
        let other = app.get_with(&path, &[("If-None-Match", "\"other\"")]).await;
        assert_eq!(other.status, 200, "{path}");
    }
    // A change makes a new ETag.
    let before = app.get("/api/v1/events").await.header("etag");
    app.event("braga").title("Another").insert();
    assert_ne!(app.get("/api/v1/events").await.header("etag"), before);
}

#[actix_web::test]
async fn api_reads_and_errors_carry_cors_headers_and_preflights_are_answered() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/events",
        "/api/v1/fields",
        "/api/v1/events?from=x",
        "/api/v1/nothing",
        "/api/v2/events",
    ] {
        let res = app
            .get_with(path, &[("Origin", "https://portal.example")])
            .await;
        assert_eq!(
            res.header("access-control-allow-origin").as_deref(),
            Some("*"),
            "{path}"
        );
        assert_eq!(
            res.header("access-control-expose-headers").as_deref(),
            Some("ETag"),
            "{path}"
        );
    }
    let res = app
        .request(
            awc::http::Method::OPTIONS,
            "/api/v1/events",
            &[
                ("Origin", "https://portal.example"),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "if-none-match"),
            ],
        )
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(
        res.header("access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
    assert!(
        res.header("access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase()
            .contains("if-none-match")
    );
    // Pages are not opened to other sites.
    let page = app.get("/events").await;
    assert_eq!(page.header("access-control-allow-origin"), None);
}

#[actix_web::test]
async fn api_unknown_addresses_and_methods_are_json() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/nothing",
        "/api/v1/",
        "/api/v2/events",
        "/api/v1/events/1/more",
    ] {
        assert_error(&app.get(path).await, 404, None);
    }
    let res = app
        .request(awc::http::Method::DELETE, "/api/v1/fields", &[])
        .await;
    assert_eq!(res.status, 405, "{}", res.body);
    assert_eq!(res.header("allow").as_deref(), Some("GET, HEAD, OPTIONS"));
    assert!(res.json()["errors"][0]["detail"].is_string());
    // Only reads are opened to other sites, and a DELETE is none.
    assert_eq!(res.header("access-control-allow-origin"), None);
    let head = app
        .request(awc::http::Method::HEAD, "/api/v1/fields", &[])
        .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "");
}

#[actix_web::test]
async fn api_the_openapi_document_lists_every_path() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status, 200);
    let doc = res.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "https://calendar.example.org");
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut paths = paths;
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/api/v1/cities",
            "/api/v1/cities/{slug}",
            "/api/v1/events",
            "/api/v1/events/{id}",
            "/api/v1/events/{id}/cancel",
            "/api/v1/events/{id}/occurrences",
            "/api/v1/events/{id}/occurrences/{date}",
            "/api/v1/events/{id}/postpone",
            "/api/v1/events/{id}/reinstate",
            "/api/v1/fields",
            "/api/v1/fields/{slug}",
            "/api/v1/my/events",
            "/api/v1/openapi.json",
        ]
    );
    // Every documented read answers (the writes are tested in api_writes.rs; a GET of
    // a write-only address is a 405, and /my/ needs a token).
    for path in &paths {
        if !doc["paths"][*path]["get"].is_object() || path.starts_with("/api/v1/my/") {
            continue;
        }
        let path = path.replace("{slug}", "braga").replace("{id}", "1");
        let status = app.get(&path).await.status;
        assert!(status == 200 || status == 404, "{path}: {status}");
    }
    let params: Vec<&str> = doc["paths"]["/api/v1/events"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "city",
        "country",
        "field",
        "kind",
        "from",
        "to",
        "q",
        "past",
        "updated_since",
        "limit",
        "cursor",
    ] {
        assert!(params.contains(&name), "{name} in {params:?}");
    }
    assert!(!params.contains(&"page"));

    // `city` takes the member cities' slugs (or empty, for any), from the database.
    let parameter = |name: &str| {
        doc["paths"]["/api/v1/events"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    let slugs: Vec<String> = {
        use creative_calendar::db::models::City;
        City::slugs(&mut app.pool.get().unwrap()).unwrap()
    };
    let city = parameter("city");
    let allowed: Vec<&str> = city["schema"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(allowed.len(), slugs.len() + 1);
    assert!(allowed.contains(&"braga") && allowed.contains(&""));
    let input_cities = &doc["components"]["schemas"]["EventInput"]["properties"]["city"]["enum"];
    assert_eq!(
        input_cities.as_array().unwrap().len(),
        slugs.len(),
        "no empty city for a write"
    );
    // The other filters state their exact syntax.
    let schema_of = |name: &str| {
        let schema = parameter(name)["schema"].clone();
        match schema["$ref"].as_str() {
            Some(r) => {
                doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")].clone()
            }
            None => schema,
        }
    };
    // Every reference in the document leads somewhere.
    fn refs<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} leads nowhere"
        );
    }
    let country = schema_of("country")["pattern"].clone();
    assert!(country.as_str().unwrap().contains("[Pp][Aa"), "{country}");
    assert!(schema_of("from")["pattern"].is_string());
    assert_eq!(schema_of("past")["pattern"], "^[01]?$");
    assert!(
        schema_of("field")["enum"]
            .as_array()
            .unwrap()
            .contains(&"".into())
    );
    let schemas = &doc["components"]["schemas"];
    for name in [
        "EventJson",
        "CityJson",
        "FieldJson",
        "ErrorsBody",
        "CreativeField",
        "EventKind",
    ] {
        assert!(schemas[name].is_object(), "{name}");
    }
    assert!(doc["paths"]["/api/v1/events"]["get"]["responses"]["400"].is_object());
}

#[actix_web::test]
async fn api_the_api_page_explains_with_curl_examples() {
    let app = spawn_app().await;
    let res = app.get("/api").await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(res.text("h1"), "The calendar as data");
    let code = res.texts("pre code").join("\n");
    // Every read the page shows answers 200 as written (an example with a kind that does
    // not exist once slipped through).
    for url in code
        .split_whitespace()
        .filter_map(|w| {
            w.trim_matches('\'')
                .strip_prefix("https://calendar.example.org")
        })
        .filter(|path| path.starts_with("/api/v1/") && !path.contains("/my/"))
        // Not the placeholders (`cursor=…`).
        .filter(|path| path.is_ascii())
    {
        let res = app.get(url).await;
        // 400 only for the page's example of an error; 405 for the writes' addresses.
        let shown_as_error = url.contains("2026-13-45");
        assert!(
            matches!(res.status, 200 | 404 | 405) || (shown_as_error && res.status == 400),
            "{url}: {}",
            res.status
        );
    }
    assert!(
        code.contains(
            "curl 'https://calendar.example.org/api/v1/events?city=braga&kind=performance'"
        ),
        "{code}"
    );
    assert!(res.body.contains(r#"href="/api/v1/openapi.json""#));
    assert!(!res.body.contains("<script"));
}

#[actix_web::test]
async fn api_a_cancelled_event_stays_listed_with_its_status_and_note() {
    let app = spawn_app().await;
    let event = app.event("braga").title("Open-Air Concert").insert();
    {
        let mut conn = app.pool.get().unwrap();
        Event::set_status(
            &mut conn,
            event.id,
            EventStatus::Cancelled,
            Some("Storm warning."),
            app.now,
        )
        .unwrap();
    }
    let e = event_json(&app, &event).await;
    assert_eq!(e["status"], "cancelled");
    assert_eq!(e["status_note"], "Storm warning.");
    assert_eq!(e["sequence"], 1);
    let list = app.get("/api/v1/events").await.json();
    assert_eq!(titles(&list), ["Open-Air Concert"]);
}

#[actix_web::test]
async fn api_a_large_answer_is_gzipped_for_a_client_that_takes_it_with_its_own_etag() {
    let app = spawn_app().await;
    let plain = app.get("/api/v1/cities").await;
    assert_eq!(plain.header("vary").as_deref(), Some("Accept-Encoding"));
    assert!(plain.header("content-encoding").is_none());
    let res = app.get_gzipped("/api/v1/cities", "gzip").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-encoding"), "gzip");
    assert_eq!(res.header("content-type"), "application/json");
    let etag = res.header("etag");
    assert_ne!(Some(etag.clone()), plain.header("etag"));
    assert!(res.zipped_len * 4 < plain.body.len());
    assert_eq!(res.body, plain.body);
    let again = app
        .get_with(
            "/api/v1/cities",
            &[("Accept-Encoding", "gzip"), ("If-None-Match", &etag)],
        )
        .await;
    assert_eq!(again.status, 304);
    // A small answer goes as it is.
    let small = app
        .get_with("/api/v1/cities/braga", &[("Accept-Encoding", "gzip")])
        .await;
    assert!(small.header("content-encoding").is_none());
    assert_eq!(small.json()["city"]["slug"], "braga");
}

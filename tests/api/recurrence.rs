//! Series and opening hours: made with the form and the API, found by the listings'
//! date and `open=` filters in the city's zone, and carried by feeds as RRULE, EXDATE
//! and RECURRENCE-ID overrides that read back as exactly the dates the page lists.

use std::str::FromStr;

use serde_json::{Value, json};

use crate::api_writes::{call, token_for};
use crate::helpers::*;

const ANA: &str = "ana@braga.example";

/// A trusted organiser (whose events are published at once) and their API token.
async fn trusted(app: &TestApp) -> (Browser<'_>, String) {
    let browser = app.organiser(ANA).await;
    app.set_trusted(ANA, true);
    (browser, token_for(app, ANA))
}

/// Tuesdays and Thursdays 18:00–20:00 in Braga from 1 Dec 2026 to 31 Jan 2027, without
/// 24 Dec, made through the form.
async fn weekly_series(browser: &Browser<'_>) -> i32 {
    let res = browser
        .submit_event(&[
            ("city", "braga"),
            ("venue", "Theatro Circo"),
            ("kind", "workshop"),
            ("title", "Open studio"),
            ("start_date", "2026-12-01"),
            ("start_time", "18:00"),
            ("end_time", "20:00"),
            ("repeat", "weekly"),
            ("repeat_weekdays", "tu"),
            ("repeat_weekdays", "th"),
            ("repeat_until", "2027-01-31"),
            ("skip_dates", "2026-12-24"),
        ])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    event_id_from(&res)
}

fn occurrence_dates(body: &Value) -> Vec<String> {
    body["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["date"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_rt::test]
async fn a_weekly_series_from_the_form_is_one_event_with_its_dates() {
    let app = spawn_app().await;
    let (browser, _) = trusted(&app).await;
    let id = weekly_series(&browser).await;

    // The API: the fields, and every occurrence but the skipped one.
    let event = app.get(&format!("/api/v1/events/{id}")).await;
    let event: Value = serde_json::from_str(&event.body).unwrap();
    assert_eq!(event["event"]["repeat"], "weekly");
    assert_eq!(event["event"]["repeat_weekdays"], json!(["tu", "th"]));
    assert_eq!(event["event"]["skip_dates"], json!(["2026-12-24"]));
    assert_eq!(event["event"]["repeat_until"], "2027-01-31");
    let res = app.get(&format!("/api/v1/events/{id}/occurrences")).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let body: Value = serde_json::from_str(&res.body).unwrap();
    let dates = occurrence_dates(&body);
    assert_eq!(dates.len(), 17, "{dates:?}"); // 18 Tuesdays and Thursdays, less one
    assert_eq!(dates[0], "2026-12-01");
    assert!(!dates.contains(&"2026-12-24".to_owned()));
    assert_eq!(body["occurrences"][0]["start"], "2026-12-01T18:00");
    assert_eq!(
        body["occurrences"][0]["starts_at"],
        "2026-12-01T18:00:00+00:00"
    );
    let in_range = app
        .get(&format!(
            "/api/v1/events/{id}/occurrences?from=2027-01-01&to=2027-01-10"
        ))
        .await;
    let in_range: Value = serde_json::from_str(&in_range.body).unwrap();
    assert_eq!(occurrence_dates(&in_range), ["2027-01-05", "2027-01-07"]);

    // The listing shows it once, with its rule and its next date.
    let listing = app.get("/cities/braga").await;
    let titles = listing.event_titles();
    assert_eq!(
        titles.iter().filter(|t| t.contains("Open studio")).count(),
        1
    );
    let line = listing.text(".event-repeats");
    assert!(
        line.starts_with("Every Tue and Thu, 18:00–20:00, until 31 Jan 2027 (next: Tue 1 Dec)"),
        "{line}"
    );

    // Date filters find it by any of its occurrences, and not between them.
    let found = app.get("/events?from=2027-01-14&to=2027-01-14").await;
    assert!(
        found
            .event_titles()
            .iter()
            .any(|t| t.contains("Open studio"))
    );
    let wednesday = app.get("/events?from=2027-01-13&to=2027-01-13").await;
    assert!(
        !wednesday
            .event_titles()
            .iter()
            .any(|t| t.contains("Open studio"))
    );
    let skipped = app.get("/events?from=2026-12-24&to=2026-12-24").await;
    assert!(
        !skipped
            .event_titles()
            .iter()
            .any(|t| t.contains("Open studio"))
    );
    let open = app.get("/events?open=2027-01-07").await;
    assert!(
        open.event_titles()
            .iter()
            .any(|t| t.contains("Open studio"))
    );

    // The page lists the next dates and the exception.
    let page = app.get(&format!("/events/{id}")).await;
    let dates = page.texts(".occurrences li");
    assert_eq!(dates.len(), 12);
    assert!(
        page.text(".exceptions")
            .contains("Thu 24 Dec 2026: does not take place")
    );

    // The feed: one VEVENT with the rule, read back as exactly those dates.
    let feed = app.get(&format!("/events/{id}/calendar.ics")).await;
    assert!(
        feed.body
            .contains("RRULE:FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270131T235959Z\r\n"),
        "{}",
        feed.body
    );
    assert!(
        feed.body
            .contains("EXDATE;TZID=Europe/Lisbon:20261224T180000\r\n")
    );
    assert!(
        feed.body
            .contains("DTSTART;TZID=Europe/Lisbon:20261201T180000\r\n")
    );
    assert_eq!(feed.body.matches("BEGIN:VEVENT").count(), 1);
    assert_eq!(expand(&feed.body), occurrence_dates(&body));
}

/// The local start dates a feed's one series gives, expanded by the `rrule` crate from
/// the feed's own DTSTART, RRULE and EXDATE lines.
fn expand(feed: &str) -> Vec<String> {
    let unfolded = feed.replace("\r\n ", "");
    // The event's own lines, not its VTIMEZONE's.
    let unfolded = &unfolded[unfolded.find("BEGIN:VEVENT").unwrap()..];
    let pick = |name: &str| {
        unfolded
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name}"))
            .to_owned()
    };
    let mut text = format!("{}\n{}", pick("DTSTART"), pick("RRULE"));
    if let Some(ex) = unfolded.lines().find(|l| l.starts_with("EXDATE")) {
        text.push('\n');
        text.push_str(ex);
    }
    let set = rrule::RRuleSet::from_str(&text).unwrap();
    set.all(1000)
        .dates
        .iter()
        .map(|d| d.date_naive().to_string())
        .collect()
}

#[actix_rt::test]
async fn a_rule_without_an_end_or_past_the_limits_is_refused_beside_its_field() {
    let app = spawn_app().await;
    let (browser, _) = trusted(&app).await;
    let base = [
        ("city", "braga"),
        ("kind", "workshop"),
        ("title", "Every day"),
        ("venue", "Theatro Circo"),
        ("start_date", "2026-12-01"),
        ("start_time", "18:00"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = base.to_vec();
        all.extend_from_slice(extra);
        all
    };
    let res = browser.submit_event(&with(&[("repeat", "daily")])).await;
    assert_eq!(res.status, 422);
    let page = res.html();
    let error = select_texts(&page, "#repeat_until-error").join(" ");
    assert!(error.contains("needs an end"), "{error}");
    // What was typed is kept.
    assert_eq!(res.attr("#f-repeat option[selected]", "value"), "daily");

    let res = browser
        .submit_event(&with(&[
            ("repeat", "daily"),
            ("repeat_until", "2028-12-31"),
        ]))
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text("#repeat_until-error").contains("at most 500"));

    let res = browser
        .submit_event(&with(&[
            ("repeat", "weekly"),
            ("repeat_weekdays", "we"),
            ("repeat_count", "4"),
        ]))
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text("#repeat_weekdays-error").contains("Tuesday"));
    assert_eq!(event_count(&app), 0, "nothing is half-written");
}

#[actix_rt::test]
async fn one_occurrence_moved_and_one_cancelled_reach_the_feed_as_overrides() {
    let app = spawn_app().await;
    let (browser, token) = trusted(&app).await;
    let body = json!({
        "city": "braga", "kind": "screening", "title": "First Friday cinema",
        "venue": "Theatro Circo", "start_date": "2026-12-04", "start_time": "20:00",
        "end_time": "22:00", "repeat": "monthly_by_weekday", "repeat_nth": 1,
        "repeat_count": 4,
    });
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let created: Value = serde_json::from_str(&res.body).unwrap();
    let id = created["event"]["id"].as_i64().unwrap();
    let sequence = created["event"]["sequence"].as_i64().unwrap();
    let dates = occurrence_dates(
        &serde_json::from_str(
            &app.get(&format!("/api/v1/events/{id}/occurrences"))
                .await
                .body,
        )
        .unwrap(),
    );
    assert_eq!(
        dates,
        ["2026-12-04", "2027-01-01", "2027-02-05", "2027-03-05"]
    );

    let cancel = json!({"status": "cancelled"});
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}/occurrences/2027-01-01"),
        &token,
        Some(&cancel),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains(r#""status":"cancelled""#));
    // Moved through the organiser's page, with its CSRF token.
    let page = format!("/events/{id}/occurrences/2027-02-05");
    let res = browser
        .submit(
            &page,
            &page,
            &[
                ("start_date", "2027-02-06"),
                ("start_time", "21:00"),
                ("title", "Silent film night"),
                ("status", "scheduled"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    // A move outside the series is refused next to the date, as typed.
    let res = browser
        .submit(&page, &page, &[("start_date", "2028-01-01")])
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text("#start_date-error").contains("within the series"));

    let feed = app.get(&format!("/events/{id}/calendar.ics")).await.body;
    assert_eq!(feed.matches("BEGIN:VEVENT").count(), 3, "{feed}");
    assert!(feed.contains("RECURRENCE-ID;TZID=Europe/Lisbon:20270101T200000\r\n"));
    assert!(feed.contains("RECURRENCE-ID;TZID=Europe/Lisbon:20270205T200000\r\n"));
    assert!(feed.contains("DTSTART;TZID=Europe/Lisbon:20270206T210000\r\n"));
    assert!(feed.contains("SUMMARY:Silent film night\r\n"));
    assert!(feed.contains("STATUS:CANCELLED\r\n"));
    let stored = app.stored_event(i32::try_from(id).unwrap());
    assert_eq!(i64::from(stored.sequence), sequence + 2);
    let seq = format!("SEQUENCE:{}\r\n", stored.sequence);
    assert_eq!(
        feed.matches(&seq).count(),
        3,
        "every VEVENT of the series carries its SEQUENCE"
    );

    // The cancelled date is listed as cancelled, and not open.
    let occ: Value = serde_json::from_str(
        &app.get(&format!("/api/v1/events/{id}/occurrences"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(occ["occurrences"][1]["status"], "cancelled");
    assert_eq!(occ["occurrences"][2]["start"], "2027-02-06T21:00");
    let open = app.get("/events?open=2027-01-01").await;
    assert!(!open.event_titles().iter().any(|t| t.contains("cinema")));

    // Someone else cannot touch it.
    app.organiser("bea@braga.example").await;
    let other = token_for(&app, "bea@braga.example");
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}/occurrences/2027-03-05"),
        &other,
        Some(&cancel),
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.body);
}

#[actix_rt::test]
async fn an_exhibition_with_opening_hours_is_open_on_its_days_only() {
    let app = spawn_app().await;
    let (_, token) = trusted(&app).await;
    let mut body = json!({
        "city": "braga", "kind": "exhibition", "title": "Four seasons",
        "venue": "Museu Nogueira da Silva", "all_day": true,
        "start_date": "2026-11-20", "end_date": "2027-03-20",
        "opening_hours": [
            {"weekday": "tu", "opens": "10:00", "closes": "18:00"},
            {"weekday": "th", "opens": "10:00", "closes": "21:00"},
            {"weekday": "sa", "opens": "10:00", "closes": "18:00"}
        ],
        "closed_dates": ["2026-12-24"],
    });
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let created: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(created["event"]["opening_hours"][1]["closes"], "21:00");
    let id = created["event"]["id"].as_i64().unwrap();

    let titles = |path: String| {
        let app = &app;
        async move { app.get(&path).await.event_titles() }
    };
    assert!(
        titles("/events?open=2026-12-01".into())
            .await
            .contains(&"Four seasons".to_owned())
    ); // a Tuesday
    assert!(
        !titles("/events?open=2026-11-30".into())
            .await
            .contains(&"Four seasons".to_owned())
    ); // a Monday
    assert!(
        !titles("/events?open=2026-12-24".into())
            .await
            .contains(&"Four seasons".to_owned())
    ); // closed
    assert!(
        !titles("/events?open=2027-03-24".into())
            .await
            .contains(&"Four seasons".to_owned())
    ); // over
    // Today (Saturday 28 November in Braga) it is open, and the listing says until when.
    let listing = app.get("/events?city=braga&open=today").await;
    assert!(listing.event_titles().contains(&"Four seasons".to_owned()));
    assert_eq!(listing.text(".event-open"), "Open today 10:00–18:00");

    let page = app.get(&format!("/events/{id}")).await;
    assert!(
        page.text("table.hours").contains("Thursday10:00–21:00"),
        "{}",
        page.text("table.hours")
    );
    let ld = page.json_ld();
    assert_eq!(
        ld["eventSchedule"][1]["byDay"],
        "https://schema.org/Thursday"
    );
    assert_eq!(ld["eventSchedule"][1]["endTime"], "21:00");

    let feed = app.get(&format!("/events/{id}/calendar.ics")).await.body;
    assert_eq!(feed.matches("BEGIN:VEVENT").count(), 1);
    assert!(!feed.contains("RRULE"));
    assert!(feed.replace("\r\n ", "").contains(
        "Open Tue 10:00–18:00\\; Thu 10:00–21:00\\; Sat 10:00–18:00\\; closed 24 Dec 2026."
    ));

    // Hostile or wrong hours: a 422 that names the field, and nothing changes.
    body["opening_hours"] = json!([{"weekday": "xx", "opens": "10:00", "closes": "18:00"}]);
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}"),
        &token,
        Some(&body),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("opening_hours"), "{}", res.body);
    body["opening_hours"] = json!([{"weekday": "mo", "opens": "18:00", "closes": "10:00"}]);
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}"),
        &token,
        Some(&body),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.body.contains("closing time must be after"),
        "{}",
        res.body
    );
    body["opening_hours"] = json!([{"weekday": "mo", "opens": "10:00", "closes": "18:00"}]);
    body["closed_dates"] = json!(["2027-06-01"]);
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}"),
        &token,
        Some(&body),
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("outside the event"), "{}", res.body);
    let again: Value =
        serde_json::from_str(&app.get(&format!("/api/v1/events/{id}")).await.body).unwrap();
    assert_eq!(again["event"]["opening_hours"].as_array().unwrap().len(), 3);
}

#[actix_rt::test]
async fn editing_a_series_keeps_its_form_its_overrides_and_raises_sequence() {
    let app = spawn_app().await;
    let (browser, token) = trusted(&app).await;
    let id = weekly_series(&browser).await;
    // The edit page shows the series as it was made.
    let edit = browser.get(&format!("/events/{id}/edit")).await;
    assert_eq!(edit.attr("#f-repeat option[selected]", "value"), "weekly");
    assert_eq!(edit.texts("#f-repeat_weekdays-tu[checked]").len(), 1);
    assert_eq!(edit.texts("#f-repeat_weekdays-th[checked]").len(), 1);
    assert!(edit.texts("#f-repeat_weekdays-we[checked]").is_empty());
    assert_eq!(edit.text("#f-skip_dates"), "2026-12-24");

    // One date retitled, then the rule extended by a week: the override stays.
    let patch = json!({"title": "Open studio: guest night"});
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}/occurrences/2026-12-10"),
        &token,
        Some(&patch),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let before = app.stored_event(id).sequence;
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}"),
        &token,
        Some(&json!({"repeat_until": "2027-02-07"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(app.stored_event(id).sequence, before + 1);
    let occ: Value = serde_json::from_str(
        &app.get(&format!("/api/v1/events/{id}/occurrences"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(occ["occurrences"].as_array().unwrap().len(), 19);
    assert_eq!(occ["occurrences"][3]["title"], "Open studio: guest night");

    // The same body again changes nothing; a new skipped date raises SEQUENCE.
    let same = app.stored_event(id).sequence;
    call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}"),
        &token,
        Some(&json!({"repeat_until": "2027-02-07"})),
    )
    .await;
    assert_eq!(app.stored_event(id).sequence, same);
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}"),
        &token,
        Some(&json!({"skip_dates": ["2026-12-24", "2026-12-31"]})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(app.stored_event(id).sequence, same + 1);
    // Turning the series into a single event leaves no occurrences behind.
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}"),
        &token,
        Some(&json!({"repeat": "none"})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let occ: Value = serde_json::from_str(
        &app.get(&format!("/api/v1/events/{id}/occurrences"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(occurrence_dates(&occ), ["2026-12-01"]);
    let feed = app.get(&format!("/events/{id}/calendar.ics")).await.body;
    assert!(!feed.contains("RRULE") && !feed.contains("RECURRENCE-ID"));
}

#[actix_rt::test]
async fn series_fields_of_the_wrong_shape_are_named_in_the_api() {
    let app = spawn_app().await;
    let (_, token) = trusted(&app).await;
    let body = json!({
        "city": "braga", "kind": "workshop", "title": "Series", "venue": "Theatro Circo",
        "start_date": "2026-12-01", "start_time": "18:00",
        "repeat": "fortnightly", "repeat_count": 3,
    });
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&body)).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains(r#""field":"repeat""#), "{}", res.body);
    let mut body = body;
    body["repeat"] = json!("weekly");
    body["repeat_weekdays"] = json!("tu");
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&body)).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("repeat_weekdays"), "{}", res.body);
    body["repeat_weekdays"] = json!(["tu"]);
    body["repeat_count"] = json!(100_000);
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&body)).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("repeat_count"), "{}", res.body);
    body["repeat_count"] = json!(3);
    body["skip_dates"] = json!(["2026-12-02"]);
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&body)).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.body
            .contains("2 December 2026 is not one of the series"),
        "{}",
        res.body
    );
    assert_eq!(event_count(&app), 0);
    // An occurrence that does not exist, or a date that is not one.
    body["skip_dates"] = json!([]);
    let res = call(&app, "POST", "/api/v1/events", &token, Some(&body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = serde_json::from_str::<Value>(&res.body).unwrap()["event"]["id"]
        .as_i64()
        .unwrap();
    for date in ["2026-12-02", "tomorrow", "2026-13-01"] {
        let res = call(
            &app,
            "PATCH",
            &format!("/api/v1/events/{id}/occurrences/{date}"),
            &token,
            Some(&json!({})),
        )
        .await;
        assert_eq!(res.status, 404, "{date}: {}", res.body);
    }
    let res = call(
        &app,
        "PATCH",
        &format!("/api/v1/events/{id}/occurrences/2026-12-08"),
        &token,
        Some(&json!({"status": "maybe", "colour": "red"})),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("colour"), "{}", res.body);
    let res = app
        .get(&format!(
            "/api/v1/events/{id}/occurrences?from=2026-12-10&to=2026-12-01"
        ))
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
}

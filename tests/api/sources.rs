//! Importing organisers' own calendars: the fixtures of `tests/fixtures/ics/` served
//! from 127.0.0.1, synced through the workflow, the pages and the command line.

use chrono::{NaiveDate, NaiveTime};
use creative_calendar::db::models::{
    Account, City, Event, ImportedEvent, OccurrenceStatus, Repetition, Source, SourceRun,
};
use creative_calendar::domain::{EventStatus, ModerationState};
use creative_calendar::import::ImportSettings;
use creative_calendar::workflows::Actor;
use creative_calendar::workflows::sources::{self, SourceForm, SyncOutcome};

use crate::fixture_server::{FixtureServer, Route, fixture};
use crate::helpers::*;

/// The app with the private-address switch on (the fixtures are on 127.0.0.1) and a
/// short timeout.
async fn import_app() -> TestApp {
    spawn_app_with(test_now(), |config| {
        config.import_allow_private_addresses = true;
        config.import_timeout = std::time::Duration::from_secs(3);
    })
    .await
}

fn settings(allow_private: bool) -> ImportSettings {
    let mut settings = ImportSettings::new("http://calendar.test", allow_private);
    settings.fetch.timeout = std::time::Duration::from_secs(3);
    settings
}

/// An organiser account (trusted or not) and its actor.
async fn organiser(app: &TestApp, email: &str, trusted: bool) -> Actor {
    app.organiser(email).await;
    app.set_trusted(email, trusted);
    let mut conn = app.pool.get().unwrap();
    let account = Account::find_by_email(&mut conn, email).unwrap();
    Actor::load(&mut conn, account.id).unwrap()
}

fn add_source(app: &TestApp, actor: &Actor, url: &str, city: &str) -> Source {
    let mut conn = app.pool.get().unwrap();
    sources::add(
        &mut conn,
        actor,
        &SourceForm {
            url: url.to_owned(),
            city: city.to_owned(),
            kind: "talk".to_owned(),
            ..SourceForm::default()
        },
        app.now,
    )
    .unwrap()
}

fn sync(app: &TestApp, id: i32) -> SourceRun {
    sync_with(app, id, &settings(true))
}

fn sync_with(app: &TestApp, id: i32, settings: &ImportSettings) -> SourceRun {
    let mut conn = app.pool.get().unwrap();
    match sources::sync(&mut conn, settings, id, app.now, true).unwrap() {
        SyncOutcome::Ran(run) => *run,
        other => panic!("the sync did not run: {other:?}"),
    }
}

/// The imported events of a source, by source UID.
fn imported(app: &TestApp, source: i32) -> Vec<(String, Event)> {
    let mut conn = app.pool.get().unwrap();
    let mut links: Vec<_> = ImportedEvent::of_source(&mut conn, source)
        .unwrap()
        .into_values()
        .collect();
    links.sort_by(|a, b| a.source_uid.cmp(&b.source_uid));
    links
        .into_iter()
        .map(|l| {
            let e = Event::find_with_city(&mut conn, l.event_id).unwrap().event;
            (l.source_uid, e)
        })
        .collect()
}

fn by_title<'a>(events: &'a [(String, Event)], prefix: &str) -> &'a Event {
    &events
        .iter()
        .find(|(_, e)| e.title.starts_with(prefix))
        .unwrap_or_else(|| {
            panic!(
                "no event “{prefix}…” among {:?}",
                events.iter().map(|(_, e)| &e.title).collect::<Vec<_>>()
            )
        })
        .1
}

/// The id in a `Location: /my/sources/{id}?…` header.
fn source_id_from(response: &Response) -> String {
    let location = response.header("location").expect("a Location header");
    location
        .trim_start_matches("/my/sources/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

fn time(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").unwrap()
}

fn notes(app: &TestApp, run: &SourceRun) -> Vec<(String, Option<String>, String)> {
    let mut conn = app.pool.get().unwrap();
    SourceRun::notes(&mut conn, run.id)
        .unwrap()
        .into_iter()
        .map(|n| (n.level, n.uid, n.reason))
        .collect()
}

#[actix_rt::test]
async fn a_google_calendar_is_imported_in_the_city_s_local_times_with_its_series() {
    let app = import_app().await;
    let server = FixtureServer::start();
    server.feed("/google.ics", fixture("google.ics"));
    let actor = organiser(&app, "office@krakow.test", false).await;
    let source = add_source(&app, &actor, &server.url("/google.ics"), "krakow");

    let run = sync(&app, source.id);
    assert_eq!(run.outcome, "imported", "{:?}", run.message);
    assert_eq!(
        (run.created, run.updated, run.skipped),
        (7, 0, 0),
        "{}",
        run.counts()
    );
    let events = imported(&app, source.id);
    assert_eq!(events.len(), 7);

    let evening = by_title(&events, "Wieczór poetycki");
    assert_eq!(evening.start_date, date("2027-01-21"));
    assert_eq!(evening.start_time, Some(time("18:00")));
    assert_eq!(evening.end_time, Some(time("20:00")));
    assert_eq!(evening.timezone.name(), "Europe/Warsaw");
    // Organisers who are not trusted have their imports reviewed, like submissions.
    assert_eq!(evening.moderation, ModerationState::Pending);
    assert!(
        !evening.description.contains("<br>"),
        "{}",
        evening.description
    );

    // Written in UTC (16:00Z): 18:00 in Kraków.
    let night = by_title(&events, "Noc Księgarń");
    assert_eq!(night.start_time, Some(time("18:00")));

    let book_day = by_title(&events, "Światowy Dzień Książki");
    assert!(book_day.all_day);
    assert_eq!(
        (book_day.start_date, book_day.end_date),
        (date("2027-04-23"), date("2027-04-23"))
    );

    let cancelled = by_title(&events, "Spotkanie z tłumaczami");
    assert_eq!(cancelled.status, EventStatus::Cancelled);

    // The weekly series: 02-18 skipped, 03-04 moved to 20:30 and retitled.
    let series = by_title(&events, "Czwartki z poezją");
    let mut conn = app.pool.get().unwrap();
    let repetition = Repetition::load(&mut conn, series.id).unwrap();
    let dates: Vec<NaiveDate> = repetition
        .occurrences
        .iter()
        .filter(|o| o.status() == OccurrenceStatus::Scheduled)
        .map(|o| o.occurrence_date)
        .collect();
    let want: Vec<NaiveDate> = [
        "2027-02-04",
        "2027-02-11",
        "2027-02-25",
        "2027-03-04",
        "2027-03-11",
        "2027-03-18",
        "2027-03-25",
        "2027-04-01",
    ]
    .iter()
    .map(|d| date(d))
    .collect();
    assert_eq!(dates, want);
    let skipped = repetition.occurrence(date("2027-02-18")).unwrap();
    assert_eq!(skipped.status(), OccurrenceStatus::Skipped);
    let moved = repetition.occurrence(date("2027-03-04")).unwrap();
    assert!(moved.overridden);
    assert_eq!(moved.start_time, Some(time("20:30")));
    assert!(
        moved.title.as_deref().is_some_and(|t| t.contains("haiku")),
        "{:?}",
        moved.title
    );
    // After the clocks change, still 19:00 local.
    let april = repetition.occurrence(date("2027-04-01")).unwrap();
    assert_eq!(april.start_time, Some(time("19:00")));
}

#[actix_rt::test]
async fn an_unchanged_feed_answers_304_and_changes_nothing() {
    let app = import_app().await;
    let server = FixtureServer::start();
    server.feed("/google.ics", fixture("google.ics"));
    let actor = organiser(&app, "office@krakow.test", true).await;
    let source = add_source(&app, &actor, &server.url("/google.ics"), "krakow");
    sync(&app, source.id);
    let before = imported(&app, source.id);

    let run = sync(&app, source.id);
    assert_eq!(run.outcome, "not_modified");
    assert_eq!(run.http_status, Some(304));
    assert_eq!(server.hits("/google.ics"), (2, 1));
    assert_eq!(
        format!("{:?}", imported(&app, source.id)),
        format!("{before:?}")
    );

    // A server without validators: the same body is recognised and nothing is written.
    server.set("/google.ics", Route::Plain(fixture("google.ics")));
    let run = sync(&app, source.id);
    assert_eq!(run.outcome, "unchanged");
    assert_eq!(
        format!("{:?}", imported(&app, source.id)),
        format!("{before:?}")
    );

    // A body that differs only in DTSTAMP (Google renews it on every request).
    let renewed = String::from_utf8(fixture("google.ics"))
        .unwrap()
        .replace("DTSTAMP:2026", "DTSTAMP:2025");
    server.set("/google.ics", Route::Plain(renewed.into_bytes()));
    let run = sync(&app, source.id);
    assert_eq!(run.outcome, "unchanged", "{}", run.counts());
    assert_eq!(
        format!("{:?}", imported(&app, source.id)),
        format!("{before:?}")
    );
}

#[actix_rt::test]
async fn a_moved_event_bumps_sequence_and_the_city_feed_and_a_removed_one_is_cancelled() {
    let app = import_app().await;
    let server = FixtureServer::start();
    let google = String::from_utf8(fixture("google.ics")).unwrap();
    server.feed("/google.ics", google.clone());
    let actor = organiser(&app, "office@krakow.test", true).await;
    let source = add_source(&app, &actor, &server.url("/google.ics"), "krakow");
    sync(&app, source.id);
    let feed = app.get("/cities/krakow/calendar.ics").await;
    let etag = feed.header("etag").unwrap();
    let before = imported(&app, source.id);
    let evening = by_title(&before, "Wieczór poetycki").clone();
    assert_eq!(evening.moderation, ModerationState::Published);

    // Moved a day later; the walk of 05-20 is gone from the feed.
    let moved = google
        .replace("20270121T180000", "20270122T180000")
        .replace("20270121T200000", "20270122T200000");
    let walk_uid = "5t4r3e2w1q0p9o8i7u6y5t4r3e@google.com";
    let start = moved.find(&format!("UID:{walk_uid}")).unwrap();
    let begin = moved[..start].rfind("BEGIN:VEVENT").unwrap();
    let end = start + moved[start..].find("END:VEVENT\r\n").unwrap() + "END:VEVENT\r\n".len();
    let without_walk = format!("{}{}", &moved[..begin], &moved[end..]);
    server.feed("/google.ics", without_walk);

    let run = sync(&app, source.id);
    assert_eq!(
        (run.created, run.updated, run.cancelled, run.unchanged),
        (0, 1, 1, 5),
        "{}",
        run.counts()
    );
    let after = imported(&app, source.id);
    let evening_now = by_title(&after, "Wieczór poetycki");
    assert_eq!(evening_now.start_date, date("2027-01-22"));
    assert_eq!(evening_now.sequence, evening.sequence + 1);
    let walk = by_title(&after, "Spacer literacki");
    assert_eq!(walk.status, EventStatus::Cancelled);
    // The others are untouched, down to their last-modified time.
    let book_day = by_title(&after, "Światowy Dzień Książki");
    assert_eq!(
        format!("{book_day:?}"),
        format!("{:?}", by_title(&before, "Światowy Dzień Książki"))
    );

    let feed = app.get("/cities/krakow/calendar.ics").await;
    assert_ne!(feed.header("etag").unwrap(), etag);
    let events = feed_events(&feed.body);
    let walk_in_feed = events
        .iter()
        .find(|e| {
            use icalendar::Component;
            e.get_summary()
                .is_some_and(|s| s.contains("Spacer literacki"))
        })
        .expect("the cancelled walk stays in the feed");
    assert_eq!(
        icalendar::Component::property_value(walk_in_feed, "STATUS"),
        Some("CANCELLED")
    );
}

#[actix_rt::test]
async fn outlook_s_windows_zones_and_every_exporter_s_shape_are_read() {
    let app = import_app().await;
    let server = FixtureServer::start();
    let actor = organiser(&app, "office@everywhere.test", true).await;
    // (fixture, city, events it gives)
    let cases = [
        ("outlook.ics", "berlin", 6),
        ("the-events-calendar.ics", "lyon", 4),
        ("eventbrite.ics", "edinburgh", 2),
        ("meetup.ics", "karlsruhe", 3),
        ("gancio.ics", "bologna", 2),
        ("mobilizon.ics", "lyon", 2),
    ];
    let mut ids = Vec::new();
    for (name, city, count) in cases {
        let path = format!("/{name}");
        server.feed(&path, fixture(name));
        let source = add_source(&app, &actor, &server.url(&path), city);
        if name == "the-events-calendar.ics" {
            // The organiser's own words for kinds.
            let mut conn = app.pool.get().unwrap();
            use creative_calendar::db::schema::sources;
            use diesel::prelude::*;
            diesel::update(sources::table.find(source.id))
                .set(sources::category_map.eq("Exposition = exhibition\nAtelier = workshop"))
                .execute(&mut conn)
                .unwrap();
        }
        let run = sync(&app, source.id);
        assert_eq!(run.outcome, "imported", "{name}: {:?}", run.message);
        assert_eq!(
            (run.created, run.skipped),
            (count, 0),
            "{name}: {} {:?}",
            run.counts(),
            notes(&app, &run)
        );
        ids.push((name, source.id));
    }
    let events = |name: &str| imported(&app, ids.iter().find(|(n, _)| *n == name).unwrap().1);

    let outlook = events("outlook.ics");
    let london = by_title(&outlook, "Livestream aus London");
    assert_eq!(london.start_time, Some(time("19:00")));
    assert_eq!(london.end_time, Some(time("20:30")));
    let open_day = by_title(&outlook, "Tag der offenen Designstudios");
    assert!(open_day.all_day);
    let monthly = by_title(&outlook, "Design-Stammtisch");
    let mut conn = app.pool.get().unwrap();
    let dates: Vec<NaiveDate> = Repetition::load(&mut conn, monthly.id)
        .unwrap()
        .occurrences
        .iter()
        .map(|o| o.occurrence_date)
        .collect();
    assert_eq!(
        dates,
        ["2027-02-03", "2027-03-03", "2027-04-07", "2027-05-05"]
            .map(date)
            .to_vec()
    );
    let quoted = by_title(&outlook, "Designgespräch");
    assert_eq!(quoted.start_time, Some(time("18:30")));

    let tec = events("the-events-calendar.ics");
    let exhibition = by_title(&tec, "Exposition");
    assert!(exhibition.all_day);
    assert_eq!(
        (exhibition.start_date, exhibition.end_date),
        (date("2027-03-01"), date("2027-03-15"))
    );
    assert_eq!(exhibition.venue_name, "Musée des Beaux-Arts");
    assert_eq!(exhibition.latitude, Some(45.767));
    assert_eq!(exhibition.kind.slug(), "exhibition");

    let eventbrite = events("eventbrite.ics");
    let zines = by_title(&eventbrite, "Zine-making");
    assert_eq!(zines.start_time, Some(time("10:00")));
    assert_eq!(zines.end_time, Some(time("16:00")));

    let meetup = events("meetup.ics");
    let duration = by_title(&meetup, "Medienkunst-Stammtisch");
    assert_eq!(duration.start_time, Some(time("18:30")));
    assert_eq!(duration.end_time, Some(time("20:30")));

    let gancio = events("gancio.ics");
    assert_eq!(
        by_title(&gancio, "Jam session").start_time,
        Some(time("19:00"))
    );
    let mobilizon = events("mobilizon.ics");
    let club = by_title(&mobilizon, "Club de lecture");
    assert_eq!(club.start_time, Some(time("15:00")));
    assert!(!club.description.contains("<p>"), "{}", club.description);
}

#[actix_rt::test]
async fn a_feed_full_of_traps_imports_what_it_safely_can_and_says_why_it_skipped_the_rest() {
    let app = import_app().await;
    let server = FixtureServer::start();
    server.feed("/traps.ics", fixture("traps.ics"));
    let actor = organiser(&app, "office@krakow.test", true).await;
    let source = add_source(&app, &actor, &server.url("/traps.ics"), "krakow");
    let run = sync(&app, source.id);
    assert_eq!(run.outcome, "imported", "{:?}", run.message);
    let notes = notes(&app, &run);
    let skipped: Vec<(Option<String>, String)> = notes
        .iter()
        .filter(|(level, _, _)| level == "skipped")
        .map(|(_, uid, reason)| (uid.clone(), reason.clone()))
        .collect();
    let reason_of = |uid: Option<&str>| {
        skipped
            .iter()
            .find(|(u, _)| u.as_deref() == uid)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{uid:?} was not skipped: {skipped:?}"))
    };
    assert!(reason_of(Some("trap-end-before-start@example.org")).contains("before the start"));
    assert_eq!(
        reason_of(Some("trap-endless-rule@example.org")),
        "RRULE with no end"
    );
    assert_eq!(
        reason_of(Some("trap-old@example.org")),
        "DTSTART before 2000"
    );
    assert_eq!(reason_of(Some("trap-no-summary@example.org")), "no SUMMARY");
    assert_eq!(reason_of(None), "no UID");
    // A 50,000-character title is refused, never stored whole.
    assert!(reason_of(Some("trap-huge-summary@example.org")).starts_with("SUMMARY"));
    assert_eq!((run.created, run.skipped), (14, 6), "{}", run.counts());

    let events = imported(&app, source.id);
    assert!(events.iter().all(|(_, e)| e.title.chars().count() <= 200));
    let fold = by_title(&events, "Warsztaty przekładu literackiego");
    assert_eq!(
        fold.title,
        "Warsztaty przekładu literackiego w Krakowie: żółć, gęśl, jaźń i źdźbło — edycja zimowa"
    );
    let latin = by_title(&events, "Wiecz");
    assert_eq!(latin.title, "Wieczór francuski: Soirée café-théâtre");
    assert_eq!(
        by_title(&events, "Czas bez strefy").start_time,
        Some(time("18:00"))
    );
    let midnight = by_title(&events, "Całodniowy maraton");
    assert!(midnight.all_day);
    assert_eq!(midnight.end_date, date("2027-04-20"));
    let day = by_title(&events, "Dzień otwarty");
    assert!(day.all_day);
    assert_eq!(day.end_date, date("2027-05-08"));
    let orphan = by_title(&events, "Przeniesione spotkanie");
    assert_eq!(orphan.start_time, Some(time("19:30")));
    let html = by_title(&events, "Poezja & muzyka");
    for bad in ["<script", "alert", "evil.example", "onclick"] {
        assert!(!html.description.contains(bad), "{}", html.description);
    }
    assert!(html.description.contains("Łódź"), "{}", html.description);
    assert!(
        notes.iter().any(|(level, _, _)| level == "warning"),
        "the broken lines are reported: {notes:?}"
    );
}

#[actix_rt::test]
async fn a_broken_or_truncated_feed_changes_nothing_and_says_why() {
    let app = import_app().await;
    let server = FixtureServer::start();
    server.feed("/feed.ics", fixture("google.ics"));
    let actor = organiser(&app, "office@krakow.test", true).await;
    let source = add_source(&app, &actor, &server.url("/feed.ics"), "krakow");
    sync(&app, source.id);
    let before = imported(&app, source.id);

    for (name, reason) in [
        ("truncated.ics", "cut short"),
        ("not-a-calendar.ics", "not an iCalendar file"),
    ] {
        server.feed("/feed.ics", fixture(name));
        let run = sync(&app, source.id);
        assert_eq!(run.outcome, "failed", "{name}");
        let message = run.message.unwrap_or_default().to_lowercase();
        assert!(
            message.contains(&reason.to_lowercase()),
            "{name}: {message}"
        );
        assert!(message.contains("nothing was changed"), "{name}: {message}");
        assert_eq!(
            format!("{:?}", imported(&app, source.id)),
            format!("{before:?}"),
            "{name}"
        );
    }
    // An empty calendar, and an error answer, cancel nothing either.
    server.feed(
        "/feed.ics",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nEND:VCALENDAR\r\n",
    );
    let run = sync(&app, source.id);
    assert_eq!(run.outcome, "failed");
    assert!(
        run.message
            .as_deref()
            .unwrap_or("")
            .contains("no events at all, where 7 came from it before"),
        "{:?}",
        run.message
    );
    assert_eq!(
        format!("{:?}", imported(&app, source.id)),
        format!("{before:?}")
    );
    server.set("/feed.ics", Route::Status(500));
    let run = sync(&app, source.id);
    assert_eq!(
        (run.outcome.as_str(), run.http_status),
        ("failed", Some(500))
    );
    assert_eq!(
        format!("{:?}", imported(&app, source.id)),
        format!("{before:?}")
    );
    let mut conn = app.pool.get().unwrap();
    let failing = Source::find(&mut conn, source.id).unwrap();
    assert_eq!(failing.failures, 4);
    // Backing off: not due again for a while, at most a day.
    assert!(failing.next_fetch_at > app.now.naive_utc());
    assert!(failing.next_fetch_at <= (app.now + chrono::TimeDelta::days(1)).naive_utc());
    assert_eq!(sources::backoff(1), chrono::TimeDelta::minutes(15));
    assert_eq!(sources::backoff(40), chrono::TimeDelta::days(1));
}

#[actix_rt::test]
async fn the_size_redirect_and_time_limits_hold() {
    let app = import_app().await;
    let server = FixtureServer::start();
    let actor = organiser(&app, "office@krakow.test", true).await;

    server.set("/huge.ics", Route::Huge(21 * 1024 * 1024));
    let huge = add_source(&app, &actor, &server.url("/huge.ics"), "krakow");
    let run = sync(&app, huge.id);
    assert_eq!(run.outcome, "failed");
    assert!(
        run.message.as_deref().unwrap_or("").contains("20 MB"),
        "{:?}",
        run.message
    );

    // Five redirects are followed; a sixth is refused.
    server.feed("/end.ics", fixture("gancio.ics"));
    for n in 1..=6 {
        let to = if n == 1 {
            "/end.ics".to_owned()
        } else {
            format!("/hop{}", n - 1)
        };
        server.set(&format!("/hop{n}"), Route::Redirect(to));
    }
    let five = add_source(&app, &actor, &server.url("/hop5"), "bologna");
    assert_eq!(sync(&app, five.id).outcome, "imported");
    let six = add_source(&app, &actor, &server.url("/hop6"), "bologna");
    let run = sync(&app, six.id);
    assert_eq!(run.outcome, "failed");
    assert!(
        run.message.as_deref().unwrap_or("").contains("redirect"),
        "{:?}",
        run.message
    );

    server.set("/slow.ics", Route::Slow(std::time::Duration::from_secs(6)));
    let slow = add_source(&app, &actor, &server.url("/slow.ics"), "krakow");
    let started = std::time::Instant::now();
    let run = sync(&app, slow.id);
    assert_eq!(run.outcome, "failed");
    assert!(
        run.message
            .as_deref()
            .unwrap_or("")
            .contains("within 3 seconds"),
        "{:?}",
        run.message
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(6));
}

#[actix_rt::test]
async fn private_addresses_are_refused_unless_the_operator_allows_them() {
    let app = import_app().await;
    let server = FixtureServer::start();
    server.feed("/google.ics", fixture("google.ics"));
    server.set(
        "/to-ten",
        Route::Redirect("http://10.0.0.1/feed.ics".to_owned()),
    );
    let actor = organiser(&app, "office@krakow.test", true).await;
    let strict = settings(false);
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    for url in [
        server.url("/google.ics"),
        format!("http://localhost:{port}/google.ics"),
        "http://10.0.0.1/feed.ics".to_owned(),
        "http://[::1]/feed.ics".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
    ] {
        let source = add_source(&app, &actor, &url, "krakow");
        let run = sync_with(&app, source.id, &strict);
        assert_eq!(run.outcome, "failed", "{url}");
        let message = run.message.unwrap_or_default();
        assert!(
            message.contains("private")
                || message.contains("loopback")
                || message.contains("link-local"),
            "{url}: {message}"
        );
    }
    // Nothing reached the fixture server.
    assert_eq!(server.hits("/google.ics"), (0, 0));
    // With the switch on, the redirect to 10.0.0.1 is followed and fails as a network
    // error, not as a refusal; the refusal itself is checked hop by hop in fetch's own
    // tests.
    assert_eq!(event_count(&app), 0);
}

#[actix_rt::test]
async fn two_syncs_of_one_source_at_once_create_no_duplicates() {
    let app = import_app().await;
    let server = FixtureServer::start();
    server.feed("/google.ics", fixture("google.ics"));
    let actor = organiser(&app, "office@krakow.test", true).await;
    let source = add_source(&app, &actor, &server.url("/google.ics"), "krakow");
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let pool = app.pool.clone();
            let now = app.now;
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                sources::sync(&mut conn, &settings(true), source.id, now, true).unwrap()
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // Whether the second waited for the first or found it busy, one set of events.
    assert_eq!(imported(&app, source.id).len(), 7);
    assert_eq!(event_count(&app), 7);
    sync(&app, source.id);
    assert_eq!(event_count(&app), 7);
}

#[actix_rt::test]
async fn the_source_pages_add_show_pause_and_delete() {
    let app = import_app().await;
    let server = FixtureServer::start();
    server.feed("/google.ics", fixture("google.ics"));
    let browser = app.organiser("office@krakow.test").await;
    app.set_trusted("office@krakow.test", true);

    let page = browser.get("/my/sources").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Add a calendar feed"));

    // A wrong address is shown beside its field, with what was typed kept.
    let response = browser
        .submit(
            "/my/sources",
            "/my/sources",
            &[("url", "ftp://example.org/x.ics"), ("city", "krakow")],
        )
        .await;
    assert_eq!(response.status, 422);
    assert!(!response.text("#url-error").is_empty());
    assert_eq!(response.attr("#f-url", "value"), "ftp://example.org/x.ics");

    let url = server.url("/google.ics");
    let response = browser
        .submit(
            "/my/sources",
            "/my/sources",
            &[("url", url.as_str()), ("city", "krakow"), ("kind", "talk")],
        )
        .await;
    assert_eq!(response.status, 303, "{}", response.body);
    let location = response.header("location").unwrap();
    let page = browser.get(&location).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("7 created, 0 updated, 0 unchanged, 0 cancelled, 0 removed, 0 skipped"),
        "{}",
        page.body
    );
    assert!(page.body.contains("HTTP 200"));
    assert_eq!(event_count(&app), 7);
    let id = source_id_from(&response);

    // Somebody else's source does not exist for them.
    let other = app.organiser("someone@else.test").await;
    assert_eq!(other.get(&format!("/my/sources/{id}")).await.status, 404);
    let token = other.csrf_token("/my/sources").await;
    let response = other
        .post(
            &format!("/my/sources/{id}/sync"),
            &[("csrf_token", token.as_str())],
        )
        .await;
    assert_eq!(response.status, 404);

    // Without a token, nothing happens.
    let response = browser.post(&format!("/my/sources/{id}/pause"), &[]).await;
    assert_eq!(response.status, 403);

    let show = format!("/my/sources/{id}");
    let response = browser
        .submit(&show, &format!("/my/sources/{id}/sync"), &[])
        .await;
    assert_eq!(response.status, 303);
    let page = browser.get(&show).await;
    assert!(page.body.contains("Not modified"), "{}", page.body);

    let response = browser
        .submit(&show, &format!("/my/sources/{id}/pause"), &[])
        .await;
    assert_eq!(response.status, 303);
    let page = browser.get(&show).await;
    assert!(page.body.contains("Paused"));

    let response = browser
        .submit(
            &format!("/my/sources/{id}/delete"),
            &format!("/my/sources/{id}/delete"),
            &[("events", "cancel")],
        )
        .await;
    assert_eq!(response.status, 303);
    let page = browser
        .get(response.header("location").unwrap().as_str())
        .await;
    assert!(
        page.body.contains("6 of its events cancelled"),
        "{}",
        page.body
    );
    let mut conn = app.pool.get().unwrap();
    let city = City::find_by_slug(&mut conn, "krakow").unwrap();
    // Six cancelled now, and the seventh was cancelled in the feed already: all kept.
    assert_eq!(Event::count(&mut conn).unwrap(), 7);
    assert!(
        imported(&app, id.parse().unwrap()).is_empty(),
        "the links go with the source"
    );
    let _ = city;
}

#[actix_rt::test]
async fn an_uploaded_file_is_imported_once() {
    let app = import_app().await;
    let browser = app.organiser("office@berlin.test").await;
    let token = browser.csrf_token("/my/sources/upload").await;
    let boundary = "----creative-calendar-test";
    let mut body = Vec::new();
    for (name, value) in [
        ("csrf_token", token.as_str()),
        ("city", "berlin"),
        ("kind", "talk"),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"outlook.ics\"\r\nContent-Type: text/calendar\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(&fixture("outlook.ics"));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = browser
        .post_multipart("/my/sources/upload", boundary, body)
        .await;
    assert_eq!(response.status, 303, "{}", response.body);
    assert_eq!(event_count(&app), 6);
    let page = browser.get(&response.header("location").unwrap()).await;
    assert!(page.body.contains("6 created"), "{}", page.body);
    assert!(page.body.contains("outlook.ics"));
}

#[actix_rt::test]
async fn sources_sync_on_the_command_line_prints_a_line_per_source() {
    let app = import_app().await;
    let server = FixtureServer::start();
    server.feed("/google.ics", fixture("google.ics"));
    organiser(&app, "office@krakow.test", true).await;
    let database = app.database_path();

    let output = binary()
        .args(["sources", "add", "--database", &database, "--url"])
        .arg(server.url("/google.ics"))
        .args([
            "--city",
            "krakow",
            "--email",
            "office@krakow.test",
            "--kind",
            "talk",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let id = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(id.parse::<i32>().is_ok(), "{id}");

    let output = binary()
        .args(["sources", "sync", "--database", &database])
        .env("CREATIVE_CALENDAR_IMPORT_ALLOW_PRIVATE_ADDRESSES", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("source {id} ("))
            && stdout
                .contains("7 created, 0 updated, 0 unchanged, 0 cancelled, 0 removed, 0 skipped"),
        "{stdout}"
    );
    // Not due again: nothing to do.
    let output = binary()
        .args(["sources", "sync", "--database", &database])
        .env("CREATIVE_CALENDAR_IMPORT_ALLOW_PRIVATE_ADDRESSES", "1")
        .output()
        .unwrap();
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("no source is due")
    );
    // Now, due or not: a 304.
    let output = binary()
        .args(["sources", "sync", "--database", &database, "--id", &id])
        .env("CREATIVE_CALENDAR_IMPORT_ALLOW_PRIVATE_ADDRESSES", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("not modified (HTTP 304)"), "{stdout}");
    // The switch off: refused.
    let output = binary()
        .args(["sources", "sync", "--database", &database, "--id", &id])
        .env_remove("CREATIVE_CALENDAR_IMPORT_ALLOW_PRIVATE_ADDRESSES")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("failed:") && stdout.contains("loopback"),
        "{stdout}"
    );
}

#[actix_rt::test]
async fn our_own_feed_imported_into_a_fresh_installation_gives_the_same_events() {
    // The first installation: an organiser's programme, with a series, an override, a
    // cancelled event and an all-day one.
    let first = import_app().await;
    let organiser_a = first.organiser("office@krakow.test").await;
    first.set_trusted("office@krakow.test", true);
    let single = organiser_a
        .create_event(&[
            ("city", "krakow"),
            ("kind", "talk"),
            ("title", "Reading at the Potocki Palace"),
            ("start_date", "2027-03-10"),
            ("start_time", "18:30"),
            ("end_time", "20:00"),
        ])
        .await;
    let response = organiser_a
        .submit_event(&[
            ("city", "krakow"),
            ("kind", "workshop"),
            ("title", "Translation workshop"),
            ("venue", "Villa Decius"),
            ("start_date", "2027-02-02"),
            ("start_time", "10:00"),
            ("end_time", "12:00"),
            ("repeat", "weekly"),
            ("repeat_weekdays", "tu"),
            ("repeat_count", "6"),
            ("skip_dates", "2027-02-16"),
        ])
        .await;
    assert_eq!(response.status, 303, "{}", response.body);
    let series = event_id_from(&response);
    let response = organiser_a
        .submit(
            &format!("/events/{series}/occurrences/2027-02-23"),
            &format!("/events/{series}/occurrences/2027-02-23"),
            &[
                ("start_time", "14:00"),
                ("end_time", "16:00"),
                ("title", "Translation workshop: poetry"),
            ],
        )
        .await;
    assert_eq!(response.status, 303, "{}", response.body);
    let fair = organiser_a
        .create_event(&[
            ("city", "krakow"),
            ("kind", "market"),
            ("title", "Book fair"),
            ("all_day", "on"),
            ("start_date", "2027-04-23"),
            ("end_date", "2027-04-25"),
            ("start_time", ""),
            ("end_time", ""),
        ])
        .await;
    let cancelled = organiser_a
        .create_event(&[
            ("city", "krakow"),
            ("title", "Cancelled evening"),
            ("start_date", "2027-05-05"),
        ])
        .await;
    let response = organiser_a
        .submit(
            &format!("/events/{cancelled}/cancel"),
            &format!("/events/{cancelled}/cancel"),
            &[("note", "The author is ill.")],
        )
        .await;
    assert_eq!(response.status, 303, "{}", response.body);

    // The second installation subscribes to the first one's feed.
    let second = import_app().await;
    let actor = organiser(&second, "office@krakow.test", true).await;
    let source = add_source(
        &second,
        &actor,
        &format!("{}/calendar.ics", first.address),
        "krakow",
    );
    let run = sync(&second, source.id);
    assert_eq!(run.outcome, "imported", "{:?}", run.message);
    assert_eq!(
        (run.created, run.skipped),
        (4, 0),
        "{} {:?}",
        run.counts(),
        notes(&second, &run)
    );

    let copies = imported(&second, source.id);
    for id in [single, series, fair, cancelled] {
        let original = first.stored_event(id);
        let copy = by_title(&copies, &original.title);
        assert_eq!(copy.title, original.title);
        assert_eq!(
            (
                copy.start_date,
                copy.start_time,
                copy.end_date,
                copy.end_time,
                copy.all_day
            ),
            (
                original.start_date,
                original.start_time,
                original.end_date,
                original.end_time,
                original.all_day
            ),
            "{}",
            original.title
        );
        assert_eq!(copy.status, original.status, "{}", original.title);
        assert_eq!(copy.kind, original.kind, "{}", original.title);
    }
    let mut a = first.pool.get().unwrap();
    let mut b = second.pool.get().unwrap();
    let copy = by_title(&copies, "Translation workshop");
    let before = Repetition::load(&mut a, series).unwrap();
    let after = Repetition::load(&mut b, copy.id).unwrap();
    let shape = |r: &Repetition| {
        r.occurrences
            .iter()
            .map(|o| {
                (
                    o.occurrence_date,
                    o.status(),
                    o.start_time,
                    o.end_time,
                    o.title.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&after), shape(&before));
}

#[actix_rt::test]
async fn an_approved_import_changed_by_its_feed_follows_the_rules_of_an_edit() {
    use creative_calendar::db::schema::event_reviews;
    use creative_calendar::workflows::moderation::{Decision, decide};
    use diesel::prelude::*;
    let app = import_app().await;
    let server = FixtureServer::start();
    let google = String::from_utf8(fixture("google.ics")).unwrap();
    server.feed("/google.ics", google.clone());
    let actor = organiser(&app, "office@krakow.test", false).await;
    let source = add_source(&app, &actor, &server.url("/google.ics"), "krakow");
    sync(&app, source.id);
    let evening = by_title(&imported(&app, source.id), "Wieczór poetycki").clone();
    assert_eq!(evening.moderation, ModerationState::Pending);
    let moderator = app.moderator("mod@krakow.test", Some("krakow")).await;
    drop(moderator);
    let mut conn = app.pool.get().unwrap();
    let id = Account::find_by_email(&mut conn, "mod@krakow.test")
        .unwrap()
        .id;
    let moderator = Actor::load(&mut conn, id).unwrap();
    decide(
        &mut conn,
        &moderator,
        evening.id,
        Decision::Approve,
        "",
        app.now,
    )
    .unwrap();

    server.feed(
        "/google.ics",
        google.replace(
            "Wieczór poetycki w Pałacu pod Baranami",
            "Wieczór poetycki: nowy gość",
        ),
    );
    let run = sync(&app, source.id);
    assert_eq!(run.updated, 1, "{}", run.counts());
    let changed = app.stored_event(evening.id);
    // Still public, and waiting for a moderator's look, as an untrusted edit does.
    assert_eq!(changed.moderation, ModerationState::Published);
    assert_eq!(changed.title, "Wieczór poetycki: nowy gość");
    let reviews: i64 = event_reviews::table
        .filter(event_reviews::event_id.eq(evening.id))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(reviews, 1);
}

#[actix_rt::test]
async fn serve_syncs_due_sources_by_itself() {
    let app = spawn_app_with(test_now(), |config| {
        config.import_allow_private_addresses = true;
        config.import_tick = Some(std::time::Duration::from_millis(100));
    })
    .await;
    let server = FixtureServer::start();
    server.feed("/gancio.ics", fixture("gancio.ics"));
    let actor = organiser(&app, "office@bologna.test", true).await;
    let source = add_source(&app, &actor, &server.url("/gancio.ics"), "bologna");
    let mut waited = 0;
    while imported(&app, source.id).len() < 2 && waited < 100 {
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(imported(&app, source.id).len(), 2);
    // Synced once, then not due for six hours: no second fetch.
    actix_rt::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(server.hits("/gancio.ics").0, 1);
    let mut conn = app.pool.get().unwrap();
    let synced = Source::find(&mut conn, source.id).unwrap();
    assert_eq!(
        synced.next_fetch_at,
        (app.now + chrono::TimeDelta::hours(6)).naive_utc()
    );
    assert!(synced.lease_until.is_none());
}

#[actix_rt::test]
async fn an_event_from_a_feed_in_another_zone_shows_both_times() {
    let app = import_app().await;
    let server = FixtureServer::start();
    server.feed("/outlook.ics", fixture("outlook.ics"));
    let actor = organiser(&app, "office@berlin.test", true).await;
    let source = add_source(&app, &actor, &server.url("/outlook.ics"), "berlin");
    sync(&app, source.id);
    let events = imported(&app, source.id);
    let london = by_title(&events, "Livestream aus London");
    let page = app.get(&format!("/events/{}", london.id)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("19:00"), "{}", page.body);
    assert!(
        page.body
            .contains("In the organiser’s calendar: Thu 25 Mar 2027, 18:00–19:30 Europe/London"),
        "{}",
        page.body
    );
    // An event in the city's own zone says nothing more.
    let page = app
        .get(&format!(
            "/events/{}",
            by_title(&events, "Designgespräch").id
        ))
        .await;
    assert!(!page.body.contains("In the organiser’s calendar"));
}

#[actix_rt::test]
async fn a_hostile_source_form_gets_its_errors_beside_the_fields_and_stores_nothing() {
    let app = import_app().await;
    let browser = app.organiser("office@krakow.test").await;
    let long = format!("https://example.org/{}", "a".repeat(3_000));
    let cases: [&[(&str, &str)]; 4] = [
        &[("url", long.as_str()), ("city", "krakow")],
        &[("url", "javascript:alert(1)"), ("city", "krak\u{0}ow")],
        &[
            ("url", "https://example.org/a.ics"),
            ("city", "krakow"),
            ("category_map", "no equals sign"),
        ],
        &[
            ("url", "https://example.org/a.ics"),
            ("city", "krakow"),
            ("kind", "<script>"),
            ("on_vanish", "explode"),
            ("name", "two\nlines"),
        ],
    ];
    for fields in cases {
        let response = browser.submit("/my/sources", "/my/sources", fields).await;
        assert_eq!(response.status, 422, "{fields:?}: {}", response.body);
        assert!(!response.body.contains("<script>"), "escaped");
        assert!(!response.texts(".field-error").is_empty(), "{fields:?}");
    }
    let mut conn = app.pool.get().unwrap();
    let id = Account::find_by_email(&mut conn, "office@krakow.test")
        .unwrap()
        .id;
    let actor = Actor::load(&mut conn, id).unwrap();
    assert!(sources::list(&mut conn, &actor).unwrap().is_empty());
    // An upload that is not multipart, and one with no file.
    let response = browser
        .post("/my/sources/upload", &[("city", "krakow")])
        .await;
    assert_eq!(response.status, 415);
    let token = browser.csrf_token("/my/sources/upload").await;
    let body = format!(
        "--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--b\r\nContent-Disposition: form-data; name=\"city\"\r\n\r\nkrakow\r\n--b--\r\n"
    );
    let response = browser
        .post_multipart("/my/sources/upload", "b", body.into_bytes())
        .await;
    assert_eq!(response.status, 422);
    assert!(
        response
            .text("#file-error")
            .contains("Choose the .ics file")
    );
    // Without the token, refused before anything is read into a source.
    let body = "--b\r\nContent-Disposition: form-data; name=\"city\"\r\n\r\nkrakow\r\n--b--\r\n";
    let response = browser
        .post_multipart("/my/sources/upload", "b", body.as_bytes().to_vec())
        .await;
    assert_eq!(response.status, 403);
}

#[actix_rt::test]
async fn new_settings_read_the_feed_again_under_them() {
    let app = import_app().await;
    let server = FixtureServer::start();
    server.feed("/tec.ics", fixture("the-events-calendar.ics"));
    let browser = app.organiser("office@lyon.test").await;
    app.set_trusted("office@lyon.test", true);
    let url = server.url("/tec.ics");
    let response = browser
        .submit(
            "/my/sources",
            "/my/sources",
            &[("url", url.as_str()), ("city", "lyon"), ("kind", "talk")],
        )
        .await;
    assert_eq!(response.status, 303);
    let id: i32 = source_id_from(&response).parse().unwrap();
    let exhibition = by_title(&imported(&app, id), "Exposition").clone();
    assert_eq!(exhibition.kind.slug(), "talk");

    let edit = format!("/my/sources/{id}/edit");
    let page = browser.get(&edit).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.attr("#f-url", "value"), url);
    // A bad mapping is shown beside its field, with what was typed.
    let response = browser
        .submit(
            &edit,
            &edit,
            &[
                ("url", url.as_str()),
                ("city", "lyon"),
                ("category_map", "Exposition = museum"),
            ],
        )
        .await;
    assert_eq!(response.status, 422);
    assert!(response.text("#category_map-error").contains("museum"));
    assert_eq!(response.text("#f-category_map"), "Exposition = museum");

    let response = browser
        .submit(
            &edit,
            &edit,
            &[
                ("url", url.as_str()),
                ("city", "lyon"),
                ("kind", "talk"),
                ("name", "Lyon, Ville créative"),
                (
                    "category_map",
                    "Exposition = exhibition\nAtelier = workshop",
                ),
            ],
        )
        .await;
    assert_eq!(response.status, 303, "{}", response.body);
    let page = browser.get(&response.header("location").unwrap()).await;
    assert!(page.body.contains("Lyon, Ville créative"));
    let after = imported(&app, id);
    let now = by_title(&after, "Exposition");
    assert_eq!(now.kind.slug(), "exhibition");
    assert_eq!(now.sequence, exhibition.sequence + 1);
    // The feed was fetched in full again, not answered with a 304.
    assert_eq!(server.hits("/tec.ics"), (2, 0));
}

#[actix_rt::test]
async fn an_upload_over_the_limit_gets_the_site_s_413() {
    let app = import_app().await;
    let browser = app.organiser("office@krakow.test").await;
    let body = vec![b'x'; 21 * 1024 * 1024];
    let response = browser
        .post_multipart("/my/sources/upload", "b", body)
        .await;
    assert_eq!(response.status, 413);
    assert!(response.body.contains("<html"), "our own page");
    assert_eq!(event_count(&app), 0);
}

//! Properties over generated input (proptest): any text an organiser types comes back
//! exactly through every door and format, and no input to a parser makes it panic.
//!
//! The round trip runs against real servers, so each case costs a few requests: fewer
//! cases, but hostile ones (escapes of every format, folds across multi-byte characters,
//! bidi controls, NUL). The parsers are plain functions and take many cases.

use chrono::NaiveDate;
use creative_calendar::domain::{CreativeField, EventForm, EventStatus, FormCity};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::helpers::{Browser, TestApp, event_id_from, feed_events, spawn_app, test_now};

/// Characters that mean something to one of the formats, or that break naive code.
const HOSTILE: &[char] = &[
    '\\', ';', ',', ':', '\n', '\r', '\t', '"', '\'', '<', '>', '&', '%', '+', '=', '#', '?', '/',
    ' ', 'é', 'ß', '€', '中', '𝄞', '😀', '\u{200d}', '\u{202e}', '\u{2066}', '\u{fe0f}', '\u{301}',
    '\u{1}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{feff}', '\u{e000}',
];

/// What the forms refuse as "not text": NUL, and U+FFFD, which stands for bytes that
/// were not UTF-8.
const REFUSED: &[char] = &['\u{0}', '\u{fffd}'];

fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        // proptest favours NUL among its special characters; it is refused on purpose,
        // in its own share of the cases.
        4 => any::<char>().prop_filter("refused", |c| !REFUSED.contains(c)),
        3 => proptest::sample::select(HOSTILE),
        3 => proptest::char::range('a', 'z'),
    ]
}

fn text(max_chars: usize) -> impl Strategy<Value = String> {
    vec(hostile_char(), 1..max_chars).prop_map(String::from_iter)
}

/// The text fields of one event, as typed.
#[derive(Debug, Clone)]
struct Typed {
    title: String,
    description: String,
    venue: String,
    address: String,
    price: String,
}

fn typed() -> impl Strategy<Value = Typed> {
    prop_oneof![8 => fields(), 1 => spoiled()]
}

fn fields() -> impl Strategy<Value = Typed> {
    (text(90), text(400), text(40), text(60), text(20)).prop_map(
        |(title, description, venue, address, price)| Typed {
            title,
            description,
            venue,
            address,
            price,
        },
    )
}

/// A character that must be refused, somewhere in the title.
fn spoiled() -> impl Strategy<Value = Typed> {
    (
        fields(),
        proptest::sample::select(REFUSED),
        any::<proptest::sample::Index>(),
    )
        .prop_map(|(mut t, bad, at)| {
            let mut chars: Vec<char> = t.title.chars().collect();
            chars.insert(at.index(chars.len() + 1), bad);
            t.title = chars.into_iter().collect();
            t
        })
}

const START_DATE: &str = "2026-12-12";

fn braga() -> FormCity {
    FormCity {
        tz: chrono_tz::Europe::Lisbon,
        field: CreativeField::MediaArts,
    }
}

fn today() -> NaiveDate {
    test_now().date_naive()
}

fn form_of(t: &Typed) -> EventForm {
    EventForm {
        city: "braga".into(),
        kind: "festival".into(),
        title: t.title.clone(),
        description: t.description.clone(),
        venue: t.venue.clone(),
        address: t.address.clone(),
        price: t.price.clone(),
        start_date: START_DATE.into(),
        start_time: "19:00".into(),
        end_time: "23:00".into(),
        ..EventForm::default()
    }
}

/// What any HTML parser (a browser's, scraper's) reads back of `typed` written into a
/// page: HTML cannot carry a CR or a NUL (the parser turns CR and CRLF into LF, and NUL
/// into U+FFFD, whatever the page does), so a field shown back holds this.
fn as_html_reads(typed: &str) -> String {
    typed
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\0', "\u{fffd}")
}

fn collapsed(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every physical line of a feed: CRLF-terminated, at most 75 octets, and whole UTF-8
/// (a fold never splits a character).
fn assert_well_folded(feed: &[u8]) {
    assert!(feed.ends_with(b"\r\n"));
    let lines: Vec<&[u8]> = feed.split(|&b| b == b'\n').collect();
    for line in &lines[..lines.len() - 1] {
        let line = line.strip_suffix(b"\r").expect("every line ends in CRLF");
        assert!(!line.contains(&b'\r'), "a bare CR in {line:?}");
        assert!(
            line.len() <= 75,
            "{} octets: {:?}",
            line.len(),
            String::from_utf8_lossy(line)
        );
        assert!(
            std::str::from_utf8(line).is_ok(),
            "a fold split a character: {line:?}"
        );
    }
}

/// One event typed with `t`; whether it was accepted (else it was refused, as it must).
async fn round_trip(app: &TestApp, organiser: &Browser<'_>, importer: &TestApp, t: &Typed) -> bool {
    let form = form_of(t);
    let fields = [
        ("city", form.city.as_str()),
        ("kind", form.kind.as_str()),
        ("field", ""),
        ("title", t.title.as_str()),
        ("description", t.description.as_str()),
        ("venue", t.venue.as_str()),
        ("address", t.address.as_str()),
        ("url", ""),
        ("price", t.price.as_str()),
        ("start_date", START_DATE),
        ("end_date", ""),
        ("start_time", "19:00"),
        ("end_time", "23:00"),
        ("repeat", "none"),
    ];
    // What the server makes of these fields, by the same decoding and the same rules:
    // the oracle the answers are held to.
    let body = serde_urlencoded::to_string(fields).unwrap();
    let expected = creative_calendar::urlencoded::decode_form::<EventForm>(body.as_bytes())
        .map_err(|e| format!("{e}"))
        .and_then(|form| {
            form.parse(Some(braga()), today(), None, EventStatus::Scheduled)
                .map_err(|e| format!("{e:?}"))
        });
    let res = organiser.submit_event(&fields).await;
    let draft = match expected {
        Err(errors) => {
            // Refused next to its fields, with everything typed shown back.
            assert_eq!(res.status, 422, "{errors:?}\n{}", res.body);
            for (name, typed) in [("title", &t.title), ("venue", &t.venue)] {
                let shown = res.attr(&format!("[name={name}]"), "value");
                assert_eq!(shown, as_html_reads(typed), "{name}");
            }
            return false;
        }
        Ok(draft) => draft,
    };
    assert_eq!(res.status, 303, "{}", res.body);
    let id = event_id_from(&res);

    // The API gives the stored text exactly.
    let api = app.get(&format!("/api/v1/events/{id}")).await;
    assert_eq!(api.status, 200, "{}", api.body);
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let event = &json["event"];
    assert_eq!(event["title"], draft.title.as_str());
    assert_eq!(event["description"], draft.description.as_str());
    assert_eq!(event["venue"], draft.venue_name.as_str());
    assert_eq!(event["address"], draft.venue_address.as_str());

    // The page shows it escaped: its text is the text, and nothing typed became markup.
    let page = app.get(&format!("/events/{id}")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text("h1"), draft.title.as_str());
    assert_eq!(
        collapsed(&page.text(".description")),
        collapsed(&draft.description)
    );
    let html = page.html();
    let scripts = crate::helpers::select_texts(&html, "script:not([type='application/ld+json'])");
    assert!(scripts.is_empty(), "{scripts:?}");

    // The feed: escaped and folded, and an independent parser reads the same title.
    let feed = app.get(&format!("/events/{id}/calendar.ics")).await;
    assert_eq!(feed.status, 200);
    assert_well_folded(feed.body.as_bytes());
    let events = feed_events(&feed.body);
    assert_eq!(events.len(), 1);
    use icalendar::Component;
    assert_eq!(events[0].get_summary(), Some(draft.title.as_str()));
    let description = events[0].get_description().unwrap_or_default();
    assert!(
        description.starts_with(draft.description.trim()),
        "{description:?}"
    );

    // Imported into another installation, the feed gives the same title and description.
    let imported = import(importer, feed.body.as_bytes());
    assert_eq!(imported.title, draft.title.as_str());
    if !creative_calendar::import::html::looks_like_html(description) {
        assert!(
            imported.description.starts_with(draft.description.trim()),
            "{:?}",
            imported.description
        );
    }
    true
}

fn import(importer: &TestApp, feed: &[u8]) -> creative_calendar::db::models::Event {
    use creative_calendar::db::models::Account;
    use creative_calendar::db::schema::events;
    use creative_calendar::workflows::Actor;
    use creative_calendar::workflows::sources::{SourceForm, import_file};
    use diesel::prelude::*;
    let mut conn = importer.pool.get().unwrap();
    let account = Account::find_by_email(&mut conn, "importer@example.org").unwrap();
    let actor = Actor::load(&mut conn, account.id).unwrap();
    let form = SourceForm {
        url: String::new(),
        city: "braga".into(),
        kind: "festival".into(),
        field: String::new(),
        category_map: String::new(),
        on_vanish: "cancel".into(),
        name: String::new(),
    };
    let (_, run) = import_file(&mut conn, &actor, &form, "event.ics", feed, test_now()).unwrap();
    assert_eq!(run.outcome, "imported", "{run:?}");
    let id: i32 = events::table
        .select(events::id)
        .order(events::id.desc())
        .first(&mut *conn)
        .unwrap();
    drop(conn);
    importer.stored_event(id)
}

#[test]
fn any_text_round_trips_through_the_form_the_api_the_page_the_feed_and_an_import() {
    let system = actix_web::rt::System::new();
    let app = system.block_on(spawn_app());
    let importer = system.block_on(spawn_app());
    let organiser = system.block_on(app.organiser("typist@example.org"));
    app.set_trusted("typist@example.org", true);
    let _ = system.block_on(importer.organiser("importer@example.org"));

    let mut runner = TestRunner::new(Config {
        cases: 40,
        // Each step of shrinking is a round of requests; a short search is enough to
        // point at the character at fault.
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let (accepted, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let outcome = runner.run(&typed(), |t| {
        let counter = if system.block_on(round_trip(&app, &organiser, &importer, &t)) {
            &accepted
        } else {
            &refused
        };
        counter.set(counter.get() + 1);
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    // Both paths were taken, and mostly the one that stores the text.
    assert!(
        accepted.get() >= 20 && refused.get() >= 1,
        "{} accepted, {} refused",
        accepted.get(),
        refused.get()
    );
}

// The parsers: any input gives a value or errors, never a panic.

/// `name=value` pairs over the form's own names and strangers, percent-escaped or raw
/// (broken escapes, bytes that are not UTF-8, repeated names).
fn urlencoded(names: Vec<&'static str>) -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        4 => proptest::sample::select(names).prop_map(|n| n.as_bytes().to_vec()),
        1 => vec(any::<u8>(), 0..8),
    ];
    let value = prop_oneof![
        3 => text(30).prop_map(|s| s.into_bytes()),
        2 => text(30).prop_map(|s| {
            url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().into_bytes()
        }),
        1 => vec(any::<u8>(), 0..30),
        1 => proptest::sample::select(&["2026-12-12", "19:00", "on", "braga", "%", "%zz", "%ff%fe", "+", "-1", "99999999999"][..])
            .prop_map(|s| s.as_bytes().to_vec()),
    ];
    let pair = (name, proptest::option::of(value));
    prop_oneof![
        6 => vec(pair, 0..20).prop_map(|pairs| {
            let mut out = Vec::new();
            for (i, (name, value)) in pairs.into_iter().enumerate() {
                if i > 0 {
                    out.push(b'&');
                }
                out.extend(name);
                if let Some(value) = value {
                    out.push(b'=');
                    out.extend(value);
                }
            }
            out
        }),
        1 => vec(any::<u8>(), 0..200),
    ]
}

/// The form's own field names (one list with the handlers), the CSRF field, and names
/// no form has.
fn form_names() -> Vec<&'static str> {
    let mut names = creative_calendar::domain::FORM_ORDER.to_vec();
    names.extend(["csrf_token", "unknown", "title[]"]);
    names
}

const QUERY_NAMES: &[&str] = &[
    "city",
    "country",
    "field",
    "kind",
    "from",
    "to",
    "q",
    "past",
    "open",
    "page",
    "limit",
    "cursor",
    "updated_since",
];

/// JSON documents over the API's field names: any shape, any types.
fn json_body() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)),
        text(40).prop_map(serde_json::Value::from),
        proptest::sample::select(
            &[
                "2026-12-12",
                "19:00",
                "braga",
                "festival",
                "weekly",
                "mo",
                ""
            ][..]
        )
        .prop_map(serde_json::Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            vec((text(10), inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    });
    // The API takes the form's names, and a few of its own.
    let mut names = creative_calendar::domain::FORM_ORDER.to_vec();
    names.extend(["opening_hours", "closed_dates", "note", "unknown"]);
    let names = proptest::sample::select(names);
    prop_oneof![
        6 => vec((names, value), 0..12).prop_map(|kv| {
            let object: serde_json::Map<String, serde_json::Value> =
                kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            serde_json::to_vec(&object).unwrap()
        }),
        1 => vec(any::<u8>(), 0..200),
        1 => text(60).prop_map(String::into_bytes),
    ]
}

/// Calendars shaped like real ones, with hostile values, cut lines and broken folds.
fn ics_body() -> impl Strategy<Value = Vec<u8>> {
    let name = proptest::sample::select(
        &[
            "BEGIN",
            "END",
            "DTSTART",
            "DTEND",
            "DURATION",
            "SUMMARY",
            "DESCRIPTION",
            "LOCATION",
            "UID",
            "RRULE",
            "EXDATE",
            "RDATE",
            "RECURRENCE-ID",
            "STATUS",
            "URL",
            "CATEGORIES",
            "GEO",
            "TZID",
            "TZOFFSETFROM",
            "TZOFFSETTO",
            "X-WR-TIMEZONE",
            "X-ALT-DESC",
            "SEQUENCE",
            "DTSTAMP",
        ][..],
    );
    let param = proptest::sample::select(
        &[
            "",
            ";VALUE=DATE",
            ";TZID=Europe/Lisbon",
            ";TZID=W. Europe Standard Time",
            ";TZID=\"a;b\"",
            ";VALUE=PERIOD",
            ";ENCODING=QUOTED-PRINTABLE",
            ";X=\u{0}",
        ][..],
    );
    let value = prop_oneof![
        proptest::sample::select(
            &[
                "VCALENDAR",
                "VEVENT",
                "VTIMEZONE",
                "STANDARD",
                "DAYLIGHT",
                "VALARM",
                "20261212T190000",
                "20261212T190000Z",
                "20261212",
                "PT2H",
                "-P1D",
                "FREQ=WEEKLY;BYDAY=MO,TU;COUNT=5",
                "FREQ=MONTHLY;BYDAY=-1FR",
                "FREQ=YEARLY;INTERVAL=0",
                "FREQ=DAILY;UNTIL=19700101",
                "+0100",
                "-0530",
                "CANCELLED",
                "40.1;-8.4",
                "99999999T999999",
            ][..],
        )
        .prop_map(str::to_owned),
        text(80),
    ];
    let line = (name, param, value).prop_map(|(n, p, v)| format!("{n}{p}:{v}"));
    prop_oneof![
        6 => vec(line, 0..40).prop_map(|lines| {
            let mut body = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
            for l in lines {
                body.push_str(&l);
                body.push_str("\r\n");
            }
            body.into_bytes()
        }),
        1 => vec(any::<u8>(), 0..300),
        1 => vec(prop_oneof![Just(b"\r\n ".to_vec()), Just(b"BEGIN:VEVENT\r\n".to_vec()), vec(any::<u8>(), 0..10)], 0..30)
            .prop_map(|parts| parts.concat()),
    ]
}

proptest! {
    #![proptest_config(Config { cases: 400, failure_persistence: None, ..Config::default() })]

    #[test]
    fn any_form_body_gives_a_draft_or_field_errors(body in urlencoded(form_names())) {
        if let Ok(form) = creative_calendar::urlencoded::decode_form::<EventForm>(&body) {
            let _ = form.parse(Some(braga()), today(), None, EventStatus::Scheduled);
            let _ = form.parse(None, today(), None, EventStatus::Scheduled);
        }
    }

    #[test]
    fn any_query_string_gives_a_filter_or_a_400(query in urlencoded(QUERY_NAMES.to_vec())) {
        let query = String::from_utf8_lossy(&query);
        use creative_calendar::web::params::EventsParams;
        if let Ok(params) = creative_calendar::urlencoded::decode_query::<EventsParams>(&query) {
            let _ = creative_calendar::filters::EventFilter::try_from(&params);
        }
    }

    #[test]
    fn any_api_body_gives_an_event_or_errors(body in json_body()) {
        use creative_calendar::web::api::writes::EventInput;
        if let Ok(input) = creative_calendar::web::api::body::parse::<EventInput>(&body) {
            let form = input.over(EventForm::default());
            let _ = form.parse(Some(braga()), today(), None, EventStatus::Scheduled);
        }
    }

    #[test]
    fn any_calendar_file_gives_events_skips_or_a_refusal(body in ics_body()) {
        use creative_calendar::import::map::{ImportDefaults, map_calendar};
        if let Ok(doc) = creative_calendar::import::ics::read(&body, None) {
            let defaults = ImportDefaults {
                city_tz: chrono_tz::Europe::Lisbon,
                city_name: "Braga".into(),
                kind: creative_calendar::domain::EventKind::Festival,
                field: None,
                categories: Default::default(),
            };
            let _ = map_calendar(&doc, &defaults, today());
        }
    }
}

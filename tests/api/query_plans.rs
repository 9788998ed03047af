//! Every listing a visitor can ask for is answered from an index, at any size: the
//! database's own plan (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL) for each
//! statement of the listing shows no full scan of `events`. The plans are taken on demo
//! data with the planner's statistics gathered, as `demo` and `db copy` leave a
//! database.

use chrono::TimeDelta;
use creative_calendar::db::models::{EventQuery, Window};
use creative_calendar::domain::{CreativeField, EventKind};
use diesel::RunQueryDsl;

use crate::helpers::*;

/// A full scan of `events` in a plan line, on either backend.
fn is_full_scan(line: &str) -> bool {
    let line = line.trim_start().trim_start_matches("->").trim_start();
    // SQLite: `SCAN events` (a table or a whole index, read from one end to the other);
    // a `SEARCH events USING …` is a range. PostgreSQL: `Seq Scan on events`.
    line == "SCAN events"
        || line.starts_with("SCAN events ")
        || line.starts_with("Seq Scan on events ")
}

fn listing() -> EventQuery {
    EventQuery {
        page: 1,
        per_page: 20,
        ..EventQuery::default()
    }
}

#[actix_rt::test]
async fn every_listing_is_planned_on_an_index_never_a_full_scan_of_events() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    creative_calendar::demo::generate(&mut conn, 3_000, Some(1), app.now, false).unwrap();
    diesel::sql_query("ANALYZE").execute(&mut conn).unwrap();
    if test_postgres().is_some() {
        // At a few thousand rows PostgreSQL rightly reads the whole (tiny) table rather
        // than an index; so it is asked whether an index plan exists for each listing:
        // with sequential scans priced out, a plan that still scans `events` has no
        // index to use. The plans at a million events are in bench/results/.
        diesel::sql_query("SET enable_seqscan = off")
            .execute(&mut conn)
            .unwrap();
    }
    let today = app.now.date_naive();
    let krakow = app.city("krakow").id;
    let cases: Vec<(&str, EventQuery)> = vec![
        ("upcoming", listing()),
        (
            "a common word",
            EventQuery {
                text: Some("the".into()),
                ..listing()
            },
        ),
        (
            "a rare word",
            EventQuery {
                text: Some("zanzibar".into()),
                ..listing()
            },
        ),
        (
            "a date range",
            EventQuery {
                window: Window {
                    from: Some(today + TimeDelta::days(90)),
                    to: Some(today + TimeDelta::days(120)),
                    ..Window::default()
                },
                ..listing()
            },
        ),
        (
            "two filters",
            EventQuery {
                field: Some(CreativeField::Music),
                kind: Some(EventKind::Performance),
                ..listing()
            },
        ),
        (
            "a city",
            EventQuery {
                city_id: Some(krakow),
                ..listing()
            },
        ),
        (
            "past events",
            EventQuery {
                window: Window {
                    past: true,
                    ..Window::default()
                },
                ..listing()
            },
        ),
    ];
    let sqlite = test_postgres().is_none();
    let mut scans = Vec::new();
    for (name, query) in cases {
        let plan = query.plans(&mut conn, app.now).unwrap();
        assert!(!plan.is_empty(), "{name}: no plan");
        if plan.iter().any(|l| is_full_scan(l)) {
            scans.push(format!("{name}:\n  {}", plan.join("\n  ")));
        }
        // What makes the two hard cases fast at any size, in SQLite's words.
        if sqlite && name == "a common word" {
            // Walk the listing's index in order, testing each id against the matches,
            // and stop at the page: never fetch and sort every match.
            assert!(
                plan.iter()
                    .any(|l| l.contains("USING COVERING INDEX events_by_start"))
                    && !plan.iter().any(|l| l.contains("TEMP B-TREE FOR ORDER BY")),
                "{name}:\n  {}",
                plan.join("\n  ")
            );
        }
        if sqlite && name == "a date range" {
            // One range bounded at both ends per span class.
            assert!(
                plan.iter()
                    .filter(|l| l.contains("events_span_dates")
                        && l.contains("start_date>? AND start_date<?"))
                    .count()
                    >= 4,
                "{name}:\n  {}",
                plan.join("\n  ")
            );
        }
    }
    assert!(
        scans.is_empty(),
        "full scans of events:\n{}",
        scans.join("\n")
    );
}

#[test]
fn full_scans_are_told_from_ranges() {
    assert!(is_full_scan("SCAN events"));
    assert!(is_full_scan("SCAN events USING INDEX events_by_start"));
    assert!(is_full_scan(
        "  ->  Seq Scan on events  (cost=0.00..1.01 rows=1 width=4)"
    ));
    assert!(!is_full_scan(
        "SEARCH events USING INDEX events_by_start (moderation=? AND starts_at>?)"
    ));
    assert!(!is_full_scan("SCAN events_search VIRTUAL TABLE INDEX 0:M1"));
    assert!(!is_full_scan("Index Scan using events_by_start on events"));
}

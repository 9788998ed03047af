//! How long building a feed takes: the network feed of the demo data set (1,500 events)
//! and of 100,000 events, split into reading the rows and writing the iCalendar text.
//!
//!     cargo bench --bench feeds
//!
//! The databases are made once under target/bench/ with the demo generator (seed 1).
//! A 304 revalidation never builds a feed; it is measured over HTTP by
//! `.ci/bench-feeds.sh`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use creative_calendar::db::models::EventQuery;
use creative_calendar::db::{self, DbPool};
use creative_calendar::ical::{self, CalendarInfo, Site};
use creative_calendar::{cities_import, demo};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().expect("a valid instant")
}

/// A database with `events` demo events, made on first use and kept.
fn database(events: usize) -> DbPool {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-feeds-{events}.db"));
    let pool = db::connect(&path, 2).expect("the database opens");
    let mut conn = pool.get().expect("a connection");
    cities_import::add_shipped_cities(&mut conn, now()).expect("cities");
    demo::generate(&mut conn, events, Some(1), now(), false).expect("demo events");
    db::optimize(&mut conn).expect("optimize");
    pool
}

fn info() -> CalendarInfo {
    CalendarInfo {
        name: "Creative Cities Calendar".to_owned(),
        description: "Benchmark".to_owned(),
        page_url: "https://calendar.example.org/events".to_owned(),
    }
}

fn network_feed(c: &mut Criterion) {
    let site = Site {
        public_url: "https://calendar.example.org",
    };
    let window = ical::window_start(now());
    for events in [1_500, 100_000] {
        let pool = database(events);
        let mut conn = pool.get().expect("a connection");
        let query = EventQuery::default();
        let rows = query
            .feed(&mut conn, window, 100_000)
            .expect("the feed's events")
            .events;
        let bytes = ical::render(&info(), &site, &rows, &Default::default()).len();
        println!(
            "{events} events in the database: {} in the feed, {bytes} bytes",
            rows.len()
        );

        let mut group = c.benchmark_group(format!("network feed, {events} events"));
        if events > 10_000 {
            group.sample_size(10);
        }
        group.throughput(Throughput::Elements(rows.len() as u64));
        group.bench_function("read rows", |b| {
            b.iter(|| query.feed(&mut conn, window, 100_000).expect("rows"))
        });
        group.bench_function("write iCalendar", |b| {
            b.iter(|| ical::render(&info(), &site, &rows, &Default::default()))
        });
        group.finish();
    }
}

criterion_group!(benches, network_feed);
criterion_main!(benches);

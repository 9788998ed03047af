//! How long syncing an organiser's feed of 5,000 events takes: the first sync (every
//! event created), and the syncs that find nothing new — a 304, the same body again,
//! and a body that differs only in its header (every event mapped and compared, none
//! written). Reading and mapping alone are measured too.
//!
//!     cargo bench --bench import
//!
//! The feed is served from 127.0.0.1 by a small server in the benchmark; the database
//! is a SQLite file under target/.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use creative_calendar::db::{self, DbPool};
use creative_calendar::import::map::{CategoryMap, ImportDefaults, map_calendar};
use creative_calendar::import::{ImportSettings, ics};
use creative_calendar::workflows::sources::{self, SourceForm, SyncOutcome};
use creative_calendar::workflows::{Actor, accounts};
use creative_calendar::{cities_import, domain::EventKind};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const EVENTS: usize = 5_000;

fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().expect("a valid instant")
}

/// A Google-shaped feed of `n` events in Kraków: timed events in the city's zone, some
/// in UTC, all-day ones, and weekly series with a skipped date and a moved occurrence.
fn feed(n: usize) -> String {
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\nX-WR-CALNAME:Benchmark\r\nX-WR-TIMEZONE:Europe/Warsaw\r\n",
    );
    let first = NaiveDate::from_ymd_opt(2027, 1, 4).expect("a date");
    for i in 0..n {
        let day = first + TimeDelta::days((i % 360) as i64);
        let d = day.format("%Y%m%d");
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:bench-{i}@google.com\r\nDTSTAMP:20261128T120000Z\r\nSUMMARY:Reading number {i} in the Kazimierz district\r\nDESCRIPTION:An evening of poetry and prose\\, with the authors.\\nFree entry.\r\nLOCATION:Massolit Books\\, Felicjanek 4\\, Kraków\r\n"
        ));
        match i % 10 {
            0 => out.push_str(&format!(
                "DTSTART;VALUE=DATE:{d}\r\nDTEND;VALUE=DATE:{}\r\n",
                (day + TimeDelta::days(1)).format("%Y%m%d")
            )),
            1 => out.push_str(&format!("DTSTART:{d}T170000Z\r\nDTEND:{d}T190000Z\r\n")),
            2 if day.weekday() != chrono::Weekday::Sun => {
                let wd = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
                    [day.weekday().num_days_from_monday() as usize];
                out.push_str(&format!(
                    "DTSTART;TZID=Europe/Warsaw:{d}T190000\r\nDTEND;TZID=Europe/Warsaw:{d}T210000\r\nRRULE:FREQ=WEEKLY;BYDAY={wd};COUNT=8\r\nEXDATE;TZID=Europe/Warsaw:{}T190000\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:bench-{i}@google.com\r\nDTSTAMP:20261128T120000Z\r\nRECURRENCE-ID;TZID=Europe/Warsaw:{}T190000\r\nSUMMARY:Reading number {i}: a special guest\r\nDTSTART;TZID=Europe/Warsaw:{}T200000\r\nDTEND;TZID=Europe/Warsaw:{}T220000\r\n",
                    (day + TimeDelta::days(14)).format("%Y%m%d"),
                    (day + TimeDelta::days(21)).format("%Y%m%d"),
                    (day + TimeDelta::days(21)).format("%Y%m%d"),
                    (day + TimeDelta::days(21)).format("%Y%m%d"),
                ))
            }
            _ => out.push_str(&format!(
                "DTSTART;TZID=Europe/Warsaw:{d}T180000\r\nDTEND;TZID=Europe/Warsaw:{d}T200000\r\n"
            )),
        }
        out.push_str("END:VEVENT\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// Serves `body` with an ETag; when `header` counts up, the body changes in its header
/// only (and so does the ETag), as a server that writes the time into the feed does.
struct Server {
    url: String,
    body: Arc<Mutex<Vec<u8>>>,
    version: Arc<AtomicU64>,
}

fn serve(body: Vec<u8>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!(
        "http://{}/feed.ics",
        listener.local_addr().expect("an address")
    );
    let body = Arc::new(Mutex::new(body));
    let version = Arc::new(AtomicU64::new(0));
    let (shared, counter) = (body.clone(), version.clone());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("a stream"));
            let mut conditional = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("if-none-match:") {
                    conditional = Some(v.trim().to_owned());
                }
            }
            let version = counter.load(Ordering::Relaxed);
            let etag = format!("\"v{version}\"");
            if conditional.as_deref() == Some(etag.as_str()) {
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                );
                continue;
            }
            let mut body = shared.lock().expect("the body").clone();
            // The header changes; the events do not.
            let marker = format!("X-WR-CALDESC:Version {version}\r\n");
            body.splice(17..17, marker.into_bytes());
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/calendar; charset=utf-8\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            let _ = stream.write_all(&body);
        }
    });
    Server { url, body, version }
}

fn database() -> (DbPool, Actor) {
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-import.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let pool = db::connect(&path, 2).expect("the database opens");
    let mut conn = pool.get().expect("a connection");
    cities_import::add_shipped_cities(&mut conn, now()).expect("cities");
    let admin = accounts::create_admin(
        &mut conn,
        "bench@example.org",
        "Bench",
        "Festival office",
        "a long benchmark password",
        now(),
    )
    .expect("an account");
    let id = match admin {
        accounts::AdminCreated::New(id) | accounts::AdminCreated::Promoted(id) => id,
    };
    let actor = Actor::load(&mut conn, id).expect("the actor");
    (pool, actor)
}

fn add(pool: &DbPool, actor: &Actor, url: &str) -> i32 {
    let mut conn = pool.get().expect("a connection");
    sources::add(
        &mut conn,
        actor,
        &SourceForm {
            url: url.to_owned(),
            city: "krakow".to_owned(),
            kind: "talk".to_owned(),
            ..SourceForm::default()
        },
        now(),
    )
    .expect("a source")
    .id
}

fn sync(pool: &DbPool, settings: &ImportSettings, id: i32) -> String {
    let mut conn = pool.get().expect("a connection");
    match sources::sync(&mut conn, settings, id, now(), true).expect("a sync") {
        SyncOutcome::Ran(run) => format!("{}: {}", run.outcome, run.counts()),
        SyncOutcome::Skipped(why) => format!("skipped: {why:?}"),
    }
}

fn import(c: &mut Criterion) {
    let text = feed(EVENTS);
    println!("{EVENTS} events, {} bytes", text.len());
    let server = serve(text.clone().into_bytes());
    let settings = ImportSettings::new("http://bench.example.org", true);
    let (pool, actor) = database();

    let mut group = c.benchmark_group(format!("import, {EVENTS} events"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("read and map", |b| {
        let defaults = ImportDefaults {
            city_tz: chrono_tz::Europe::Warsaw,
            city_name: "Kraków".to_owned(),
            kind: EventKind::Talk,
            field: None,
            categories: CategoryMap::default(),
        };
        b.iter(|| {
            let doc = ics::read(text.as_bytes(), None).expect("a calendar");
            map_calendar(&doc, &defaults, now().date_naive())
                .events
                .len()
        })
    });
    group.bench_function("first sync (all created)", |b| {
        b.iter_batched(
            || add(&pool, &actor, &server.url),
            |id| sync(&pool, &settings, id),
            BatchSize::PerIteration,
        )
    });
    let id = add(&pool, &actor, &server.url);
    println!("first sync: {}", sync(&pool, &settings, id));
    println!("again: {}", sync(&pool, &settings, id));
    group.bench_function("unchanged: 304", |b| b.iter(|| sync(&pool, &settings, id)));
    group.bench_function("unchanged: new header, same events (all compared)", |b| {
        b.iter(|| {
            server.version.fetch_add(1, Ordering::Relaxed);
            sync(&pool, &settings, id)
        })
    });
    server.version.fetch_add(1, Ordering::Relaxed);
    println!("header changed: {}", sync(&pool, &settings, id));
    let _ = &server.body;
    group.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);

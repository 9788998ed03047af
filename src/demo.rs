//! Realistic sample events, so that a new installation looks alive and so that the
//! queries can be measured on a large table (`demo --events 1000000`).

pub mod zone_edges;

use std::fmt;

use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::db::models::{City, CityFilter, Event, NewEvent};
use crate::db::{DbConnection, Dialect};
use crate::domain::{
    CreativeField, EventDraft, EventKind, EventSchedule, EventStatus, EventTitle, ModerationState,
};

/// About a year of events across the network.
pub const DEFAULT_EVENTS: usize = 1_500;

/// Rows generated and written at a time: the progress bar moves and memory stays flat
/// at a million events.
const ROWS_PER_BATCH: usize = 10_000;

/// Said at the end of every sample description, so nobody mistakes one for a real event.
pub const SAMPLE_NOTICE: &str = "This is sample data, generated to demonstrate the Creative Cities Calendar; it is not a real event.";

/// What a run of the generator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoReport {
    Generated { events: usize, seconds: u64 },
    SkippedNotEmpty { existing: i64 },
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoReport::Generated { events, seconds } => {
                write!(f, "generated {events} sample events in {seconds} s")
            }
            DemoReport::SkippedNotEmpty { existing } => write!(
                f,
                "the events table already holds {existing} events; no sample events were added"
            ),
        }
    }
}

/// Fills an empty events table with `count` sample events around `now`.
pub fn generate(
    conn: &mut DbConnection,
    count: usize,
    seed: Option<u64>,
    now: DateTime<Utc>,
    show_progress: bool,
) -> anyhow::Result<DemoReport> {
    let existing = Event::count(conn)?;
    if existing > 0 {
        return Ok(DemoReport::SkippedNotEmpty { existing });
    }
    let cities = City::list(conn, &CityFilter::default())?;
    anyhow::ensure!(
        !cities.is_empty(),
        "there are no cities to put sample events in"
    );
    let started = std::time::Instant::now();
    let seed = seed.unwrap_or_else(|| {
        u64::try_from(now.timestamp_nanos_opt().unwrap_or_default()).unwrap_or(7)
    });
    let mut rng = StdRng::seed_from_u64(seed);
    let progress = if show_progress {
        ProgressBar::new(count as u64)
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} events ({per_sec}, {eta} left) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    // One transaction for the whole load: a run that is stopped half-way leaves the
    // table empty, never half-filled. Within it, statements of 1,000 rows.
    let mut written = 0;
    // One in fifty is a series or an exhibition with opening hours (written one by one
    // after the bulk load, with their occurrences).
    let series = (count / 50).min(600);
    let count = count - series;
    conn.immediate_transaction(|conn| -> anyhow::Result<()> {
        // Indexing each row's text through the full-text trigger costs ten times more than
        // indexing them all at once at the end, so the trigger is set aside for the load
        // and put back, exactly as the migration wrote it, before the commit.
        let trigger = match conn.dialect() {
            Dialect::Sqlite => {
                let trigger = search_trigger_sql(conn)?;
                conn.batch_execute("DROP TRIGGER events_search_insert;")?;
                Some(trigger)
            }
            Dialect::Postgres => {
                conn.batch_execute("ALTER TABLE events DISABLE TRIGGER events_search_insert;")?;
                None
            }
        };
        let mut batch = Vec::with_capacity(ROWS_PER_BATCH.min(count));
        while written < count {
            batch.clear();
            while batch.len() < ROWS_PER_BATCH.min(count - written) {
                let city = cities.choose(&mut rng).context("no cities")?;
                if let Some(row) = sample_event(&mut rng, city, now) {
                    batch.push(row);
                }
            }
            NewEvent::insert_all(conn, &batch)?;
            written += batch.len();
            progress.set_position(written as u64);
        }
        progress.set_message("building the search index");
        match trigger {
            Some(trigger) => {
                conn.batch_execute(
                    "INSERT INTO events_search (events_search) VALUES ('rebuild');",
                )?;
                conn.batch_execute(&trigger)?;
            }
            // The statement the migration names for a bulk rebuild.
            None => conn.batch_execute(
                "INSERT INTO events_search (event_id, document) \
                 SELECT id, events_search_document(title, venue_name, description) FROM events \
                 ON CONFLICT (event_id) DO UPDATE SET document = EXCLUDED.document; \
                 ALTER TABLE events ENABLE TRIGGER events_search_insert;",
            )?,
        }
        Ok(())
    })?;
    progress.finish_and_clear();
    written +=
        conn.immediate_transaction(|conn| add_series(conn, &cities, now, series, &mut rng))?;
    crate::db::optimize_after_bulk_load(conn)?;
    Ok(DemoReport::Generated {
        events: written,
        seconds: started.elapsed().as_secs(),
    })
}

/// `n` series and exhibitions with opening hours, in turn: a weekly workshop series of
/// eight Tuesdays, a screening every first Friday until summer, and a four-month
/// exhibition open Tuesday to Sunday, late on Thursdays, closed around Christmas.
fn add_series(
    conn: &mut DbConnection,
    cities: &[City],
    now: DateTime<Utc>,
    n: usize,
    rng: &mut StdRng,
) -> anyhow::Result<usize> {
    use crate::db::models::Repetition;
    use crate::domain::EventForm;
    let mut written = 0;
    for i in 0..n {
        let city = cities.choose(rng).context("no cities")?;
        let today = now.with_timezone(&city.tz()).date_naive();
        let after = |days: i64, weekday: chrono::Weekday| {
            let mut d = today + chrono::TimeDelta::days(days);
            while d.weekday() != weekday {
                d = d.succ_opt().unwrap_or(d);
            }
            d
        };
        // A title of the kind from the city's own programme (or any of its titles).
        let kind = [
            EventKind::Workshop,
            EventKind::Screening,
            EventKind::Exhibition,
        ][i % 3];
        let titles = catalogue(city.field);
        let of_kind: Vec<_> = titles.iter().filter(|(k, _)| *k == kind).collect();
        let (_, pattern) = match of_kind.choose(rng) {
            Some(t) => **t,
            None => *titles.choose(rng).context("no titles")?,
        };
        let title = fill(pattern, city, today, rng);
        let mut form = EventForm {
            city: city.slug.to_string(),
            venue: (*venues(city.field).choose(rng).context("no venue")?).to_owned(),
            address: format!(
                "{} {}, {}",
                rng.random_range(1..180),
                STREETS.choose(rng).context("no street")?,
                city.name
            ),
            ..EventForm::default()
        };
        match i % 3 {
            0 => {
                let first = after(rng.random_range(0..30), chrono::Weekday::Tue);
                form.kind = "workshop".into();
                form.title = format!("{title}: eight Tuesdays");
                form.description = format!(
                    "{}\n\n{SAMPLE_NOTICE}",
                    "A workshop series in eight evenings; come to one or to all. Materials are provided."
                );
                form.start_date = first.to_string();
                // Evenings from 16:00 to 19:45, a different quarter-hour for each of
                // sixteen series in turn: see `override_occurrences`.
                let minutes = 16 * 60 + 15 * u32::try_from((i / 3) % 16).unwrap_or(0);
                let start =
                    NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).context("time")?;
                form.start_time = start.format("%H:%M").to_string();
                form.end_time = (start + chrono::TimeDelta::hours(2))
                    .format("%H:%M")
                    .to_string();
                form.repeat = "weekly".into();
                form.repeat_weekdays = "tu".into();
                form.repeat_count = "8".into();
                form.skip_dates = if rng.random_bool(0.3) {
                    (first + chrono::TimeDelta::days(21)).to_string()
                } else {
                    String::new()
                };
            }
            1 => {
                // The first Friday of a coming month.
                let mut first = after(rng.random_range(0..40), chrono::Weekday::Fri);
                while first.day() > 7 {
                    first += chrono::TimeDelta::days(7);
                }
                form.kind = "screening".into();
                form.field = "film".into();
                form.title = format!("{title}: first Fridays");
                form.description = format!(
                    "{}\n\n{SAMPLE_NOTICE}",
                    "A film from the city's archive on the first Friday of every month, with an introduction."
                );
                form.start_date = first.to_string();
                form.start_time = "20:00".into();
                form.end_time = "22:30".into();
                form.repeat = "monthly_by_weekday".into();
                form.repeat_nth = "1".into();
                form.repeat_count = "6".into();
            }
            _ => {
                let first = today - chrono::TimeDelta::days(rng.random_range(0..40));
                let last = first + chrono::TimeDelta::days(120);
                form.kind = "exhibition".into();
                form.title = format!("{title}: the exhibition");
                form.description = format!(
                    "{}\n\n{SAMPLE_NOTICE}",
                    "Work by the city's makers over four months. Late opening on Thursdays."
                );
                form.all_day = Some(crate::domain::ALL_DAY_TICKED.to_owned());
                form.start_date = first.to_string();
                form.end_date = last.to_string();
                for slug in ["tu", "we", "fr", "sa", "su"] {
                    form.set_hours(slug, "10:00".into(), "18:00".into());
                }
                form.set_hours("th", "10:00".into(), "21:00".into());
                let closed: Vec<String> = [24, 25, 26]
                    .iter()
                    .filter_map(|d| chrono::NaiveDate::from_ymd_opt(first.year(), 12, *d))
                    .filter(|d| *d >= first && *d <= last)
                    .map(|d| d.to_string())
                    .collect();
                form.closed_dates = closed.join(",");
            }
        }
        let Ok(draft) = form.parse(
            Some(crate::domain::FormCity {
                tz: city.tz(),
                field: city.field,
            }),
            today,
            Some(format!("{} Creative City Office", city.name)),
            EventStatus::Scheduled,
        ) else {
            continue;
        };
        let Ok(row) = NewEvent::from_draft(&draft, city, ModerationState::Published, now) else {
            continue;
        };
        let event = row.insert(conn)?;
        Repetition::create(conn, event.id, &draft, city.tz())?;
        if i % 3 == 0 && i < 48 && !is_utc_all_year(city.tz()) {
            // Real series change: the fourth evening is cancelled, the sixth has a guest
            // and starts an hour later. Feeds carry both as RECURRENCE-ID overrides.
            override_occurrences(conn, &event, &draft, city.tz())?;
        }
        written += 1;
    }
    Ok(written)
}

/// Whether a zone is UTC+0 in winter and in summer (Dakar, Reykjavik).
fn is_utc_all_year(tz: chrono_tz::Tz) -> bool {
    use chrono::{Offset, TimeZone};
    [1, 7].iter().all(|m| {
        tz.with_ymd_and_hms(2027, *m, 1, 12, 0, 0)
            .single()
            .is_some_and(|t| t.offset().fix().local_minus_utc() == 0)
    })
}

/// Overrides two occurrences of a series. Only the first sixteen workshop series get
/// them, each at its own local time: ical.js, read as `new ICAL.Event(vevent)` over a
/// whole feed (as the strict checker and some web calendars read it), relates every
/// RECURRENCE-ID of the feed to every series, whatever its UID, so two series at the
/// same local time on the same day would swap overrides there; and python-icalendar
/// names a RECURRENCE-ID in a zone that is UTC all year as UTC. See docs/feeds.md.
fn override_occurrences(
    conn: &mut DbConnection,
    event: &Event,
    draft: &EventDraft,
    tz: chrono_tz::Tz,
) -> anyhow::Result<()> {
    use crate::db::models::{OccurrenceStatus, Repetition};
    let repetition = Repetition::load(conn, event.id)?;
    let listed: Vec<_> = repetition.listed().cloned().collect();
    if let Some(o) = listed.get(3) {
        let row = o.overridden_as(&o.schedule(), tz, None, OccurrenceStatus::Cancelled);
        Repetition::save_occurrence(conn, &row)?;
    }
    if let Some(o) = listed.get(5)
        && let EventSchedule::Timed { start, end } = o.schedule()
    {
        let hour = chrono::TimeDelta::hours(1);
        let later = EventSchedule::Timed {
            start: start + hour,
            end: end.map(|e| e + hour),
        };
        let title = format!("{}: with a guest", draft.title.as_str());
        let row = o.overridden_as(&later, tz, Some(title), OccurrenceStatus::Scheduled);
        Repetition::save_occurrence(conn, &row)?;
    }
    Ok(())
}

/// One sample event in `city`; `None` in the rare case the schedule drawn does not exist
/// in the city's zone (the caller draws again).
fn sample_event(rng: &mut StdRng, city: &City, now: DateTime<Utc>) -> Option<NewEvent> {
    // Mostly the city's own field, sometimes a neighbouring one, as in real programmes.
    let field = if rng.random_bool(0.85) {
        city.field
    } else {
        *CreativeField::ALL.choose(rng)?
    };
    let (kind, pattern) = *catalogue(field).choose(rng)?;
    let today = now.with_timezone(&city.tz()).date_naive();
    let schedule = sample_schedule(rng, kind, today)?;
    let venue = *venues(field).choose(rng)?;
    let title = fill(pattern, city, schedule.first_date(), rng);
    let status = match rng.random_range(0..100) {
        0..=1 => EventStatus::Cancelled,
        2 => EventStatus::Postponed,
        _ => EventStatus::Scheduled,
    };
    let is_free = rng.random_bool(0.3);
    let draft = EventDraft {
        kind,
        field: Some(field),
        title: EventTitle::parse(&title).ok()?,
        description: description(rng, field, kind, city, venue),
        venue_name: venue.to_owned(),
        venue_address: format!(
            "{} {}, {}",
            rng.random_range(1..180),
            STREETS.choose(rng)?,
            city.name
        ),
        coordinates: Some((
            city.latitude + rng.random_range(-0.02..0.02),
            city.longitude + rng.random_range(-0.02..0.02),
        )),
        schedule,
        url: Some(format!(
            "https://example.org/{}/{}",
            city.slug,
            rng.random_range(1000..99999)
        )),
        price: (!is_free).then(|| price(rng, city.country_code.as_str())),
        is_free,
        organizer_name: Some(format!("{} Creative City Office", city.name)),
        status,
        series: None,
        hours: None,
    };
    NewEvent::from_draft(&draft, city, ModerationState::Published, now).ok()
}

#[derive(QueryableByName)]
struct TriggerSql {
    #[diesel(sql_type = diesel::sql_types::Text)]
    sql: String,
}

/// The `CREATE TRIGGER` statement that keeps the search index up to date on insert.
fn search_trigger_sql(conn: &mut DbConnection) -> anyhow::Result<String> {
    let row: TriggerSql = diesel::sql_query(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_search_insert'",
    )
    .get_result(conn)
    .context("the search index trigger is missing; has the database been migrated?")?;
    Ok(row.sql)
}

fn sample_schedule(rng: &mut StdRng, kind: EventKind, today: NaiveDate) -> Option<EventSchedule> {
    // About one event in eight lies in the past two months; the rest in the coming year.
    let offset = if rng.random_bool(0.12) {
        rng.random_range(-60..0)
    } else {
        rng.random_range(0..365)
    };
    let first = today + Duration::days(offset);
    match kind {
        EventKind::Exhibition => {
            // Long runs that began weeks ago, so that "on now" has something to show.
            let first = first - Duration::days(rng.random_range(0..60));
            let last = first + Duration::days(rng.random_range(20..130));
            EventSchedule::all_day(first, last).ok()
        }
        EventKind::Festival | EventKind::Market => {
            let last = first + Duration::days(rng.random_range(0..5));
            EventSchedule::all_day(first, last).ok()
        }
        _ => {
            let hour = rng.random_range(10..21);
            let minute = *[0, 0, 30, 15].choose(rng)?;
            let start = first.and_time(NaiveTime::from_hms_opt(hour, minute, 0)?);
            let end = rng.random_bool(0.9).then(|| {
                start + Duration::minutes(60 * rng.random_range(1..4) + 30 * rng.random_range(0..2))
            });
            EventSchedule::timed(start, end).ok()
        }
    }
}

fn fill(pattern: &str, city: &City, first_day: NaiveDate, rng: &mut StdRng) -> String {
    pattern
        .replace("{city}", &city.name)
        .replace("{season}", season(first_day, city.latitude))
        .replace("{n}", &(rng.random_range(2..31)).to_string())
        .replace("{year}", &first_day.year().to_string())
}

/// The season of a date where the city is: "Summer Nights" in July in Lyon, in January
/// in Adelaide.
fn season(date: NaiveDate, latitude: f64) -> &'static str {
    let northern = match date.month() {
        3..=5 => 0,
        6..=8 => 1,
        9..=11 => 2,
        _ => 3,
    };
    let index = if latitude < 0.0 {
        (northern + 2) % 4
    } else {
        northern
    };
    ["Spring", "Summer", "Autumn", "Winter"][index]
}

fn description(
    rng: &mut StdRng,
    field: CreativeField,
    kind: EventKind,
    city: &City,
    venue: &str,
) -> String {
    let opening = match field {
        CreativeField::Gastronomy => {
            "Cooks, growers and food historians share the tastes of the region; bring your appetite, and your questions."
        }
        CreativeField::Film => {
            "A programme of features, shorts and restored classics, with introductions by the people who made them."
        }
        CreativeField::Music => {
            "Musicians from the city and its twin cities share the stage, from traditional songs to new commissions."
        }
        CreativeField::Literature => {
            "Writers, translators and readers meet to read aloud, argue, and sign books; all languages welcome."
        }
        CreativeField::Design => {
            "Designers open their studios and show how everyday objects, places and services are made."
        }
        CreativeField::MediaArts => {
            "Light, code and sound turn familiar places into something new; some works invite you to take part."
        }
        CreativeField::CraftsAndFolkArt => {
            "Makers demonstrate techniques handed down for generations: weaving, ceramics, woodwork and more."
        }
        CreativeField::Architecture => {
            "Architects and residents walk, talk and sketch the buildings that shape everyday life here."
        }
    };
    let second = match kind {
        EventKind::Festival => {
            "Expect several stages, family activities during the day and late programmes at night."
        }
        EventKind::Exhibition => {
            "Guided tours run every weekend; the exhibition is step-free and has seating in every room."
        }
        EventKind::Workshop => {
            "Places are limited; materials are provided and no experience is needed."
        }
        EventKind::Performance => {
            "Doors open thirty minutes before the start. Latecomers are admitted at a suitable break."
        }
        EventKind::Screening => "Films are shown in the original language with English subtitles.",
        EventKind::Talk => {
            "The talk is followed by questions from the audience and a short reception."
        }
        EventKind::Market => "Stalls are run by local producers and makers; most accept cards.",
    };
    let extra = if rng.random_bool(0.1) {
        "\n\nCafé, crêpes & more; ask for the menu — ¡bienvenidos! 🎉"
    } else {
        ""
    };
    format!(
        "{opening}\n\n{second} Held at {venue}, {city}.{extra}\n\nMore information: https://example.org/{slug}\n\n{SAMPLE_NOTICE}",
        city = city.name,
        slug = city.slug,
    )
}

fn price(rng: &mut StdRng, country: &str) -> String {
    let currency = match country {
        "AT" | "BE" | "CY" | "DE" | "EE" | "ES" | "FI" | "FR" | "GR" | "HR" | "IE" | "IT"
        | "LT" | "LU" | "LV" | "MT" | "NL" | "PT" | "SI" | "SK" => "EUR",
        "GB" => "GBP",
        "US" => "USD",
        "CA" => "CAD",
        "AU" => "AUD",
        "CH" => "CHF",
        "SE" => "SEK",
        "NO" => "NOK",
        "DK" => "DKK",
        "PL" => "PLN",
        "BR" => "BRL",
        "MX" => "MXN",
        "JP" => "JPY",
        "KR" => "KRW",
        "CN" => "CNY",
        "IN" => "INR",
        "TR" => "TRY",
        _ => return "Tickets at the door; see the organiser's site for prices".to_owned(),
    };
    let base: u32 = match currency {
        "JPY" => 1_500,
        "KRW" => 15_000,
        "INR" | "SEK" | "NOK" | "DKK" | "MXN" => 150,
        "CNY" | "BRL" | "PLN" | "TRY" => 60,
        _ => 12,
    };
    let amount = base * rng.random_range(1..4);
    format!("{amount} {currency}; reduced {} {currency}", amount / 2)
}

const STREETS: &[&str] = &[
    "Main Street",
    "Market Square",
    "River Road",
    "Station Avenue",
    "Harbour Lane",
    "Old Town Passage",
    "University Boulevard",
    "Garden Row",
];

fn venues(field: CreativeField) -> &'static [&'static str] {
    match field {
        CreativeField::Gastronomy => &[
            "Central Market Hall",
            "Culinary Institute",
            "Old Town Food Hall",
            "Riverside Terrace",
        ],
        CreativeField::Film => &[
            "City Cinematheque",
            "Open-Air Cinema, Castle Courtyard",
            "Film Museum",
            "Palace Cinema",
        ],
        CreativeField::Music => &[
            "Philharmonic Hall",
            "Cathedral Square",
            "Jazz Cellar",
            "Municipal Theatre",
        ],
        CreativeField::Literature => &[
            "Central Library",
            "House of Literature",
            "University Aula",
            "Bookshop Café",
        ],
        CreativeField::Design => &[
            "Design Centre",
            "Museum of Applied Arts",
            "Old Textile Factory",
            "Design Week Pavilion",
        ],
        CreativeField::MediaArts => &[
            "Media Lab",
            "Digital Arts Centre",
            "Riverside Warehouse",
            "Planetarium Dome",
        ],
        CreativeField::CraftsAndFolkArt => &[
            "Crafts Museum",
            "Artisans' Quarter",
            "Folk Art Centre",
            "Covered Market",
        ],
        CreativeField::Architecture => &[
            "Architecture Centre",
            "City Hall Atrium",
            "Modernist Villa",
            "Harbour Pavilion",
        ],
    }
}

fn catalogue(field: CreativeField) -> &'static [(EventKind, &'static str)] {
    use EventKind::*;
    match field {
        CreativeField::Gastronomy => &[
            (Festival, "{city} Food Festival"),
            (Festival, "Harvest Table: a Festival of Local Flavours"),
            (Market, "Farmers' and Producers' Market"),
            (Market, "Night Food Market"),
            (Workshop, "Tasting: Olive Oils, Vinegars; and Salts"),
            (Workshop, "Bread-Baking Class for Beginners"),
            (Workshop, "Fermentation Workshop: Kimchi, Kraut & Kombucha"),
            (Talk, "Chefs in Conversation: Cooking with the {season}"),
            (Exhibition, "The Table: {n} Centuries of {city} Kitchens"),
        ],
        CreativeField::Film => &[
            (Festival, "{city} International Film Festival {year}"),
            (Festival, "Short Film Days"),
            (Screening, "Restored Classics: Silent Film with Live Piano"),
            (Screening, "Open-Air Screening: {season} Nights"),
            (Screening, "Documentary Evening; Q&A with the Director"),
            (Talk, "Masterclass: Editing, Sound, and Silence"),
            (Workshop, "Smartphone Filmmaking Workshop"),
        ],
        CreativeField::Music => &[
            (Festival, "{city} Jazz Festival"),
            (Festival, "World Music Days {year}"),
            (Performance, "Symphony No. {n}: {season} Concert"),
            (Performance, "Choir Evening in the Old Town"),
            (Performance, "Fado, Tango & Son: Songs of Longing"),
            (Workshop, "Drumming Workshop for Families"),
            (Talk, "Listening Session: the Music of {city}"),
        ],
        CreativeField::Literature => &[
            (Festival, "{city} Literature Festival"),
            (Festival, "Poetry Days {year}"),
            (Talk, "Reading and Conversation: New Voices"),
            (Talk, "Translators' Evening: Between Two Languages"),
            (Workshop, "Creative Writing Workshop: the Short Story"),
            (Exhibition, "Manuscripts and Marginalia"),
        ],
        CreativeField::Design => &[
            (Festival, "{city} Design Week"),
            (Exhibition, "Objects of Everyday Life"),
            (Exhibition, "Chairs, Lamps, and Tables: {n} Designers"),
            (Talk, "Design for Public Space: Panel Discussion"),
            (Workshop, "Typography Workshop: Letters of the City"),
        ],
        CreativeField::MediaArts => &[
            (Festival, "{city} Festival of Light"),
            (Exhibition, "Machines that Dream: Generative Art"),
            (Exhibition, "Sound Installations in the Old Tunnels"),
            (Performance, "Live Audiovisual Performance"),
            (Workshop, "Creative Coding for Beginners"),
        ],
        CreativeField::CraftsAndFolkArt => &[
            (Festival, "{city} Crafts Festival"),
            (Market, "Makers' Market"),
            (Market, "Christmas Crafts Fair"),
            (Exhibition, "Threads: Textiles of the Region"),
            (Workshop, "Pottery Wheel Workshop"),
            (Workshop, "Natural Dyeing with Indigo & Madder"),
        ],
        CreativeField::Architecture => &[
            (Festival, "Open House {city}"),
            (Exhibition, "Building the City: Models and Plans"),
            (Talk, "Walking Tour and Talk: Modernism in {city}"),
            (Workshop, "Sketching Architecture: a Drawing Workshop"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_titles_and_venues() {
        for field in CreativeField::ALL {
            assert!(!catalogue(*field).is_empty());
            assert!(!venues(*field).is_empty());
            for (_, pattern) in catalogue(*field) {
                assert!(pattern.chars().count() < 150);
            }
        }
    }

    #[test]
    fn seasons_follow_the_hemisphere() {
        let july = NaiveDate::from_ymd_opt(2027, 7, 1).unwrap();
        assert_eq!(season(july, 45.7), "Summer");
        assert_eq!(season(july, -34.9), "Winter");
        let december = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(season(december, 50.0), "Winter");
        assert_eq!(season(december, -36.8), "Summer");
    }

    #[test]
    fn schedules_are_always_valid() {
        let mut rng = StdRng::seed_from_u64(1);
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        for _ in 0..2_000 {
            for kind in EventKind::ALL {
                let s = sample_schedule(&mut rng, *kind, today).unwrap();
                assert!(s.last_date() >= s.first_date());
            }
        }
    }
}

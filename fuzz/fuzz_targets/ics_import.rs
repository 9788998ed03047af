//! The import of an organiser's feed, as a sync does it once the body is fetched
//! (`workflows::sources::apply`, without the database): `import::ics::read` of the raw
//! body (as sent without a charset, and as announced ISO-8859-1), `import::map::
//! map_calendar` for a source in Kraków (Europe/Warsaw) on 2026-12-03, then for each
//! event what `apply_event` does before writing: its content hash, `EventForm::parse`
//! in the city, and `EventDetails::from_draft` / `Repetition::from_draft`.
//!
//! Asserts: no panic, no hang; only an empty or BEGIN:VCALENDAR-less body is refused;
//! the warnings stay bounded; the same body maps to the same events (stable hashes);
//! an event the form accepts resolves in the city's zone.
#![no_main]

use chrono::NaiveDate;
use creative_calendar::db::models::{City, EventDetails, Repetition};
use creative_calendar::domain::{EventKind, FormCity};
use creative_calendar::import::ics::{self, ReadError};
use creative_calendar::import::map::{CategoryMap, ImportDefaults, map_calendar};
use creative_calendar_fuzz::{CITIES, today};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static CITY: LazyLock<&'static City> = LazyLock::new(|| &CITIES["krakow"]);

static CATEGORIES: LazyLock<CategoryMap> = LazyLock::new(|| {
    CategoryMap::parse("Ausstellung = exhibition\nKonzert = performance\nKino = screening")
        .expect("a category map")
});

fn defaults() -> ImportDefaults {
    ImportDefaults {
        city_tz: CITY.timezone.tz(),
        city_name: CITY.name.clone(),
        kind: EventKind::Festival,
        field: None,
        categories: CATEGORIES.clone(),
    }
}

fn import(body: &[u8], charset: Option<&str>, today: NaiveDate) {
    let doc = match ics::read(body, charset) {
        Ok(doc) => doc,
        Err(ReadError::Empty) => {
            let rest = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
            assert!(
                rest.iter().all(u8::is_ascii_whitespace) || !contains_begin(rest),
                "refused as empty"
            );
            return;
        }
        Err(ReadError::NotCalendar(message)) => {
            assert!(!message.is_empty());
            return;
        }
    };
    assert!(doc.warnings.len() <= 102, "{} warnings", doc.warnings.len());
    assert_eq!(doc.calendar.name, "VCALENDAR");

    let defaults = defaults();
    let mapped = map_calendar(&doc, &defaults, today);
    let hashes: Vec<String> = mapped.events.iter().map(|e| e.content_hash()).collect();
    let again = map_calendar(&doc, &defaults, today);
    let hashes_again: Vec<String> = again.events.iter().map(|e| e.content_hash()).collect();
    assert_eq!(hashes, hashes_again, "the same feed maps alike");

    let city = *CITY;
    let tz = city.timezone.tz();
    for event in &mapped.events {
        assert!(!event.uid.trim().is_empty(), "an event without a UID");
        assert!(
            mapped.uids.contains(&event.uid),
            "uid not listed: {}",
            event.uid
        );
        let mut form = event.form.clone();
        form.city = city.slug.to_string();
        let parsed = form.parse(
            Some(FormCity {
                tz,
                field: city.field,
            }),
            today,
            Some("Fuzz Organiser".to_owned()),
            event.status,
        );
        let Ok(mut draft) = parsed else {
            continue;
        };
        draft.coordinates = event.coordinates;
        if let Err(e) = EventDetails::from_draft(&draft, city) {
            panic!("the form accepted an imported schedule that does not resolve: {e:?}");
        }
        let _ = Repetition::from_draft(1, &draft, tz, &Repetition::default(), None);
    }
}

/// Whether a BEGIN:VCALENDAR could be in there (a refusal as empty must not hide one).
fn contains_begin(bytes: &[u8]) -> bool {
    bytes.windows(5).any(|w| w.eq_ignore_ascii_case(b"BEGIN"))
}

fuzz_target!(|body: &[u8]| {
    import(body, None, today());
    import(body, Some("ISO-8859-1"), today());
});

//! What the fuzz targets share: the shipped cities as the database holds them.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use creative_calendar::cities_import::{NETWORK_CSV, parse_csv};
use creative_calendar::db::models::City;
use creative_calendar::domain::Slug;

/// The day the targets run on (the date of the fuzzing campaign; the form accepts
/// events from the year before to ten years ahead of it).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 3).expect("a date")
}

/// The shipped cities, keyed by slug, with the slugs `cities_import` gives them: the
/// name's slug, or `name-cc` when two cities share it (the two Granadas).
pub static CITIES: LazyLock<HashMap<String, City>> = LazyLock::new(|| {
    let records = parse_csv(NETWORK_CSV).expect("the shipped city list parses");
    let mut sharing: HashMap<String, usize> = HashMap::new();
    for r in &records {
        if let Ok(base) = Slug::from_name(&r.name) {
            *sharing.entry(base.as_str().to_owned()).or_default() += 1;
        }
    }
    let stamp = today().and_hms_opt(0, 0, 0).expect("a time");
    let mut cities = HashMap::new();
    for (id, r) in records.into_iter().enumerate() {
        let Ok(base) = Slug::from_name(&r.name) else {
            continue;
        };
        let slug = if sharing.get(base.as_str()).copied().unwrap_or(0) > 1 {
            base.with_suffix(&r.country_code.as_str().to_ascii_lowercase())
                .expect("a suffixed slug")
        } else {
            base
        };
        let city = City {
            id: i32::try_from(id + 1).expect("few cities"),
            slug: slug.clone(),
            name: r.name,
            country: r.country,
            country_code: r.country_code,
            field: r.field,
            designation_year: r.year,
            latitude: r.latitude,
            longitude: r.longitude,
            timezone: r.timezone,
            description: None,
            created_at: stamp,
            updated_at: stamp,
        };
        cities.insert(slug.as_str().to_owned(), city);
    }
    assert!(cities.len() > 400, "the shipped list has its cities");
    cities
});

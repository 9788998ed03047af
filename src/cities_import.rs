//! Loading the network's cities from CSV (`name,country,country_code,field,year,
//! latitude,longitude,timezone`). Every row is checked before anything is written,
//! and the whole file goes in one transaction: a bad row leaves the table as it was.

use std::collections::{HashMap, HashSet};
use std::fmt;

use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::models::{City, NewCity};
use crate::db::schema::cities;
use crate::domain::{CountryCode, CreativeField, Slug, TimeZoneName};

/// The cities shipped with the binary, loaded on first start.
pub const NETWORK_CSV: &str = include_str!("../data/creative_cities.csv");

/// The header every import file must start with.
const HEADER: [&str; 8] = [
    "name",
    "country",
    "country_code",
    "field",
    "year",
    "latitude",
    "longitude",
    "timezone",
];

/// The network was founded in 2004; no designation is older.
const FIRST_DESIGNATION_YEAR: i32 = 2004;

/// One checked row of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct CityRecord {
    pub line: u64,
    pub name: String,
    pub country: String,
    pub country_code: CountryCode,
    pub field: CreativeField,
    pub year: i32,
    pub latitude: f64,
    pub longitude: f64,
    pub timezone: TimeZoneName,
}

/// A problem with one row, with its line number in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why a file was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    pub errors: Vec<RowError>,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the file was not imported; nothing was changed:")?;
        for error in &self.errors {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cities: {} added, {} updated, {} unchanged",
            self.added, self.updated, self.unchanged
        )
    }
}

/// Reads and checks every row; returns all the problems at once.
pub fn parse_csv(text: &str) -> Result<Vec<CityRecord>, ImportError> {
    // The csv reader counts a CRLF row's line from the LF left over by the row before,
    // one too few; with plain LFs the line numbers it reports are the ones an editor shows.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header_ok = reader
        .headers()
        .map(|h| {
            h.iter()
                .map(|c| c.trim_start_matches('\u{feff}'))
                .eq(HEADER)
        })
        .unwrap_or(false);
    if !header_ok {
        return Err(ImportError {
            errors: vec![RowError {
                line: 1,
                message: format!("the header must be {}", HEADER.join(",")),
            }],
        });
    }
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for result in reader.records() {
        let row = match result {
            Ok(row) => row,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    message: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = row.position().map_or(0, |p| p.line());
        match parse_row(&row) {
            Ok(fields) => {
                let record = CityRecord { line, ..fields };
                if seen.insert((record.name.to_lowercase(), record.country_code)) {
                    records.push(record);
                } else {
                    errors.push(RowError {
                        line,
                        message: format!("{} ({}) appears twice", record.name, record.country_code),
                    });
                }
            }
            Err(message) => errors.push(RowError { line, message }),
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(ImportError { errors })
    }
}

fn parse_row(row: &csv::StringRecord) -> Result<CityRecord, String> {
    if row.len() != HEADER.len() {
        return Err(format!(
            "expected {} columns, found {}",
            HEADER.len(),
            row.len()
        ));
    }
    let text = |i: usize, what: &str, max: usize| -> Result<String, String> {
        let value = row.get(i).unwrap_or_default();
        if value.is_empty() {
            Err(format!("{what} is empty"))
        } else if value.chars().count() > max || value.chars().any(char::is_control) {
            Err(format!("{what} is not a plausible name: {value:?}"))
        } else {
            Ok(value.to_owned())
        }
    };
    let number =
        |i: usize, what: &str, range: std::ops::RangeInclusive<f64>| -> Result<f64, String> {
            let value = row.get(i).unwrap_or_default();
            value
                .parse::<f64>()
                .ok()
                .filter(|v| range.contains(v))
                .ok_or_else(|| {
                    format!(
                        "{what} {value:?} is not a number from {} to {}",
                        range.start(),
                        range.end()
                    )
                })
        };
    let name = text(0, "name", 100)?;
    let country = text(1, "country", 100)?;
    let country_code = CountryCode::parse(row.get(2).unwrap_or_default())
        .map_err(|e| format!("country_code: {e}"))?;
    let field_label = row.get(3).unwrap_or_default();
    let field = CreativeField::from_label(field_label).ok_or_else(|| {
        format!(
            "field {field_label:?} is not one of: {}",
            CreativeField::ALL
                .iter()
                .map(|f| f.label())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let year_text = row.get(4).unwrap_or_default();
    let year = year_text
        .parse::<i32>()
        .ok()
        .filter(|y| (FIRST_DESIGNATION_YEAR..=2100).contains(y))
        .ok_or_else(|| format!("year {year_text:?} is not a designation year (2004 or later)"))?;
    let latitude = number(5, "latitude", -90.0..=90.0)?;
    let longitude = number(6, "longitude", -180.0..=180.0)?;
    let timezone = TimeZoneName::parse(row.get(7).unwrap_or_default())
        .map_err(|e| format!("timezone: {e}"))?;
    Ok(CityRecord {
        line: 0,
        name,
        country,
        country_code,
        field,
        year,
        latitude,
        longitude,
        timezone,
    })
}

/// Adds new cities and updates known ones (known by name and country). A new city's
/// slug is its name, with the country code added when another city in the file or the
/// database has the same name (`granada-es`, `granada-ni`); existing slugs never change.
pub fn import_records(
    conn: &mut SqliteConnection,
    records: &[CityRecord],
    now: DateTime<Utc>,
) -> anyhow::Result<ImportReport> {
    conn.immediate_transaction(|conn| {
        let existing = City::identities(conn)?;
        let mut by_identity: HashMap<(String, String), i32> = HashMap::new();
        let mut taken: HashSet<String> = HashSet::new();
        // How many distinct cities share each name-slug, across the file and the table.
        let mut sharing: HashMap<String, HashSet<(String, String)>> = HashMap::new();
        for (id, slug, name, code) in existing {
            let key = (name.to_lowercase(), code);
            if let Ok(base) = Slug::from_name(&name) {
                sharing
                    .entry(base.as_str().to_owned())
                    .or_default()
                    .insert(key.clone());
            }
            by_identity.insert(key, id);
            taken.insert(slug);
        }
        for r in records {
            if let Ok(base) = Slug::from_name(&r.name) {
                sharing
                    .entry(base.as_str().to_owned())
                    .or_default()
                    .insert((r.name.to_lowercase(), r.country_code.as_str().to_owned()));
            }
        }

        let mut report = ImportReport::default();
        let now = now.naive_utc();
        for r in records {
            let key = (r.name.to_lowercase(), r.country_code.as_str().to_owned());
            if let Some(&id) = by_identity.get(&key) {
                let changed = diesel::update(cities::table.find(id))
                    .filter(
                        cities::name
                            .ne(&r.name)
                            .or(cities::country.ne(&r.country))
                            .or(cities::field.ne(r.field.slug()))
                            .or(cities::designation_year.ne(r.year))
                            .or(cities::latitude.ne(r.latitude))
                            .or(cities::longitude.ne(r.longitude))
                            .or(cities::timezone.ne(r.timezone.name())),
                    )
                    .set((
                        cities::name.eq(&r.name),
                        cities::country.eq(&r.country),
                        cities::field.eq(r.field.slug()),
                        cities::designation_year.eq(r.year),
                        cities::latitude.eq(r.latitude),
                        cities::longitude.eq(r.longitude),
                        cities::timezone.eq(r.timezone.name()),
                        cities::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                if changed > 0 {
                    report.updated += 1;
                } else {
                    report.unchanged += 1;
                }
                continue;
            }
            let slug = choose_slug(r, &sharing, &taken).with_context(|| {
                format!("line {}: no slug can be made from {:?}", r.line, r.name)
            })?;
            taken.insert(slug.clone());
            diesel::insert_into(cities::table)
                .values(NewCity {
                    slug,
                    name: r.name.clone(),
                    country: r.country.clone(),
                    country_code: r.country_code.as_str().to_owned(),
                    field: r.field.slug().to_owned(),
                    designation_year: r.year,
                    latitude: r.latitude,
                    longitude: r.longitude,
                    timezone: r.timezone.name().to_owned(),
                    description: None,
                    created_at: now,
                    updated_at: now,
                })
                .execute(conn)?;
            report.added += 1;
        }
        Ok(report)
    })
}

fn choose_slug(
    record: &CityRecord,
    sharing: &HashMap<String, HashSet<(String, String)>>,
    taken: &HashSet<String>,
) -> Option<String> {
    let base = Slug::from_name(&record.name).ok()?;
    let shared = sharing.get(base.as_str()).is_some_and(|s| s.len() > 1);
    let code = record.country_code.as_str().to_ascii_lowercase();
    let mut candidates = Vec::new();
    if !shared {
        candidates.push(base.clone());
    }
    candidates.push(base.with_suffix(&code).ok()?);
    for n in 2..100 {
        candidates.push(base.with_suffix(&format!("{code}-{n}")).ok()?);
    }
    candidates
        .into_iter()
        .map(|s| s.as_str().to_owned())
        .find(|s| !taken.contains(s))
}

/// Checks and imports a CSV text.
pub fn import_csv(
    conn: &mut SqliteConnection,
    text: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<ImportReport> {
    let records = parse_csv(text)?;
    import_records(conn, &records, now)
}

/// Loads the network's cities when the table is empty; later starts change nothing.
pub fn seed_if_empty(conn: &mut SqliteConnection) -> anyhow::Result<Option<ImportReport>> {
    if City::count(conn)? > 0 {
        return Ok(None);
    }
    let report =
        import_csv(conn, NETWORK_CSV, Utc::now()).context("loading the network's cities")?;
    tracing::info!(%report, "loaded the network's cities");
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_has_406_cities_in_8_fields() {
        let records = parse_csv(NETWORK_CSV).unwrap();
        assert_eq!(records.len(), 406);
        // The counts of shared/data/README.md, which says where they come from.
        let per_field = |field: CreativeField| records.iter().filter(|r| r.field == field).count();
        let counts: Vec<_> = CreativeField::ALL
            .iter()
            .map(|&f| (f.label(), per_field(f)))
            .collect();
        assert_eq!(
            counts,
            [
                ("Crafts and Folk Art", 78),
                ("Design", 53),
                ("Film", 30),
                ("Gastronomy", 66),
                ("Literature", 63),
                ("Media Arts", 27),
                ("Music", 84),
                ("Architecture", 5),
            ]
        );
        assert_eq!(records.iter().filter(|r| r.year == 2025).count(), 56);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_number() {
        let text = "name,country,country_code,field,year,latitude,longitude,timezone\n\
                    Kraków,Poland,PL,Literature,2013,50.06,19.94,Europe/Warsaw\n\
                    Atlantis,Nowhere,XXX,Literature,2013,0,0,UTC\n\
                    Lisbon,Portugal,PT,Dance,2013,38.7,-9.1,Europe/Lisbon\n\
                    Porto,Portugal,PT,Film,2013,138.7,-9.1,Europe/Lisbon\n\
                    Faro,Portugal,PT,Film,2013,37,-7.9,Europe/Faro\n\
                    Short,row\n";
        let err = parse_csv(text).unwrap_err();
        let lines: Vec<u64> = err.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7], "{err}");
        assert!(err.errors[0].message.contains("country_code"));
        assert!(err.errors[1].message.contains("Dance"));
        assert!(err.errors[2].message.contains("latitude"));
        assert!(err.errors[3].message.contains("Europe/Faro"));
        assert!(err.errors[4].message.contains("columns"));
    }

    #[test]
    fn a_spreadsheet_export_with_a_bom_crlf_and_quotes_is_read() {
        let text = "\u{feff}name,country,country_code,field,year,latitude,longitude,timezone\r\n\
                    \"Kraków\",\"Poland\",PL,Literature,2013,50.0614,19.9366,Europe/Warsaw\r\n\
                    \"Santa Fe, NM\",United States,US,Crafts and Folk Art,2005,35.687,-105.9378,America/Denver\r\n";
        let records = parse_csv(text).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].name, "Kraków");
        assert_eq!(records[1].name, "Santa Fe, NM");
        assert_eq!((records[0].line, records[1].line), (2, 3));
    }

    #[test]
    fn a_wrong_header_is_refused() {
        let err = parse_csv("city,country\nKraków,Poland\n").unwrap_err();
        assert_eq!(err.errors[0].line, 1);
        assert!(parse_csv("").is_err());
    }

    #[test]
    fn a_city_listed_twice_is_refused() {
        let text = "name,country,country_code,field,year,latitude,longitude,timezone\n\
                    Kraków,Poland,PL,Literature,2013,50.06,19.94,Europe/Warsaw\n\
                    kraków,Poland,PL,Literature,2013,50.06,19.94,Europe/Warsaw\n";
        let err = parse_csv(text).unwrap_err();
        assert_eq!(err.errors[0].line, 3);
    }
}

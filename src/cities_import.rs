//! Loading the network's cities from CSV (`name,country,country_code,field,year,
//! latitude,longitude,timezone`). Every row is checked before anything is written,
//! and the whole file goes in one transaction: a bad row leaves the table as it was.
//!
//! Two doors, one set of slug rules: [`import_csv`] (`cities import FILE`) adds and
//! updates an admin's file; [`add_shipped_cities`] (every start) adds the rows of the
//! shipped list that the database has never had, and changes no city.

use std::collections::{HashMap, HashSet};
use std::fmt;

use anyhow::Context;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::models::{City, NewCity, ShippedCity};
use crate::db::schema::cities;
use crate::domain::{CountryCode, CreativeField, Slug, TimeZoneName};

/// The cities shipped with the binary; every start adds those the database never had.
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

/// How a city is known in import files and in the shipped list: its name, whatever its
/// case, and its country code. A name alone is not enough (two Granadas).
type Identity = (String, String);

fn identity(name: &str, country_code: &str) -> Identity {
    (name.to_lowercase(), country_code.to_owned())
}

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

impl CityRecord {
    fn identity(&self) -> Identity {
        identity(&self.name, self.country_code.as_str())
    }
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
                if seen.insert(record.identity()) {
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
    conn: &mut DbConnection,
    records: &[CityRecord],
    now: DateTime<Utc>,
) -> anyhow::Result<ImportReport> {
    conn.immediate_transaction(|conn| {
        let mut known = KnownCities::load(conn, records)?;
        let mut report = ImportReport::default();
        let now = now.naive_utc();
        for r in records {
            match known.id_of(r) {
                Some(id) if update_city(conn, id, r, now)? => report.updated += 1,
                Some(_) => report.unchanged += 1,
                None => {
                    known.add(conn, r, now)?;
                    report.added += 1;
                }
            }
        }
        Ok(report)
    })
}

/// Writes `record` over city `id`; false when it already said the same.
fn update_city(
    conn: &mut DbConnection,
    id: i32,
    r: &CityRecord,
    now: NaiveDateTime,
) -> QueryResult<bool> {
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
    Ok(changed > 0)
}

/// The cities of the table, as the slug rules need them, kept up to date as cities are
/// added within one transaction.
struct KnownCities {
    ids: HashMap<Identity, i32>,
    taken: HashSet<String>,
    /// The distinct cities, in the table or about to be added, that share each name-slug:
    /// where there are two, a new one gets the country code.
    sharing: HashMap<String, HashSet<Identity>>,
}

impl KnownCities {
    /// The table's cities, with `incoming`, the records that may be added, counted
    /// among those that share a name.
    fn load<'a>(
        conn: &mut DbConnection,
        incoming: impl IntoIterator<Item = &'a CityRecord>,
    ) -> QueryResult<Self> {
        let mut known = KnownCities {
            ids: HashMap::new(),
            taken: HashSet::new(),
            sharing: HashMap::new(),
        };
        for (id, slug, name, code) in City::identities(conn)? {
            let key = identity(&name, &code);
            known.share(&name, key.clone());
            known.ids.insert(key, id);
            known.taken.insert(slug);
        }
        for r in incoming {
            known.share(&r.name, r.identity());
        }
        Ok(known)
    }

    fn share(&mut self, name: &str, key: Identity) {
        if let Ok(base) = Slug::from_name(name) {
            self.sharing
                .entry(base.as_str().to_owned())
                .or_default()
                .insert(key);
        }
    }

    fn id_of(&self, record: &CityRecord) -> Option<i32> {
        self.ids.get(&record.identity()).copied()
    }

    /// Inserts `r` as a new city, with a slug no other city has.
    fn add(
        &mut self,
        conn: &mut DbConnection,
        r: &CityRecord,
        now: NaiveDateTime,
    ) -> anyhow::Result<()> {
        let slug = choose_slug(r, &self.sharing, &self.taken)
            .with_context(|| format!("line {}: no slug can be made from {:?}", r.line, r.name))?;
        self.taken.insert(slug.clone());
        let id = diesel::insert_into(cities::table)
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
            .returning(cities::id)
            .get_result(conn)?;
        self.ids.insert(r.identity(), id);
        Ok(())
    }
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
    conn: &mut DbConnection,
    text: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<ImportReport> {
    let records = parse_csv(text)?;
    import_records(conn, &records, now)
}

/// What a start did with the shipped list: the cities it added, and the rows it had
/// never applied that found their city already there (an admin had imported it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShippedReport {
    pub added: usize,
    pub already_present: usize,
}

impl fmt::Display for ShippedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "added {} cities from the shipped list", self.added)?;
        if self.already_present > 0 {
            write!(
                f,
                "; {} more of its cities were in the database already",
                self.already_present
            )?;
        }
        Ok(())
    }
}

/// Adds the cities of the shipped list that this database has never had, and changes
/// no city that it has: run at every start, so that an installation gains the cities of
/// a new release without a step by hand, and keeps what its admins did to the others.
///
/// "Never had" is kept in `shipped_cities`, not read off `cities`: a shipped city that an
/// admin renamed or deleted is not in `cities` under its shipped name any more, and must
/// not come back as a duplicate. A row that finds its city already there (imported by an
/// admin before the release shipped it) is recorded and leaves the city as it is.
///
/// One immediate transaction, so that servers starting at once on one database take
/// turns: the second sees what the first recorded and adds nothing.
pub fn add_shipped_cities(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
) -> anyhow::Result<ShippedReport> {
    add_unapplied(conn, NETWORK_CSV, now)
}

/// [`add_shipped_cities`] with `list` as the shipped list, for the tests of its rules.
fn add_unapplied(
    conn: &mut DbConnection,
    list: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<ShippedReport> {
    let records = parse_csv(list).context("reading the shipped list of cities")?;
    // Most starts have nothing to add: find that out without the write lock, which would
    // make this start wait for, and then hold up, the writes of the servers running.
    if unapplied(conn, &records)?.is_empty() {
        return Ok(ShippedReport::default());
    }
    let report = conn
        .immediate_transaction(|conn| -> anyhow::Result<ShippedReport> {
            // Again under the lock: another server may have applied them meanwhile.
            let new = unapplied(conn, &records)?;
            let mut known = KnownCities::load(conn, new.iter().copied())?;
            let mut report = ShippedReport::default();
            let naive_now = now.naive_utc();
            for r in new {
                if known.id_of(r).is_some() {
                    report.already_present += 1;
                } else {
                    known.add(conn, r, naive_now)?;
                    report.added += 1;
                }
                ShippedCity::record(conn, &r.name, r.country_code.as_str(), now)?;
            }
            Ok(report)
        })
        .context("adding the shipped cities")?;
    tracing::info!(
        added = report.added,
        already_present = report.already_present,
        "{report}"
    );
    Ok(report)
}

/// The shipped rows that `shipped_cities` does not record.
fn unapplied<'a>(
    conn: &mut DbConnection,
    records: &'a [CityRecord],
) -> QueryResult<Vec<&'a CityRecord>> {
    let applied: HashSet<Identity> = ShippedCity::all(conn)?
        .iter()
        .map(|(name, code)| identity(name, code))
        .collect();
    Ok(records
        .iter()
        .filter(|r| !applied.contains(&r.identity()))
        .collect())
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

    fn database() -> (tempfile::TempDir, crate::db::DbConn) {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::connect(dir.path().join("cities.db"), 1).unwrap();
        let conn = pool.get().unwrap();
        (dir, conn)
    }

    fn list(rows: &[&str]) -> String {
        format!("{}\n{}\n", HEADER.join(","), rows.join("\n"))
    }

    fn now() -> DateTime<Utc> {
        "2026-12-02T00:00:00Z".parse().unwrap()
    }

    const KRAKOW: &str = "Kraków,Poland,PL,Literature,2013,50.06,19.94,Europe/Warsaw";
    const LYON: &str = "Lyon,France,FR,Literature,2023,45.75,4.85,Europe/Paris";
    const NEWTOWN: &str = "Newtown,Atlantis Republic,AT,Music,2030,47.0,15.4,Europe/Vienna";

    fn year_of(conn: &mut DbConnection, slug: &str) -> i32 {
        City::find_by_slug(conn, slug).unwrap().designation_year
    }

    #[test]
    fn a_later_list_adds_only_its_new_rows_by_the_import_s_slug_rules() {
        let (_dir, mut conn) = database();
        let first = list(&[KRAKOW, LYON]);
        let report = add_unapplied(&mut conn, &first, now()).unwrap();
        assert_eq!(report.added, 2);
        diesel::update(cities::table.filter(cities::slug.eq("lyon")))
            .set(cities::designation_year.eq(2008))
            .execute(&mut conn)
            .unwrap();

        let second = list(&[
            KRAKOW,
            LYON,
            "Kraków,Elsewhere,XE,Design,2030,1.0,1.0,Europe/Warsaw",
            NEWTOWN,
        ]);
        let report = add_unapplied(&mut conn, &second, now()).unwrap();
        assert_eq!(
            report,
            ShippedReport {
                added: 2,
                already_present: 0
            }
        );
        // A new city of a name already taken gets the country code; the old one keeps
        // its slug, and the admin's edit of Lyon stays.
        assert_eq!(
            City::find_by_slug(&mut conn, "krakow").unwrap().country,
            "Poland"
        );
        assert_eq!(
            City::find_by_slug(&mut conn, "krakow-xe").unwrap().country,
            "Elsewhere"
        );
        assert_eq!(year_of(&mut conn, "lyon"), 2008);
        assert_eq!(year_of(&mut conn, "newtown"), 2030);
        assert_eq!(
            add_unapplied(&mut conn, &second, now()).unwrap(),
            ShippedReport::default()
        );
        assert_eq!(City::count(&mut conn).unwrap(), 4);
    }

    #[test]
    fn a_shipped_city_an_admin_renamed_or_deleted_is_not_added_again() {
        let (_dir, mut conn) = database();
        let shipped = list(&[KRAKOW, LYON]);
        add_unapplied(&mut conn, &shipped, now()).unwrap();
        diesel::update(cities::table.filter(cities::slug.eq("krakow")))
            .set(cities::name.eq("Cracow"))
            .execute(&mut conn)
            .unwrap();
        diesel::delete(cities::table.filter(cities::slug.eq("lyon")))
            .execute(&mut conn)
            .unwrap();
        assert_eq!(
            add_unapplied(&mut conn, &shipped, now()).unwrap(),
            ShippedReport::default()
        );
        let left = City::list(&mut conn, &Default::default()).unwrap();
        let names: Vec<_> = left.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Cracow"]);
    }

    #[test]
    fn a_shipped_row_whose_city_an_admin_imported_first_leaves_that_city_alone() {
        let (_dir, mut conn) = database();
        let imported = "Newtown,Atlantis Republic,AT,Music,2027,47.0,15.4,Europe/Vienna";
        import_csv(&mut conn, &list(&[imported]), now()).unwrap();
        let shipped = list(&[KRAKOW, NEWTOWN]);
        let report = add_unapplied(&mut conn, &shipped, now()).unwrap();
        assert_eq!(
            report,
            ShippedReport {
                added: 1,
                already_present: 1
            }
        );
        assert_eq!(year_of(&mut conn, "newtown"), 2027, "as the admin had it");
        assert_eq!(
            add_unapplied(&mut conn, &shipped, now()).unwrap(),
            ShippedReport::default()
        );
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

//! What the VEVENTs of an organiser's feed mean here: each becomes the form an organiser
//! would have typed (so that an import goes through the same cleaning and limits as the
//! form), or is skipped with a reason that the source page shows.
//!
//! Times are read in their own zone (a TZID with or without its VTIMEZONE, a Windows
//! zone name, UTC, or floating times in `X-WR-TIMEZONE` or else the city's zone) and
//! written as the city's local time: every event of a city lives in the city's zone.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::html;
use super::ics::{Component, Document, IcsTime, Property, parse_duration};
use super::zones;
use crate::domain::{CreativeField, EventForm, EventKind, EventStatus, FieldErrors, short};
use crate::workflows::events::OccurrenceForm;

/// A source UID longer than this is refused: some exporters make UIDs of whole URLs,
/// and a key must stay a key.
pub const MAX_UID_CHARS: usize = 1_000;

/// The earliest year an imported event may start in: anything before is a placeholder
/// (1970, 1601) or a feed's ancient history.
pub const FIRST_YEAR: i32 = 2000;

/// What the source says of events the feed leaves open.
#[derive(Debug, Clone)]
pub struct ImportDefaults {
    pub city_tz: Tz,
    /// The venue of an event whose feed names none: the city.
    pub city_name: String,
    pub kind: EventKind,
    /// `None`: the city's field.
    pub field: Option<CreativeField>,
    pub categories: CategoryMap,
}

/// The source's mapping from the feed's CATEGORIES to kinds, as the organiser wrote it:
/// one `Category = kind` a line. Categories that name a kind or a field by its slug or
/// label ("Exhibition", "Talk or reading", "Music") need no line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryMap(Vec<(String, EventKind)>);

impl CategoryMap {
    /// The map, or the first line that is not `Category = kind` with a known kind.
    pub fn parse(text: &str) -> Result<CategoryMap, String> {
        let mut map = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some((category, kind)) = line.split_once('=') else {
                return Err(format!(
                    "Line {}: write each mapping as “Category = kind”, such as “Ausstellung = exhibition”.",
                    n + 1
                ));
            };
            let kind = kind.trim().to_lowercase();
            let Some(kind) = kind_named(&kind) else {
                return Err(format!(
                    "Line {}: “{}” is not a kind; use one of {}.",
                    n + 1,
                    short(kind.trim()),
                    EventKind::slugs()
                ));
            };
            let category = category.trim();
            if category.is_empty() || category.chars().count() > 100 {
                return Err(format!(
                    "Line {}: name the feed's category (up to 100 characters) before “=”.",
                    n + 1
                ));
            }
            map.push((category.to_lowercase(), kind));
        }
        if map.len() > 100 {
            return Err("At most 100 category mappings.".to_owned());
        }
        Ok(CategoryMap(map))
    }

    /// The map as the form shows it.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|(c, k)| format!("{c} = {}", k.slug()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn kind_of(&self, category: &str) -> Option<EventKind> {
        let category = category.trim().to_lowercase();
        self.0
            .iter()
            .find(|(c, _)| *c == category)
            .map(|(_, k)| *k)
            .or_else(|| kind_named(&category))
    }
}

/// A kind named by its slug or its label, in any case.
fn kind_named(name: &str) -> Option<EventKind> {
    EventKind::ALL
        .iter()
        .copied()
        .find(|k| k.slug() == name || k.label().eq_ignore_ascii_case(name))
}

/// A VEVENT (with its overrides) as it will be stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappedEvent {
    /// The source's UID: the key of the event, per source.
    pub uid: String,
    pub form: EventForm,
    pub status: EventStatus,
    pub coordinates: Option<(f64, f64)>,
    /// RECURRENCE-ID overrides, by the local date of the occurrence they replace.
    pub overrides: BTreeMap<NaiveDate, OccurrenceForm>,
    /// The feed's zone when it is not the city's (the page shows both times).
    pub source_timezone: Option<String>,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl MappedEvent {
    /// What the event maps to, hashed: the same VEVENT on the next fetch gives the same
    /// hash, so an unchanged event is not written at all (DTSTAMP, LAST-MODIFIED and
    /// the source's own SEQUENCE are not part of it: many servers renew them anyway).
    pub fn content_hash(&self) -> String {
        use sha2::Digest;
        let json = serde_json::to_vec(self).unwrap_or_default();
        crate::domain::hex(&sha2::Sha256::digest(&json))
    }
}

/// A VEVENT left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub uid: Option<String>,
    pub summary: Option<String>,
    pub reason: String,
}

/// What a feed maps to.
#[derive(Debug, Clone, Default)]
pub struct Mapped {
    pub events: Vec<MappedEvent>,
    pub skipped: Vec<Skipped>,
    /// About the feed as a whole (a zone read in the city's instead).
    pub warnings: Vec<String>,
    /// Every UID the feed holds, skipped ones included: only an event whose UID is gone
    /// from the feed has vanished from it.
    pub uids: HashSet<String>,
    /// `X-WR-CALNAME` or `NAME`.
    pub name: Option<String>,
}

/// Maps every VEVENT of `doc`. `today` is the city's date: events over before it are
/// not imported.
pub fn map_calendar(doc: &Document, defaults: &ImportDefaults, today: NaiveDate) -> Mapped {
    let cal = &doc.calendar;
    let mut mapped = Mapped {
        name: cal
            .property("X-WR-CALNAME")
            .or_else(|| cal.property("NAME"))
            .map(|p| p.text())
            .filter(|n| !n.trim().is_empty()),
        ..Mapped::default()
    };
    let floating = match cal.property("X-WR-TIMEZONE").map(|p| p.text()) {
        Some(name) => match zones::resolve(name.trim(), cal) {
            Some(tz) => tz,
            None => {
                mapped.warnings.push(format!(
                    "X-WR-TIMEZONE “{}” is not a time zone; times without a zone are read in the city's zone.",
                    short(name.trim())
                ));
                defaults.city_tz
            }
        },
        None => defaults.city_tz,
    };
    let reader = TimeReader {
        cal,
        city: defaults.city_tz,
        floating,
    };

    // Masters and their overrides, by UID, in the order the feed gives them.
    let mut order: Vec<String> = Vec::new();
    let mut masters: BTreeMap<String, &Component> = BTreeMap::new();
    let mut overrides: BTreeMap<String, Vec<&Component>> = BTreeMap::new();
    for event in cal.children_named("VEVENT") {
        let summary = event.property("SUMMARY").map(|p| p.text());
        let Some(uid) = event
            .property("UID")
            .map(|p| p.text().trim().to_owned())
            .filter(|u| !u.is_empty())
        else {
            mapped.skipped.push(Skipped {
                uid: None,
                summary,
                reason: "no UID".to_owned(),
            });
            continue;
        };
        if uid.chars().count() > MAX_UID_CHARS {
            mapped.skipped.push(Skipped {
                uid: Some(uid.chars().take(60).collect::<String>() + "…"),
                summary,
                reason: format!("UID longer than {MAX_UID_CHARS} characters"),
            });
            continue;
        }
        if mapped.uids.insert(uid.clone()) {
            order.push(uid.clone());
        }
        if event.property("RECURRENCE-ID").is_some() {
            overrides.entry(uid).or_default().push(event);
        } else {
            match masters.entry(uid) {
                std::collections::btree_map::Entry::Occupied(e) => mapped.skipped.push(Skipped {
                    uid: Some(e.key().clone()),
                    summary,
                    reason: "a second VEVENT with the same UID and no RECURRENCE-ID".to_owned(),
                }),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(event);
                }
            }
        }
    }

    for uid in order {
        let changes = overrides.remove(&uid).unwrap_or_default();
        match masters.get(&uid) {
            Some(master) => match map_event(master, &uid, &changes, defaults, &reader, today) {
                Ok(event) => mapped.events.push(event),
                Err(reason) => mapped.skipped.push(Skipped {
                    uid: Some(uid.clone()),
                    summary: master.property("SUMMARY").map(|p| p.text()),
                    reason,
                }),
            },
            // An override without its series (Google's feeds hold them): a single event
            // of its own, keyed by its UID and its RECURRENCE-ID.
            None => {
                for orphan in changes {
                    let rid = orphan
                        .property("RECURRENCE-ID")
                        .map(|p| p.value.trim().to_owned())
                        .unwrap_or_default();
                    let key = format!("{uid}#{rid}");
                    mapped.uids.insert(key.clone());
                    match map_event(orphan, &key, &[], defaults, &reader, today) {
                        Ok(event) => mapped.events.push(event),
                        Err(reason) => mapped.skipped.push(Skipped {
                            uid: Some(key),
                            summary: orphan.property("SUMMARY").map(|p| p.text()),
                            reason,
                        }),
                    }
                }
            }
        }
    }
    mapped
}

/// How the times of one feed are read.
struct TimeReader<'a> {
    cal: &'a Component,
    city: Tz,
    /// The zone of floating times.
    floating: Tz,
}

/// A time of the feed, in the city's zone.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Moment {
    Date(NaiveDate),
    /// The city's local time, and the feed's zone when it is another.
    Local(NaiveDateTime, Option<Tz>),
}

impl TimeReader<'_> {
    fn read(&self, property: &Property, warnings: &mut Vec<String>) -> Result<Moment, String> {
        let name = property.name.as_str();
        let time = property.time().map_err(|e| format!("{name}: {e}"))?;
        let (local, zone) = match time {
            IcsTime::Date(d) => return Ok(Moment::Date(d)),
            IcsTime::Floating(t) => (t, self.floating),
            IcsTime::Utc(t) => {
                let local = Utc.from_utc_datetime(&t).with_timezone(&self.city);
                return Ok(Moment::Local(local.naive_local(), None));
            }
            IcsTime::Zoned(t, tzid) => match zones::resolve(&tzid, self.cal) {
                Some(tz) => (t, tz),
                None => {
                    let w = format!(
                        "The time zone “{}” is not known; its times are read in the city's zone.",
                        short(&tzid)
                    );
                    if !warnings.contains(&w) {
                        warnings.push(w);
                    }
                    (t, self.city)
                }
            },
        };
        if zone == self.city {
            return Ok(Moment::Local(local, None));
        }
        // A local time the clocks skip is read as the same wall time after the change,
        // as every calendar client does.
        let instant = zone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(local + TimeDelta::hours(1)))
                    .earliest()
            })
            .ok_or_else(|| format!("{name}: {local} does not exist in {}", zone.name()))?;
        Ok(Moment::Local(
            instant.with_timezone(&self.city).naive_local(),
            Some(zone),
        ))
    }
}

fn map_event(
    event: &Component,
    uid: &str,
    changes: &[&Component],
    defaults: &ImportDefaults,
    reader: &TimeReader,
    today: NaiveDate,
) -> Result<MappedEvent, String> {
    let mut warnings = Vec::new();
    let raw_status = event
        .property("STATUS")
        .map(|p| p.value.trim().to_uppercase())
        .unwrap_or_default();
    let summary = event
        .property("SUMMARY")
        .map(|p| p.text())
        .filter(|s| !s.trim().is_empty())
        .ok_or("no SUMMARY")?;
    // This site (and others) prefix the title of a cancelled or postponed event for the
    // clients that show no STATUS; the status itself says it here.
    let (title, status) = match raw_status.as_str() {
        "CANCELLED" => (
            strip_prefix(&summary, &["Cancelled: ", "Canceled: "]),
            EventStatus::Cancelled,
        ),
        "TENTATIVE" if summary.starts_with("Postponed: ") => (
            strip_prefix(&summary, &["Postponed: "]),
            EventStatus::Postponed,
        ),
        _ => (summary.clone(), EventStatus::Scheduled),
    };

    let start_property = event.property("DTSTART").ok_or("no DTSTART")?;
    let start = reader.read(start_property, &mut warnings)?;
    let start_day = match start {
        Moment::Date(d) => d,
        Moment::Local(t, _) => t.date(),
    };
    if start_day < first_day() {
        return Err(format!("DTSTART before {FIRST_YEAR}"));
    }
    let end = match (event.property("DTEND"), event.property("DURATION")) {
        (Some(p), _) => Some(reader.read(p, &mut warnings)?),
        (None, Some(p)) => {
            let length = parse_duration(p.value.trim()).map_err(|e| format!("DURATION: {e}"))?;
            Some(match start {
                Moment::Date(d) => Moment::Date(d + TimeDelta::days(length.num_days().max(1))),
                Moment::Local(t, zone) => Moment::Local(t + length, zone),
            })
        }
        (None, None) => None,
    };
    let source_timezone = match start {
        Moment::Local(_, Some(zone)) => Some(zone.name().to_owned()),
        _ => None,
    };

    let mut form = EventForm {
        title,
        ..EventForm::default()
    };
    // Both ends in the form's terms: an all-day event's last day is the day before an
    // exclusive DTEND; midnight to midnight is a whole day too.
    match (start, end) {
        (Moment::Date(first), end) => {
            let last = match end {
                Some(Moment::Date(d)) if d > first => d - TimeDelta::days(1),
                Some(Moment::Date(d)) if d < first => {
                    return Err(end_before_start(&first.to_string(), &d.to_string()));
                }
                Some(Moment::Local(t, _)) if t.date() > first => {
                    if t.time() == NaiveTime::MIN {
                        t.date() - TimeDelta::days(1)
                    } else {
                        t.date()
                    }
                }
                _ => first,
            };
            form.all_day = Some("on".to_owned());
            form.start_date = first.to_string();
            form.end_date = last.to_string();
        }
        (Moment::Local(s, _), Some(Moment::Local(e, _)))
            if s.time() == NaiveTime::MIN && e.time() == NaiveTime::MIN && e > s =>
        {
            form.all_day = Some("on".to_owned());
            form.start_date = s.date().to_string();
            form.end_date = (e.date() - TimeDelta::days(1)).to_string();
        }
        (Moment::Local(s, _), end) => {
            let e = match end {
                Some(Moment::Local(e, _)) => Some(e),
                Some(Moment::Date(d)) => Some(d.and_time(NaiveTime::MIN)),
                None => None,
            };
            if let Some(e) = e
                && e < s
            {
                return Err(end_before_start(&hm(s), &hm(e)));
            }
            form.start_date = s.date().to_string();
            form.start_time = s.format("%H:%M").to_string();
            if let Some(e) = e.filter(|e| *e > s) {
                form.end_date = e.date().to_string();
                form.end_time = e.format("%H:%M").to_string();
            }
        }
    }
    let last_day = form
        .end_date
        .parse::<NaiveDate>()
        .ok()
        .or_else(|| form.start_date.parse().ok())
        .unwrap_or(start_day);

    if let Some(rule) = event.property("RRULE") {
        repeat_fields(&rule.value, &mut form, reader, &mut warnings)?;
        if let Ok(until) = form.repeat_until.parse::<NaiveDate>()
            && until < today
        {
            return Err(format!("already over (the series ended on {until})"));
        }
        let mut skip = Vec::new();
        for exdate in event.properties("EXDATE") {
            for value in exdate.value_list() {
                let single = Property {
                    value: value.to_owned(),
                    ..exdate.clone()
                };
                match reader.read(&single, &mut warnings)? {
                    Moment::Date(d) => skip.push(d),
                    Moment::Local(t, _) => skip.push(t.date()),
                }
            }
        }
        skip.sort();
        skip.dedup();
        form.skip_dates = skip
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ");
    } else if last_day < today {
        return Err(format!("already over (it ended on {last_day})"));
    }
    if event.property("RDATE").is_some() {
        return Err("RDATE (extra dates outside the rule) is not supported".to_owned());
    }

    form.description = description(event);
    if let Some(location) = event.property("LOCATION").map(|p| p.text()) {
        let (venue, address) = split_location(&location);
        form.venue = venue;
        form.address = address;
    }
    // The form needs a venue; many feeds give none (online talks, city-wide days).
    if form.venue.trim().is_empty() {
        form.venue = defaults.city_name.clone();
    }
    form.url = event
        .property("URL")
        .map(|p| p.value.trim().to_owned())
        .unwrap_or_default();
    let categories: Vec<String> = event
        .properties("CATEGORIES")
        .flat_map(|p| p.text_list())
        .collect();
    let kind = categories
        .iter()
        .find_map(|c| defaults.categories.kind_of(c))
        .unwrap_or(defaults.kind);
    form.kind = kind.slug().to_owned();
    let field = categories
        .iter()
        .find_map(|c| CreativeField::from_label(c))
        .or(defaults.field);
    form.field = field.map(|f| f.slug().to_owned()).unwrap_or_default();
    let coordinates = event.property("GEO").and_then(|p| geo(&p.value));

    let mut mapped_overrides = BTreeMap::new();
    if form.repeat.is_empty() && !changes.is_empty() {
        warnings.push("RECURRENCE-ID overrides of an event that does not repeat; ignored.".into());
    }
    for change in changes.iter().filter(|_| !form.repeat.is_empty()) {
        match override_form(change, &form, reader, &mut warnings) {
            Ok((date, occurrence)) => {
                mapped_overrides.insert(date, occurrence);
            }
            Err(reason) => warnings.push(format!("An override was left out: {reason}.")),
        }
    }

    Ok(MappedEvent {
        uid: uid.to_owned(),
        form,
        status,
        coordinates,
        overrides: mapped_overrides,
        source_timezone,
        warnings,
    })
}

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn hm(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn end_before_start(start: &str, end: &str) -> String {
    format!("the end ({end}) is before the start ({start})")
}

fn strip_prefix(text: &str, prefixes: &[&str]) -> String {
    prefixes
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .unwrap_or(text)
        .to_owned()
}

/// DESCRIPTION as plain text; HTML (Google writes it there, Outlook in X-ALT-DESC)
/// becomes text with its links kept.
fn description(event: &Component) -> String {
    let plain = event.property("DESCRIPTION").map(|p| p.text());
    match plain {
        Some(text) if html::looks_like_html(&text) => html::to_text(&text),
        Some(text) if !text.trim().is_empty() => text.trim().to_owned(),
        _ => event
            .property("X-ALT-DESC")
            .map(|p| html::to_text(&p.text()))
            .unwrap_or_default(),
    }
}

/// "Venue, street, city" → the venue and the rest; Meetup's "Venue (street, city)" too.
fn split_location(location: &str) -> (String, String) {
    let location = location.trim();
    if let Some(open) = location.find(" (")
        && location.ends_with(')')
    {
        let venue = location[..open].trim();
        let address = location[open + 2..location.len() - 1].trim();
        return (venue.to_owned(), address.to_owned());
    }
    match location.split_once(',') {
        Some((venue, address)) => (venue.trim().to_owned(), address.trim().to_owned()),
        None => (location.to_owned(), String::new()),
    }
}

fn geo(value: &str) -> Option<(f64, f64)> {
    let (lat, lon) = value.split_once(';').or_else(|| value.split_once(','))?;
    let (lat, lon): (f64, f64) = (lat.trim().parse().ok()?, lon.trim().parse().ok()?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// An RRULE in the form's terms, or why the model here cannot hold it.
fn repeat_fields(
    rule: &str,
    form: &mut EventForm,
    reader: &TimeReader,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let mut parts = BTreeMap::new();
    for part in rule.trim().split(';').filter(|p| !p.trim().is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!("RRULE part “{}” is not NAME=VALUE", short(part)));
        };
        parts.insert(key.trim().to_uppercase(), value.trim().to_uppercase());
    }
    let freq = parts.remove("FREQ").ok_or("RRULE without FREQ")?;
    let byday: Vec<String> = parts
        .remove("BYDAY")
        .map(|v| v.split(',').map(|d| d.trim().to_owned()).collect())
        .unwrap_or_default();
    let start: Option<NaiveDate> = form.start_date.parse().ok();
    let bymonthday = parts.remove("BYMONTHDAY");
    let bymonth = parts.remove("BYMONTH");
    parts.remove("WKST");
    form.repeat = match freq.as_str() {
        "DAILY" => {
            if !byday.is_empty() {
                return Err("RRULE FREQ=DAILY with BYDAY is not supported".to_owned());
            }
            "daily"
        }
        "WEEKLY" => {
            let mut slugs = Vec::new();
            for day in &byday {
                let slug = day.to_lowercase();
                if crate::domain::recurrence::parse_weekday(&slug).is_none() {
                    return Err(format!("RRULE BYDAY “{}” is not a weekday", short(day)));
                }
                slugs.push(slug);
            }
            if slugs.is_empty()
                && let Some(start) = start
            {
                slugs.push(crate::domain::recurrence::weekday_slug(start.weekday()).to_owned());
            }
            form.repeat_weekdays = slugs.join(",");
            "weekly"
        }
        "MONTHLY" => match (byday.as_slice(), bymonthday.as_deref()) {
            ([], None) => "monthly_by_date",
            ([], Some(day)) if Some(day) == start.map(|s| s.day().to_string()).as_deref() => {
                "monthly_by_date"
            }
            ([day], None) => {
                let (nth, weekday) = day.split_at(day.len().saturating_sub(2));
                let nth = match nth.trim_start_matches('+') {
                    "-1" => "last".to_owned(),
                    n @ ("1" | "2" | "3" | "4") => n.to_owned(),
                    _ => {
                        return Err(format!(
                            "RRULE BYDAY “{}” is not supported (the 1st to 4th or the last weekday of the month are)",
                            short(day)
                        ));
                    }
                };
                if Some(weekday.to_lowercase())
                    != start.map(|s| crate::domain::recurrence::weekday_slug(s.weekday()).to_owned())
                {
                    return Err(
                        "RRULE BYDAY names another weekday than DTSTART's, which is not supported"
                            .to_owned(),
                    );
                }
                form.repeat_nth = nth;
                "monthly_by_weekday"
            }
            _ => {
                return Err(
                    "RRULE FREQ=MONTHLY with several days is not supported".to_owned(),
                );
            }
        },
        "YEARLY" => {
            let same_month = bymonth.as_deref().is_none_or(|m| {
                Some(m) == start.map(|s| s.month().to_string()).as_deref()
            });
            if !byday.is_empty() || !same_month || bymonthday.is_some() {
                return Err("RRULE FREQ=YEARLY on other days than DTSTART's is not supported".into());
            }
            "yearly"
        }
        other => {
            return Err(format!(
                "RRULE FREQ={} is not supported",
                short(other)
            ));
        }
    }
    .to_owned();
    if let Some(interval) = parts.remove("INTERVAL") {
        form.repeat_interval = interval;
    }
    let count = parts.remove("COUNT");
    let until = parts.remove("UNTIL");
    if let Some(other) = parts.keys().next() {
        return Err(format!("RRULE with {} is not supported", short(other)));
    }
    match (count, until) {
        (None, None) => return Err("RRULE with no end".to_owned()),
        (Some(count), _) => form.repeat_count = count,
        (None, Some(until)) => {
            let property = Property {
                name: "UNTIL".to_owned(),
                params: Vec::new(),
                value: until,
                line: 0,
            };
            form.repeat_until = match reader.read(&property, warnings)? {
                Moment::Date(d) => d.to_string(),
                Moment::Local(t, _) => t.date().to_string(),
            };
        }
    }
    Ok(())
}

/// An override (a VEVENT with RECURRENCE-ID) as the occurrence form: the date of the
/// occurrence it replaces, and what differs from the series.
fn override_form(
    change: &Component,
    series: &EventForm,
    reader: &TimeReader,
    warnings: &mut Vec<String>,
) -> Result<(NaiveDate, OccurrenceForm), String> {
    let rid = change.property("RECURRENCE-ID").ok_or("no RECURRENCE-ID")?;
    let date = match reader.read(rid, warnings)? {
        Moment::Date(d) => d,
        Moment::Local(t, _) => t.date(),
    };
    let mut form = OccurrenceForm::default();
    if change
        .property("STATUS")
        .is_some_and(|p| p.value.trim().eq_ignore_ascii_case("CANCELLED"))
    {
        form.status = "cancelled".to_owned();
    }
    if let Some(summary) = change.property("SUMMARY").map(|p| p.text()) {
        let title = strip_prefix(summary.trim(), &["Cancelled: ", "Canceled: "]);
        if title != series.title.trim() && !title.is_empty() {
            form.title = title;
        }
    }
    if let Some(start) = change.property("DTSTART") {
        match reader.read(start, warnings)? {
            Moment::Date(d) => {
                if d != date {
                    form.start_date = d.to_string();
                }
            }
            Moment::Local(s, _) => {
                if s.date() != date {
                    form.start_date = s.date().to_string();
                }
                if series.all_day.is_none() {
                    form.start_time = s.format("%H:%M").to_string();
                    let end = match (change.property("DTEND"), change.property("DURATION")) {
                        (Some(p), _) => match reader.read(p, warnings)? {
                            Moment::Local(e, _) => Some(e),
                            Moment::Date(_) => None,
                        },
                        (None, Some(p)) => parse_duration(p.value.trim()).ok().map(|d| s + d),
                        (None, None) => None,
                    };
                    if let Some(e) = end.filter(|e| *e > s) {
                        form.end_time = e.format("%H:%M").to_string();
                    }
                }
            }
        }
    }
    if form.start_time == series.start_time && form.end_time == series.end_time {
        form.start_time.clear();
        form.end_time.clear();
    }
    Ok((date, form))
}

/// A form's errors as one reason, in the feed's terms (SUMMARY, not "title").
pub fn reason_of(errors: &FieldErrors) -> String {
    errors
        .iter()
        .map(|(field, message)| {
            let property = match field {
                "title" => "SUMMARY",
                "description" => "DESCRIPTION",
                "venue" | "address" => "LOCATION",
                "url" => "URL",
                "start_date" | "start_time" => "DTSTART",
                "end_date" | "end_time" | "all_day" => "DTEND",
                "skip_dates" => "EXDATE",
                f if f.starts_with("repeat") => "RRULE",
                "kind" | "field" => "CATEGORIES",
                other => other,
            };
            format!("{property}: {message}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

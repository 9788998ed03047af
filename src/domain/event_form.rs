//! The organisers' event form, as typed, and its parsing into an [`EventDraft`].
//! Every field is checked and every error kept, so that the page can show them all at
//! once beside their fields.

use chrono::{Datelike, NaiveDate, TimeDelta};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::account::{optional_line, required_line};
use super::recurrence::{
    Frequency, Hours, MAX_OCCURRENCES, Nth, OpeningHours, RepeatError, RepeatRule, Series,
    format_date_list, parse_date_list, parse_weekday, weekday_name, weekday_slug, weekdays,
};
use super::schedule::{ScheduleError, local_instant, parse_hh_mm, parse_iso_date};
use super::text::{decoded, limited_text, sentence, short, thousands};
use super::{CreativeField, EventDraft, EventKind, EventSchedule, EventStatus, EventTitle};
use std::collections::BTreeSet;

/// The form's fields, exactly as submitted. The names are a contract shared by the HTML
/// form and the future API: `city`, `kind`, `field`, `title`, `description`, `venue`,
/// `address`, `url`, `price`, `all_day`, `start_date`, `end_date`, `start_time`,
/// `end_time`. Anything missing reads as empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct EventForm {
    pub city: String,
    pub kind: String,
    pub field: String,
    pub title: String,
    pub description: String,
    pub venue: String,
    pub address: String,
    pub url: String,
    pub price: String,
    /// A checkbox: present (any value but "false"/"0"/"off") when ticked.
    pub all_day: Option<String>,
    pub start_date: String,
    pub end_date: String,
    pub start_time: String,
    pub end_time: String,
    /// `none` (or empty), `daily`, `weekly`, `monthly_by_date`, `monthly_by_weekday`,
    /// `yearly`.
    pub repeat: String,
    pub repeat_interval: String,
    /// `mo` … `su`, separated by commas (the form's repeated checkboxes are joined so).
    pub repeat_weekdays: String,
    /// `1` … `4` or `last`.
    pub repeat_nth: String,
    pub repeat_until: String,
    pub repeat_count: String,
    /// Dates separated by commas or new lines.
    pub skip_dates: String,
    pub opens_mo: String,
    pub closes_mo: String,
    pub opens_tu: String,
    pub closes_tu: String,
    pub opens_we: String,
    pub closes_we: String,
    pub opens_th: String,
    pub closes_th: String,
    pub opens_fr: String,
    pub closes_fr: String,
    pub opens_sa: String,
    pub closes_sa: String,
    pub opens_su: String,
    pub closes_su: String,
    pub closed_dates: String,
    /// What the API's `opening_hours` list held that has no form field (an unknown or
    /// repeated weekday): reported against `opening_hours`.
    #[serde(skip)]
    pub hours_errors: Vec<String>,
}

/// The form names that may be given more than once (checkboxes), joined by commas.
pub const REPEATABLE_FIELDS: [&str; 1] = ["repeat_weekdays"];

/// What the form needs to know of the chosen city.
#[derive(Debug, Clone, Copy)]
pub struct FormCity {
    pub tz: Tz,
    pub field: CreativeField,
}

/// Errors by field name, in the order the form shows its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    /// Adds an error for `field`; a field keeps only its first error, the one to fix first.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    /// The parsed value, or `None` with its error recorded against `field`, as a sentence.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &'static str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed
            .map_err(|e| self.add(field, sentence(&e.to_string())))
            .ok()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// In form order, for the summary at the top of the page.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let mut all: Vec<_> = self.0.iter().map(|(f, m)| (*f, m.as_str())).collect();
        all.sort_by_key(|(f, _)| FORM_ORDER.iter().position(|o| o == f).unwrap_or(usize::MAX));
        all.into_iter()
    }
}

/// One field of the form: its name (the HTML form's and the API's), the label a person
/// reads beside it, and its value as typed.
pub struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    pub value: fn(&EventForm) -> String,
}

/// The form's fields, in the order it shows them: the one list that the error summary,
/// the API's field names and the moderators' list of changes are read from.
pub const FIELDS: [FormField; 23] = [
    field("city", "City", |f| f.city.clone()),
    field("kind", "Kind", |f| f.kind.clone()),
    field("field", "Field", |f| f.field.clone()),
    field("title", "Title", |f| f.title.clone()),
    field("description", "Description", |f| f.description.clone()),
    field("venue", "Venue", |f| f.venue.clone()),
    field("address", "Address", |f| f.address.clone()),
    field("url", "Website", |f| f.url.clone()),
    field("price", "Price", |f| f.price.clone()),
    field("all_day", "All day", |f| {
        if f.is_all_day() { "yes" } else { "no" }.to_owned()
    }),
    field("start_date", "Start date", |f| f.start_date.clone()),
    field("start_time", "Start time", |f| f.start_time.clone()),
    field("end_date", "End date", |f| f.end_date.clone()),
    field("end_time", "End time", |f| f.end_time.clone()),
    field("repeat", "Repeats", |f| f.repeat.clone()),
    field("repeat_interval", "Repeat every", |f| {
        f.repeat_interval.clone()
    }),
    field("repeat_weekdays", "On the weekdays", |f| {
        f.repeat_weekdays.clone()
    }),
    field("repeat_nth", "On which weekday of the month", |f| {
        f.repeat_nth.clone()
    }),
    field("repeat_until", "Repeats until", |f| f.repeat_until.clone()),
    field("repeat_count", "Number of times", |f| {
        f.repeat_count.clone()
    }),
    field("skip_dates", "Skipped dates", |f| f.skip_dates.clone()),
    field("opening_hours", "Opening hours", |f| f.opening_hours_text()),
    field("closed_dates", "Closed on", |f| f.closed_dates.clone()),
];

const fn field(
    name: &'static str,
    label: &'static str,
    value: fn(&EventForm) -> String,
) -> FormField {
    FormField { name, label, value }
}

/// The names of [`FIELDS`], in their order; also the fields of the API's event bodies.
pub const FORM_ORDER: [&str; FIELDS.len()] = {
    let mut names = [""; FIELDS.len()];
    let mut i = 0;
    while i < FIELDS.len() {
        names[i] = FIELDS[i].name;
        i += 1;
    }
    names
};

pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
pub const MAX_VENUE_CHARS: usize = 200;
pub const MAX_ADDRESS_CHARS: usize = 300;
pub const MAX_PRICE_CHARS: usize = 100;
pub const MAX_URL_CHARS: usize = 2_000;
/// How far ahead an event may be announced, and how far back one may still be entered.
pub const YEARS_AHEAD: i32 = 10;
pub const YEARS_BACK: i32 = 1;

/// What the "All day" box sends when it is ticked.
pub const ALL_DAY_TICKED: &str = "on";

impl EventForm {
    /// The fields in which `after` differs from this form: (label, this value, its value).
    pub fn differences(&self, after: &EventForm) -> Vec<(&'static str, String, String)> {
        FIELDS
            .iter()
            .filter_map(|f| {
                let (a, b) = ((f.value)(self), (f.value)(after));
                (a != b).then_some((f.label, a, b))
            })
            .collect()
    }

    /// The opening and closing time typed for each weekday, Monday first.
    pub fn hours_fields(&self) -> [(&'static str, &str, &str); 7] {
        [
            ("mo", &self.opens_mo, &self.closes_mo),
            ("tu", &self.opens_tu, &self.closes_tu),
            ("we", &self.opens_we, &self.closes_we),
            ("th", &self.opens_th, &self.closes_th),
            ("fr", &self.opens_fr, &self.closes_fr),
            ("sa", &self.opens_sa, &self.closes_sa),
            ("su", &self.opens_su, &self.closes_su),
        ]
    }

    /// Sets the hours typed for weekday `slug` (`mo` … `su`).
    pub fn set_hours(&mut self, slug: &str, opens: String, closes: String) {
        let (o, c) = match slug {
            "mo" => (&mut self.opens_mo, &mut self.closes_mo),
            "tu" => (&mut self.opens_tu, &mut self.closes_tu),
            "we" => (&mut self.opens_we, &mut self.closes_we),
            "th" => (&mut self.opens_th, &mut self.closes_th),
            "fr" => (&mut self.opens_fr, &mut self.closes_fr),
            "sa" => (&mut self.opens_sa, &mut self.closes_sa),
            "su" => (&mut self.opens_su, &mut self.closes_su),
            _ => return,
        };
        *o = opens;
        *c = closes;
    }

    /// "tu 10:00-18:00, th 10:00-21:00": the hours as typed, for the list of changes.
    pub fn opening_hours_text(&self) -> String {
        self.hours_fields()
            .iter()
            .filter(|(_, o, c)| !o.trim().is_empty() || !c.trim().is_empty())
            .map(|(d, o, c)| format!("{d} {}-{}", o.trim(), c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The form with the repetition of a stored event put in: what its edit page shows.
    pub fn with_repetition_parts(
        mut self,
        series: Option<&Series>,
        hours: Option<&Hours>,
    ) -> EventForm {
        if let Some(series) = series {
            let rule = &series.rule;
            self.repeat = rule.frequency.slug().to_owned();
            self.repeat_interval = if rule.interval == 1 {
                String::new()
            } else {
                rule.interval.to_string()
            };
            self.repeat_weekdays = rule
                .weekdays
                .iter()
                .map(|d| weekday_slug(*d))
                .collect::<Vec<_>>()
                .join(",");
            self.repeat_nth = rule.nth.map(|n| n.slug()).unwrap_or_default();
            self.repeat_until = rule.until().map(|d| d.to_string()).unwrap_or_default();
            self.repeat_count = rule.count().map(|n| n.to_string()).unwrap_or_default();
            self.skip_dates = format_date_list(&series.skip_dates);
        }
        if let Some(hours) = hours {
            for (day, opens, closes) in hours.week.iter() {
                self.set_hours(
                    weekday_slug(day),
                    opens.format("%H:%M").to_string(),
                    closes.format("%H:%M").to_string(),
                );
            }
            self.closed_dates = format_date_list(&hours.closed_dates);
        }
        self
    }

    /// The weekdays ticked, as typed.
    pub fn ticked_weekdays(&self) -> Vec<&str> {
        self.repeat_weekdays
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Whether the all-day box is ticked.
    /// The box sends `on` (its `value`); anything else is refused by [`EventForm::parse`].
    pub fn is_all_day(&self) -> bool {
        self.all_day.as_deref() == Some(ALL_DAY_TICKED)
    }

    /// Parses the form for an event in `city` (`None` when the city field itself is
    /// wrong: the other fields are still checked, so that every error shows at once).
    /// `today` bounds the years an event may fall in. `organizer_name` and `status` are
    /// not fields of the form; the caller supplies them.
    pub fn parse(
        &self,
        city: Option<FormCity>,
        today: NaiveDate,
        organizer_name: Option<String>,
        status: EventStatus,
    ) -> Result<EventDraft, FieldErrors> {
        let mut errors = FieldErrors::default();
        let kind = match self.kind.trim() {
            "" => {
                errors.add("kind", "Choose what kind of event this is.");
                None
            }
            k => EventKind::parse(k)
                .map_err(|_| errors.add("kind", "Choose one of the kinds in the list."))
                .ok(),
        };
        let field = match self.field.trim() {
            "" => None,
            f => CreativeField::parse(f)
                .map_err(|_| errors.add("field", "Choose one of the fields in the list."))
                .ok(),
        };
        if !matches!(self.all_day.as_deref(), None | Some("" | ALL_DAY_TICKED)) {
            errors.add(
                "all_day",
                "Tick the box for an all-day event, or leave it empty.",
            );
        }
        let title = errors.check("title", EventTitle::parse(&self.title));
        let description = errors
            .check(
                "description",
                limited_text(&self.description, "the description", MAX_DESCRIPTION_CHARS),
            )
            .unwrap_or_default();
        let venue = errors.check(
            "venue",
            required_line(&self.venue, "the venue", MAX_VENUE_CHARS),
        );
        let address = errors
            .check(
                "address",
                optional_line(&self.address, "the address", MAX_ADDRESS_CHARS),
            )
            .unwrap_or_default();
        let url = parse_url(&self.url)
            .map_err(|e| errors.add("url", e))
            .ok()
            .flatten();
        let price = errors
            .check(
                "price",
                optional_line(&self.price, "the price", MAX_PRICE_CHARS),
            )
            .unwrap_or_default();
        let schedule = self.schedule(city.map(|c| c.tz), today, &mut errors);
        let series = self.series(schedule.as_ref(), &mut errors);
        let hours = self.hours(schedule.as_ref(), series.is_some(), &mut errors);

        match (kind, title, venue, schedule) {
            (Some(kind), Some(title), Some(venue), Some(schedule)) if errors.is_empty() => {
                let is_free = is_free_price(&price);
                Ok(EventDraft {
                    kind,
                    // The city's own field is stored as "none given" so that it follows
                    // the city.
                    field: field.filter(|f| city.is_none_or(|c| c.field != *f)),
                    title,
                    description,
                    venue_name: venue,
                    venue_address: address,
                    coordinates: None,
                    schedule,
                    url,
                    price: (!price.is_empty()).then_some(price),
                    is_free,
                    organizer_name,
                    status,
                    series,
                    hours,
                })
            }
            _ => {
                if errors.is_empty() {
                    // Unreachable: every `None` above recorded an error. Stay total.
                    errors.add("title", "Please check the form.");
                }
                Err(errors)
            }
        }
    }

    /// The dates and times, checked against each other and against the city's clock.
    fn schedule(
        &self,
        tz: Option<Tz>,
        today: NaiveDate,
        errors: &mut FieldErrors,
    ) -> Option<EventSchedule> {
        let first_year = today.year() - YEARS_BACK;
        let last_year = today.year() + YEARS_AHEAD;
        let date = |name: &'static str, value: &str, errors: &mut FieldErrors| {
            let value = value.trim();
            if value.is_empty() {
                return None;
            }
            match parse_iso_date(value).ok_or(()) {
                Ok(d) if (first_year..=last_year).contains(&d.year()) => Some(d),
                Ok(_) => {
                    errors.add(
                        name,
                        format!("Choose a date between {first_year} and {last_year}."),
                    );
                    None
                }
                Err(_) => {
                    errors.add(
                        name,
                        "Enter the date as year-month-day, such as 2026-12-12.",
                    );
                    None
                }
            }
        };
        let time = |name: &'static str, value: &str, errors: &mut FieldErrors| {
            let value = value.trim();
            if value.is_empty() {
                return None;
            }
            match parse_hh_mm(value) {
                Some(t) => Some(t),
                None => {
                    errors.add(name, "Enter the time as hours:minutes, such as 19:30.");
                    None
                }
            }
        };

        let start_date = date("start_date", &self.start_date, errors);
        if self.start_date.trim().is_empty() {
            errors.add("start_date", "Enter the day the event starts.");
        }
        let end_date = date("end_date", &self.end_date, errors);
        let end_date_given = !self.end_date.trim().is_empty();

        if self.is_all_day() {
            let first = start_date?;
            if end_date_given && end_date.is_none() {
                return None;
            }
            let last = end_date.unwrap_or(first);
            return match EventSchedule::all_day(first, last) {
                Ok(s) => Some(s),
                Err(e) => {
                    errors.add("end_date", schedule_message(&e));
                    None
                }
            };
        }

        let start_time = time("start_time", &self.start_time, errors);
        if self.start_time.trim().is_empty() {
            errors.add(
                "start_time",
                "Enter the time the event starts, or tick “All day”.",
            );
        }
        let end_time = time("end_time", &self.end_time, errors);
        let end_time_given = !self.end_time.trim().is_empty();
        let start = start_date?.and_time(start_time?);
        if (end_date_given && end_date.is_none()) || (end_time_given && end_time.is_none()) {
            return None;
        }
        let end = match (end_date, end_time) {
            (None, None) => None,
            // An end time alone is on the start day, or, when it is earlier than the
            // start, on the night after (a concert from 22:00 to 02:00).
            (None, Some(t)) => {
                let same_day = start.date().and_time(t);
                Some(if same_day <= start {
                    same_day + TimeDelta::days(1)
                } else {
                    same_day
                })
            }
            (Some(_), None) => {
                errors.add(
                    "end_time",
                    "Enter the time the event ends on its last day, or leave the end date empty.",
                );
                return None;
            }
            (Some(d), Some(t)) => Some(d.and_time(t)),
        };
        let schedule = match EventSchedule::timed(start, end) {
            Ok(s) => s,
            Err(e) => {
                let field = match e {
                    ScheduleError::YearOutOfRange => "start_date",
                    _ if end_date_given => "end_date",
                    _ => "end_time",
                };
                errors.add(field, schedule_message(&e));
                return None;
            }
        };
        // Without a valid city there is no clock to check the times against; the city
        // field already carries an error.
        let tz = tz?;
        let mut ok = true;
        for (name, local) in [("start_time", Some(start)), ("end_time", end)] {
            if let Some(local) = local
                && let Err(e) = local_instant(tz, local)
            {
                errors.add(name, schedule_message(&e));
                ok = false;
            }
        }
        if ok && let Err(e) = schedule.resolve(tz) {
            errors.add("end_time", schedule_message(&e));
            ok = false;
        }
        ok.then_some(schedule)
    }
}

impl EventForm {
    /// The "Repeats" section: a series, or `None` for a single event (or an error).
    fn series(&self, schedule: Option<&EventSchedule>, errors: &mut FieldErrors) -> Option<Series> {
        let repeat = self.repeat.trim();
        let mut ok = true;
        let mut fail = |errors: &mut FieldErrors, field: &'static str, message: String| {
            errors.add(field, message);
            ok = false;
        };
        if repeat.is_empty() || repeat == "none" {
            return None;
        }
        let Some(frequency) = Frequency::parse(repeat) else {
            fail(
                errors,
                "repeat",
                "Choose how the event repeats: none, daily, weekly, monthly_by_date, monthly_by_weekday or yearly.".to_owned(),
            );
            return None;
        };
        let interval = match self.repeat_interval.trim() {
            "" => 1,
            n => match n.parse::<u16>() {
                Ok(n) if (1..=99).contains(&n) => n,
                _ => {
                    fail(
                        errors,
                        "repeat_interval",
                        "Enter a whole number from 1 to 99.".to_owned(),
                    );
                    1
                }
            },
        };
        let mut weekdays = Vec::new();
        for slug in self.ticked_weekdays() {
            match parse_weekday(slug) {
                Some(d) => weekdays.push(d),
                None => fail(
                    errors,
                    "repeat_weekdays",
                    format!(
                        "“{}” is not a weekday; use mo, tu, we, th, fr, sa or su.",
                        short(slug)
                    ),
                ),
            }
        }
        let nth = match self.repeat_nth.trim() {
            "" => None,
            n => match Nth::parse(n) {
                Some(n) => Some(n),
                None => {
                    fail(
                        errors,
                        "repeat_nth",
                        "Choose 1, 2, 3, 4 or last.".to_owned(),
                    );
                    None
                }
            },
        };
        let until = match self.repeat_until.trim() {
            "" => None,
            d => match parse_iso_date(d) {
                Some(d) => Some(d),
                None => {
                    fail(
                        errors,
                        "repeat_until",
                        "Enter the date as year-month-day, such as 2027-06-30.".to_owned(),
                    );
                    None
                }
            },
        };
        let count = match self.repeat_count.trim() {
            "" => None,
            n => match n.parse::<u16>() {
                Ok(n) => Some(n),
                Err(_) => {
                    fail(
                        errors,
                        "repeat_count",
                        format!("Enter a whole number from 2 to {MAX_OCCURRENCES}."),
                    );
                    None
                }
            },
        };
        let skip = match parse_date_list(&self.skip_dates) {
            Ok(s) => s,
            Err(e) => {
                fail(errors, "skip_dates", e);
                BTreeSet::new()
            }
        };
        let first = schedule?.first_date();
        if !ok {
            return None;
        }
        if self.repeat_until.trim().is_empty() && self.repeat_count.trim().is_empty() {
            errors.add(
                "repeat_until",
                "A repeating event needs an end: enter the last date, or the number of times.",
            );
            return None;
        }
        let rule = RepeatRule::new(frequency, interval, &weekdays, nth, until, count, first)
            .map_err(|e| {
                let field = match e {
                    RepeatError::BadInterval => "repeat_interval",
                    RepeatError::NoWeekday | RepeatError::FirstDayNotTicked(_) => "repeat_weekdays",
                    RepeatError::NthMismatch(_) => "repeat_nth",
                    RepeatError::BadCount => "repeat_count",
                    RepeatError::TooMany | RepeatError::TooLong | RepeatError::Single
                        if count.is_some() =>
                    {
                        "repeat_count"
                    }
                    _ => "repeat_until",
                };
                errors.add(field, sentence(&e.to_string()));
            })
            .ok()?;
        Series::new(rule, skip, first)
            .map_err(|e| errors.add("skip_dates", sentence(&e.to_string())))
            .ok()
    }

    /// The "Opening hours" section: for an all-day event over several days.
    fn hours(
        &self,
        schedule: Option<&EventSchedule>,
        is_series: bool,
        errors: &mut FieldErrors,
    ) -> Option<Hours> {
        let mut week = OpeningHours::default();
        let mut ok = self.hours_errors.is_empty();
        if let Some(first) = self.hours_errors.first() {
            errors.add("opening_hours", first.clone());
        }
        for ((slug, opens, closes), (_, day)) in self.hours_fields().into_iter().zip(weekdays()) {
            let (opens, closes) = (opens.trim(), closes.trim());
            if opens.is_empty() && closes.is_empty() {
                continue;
            }
            let name = weekday_name(day);
            let (Some(o), Some(c)) = (parse_hh_mm(opens), parse_hh_mm(closes)) else {
                let message = if opens.is_empty() || closes.is_empty() {
                    format!("{name}: enter both the opening and the closing time, or neither.")
                } else {
                    format!("{name}: enter the times as hours:minutes, such as 10:00 and 18:00.")
                };
                errors.add("opening_hours", message);
                ok = false;
                continue;
            };
            if let Err(e) = week.set(day, o, c) {
                errors.add("opening_hours", format!("{name} ({slug}): {e}."));
                ok = false;
            }
        }
        let closed = match parse_date_list(&self.closed_dates) {
            Ok(d) => d,
            Err(e) => {
                errors.add("closed_dates", e);
                return None;
            }
        };
        if week.is_empty() {
            if !closed.is_empty() {
                errors.add(
                    "closed_dates",
                    "Closed dates go with opening hours: enter the hours of each open weekday too.",
                );
            }
            return None;
        }
        if !ok {
            return None;
        }
        let schedule = schedule?;
        let multi_day = matches!(schedule, EventSchedule::AllDay { first, last } if last > first);
        if is_series || !multi_day {
            errors.add(
                "opening_hours",
                "Opening hours are for an all-day event over several days, such as an exhibition: tick “All day” and give an end date, or leave the hours empty.",
            );
            return None;
        }
        if let Some(outside) = closed
            .iter()
            .find(|d| **d < schedule.first_date() || **d > schedule.last_date())
        {
            errors.add(
                "closed_dates",
                format!(
                    "{} is outside the event's dates.",
                    outside.format("%-d %B %Y")
                ),
            );
            return None;
        }
        Some(Hours {
            week,
            closed_dates: closed,
        })
    }
}

fn schedule_message(e: &ScheduleError) -> String {
    match e {
        ScheduleError::NonexistentLocalTime { time, zone } => format!(
            "{} does not exist in {zone}: the clocks go forward at that moment. Choose a time after the change.",
            time.format("%H:%M on %-d %B %Y")
        ),
        ScheduleError::EndBeforeStart => "The end is before the start.".to_owned(),
        ScheduleError::EmptyDuration => "The end must be later than the start.".to_owned(),
        other => sentence(&other.to_string()),
    }
}

/// An http(s) address with a host, or nothing.
fn parse_url(value: &str) -> Result<Option<String>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "A web address is at most {} characters.",
            thousands(MAX_URL_CHARS as i64)
        ));
    }
    if decoded(value, "the web address").is_err() {
        return Err("The web address holds bytes that are not text (UTF-8); type it again.".into());
    }
    let bad = || "Enter a full web address starting with https:// or http://.".to_owned();
    let url = url::Url::parse(value).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("A web address for visitors cannot carry a user name or password.".into());
    }
    Ok(Some(url.to_string()))
}

/// "Free", "free entry", "0", "gratis": the event costs nothing.
fn is_free_price(price: &str) -> bool {
    let p = price.trim().to_lowercase();
    matches!(
        p.as_str(),
        "free" | "free entry" | "free admission" | "0" | "gratis" | "gratuit" | "gratuito"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{at, date};
    use chrono_tz::Europe;

    fn braga() -> Option<FormCity> {
        Some(FormCity {
            tz: Europe::Lisbon,
            field: CreativeField::MediaArts,
        })
    }

    fn today() -> NaiveDate {
        date(2026, 11, 28)
    }

    fn valid() -> EventForm {
        EventForm {
            city: "braga".into(),
            kind: "festival".into(),
            title: "Braga Media Arts Festival".into(),
            description: "Three nights of light.\r\n\r\nFree for all.".into(),
            venue: "Theatro Circo".into(),
            address: "Av. da Liberdade 697".into(),
            url: "https://example.org/festival".into(),
            price: "Free".into(),
            start_date: "2026-12-12".into(),
            start_time: "19:00".into(),
            end_time: "23:00".into(),
            ..EventForm::default()
        }
    }

    fn parse(form: &EventForm) -> Result<EventDraft, FieldErrors> {
        form.parse(braga(), today(), None, EventStatus::Scheduled)
    }

    #[test]
    fn a_complete_form_becomes_a_draft() {
        let draft = parse(&valid()).unwrap();
        assert_eq!(draft.title.as_str(), "Braga Media Arts Festival");
        assert_eq!(draft.description, "Three nights of light.\n\nFree for all.");
        assert_eq!(
            draft.schedule,
            EventSchedule::Timed {
                start: at(2026, 12, 12, 19, 0),
                end: Some(at(2026, 12, 12, 23, 0))
            }
        );
        assert!(draft.is_free);
        assert_eq!(draft.field, None, "the city's field is not stored twice");
        assert_eq!(draft.url.as_deref(), Some("https://example.org/festival"));
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let form = EventForm {
            kind: "rave".into(),
            field: "cooking".into(),
            title: " ".into(),
            description: "x".repeat(10_001),
            venue: String::new(),
            url: "javascript:alert(1)".into(),
            start_date: "12/12/2026".into(),
            start_time: "7pm".into(),
            ..EventForm::default()
        };
        let errors = parse(&form).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "kind",
                "field",
                "title",
                "description",
                "venue",
                "url",
                "start_date",
                "start_time"
            ]
        );
        assert!(errors.get("description").unwrap().contains("10,000"));
    }

    #[test]
    fn an_end_before_the_start_is_explained_at_the_end() {
        let form = EventForm {
            end_date: "2026-12-11".into(),
            end_time: "23:00".into(),
            ..valid()
        };
        assert_eq!(
            parse(&form).unwrap_err().get("end_date"),
            Some("The end is before the start.")
        );
        let all_day = EventForm {
            all_day: Some("on".into()),
            end_date: "2026-12-10".into(),
            ..valid()
        };
        assert!(parse(&all_day).unwrap_err().get("end_date").is_some());
    }

    #[test]
    fn an_end_time_earlier_than_the_start_is_the_night_after() {
        let form = EventForm {
            start_time: "22:00".into(),
            end_time: "02:00".into(),
            ..valid()
        };
        let draft = parse(&form).unwrap();
        assert_eq!(draft.schedule.last_date(), date(2026, 12, 13));
    }

    #[test]
    fn a_time_the_clocks_skip_is_explained() {
        let form = EventForm {
            start_date: "2027-03-28".into(),
            start_time: "01:30".into(),
            end_time: "03:00".into(),
            ..valid()
        };
        let errors = parse(&form).unwrap_err();
        let message = errors.get("start_time").unwrap();
        assert!(message.contains("Europe/Lisbon"), "{message}");
        assert!(message.contains("01:30 on 28 March 2027"), "{message}");
    }

    #[test]
    fn years_outside_a_sensible_range_are_refused() {
        for d in ["2024-12-31", "2037-01-01", "20226-01-01"] {
            let form = EventForm {
                start_date: d.into(),
                ..valid()
            };
            assert!(parse(&form).unwrap_err().get("start_date").is_some(), "{d}");
        }
    }

    #[test]
    fn an_all_day_event_ignores_the_times() {
        let form = EventForm {
            all_day: Some("on".into()),
            start_time: "nonsense".into(),
            end_date: "2026-12-14".into(),
            ..valid()
        };
        let draft = parse(&form).unwrap();
        assert_eq!(
            draft.schedule,
            EventSchedule::AllDay {
                first: date(2026, 12, 12),
                last: date(2026, 12, 14)
            }
        );
    }

    #[test]
    fn only_web_addresses_are_links() {
        for bad in [
            "javascript:alert(1)",
            "ftp://example.org",
            "example.org",
            "https://",
            "https://user:pw@example.org",
            "data:text/html,<script>",
        ] {
            let form = EventForm {
                url: bad.into(),
                ..valid()
            };
            assert!(parse(&form).unwrap_err().get("url").is_some(), "{bad}");
        }
    }

    #[test]
    fn without_a_city_the_other_fields_are_still_checked() {
        let form = EventForm {
            title: String::new(),
            ..valid()
        };
        let errors = form
            .parse(None, today(), None, EventStatus::Scheduled)
            .unwrap_err();
        assert!(errors.get("title").is_some());
    }

    #[test]
    fn a_field_other_than_the_city_s_is_kept() {
        let form = EventForm {
            field: "music".into(),
            ..valid()
        };
        assert_eq!(parse(&form).unwrap().field, Some(CreativeField::Music));
    }
}

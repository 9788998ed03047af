//! Repetition: a series' rule and skipped dates, its expansion into occurrences in the
//! city's zone, and an exhibition's weekly opening hours and closed dates.
//!
//! The rule is expanded by the `rrule` crate, but over *local wall-clock dates* treated
//! as UTC, never over zoned times: `rrule` has open bugs where an occurrence near a DST
//! change moves by an hour (fmeringdal/rust-rrule#…: the offset of the first occurrence
//! is applied to later ones). Here it only ever answers "which days", and each day's
//! wall-clock time is then placed in the zone by chrono-tz, so that 19:00 stays 19:00
//! across every change of the clocks. The unit tests pin that down.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::{
    DateTime, Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;

use super::schedule::{EventSchedule, local_instant};

/// A rule may give at most this many occurrences.
pub const MAX_OCCURRENCES: usize = 500;
/// … and run at most this many years past its first occurrence.
pub const MAX_YEARS: u32 = 10;

/// How often a series repeats; the slugs are the form's and the API's `repeat` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    Weekly,
    /// On the first occurrence's day of the month (the 31st skips shorter months, as
    /// RFC 5545 and every calendar do).
    MonthlyByDate,
    /// On the Nth (or last) of the first occurrence's weekday.
    MonthlyByWeekday,
    Yearly,
}

impl Frequency {
    pub const ALL: [Frequency; 5] = [
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::MonthlyByDate,
        Frequency::MonthlyByWeekday,
        Frequency::Yearly,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::MonthlyByDate => "monthly_by_date",
            Frequency::MonthlyByWeekday => "monthly_by_weekday",
            Frequency::Yearly => "yearly",
        }
    }

    pub fn parse(value: &str) -> Option<Frequency> {
        Frequency::ALL.into_iter().find(|f| f.slug() == value)
    }

    fn unit(self, plural: bool) -> &'static str {
        match (self, plural) {
            (Frequency::Daily, false) => "day",
            (Frequency::Daily, true) => "days",
            (Frequency::Weekly, false) => "week",
            (Frequency::Weekly, true) => "weeks",
            (Frequency::Yearly, false) => "year",
            (Frequency::Yearly, true) => "years",
            (_, false) => "month",
            (_, true) => "months",
        }
    }
}

/// Which of a month's weekdays: 1 to 4, or -1 for the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nth(i8);

impl Nth {
    pub const LAST: Nth = Nth(-1);

    pub fn new(n: i8) -> Option<Nth> {
        matches!(n, 1..=4 | -1).then_some(Nth(n))
    }

    pub fn get(self) -> i8 {
        self.0
    }

    /// The form's and the API's value: `1` … `4` or `last`.
    pub fn slug(self) -> String {
        if self.0 == -1 {
            "last".to_owned()
        } else {
            self.0.to_string()
        }
    }

    pub fn parse(value: &str) -> Option<Nth> {
        match value {
            "last" => Some(Nth::LAST),
            n => n.parse().ok().and_then(Nth::new),
        }
    }

    fn word(self) -> &'static str {
        match self.0 {
            1 => "first",
            2 => "second",
            3 => "third",
            4 => "fourth",
            _ => "last",
        }
    }

    /// Which Nth of its weekday `date` is: 1 to 4 counted from the start of its month,
    /// and whether it is also the last.
    pub fn of(date: NaiveDate) -> (Nth, bool) {
        let n = i8::try_from((date.day() - 1) / 7 + 1).unwrap_or(5);
        let is_last = date
            .checked_add_signed(TimeDelta::days(7))
            .is_none_or(|d| d.month() != date.month());
        (Nth::new(n).unwrap_or(Nth::LAST), is_last)
    }

    fn matches(self, date: NaiveDate) -> bool {
        let (n, is_last) = Nth::of(date);
        if self == Nth::LAST {
            is_last
        } else {
            n == self
        }
    }
}

/// Where a series stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatEnd {
    /// The last local date an occurrence may start on.
    Until(NaiveDate),
    Count(u16),
}

/// A validated rule: it has an end, and stays within the limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatRule {
    pub frequency: Frequency,
    pub interval: u16,
    /// Weekly: the weekdays, Monday first; always holds the first occurrence's.
    pub weekdays: Vec<Weekday>,
    /// Monthly by weekday: which of the month's weekdays.
    pub nth: Option<Nth>,
    pub end: RepeatEnd,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepeatError {
    #[error("a repeating event needs an end: a last date or a number of times")]
    NoEnd,
    #[error("give either a last date or a number of times, not both")]
    BothEnds,
    #[error("the interval is a whole number from 1 to 99")]
    BadInterval,
    #[error("the number of times is a whole number from 2 to {MAX_OCCURRENCES}")]
    BadCount,
    #[error("the last date is before the first occurrence")]
    UntilBeforeStart,
    #[error("a series may run for at most {MAX_YEARS} years")]
    TooLong,
    #[error("a series may have at most {MAX_OCCURRENCES} occurrences; this rule gives more")]
    TooMany,
    #[error("tick at least one weekday")]
    NoWeekday,
    #[error("the first date is a {0}: tick {0} too, or change the first date")]
    FirstDayNotTicked(&'static str),
    #[error("the first date is not the {0} of its month")]
    NthMismatch(String),
    #[error("this rule gives only one occurrence")]
    Single,
    #[error("{0} is not one of the series' dates")]
    SkipNotInSeries(String),
    #[error("every occurrence is skipped")]
    AllSkipped,
}

const WEEKDAY_SLUGS: [(&str, Weekday); 7] = [
    ("mo", Weekday::Mon),
    ("tu", Weekday::Tue),
    ("we", Weekday::Wed),
    ("th", Weekday::Thu),
    ("fr", Weekday::Fri),
    ("sa", Weekday::Sat),
    ("su", Weekday::Sun),
];

/// `mo` … `su`, as the form, the API and RFC 5545 (upper-cased) write weekdays.
pub fn weekday_slug(day: Weekday) -> &'static str {
    WEEKDAY_SLUGS[day.num_days_from_monday() as usize].0
}

pub fn parse_weekday(value: &str) -> Option<Weekday> {
    let value = value.trim().to_ascii_lowercase();
    WEEKDAY_SLUGS
        .iter()
        .find(|(s, _)| *s == value)
        .map(|(_, d)| *d)
}

/// Every weekday, Monday first, with its slug.
pub fn weekdays() -> impl Iterator<Item = (&'static str, Weekday)> {
    WEEKDAY_SLUGS.into_iter()
}

pub fn weekday_short(day: Weekday) -> &'static str {
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][day.num_days_from_monday() as usize]
}

pub fn weekday_name(day: Weekday) -> &'static str {
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ][day.num_days_from_monday() as usize]
}

impl RepeatRule {
    /// A rule for a series whose first occurrence starts on `first`, checked against the
    /// limits. `weekdays` matter only for a weekly rule, `nth` only for a monthly one by
    /// weekday (where it defaults to the first date's place in its month).
    pub fn new(
        frequency: Frequency,
        interval: u16,
        weekdays: &[Weekday],
        nth: Option<Nth>,
        until: Option<NaiveDate>,
        count: Option<u16>,
        first: NaiveDate,
    ) -> Result<RepeatRule, RepeatError> {
        if !(1..=99).contains(&interval) {
            return Err(RepeatError::BadInterval);
        }
        let end = match (until, count) {
            (None, None) => return Err(RepeatError::NoEnd),
            (Some(_), Some(_)) => return Err(RepeatError::BothEnds),
            (Some(until), None) => RepeatEnd::Until(until),
            (None, Some(count)) => RepeatEnd::Count(count),
        };
        let mut weekdays: Vec<Weekday> = match frequency {
            Frequency::Weekly => weekdays.to_vec(),
            _ => Vec::new(),
        };
        weekdays.sort_by_key(|d| d.num_days_from_monday());
        weekdays.dedup();
        if frequency == Frequency::Weekly {
            if weekdays.is_empty() {
                return Err(RepeatError::NoWeekday);
            }
            if !weekdays.contains(&first.weekday()) {
                return Err(RepeatError::FirstDayNotTicked(weekday_name(
                    first.weekday(),
                )));
            }
        }
        let nth = match frequency {
            Frequency::MonthlyByWeekday => {
                let nth = nth.unwrap_or_else(|| Nth::of(first).0);
                if !nth.matches(first) {
                    return Err(RepeatError::NthMismatch(format!(
                        "{} {}",
                        nth.word(),
                        weekday_name(first.weekday())
                    )));
                }
                Some(nth)
            }
            _ => None,
        };
        let rule = RepeatRule {
            frequency,
            interval,
            weekdays,
            nth,
            end,
        };
        match end {
            RepeatEnd::Count(n) if !(2..=MAX_OCCURRENCES).contains(&usize::from(n)) => {
                return Err(RepeatError::BadCount);
            }
            RepeatEnd::Until(until) if until < first => return Err(RepeatError::UntilBeforeStart),
            RepeatEnd::Until(until) if until > ten_years_after(first) => {
                return Err(RepeatError::TooLong);
            }
            _ => {}
        }
        let dates = rule.dates(first)?;
        if dates.len() < 2 {
            return Err(RepeatError::Single);
        }
        if dates
            .last()
            .is_some_and(|last| *last > ten_years_after(first))
        {
            return Err(RepeatError::TooLong);
        }
        Ok(rule)
    }

    /// The local start dates of every occurrence, the first one included.
    pub fn dates(&self, first: NaiveDate) -> Result<Vec<NaiveDate>, RepeatError> {
        // Noon, so that no arithmetic can ever cross a date line; the time is not used.
        let noon = |d: NaiveDate| {
            rrule::Tz::UTC.from_utc_datetime(
                &d.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()),
            )
        };
        let mut rule = rrule::RRule::new(match self.frequency {
            Frequency::Daily => rrule::Frequency::Daily,
            Frequency::Weekly => rrule::Frequency::Weekly,
            Frequency::MonthlyByDate | Frequency::MonthlyByWeekday => rrule::Frequency::Monthly,
            Frequency::Yearly => rrule::Frequency::Yearly,
        })
        .interval(self.interval)
        // Weeks start on Monday, as RFC 5545's default and in the cities' own usage; it
        // matters for "every 2 weeks on Mon and Sun".
        .week_start(Weekday::Mon);
        rule = match self.frequency {
            Frequency::Weekly => rule.by_weekday(
                self.weekdays
                    .iter()
                    .map(|d| rrule::NWeekday::Every(*d))
                    .collect(),
            ),
            Frequency::MonthlyByDate => rule.by_month_day(vec![day_of_month(first)]),
            Frequency::MonthlyByWeekday => rule.by_weekday(vec![rrule::NWeekday::Nth(
                i16::from(self.nth.unwrap_or(Nth(1)).get()),
                first.weekday(),
            )]),
            Frequency::Daily | Frequency::Yearly => rule,
        };
        rule = match self.end {
            RepeatEnd::Until(until) => rule.until(noon(until)),
            RepeatEnd::Count(n) => rule.count(u32::from(n)),
        };
        let set = rule.build(noon(first)).map_err(|_| RepeatError::TooMany)?;
        let limit = u16::try_from(MAX_OCCURRENCES + 1).unwrap_or(u16::MAX);
        let result = set.all(limit);
        let dates: Vec<NaiveDate> = result.dates.iter().map(|d| d.date_naive()).collect();
        if dates.len() > MAX_OCCURRENCES {
            return Err(RepeatError::TooMany);
        }
        Ok(dates)
    }

    /// The rule as stored, and as RFC 5545 writes it for a DATE start:
    /// `FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20270630`.
    pub fn to_stored(&self, first: NaiveDate) -> String {
        self.rrule_text(first, |until| until.format("%Y%m%d").to_string())
    }

    /// The RRULE for a feed. With a timed start, RFC 5545 wants UNTIL in UTC: the end of
    /// the last local day, so an occurrence that starts on it is kept.
    pub fn to_feed(&self, first: NaiveDate, tz: Option<Tz>) -> String {
        match tz {
            None => self.to_stored(first),
            Some(tz) => self.rrule_text(first, |until| {
                let end_of_day =
                    until.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default());
                let instant =
                    local_instant(tz, end_of_day).unwrap_or_else(|_| end_of_day.and_utc());
                instant.format("%Y%m%dT%H%M%SZ").to_string()
            }),
        }
    }

    fn rrule_text(&self, first: NaiveDate, until: impl Fn(NaiveDate) -> String) -> String {
        let freq = match self.frequency {
            Frequency::Daily => "DAILY",
            Frequency::Weekly => "WEEKLY",
            Frequency::MonthlyByDate | Frequency::MonthlyByWeekday => "MONTHLY",
            Frequency::Yearly => "YEARLY",
        };
        let mut out = format!("FREQ={freq}");
        if self.interval != 1 {
            let _ = write!(out, ";INTERVAL={}", self.interval);
        }
        match self.frequency {
            Frequency::Weekly => {
                let days: Vec<String> = self
                    .weekdays
                    .iter()
                    .map(|d| weekday_slug(*d).to_ascii_uppercase())
                    .collect();
                let _ = write!(out, ";BYDAY={}", days.join(","));
                if self.interval != 1 {
                    out.push_str(";WKST=MO");
                }
            }
            Frequency::MonthlyByDate => {
                let _ = write!(out, ";BYMONTHDAY={}", first.day());
            }
            Frequency::MonthlyByWeekday => {
                let _ = write!(
                    out,
                    ";BYDAY={}{}",
                    self.nth.unwrap_or(Nth(1)).get(),
                    weekday_slug(first.weekday()).to_ascii_uppercase()
                );
            }
            Frequency::Daily | Frequency::Yearly => {}
        }
        match self.end {
            RepeatEnd::Until(d) => {
                let _ = write!(out, ";UNTIL={}", until(d));
            }
            RepeatEnd::Count(n) => {
                let _ = write!(out, ";COUNT={n}");
            }
        }
        out
    }

    /// Reads back what [`RepeatRule::to_stored`] wrote (and nothing else: the column
    /// only ever holds our own text).
    pub fn from_stored(text: &str) -> Option<RepeatRule> {
        let mut frequency = None;
        let mut interval = 1;
        let mut weekdays = Vec::new();
        let mut nth = None;
        let mut end = None;
        let mut by_month_day = false;
        for part in text.split(';') {
            let (key, value) = part.split_once('=')?;
            match key {
                "FREQ" => frequency = Some(value),
                "INTERVAL" => interval = value.parse().ok()?,
                "BYDAY" => {
                    for day in value.split(',') {
                        let (number, slug) = day.split_at(day.len().checked_sub(2)?);
                        weekdays.push(parse_weekday(slug)?);
                        if !number.is_empty() {
                            nth = Some(Nth::new(number.parse().ok()?)?);
                        }
                    }
                }
                "BYMONTHDAY" => by_month_day = true,
                "UNTIL" => {
                    end = Some(RepeatEnd::Until(
                        NaiveDate::parse_from_str(value, "%Y%m%d").ok()?,
                    ));
                }
                "COUNT" => end = Some(RepeatEnd::Count(value.parse().ok()?)),
                "WKST" => {}
                _ => return None,
            }
        }
        let frequency = match frequency? {
            "DAILY" => Frequency::Daily,
            "WEEKLY" => Frequency::Weekly,
            "MONTHLY" if nth.is_some() => Frequency::MonthlyByWeekday,
            "MONTHLY" if by_month_day => Frequency::MonthlyByDate,
            "YEARLY" => Frequency::Yearly,
            _ => return None,
        };
        if frequency == Frequency::MonthlyByWeekday {
            weekdays.clear();
        }
        Some(RepeatRule {
            frequency,
            interval,
            weekdays,
            nth,
            end: end?,
        })
    }

    /// How a person says it: "Every Tue and Thu, until 30 Jun 2027", "Every 2 weeks on
    /// Mon", "Every month on the last Friday, 8 times".
    pub fn describe(&self, first: NaiveDate) -> String {
        let mut out = if self.interval == 1 {
            match self.frequency {
                Frequency::Daily => "Every day".to_owned(),
                Frequency::Weekly => format!("Every {}", list_weekdays(&self.weekdays)),
                Frequency::MonthlyByDate | Frequency::MonthlyByWeekday => "Every month".to_owned(),
                Frequency::Yearly => "Every year".to_owned(),
            }
        } else {
            let mut s = format!("Every {} {}", self.interval, self.frequency.unit(true));
            if self.frequency == Frequency::Weekly {
                let _ = write!(s, " on {}", list_weekdays(&self.weekdays));
            }
            s
        };
        match self.frequency {
            Frequency::MonthlyByDate => {
                let _ = write!(out, " on the {}", ordinal(first.day()));
            }
            Frequency::MonthlyByWeekday => {
                let _ = write!(
                    out,
                    " on the {} {}",
                    self.nth.unwrap_or(Nth(1)).word(),
                    weekday_name(first.weekday())
                );
            }
            Frequency::Yearly => {
                let _ = write!(out, " on {}", first.format("%-d %B"));
            }
            _ => {}
        }
        out
    }

    /// ", until 30 Jun 2027" or ", 8 times".
    pub fn describe_end(&self) -> String {
        match self.end {
            RepeatEnd::Until(d) => format!("until {}", d.format("%-d %b %Y")),
            RepeatEnd::Count(n) => format!("{n} times"),
        }
    }

    pub fn until(&self) -> Option<NaiveDate> {
        match self.end {
            RepeatEnd::Until(d) => Some(d),
            RepeatEnd::Count(_) => None,
        }
    }

    pub fn count(&self) -> Option<u16> {
        match self.end {
            RepeatEnd::Count(n) => Some(n),
            RepeatEnd::Until(_) => None,
        }
    }
}

fn ten_years_after(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(Months::new(12 * MAX_YEARS))
        .unwrap_or(NaiveDate::MAX)
}

fn day_of_month(date: NaiveDate) -> i8 {
    i8::try_from(date.day()).unwrap_or(1)
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// "Tue", "Tue and Thu", "Mon, Wed and Fri"; Monday to Friday reads "weekday".
fn list_weekdays(days: &[Weekday]) -> String {
    let names: Vec<&str> = days.iter().map(|d| weekday_short(*d)).collect();
    if days.len() == 5 && days.iter().all(|d| d.num_days_from_monday() < 5) {
        return "weekday".to_owned();
    }
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A series: its rule and the dates it skips (EXDATE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub rule: RepeatRule,
    pub skip_dates: BTreeSet<NaiveDate>,
}

/// One occurrence of a series, where the rule puts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// The local date the rule gives it: its RECURRENCE-ID, and its key.
    pub date: NaiveDate,
    pub schedule: EventSchedule,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub skipped: bool,
}

impl Series {
    /// `skip_dates` checked against the rule: each one must be an occurrence, and one
    /// occurrence at least must be left.
    pub fn new(
        rule: RepeatRule,
        skip_dates: BTreeSet<NaiveDate>,
        first: NaiveDate,
    ) -> Result<Series, RepeatError> {
        let dates = rule.dates(first)?;
        if let Some(stray) = skip_dates.iter().find(|d| dates.binary_search(d).is_err()) {
            return Err(RepeatError::SkipNotInSeries(
                stray.format("%-d %B %Y").to_string(),
            ));
        }
        if dates.iter().all(|d| skip_dates.contains(d)) {
            return Err(RepeatError::AllSkipped);
        }
        Ok(Series { rule, skip_dates })
    }

    /// Every occurrence (skipped ones marked), each at the first occurrence's local
    /// times on its own day, placed in `tz`.
    ///
    /// * Each occurrence keeps the first one's wall-clock length: 19:00–21:00 stays
    ///   19:00–21:00 on the day the clocks change, though it then lasts 1 or 3 hours.
    /// * A start that falls in a spring-forward gap moves forward by the gap (02:30
    ///   becomes 03:30), as RFC 5545 (3.3.5) says every client must read it; a time
    ///   that happens twice is the first of the two.
    pub fn occurrences(&self, first: &EventSchedule, tz: Tz) -> Vec<Occurrence> {
        let dates = self.rule.dates(first.first_date()).unwrap_or_default();
        let first_date = first.first_date();
        dates
            .into_iter()
            .filter_map(|date| {
                let schedule = shifted(first, date - first_date)?;
                let (starts_at, ends_at) = resolve_forgiving(&schedule, tz);
                Some(Occurrence {
                    date,
                    schedule,
                    starts_at,
                    ends_at,
                    skipped: self.skip_dates.contains(&date),
                })
            })
            .collect()
    }
}

/// `schedule` moved by `by` days, its wall-clock times kept.
pub fn shifted(schedule: &EventSchedule, by: TimeDelta) -> Option<EventSchedule> {
    Some(match *schedule {
        EventSchedule::AllDay { first, last } => EventSchedule::AllDay {
            first: first.checked_add_signed(by)?,
            last: last.checked_add_signed(by)?,
        },
        EventSchedule::Timed { start, end } => EventSchedule::Timed {
            start: start.checked_add_signed(by)?,
            end: match end {
                Some(end) => Some(end.checked_add_signed(by)?),
                None => None,
            },
        },
    })
}

/// The instants of an occurrence, never failing: a wall-clock time that does not exist
/// is read with the offset from before the gap (RFC 5545, 3.3.5).
pub fn resolve_forgiving(schedule: &EventSchedule, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    if let Ok(instants) = schedule.resolve(tz) {
        return (instants.starts_at, instants.ends_at);
    }
    let place = |local: NaiveDateTime| {
        local_instant(tz, local).unwrap_or_else(|_| {
            // The offset an hour (or the gap) earlier, applied to the wall-clock time.
            let before = (1..=24).find_map(|h| {
                local_instant(tz, local - TimeDelta::hours(h))
                    .ok()
                    .map(|t| (h, t))
            });
            match before {
                Some((h, t)) => t + TimeDelta::hours(h),
                None => local.and_utc(),
            }
        })
    };
    match *schedule {
        EventSchedule::Timed { start, end } => {
            let starts_at = place(start);
            let ends_at = end
                .map(place)
                .unwrap_or(starts_at + super::schedule::DEFAULT_DURATION);
            (starts_at, ends_at.max(starts_at + TimeDelta::minutes(1)))
        }
        EventSchedule::AllDay { first, last } => {
            let start = super::schedule::start_of_day(tz, first);
            let end = last
                .succ_opt()
                .map(|d| super::schedule::start_of_day(tz, d))
                .unwrap_or(start + TimeDelta::days(1));
            (start, end)
        }
    }
}

/// A week of opening hours: at most one opening per weekday, Monday first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpeningHours {
    days: [Option<(NaiveTime, NaiveTime)>; 7],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("enter both the opening and the closing time, or neither")]
    HalfGiven,
    #[error("the closing time must be after the opening time")]
    ClosesBeforeOpening,
    #[error("{0} is outside the event's dates")]
    ClosedDateOutside(String),
    #[error("opening hours are for events that run over several whole days")]
    NotMultiDay,
    #[error("a weekday is given twice")]
    Repeated,
}

impl OpeningHours {
    pub fn set(
        &mut self,
        day: Weekday,
        opens: NaiveTime,
        closes: NaiveTime,
    ) -> Result<(), HoursError> {
        if closes <= opens {
            return Err(HoursError::ClosesBeforeOpening);
        }
        let slot = &mut self.days[day.num_days_from_monday() as usize];
        if slot.is_some() {
            return Err(HoursError::Repeated);
        }
        *slot = Some((opens, closes));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.days.iter().all(Option::is_none)
    }

    pub fn on(&self, day: Weekday) -> Option<(NaiveTime, NaiveTime)> {
        self.days[day.num_days_from_monday() as usize]
    }

    /// Each open weekday, Monday first.
    pub fn iter(&self) -> impl Iterator<Item = (Weekday, NaiveTime, NaiveTime)> + '_ {
        weekdays().filter_map(|(_, d)| self.on(d).map(|(o, c)| (d, o, c)))
    }

    /// "Tue–Wed 10:00–18:00; Thu 10:00–21:00; Fri–Sun 10:00–18:00": runs of weekdays
    /// with the same hours, joined.
    pub fn describe(&self) -> String {
        let mut runs: Vec<(Weekday, Weekday, NaiveTime, NaiveTime)> = Vec::new();
        for (day, opens, closes) in self.iter() {
            match runs.last_mut() {
                Some(run)
                    if run.2 == opens
                        && run.3 == closes
                        && run.1.succ() == day
                        && day != Weekday::Mon =>
                {
                    run.1 = day;
                }
                _ => runs.push((day, day, opens, closes)),
            }
        }
        runs.iter()
            .map(|(from, to, opens, closes)| {
                let days = if from == to {
                    weekday_short(*from).to_owned()
                } else {
                    format!("{}–{}", weekday_short(*from), weekday_short(*to))
                };
                format!(
                    "{days} {}–{}",
                    opens.format("%H:%M"),
                    closes.format("%H:%M")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// An exhibition's hours: its week, and the dates it is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hours {
    pub week: OpeningHours,
    pub closed_dates: BTreeSet<NaiveDate>,
}

impl Hours {
    /// The hours on `date`, or `None` when closed (a closed date, or a weekday with no
    /// hours).
    pub fn on(&self, date: NaiveDate) -> Option<(NaiveTime, NaiveTime)> {
        if self.closed_dates.contains(&date) {
            return None;
        }
        self.week.on(date.weekday())
    }

    /// "Tue–Sun 10:00–18:00; closed 24, 25 Dec 2026".
    pub fn describe(&self) -> String {
        let mut out = self.week.describe();
        if !self.closed_dates.is_empty() {
            let dates: Vec<String> = self
                .closed_dates
                .iter()
                .map(|d| d.format("%-d %b %Y").to_string())
                .collect();
            let _ = write!(out, "; closed {}", dates.join(", "));
        }
        out
    }
}

/// Dates separated by commas, semicolons, spaces or new lines, each `YYYY-MM-DD`;
/// the first one that is not is the error.
pub fn parse_date_list(value: &str) -> Result<BTreeSet<NaiveDate>, String> {
    value
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            super::schedule::parse_iso_date(s).ok_or_else(|| {
                format!(
                    "“{}” is not a date written as year-month-day, such as 2026-12-24.",
                    super::short(s)
                )
            })
        })
        .collect()
}

/// The dates back as the form shows them, one per line.
pub fn format_date_list(dates: &BTreeSet<NaiveDate>) -> String {
    dates
        .iter()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{at, date};
    use chrono_tz::{Asia, Europe, Pacific};

    fn weekly(days: &[Weekday], first: NaiveDate, until: NaiveDate) -> RepeatRule {
        RepeatRule::new(Frequency::Weekly, 1, days, None, Some(until), None, first).unwrap()
    }

    fn local_times(occurrences: &[Occurrence], tz: Tz) -> Vec<String> {
        occurrences
            .iter()
            .map(|o| {
                o.starts_at
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn a_weekly_evening_stays_at_19_00_across_the_european_dst_changes() {
        // Tuesdays from 20 Oct 2026 past the change of 25 Oct, and past 28 Mar 2027.
        let first = EventSchedule::Timed {
            start: at(2026, 10, 20, 19, 0),
            end: Some(at(2026, 10, 20, 21, 0)),
        };
        let rule = weekly(&[Weekday::Tue], date(2026, 10, 20), date(2027, 4, 6));
        let series = Series::new(rule, BTreeSet::new(), date(2026, 10, 20)).unwrap();
        let occ = series.occurrences(&first, Europe::Berlin);
        assert_eq!(occ.len(), 25);
        for o in &occ {
            let local = o.starts_at.with_timezone(&Europe::Berlin);
            assert_eq!(local.format("%H:%M").to_string(), "19:00", "{o:?}");
            assert_eq!(local.weekday(), Weekday::Tue);
            assert_eq!(o.ends_at - o.starts_at, TimeDelta::hours(2));
        }
        // In UTC the instant moves by the hour: 17:00 in summer time, 18:00 in winter.
        assert_eq!(occ[0].starts_at.format("%H:%M").to_string(), "17:00");
        assert_eq!(occ[1].starts_at.format("%H:%M").to_string(), "18:00");
        assert_eq!(occ[24].starts_at.format("%H:%M").to_string(), "17:00");
    }

    #[test]
    fn new_zealand_changes_its_clocks_the_other_way_round() {
        // Auckland moves forward on 27 Sep 2026 and back on 4 Apr 2027.
        let first = EventSchedule::Timed {
            start: at(2026, 9, 20, 18, 30),
            end: None,
        };
        let rule = weekly(&[Weekday::Sun], date(2026, 9, 20), date(2027, 4, 11));
        let series = Series::new(rule, BTreeSet::new(), date(2026, 9, 20)).unwrap();
        let occ = series.occurrences(&first, Pacific::Auckland);
        assert!(
            local_times(&occ, Pacific::Auckland)
                .iter()
                .all(|t| t.ends_with("18:30"))
        );
        assert_eq!(occ[0].starts_at.format("%H:%M").to_string(), "06:30"); // NZST +12
        assert_eq!(occ[1].starts_at.format("%H:%M").to_string(), "05:30"); // NZDT +13
        assert_eq!(
            occ.last().unwrap().starts_at.format("%H:%M").to_string(),
            "06:30"
        );
    }

    #[test]
    fn kathmandu_keeps_its_quarter_hour() {
        let first = EventSchedule::Timed {
            start: at(2026, 12, 1, 17, 0),
            end: Some(at(2026, 12, 1, 19, 0)),
        };
        let rule = RepeatRule::new(
            Frequency::Daily,
            1,
            &[],
            None,
            None,
            Some(3),
            date(2026, 12, 1),
        )
        .unwrap();
        let occ = Series::new(rule, BTreeSet::new(), date(2026, 12, 1))
            .unwrap()
            .occurrences(&first, Asia::Kathmandu);
        let utc: Vec<String> = occ
            .iter()
            .map(|o| o.starts_at.format("%d %H:%M").to_string())
            .collect();
        assert_eq!(utc, ["01 11:15", "02 11:15", "03 11:15"]);
    }

    #[test]
    fn a_start_in_the_spring_gap_moves_forward_by_the_gap() {
        // 02:30 does not exist in Berlin on 28 Mar 2027; RFC 5545 reads it as 03:30.
        let first = EventSchedule::Timed {
            start: at(2027, 3, 21, 2, 30),
            end: Some(at(2027, 3, 21, 4, 0)),
        };
        let rule = weekly(&[Weekday::Sun], date(2027, 3, 21), date(2027, 4, 4));
        let occ = Series::new(rule, BTreeSet::new(), date(2027, 3, 21))
            .unwrap()
            .occurrences(&first, Europe::Berlin);
        assert_eq!(
            local_times(&occ, Europe::Berlin),
            ["2027-03-21 02:30", "2027-03-28 03:30", "2027-04-04 02:30"]
        );
        assert!(occ.iter().all(|o| o.ends_at > o.starts_at));
    }

    #[test]
    fn the_last_friday_of_each_month() {
        let first = date(2026, 12, 25);
        let rule = RepeatRule::new(
            Frequency::MonthlyByWeekday,
            1,
            &[],
            Some(Nth::LAST),
            None,
            Some(4),
            first,
        )
        .unwrap();
        assert_eq!(
            rule.dates(first).unwrap(),
            [
                date(2026, 12, 25),
                date(2027, 1, 29),
                date(2027, 2, 26),
                date(2027, 3, 26)
            ]
        );
        assert_eq!(rule.to_stored(first), "FREQ=MONTHLY;BYDAY=-1FR;COUNT=4");
        assert_eq!(rule.describe(first), "Every month on the last Friday");
        assert_eq!(RepeatRule::from_stored(&rule.to_stored(first)), Some(rule));
    }

    #[test]
    fn the_first_friday_is_derived_from_the_first_date() {
        let first = date(2026, 12, 4);
        let rule = RepeatRule::new(
            Frequency::MonthlyByWeekday,
            1,
            &[],
            None,
            None,
            Some(3),
            first,
        )
        .unwrap();
        assert_eq!(rule.nth, Some(Nth(1)));
        assert_eq!(rule.dates(first).unwrap()[1], date(2027, 1, 1));
        let wrong = RepeatRule::new(
            Frequency::MonthlyByWeekday,
            1,
            &[],
            Some(Nth::LAST),
            None,
            Some(3),
            first,
        );
        assert_eq!(wrong, Err(RepeatError::NthMismatch("last Friday".into())));
    }

    #[test]
    fn the_31st_skips_the_months_without_one() {
        let first = date(2027, 1, 31);
        let rule =
            RepeatRule::new(Frequency::MonthlyByDate, 1, &[], None, None, Some(4), first).unwrap();
        assert_eq!(
            rule.dates(first).unwrap(),
            [
                date(2027, 1, 31),
                date(2027, 3, 31),
                date(2027, 5, 31),
                date(2027, 7, 31)
            ]
        );
        assert_eq!(rule.describe(first), "Every month on the 31st");
    }

    #[test]
    fn eight_tuesdays_every_other_week() {
        let first = date(2027, 1, 5);
        let rule = RepeatRule::new(
            Frequency::Weekly,
            2,
            &[Weekday::Tue],
            None,
            None,
            Some(8),
            first,
        )
        .unwrap();
        let dates = rule.dates(first).unwrap();
        assert_eq!(dates.len(), 8);
        assert_eq!(dates[1], date(2027, 1, 19));
        assert_eq!(
            rule.to_stored(first),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;WKST=MO;COUNT=8"
        );
        assert_eq!(rule.describe(first), "Every 2 weeks on Tue");
        assert_eq!(RepeatRule::from_stored(&rule.to_stored(first)), Some(rule));
    }

    #[test]
    fn the_limits_are_refused_with_their_reason() {
        let first = date(2026, 12, 1);
        let r = |f, until, count| RepeatRule::new(f, 1, &[Weekday::Tue], None, until, count, first);
        assert_eq!(r(Frequency::Daily, None, None), Err(RepeatError::NoEnd));
        assert_eq!(
            r(Frequency::Daily, Some(date(2027, 1, 1)), Some(3)),
            Err(RepeatError::BothEnds)
        );
        // 365 × 2 days: more than 500.
        assert_eq!(
            r(Frequency::Daily, Some(date(2028, 12, 1)), None),
            Err(RepeatError::TooMany)
        );
        assert_eq!(
            r(Frequency::Daily, None, Some(501)),
            Err(RepeatError::BadCount)
        );
        assert!(r(Frequency::Daily, None, Some(500)).is_ok());
        // Yearly for eleven years: few occurrences, but past ten years.
        assert_eq!(
            r(Frequency::Yearly, Some(date(2037, 12, 1)), None),
            Err(RepeatError::TooLong)
        );
        assert_eq!(
            r(Frequency::Yearly, None, Some(12)),
            Err(RepeatError::TooLong)
        );
        assert!(r(Frequency::Yearly, None, Some(11)).is_ok());
        assert_eq!(
            r(Frequency::Daily, Some(date(2026, 11, 30)), None),
            Err(RepeatError::UntilBeforeStart)
        );
        assert_eq!(
            RepeatRule::new(
                Frequency::Weekly,
                1,
                &[Weekday::Wed],
                None,
                None,
                Some(3),
                first
            ),
            Err(RepeatError::FirstDayNotTicked("Tuesday"))
        );
    }

    #[test]
    fn skipped_dates_must_be_occurrences() {
        let first = date(2026, 12, 1);
        let rule = weekly(&[Weekday::Tue], first, date(2026, 12, 29));
        let skip = BTreeSet::from([date(2026, 12, 2)]);
        assert!(matches!(
            Series::new(rule.clone(), skip, first),
            Err(RepeatError::SkipNotInSeries(_))
        ));
        let skip = BTreeSet::from([date(2026, 12, 22), date(2026, 12, 29)]);
        let series = Series::new(rule, skip, first).unwrap();
        let first = EventSchedule::AllDay { first, last: first };
        let occ = series.occurrences(&first, Europe::Lisbon);
        assert_eq!(occ.iter().filter(|o| o.skipped).count(), 2);
    }

    #[test]
    fn opening_hours_read_as_runs_of_days() {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        let mut week = OpeningHours::default();
        for day in [
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ] {
            week.set(day, t(10), t(18)).unwrap();
        }
        week.set(Weekday::Thu, t(10), t(21)).unwrap();
        assert_eq!(
            week.describe(),
            "Tue–Wed 10:00–18:00; Thu 10:00–21:00; Fri–Sun 10:00–18:00"
        );
        assert_eq!(
            week.set(Weekday::Mon, t(18), t(10)),
            Err(HoursError::ClosesBeforeOpening)
        );
        let hours = Hours {
            week,
            closed_dates: BTreeSet::from([date(2026, 12, 25)]),
        };
        assert_eq!(hours.on(date(2026, 12, 25)), None); // a Friday, but closed
        assert_eq!(hours.on(date(2026, 12, 24)), Some((t(10), t(21))));
        assert_eq!(hours.on(date(2026, 12, 21)), None); // a Monday
    }

    #[test]
    fn date_lists_take_commas_and_new_lines() {
        assert_eq!(
            parse_date_list("2026-12-24, 2026-12-25\r\n2026-12-31")
                .unwrap()
                .len(),
            3
        );
        assert!(
            parse_date_list("24/12/2026")
                .unwrap_err()
                .contains("24/12/2026")
        );
    }
}

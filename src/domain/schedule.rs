use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

/// The length given to a timed event that states no end: two hours, the length of a
/// typical concert, screening or talk. Calendars need an end, and a zero-length event
/// disappears from most of them.
pub const DEFAULT_DURATION: TimeDelta = TimeDelta::hours(2);

/// The earliest and latest years an event may touch: enough for archives and long
/// plans, and it keeps typing slips (year 20226) out.
pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2100;

/// The longest an event may run: two years covers the longest exhibitions.
pub const MAX_DAYS: i64 = 731;

/// When an event happens, in the local time of its city. This is the truth that is
/// stored; UTC instants are derived from it with [`EventSchedule::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSchedule {
    /// Whole days, from `first` to `last` inclusive (a festival on 12–14 December).
    AllDay { first: NaiveDate, last: NaiveDate },
    /// A start and optional end as local wall-clock times. With no end the event
    /// lasts [`DEFAULT_DURATION`].
    Timed {
        start: NaiveDateTime,
        end: Option<NaiveDateTime>,
    },
}

/// The UTC instants an event covers: `starts_at` inclusive, `ends_at` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instants {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the end is before the start")]
    EndBeforeStart,
    #[error("the end must be later than the start")]
    EmptyDuration,
    #[error("an event runs for at most {MAX_DAYS} days")]
    TooLong,
    #[error("dates must fall between {FIRST_YEAR} and {LAST_YEAR}")]
    YearOutOfRange,
    #[error(
        "{time} does not exist in {zone}: the clocks go forward then. Choose a time after the change."
    )]
    NonexistentLocalTime { time: NaiveDateTime, zone: String },
}

impl EventSchedule {
    /// Whole days from `first` to `last`, both included.
    pub fn all_day(first: NaiveDate, last: NaiveDate) -> Result<EventSchedule, ScheduleError> {
        check_year(first)?;
        check_year(last)?;
        if last < first {
            return Err(ScheduleError::EndBeforeStart);
        }
        if (last - first).num_days() >= MAX_DAYS {
            return Err(ScheduleError::TooLong);
        }
        Ok(EventSchedule::AllDay { first, last })
    }

    /// A timed event; `end` may be left out.
    pub fn timed(
        start: NaiveDateTime,
        end: Option<NaiveDateTime>,
    ) -> Result<EventSchedule, ScheduleError> {
        check_year(start.date())?;
        if let Some(end) = end {
            check_year(end.date())?;
            if end < start {
                return Err(ScheduleError::EndBeforeStart);
            }
            if end == start {
                return Err(ScheduleError::EmptyDuration);
            }
            if (end - start).num_days() >= MAX_DAYS {
                return Err(ScheduleError::TooLong);
            }
        }
        Ok(EventSchedule::Timed { start, end })
    }

    /// Rebuilds a schedule from its stored columns.
    pub fn from_parts(
        all_day: bool,
        start_date: NaiveDate,
        start_time: Option<NaiveTime>,
        end_date: NaiveDate,
        end_time: Option<NaiveTime>,
    ) -> Result<EventSchedule, ScheduleError> {
        match (all_day, start_time) {
            (false, Some(start_time)) => EventSchedule::timed(
                start_date.and_time(start_time),
                end_time.map(|t| end_date.and_time(t)),
            ),
            _ => EventSchedule::all_day(start_date, end_date),
        }
    }

    /// [`EventSchedule::from_parts`] for columns the site wrote itself: they are
    /// consistent, and should they not be, they read as whole days rather than fail.
    pub fn from_stored(
        all_day: bool,
        start_date: NaiveDate,
        start_time: Option<NaiveTime>,
        end_date: NaiveDate,
        end_time: Option<NaiveTime>,
    ) -> EventSchedule {
        EventSchedule::from_parts(all_day, start_date, start_time, end_date, end_time).unwrap_or(
            EventSchedule::AllDay {
                first: start_date,
                last: end_date.max(start_date),
            },
        )
    }

    pub fn is_all_day(&self) -> bool {
        matches!(self, EventSchedule::AllDay { .. })
    }

    /// The local date of the first day.
    pub fn first_date(&self) -> NaiveDate {
        match self {
            EventSchedule::AllDay { first, .. } => *first,
            EventSchedule::Timed { start, .. } => start.date(),
        }
    }

    /// The local date of the last day (for a timed event without an end, its start date).
    pub fn last_date(&self) -> NaiveDate {
        match self {
            EventSchedule::AllDay { last, .. } => *last,
            EventSchedule::Timed { start, end } => end.unwrap_or(*start).date(),
        }
    }

    pub fn start_time(&self) -> Option<NaiveTime> {
        match self {
            EventSchedule::AllDay { .. } => None,
            EventSchedule::Timed { start, .. } => Some(start.time()),
        }
    }

    pub fn end_time(&self) -> Option<NaiveTime> {
        match self {
            EventSchedule::AllDay { .. } => None,
            EventSchedule::Timed { end, .. } => end.map(|e| e.time()),
        }
    }

    /// The UTC instants of this schedule in `tz`.
    ///
    /// * A wall-clock time inside a spring-forward gap does not exist; it is refused with
    ///   an error that says so, rather than being moved silently.
    /// * A wall-clock time in an autumn fall-back overlap happens twice; the first
    ///   occurrence is taken, which is what RFC 5545 (3.3.5) says the same
    ///   `DTSTART;TZID=…` means. Several clients take the second, so feeds write such a
    ///   time in UTC (`ical::feed`).
    /// * An all-day event covers its days from the start of the first local day to the
    ///   start of the day after the last one.
    pub fn resolve(&self, tz: Tz) -> Result<Instants, ScheduleError> {
        let (starts_at, ends_at) = match *self {
            EventSchedule::AllDay { first, last } => {
                let after = last.succ_opt().ok_or(ScheduleError::YearOutOfRange)?;
                (start_of_day(tz, first), start_of_day(tz, after))
            }
            EventSchedule::Timed { start, end } => {
                let starts_at = local_instant(tz, start)?;
                let ends_at = match end {
                    Some(end) => local_instant(tz, end)?,
                    None => starts_at + DEFAULT_DURATION,
                };
                (starts_at, ends_at)
            }
        };
        if ends_at <= starts_at {
            // 01:30 to 01:15 across a fall-back hour reads as forwards but is not.
            return Err(ScheduleError::EmptyDuration);
        }
        Ok(Instants { starts_at, ends_at })
    }
}

fn check_year(date: NaiveDate) -> Result<(), ScheduleError> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
        Ok(())
    } else {
        Err(ScheduleError::YearOutOfRange)
    }
}

/// The instant of a local wall-clock time: the first one if it happens twice, an error if
/// it never happens.
pub fn local_instant(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, ScheduleError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(ScheduleError::NonexistentLocalTime {
            time: local,
            zone: tz.name().to_owned(),
        }),
    }
}

/// The first instant of a local day. Some zones (America/Santiago, Asia/Beirut) move
/// their clocks at midnight, so midnight itself may not exist; the day then starts at the
/// first minute that does.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    let mut local = midnight;
    // No zone has a gap longer than a few hours; step by minutes until the day exists.
    for _ in 0..(24 * 60) {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => local += TimeDelta::minutes(1),
        }
    }
    // Unreachable with the tz database, but stay total: treat the date as UTC.
    midnight.and_utc()
}

/// A date written exactly `YYYY-MM-DD`, as `<input type="date">` sends it. Other
/// spellings chrono would take (`2026-1-5`, `+2026-01-05`) are refused, so that each
/// date has one form in addresses and forms.
pub fn parse_iso_date(value: &str) -> Option<NaiveDate> {
    let b = value.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    shape
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
}

/// A time written exactly `HH:MM`, as `<input type="time">` sends it. `7:5` is refused,
/// and so is `19:00:30`: the seconds would otherwise be silently dropped.
pub fn parse_hh_mm(value: &str) -> Option<NaiveTime> {
    let b = value.as_bytes();
    let shape = b.len() == 5
        && b.iter().enumerate().all(|(i, c)| {
            if i == 2 {
                *c == b':'
            } else {
                c.is_ascii_digit()
            }
        });
    shape
        .then(|| NaiveTime::parse_from_str(value, "%H:%M").ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{at, date};
    use chrono_tz::{Asia, Europe, Pacific};

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_three_day_festival_covers_three_local_days() {
        let s = EventSchedule::all_day(date(2026, 12, 12), date(2026, 12, 14)).unwrap();
        let i = s.resolve(Europe::Lisbon).unwrap();
        assert_eq!(i.starts_at, utc("2026-12-12T00:00:00Z"));
        assert_eq!(i.ends_at, utc("2026-12-15T00:00:00Z"));
    }

    #[test]
    fn an_event_ending_before_it_starts_is_rejected() {
        assert_eq!(
            EventSchedule::all_day(date(2026, 12, 14), date(2026, 12, 12)),
            Err(ScheduleError::EndBeforeStart)
        );
        assert_eq!(
            EventSchedule::timed(at(2026, 12, 12, 20, 0), Some(at(2026, 12, 12, 19, 0))),
            Err(ScheduleError::EndBeforeStart)
        );
        assert_eq!(
            EventSchedule::timed(at(2026, 12, 12, 20, 0), Some(at(2026, 12, 12, 20, 0))),
            Err(ScheduleError::EmptyDuration)
        );
    }

    #[test]
    fn years_far_outside_the_calendar_are_rejected() {
        assert_eq!(
            EventSchedule::all_day(date(1999, 12, 31), date(2000, 1, 1)),
            Err(ScheduleError::YearOutOfRange)
        );
        assert_eq!(
            EventSchedule::timed(at(2101, 1, 1, 10, 0), None),
            Err(ScheduleError::YearOutOfRange)
        );
        assert_eq!(
            EventSchedule::all_day(date(2026, 1, 1), date(2028, 6, 1)),
            Err(ScheduleError::TooLong)
        );
    }

    #[test]
    fn a_timed_event_without_an_end_lasts_the_default_duration() {
        let s = EventSchedule::timed(at(2026, 12, 12, 19, 0), None).unwrap();
        let i = s.resolve(Europe::Lisbon).unwrap();
        assert_eq!(i.ends_at - i.starts_at, DEFAULT_DURATION);
    }

    #[test]
    fn a_time_inside_the_paris_spring_forward_gap_is_refused() {
        // On 29 March 2026 Paris goes from 02:00 CET straight to 03:00 CEST.
        let s = EventSchedule::timed(at(2026, 3, 29, 2, 30), Some(at(2026, 3, 29, 4, 0))).unwrap();
        let err = s.resolve(Europe::Paris).unwrap_err();
        assert!(matches!(err, ScheduleError::NonexistentLocalTime { .. }));
        assert!(err.to_string().contains("Europe/Paris"), "{err}");
    }

    #[test]
    fn an_event_on_the_paris_spring_forward_day_has_the_right_instants() {
        // 01:30 is still CET (+01:00); 03:30 is already CEST (+02:00): one hour passes.
        let s = EventSchedule::timed(at(2026, 3, 29, 1, 30), Some(at(2026, 3, 29, 3, 30))).unwrap();
        let i = s.resolve(Europe::Paris).unwrap();
        assert_eq!(i.starts_at, utc("2026-03-29T00:30:00Z"));
        assert_eq!(i.ends_at, utc("2026-03-29T01:30:00Z"));
        // And that whole day is 23 hours long.
        let day = EventSchedule::all_day(date(2026, 3, 29), date(2026, 3, 29)).unwrap();
        let d = day.resolve(Europe::Paris).unwrap();
        assert_eq!(d.ends_at - d.starts_at, TimeDelta::hours(23));
    }

    #[test]
    fn an_ambiguous_fall_back_time_takes_its_first_occurrence() {
        // On 25 October 2026 Paris goes from 03:00 CEST back to 02:00 CET; 02:30 happens twice.
        let s = EventSchedule::timed(at(2026, 10, 25, 2, 30), None).unwrap();
        let i = s.resolve(Europe::Paris).unwrap();
        assert_eq!(
            i.starts_at,
            utc("2026-10-25T00:30:00Z"),
            "the CEST occurrence"
        );
    }

    #[test]
    fn kathmandu_is_five_hours_forty_five_ahead() {
        let s =
            EventSchedule::timed(at(2026, 12, 12, 18, 0), Some(at(2026, 12, 12, 20, 0))).unwrap();
        let i = s.resolve(Asia::Kathmandu).unwrap();
        assert_eq!(i.starts_at, utc("2026-12-12T12:15:00Z"));
        assert_eq!(i.ends_at, utc("2026-12-12T14:15:00Z"));
    }

    #[test]
    fn an_auckland_evening_crosses_midnight_utc_backwards() {
        // 12 December in Auckland is NZDT (+13:00): a 10:00–14:00 event starts the
        // previous day in UTC and ends on the same UTC day.
        let s =
            EventSchedule::timed(at(2026, 12, 12, 10, 0), Some(at(2026, 12, 12, 14, 0))).unwrap();
        let i = s.resolve(Pacific::Auckland).unwrap();
        assert_eq!(i.starts_at, utc("2026-12-11T21:00:00Z"));
        assert_eq!(i.ends_at, utc("2026-12-12T01:00:00Z"));
    }

    #[test]
    fn a_day_that_starts_after_a_midnight_gap_starts_when_the_clocks_allow() {
        // America/Santiago springs forward at 24:00 on the first Saturday of September:
        // 6 September 2026 has no 00:00; it begins at 01:00 (-03:00).
        let tz: Tz = "America/Santiago".parse().unwrap();
        let start = start_of_day(tz, date(2026, 9, 6));
        assert_eq!(start, utc("2026-09-06T04:00:00Z"));
    }

    #[test]
    fn the_stored_parts_rebuild_the_schedule() {
        let s =
            EventSchedule::timed(at(2026, 12, 12, 19, 0), Some(at(2026, 12, 13, 1, 0))).unwrap();
        let rebuilt = EventSchedule::from_parts(
            false,
            s.first_date(),
            s.start_time(),
            s.last_date(),
            s.end_time(),
        )
        .unwrap();
        assert_eq!(rebuilt, s);
        let a = EventSchedule::all_day(date(2026, 12, 1), date(2027, 2, 28)).unwrap();
        assert_eq!(
            EventSchedule::from_parts(true, a.first_date(), None, a.last_date(), None).unwrap(),
            a
        );
    }

    #[test]
    fn dates_and_times_have_one_spelling() {
        assert_eq!(
            parse_iso_date("2026-12-05"),
            NaiveDate::from_ymd_opt(2026, 12, 5)
        );
        for bad in [
            "2026-1-5",
            "2026-12-5",
            "+2026-12-05",
            "2026/12/05",
            "2026-13-01",
            " 2026-12-05",
            "２０２６-12-05",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
        assert_eq!(parse_hh_mm("07:05"), NaiveTime::from_hms_opt(7, 5, 0));
        for bad in [
            "7:5", "7:05", "19:00:30", "19:00:00", "24:00", "19.30", "19:3０", "+9:30",
        ] {
            assert_eq!(parse_hh_mm(bad), None, "{bad}");
        }
    }
}

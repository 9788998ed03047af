//! How an event's dates read to a person: always in the city's local time, with the
//! zone named, and ranges written the way people write them ("12–14 Dec 2026").

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetName, Tz};

use super::EventSchedule;
use super::schedule::local_instant;

/// One date or date-time, as text and as the machine-readable `datetime` attribute of a
/// `<time>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeLabel {
    pub datetime: String,
    pub text: String,
}

/// An event's dates, ready to print: `lead start sep end (zone)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    /// "until", for an event that is already running.
    pub lead: Option<&'static str>,
    pub start: TimeLabel,
    /// "–" between numbers, " – " between longer pieces.
    pub sep: &'static str,
    pub end: Option<TimeLabel>,
    /// "Lisbon time, WET"; only for timed events.
    pub zone: Option<String>,
}

impl When {
    /// The full dates, as on the event's page.
    pub fn full(schedule: &EventSchedule, tz: Tz, place: &str) -> When {
        match *schedule {
            EventSchedule::AllDay { first, last } => date_range(first, last),
            EventSchedule::Timed { start, end } => timed(tz, place, start, end),
        }
    }

    /// The dates as a listing shows them: an event that began before today (in its own
    /// zone) and is still running reads "until 28 Feb 2027".
    pub fn summary(schedule: &EventSchedule, tz: Tz, place: &str, now: DateTime<Utc>) -> When {
        let today = now.with_timezone(&tz).date_naive();
        let started_before_today = schedule.first_date() < today;
        match *schedule {
            EventSchedule::AllDay { last, .. } if started_before_today && last >= today => When {
                lead: Some("until"),
                start: date_label(last, "%a %-d %b %Y"),
                sep: "",
                end: None,
                zone: None,
            },
            EventSchedule::Timed { end: Some(end), .. }
                if started_before_today && end.date() >= today =>
            {
                let zone = Some(zone_label(tz, place, local_or_utc(tz, end)));
                When {
                    lead: Some("until"),
                    start: datetime_label(tz, end, "%a %-d %b %Y, %H:%M"),
                    sep: "",
                    end: None,
                    zone,
                }
            }
            _ => When::full(schedule, tz, place),
        }
    }

    /// The same, as one line of plain text (for `title` attributes and feeds).
    pub fn text(&self) -> String {
        let mut out = String::new();
        if let Some(lead) = self.lead {
            out.push_str(lead);
            out.push(' ');
        }
        out.push_str(&self.start.text);
        if let Some(end) = &self.end {
            out.push_str(self.sep);
            out.push_str(&end.text);
        }
        if let Some(zone) = &self.zone {
            out.push_str(" (");
            out.push_str(zone);
            out.push(')');
        }
        out
    }
}

fn date_label(date: NaiveDate, format: &str) -> TimeLabel {
    TimeLabel {
        datetime: date.format("%Y-%m-%d").to_string(),
        text: date.format(format).to_string(),
    }
}

fn date_range(first: NaiveDate, last: NaiveDate) -> When {
    let (start_format, sep) = if first == last {
        ("%a %-d %b %Y", "")
    } else if (first.year(), first.month()) == (last.year(), last.month()) {
        ("%-d", "–")
    } else if first.year() == last.year() {
        ("%-d %b", " – ")
    } else {
        ("%-d %b %Y", " – ")
    };
    When {
        lead: None,
        start: date_label(first, start_format),
        sep,
        end: (first != last).then(|| date_label(last, "%-d %b %Y")),
        zone: None,
    }
}

fn timed(tz: Tz, place: &str, start: NaiveDateTime, end: Option<NaiveDateTime>) -> When {
    let start_instant = local_or_utc(tz, start);
    let mut zone = zone_label(tz, place, start_instant);
    let (sep, end) = match end {
        None => ("", None),
        Some(end) => {
            let end_instant = local_or_utc(tz, end);
            let end_abbr = abbreviation(tz, end_instant);
            if end_abbr != abbreviation(tz, start_instant) {
                // The clocks change during the event: name both offsets.
                zone.push('/');
                zone.push_str(&end_abbr);
            }
            if end.date() == start.date() {
                ("–", Some(datetime_label(tz, end, "%H:%M")))
            } else {
                (" – ", Some(datetime_label(tz, end, "%a %-d %b %Y, %H:%M")))
            }
        }
    };
    When {
        lead: None,
        start: datetime_label(tz, start, "%a %-d %b %Y, %H:%M"),
        sep,
        end,
        zone: Some(zone),
    }
}

fn local_or_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    // Stored schedules were resolved when saved; a tz database update could still make
    // a time vanish, and a page must render all the same.
    local_instant(tz, local).unwrap_or_else(|_| local.and_utc())
}

fn datetime_label(tz: Tz, local: NaiveDateTime, format: &str) -> TimeLabel {
    let instant = local_or_utc(tz, local).with_timezone(&tz);
    TimeLabel {
        datetime: instant.format("%Y-%m-%dT%H:%M%:z").to_string(),
        text: local.format(format).to_string(),
    }
}

/// "Lisbon time, WET"; where the tz database has no letters for a zone, the offset:
/// "Kathmandu time, UTC+05:45".
pub fn zone_label(tz: Tz, place: &str, at: DateTime<Utc>) -> String {
    format!("{place} time, {}", abbreviation(tz, at))
}

fn abbreviation(tz: Tz, at: DateTime<Utc>) -> String {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc());
    match offset.abbreviation() {
        Some(abbr) if abbr.starts_with(|c: char| c.is_ascii_alphabetic()) => abbr.to_owned(),
        _ => utc_offset_label(tz, at),
    }
}

/// "UTC+05:45", "UTC-03:00": the zone's offset from UTC at `at`.
pub fn utc_offset_label(tz: Tz, at: DateTime<Utc>) -> String {
    let seconds = tz
        .offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc();
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{at, date};
    use chrono_tz::{America, Asia, Europe};

    #[test]
    fn an_evening_in_lisbon_names_its_zone() {
        let s =
            EventSchedule::timed(at(2026, 12, 12, 19, 0), Some(at(2026, 12, 12, 22, 0))).unwrap();
        let w = When::full(&s, Europe::Lisbon, "Lisbon");
        assert_eq!(w.text(), "Sat 12 Dec 2026, 19:00–22:00 (Lisbon time, WET)");
        assert_eq!(w.start.datetime, "2026-12-12T19:00+00:00");
        assert_eq!(w.end.unwrap().datetime, "2026-12-12T22:00+00:00");
    }

    #[test]
    fn kathmandu_shows_its_offset_when_it_has_no_abbreviation() {
        let s = EventSchedule::timed(at(2026, 12, 12, 18, 0), None).unwrap();
        let w = When::full(&s, Asia::Kathmandu, "Kathmandu");
        assert_eq!(
            w.text(),
            "Sat 12 Dec 2026, 18:00 (Kathmandu time, UTC+05:45)"
        );
        assert_eq!(w.start.datetime, "2026-12-12T18:00+05:45");
    }

    #[test]
    fn all_day_ranges_read_naturally() {
        let cases = [
            ((2026, 12, 12), (2026, 12, 12), "Sat 12 Dec 2026"),
            ((2026, 12, 12), (2026, 12, 14), "12–14 Dec 2026"),
            ((2026, 11, 28), (2026, 12, 3), "28 Nov – 3 Dec 2026"),
            ((2026, 12, 28), (2027, 1, 3), "28 Dec 2026 – 3 Jan 2027"),
        ];
        for (a, b, text) in cases {
            let s = EventSchedule::all_day(date(a.0, a.1, a.2), date(b.0, b.1, b.2)).unwrap();
            assert_eq!(When::full(&s, Europe::Lisbon, "Lisbon").text(), text);
        }
    }

    #[test]
    fn a_running_exhibition_reads_until_its_last_day() {
        let s = EventSchedule::all_day(date(2026, 10, 28), date(2027, 2, 28)).unwrap();
        let now = "2026-11-28T12:00:00Z".parse().unwrap();
        let w = When::summary(&s, Europe::Lisbon, "Lisbon", now);
        assert_eq!(w.text(), "until Sun 28 Feb 2027");
        assert_eq!(w.start.datetime, "2027-02-28");
        // Before it opens it reads as a range.
        let before = "2026-10-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            When::summary(&s, Europe::Lisbon, "Lisbon", before).text(),
            "28 Oct 2026 – 28 Feb 2027"
        );
    }

    #[test]
    fn a_night_across_a_dst_change_names_both_offsets() {
        // New York falls back at 02:00 on 1 November 2026.
        let s = EventSchedule::timed(at(2026, 10, 31, 22, 0), Some(at(2026, 11, 1, 4, 0))).unwrap();
        let w = When::full(&s, America::New_York, "New York");
        assert_eq!(
            w.text(),
            "Sat 31 Oct 2026, 22:00 – Sun 1 Nov 2026, 04:00 (New York time, EDT/EST)"
        );
    }
}

//! VTIMEZONE components generated from the tz database (through chrono-tz).
//!
//! Every zone named by a `TZID` gets a VTIMEZONE that lists each of its transitions
//! explicitly, one observance per transition, for every year the feed's events touch.
//! Explicit observances rather than RRULEs: they are exactly what tzdata says for those
//! years (no rule to get wrong, no guessing about zones whose rules changed), and
//! Outlook, Thunderbird and Evolution apply them as written. Google resolves the TZID by
//! its IANA name, which is why the name is never relabelled.

use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

use super::writer::ContentWriter;

/// One period of a zone's time: from `onset` on, clocks read UTC + `offset_to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observance {
    pub onset: DateTime<Utc>,
    /// Seconds east of UTC before the onset.
    pub offset_from: i32,
    /// Seconds east of UTC from the onset.
    pub offset_to: i32,
    pub name: String,
    /// Summer time (a positive DST offset); otherwise standard time.
    pub daylight: bool,
}

/// What decides a local time: the offset, and how much of it is summer time. A change of
/// abbreviation alone moves no clock and is not a transition here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    offset: i32,
    dst: i64,
}

fn state_at(tz: Tz, at: DateTime<Utc>) -> State {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc());
    State {
        offset: offset.fix().local_minus_utc(),
        dst: offset.dst_offset().num_seconds(),
    }
}

/// The zone's abbreviation at `at`; zones without a letter abbreviation ("+0545") are
/// named by their offset, as tzdata itself prints them.
fn name_at(tz: Tz, at: DateTime<Utc>) -> String {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc());
    offset.abbreviation().map_or_else(
        || format_offset(offset.fix().local_minus_utc()),
        str::to_owned,
    )
}

/// The observances of `tz` for the local dates of `first_year` to `last_year`: the one in
/// force at 00:00 UTC on 31 December of the year before, then one per transition until
/// 00:00 UTC on 2 January of the year after. A day beyond each end in UTC covers those
/// local dates in every zone (UTC-12 to UTC+14).
pub fn observances(tz: Tz, first_year: i32, last_year: i32) -> Vec<Observance> {
    let start = year_start(first_year) - Duration::days(1);
    let end = year_start(last_year.saturating_add(1)) + Duration::days(1);
    let initial = state_at(tz, start);
    let mut list = vec![Observance {
        onset: start,
        offset_from: initial.offset,
        offset_to: initial.offset,
        daylight: initial.dst > 0,
        name: name_at(tz, start),
    }];
    // Transitions are weeks or months apart; stepping by a day and bisecting to the
    // second finds every one without reading tzdata's internals.
    let step = Duration::days(1);
    let mut at = start;
    let mut state = initial;
    while at < end {
        let next = at + step;
        let next_state = state_at(tz, next);
        if next_state != state {
            // Whole seconds: every range bound is one, and tzdata has no finer unit.
            let (mut lo, mut hi) = (at.timestamp(), next.timestamp());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if state_at(tz, utc_seconds(mid)) == state {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let hi = utc_seconds(hi);
            let after = state_at(tz, hi);
            list.push(Observance {
                onset: hi,
                offset_from: state.offset,
                offset_to: after.offset,
                daylight: after.dst > 0,
                name: name_at(tz, hi),
            });
            // Continue from the transition: two changes within one step are not lost.
            at = hi;
            state = after;
            continue;
        }
        at = next;
        state = next_state;
    }
    list
}

fn utc_seconds(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

fn year_start(year: i32) -> DateTime<Utc> {
    let date = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// `+0100`, `-0330`, `+0545`; seconds only when there are any. Never `-0000`.
pub fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// Writes the VTIMEZONE of `tz` covering `first_year` to `last_year`.
pub fn write_vtimezone(w: &mut ContentWriter, tz: Tz, first_year: i32, last_year: i32) {
    w.begin("VTIMEZONE");
    w.text("TZID", tz.name());
    // libical (Evolution) looks zones up by this as well.
    w.text("X-LIC-LOCATION", tz.name());
    for o in observances(tz, first_year, last_year) {
        let kind = if o.daylight { "DAYLIGHT" } else { "STANDARD" };
        w.begin(kind);
        // The onset in the local time in force before it (RFC 5545 3.6.5).
        let local = o.onset.naive_utc() + Duration::seconds(i64::from(o.offset_from));
        w.raw("DTSTART", &local.format("%Y%m%dT%H%M%S").to_string());
        w.raw("TZOFFSETFROM", &format_offset(o.offset_from));
        w.raw("TZOFFSETTO", &format_offset(o.offset_to));
        if !o.name.is_empty() {
            w.text("TZNAME", &o.name);
        }
        w.end(kind);
    }
    w.end("VTIMEZONE");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The offset an observance list gives at `at`, read the way a client reads a
    /// VTIMEZONE: the last observance whose onset is not after `at`.
    fn offset_by_observances(list: &[Observance], at: DateTime<Utc>) -> i32 {
        list.iter()
            .rev()
            .find(|o| o.onset <= at)
            .map(|o| o.offset_to)
            .expect("an observance in force")
    }

    fn parse_offset(text: &str) -> i32 {
        let sign = if text.starts_with('-') { -1 } else { 1 };
        let digits = &text[1..];
        let h: i32 = digits[0..2].parse().unwrap();
        let m: i32 = digits[2..4].parse().unwrap();
        let s: i32 = digits.get(4..6).map_or(0, |s| s.parse().unwrap());
        sign * (h * 3600 + m * 60 + s)
    }

    /// Reads a written VTIMEZONE back into observances, as a client would: each onset is
    /// its local DTSTART minus its TZOFFSETFROM.
    fn read_vtimezone(text: &str) -> Vec<Observance> {
        let mut list = Vec::new();
        let mut start = None;
        let mut from = 0;
        for line in text.split("\r\n") {
            if let Some(v) = line.strip_prefix("DTSTART:") {
                start = Some(chrono::NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").unwrap());
            } else if let Some(v) = line.strip_prefix("TZOFFSETFROM:") {
                from = parse_offset(v);
            } else if let Some(v) = line.strip_prefix("TZOFFSETTO:") {
                let local = start.take().unwrap();
                list.push(Observance {
                    onset: (local - Duration::seconds(i64::from(from))).and_utc(),
                    offset_from: from,
                    offset_to: parse_offset(v),
                    name: String::new(),
                    daylight: false,
                });
            }
        }
        list
    }

    fn check_zone(name: &str, first: i32, last: i32, expected_transitions: usize) {
        let tz: Tz = name.parse().unwrap();
        let mut w = ContentWriter::default();
        write_vtimezone(&mut w, tz, first, last);
        // What a client reads from the text, not what the generator meant.
        let list = read_vtimezone(&w.finish());
        assert_eq!(list.len() - 1, expected_transitions, "{name}: {list:#?}");
        let chrono_offset = |at: DateTime<Utc>| {
            tz.offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc()
        };
        for o in &list[1..] {
            // Both sides of every transition.
            for at in [
                o.onset - Duration::seconds(1),
                o.onset,
                o.onset + Duration::hours(1),
            ] {
                assert_eq!(
                    offset_by_observances(&list, at),
                    chrono_offset(at),
                    "{name} at {at}"
                );
            }
            assert_eq!(o.offset_from, chrono_offset(o.onset - Duration::seconds(1)));
            assert_ne!(
                o.offset_from, o.offset_to,
                "{name}: a transition that changes nothing"
            );
        }
        // And every day of the range.
        let mut at = year_start(first);
        while at < year_start(last + 1) {
            assert_eq!(
                offset_by_observances(&list, at),
                chrono_offset(at),
                "{name} at {at}"
            );
            at += Duration::hours(23);
        }
    }

    #[test]
    fn observances_match_tzdata_on_both_sides_of_every_transition() {
        check_zone("Europe/Paris", 2026, 2028, 6);
        check_zone("America/Santiago", 2026, 2028, 6);
        check_zone("Pacific/Auckland", 2026, 2028, 6);
        check_zone("Australia/Sydney", 2026, 2028, 6);
        check_zone("America/St_Johns", 2026, 2028, 6);
        check_zone("Europe/Dublin", 2026, 2028, 6);
        check_zone("Asia/Kathmandu", 2026, 2028, 0);
        check_zone("Asia/Kolkata", 2026, 2028, 0);
        check_zone("Africa/Casablanca", 2026, 2027, 4);
    }

    #[test]
    fn paris_changes_on_the_last_sundays_of_march_and_october() {
        let list = observances(chrono_tz::Europe::Paris, 2027, 2027);
        let onsets: Vec<String> = list.iter().map(|o| o.onset.to_rfc3339()).collect();
        assert_eq!(
            onsets,
            [
                "2026-12-31T00:00:00+00:00",
                "2027-03-28T01:00:00+00:00",
                "2027-10-31T01:00:00+00:00"
            ]
        );
        assert!(list[1].daylight && !list[2].daylight);
        assert_eq!(list[1].name, "CEST");
    }

    #[test]
    fn a_vtimezone_is_written_in_local_onset_time() {
        let mut w = ContentWriter::default();
        write_vtimezone(&mut w, chrono_tz::Asia::Kathmandu, 2026, 2026);
        assert_eq!(
            w.finish(),
            "BEGIN:VTIMEZONE\r\nTZID:Asia/Kathmandu\r\nX-LIC-LOCATION:Asia/Kathmandu\r\n\
             BEGIN:STANDARD\r\nDTSTART:20251231T054500\r\nTZOFFSETFROM:+0545\r\n\
             TZOFFSETTO:+0545\r\nTZNAME:+0545\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        );
        let mut w = ContentWriter::default();
        write_vtimezone(&mut w, chrono_tz::Europe::Paris, 2026, 2026);
        let text = w.finish();
        assert!(text.contains(
            "BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\n\
             TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n"
        ));
        assert!(text.contains(
            "BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\n\
             TZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n"
        ));
    }

    #[test]
    fn offsets_are_formatted_without_a_negative_zero() {
        assert_eq!(format_offset(0), "+0000");
        assert_eq!(format_offset(-12_600), "-0330");
        assert_eq!(format_offset(20_700), "+0545");
        assert_eq!(format_offset(-1_521), "-002521");
    }
}

//! What repeats: a series' rule and its occurrences, and an exhibition's opening hours,
//! each kept beside its row of `events` (see the migration `create_event_series`).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{event_closed_dates, event_occurrences, event_opening_hours, event_series};
use crate::domain::recurrence::{Hours, OpeningHours, RepeatRule, Series, shifted};
use crate::domain::{EventDraft, EventSchedule};

/// What an occurrence is: going ahead, cancelled by the organiser, or skipped by the
/// rule's exceptions (EXDATE: not listed anywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OccurrenceStatus {
    Scheduled,
    Cancelled,
    Skipped,
}

impl OccurrenceStatus {
    pub fn slug(self) -> &'static str {
        match self {
            OccurrenceStatus::Scheduled => "scheduled",
            OccurrenceStatus::Cancelled => "cancelled",
            OccurrenceStatus::Skipped => "skipped",
        }
    }

    fn parse(value: &str) -> OccurrenceStatus {
        match value {
            "cancelled" => OccurrenceStatus::Cancelled,
            "skipped" => OccurrenceStatus::Skipped,
            _ => OccurrenceStatus::Scheduled,
        }
    }
}

/// One occurrence of a series, as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_occurrences, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct OccurrenceRow {
    pub event_id: i32,
    /// The date the rule gives it (its RECURRENCE-ID); where it is may differ.
    pub occurrence_date: NaiveDate,
    pub status: String,
    pub start_date: NaiveDate,
    pub start_time: Option<NaiveTime>,
    pub end_date: NaiveDate,
    pub end_time: Option<NaiveTime>,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub title: Option<String>,
    pub overridden: bool,
}

impl OccurrenceRow {
    pub fn status(&self) -> OccurrenceStatus {
        OccurrenceStatus::parse(&self.status)
    }

    pub fn schedule(&self) -> EventSchedule {
        EventSchedule::from_stored(
            self.start_time.is_none(),
            self.start_date,
            self.start_time,
            self.end_date,
            self.end_time,
        )
    }

    pub fn starts_at_utc(&self) -> DateTime<Utc> {
        self.starts_at.and_utc()
    }

    pub fn ends_at_utc(&self) -> DateTime<Utc> {
        self.ends_at.and_utc()
    }

    /// Whether it is elsewhere in time than the rule puts it.
    pub fn is_moved(&self, first: &EventSchedule) -> bool {
        shifted(first, self.occurrence_date - first.first_date()).is_some_and(|at| {
            at.first_date() != self.start_date
                || at.start_time() != self.start_time
                || (at.is_all_day() && at.last_date() != self.end_date)
        })
    }

    fn new(
        event_id: i32,
        date: NaiveDate,
        schedule: &EventSchedule,
        tz: Tz,
        status: OccurrenceStatus,
    ) -> OccurrenceRow {
        let (starts_at, ends_at) = crate::domain::recurrence::resolve_forgiving(schedule, tz);
        OccurrenceRow {
            event_id,
            occurrence_date: date,
            status: status.slug().to_owned(),
            start_date: schedule.first_date(),
            start_time: schedule.start_time(),
            // A timed occurrence's end is where its instant falls, stated or not.
            end_date: match schedule {
                EventSchedule::Timed { .. } => ends_at.with_timezone(&tz).date_naive(),
                EventSchedule::AllDay { .. } => schedule.last_date(),
            },
            end_time: match schedule {
                EventSchedule::Timed { .. } => Some(ends_at.with_timezone(&tz).time()),
                EventSchedule::AllDay { .. } => None,
            },
            starts_at: starts_at.naive_utc(),
            ends_at: ends_at.naive_utc(),
            title: None,
            overridden: false,
        }
    }

    /// The row moved to `schedule` (already checked), retitled or cancelled.
    pub fn overridden_as(
        &self,
        schedule: &EventSchedule,
        tz: Tz,
        title: Option<String>,
        status: OccurrenceStatus,
    ) -> OccurrenceRow {
        let mut row = OccurrenceRow::new(self.event_id, self.occurrence_date, schedule, tz, status);
        row.title = title;
        row.overridden = true;
        row
    }
}

/// An event's repetition, as stored: none, a series, or opening hours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Repetition {
    pub rule: Option<RepeatRule>,
    /// Every occurrence, skipped ones too, in date order.
    pub occurrences: Vec<OccurrenceRow>,
    pub hours: Option<Hours>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = event_series, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct SeriesRow {
    event_id: i32,
    rule: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = event_opening_hours, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct HoursRow {
    event_id: i32,
    weekday: i32,
    opens: NaiveTime,
    closes: NaiveTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = event_closed_dates, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ClosedRow {
    event_id: i32,
    day: NaiveDate,
}

impl Repetition {
    pub fn is_series(&self) -> bool {
        self.rule.is_some()
    }

    /// The series as its form and feed describe it: the rule and the skipped dates.
    pub fn series(&self) -> Option<Series> {
        Some(Series {
            rule: self.rule.clone()?,
            skip_dates: self.skip_dates(),
        })
    }

    pub fn skip_dates(&self) -> BTreeSet<NaiveDate> {
        self.occurrences
            .iter()
            .filter(|o| o.status() == OccurrenceStatus::Skipped)
            .map(|o| o.occurrence_date)
            .collect()
    }

    /// The occurrences that are listed: all but the skipped ones.
    pub fn listed(&self) -> impl Iterator<Item = &OccurrenceRow> {
        self.occurrences
            .iter()
            .filter(|o| o.status() != OccurrenceStatus::Skipped)
    }

    /// The next occurrence going ahead that has not ended at `now`.
    pub fn next(&self, now: DateTime<Utc>) -> Option<&OccurrenceRow> {
        self.listed()
            .filter(|o| o.status() == OccurrenceStatus::Scheduled && o.ends_at_utc() > now)
            .min_by_key(|o| o.starts_at)
    }

    pub fn occurrence(&self, date: NaiveDate) -> Option<&OccurrenceRow> {
        self.occurrences.iter().find(|o| o.occurrence_date == date)
    }

    pub fn load(conn: &mut DbConnection, event_id: i32) -> QueryResult<Repetition> {
        Ok(Repetition::load_many(conn, &[event_id])?
            .remove(&event_id)
            .unwrap_or_default())
    }

    /// The repetition of each of `ids` that has one.
    pub fn load_many(
        conn: &mut DbConnection,
        ids: &[i32],
    ) -> QueryResult<HashMap<i32, Repetition>> {
        let mut out: HashMap<i32, Repetition> = HashMap::new();
        // Bound parameters: SQLite takes 32,766 a statement; pages and feeds ask for less,
        // but a whole network feed may not.
        for ids in ids.chunks(10_000) {
            let rules: Vec<SeriesRow> = event_series::table
                .filter(event_series::event_id.eq_any(ids))
                .select(SeriesRow::as_select())
                .load(conn)?;
            for row in rules {
                out.entry(row.event_id).or_default().rule = RepeatRule::from_stored(&row.rule);
            }
            let with_rule: Vec<i32> = ids
                .iter()
                .copied()
                .filter(|id| out.contains_key(id))
                .collect();
            if !with_rule.is_empty() {
                let occurrences: Vec<OccurrenceRow> = event_occurrences::table
                    .filter(event_occurrences::event_id.eq_any(&with_rule))
                    .order((
                        event_occurrences::event_id,
                        event_occurrences::occurrence_date,
                    ))
                    .select(OccurrenceRow::as_select())
                    .load(conn)?;
                for o in occurrences {
                    out.entry(o.event_id).or_default().occurrences.push(o);
                }
            }
            let hours: Vec<HoursRow> = event_opening_hours::table
                .filter(event_opening_hours::event_id.eq_any(ids))
                .select(HoursRow::as_select())
                .load(conn)?;
            let mut weeks: HashMap<i32, OpeningHours> = HashMap::new();
            for h in hours {
                if let Some(day) = u8::try_from(h.weekday)
                    .ok()
                    .and_then(|d| chrono::Weekday::try_from(d).ok())
                {
                    let _ = weeks
                        .entry(h.event_id)
                        .or_default()
                        .set(day, h.opens, h.closes);
                }
            }
            let closed: Vec<ClosedRow> = event_closed_dates::table
                .filter(event_closed_dates::event_id.eq_any(ids))
                .select(ClosedRow::as_select())
                .load(conn)?;
            let mut closed_by: HashMap<i32, BTreeSet<NaiveDate>> = HashMap::new();
            for c in closed {
                closed_by.entry(c.event_id).or_default().insert(c.day);
            }
            for (id, week) in weeks {
                out.entry(id).or_default().hours = Some(Hours {
                    week,
                    closed_dates: closed_by.remove(&id).unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    /// What `draft` makes of event `event_id`'s repetition in `tz`: the occurrences of
    /// its series, each override kept where its date still belongs to the rule (a
    /// moved one where it was moved to, one only retitled or cancelled at the rule's
    /// new times). `before` is the first occurrence as it was, to tell moved ones.
    pub fn from_draft(
        event_id: i32,
        draft: &EventDraft,
        tz: Tz,
        old: &Repetition,
        before: Option<&EventSchedule>,
    ) -> Repetition {
        let occurrences = match &draft.series {
            None => Vec::new(),
            Some(series) => series
                .occurrences(&draft.schedule, tz)
                .into_iter()
                .map(|o| {
                    let skipped = o.skipped;
                    let fresh = OccurrenceRow::new(
                        event_id,
                        o.date,
                        &o.schedule,
                        tz,
                        if skipped {
                            OccurrenceStatus::Skipped
                        } else {
                            OccurrenceStatus::Scheduled
                        },
                    );
                    match old.occurrence(o.date) {
                        Some(kept) if kept.overridden && !skipped => {
                            let moved = before.is_some_and(|b| kept.is_moved(b));
                            let at = if moved { kept.schedule() } else { o.schedule };
                            kept.overridden_as(&at, tz, kept.title.clone(), kept.status())
                        }
                        _ => fresh,
                    }
                })
                .collect(),
        };
        Repetition {
            rule: draft.series.as_ref().map(|s| s.rule.clone()),
            occurrences,
            hours: draft.hours.clone(),
        }
    }

    /// Replaces event `event_id`'s stored repetition with `self`, if it differs from
    /// `old`; whether it did.
    pub fn save(
        &self,
        conn: &mut DbConnection,
        event_id: i32,
        first: NaiveDate,
        old: &Repetition,
    ) -> QueryResult<bool> {
        if self == old {
            return Ok(false);
        }
        diesel::delete(event_series::table.filter(event_series::event_id.eq(event_id)))
            .execute(conn)?;
        diesel::delete(event_occurrences::table.filter(event_occurrences::event_id.eq(event_id)))
            .execute(conn)?;
        diesel::delete(
            event_opening_hours::table.filter(event_opening_hours::event_id.eq(event_id)),
        )
        .execute(conn)?;
        diesel::delete(event_closed_dates::table.filter(event_closed_dates::event_id.eq(event_id)))
            .execute(conn)?;
        if let Some(rule) = &self.rule {
            diesel::insert_into(event_series::table)
                .values(SeriesRow {
                    event_id,
                    rule: rule.to_stored(first),
                })
                .execute(conn)?;
            // 11 columns: 500 rows stay under SQLite's bound-parameter limit.
            for chunk in self.occurrences.chunks(500) {
                crate::on_backend!(conn, c => diesel::insert_into(event_occurrences::table)
                    .values(chunk)
                    .execute(c))?;
            }
        }
        if let Some(hours) = &self.hours {
            let rows: Vec<HoursRow> = hours
                .week
                .iter()
                .map(|(day, opens, closes)| HoursRow {
                    event_id,
                    weekday: i32::try_from(day.num_days_from_monday()).unwrap_or(0),
                    opens,
                    closes,
                })
                .collect();
            crate::on_backend!(conn, c => diesel::insert_into(event_opening_hours::table)
                .values(&rows)
                .execute(c))?;
            let closed: Vec<ClosedRow> = hours
                .closed_dates
                .iter()
                .map(|day| ClosedRow {
                    event_id,
                    day: *day,
                })
                .collect();
            if !closed.is_empty() {
                crate::on_backend!(conn, c => diesel::insert_into(event_closed_dates::table)
                    .values(&closed)
                    .execute(c))?;
            }
        }
        Ok(true)
    }

    /// Stores the repetition of `draft` for the event `event_id` just inserted.
    pub fn create(
        conn: &mut DbConnection,
        event_id: i32,
        draft: &EventDraft,
        tz: Tz,
    ) -> QueryResult<()> {
        let none = Repetition::default();
        Repetition::from_draft(event_id, draft, tz, &none, None).save(
            conn,
            event_id,
            draft.schedule.first_date(),
            &none,
        )?;
        Ok(())
    }

    /// Writes one occurrence's override.
    pub fn save_occurrence(conn: &mut DbConnection, row: &OccurrenceRow) -> QueryResult<()> {
        diesel::update(
            event_occurrences::table
                .filter(event_occurrences::event_id.eq(row.event_id))
                .filter(event_occurrences::occurrence_date.eq(row.occurrence_date)),
        )
        .set((
            event_occurrences::status.eq(&row.status),
            event_occurrences::start_date.eq(row.start_date),
            event_occurrences::start_time.eq(row.start_time),
            event_occurrences::end_date.eq(row.end_date),
            event_occurrences::end_time.eq(row.end_time),
            event_occurrences::starts_at.eq(row.starts_at),
            event_occurrences::ends_at.eq(row.ends_at),
            event_occurrences::title.eq(&row.title),
            event_occurrences::overridden.eq(row.overridden),
        ))
        .execute(conn)?;
        Ok(())
    }
}

impl crate::domain::EventForm {
    /// [`EventForm::with_repetition_parts`] from what is stored.
    pub fn with_repetition(self, repetition: &Repetition) -> Self {
        self.with_repetition_parts(repetition.series().as_ref(), repetition.hours.as_ref())
    }
}

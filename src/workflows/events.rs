//! The organisers' rules: submitting an event, editing it, and cancelling, postponing,
//! reinstating or deleting it. An organiser only ever acts on their own events; a hidden
//! event of someone else is answered as if it did not exist.

use crate::db::DbConnection;
use chrono::{DateTime, NaiveDate, Utc};

use super::{Actor, WorkflowError};
use crate::db::models::{
    City, Event, EventWithCity, NewEvent, OccurrenceRow, OccurrenceStatus, Repetition,
};
use crate::domain::recurrence::shifted;

use crate::domain::{
    DEFAULT_DURATION, EventDraft, EventForm, EventSchedule, EventStatus, EventTitle, FieldErrors,
    FormCity, ModerationState, limited_text, local_instant, parse_hh_mm, parse_iso_date, sentence,
};
use chrono::TimeDelta;

/// The longest note an organiser may give with a cancellation or a postponement.
pub const MAX_NOTE_CHARS: usize = 1_000;

/// What is said of an event that does not exist or that the actor may not see.
pub const NO_EVENT: &str = "There is no event at this address.";

fn no_event() -> WorkflowError {
    WorkflowError::NotFound(NO_EVENT.to_owned())
}

/// Event `id` with its city, if `actor` (`None`: nobody signed in) may know it exists
/// (see [`Event::is_visible_to`]); a hidden one is `NotFound`, like a missing id.
pub fn find_visible(
    conn: &mut DbConnection,
    actor: Option<&Actor>,
    id: i32,
) -> Result<EventWithCity, WorkflowError> {
    let row = match Event::find_with_city(conn, id) {
        Ok(row) => row,
        Err(diesel::result::Error::NotFound) => return Err(no_event()),
        Err(e) => return Err(e.into()),
    };
    if row
        .event
        .is_visible_to(actor.map(|a| (a.account.id, &a.roles)))
    {
        Ok(row)
    } else {
        Err(no_event())
    }
}

/// Event `id`, if it is the actor's. Someone else's is `Forbidden` only when the actor
/// can see it anyway (it is published, or they moderate its city); a hidden one is
/// `NotFound`, like an id that does not exist.
pub fn own_event(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
) -> Result<EventWithCity, WorkflowError> {
    let row = find_visible(conn, Some(actor), id)?;
    if row.event.organiser_id != Some(actor.account.id) {
        return Err(WorkflowError::Forbidden(
            "This event belongs to another organiser; only they can change it.".to_owned(),
        ));
    }
    Ok(row)
}

/// The form checked against its city: the city and the draft, or every error at once.
/// The organiser's name is the actor's and the status is `status`: neither is a field
/// of the form.
fn parse_form(
    conn: &mut DbConnection,
    actor: &Actor,
    form: &EventForm,
    status: EventStatus,
    today: NaiveDate,
) -> Result<(City, EventDraft), WorkflowError> {
    let slug = form.city.trim();
    let city = if slug.is_empty() {
        None
    } else {
        match City::find_by_slug(conn, slug) {
            Ok(c) => Some(c),
            Err(diesel::result::Error::NotFound) => None,
            Err(e) => return Err(e.into()),
        }
    };
    let parsed = form.parse(
        city.as_ref().map(|c| FormCity {
            tz: c.timezone.tz(),
            field: c.field,
        }),
        today,
        Some(actor.account.organiser_name()),
        status,
    );
    match (city, parsed) {
        (Some(city), Ok(draft)) => Ok((city, draft)),
        (city, result) => {
            let mut errors = result.err().unwrap_or_default();
            if city.is_none() {
                errors.add(
                    "city",
                    if slug.is_empty() {
                        "Choose the city the event takes place in."
                    } else {
                        "Choose one of the cities in the list."
                    },
                );
            }
            Err(WorkflowError::Invalid(errors))
        }
    }
}

/// Submits a new event of `actor`'s: published at once when they publish directly in its
/// city (trusted, or a moderator of it), otherwise pending a moderator's review.
pub fn submit(
    conn: &mut DbConnection,
    actor: &Actor,
    form: &EventForm,
    now: DateTime<Utc>,
) -> Result<Event, WorkflowError> {
    let event = conn.immediate_transaction(|conn| {
        let (city, draft) =
            parse_form(conn, actor, form, EventStatus::Scheduled, now.date_naive())?;
        create_in(conn, actor, &city, &draft, now)
    })?;
    tracing::info!(event = event.id, moderation = %event.moderation.slug(), "event submitted");
    Ok(event)
}

/// Inserts `draft` as a new event of `actor`'s in `city`, published at once when they
/// publish directly there and pending otherwise. The caller owns the transaction (a
/// submission, or an import of many events).
pub(crate) fn create_in(
    conn: &mut DbConnection,
    actor: &Actor,
    city: &City,
    draft: &EventDraft,
    now: DateTime<Utc>,
) -> Result<Event, WorkflowError> {
    let moderation = if actor.roles.publishes_directly(city.id) {
        ModerationState::Published
    } else {
        ModerationState::Pending
    };
    let mut new = NewEvent::from_draft(draft, city, moderation, now)
        .map_err(|e| WorkflowError::invalid("start_time", e.to_string()))?;
    new.organiser_id = Some(actor.account.id);
    let event = new.insert(conn)?;
    Repetition::create(conn, event.id, draft, city.timezone.tz())?;
    Ok(event)
}

/// Replaces the details of the actor's event `id` with `form`.
///
/// A change of anything shown raises `SEQUENCE`; saving an unchanged form changes
/// nothing. New dates for a postponed event reschedule it (and drop its note). A
/// published event changed by an organiser who does not publish directly stays public
/// and joins the moderators' "recently changed" list; a rejected one goes back to the
/// queue, or straight out for one who does.
pub fn edit(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    form: &EventForm,
    now: DateTime<Utc>,
) -> Result<Event, WorkflowError> {
    conn.immediate_transaction(|conn| {
        let before = own_event(conn, actor, id)?;
        let (city, draft) = parse_form(conn, actor, form, before.event.status, now.date_naive())?;
        update_in(conn, actor, &before, &city, draft, now)
    })
}

/// Replaces the details of `before`, an event of `actor`'s, with `draft` (see
/// [`edit`]). The caller owns the transaction and has checked that the event is the
/// actor's.
pub(crate) fn update_in(
    conn: &mut DbConnection,
    actor: &Actor,
    before: &EventWithCity,
    city: &City,
    mut draft: EventDraft,
    now: DateTime<Utc>,
) -> Result<Event, WorkflowError> {
    let before_form = before_form(conn, before)?;
    let old = &before.event;
    if old.status == EventStatus::Postponed
        && draft.status == EventStatus::Postponed
        && draft.schedule != old.schedule()
    {
        draft.status = EventStatus::Scheduled;
    }
    let publishes = actor.roles.publishes_directly(city.id);
    let mut event = Event::update_from_draft(conn, old.id, &draft, city, now)?;
    // A rescheduled event's "postponed" note no longer applies.
    if event.status == EventStatus::Scheduled && event.status_note.is_some() {
        event = Event::clear_status_note(conn, event.id)?;
    }
    if event.sequence != old.sequence || old.moderation == ModerationState::Rejected {
        after_organiser_change(conn, before, &before_form, &event, publishes, now)?;
    }
    Ok(Event::find_with_city(conn, old.id)?.event)
}

/// The event's form as it is before a change: what the moderators' list of changes
/// compares with, should no approved version be recorded.
fn before_form(
    conn: &mut DbConnection,
    before: &EventWithCity,
) -> Result<EventForm, WorkflowError> {
    let repetition = Repetition::load(conn, before.event.id)?;
    Ok(before.event.to_form(&before.city, &repetition))
}

/// What moderation makes of an organiser's change: a rejected event goes back to the
/// queue; a published one changed by an organiser who is not trusted joins the
/// "recently changed" list.
pub(crate) fn after_organiser_change(
    conn: &mut DbConnection,
    before: &EventWithCity,
    before_form: &EventForm,
    event: &Event,
    publishes: bool,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    match before.event.moderation {
        ModerationState::Published if !publishes => {
            Event::mark_changed(conn, before, before_form, now)?
        }
        ModerationState::Rejected => {
            let to = if publishes {
                ModerationState::Published
            } else {
                ModerationState::Pending
            };
            Event::resubmit(conn, event.id, to, now)?;
        }
        _ => {}
    }
    Ok(())
}

/// The four things an organiser can do to an event besides editing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    Cancel,
    Postpone,
    Reinstate,
    Delete,
}

impl StatusAction {
    /// Whether the action carries the organiser's note (shown on the event's page).
    pub fn takes_note(self) -> bool {
        matches!(self, StatusAction::Cancel | StatusAction::Postpone)
    }

    /// The status the action gives the event; `None` for a deletion.
    fn status(self) -> Option<EventStatus> {
        match self {
            StatusAction::Cancel => Some(EventStatus::Cancelled),
            StatusAction::Postpone => Some(EventStatus::Postponed),
            StatusAction::Reinstate => Some(EventStatus::Scheduled),
            StatusAction::Delete => None,
        }
    }

    /// Why the action does not apply to `event`, if it does not. An event ever
    /// published may be in calendars, so it is cancelled, never deleted; one never
    /// published is deleted, since nobody outside the site has seen it.
    pub fn refusal(self, event: &Event) -> Option<&'static str> {
        let ever_published =
            event.first_published_at.is_some() || event.moderation == ModerationState::Published;
        match self {
            StatusAction::Cancel | StatusAction::Postpone | StatusAction::Reinstate
                if !ever_published =>
            {
                Some(
                    "This event has never been published, so nobody outside this site has seen it: edit it, or delete it.",
                )
            }
            StatusAction::Cancel if event.status == EventStatus::Cancelled => {
                Some("This event is already cancelled.")
            }
            StatusAction::Postpone if event.status == EventStatus::Postponed => {
                Some("This event is already postponed.")
            }
            StatusAction::Reinstate if event.status == EventStatus::Scheduled => {
                Some("This event is already going ahead as announced.")
            }
            StatusAction::Delete if ever_published => Some(PUBLISHED_NOT_DELETED),
            _ => None,
        }
    }
}

const PUBLISHED_NOT_DELETED: &str =
    "This event has been published, so calendars may hold it: cancel it instead of deleting it.";

/// The actor's event `id`, once `action` applies to it: what a door shows before the
/// action is confirmed.
pub fn status_action_target(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    action: StatusAction,
) -> Result<EventWithCity, WorkflowError> {
    let row = own_event(conn, actor, id)?;
    match action.refusal(&row.event) {
        Some(why) => Err(WorkflowError::Conflict(why.to_owned())),
        None => Ok(row),
    }
}

/// What a status action did.
#[derive(Debug, Clone)]
pub enum StatusChanged {
    /// The event as it now is; unchanged when the same note was given again.
    Event(Box<Event>),
    Deleted,
}

/// Cancels, postpones, reinstates or deletes the actor's event `id`, as `action` says,
/// with `note` for a cancellation or a postponement (ignored otherwise). Deleting is only
/// for an event never published; one ever published is cancelled instead. A new status or note raises `SEQUENCE`; a published
/// event so changed by an organiser who is not trusted joins the "recently changed" list.
pub fn change_status(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    action: StatusAction,
    note: &str,
    now: DateTime<Utc>,
) -> Result<StatusChanged, WorkflowError> {
    conn.immediate_transaction(|conn| {
        let before = status_action_target(conn, actor, id, action)?;
        let before_form = before_form(conn, &before)?;
        let Some(status) = action.status() else {
            if !Event::delete_unpublished(conn, id)? {
                return Err(WorkflowError::Conflict(PUBLISHED_NOT_DELETED.to_owned()));
            }
            return Ok(StatusChanged::Deleted);
        };
        let note = if action.takes_note() {
            let mut errors = FieldErrors::default();
            match errors.check("note", limited_text(note, "the note", MAX_NOTE_CHARS)) {
                Some(note) => Some(note),
                None => return Err(WorkflowError::Invalid(errors)),
            }
        } else {
            None
        };
        let event = Event::set_status(conn, id, status, note.as_deref(), now)?;
        if event.sequence != before.event.sequence {
            let publishes = actor.roles.publishes_directly(before.event.city_id);
            after_organiser_change(conn, &before, &before_form, &event, publishes, now)?;
        }
        Ok(StatusChanged::Event(Box::new(event)))
    })
}

/// One occurrence of a series as its organiser wants it: moved (a new date or times),
/// retitled, cancelled, or put back as the rule has it. Empty fields take the series'
/// own values. The names are the API's and the occurrence form's.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct OccurrenceForm {
    /// Empty: the series' title.
    pub title: String,
    /// Empty: the date the rule gives it.
    pub start_date: String,
    /// Empty: the series' start time (timed series only).
    pub start_time: String,
    /// Empty: the series' length.
    pub end_time: String,
    /// `scheduled` (or empty) or `cancelled`.
    pub status: String,
}

/// The occurrence `date` of the actor's series `id`, with the series and its
/// repetition: what the occurrence form starts from.
pub fn own_occurrence(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    date: NaiveDate,
) -> Result<(EventWithCity, Repetition, OccurrenceRow), WorkflowError> {
    let row = own_event(conn, actor, id)?;
    let repetition = Repetition::load(conn, id)?;
    let occurrence = repetition
        .occurrence(date)
        .filter(|o| o.status() != OccurrenceStatus::Skipped)
        .cloned()
        .ok_or_else(|| {
            WorkflowError::NotFound(
                "This series has no occurrence on that date (a skipped date is not one)."
                    .to_owned(),
            )
        })?;
    Ok((row, repetition, occurrence))
}

/// Moves, retitles, cancels or restores one occurrence of the actor's series `id`. Any
/// change raises the series' `SEQUENCE` (its overrides share it in feeds); the same
/// form twice changes nothing. A published series so changed by an organiser who is
/// not trusted joins the moderators' "recently changed" list, as any edit does.
pub fn change_occurrence(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    date: NaiveDate,
    form: &OccurrenceForm,
    now: DateTime<Utc>,
) -> Result<OccurrenceRow, WorkflowError> {
    conn.immediate_transaction(|conn| change_occurrence_in(conn, actor, id, date, form, now))
}

/// [`change_occurrence`] in the caller's transaction (an import applies a feed's
/// overrides so).
pub(crate) fn change_occurrence_in(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i32,
    date: NaiveDate,
    form: &OccurrenceForm,
    now: DateTime<Utc>,
) -> Result<OccurrenceRow, WorkflowError> {
    let (before, repetition, old) = own_occurrence(conn, actor, id, date)?;
    let e = &before.event;
    let tz = e.timezone.tz();
    let first = e.schedule();
    let rule_at = shifted(&first, date - first.first_date()).unwrap_or(first);
    let mut errors = FieldErrors::default();
    let title = match form.title.trim() {
        "" => None,
        t => errors
            .check("title", EventTitle::parse(t))
            .map(|t| t.as_str().to_owned())
            .filter(|t| *t != e.title),
    };
    let status = match form.status.trim() {
        "" | "scheduled" => OccurrenceStatus::Scheduled,
        "cancelled" => OccurrenceStatus::Cancelled,
        _ => {
            errors.add("status", "Choose scheduled or cancelled.");
            OccurrenceStatus::Scheduled
        }
    };
    let day = match form.start_date.trim() {
        "" => rule_at.first_date(),
        d => match parse_iso_date(d) {
            Some(d) => d,
            None => {
                errors.add(
                    "start_date",
                    "Enter the date as year-month-day, such as 2026-12-12.",
                );
                rule_at.first_date()
            }
        },
    };
    let last_day = repetition
        .occurrences
        .last()
        .map(|o| o.occurrence_date)
        .unwrap_or(day);
    if day < e.start_date || day > last_day {
        errors.add(
            "start_date",
            format!(
                "An occurrence can move within the series' dates, {} to {}.",
                e.start_date.format("%-d %b %Y"),
                last_day.format("%-d %b %Y")
            ),
        );
    }
    let time = |name: &'static str, value: &str, errors: &mut FieldErrors| match value.trim() {
        "" => None,
        v => match parse_hh_mm(v) {
            Some(t) => Some(t),
            None => {
                errors.add(name, "Enter the time as hours:minutes, such as 19:30.");
                None
            }
        },
    };
    let schedule = match rule_at {
        EventSchedule::AllDay { first, last } => {
            let days = last - first;
            EventSchedule::AllDay {
                first: day,
                last: day + days,
            }
        }
        EventSchedule::Timed { start, end } => {
            let start_time =
                time("start_time", &form.start_time, &mut errors).unwrap_or(start.time());
            let new_start = day.and_time(start_time);
            let length = end.map(|end| end - start).unwrap_or(DEFAULT_DURATION);
            let new_end = match time("end_time", &form.end_time, &mut errors) {
                None => new_start + length,
                Some(t) => {
                    let same_day = day.and_time(t);
                    if same_day <= new_start {
                        same_day + TimeDelta::days(1)
                    } else {
                        same_day
                    }
                }
            };
            if let Err(err) = local_instant(tz, new_start) {
                errors.add("start_time", sentence(&err.to_string()));
            }
            EventSchedule::Timed {
                start: new_start,
                end: Some(new_end),
            }
        }
    };
    if !errors.is_empty() {
        return Err(WorkflowError::Invalid(errors));
    }
    let restored = title.is_none()
        && status == OccurrenceStatus::Scheduled
        && schedule.first_date() == rule_at.first_date()
        && schedule.start_time() == rule_at.start_time()
        && (form.end_time.trim().is_empty()
            || rule_at.end_time().map(|t| t.format("%H:%M").to_string())
                == Some(form.end_time.trim().to_owned()));
    let mut new = old.overridden_as(
        &if restored { rule_at } else { schedule },
        tz,
        title,
        status,
    );
    new.overridden = !restored;
    if new == old {
        return Ok(old);
    }
    let before_form = before_form(conn, &before)?;
    Repetition::save_occurrence(conn, &new)?;
    let event = Event::touch(conn, id, now)?;
    let publishes = actor.roles.publishes_directly(e.city_id);
    after_organiser_change(conn, &before, &before_form, &event, publishes, now)?;
    tracing::info!(event = id, %date, status = new.status, "occurrence changed");
    Ok(new)
}

//! Organisers' pages: the event form (new and edit), their list of events, and the
//! cancel, postpone, reinstate and delete actions. An organiser only ever acts on their
//! own events; every handler here checks that before it acts on anything.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::account::{no_store, see_other};
use crate::auth::{Checked, Viewer};
use crate::db::models::{City, CityFilter, Event, EventWithCity, ManagedEvent, NewEvent};
use crate::domain::{
    CreativeField, EventDraft, EventForm, EventKind, EventStatus, FieldErrors, FormCity,
    ModerationState, When, limited_text,
};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::pages::events::visible_event;
use crate::web::pages::{Pager, thousands};
use crate::web::params::{PageParams, parse_page};
use crate::web::urlencoded::Query;

/// A city in the form's list.
pub struct CityOption {
    pub slug: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "events/form.html")]
pub struct EventFormPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub form: EventForm,
    pub errors: FieldErrors,
    pub cities: Vec<CityOption>,
    pub kinds: &'static [EventKind],
    pub fields: &'static [CreativeField],
    /// The event being edited: id and title.
    pub editing: Option<(i32, String)>,
    pub action: String,
    pub submit_label: &'static str,
    pub review_note: String,
    pub zone_note: String,
}

impl EventFormPage {
    /// A date field shows what was typed even when it is not a date: as a text field,
    /// because a date field would drop it (and an invalid value is not valid HTML).
    fn date_kind(&self, value: &str) -> &'static str {
        let v = value.trim();
        if v.is_empty() || chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok() {
            "date"
        } else {
            "text"
        }
    }

    /// The same for times.
    fn time_kind(&self, value: &str) -> &'static str {
        let v = value.trim();
        let ok = |f| chrono::NaiveTime::parse_from_str(v, f).is_ok();
        if v.is_empty() || ok("%H:%M") || ok("%H:%M:%S") {
            "time"
        } else {
            "text"
        }
    }

    fn respond(self, status: StatusCode) -> Result<HttpResponse, AppError> {
        Ok(no_store(status, self.render()?))
    }
}

/// Everything the form page needs from the database besides the form.
async fn form_page(
    state: &AppState,
    viewer: Viewer,
    form: EventForm,
    errors: FieldErrors,
    editing: Option<(i32, String, ModerationState)>,
) -> Result<EventFormPage, AppError> {
    let cities = state
        .db(|conn| Ok(City::list(conn, &CityFilter::default())?))
        .await?;
    let chosen = cities.iter().find(|c| c.slug.as_str() == form.city);
    let zone_note = match chosen {
        Some(c) => format!(
            "Dates and times are local to {}: {} time ({}).",
            c.name,
            c.timezone.name(),
            crate::domain::zone_label(c.timezone.tz(), &c.name, state.clock.now())
        ),
        None => "Dates and times are local to the chosen city, in its own time zone (shown after each city’s name)."
            .to_owned(),
    };
    let city_id = chosen.map(|c| c.id);
    let publishes = city_id.is_some_and(|id| viewer.roles.publishes_directly(id))
        || viewer.roles.trusted
        || viewer.roles.moderates_network();
    let (review_note, submit_label) = match &editing {
        None if publishes => (
            "As a trusted organiser, your event is published as soon as you submit it.".to_owned(),
            "Publish event",
        ),
        None => (
            "A moderator of the city reviews each new event before it appears in the calendar; you will see its state under My events.".to_owned(),
            "Submit for review",
        ),
        Some((_, _, ModerationState::Published)) if !publishes => (
            "Your changes go live at once and subscribed calendars receive them; a moderator of the city looks at changes to published events afterwards.".to_owned(),
            "Save changes",
        ),
        Some((_, _, ModerationState::Rejected)) if !publishes => (
            "Saving sends the event back to the moderators for another review.".to_owned(),
            "Save and resubmit",
        ),
        Some(_) => (
            "Your changes are saved at once; subscribed calendars receive them at their next refresh.".to_owned(),
            "Save changes",
        ),
    };
    let action = match &editing {
        Some((id, _, _)) => format!("/events/{id}/edit"),
        None => "/events/new".to_owned(),
    };
    Ok(EventFormPage {
        section: "submit",
        csrf: viewer.csrf_token.clone(),
        viewer,
        form,
        errors,
        cities: cities
            .iter()
            .map(|c| CityOption {
                slug: c.slug.to_string(),
                label: format!("{}, {} ({})", c.name, c.country, c.timezone.name()),
            })
            .collect(),
        kinds: EventKind::ALL,
        fields: CreativeField::ALL,
        editing: editing.map(|(id, title, _)| (id, title)),
        action,
        submit_label,
        review_note,
        zone_note,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewEventParams {
    pub city: Option<String>,
}

pub async fn new_event_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    params: Query<NewEventParams>,
) -> Result<HttpResponse, AppError> {
    let form = EventForm {
        city: params.city.clone().unwrap_or_default(),
        ..EventForm::default()
    };
    form_page(&state, viewer, form, FieldErrors::default(), None)
        .await?
        .respond(StatusCode::OK)
}

/// The form checked against its city: the draft, or every error.
async fn parse_form(
    state: &AppState,
    viewer: &Viewer,
    form: &EventForm,
    status: EventStatus,
) -> Result<Result<(City, EventDraft), FieldErrors>, AppError> {
    let slug = form.city.trim().to_owned();
    let city = if slug.is_empty() {
        None
    } else {
        state
            .db(move |conn| match City::find_by_slug(conn, &slug) {
                Ok(c) => Ok(Some(c)),
                Err(diesel::result::Error::NotFound) => Ok(None),
                Err(e) => Err(e.into()),
            })
            .await?
    };
    let today = state.clock.now().date_naive();
    let parsed = form.parse(
        city.as_ref().map(|c| FormCity {
            tz: c.timezone.tz(),
            field: c.field,
        }),
        today,
        Some(viewer.account.organiser_name()),
        status,
    );
    Ok(match (city, parsed) {
        (Some(city), Ok(draft)) => Ok((city, draft)),
        (city, result) => {
            let mut errors = result.err().unwrap_or_default();
            if city.is_none() {
                errors.add(
                    "city",
                    if form.city.trim().is_empty() {
                        "Choose the city the event takes place in."
                    } else {
                        "Choose one of the cities in the list."
                    },
                );
            }
            Err(errors)
        }
    })
}

pub async fn create_event(
    state: web::Data<AppState>,
    posted: Checked<EventForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let (city, draft) = match parse_form(&state, &viewer, &form, EventStatus::Scheduled).await? {
        Ok(parsed) => parsed,
        Err(errors) => {
            return form_page(&state, viewer, form, errors, None)
                .await?
                .respond(StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let moderation = if viewer.roles.publishes_directly(city.id) {
        ModerationState::Published
    } else {
        ModerationState::Pending
    };
    let now = state.clock.now();
    let account_id = viewer.account.id;
    let event = state
        .db(move |conn| {
            let mut new = NewEvent::from_draft(&draft, &city, moderation, now)
                .map_err(|e| AppError::bad_request("start_time", e.to_string()))?;
            new.organiser_id = Some(account_id);
            Ok(new.insert(conn)?)
        })
        .await?;
    tracing::info!(event = event.id, moderation = %event.moderation.slug(), "event submitted");
    Ok(see_other(&format!("/events/{}", event.id)))
}

/// The event, if it is the viewer's. Someone else's is a 403 only when the viewer can
/// see it anyway (it is published, or they moderate its city); a hidden one is a 404,
/// like an id that does not exist.
pub async fn own_event(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<EventWithCity, AppError> {
    let row = visible_event(state, Some(viewer), id).await?;
    if row.event.organiser_id != Some(viewer.account.id) {
        return Err(AppError::forbidden(
            "This event belongs to another organiser; only they can change it.",
        ));
    }
    Ok(row)
}

pub async fn edit_event_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let row = own_event(&state, &viewer, &id).await?;
    let e = &row.event;
    let editing = Some((e.id, e.title.clone(), e.moderation));
    form_page(
        &state,
        viewer,
        e.to_form(&row.city),
        FieldErrors::default(),
        editing,
    )
    .await?
    .respond(StatusCode::OK)
}

pub async fn update_event(
    state: web::Data<AppState>,
    id: web::Path<String>,
    posted: Checked<EventForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let before = own_event(&state, &viewer, &id).await?;
    let old = before.event.clone();
    let (city, mut draft) = match parse_form(&state, &viewer, &form, old.status).await? {
        Ok(parsed) => parsed,
        Err(errors) => {
            let editing = Some((old.id, old.title.clone(), old.moderation));
            return form_page(&state, viewer, form, errors, editing)
                .await?
                .respond(StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    // New dates for a postponed event: it is rescheduled.
    if old.status == EventStatus::Postponed && draft.schedule != old.schedule() {
        draft.status = EventStatus::Scheduled;
    }
    let publishes = viewer.roles.publishes_directly(city.id);
    let now = state.clock.now();
    state
        .db(move |conn| {
            conn.immediate_transaction(|conn| {
                let mut event =
                    Event::update_from_draft(conn, before.event.id, &draft, &city, now)?;
                // A rescheduled event's "postponed" note no longer applies.
                if event.status == EventStatus::Scheduled && event.status_note.is_some() {
                    event = Event::clear_status_note(conn, event.id)?;
                }
                if event.sequence != before.event.sequence
                    || before.event.moderation == ModerationState::Rejected
                {
                    after_organiser_change(conn, &before, &event, publishes, now)?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await?;
    Ok(see_other(&format!("/events/{}", old.id)))
}

/// What moderation makes of an organiser's change: a rejected event goes back to the
/// queue; a published one changed by an organiser who is not trusted joins the
/// "recently changed" list.
fn after_organiser_change(
    conn: &mut diesel::SqliteConnection,
    before: &EventWithCity,
    event: &Event,
    publishes: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    match before.event.moderation {
        ModerationState::Published if !publishes => Event::mark_changed(conn, before, now)?,
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

#[derive(Template)]
#[template(path = "events/mine.html")]
pub struct MyEventsPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub events: Vec<MyEvent>,
    pub pager: Pager,
    pub notice: Option<String>,
}

pub struct MyEvent {
    pub id: i32,
    pub title: String,
    pub city: String,
    pub when: When,
    pub moderation: ModerationState,
    pub status: EventStatus,
    pub moderation_note: Option<String>,
    pub changed: bool,
}

impl MyEvent {
    fn new(m: &ManagedEvent) -> MyEvent {
        let e = &m.row.event;
        MyEvent {
            id: e.id,
            title: e.title.clone(),
            city: m.row.city.name.clone(),
            when: When::full(&e.schedule(), e.timezone.tz(), &m.row.city.name),
            moderation: e.moderation,
            status: e.status,
            moderation_note: e.moderation_note.clone(),
            changed: m.changed_at.is_some(),
        }
    }
}

const MY_EVENTS_PER_PAGE: u32 = 50;

pub async fn my_events(
    state: web::Data<AppState>,
    viewer: Viewer,
    params: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = parse_page(&params.page)?;
    let id = viewer.account.id;
    let limit = i64::from(MY_EVENTS_PER_PAGE);
    let offset = i64::from(page - 1) * limit;
    let found = state
        .db(move |conn| Ok(Event::for_organiser(conn, id, limit, offset)?))
        .await?;
    let pager = Pager::for_total(found.total, page, MY_EVENTS_PER_PAGE, |p| {
        super::paged("/my/events", p)
    });
    let page = MyEventsPage {
        section: "my-events",
        csrf: viewer.csrf_token.clone(),
        viewer,
        events: found.events.iter().map(MyEvent::new).collect(),
        pager,
        notice: None,
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}

impl MyEventsPage {
    fn count_text(&self) -> String {
        match self.pager.total {
            0 => "You have not submitted any events yet.".to_owned(),
            1 => "1 event".to_owned(),
            n => format!("{} events", thousands(n)),
        }
    }
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
    fn parse(path: &str) -> Option<StatusAction> {
        Some(match path {
            "cancel" => StatusAction::Cancel,
            "postpone" => StatusAction::Postpone,
            "reinstate" => StatusAction::Reinstate,
            "delete" => StatusAction::Delete,
            _ => return None,
        })
    }

    pub fn slug(self) -> &'static str {
        match self {
            StatusAction::Cancel => "cancel",
            StatusAction::Postpone => "postpone",
            StatusAction::Reinstate => "reinstate",
            StatusAction::Delete => "delete",
        }
    }

    pub fn heading(self) -> &'static str {
        match self {
            StatusAction::Cancel => "Cancel this event",
            StatusAction::Postpone => "Postpone this event",
            StatusAction::Reinstate => "Put this event back on",
            StatusAction::Delete => "Delete this event",
        }
    }

    pub fn button(self) -> &'static str {
        match self {
            StatusAction::Cancel => "Cancel the event",
            StatusAction::Postpone => "Postpone the event",
            StatusAction::Reinstate => "Mark as going ahead",
            StatusAction::Delete => "Delete for good",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            StatusAction::Cancel => {
                "The event stays on its page and in subscribed calendars, marked as cancelled, so that nobody travels to it. You can put it back on later."
            }
            StatusAction::Postpone => {
                "The event stays on its page and in subscribed calendars, marked as postponed. When the new dates are known, edit the event: new dates mark it as rescheduled."
            }
            StatusAction::Reinstate => {
                "The event is shown as going ahead as announced again, and subscribed calendars receive the change."
            }
            StatusAction::Delete => {
                "The event has never been published, so nobody outside this site has seen it. Deleting it cannot be undone."
            }
        }
    }

    pub fn takes_note(self) -> bool {
        matches!(self, StatusAction::Cancel | StatusAction::Postpone)
    }

    fn is_danger(self) -> bool {
        matches!(self, StatusAction::Cancel | StatusAction::Delete)
    }

    /// Why the action does not apply to `event`, if it does not.
    fn refusal(self, event: &Event) -> Option<&'static str> {
        match self {
            StatusAction::Cancel | StatusAction::Postpone | StatusAction::Reinstate
                if event.first_published_at.is_none()
                    && event.moderation != ModerationState::Published =>
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
            StatusAction::Delete
                if event.first_published_at.is_some()
                    || event.moderation == ModerationState::Published =>
            {
                Some(
                    "This event has been published, so calendars may hold it: cancel it instead of deleting it.",
                )
            }
            _ => None,
        }
    }
}

#[derive(Template)]
#[template(path = "events/status.html")]
pub struct StatusPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub action: StatusAction,
    pub event_id: i32,
    pub event_title: String,
    pub note: String,
    pub errors: FieldErrors,
}

pub const MAX_NOTE_CHARS: usize = 1_000;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NoteForm {
    pub note: String,
}

fn status_action(path: &str) -> Result<StatusAction, AppError> {
    StatusAction::parse(path)
        .ok_or_else(|| AppError::not_found("There is nothing at this address."))
}

pub async fn status_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, action) = path.into_inner();
    let action = status_action(&action)?;
    let row = own_event(&state, &viewer, &id).await?;
    if let Some(why) = action.refusal(&row.event) {
        return Err(AppError::Conflict(why.to_owned()));
    }
    let page = StatusPage {
        section: "my-events",
        csrf: viewer.csrf_token.clone(),
        viewer,
        action,
        event_id: row.event.id,
        event_title: row.event.title.clone(),
        note: row.event.status_note.clone().unwrap_or_default(),
        errors: FieldErrors::default(),
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}

pub async fn change_status(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    posted: Checked<NoteForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let (id, action) = path.into_inner();
    let action = status_action(&action)?;
    let before = own_event(&state, &viewer, &id).await?;
    if let Some(why) = action.refusal(&before.event) {
        return Err(AppError::Conflict(why.to_owned()));
    }
    let mut errors = FieldErrors::default();
    let note = if action.takes_note() {
        errors.check("note", limited_text(&form.note, "the note", MAX_NOTE_CHARS))
    } else {
        Some(String::new())
    };
    let Some(note) = note else {
        let page = StatusPage {
            section: "my-events",
            csrf: viewer.csrf_token.clone(),
            viewer,
            action,
            event_id: before.event.id,
            event_title: before.event.title.clone(),
            note: form.note,
            errors,
        };
        return Ok(no_store(StatusCode::UNPROCESSABLE_ENTITY, page.render()?));
    };
    let event_id = before.event.id;
    let publishes = viewer.roles.publishes_directly(before.event.city_id);
    let now = state.clock.now();
    let deleted = state
        .db(move |conn| {
            conn.immediate_transaction(|conn| {
                let status = match action {
                    StatusAction::Cancel => EventStatus::Cancelled,
                    StatusAction::Postpone => EventStatus::Postponed,
                    StatusAction::Reinstate => EventStatus::Scheduled,
                    StatusAction::Delete => {
                        if !Event::delete_unpublished(conn, event_id)? {
                            return Err(AppError::Conflict(
                                "This event has been published, so calendars may hold it: cancel it instead of deleting it.".to_owned(),
                            ));
                        }
                        return Ok(true);
                    }
                };
                let note = action.takes_note().then_some(note.as_str());
                let event = Event::set_status(conn, event_id, status, note, now)?;
                if event.sequence != before.event.sequence {
                    after_organiser_change(conn, &before, &event, publishes, now)?;
                }
                Ok(false)
            })
        })
        .await?;
    Ok(if deleted {
        see_other("/my/events")
    } else {
        see_other(&format!("/events/{event_id}"))
    })
}

impl StatusPage {
    fn button_class(&self) -> &'static str {
        if self.action.is_danger() {
            "button-danger"
        } else {
            ""
        }
    }
}

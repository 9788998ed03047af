//! Organisers' pages: the event form (new and edit), their list of events, and the
//! cancel, postpone, reinstate and delete actions. An organiser only ever acts on their
//! own events; every handler here checks that before it acts on anything.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::account::{no_store, see_other};
use crate::auth::{Checked, Viewer};
use crate::db::models::{City, CityFilter, Event, EventWithCity, ManagedEvent};
use crate::domain::{
    CreativeField, EventForm, EventKind, EventStatus, FieldErrors, ModerationState, When,
};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::pages::events::parse_event_id;
use crate::web::pages::{Pager, thousands};
use crate::web::params::{PageParams, parse_page};
use crate::web::urlencoded::Query;
pub use crate::workflows::events::StatusAction;
use crate::workflows::events::{self, StatusChanged};
use crate::workflows::{Actor, WorkflowError};

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

pub async fn create_event(
    state: web::Data<AppState>,
    posted: Checked<EventForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    let sent = form.clone();
    let submitted = state
        .db(move |conn| Ok(events::submit(conn, &actor, &sent, now)))
        .await?;
    match submitted {
        Ok(event) => Ok(see_other(&format!("/events/{}", event.id))),
        Err(WorkflowError::Invalid(errors)) => form_page(&state, viewer, form, errors, None)
            .await?
            .respond(StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => Err(e.into()),
    }
}

/// The event, if it is the viewer's (see [`events::own_event`]).
pub async fn own_event(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<EventWithCity, AppError> {
    let id = parse_event_id(id)?;
    let actor = Actor::from(viewer);
    state
        .db(move |conn| Ok(events::own_event(conn, &actor, id)?))
        .await
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
    let id = parse_event_id(&id)?;
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    let sent = form.clone();
    let edited = state
        .db(move |conn| Ok(events::edit(conn, &actor, id, &sent, now)))
        .await?;
    match edited {
        Ok(event) => Ok(see_other(&format!("/events/{}", event.id))),
        Err(WorkflowError::Invalid(errors)) => {
            // The form again, with the event as it is stored (the edit changed nothing).
            let old = own_event(&state, &viewer, &id.to_string()).await?.event;
            let editing = Some((old.id, old.title, old.moderation));
            form_page(&state, viewer, form, errors, editing)
                .await?
                .respond(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
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

/// The organiser's actions, as the pages name and explain them.
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

    fn is_danger(self) -> bool {
        matches!(self, StatusAction::Cancel | StatusAction::Delete)
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
    let id = parse_event_id(&id)?;
    let actor = Actor::from(&viewer);
    let row = state
        .db(move |conn| Ok(events::status_action_target(conn, &actor, id, action)?))
        .await?;
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
    let id = parse_event_id(&id)?;
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    let note = form.note.clone();
    let changed = state
        .db(move |conn| Ok(events::change_status(conn, &actor, id, action, &note, now)))
        .await?;
    match changed {
        Ok(StatusChanged::Deleted) => Ok(see_other("/my/events")),
        Ok(StatusChanged::Event(event)) => Ok(see_other(&format!("/events/{}", event.id))),
        Err(WorkflowError::Invalid(errors)) => {
            let event = own_event(&state, &viewer, &id.to_string()).await?.event;
            let page = StatusPage {
                section: "my-events",
                csrf: viewer.csrf_token.clone(),
                viewer,
                action,
                event_id: event.id,
                event_title: event.title,
                note: form.note,
                errors,
            };
            Ok(no_store(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
        }
        Err(e) => Err(e.into()),
    }
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

//! The event form, new and edit: an organiser's own events only (see
//! [`events::own_event`]), through [`events::submit`] and [`events::edit`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::{Checked, Viewer};
use crate::db::models::{City, CityFilter, EventWithCity};
use crate::domain::recurrence;
use crate::domain::{CreativeField, EventForm, EventKind, FieldErrors, ModerationState};
use crate::error::AppError;
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::pages::account::{no_store, see_other};
use crate::web::pages::events::parse_event_id;
use crate::workflows::events;
use crate::workflows::{Actor, WorkflowError};

/// A city in the form's list.
pub struct CityOption {
    pub slug: String,
    pub label: String,
}

impl CityOption {
    /// The choices of a city field: "Kraków, Poland (Europe/Warsaw)", the zone shown
    /// because the times typed are read in it.
    pub fn list(cities: &[crate::db::models::City]) -> Vec<CityOption> {
        cities
            .iter()
            .map(|c| CityOption {
                slug: c.slug.to_string(),
                label: format!("{}, {} ({})", c.name, c.country, c.timezone.name()),
            })
            .collect()
    }
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
    /// The choices of "Repeats": (value, label, selected).
    fn repeat_options(&self) -> Vec<(&'static str, &'static str, bool)> {
        let chosen = match self.form.repeat.trim() {
            "" => "none",
            other => other,
        };
        [
            ("none", "Does not repeat"),
            ("daily", "Every day"),
            ("weekly", "Every week, on the weekdays ticked below"),
            ("monthly_by_date", "Every month, on the same date"),
            (
                "monthly_by_weekday",
                "Every month, on the same weekday (such as the first Friday)",
            ),
            ("yearly", "Every year"),
        ]
        .into_iter()
        .map(|(v, l)| (v, l, v == chosen))
        .collect()
    }

    /// The weekday boxes: (slug, name, ticked).
    fn weekday_boxes(&self) -> Vec<(&'static str, &'static str, bool)> {
        let ticked = self.form.ticked_weekdays();
        recurrence::weekdays()
            .map(|(slug, day)| (slug, recurrence::weekday_name(day), ticked.contains(&slug)))
            .collect()
    }

    /// The choices of "which weekday of the month": (value, label, selected).
    fn nth_options(&self) -> Vec<(&'static str, &'static str, bool)> {
        let chosen = self.form.repeat_nth.trim();
        [
            ("", "As the first date is"),
            ("1", "First"),
            ("2", "Second"),
            ("3", "Third"),
            ("4", "Fourth"),
            ("last", "Last"),
        ]
        .into_iter()
        .map(|(v, l)| (v, l, v == chosen))
        .collect()
    }

    /// One row of the opening hours a weekday: (slug, name, opens, closes).
    fn hours_rows(&self) -> Vec<(&'static str, &'static str, String, String)> {
        self.form
            .hours_fields()
            .into_iter()
            .zip(recurrence::weekdays())
            .map(|((slug, opens, closes), (_, day))| {
                (
                    slug,
                    recurrence::weekday_name(day),
                    opens.to_owned(),
                    closes.to_owned(),
                )
            })
            .collect()
    }

    fn date_kind(&self, value: &str) -> &'static str {
        date_input_type(value)
    }

    fn time_kind(&self, value: &str) -> &'static str {
        time_input_type(value)
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
        cities: CityOption::list(&cities),
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
    let id = parse_event_id(&id)?;
    let actor = Actor::from(&viewer);
    let (row, repetition) = state
        .db(move |conn| {
            let row = events::own_event(conn, &actor, id)?;
            let repetition = crate::db::models::Repetition::load(conn, id)?;
            Ok((row, repetition))
        })
        .await?;
    let e = &row.event;
    let editing = Some((e.id, e.title.clone(), e.moderation));
    form_page(
        &state,
        viewer,
        e.to_form(&row.city, &repetition),
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

/// A date field shows what was typed even when it is not a date: as a text field,
/// because a date field would drop it (and an invalid value is not valid HTML).
pub fn date_input_type(value: &str) -> &'static str {
    let v = value.trim();
    if v.is_empty() || chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok() {
        "date"
    } else {
        "text"
    }
}

/// The same for times.
pub fn time_input_type(value: &str) -> &'static str {
    let v = value.trim();
    let ok = |f| chrono::NaiveTime::parse_from_str(v, f).is_ok();
    if v.is_empty() || ok("%H:%M") || ok("%H:%M:%S") {
        "time"
    } else {
        "text"
    }
}

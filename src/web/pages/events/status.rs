//! Cancel, postpone, reinstate and delete: the confirmation page and its action,
//! through [`events::change_status`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::own_event;
use crate::auth::{Checked, Viewer};
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::web::AppState;
use crate::web::pages::account::{no_store, see_other};
use crate::web::pages::events::parse_event_id;
use crate::workflows::events::{self, StatusChanged};
pub use crate::workflows::events::{MAX_NOTE_CHARS, StatusAction};
use crate::workflows::{Actor, WorkflowError};

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

//! A moderator's decisions on one event: the reason form of a rejection or an
//! unpublishing, and the action, through [`moderation::decide`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::{Checked, Viewer};
use crate::db::models::EventWithCity;
use crate::domain::FieldErrors;
use crate::error::AppError;
use crate::web::AppState;
use crate::web::pages::account::{no_store, safe_next, see_other};
use crate::web::pages::events::parse_event_id;
pub use crate::workflows::moderation::{Decision, MAX_REASON_CHARS};
use crate::workflows::{Actor, WorkflowError, moderation};

/// A moderator's decisions, as the pages name them.
impl Decision {
    fn parse(value: &str) -> Option<Decision> {
        Some(match value {
            "approve" => Decision::Approve,
            "reject" => Decision::Reject,
            "unpublish" => Decision::Unpublish,
            "accept" => Decision::Accept,
            "revert" => Decision::Revert,
            _ => return None,
        })
    }

    pub fn slug(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Unpublish => "unpublish",
            Decision::Accept => "accept",
            Decision::Revert => "revert",
        }
    }

    pub fn heading(self) -> &'static str {
        match self {
            Decision::Reject => "Reject this event",
            Decision::Unpublish => "Unpublish this event",
            _ => "Decide",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    pub reason: String,
    pub back: String,
}

#[derive(Template)]
#[template(path = "moderation/decide.html")]
pub struct DecisionPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub decision: Decision,
    pub event_id: i32,
    pub event_title: String,
    pub reason: String,
    pub back: String,
    pub errors: FieldErrors,
}

impl DecisionPage {
    fn new(
        viewer: Viewer,
        decision: Decision,
        row: &EventWithCity,
        reason: String,
        back: String,
    ) -> DecisionPage {
        DecisionPage {
            section: "moderation",
            csrf: viewer.csrf_token.clone(),
            viewer,
            decision,
            event_id: row.event.id,
            event_title: row.event.title.clone(),
            reason,
            back,
            errors: FieldErrors::default(),
        }
    }
}

/// The decision and the event named in the path, once the viewer may take it and it
/// applies (see [`moderation::decidable`]). Someone who moderates nothing is refused
/// before anything else, so that the path tells them nothing.
async fn decidable(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    decision: &str,
) -> Result<(Decision, EventWithCity), AppError> {
    let actor = Actor::from(viewer);
    moderation::require_moderator(&actor)?;
    let decision = Decision::parse(decision)
        .ok_or_else(|| AppError::not_found("There is nothing at this address."))?;
    let id = parse_event_id(id)?;
    let (row, _) = state
        .db(move |conn| Ok(moderation::decidable(conn, &actor, id, decision)?))
        .await?;
    Ok((decision, row))
}

/// Where a decision returns to: the queue, or the event's page it was taken from.
fn back_to(back: &str) -> String {
    safe_next(back)
        .filter(|b| b.starts_with("/moderation") || b.starts_with("/events/"))
        .unwrap_or_else(|| "/moderation".to_owned())
}

/// The reason form of a rejection or an unpublishing, for a moderator who comes from the
/// event's page; the other decisions are buttons, and only take a POST.
pub async fn decide_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, decision) = path.into_inner();
    let (decision, row) = decidable(&state, &viewer, &id, &decision).await?;
    if !decision.needs_reason() {
        return Err(AppError::MethodNotAllowed("POST"));
    }
    let back = format!("/events/{}", row.event.id);
    let page = DecisionPage::new(viewer, decision, &row, String::new(), back);
    Ok(no_store(StatusCode::OK, page.render()?))
}

pub async fn decide(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    posted: Checked<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let (id, decision) = path.into_inner();
    let (decision, row) = decidable(&state, &viewer, &id, &decision).await?;
    let id = row.event.id;
    let back = back_to(&form.back);
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    let reason = form.reason.clone();
    let decided = state
        .db(move |conn| Ok(moderation::decide(conn, &actor, id, decision, &reason, now)))
        .await?;
    match decided {
        Ok(_) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            Ok(see_other(&format!("{back}{sep}done={}", decision.slug())))
        }
        Err(WorkflowError::Invalid(errors)) => {
            let page = DecisionPage {
                errors,
                ..DecisionPage::new(viewer, decision, &row, form.reason, back)
            };
            Ok(no_store(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
        }
        Err(e) => Err(e.into()),
    }
}

//! One occurrence of a series: its organiser moves, retitles, cancels or restores it,
//! through [`events::change_occurrence`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::{Checked, Viewer};
use crate::domain::{FieldErrors, When};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::pages::account::{no_store, see_other};
use crate::web::pages::events::parse_event_id;
use crate::workflows::events::{self, OccurrenceForm};
use crate::workflows::{Actor, WorkflowError};

#[derive(Template)]
#[template(path = "events/occurrence.html")]
pub struct OccurrencePage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub event_id: i32,
    pub event_title: String,
    pub date: String,
    /// Where the rule puts it.
    pub rule_when: String,
    pub all_day: bool,
    pub form: OccurrenceForm,
    pub errors: FieldErrors,
}

fn parse_date(date: &str) -> Result<chrono::NaiveDate, AppError> {
    crate::domain::parse_iso_date(date)
        .ok_or_else(|| AppError::not_found("This series has no occurrence on that date."))
}

/// The page, with `form` as typed (or as the occurrence is).
async fn page(
    state: &AppState,
    viewer: Viewer,
    id: i32,
    date: chrono::NaiveDate,
    form: Option<OccurrenceForm>,
    errors: FieldErrors,
) -> Result<OccurrencePage, AppError> {
    let actor = Actor::from(&viewer);
    let (row, _, occurrence) = state
        .db(move |conn| Ok(events::own_occurrence(conn, &actor, id, date)?))
        .await?;
    let e = &row.event;
    let tz = e.timezone.tz();
    let rule_at = crate::domain::recurrence::shifted(&e.schedule(), date - e.start_date)
        .unwrap_or(e.schedule());
    let form = form.unwrap_or_else(|| OccurrenceForm {
        title: occurrence.title.clone().unwrap_or_default(),
        start_date: occurrence.start_date.to_string(),
        start_time: occurrence
            .start_time
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default(),
        end_time: occurrence
            .end_time
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default(),
        status: occurrence.status().slug().to_owned(),
    });
    Ok(OccurrencePage {
        section: "my-events",
        csrf: viewer.csrf_token.clone(),
        viewer,
        event_id: e.id,
        event_title: e.title.clone(),
        date: date.to_string(),
        rule_when: When::full(&rule_at, tz, &row.city.name).text(),
        all_day: e.all_day,
        form,
        errors,
    })
}

pub async fn occurrence_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, date) = path.into_inner();
    let id = parse_event_id(&id)?;
    let date = parse_date(&date)?;
    let page = page(&state, viewer, id, date, None, FieldErrors::default()).await?;
    Ok(no_store(StatusCode::OK, page.render()?))
}

pub async fn change_occurrence(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    posted: Checked<OccurrenceForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let (id, date) = path.into_inner();
    let id = parse_event_id(&id)?;
    let date = parse_date(&date)?;
    let actor = Actor::from(&viewer);
    let now = state.clock.now();
    let typed = form.clone();
    let changed = state
        .db(move |conn| {
            Ok(events::change_occurrence(
                conn, &actor, id, date, &typed, now,
            ))
        })
        .await?;
    match changed {
        Ok(_) => Ok(see_other(&format!("/events/{id}"))),
        Err(WorkflowError::Invalid(errors)) => {
            let page = page(&state, viewer, id, date, Some(form), errors).await?;
            Ok(no_store(StatusCode::UNPROCESSABLE_ENTITY, page.render()?))
        }
        Err(e) => Err(e.into()),
    }
}

impl OccurrencePage {
    fn is_cancelled(&self) -> bool {
        self.form.status == "cancelled"
    }

    fn date_kind(&self, value: &str) -> &'static str {
        super::form::date_input_type(value)
    }

    fn time_kind(&self, value: &str) -> &'static str {
        super::form::time_input_type(value)
    }
}

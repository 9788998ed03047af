//! The API's writes: an organiser's systems submit, change, cancel and delete their own
//! events with a personal token (`Authorization: Bearer cc_…`, never a cookie, so no
//! CSRF token). Each handler calls the same workflow as the event form and the status
//! pages; nothing here decides what is allowed. Each token may write
//! `api_writes_per_hour` times an hour, counted in the database.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiResult;
use super::body::{Json, JsonFields, MaybeJson};
use super::events::{Cursor, parse_limit};
use super::json::EventJson;
use crate::auth::token::TokenBearer;
use crate::db::models::{ApiToken, Event, EventWithCity, Repetition};
use crate::domain::EventKind;
use crate::domain::recurrence::weekdays;
use crate::domain::{ALL_DAY_TICKED, EventForm, FORM_ORDER, ModerationState};
use crate::error::{ApiError, AppError, ErrorsBody};
use crate::urlencoded::Query;
use crate::web::AppState;
use crate::web::api::schema::{DateParam, FieldParam, TimeParam};
use crate::web::pages::events::parse_event_id;
use crate::workflows::events::{self, StatusAction, StatusChanged};
use crate::workflows::{Actor, WorkflowError};

/// An event's fields, with the names and meanings of the event form's. On a creation a
/// field left out is empty; on a change it keeps its stored value. `null` is the same
/// as leaving the field out; `""` empties it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
// Unknown fields are found and named by `body::parse` before serde sees the object;
// this is for the document, which then says that no other field is taken.
#[serde(default, deny_unknown_fields)]
pub struct EventInput {
    /// The city's slug, as in `/api/v1/cities`.
    #[schema(example = "braga")]
    pub city: Option<String>,
    /// What kind of event it is.
    #[schema(value_type = Option<EventKind>, example = "festival")]
    pub kind: Option<String>,
    /// A creative field's slug; empty: the city's field.
    #[schema(value_type = Option<FieldParam>, example = "media-arts")]
    pub field: Option<String>,
    #[schema(example = "Braga Media Arts Night", max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 10_000)]
    pub description: Option<String>,
    /// The venue's name.
    #[schema(max_length = 200)]
    pub venue: Option<String>,
    /// The venue's street address.
    #[schema(max_length = 300)]
    pub address: Option<String>,
    /// The organiser's own page for the event: an http or https address.
    #[schema(max_length = 2_000)]
    pub url: Option<String>,
    /// As it should be shown ("12 €, 8 € reduced"); empty or "free" for a free event.
    #[schema(max_length = 100)]
    pub price: Option<String>,
    /// Whole days: then only dates count, and `end_date` is the last day.
    pub all_day: Option<bool>,
    /// Local to the city: `2026-12-12`; from a year back to ten years ahead.
    #[schema(value_type = Option<DateParam>, example = "2026-12-12")]
    pub start_date: Option<String>,
    /// Not before `start_date`; empty: the event ends on the day it starts.
    #[schema(value_type = Option<DateParam>, example = "2026-12-12")]
    pub end_date: Option<String>,
    /// Local to the city: `19:00`; needed unless `all_day`.
    #[schema(value_type = Option<TimeParam>, example = "19:00")]
    pub start_time: Option<String>,
    /// After the start; alone, an end time earlier than the start is on the next day.
    #[schema(value_type = Option<TimeParam>, example = "23:00")]
    pub end_time: Option<String>,
    /// How the event repeats: `none`, `daily`, `weekly`, `monthly_by_date`,
    /// `monthly_by_weekday` or `yearly`. A series is one event whose first occurrence
    /// is `start_date` (with its times); it needs `repeat_until` or `repeat_count`, and
    /// may have at most 500 occurrences over at most ten years.
    #[schema(example = "weekly")]
    pub repeat: Option<String>,
    /// Every how many days, weeks, months or years (1 to 99); default 1.
    #[schema(example = 1)]
    pub repeat_interval: Option<i64>,
    /// With `weekly`: the weekdays, `mo` … `su`; they must include the first date's.
    #[schema(example = json!(["tu", "th"]))]
    pub repeat_weekdays: Option<Vec<String>>,
    /// With `monthly_by_weekday`: which of the month's weekdays, `1` to `4` or `last`;
    /// the weekday is the first date's. Default: the first date's place in its month.
    #[schema(value_type = Option<String>, example = "last")]
    pub repeat_nth: Option<NthInput>,
    /// The last date an occurrence may start on (local).
    #[schema(value_type = Option<DateParam>, example = "2027-06-30")]
    pub repeat_until: Option<String>,
    /// How many occurrences, 2 to 500 (instead of `repeat_until`).
    #[schema(example = 8)]
    pub repeat_count: Option<i64>,
    /// Dates of the series that do not happen (EXDATE).
    #[schema(value_type = Option<Vec<DateParam>>)]
    pub skip_dates: Option<Vec<String>>,
    /// An exhibition's week (an all-day event over several days): one opening a
    /// weekday at most. `[]` removes the hours.
    pub opening_hours: Option<Vec<OpeningHoursInput>>,
    /// With `opening_hours`: the dates it is closed, within its run.
    #[schema(value_type = Option<Vec<DateParam>>)]
    pub closed_dates: Option<Vec<String>>,
}

/// `1` … `4`, or `"last"` (a number may also come as a string).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum NthInput {
    Number(i64),
    Text(String),
}

/// One weekday's opening, local to the city.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OpeningHoursInput {
    /// `mo` … `su`.
    #[schema(example = "tu")]
    pub weekday: String,
    #[schema(example = "10:00")]
    pub opens: String,
    #[schema(example = "18:00")]
    pub closes: String,
}

impl JsonFields for EventInput {
    // The form's own names: one list, so that a field added to the form is one here.
    const FIELDS: &'static [&'static str] = &FORM_ORDER;
}

impl EventInput {
    /// The form `base` with the fields given here put over it: what the workflows read.
    pub fn over(self, base: EventForm) -> EventForm {
        let pick = |given: Option<String>, old: String| given.unwrap_or(old);
        let mut form = EventForm {
            city: pick(self.city, base.city),
            kind: pick(self.kind, base.kind),
            field: pick(self.field, base.field),
            title: pick(self.title, base.title),
            description: pick(self.description, base.description),
            venue: pick(self.venue, base.venue),
            address: pick(self.address, base.address),
            url: pick(self.url, base.url),
            price: pick(self.price, base.price),
            // The form's checkbox: present when ticked.
            all_day: match self.all_day {
                Some(true) => Some(ALL_DAY_TICKED.to_owned()),
                Some(false) => None,
                None => base.all_day,
            },
            start_date: pick(self.start_date, base.start_date),
            end_date: pick(self.end_date, base.end_date),
            start_time: pick(self.start_time, base.start_time),
            end_time: pick(self.end_time, base.end_time),
            repeat: pick(self.repeat, base.repeat),
            repeat_interval: pick(
                self.repeat_interval.map(|n| n.to_string()),
                base.repeat_interval,
            ),
            repeat_weekdays: pick(
                self.repeat_weekdays.map(|d| d.join(",")),
                base.repeat_weekdays,
            ),
            repeat_nth: pick(
                self.repeat_nth.map(|n| match n {
                    NthInput::Number(n) => n.to_string(),
                    NthInput::Text(t) => t,
                }),
                base.repeat_nth,
            ),
            repeat_until: pick(self.repeat_until, base.repeat_until),
            repeat_count: pick(self.repeat_count.map(|n| n.to_string()), base.repeat_count),
            skip_dates: pick(self.skip_dates.map(|d| d.join(",")), base.skip_dates),
            closed_dates: pick(self.closed_dates.map(|d| d.join(",")), base.closed_dates),
            ..base
        };
        if let Some(hours) = self.opening_hours {
            for (slug, _) in weekdays() {
                form.set_hours(slug, String::new(), String::new());
            }
            for h in hours {
                let slug = h.weekday.trim().to_ascii_lowercase();
                if weekdays().any(|(s, _)| s == slug) {
                    let (opens, closes) = form
                        .hours_fields()
                        .iter()
                        .find(|(s, _, _)| *s == slug)
                        .map(|(_, o, c)| (o.to_string(), c.to_string()))
                        .unwrap_or_default();
                    if !opens.is_empty() || !closes.is_empty() {
                        form.hours_errors.push(format!("“{slug}” is given twice."));
                    }
                    form.set_hours(&slug, h.opens, h.closes);
                } else {
                    form.hours_errors.push(format!(
                        "“{}” is not a weekday; use mo, tu, we, th, fr, sa or su.",
                        crate::domain::short(&h.weekday)
                    ));
                }
            }
        }
        form
    }
}

/// The optional body of a cancellation or a postponement.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NoteInput {
    /// Shown on the event's page and in calendars ("Moved to the spring; tickets stay
    /// valid."); at most 1,000 characters.
    pub note: Option<String>,
}

impl JsonFields for NoteInput {
    const FIELDS: &'static [&'static str] = &["note"];
}

/// One of the token owner's events: the public shape, and where it stands in moderation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwnEventJson {
    #[serde(flatten)]
    pub event: EventJson,
    /// Only a published event is public; a pending one waits for a moderator of its city.
    #[schema(value_type = ModerationState)]
    pub moderation: ModerationState,
    /// What the moderator said when rejecting it.
    #[schema(required = true)]
    pub moderation_note: Option<String>,
}

impl OwnEventJson {
    fn new(row: &EventWithCity, repetition: &Repetition, public_url: &str) -> OwnEventJson {
        OwnEventJson {
            event: EventJson::new(row, Some(repetition), public_url),
            moderation: row.event.moderation,
            moderation_note: row.event.moderation_note.clone(),
        }
    }
}

/// The answer of a creation or a change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwnEventBody {
    pub event: OwnEventJson,
}

/// `GET /api/v1/my/events`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwnEventsBody {
    pub events: Vec<OwnEventJson>,
    pub meta: OwnEventsMeta,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OwnEventsMeta {
    /// All the owner's events, on all pages.
    pub total: i64,
    /// The `cursor` of the next page; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Each refusal of a workflow as the API answers it: the one place they are mapped.
/// Unlike the pages, which show the form again, wrong input is a 422 with every field's
/// error.
fn refused(e: WorkflowError) -> ApiError {
    ApiError(match e {
        WorkflowError::Invalid(errors) => AppError::Unprocessable(
            errors
                .iter()
                .map(|(field, detail)| (Some(field.to_owned()), detail.to_owned()))
                .collect(),
        ),
        other => other.into(),
    })
}

/// The token's owner as the workflows' actor, once this write is within the token's
/// limit (and counted against it).
async fn writer(state: &AppState, bearer: &TokenBearer) -> Result<Actor, ApiError> {
    let token = bearer.token_id;
    let limit = state.api_writes_per_hour;
    let now = state.clock.now();
    let spent = state
        .db(move |conn| Ok(ApiToken::spend_write(conn, token, limit, now)?))
        .await?;
    if let Err(limited) = spent {
        let wait = (limited.retry_at - now.naive_utc()).num_seconds().max(1);
        return Err(AppError::TooManyRequests {
            retry_after: u64::try_from(wait).unwrap_or(1),
        }
        .into());
    }
    Ok(Actor::from(bearer))
}

// The bodies are taken as `Result`s and read in the handlers: actix polls extractors
// together, so a body refused at once (415) would otherwise answer before the token is
// checked. The order is: the token (401), then the body, then the limit (429).

/// Runs `work` (a workflow) on the pool, mapping its refusal.
async fn run<T, F>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut crate::db::DbConnection) -> Result<T, WorkflowError> + Send + 'static,
    T: Send + 'static,
{
    state.db(move |conn| Ok(work(conn))).await?.map_err(refused)
}

/// The actor's event `id` as JSON, with `status`; never cached, since it may be private.
async fn own_event_response(
    state: &AppState,
    actor: Actor,
    id: i32,
    status: StatusCode,
) -> ApiResult {
    let (row, repetition) = run(state, move |conn| {
        let row = events::find_visible(conn, Some(&actor), id)?;
        Ok((row, Repetition::load(conn, id)?))
    })
    .await?;
    let mut response = HttpResponse::build(status);
    if status == StatusCode::CREATED {
        response.insert_header((
            header::LOCATION,
            format!("{}/api/v1/events/{id}", state.public_url),
        ));
    }
    Ok(response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(OwnEventBody {
            event: OwnEventJson::new(&row, &repetition, &state.public_url),
        }))
}

/// Submits an event. It is published at once when the token's owner publishes directly
/// in its city (a trusted organiser, a moderator of it); otherwise it waits for a
/// moderator, and is only visible to its owner (here and under `/api/v1/my/events`).
#[utoipa::path(
    post,
    path = "/api/v1/events",
    tag = "writing",
    security(("token" = [])),
    request_body(content = EventInput, content_type = "application/json"),
    responses(
        (status = 201, description = "The event, as it now is", body = OwnEventBody,
            headers(("Location" = String, description = "The event's address in the API"))),
        WriteRefusals,
    )
)]
pub async fn create_event(
    state: web::Data<AppState>,
    bearer: TokenBearer,
    body: Result<Json<EventInput>, ApiError>,
) -> ApiResult {
    let Json(input) = body?;
    let actor = writer(&state, &bearer).await?;
    let form = input.over(EventForm::default());
    let now = state.clock.now();
    let by = actor.clone();
    let event = run(&state, move |conn| events::submit(conn, &by, &form, now)).await?;
    own_event_response(&state, actor, event.id, StatusCode::CREATED).await
}

/// Changes the token owner's event: the fields given replace the stored ones, and the
/// whole is checked as the edit form checks it. A change anyone can see raises
/// `sequence`.
#[utoipa::path(
    patch,
    path = "/api/v1/events/{id}",
    tag = "writing",
    security(("token" = [])),
    params(("id" = u32, Path, description = "The event's id", minimum = 1)),
    request_body(content = EventInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The event, as it now is", body = OwnEventBody),
        WriteRefusals,
    )
)]
pub async fn update_event(
    state: web::Data<AppState>,
    bearer: TokenBearer,
    id: web::Path<String>,
    body: Result<Json<EventInput>, ApiError>,
) -> ApiResult {
    let Json(input) = body?;
    let id = parse_event_id(&id)?;
    let actor = writer(&state, &bearer).await?;
    let now = state.clock.now();
    let by = actor.clone();
    run(&state, move |conn| {
        // The stored event as its edit form, with the fields sent over it.
        let row = events::own_event(conn, &by, id)?;
        let repetition = crate::db::models::Repetition::load(conn, id)?;
        let form = input.over(row.event.to_form(&row.city, &repetition));
        events::edit(conn, &by, id, &form, now)
    })
    .await?;
    own_event_response(&state, actor, id, StatusCode::OK).await
}

/// The body of `PATCH /api/v1/events/{id}/occurrences/{date}`: the occurrence as it
/// should be. An empty or missing field takes the series' value, so `{}` puts the
/// occurrence back where the rule has it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OccurrenceInput {
    /// Its own title; empty: the series'.
    pub title: Option<String>,
    /// The local date it moves to; within the series' dates.
    #[schema(value_type = Option<DateParam>, example = "2026-12-09")]
    pub start_date: Option<String>,
    #[schema(value_type = Option<TimeParam>, example = "19:00")]
    pub start_time: Option<String>,
    #[schema(value_type = Option<TimeParam>, example = "21:00")]
    pub end_time: Option<String>,
    /// `scheduled` or `cancelled`.
    #[schema(example = "cancelled")]
    pub status: Option<String>,
}

impl JsonFields for OccurrenceInput {
    const FIELDS: &'static [&'static str] =
        &["title", "start_date", "start_time", "end_time", "status"];
}

/// Moves, retitles, cancels or restores one occurrence of a series of the token's
/// owner. The series' SEQUENCE rises, and feeds carry the occurrence as an override
/// (RECURRENCE-ID).
#[utoipa::path(
    patch,
    path = "/api/v1/events/{id}/occurrences/{date}",
    tag = "writing",
    security(("token" = [])),
    params(
        ("id" = u32, Path, description = "The series' id", minimum = 1),
        ("date" = String, Path, description = "The occurrence's date, as the rule gives it (YYYY-MM-DD)"),
    ),
    request_body(content = OccurrenceInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The occurrence, as it now is", body = crate::web::api::events::OccurrencesBody),
        WriteRefusals,
    )
)]
pub async fn update_occurrence(
    state: web::Data<AppState>,
    bearer: TokenBearer,
    path: web::Path<(String, String)>,
    body: Result<Json<OccurrenceInput>, ApiError>,
) -> ApiResult {
    let (id, date) = path.into_inner();
    let id = parse_event_id(&id)?;
    let date = crate::domain::parse_iso_date(&date).ok_or_else(|| {
        AppError::not_found("This series has no occurrence on that date (write it YYYY-MM-DD).")
    })?;
    let Json(input) = body?;
    let actor = writer(&state, &bearer).await?;
    let now = state.clock.now();
    let form = events::OccurrenceForm {
        title: input.title.unwrap_or_default(),
        start_date: input.start_date.unwrap_or_default(),
        start_time: input.start_time.unwrap_or_default(),
        end_time: input.end_time.unwrap_or_default(),
        status: input.status.unwrap_or_default(),
    };
    let (row, occurrence) = run(&state, move |conn| {
        let occurrence = events::change_occurrence(conn, &actor, id, date, &form, now)?;
        Ok((events::find_visible(conn, Some(&actor), id)?, occurrence))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(crate::web::api::events::OccurrencesBody {
            occurrences: vec![super::json::OccurrenceJson::new(&row, &occurrence)],
        }))
}

/// Cancels, postpones or reinstates event `id` of the token's owner, with `note`.
async fn set_status(
    state: &AppState,
    bearer: &TokenBearer,
    id: &str,
    action: StatusAction,
    note: String,
) -> ApiResult {
    let id = parse_event_id(id)?;
    let actor = writer(state, bearer).await?;
    let now = state.clock.now();
    let by = actor.clone();
    run(state, move |conn| {
        events::change_status(conn, &by, id, action, &note, now)
    })
    .await?;
    own_event_response(state, actor, id, StatusCode::OK).await
}

/// Cancels a published event: it stays in calendars, marked as cancelled, with the note.
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/cancel",
    tag = "writing",
    security(("token" = [])),
    params(("id" = u32, Path, description = "The event's id", minimum = 1)),
    request_body(content = Option<NoteInput>, content_type = "application/json"),
    responses(
        (status = 200, description = "The event, as it now is", body = OwnEventBody),
        WriteRefusals,
    )
)]
pub async fn cancel_event(
    state: web::Data<AppState>,
    bearer: TokenBearer,
    id: web::Path<String>,
    body: Result<MaybeJson<NoteInput>, ApiError>,
) -> ApiResult {
    let note = body?.0.note.unwrap_or_default();
    set_status(&state, &bearer, &id, StatusAction::Cancel, note).await
}

/// Postpones a published event until new dates are known (set them with a PATCH).
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/postpone",
    tag = "writing",
    security(("token" = [])),
    params(("id" = u32, Path, description = "The event's id", minimum = 1)),
    request_body(content = Option<NoteInput>, content_type = "application/json"),
    responses(
        (status = 200, description = "The event, as it now is", body = OwnEventBody),
        WriteRefusals,
    )
)]
pub async fn postpone_event(
    state: web::Data<AppState>,
    bearer: TokenBearer,
    id: web::Path<String>,
    body: Result<MaybeJson<NoteInput>, ApiError>,
) -> ApiResult {
    let note = body?.0.note.unwrap_or_default();
    set_status(&state, &bearer, &id, StatusAction::Postpone, note).await
}

/// Puts a cancelled or postponed event back on, as announced.
#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/reinstate",
    tag = "writing",
    security(("token" = [])),
    params(("id" = u32, Path, description = "The event's id", minimum = 1)),
    responses(
        (status = 200, description = "The event, as it now is", body = OwnEventBody),
        WriteRefusals,
    )
)]
pub async fn reinstate_event(
    state: web::Data<AppState>,
    bearer: TokenBearer,
    id: web::Path<String>,
) -> ApiResult {
    set_status(&state, &bearer, &id, StatusAction::Reinstate, String::new()).await
}

/// Deletes an event that was never published. One ever published may be in calendars:
/// it is cancelled instead (409).
#[utoipa::path(
    delete,
    path = "/api/v1/events/{id}",
    tag = "writing",
    security(("token" = [])),
    params(("id" = u32, Path, description = "The event's id", minimum = 1)),
    responses(
        (status = 204, description = "Deleted"),
        WriteRefusals,
    )
)]
pub async fn delete_event(
    state: web::Data<AppState>,
    bearer: TokenBearer,
    id: web::Path<String>,
) -> ApiResult {
    let id = parse_event_id(&id)?;
    let actor = writer(&state, &bearer).await?;
    let now = state.clock.now();
    let changed = run(&state, move |conn| {
        events::change_status(conn, &actor, id, StatusAction::Delete, "", now)
    })
    .await?;
    match changed {
        StatusChanged::Deleted => Ok(HttpResponse::NoContent().finish()),
        // The workflow deletes or refuses; it never changes an event it was asked to delete.
        StatusChanged::Event(_) => Err(ApiError(AppError::Internal(anyhow::anyhow!(
            "a deletion changed event {id} instead"
        )))),
    }
}

/// The paging of `/api/v1/my/events`, as that of `/api/v1/events`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyEventsParams {
    /// How many events a page holds.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, example = 20)]
    pub limit: Option<String>,
    /// The `meta.next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The token owner's events, in every state, the most recently submitted first, paged
/// by cursor as `/api/v1/events` is. Not a write: it does not count against the limit.
#[utoipa::path(
    get,
    path = "/api/v1/my/events",
    tag = "writing",
    security(("token" = [])),
    params(MyEventsParams),
    responses(
        (status = 200, description = "The owner's events", body = OwnEventsBody),
        (status = 400, description = "`limit` or `cursor` is wrong", body = ErrorsBody),
        (status = 401, description = "No valid token", body = ErrorsBody),
    )
)]
pub async fn my_events(
    state: web::Data<AppState>,
    bearer: TokenBearer,
    params: Query<MyEventsParams>,
) -> ApiResult {
    let owner = bearer.account.id;
    let limit = parse_limit(params.limit.as_deref())?;
    let scope = Cursor::owner_scope(owner);
    let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(value) => {
            let cursor = Cursor::decode(value, &scope)?;
            Some((cursor.starts_at, cursor.id))
        }
        None => None,
    };
    let (found, more) = state
        .db(move |conn| {
            Ok(Event::for_organiser_after(
                conn,
                owner,
                after,
                i64::from(limit),
            )?)
        })
        .await?;
    let next_cursor = found
        .events
        .last()
        .filter(|_| more)
        .map(|last| Cursor {
            starts_at: last.row.event.created_at,
            id: last.row.event.id,
            scope,
        })
        .map(|c| c.encode());
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(OwnEventsBody {
            events: found
                .events
                .iter()
                .map(|m| OwnEventJson::new(&m.row, &m.repetition, &state.public_url))
                .collect(),
            meta: OwnEventsMeta {
                total: found.total,
                next_cursor,
            },
        }))
}

/// What any write may answer besides its success, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
pub enum WriteRefusals {
    /// The body is not JSON, or the id is not one; `detail` says where.
    #[response(status = 400)]
    Malformed(#[to_schema] ErrorsBody),
    /// No token, or one that is malformed, unknown or revoked.
    #[response(status = 401)]
    Unauthorized(#[to_schema] ErrorsBody),
    /// The event is someone else's (and public).
    #[response(status = 403)]
    Forbidden(#[to_schema] ErrorsBody),
    /// No event the token's owner may see has this id.
    #[response(status = 404)]
    Missing(#[to_schema] ErrorsBody),
    /// The change does not apply to the event as it is (deleting a published event,
    /// cancelling one never published or already cancelled).
    #[response(status = 409)]
    Conflict(#[to_schema] ErrorsBody),
    /// The body is larger than 256 KB.
    #[response(status = 413)]
    TooLarge(#[to_schema] ErrorsBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    NotJson(#[to_schema] ErrorsBody),
    /// Fields unknown, of the wrong type or invalid: every error, each with its `field`.
    #[response(status = 422)]
    Invalid(#[to_schema] ErrorsBody),
    /// The token made its hourly writes; `Retry-After` says when to try again.
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds to wait")))]
    Limited(#[to_schema] ErrorsBody),
}

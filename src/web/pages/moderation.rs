//! Moderators' pages: the queue of submitted events, the list of published events that
//! organisers who are not trusted have changed, the decisions, and the log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::account::{no_store, safe_next, see_other};
use super::events::visible_event;
use crate::auth::{Checked, Viewer};
use crate::db::models::{
    Account, City, CityFilter, Event, EventReview, EventWithCity, LogEntry, ManagedEvent, Queue,
};
use crate::domain::{
    EventForm, EventStatus, FieldErrors, FormCity, ModerationState, When, limited_text,
};
use crate::error::{AppError, OrWhenMissing};
use crate::web::AppState;
use crate::web::pages::{Pager, thousands};
use crate::web::params::parse_page;
use crate::web::urlencoded::Query;

pub const MAX_REASON_CHARS: usize = 1_000;
const PER_PAGE: u32 = 20;

/// Only moderators (of some city, or of the network) and admins get past this.
fn require_moderator(viewer: &Viewer) -> Result<(), AppError> {
    if viewer.roles.is_moderator() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Only the moderators of a city can see this page.",
        ))
    }
}

/// An event in a moderation list.
pub struct QueueItem {
    pub id: i32,
    pub title: String,
    pub city: String,
    pub when: When,
    pub kind: String,
    pub field: String,
    pub venue: String,
    pub url: Option<String>,
    pub description: String,
    pub organiser: String,
    pub organiser_trusted: bool,
    pub submitted: String,
    pub status: EventStatus,
    /// For changed events: (field, approved value, current value) of each difference.
    pub changes: Vec<(&'static str, String, String)>,
}

impl QueueItem {
    fn new(m: &ManagedEvent, review: Option<&EventReview>) -> QueueItem {
        let e = &m.row.event;
        let description: String = e.description.chars().take(600).collect();
        let changes = match review.and_then(EventReview::form) {
            Some(before) => differences(&before, &e.to_form(&m.row.city)),
            None => vec![],
        };
        QueueItem {
            id: e.id,
            title: e.title.clone(),
            city: format!("{}, {}", m.row.city.name, m.row.city.country),
            when: When::full(&e.schedule(), e.timezone.tz(), &m.row.city.name),
            kind: e.kind.label().to_owned(),
            field: e.field.label().to_owned(),
            venue: e.venue_name.clone(),
            url: e.url.clone(),
            description: if description.len() < e.description.len() {
                format!("{description}…")
            } else {
                description
            },
            organiser: match &m.organiser {
                Some(a) => format!("{} ({}), {}", a.display_name, a.organiser_name(), a.email),
                None => "imported".to_owned(),
            },
            organiser_trusted: m.organiser.as_ref().is_some_and(|a| a.is_trusted),
            submitted: utc_text(m.changed_at.unwrap_or(e.created_at)),
            status: e.status,
            changes,
        }
    }
}

fn utc_text(t: NaiveDateTime) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// A field of the event form as a moderator reads it: its label and its value.
type FormField = (&'static str, fn(&EventForm) -> String);

/// The fields of two versions of a form that differ, with their labels.
fn differences(before: &EventForm, after: &EventForm) -> Vec<(&'static str, String, String)> {
    let fields: [FormField; 14] = [
        ("City", |f| f.city.clone()),
        ("Kind", |f| f.kind.clone()),
        ("Field", |f| f.field.clone()),
        ("Title", |f| f.title.clone()),
        ("Description", |f| f.description.clone()),
        ("Venue", |f| f.venue.clone()),
        ("Address", |f| f.address.clone()),
        ("Website", |f| f.url.clone()),
        ("Price", |f| f.price.clone()),
        ("All day", |f| {
            if f.is_all_day() { "yes" } else { "no" }.to_owned()
        }),
        ("Start date", |f| f.start_date.clone()),
        ("Start time", |f| f.start_time.clone()),
        ("End date", |f| f.end_date.clone()),
        ("End time", |f| f.end_time.clone()),
    ];
    fields
        .iter()
        .filter_map(|(label, get)| {
            let (a, b) = (get(before), get(after));
            (a != b).then_some((*label, a, b))
        })
        .collect()
}

#[derive(Template)]
#[template(path = "moderation/index.html")]
pub struct ModerationPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    /// (slug, name) of the cities this moderator covers, for the filter.
    pub cities: Vec<(String, String)>,
    pub city: String,
    pub pending: Vec<QueueItem>,
    pub pending_pager: Pager,
    pub changed: Vec<QueueItem>,
    pub changed_total: i64,
    pub notice: Option<String>,
    /// Where a decision returns to.
    pub back: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueueParams {
    pub city: Option<String>,
    pub page: Option<String>,
    pub done: Option<String>,
}

pub async fn moderation_queue(
    state: web::Data<AppState>,
    viewer: Viewer,
    params: Query<QueueParams>,
) -> Result<HttpResponse, AppError> {
    require_moderator(&viewer)?;
    let page = parse_page(&params.page)?;
    let covered = viewer.roles.moderated_cities();
    let slug = params
        .city
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let limit = i64::from(PER_PAGE);
    let offset = i64::from(page - 1) * limit;
    let (cities, city_id, pending, changed, reviews) = state
        .db(move |conn| {
            let all = City::list(conn, &CityFilter::default())?;
            let cities: Vec<City> = match &covered {
                None => all,
                Some(ids) => all.into_iter().filter(|c| ids.contains(&c.id)).collect(),
            };
            let city_id = match &slug {
                None => None,
                Some(slug) => Some(
                    cities
                        .iter()
                        .find(|c| c.slug.as_str() == slug)
                        .map(|c| c.id)
                        .ok_or_else(|| {
                            AppError::bad_request(
                                "city",
                                format!("you do not moderate a city with the slug “{slug}”"),
                            )
                        })?,
                ),
            };
            let pending = Event::queue(
                conn,
                Queue::Pending,
                covered.as_deref(),
                city_id,
                limit,
                offset,
            )?;
            let changed = Event::queue(conn, Queue::Changed, covered.as_deref(), city_id, 50, 0)?;
            let mut reviews = Vec::new();
            for m in &changed.events {
                reviews.push(Event::review(conn, m.row.event.id)?);
            }
            let cities = cities
                .into_iter()
                .map(|c| (c.slug.to_string(), format!("{}, {}", c.name, c.country)))
                .collect::<Vec<_>>();
            Ok((cities, city_id, pending, changed, reviews))
        })
        .await?;
    let city = params.city.clone().unwrap_or_default();
    let base = if city_id.is_some() {
        format!("/moderation?city={}", url_part(&city))
    } else {
        "/moderation".to_owned()
    };
    let pager_base = base.clone();
    let page = ModerationPage {
        section: "moderation",
        csrf: viewer.csrf_token.clone(),
        viewer,
        cities,
        pending: pending
            .events
            .iter()
            .map(|m| QueueItem::new(m, None))
            .collect(),
        pending_pager: Pager::for_total(pending.total, page, PER_PAGE, |p| {
            if p > 1 {
                let sep = if pager_base.contains('?') { '&' } else { '?' };
                format!("{pager_base}{sep}page={p}")
            } else {
                pager_base.clone()
            }
        }),
        changed: changed
            .events
            .iter()
            .zip(&reviews)
            .map(|(m, r)| QueueItem::new(m, r.as_ref()))
            .collect(),
        changed_total: changed.total,
        notice: params.done.as_deref().and_then(done_text),
        city: if city_id.is_some() {
            city
        } else {
            String::new()
        },
        back: base,
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}

fn url_part(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .to_owned()
}

fn done_text(done: &str) -> Option<String> {
    Some(
        match done {
            "approve" => "The event is published: it is now in the calendar and its feeds.",
            "reject" => "The event is rejected; its organiser sees your reason.",
            "unpublish" => "The event is unpublished; its organiser sees your reason.",
            "accept" => "The change is kept and is now the approved version.",
            "revert" => "The approved version is back; subscribed calendars receive it.",
            _ => return None,
        }
        .to_owned(),
    )
}

impl ModerationPage {
    fn pending_text(&self) -> String {
        match self.pending_pager.total {
            0 => "Nothing is waiting for review.".to_owned(),
            1 => "1 event is waiting for review.".to_owned(),
            n => format!("{} events are waiting for review.", thousands(n)),
        }
    }
    fn is_city(&self, slug: &str) -> bool {
        self.city == slug
    }
}

/// A moderator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Unpublish,
    Accept,
    Revert,
}

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

    fn needs_reason(self) -> bool {
        matches!(self, Decision::Reject | Decision::Unpublish)
    }

    /// Why the decision does not apply to an event in this state, if it does not.
    fn refusal(self, moderation: ModerationState, changed: bool) -> Option<&'static str> {
        use ModerationState::*;
        match (self, moderation) {
            (Decision::Approve | Decision::Reject, Pending) => None,
            (Decision::Approve | Decision::Reject, Published) => {
                Some("This event is already published; unpublish it instead.")
            }
            (Decision::Approve, Rejected) => None,
            (Decision::Reject, Rejected) => Some("This event is already rejected."),
            (Decision::Unpublish, Published) => None,
            (Decision::Unpublish, _) => Some("This event is not published."),
            (Decision::Accept | Decision::Revert, Published) if changed => None,
            (Decision::Accept | Decision::Revert, _) => {
                Some("This event has no change waiting for review.")
            }
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

/// The event a decision is about, once the viewer may take it and it applies.
async fn decidable(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    decision: &str,
) -> Result<(Decision, EventWithCity, Option<EventReview>), AppError> {
    require_moderator(viewer)?;
    let decision = Decision::parse(decision)
        .ok_or_else(|| AppError::not_found("There is nothing at this address."))?;
    // A moderator of another city learns nothing of a hidden event: 404, not 403.
    let row = visible_event(state, Some(viewer), id).await?;
    let id = row.event.id;
    let review = state.db(move |conn| Ok(Event::review(conn, id)?)).await?;
    if !viewer.roles.can_moderate(row.event.city_id) {
        return Err(AppError::forbidden(format!(
            "You do not moderate events in {}.",
            row.city.name
        )));
    }
    let changed = review.as_ref().is_some_and(|r| r.changed_at.is_some());
    if let Some(why) = decision.refusal(row.event.moderation, changed) {
        return Err(AppError::Conflict(why.to_owned()));
    }
    Ok((decision, row, review))
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
    let (decision, row, _) = decidable(&state, &viewer, &id, &decision).await?;
    if !decision.needs_reason() {
        return Err(AppError::MethodNotAllowed("POST"));
    }
    let page = DecisionPage {
        section: "moderation",
        csrf: viewer.csrf_token.clone(),
        viewer,
        decision,
        event_id: row.event.id,
        back: format!("/events/{}", row.event.id),
        event_title: row.event.title,
        reason: String::new(),
        errors: FieldErrors::default(),
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}

pub async fn decide(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    posted: Checked<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, form) = posted.signed_in()?;
    let (id, decision) = path.into_inner();
    let (decision, row, review) = decidable(&state, &viewer, &id, &decision).await?;
    let id = row.event.id;
    let back = back_to(&form.back);
    let mut errors = FieldErrors::default();
    let reason = errors
        .check(
            "reason",
            limited_text(&form.reason, "the reason", MAX_REASON_CHARS),
        )
        .unwrap_or_default();
    if decision.needs_reason() {
        if reason.is_empty() {
            errors.add(
                "reason",
                "Give the organiser a reason, so that they can put it right.",
            );
        }
        if !errors.is_empty() {
            let page = DecisionPage {
                section: "moderation",
                csrf: viewer.csrf_token.clone(),
                viewer,
                decision,
                event_id: row.event.id,
                event_title: row.event.title.clone(),
                reason: form.reason,
                back,
                errors,
            };
            return Ok(no_store(StatusCode::UNPROCESSABLE_ENTITY, page.render()?));
        }
    }
    let actor: Account = viewer.account.clone();
    let now = state.clock.now();
    state
        .db(move |conn| {
            conn.immediate_transaction(|conn| {
                match decision {
                    Decision::Approve => {
                        Event::approve(conn, id, &actor, now)?;
                    }
                    Decision::Reject | Decision::Unpublish => {
                        Event::reject(conn, id, &actor, &reason, now)?;
                    }
                    Decision::Accept => {
                        Event::accept_change(conn, id, &actor, now)?;
                    }
                    Decision::Revert => revert(conn, &row, review.as_ref(), &actor, now)?,
                }
                Ok::<_, AppError>(())
            })
        })
        .await?;
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(see_other(&format!("{back}{sep}done={}", decision.slug())))
}

/// Puts back the approved version of a changed event, through the same checks as the
/// organiser's form, so that a revert cannot write what the form would refuse.
fn revert(
    conn: &mut diesel::SqliteConnection,
    row: &EventWithCity,
    review: Option<&EventReview>,
    actor: &Account,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    let form = review
        .and_then(EventReview::form)
        .ok_or_else(|| AppError::Conflict("There is no approved version to put back.".into()))?;
    let city = City::find_by_slug(conn, &form.city)
        .or_when_missing(|| AppError::Conflict("The approved version's city is gone.".into()))?;
    // The dates were valid when approved; judge the years from then, not from today.
    let approved_day = review
        .map(|r| r.approved_at.date())
        .unwrap_or_else(|| now.date_naive());
    let draft = form
        .parse(
            Some(FormCity {
                tz: city.timezone.tz(),
                field: city.field,
            }),
            approved_day,
            row.event.organizer_name.clone(),
            row.event.status,
        )
        .map_err(|_| AppError::Conflict("The approved version can no longer be read.".into()))?;
    Event::update_from_draft(conn, row.event.id, &draft, &city, now)?;
    EventReview::settle(conn, row.event.id)?;
    LogEntry::event(
        actor,
        crate::domain::ModerationAction::RevertChange,
        &row.event,
        "",
    )
    .insert(conn, now)?;
    Ok(())
}

#[derive(Template)]
#[template(path = "moderation/log.html")]
pub struct LogPage {
    pub section: &'static str,
    pub viewer: Viewer,
    pub csrf: String,
    pub entries: Vec<LogLine>,
    pub pager: Pager,
}

pub struct LogLine {
    pub at: String,
    pub at_iso: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub event_id: Option<i32>,
    pub reason: String,
}

const LOG_PER_PAGE: u32 = 50;

pub async fn moderation_log(
    state: web::Data<AppState>,
    viewer: Viewer,
    params: Query<crate::web::params::PageParams>,
) -> Result<HttpResponse, AppError> {
    require_moderator(&viewer)?;
    let page = parse_page(&params.page)?;
    let covered = viewer.roles.moderated_cities();
    let limit = i64::from(LOG_PER_PAGE);
    let offset = i64::from(page - 1) * limit;
    let (entries, total) = state
        .db(move |conn| Ok(LogEntry::list(conn, covered.as_deref(), limit, offset)?))
        .await?;
    let pager = Pager::for_total(total, page, LOG_PER_PAGE, |p| {
        super::paged("/moderation/log", p)
    });
    let page = LogPage {
        section: "moderation-log",
        csrf: viewer.csrf_token.clone(),
        viewer,
        entries: entries
            .into_iter()
            .map(|e| LogLine {
                at: utc_text(e.created_at),
                at_iso: format!("{}Z", e.created_at.format("%Y-%m-%dT%H:%M:%S")),
                actor: e.actor_name,
                action: e.action.label().to_owned(),
                subject: e.subject,
                event_id: e.event_id,
                reason: e.reason,
            })
            .collect(),
        pager,
    };
    Ok(no_store(StatusCode::OK, page.render()?))
}
